"""One character, one long motion, 8 ring cameras: the whole ``rig2sketch render`` command with the job in
one process (``renderer.chunks=1``) vs cut so both workers have a part (``renderer.chunks=0``, auto), runs
alternated (A B A B ...) so machine noise hits both alike; then the rows of the two datasets are compared
(the same sample ids, image bytes and labels).

    PYTHONPATH=. .venv/bin/python benchmarks/render_chunks.py [--poses 40] [--size 256] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run(out: Path, chunks: int, poses: int, size: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    argv = [sys.executable, "-m", "app.cli", "render", f"out={out}", "renderer.characters=[ada]",
            f"renderer.motions=[random_poses:{poses}]", "renderer.frames.step=1", "renderer.frames.max_frames=0",
            f"renderer.width={size}", f"renderer.height={size}", f"renderer.chunks={chunks}", "runner.workers=2"]
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def rows(folder: Path) -> dict[str, dict]:
    from shards import iter_samples

    return {r["sample_id"]: r for r in iter_samples(folder, decode_images=False)}


def same_rows(a: Path, b: Path) -> bool:
    ra, rb = rows(a), rows(b)
    if sorted(ra) != sorted(rb):
        return False
    for key, row in ra.items():
        for col, value in row.items():
            other = rb[key][col]
            if not (np.array_equal(value, other) if isinstance(value, np.ndarray) else value == other):
                return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", default="runs/bench_chunks")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    images = args.poses * 8
    times: dict[str, list[float]] = {"one process": [], "auto (2 parts)": []}
    for _ in range(args.repeats):
        times["one process"].append(run(work / "one", 1, args.poses, args.size))
        times["auto (2 parts)"].append(run(work / "auto", 0, args.poses, args.size))
    result = {name: {"wall_s": [round(t, 1) for t in ts], "img_per_s": round(images / min(ts), 2)}
              for name, ts in times.items()}
    result["speedup_best_of"] = round(min(times["one process"]) / min(times["auto (2 parts)"]), 2)
    result["identical_rows"] = same_rows(work / "one", work / "auto")
    result["images"] = images
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
