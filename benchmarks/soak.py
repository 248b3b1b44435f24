"""Memory soak (issue 17): a 2,000-image render job and a 10,000-row stylize, run as a user runs them
(``python -m app.cli ...`` in a subprocess), with the resident memory (RSS) of every process of the
command sampled once a second.

    PYTHONPATH=. .venv/bin/python benchmarks/soak.py [--work DIR] [--poses 250] [--per-image 5]

- render: one job (one Blender process) renders ``--poses`` random poses of one bundled character from
  8 ring cameras at 64 px: 2,000 images in one process, the case where a long Blender loop would leak.
- stylize: the 2,000 renders, ``--per-image`` stylized copies each (10,000 rows) with the pipeline's
  multistyle stylizer; one shard in, one shard out.

Printed per run: the RSS of the command process and of its largest child (the Blender worker for
render) at 10 %, 50 % and 90 % of the run, the peak, and the growth from 50 % to 90 % of the run (flat
memory: a few percent, not a steady climb). JSON with every sample goes to ``--work/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def sample_tree(proc: psutil.Process) -> tuple[float, float]:
    """(RSS of ``proc``, RSS of its largest descendant) in MiB; zeros once it is gone."""
    try:
        main = proc.memory_info().rss
        kids = [c.memory_info().rss for c in proc.children(recursive=True) if c.is_running()]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0, 0.0
    return main / 2**20, (max(kids) if kids else 0) / 2**20


def run_sampled(argv: list[str], log: Path) -> dict:
    """Run ``argv`` (stdout+stderr to ``log``), sampling memory every second; fail on a non-zero exit."""
    start = time.monotonic()
    samples = []
    with log.open("w") as out:
        popen = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        proc = psutil.Process(popen.pid)
        while popen.poll() is None:
            main, child = sample_tree(proc)
            if main:
                samples.append((time.monotonic() - start, main, child))
            time.sleep(1.0)
    if popen.returncode:
        raise SystemExit(f"{' '.join(argv[3:5])} failed with exit code {popen.returncode}; see {log}")
    return {"seconds": time.monotonic() - start, "samples": samples}


def at(samples: list[tuple[float, float, float]], frac: float, col: int) -> float:
    """The value of column ``col`` at ``frac`` of the run (nearest sample)."""
    end = samples[-1][0]
    return min(samples, key=lambda s: abs(s[0] - frac * end))[col]


def summary(name: str, run: dict, images: int, child_name: str) -> dict:
    s = run["samples"]
    out = {"run": name, "images": images, "seconds": round(run["seconds"], 1),
           "images_per_s": round(images / run["seconds"], 2)}
    for col, who in ((1, "command"), (2, child_name)):
        if not any(row[col] for row in s):
            continue
        active = [row for row in s if row[col]]  # the child only while it runs
        p10, p50, p90 = (at(active, f, col) for f in (0.1, 0.5, 0.9))
        out[who] = {"rss_mib_10pct": round(p10, 1), "rss_mib_50pct": round(p50, 1), "rss_mib_90pct": round(p90, 1),
                    "peak_mib": round(max(row[col] for row in active), 1),
                    "growth_50_to_90pct": round((p90 - p50) / p50, 4) if p50 else None}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="runs/soak")
    ap.add_argument("--poses", type=int, default=250, help="random poses rendered by the one job (x 8 cameras)")
    ap.add_argument("--per-image", type=int, default=5, help="stylized copies per render")
    args = ap.parse_args(argv)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "app.cli"]
    render = run_sampled(cli + [
        "render", f"out={work / 'raw'}", "overwrite=true", "renderer.characters=[ada]",
        f"renderer.motions=[random_poses:{args.poses}]", "renderer.frames.step=1", "renderer.frames.max_frames=0",
        "renderer.width=64", "renderer.height=64", "renderer.threads=1", "runner.workers=1"], work / "render.log")
    images = args.poses * 8
    stylize = run_sampled(cli + [
        "stylize", f"dataset={work / 'raw'}", f"out={work / 'stylized'}", "overwrite=true", "stylizer=multistyle",
        "stylizer.device=cpu", f"style.per_image={args.per_image}", "metrics=false", "contact_sheet=0"],
        work / "stylize.log")
    results = [summary("render", render, images, "blender worker"),
               summary("stylize", stylize, images * args.per_image, "largest child")]
    (work / "soak.json").write_text(json.dumps({"results": results, "render": render, "stylize": stylize}))
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
