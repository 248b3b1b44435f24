"""Issue 18 acceptance: whole commands, one Mixamo-style character FBX with one long animation from 8 ring
cameras at 512 px — the seed method (``benchmarks/render.py``'s ``worker_seed``) vs ``rig2sketch render``.

    PYTHONPATH=. .venv/bin/python benchmarks/whole_command.py [--work runs/bench_whole_command] [--repeats 2]

1. A Blender worker (``--export-worker``) writes the bundled ``ada`` as a character FBX at rest and the clip
   ``--clip`` (default ``walk``, 40 frames) as an animation FBX, both with Blender's exporter (centimetres, Y up,
   ``mixamorig:`` bones: what Mixamo writes), cached under ``<work>/fbx``.
2. Command A (seed): ``python benchmarks/render.py --worker seed 512 1000000 <anim.fbx> <char.fbx> 1``: a fresh
   process that imports the character file, keys the animation, and renders every frame from the 8 cameras
   with Freestyle + holdout, one ``render.render(write_still=True)`` per image read back from disk.
3. Command B (rig2sketch): ``python -m app.cli render`` with the same files, every frame, 512 px, 8 ring
   cameras, ``depth_normal``, ``runner.workers=2`` and ``renderer.chunks`` auto; no ``PREFECT_API_URL``.
Both are timed as whole subprocesses (Python start, imports, scene, renders, writes), alternated A B A B, each
after waiting for a quiet machine (1-minute load average below ``--quiet-load``, polled every 10 s, for up to
``--quiet-wait-min`` minutes; then it measures anyway and records that). Then ``benchmarks/render.py --only-methods
--methods depth_normal --repeat 2`` runs once (the per-process render loop vs the seed's loop). Everything goes
to ``<work>/whole_command.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHARACTER = "ada"


# ------------------------------------------------------------------ the FBX files (Blender worker)


def export_worker(folder: Path, clip: str) -> None:
    """Write ``folder/ada.fbx`` (skinned meshes + armature at rest) and ``folder/<clip>.fbx`` (armature only,
    every frame of the clip baked) with Blender's FBX exporter; each file is written beside and renamed."""
    import numpy as np

    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.selection import CharacterSpec, MotionSpec, load_character
    from rig2sketch.atomic import atomic_path

    blender = reset_blender()
    char = load_character(CharacterSpec.parse(CHARACTER))

    def export(path: Path, objects: list, animated: bool) -> None:
        for ob in blender.context.view_layer.objects:
            ob.select_set(False)
        for ob in objects:
            ob.select_set(True)
        blender.context.view_layer.objects.active = objects[0]
        with atomic_path(path) as tmp:
            blender.ops.export_scene.fbx(filepath=str(tmp), use_selection=True,
                                         object_types={ob.type for ob in objects}, add_leaf_bones=False,
                                         bake_anim=animated, bake_anim_use_all_actions=False,
                                         bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0)

    export(folder / f"{CHARACTER}.fbx", [char.armature, *char.meshes], animated=False)
    frames = apply_motion(char, MotionSpec.parse(clip), np.random.default_rng(0))
    scene = blender.context.scene
    scene.frame_start, scene.frame_end = min(frames), max(frames)
    export(folder / f"{clip}.fbx", [char.armature], animated=True)
    print(json.dumps({"frames": len(frames)}))


def fbx_files(work: Path, clip: str) -> tuple[Path, Path]:
    """(character .fbx, animation .fbx) under ``work/fbx``, exported once in a subprocess and then reused."""
    folder = work / "fbx"
    char, anim = folder / f"{CHARACTER}.fbx", folder / f"{clip}.fbx"
    if not (char.is_file() and anim.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([sys.executable, __file__, "--export-worker", str(folder), "--clip", clip], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"FBX export failed:\n{out.stderr[-3000:]}")
    return char, anim


# ------------------------------------------------------------------ the two whole commands


def wait_for_quiet(threshold: float, until: dt.datetime) -> tuple[float, bool]:
    """Poll the 1-minute load average every 10 s until it is below ``threshold`` or ``until`` (UTC) has
    passed; returns (the load average then, whether it was quiet)."""
    while True:
        load = os.getloadavg()[0]
        if load < threshold:
            return load, True
        if dt.datetime.now(dt.timezone.utc) >= until:
            return load, False
        time.sleep(10)


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PYTHONPATH"] = str(REPO)
    return env


def run_seed(char: Path, anim: Path, size: int) -> dict:
    """Command A: the seed worker as a whole subprocess, every frame of the animation; wall seconds and the
    worker's own numbers."""
    every_frame = 1_000_000
    argv = [sys.executable, str(REPO / "benchmarks" / "render.py"), "--worker", "seed", str(size), str(every_frame),
            str(anim), str(char), "1"]
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=REPO, env=command_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        raise RuntimeError(f"seed command failed:\n{out.stderr[-3000:]}")
    worker = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "images": worker["images"], "loop_images_per_s": worker["loop_images_per_s"],
            "setup_s": worker["setup_s"], "argv": argv[1:]}


def run_rig2sketch(char: Path, anim: Path, size: int, work: Path, workers: int) -> dict:
    """Command B: ``rig2sketch render`` as a whole subprocess into ``work/B/raw`` (emptied first)."""
    shutil.rmtree(work / "B", ignore_errors=True)
    out_dir = work / "B" / "raw"
    argv = [sys.executable, "-m", "app.cli", "render", f"out={out_dir}", f"renderer.characters=[{char}]",
            f"renderer.motions=[{anim}]", "renderer.frames.step=1", "renderer.frames.max_frames=0",
            f"renderer.width={size}", f"renderer.height={size}", "renderer.camera.mode=ring",
            "renderer.camera.count=8", "renderer.contour=depth_normal", f"runner.workers={workers}"]
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=REPO, env=command_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        raise RuntimeError(f"rig2sketch render failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    manifest = json.loads((work / "B" / "_reports" / "raw" / "manifest.json").read_text())
    return {"wall_s": wall, "images": manifest["rows"], "jobs": len(manifest["jobs"]),
            "flow_images_per_s": manifest["images_per_s"], "argv": argv[1:]}


def loop_table(threshold: float, until: dt.datetime) -> dict:
    """``benchmarks/render.py --only-methods --methods depth_normal --repeat 2``: its output and the seed /
    depth_normal loop img/s of each run."""
    load, quiet = wait_for_quiet(threshold, until)
    argv = [sys.executable, str(REPO / "benchmarks" / "render.py"), "--only-methods", "--methods", "depth_normal",
            "--repeat", "2"]
    out = subprocess.run(argv, cwd=REPO, env=command_env(), capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"render.py failed:\n{out.stderr[-3000:]}")
    rows: dict[str, list[float]] = {}
    for line in out.stdout.splitlines():
        match = re.match(r"(seed_baseline|depth_normal)\s+\d+\s+[\d.]+\s+([\d.]+)", line)
        if match:
            rows.setdefault(match.group(1), []).append(float(match.group(2)))
    return {"load_before": load, "quiet": quiet, "loop_images_per_s": rows, "output": out.stdout}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="runs/bench_whole_command")
    ap.add_argument("--clip", default="walk", help="the bundled clip written as the animation FBX (all frames render)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--quiet-load", type=float, default=0.8)
    ap.add_argument("--quiet-wait-min", type=float, default=20.0,
                    help="wait at most this long for a quiet machine, then measure anyway (and record it)")
    ap.add_argument("--skip-loop", action="store_true", help="leave out the render.py loop table")
    ap.add_argument("--export-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.export_worker:
        export_worker(Path(args.export_worker), args.clip)
        return 0

    work = Path(args.work).resolve()
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=args.quiet_wait_min)
    char, anim = fbx_files(work, args.clip)
    result: dict = {"date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "machine": f"{platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
                    "character": str(char), "animation": str(anim), "size": args.size, "cameras": 8,
                    "quiet_load": args.quiet_load, "runs": []}
    for repeat in range(1, args.repeats + 1):
        for name, run in (("A seed", lambda: run_seed(char, anim, args.size)),
                          ("B rig2sketch", lambda: run_rig2sketch(char, anim, args.size, work, args.workers))):
            load, quiet = wait_for_quiet(args.quiet_load, until)
            row = {"repeat": repeat, "command": name, "load_before": round(load, 2), "quiet": quiet,
                   "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **run()}
            row["images_per_s"] = row["images"] / row["wall_s"]
            result["runs"].append(row)
            print(f"run {repeat} {name:<13} load {load:.2f}{'' if quiet else ' (not quiet)'}: {row['images']} images "
                  f"in {row['wall_s']:.1f} s = {row['images_per_s']:.2f} img/s", flush=True)
        a, b = result["runs"][-2], result["runs"][-1]
        if a["images"] != b["images"]:
            raise RuntimeError(f"image counts differ: seed {a['images']}, rig2sketch {b['images']}")
        print(f"run {repeat} B/A = {b['images_per_s'] / a['images_per_s']:.2f}x", flush=True)
    pairs = list(zip(result["runs"][::2], result["runs"][1::2]))
    result["ratio_b_over_a"] = [b["images_per_s"] / a["images_per_s"] for a, b in pairs]
    if not args.skip_loop:
        result["loop"] = loop_table(args.quiet_load, until)
        print(result["loop"]["output"], flush=True)
    from rig2sketch.atomic import write_json_atomic

    print(f"wrote {write_json_atomic(work / 'whole_command.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
