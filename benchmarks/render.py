"""Render benchmark: images/s per contour method vs a re-implementation of the seed's approach,
worker memory growth, and Dask scaling. One run, one character, the same 8 ring cameras.

    .venv/bin/python benchmarks/render.py              # full run (~10 min on 2 cores)
    .venv/bin/python benchmarks/render.py --quick      # smaller counts, for a smoke check
    .venv/bin/python benchmarks/render.py --only-methods --methods depth_normal --repeat 2
                                                       # seed and depth_normal rows only, twice, alternated

Every measurement runs in a fresh worker process (``--worker``), as real jobs do:
- each contour method renders ``frames`` frames x 8 cameras at ``size`` px through
  ``renderers.blender.render.iter_render``; images/s counts the render loop (setup timed separately);
- the seed baseline, as the thesis describes it: per animation, a fresh scene with the character
  imported (built) again, Freestyle with a holdout material, and one ``render.render
  (write_still=True)`` call per camera writing a PNG that is read back, labels projected with
  ``world_to_camera_view``;
- memory: the fast method's worker RSS after 50 and after 500 rendered images;
- Dask: the render flow with ``runner=dask`` on 1 worker vs 2 workers (1 thread per job), the same
  character and cameras at the same size as the method table, one job per motion (4 jobs of 32 images).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHARACTER, MOTIONS = "ada", ["walk", "idle", "dance", "stretch"]
METHOD_FRAMES = {"depth_normal": None, "freestyle": None, "hed": 1}  # frames per method row (None: the run's)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _config(method: str, size: int, frames: int, motion: str = "walk", step: int = 10, threads: int = 0):
    from renderers.config import CameraConfig, FrameConfig, RenderConfig

    return RenderConfig(characters=[CHARACTER], motions=[motion], width=size, height=size, contour=method,
                        frames=FrameConfig(step=step, max_frames=frames), camera=CameraConfig(count=8),
                        threads=threads)


def worker_method(method: str, size: int, frames: int, motion: str, step: int, memory_at: list[int]) -> dict:
    from renderers.plan import plan_jobs
    from renderers.blender.render import iter_render
    from renderers.job import scratch_dir

    job = plan_jobs(_config(method, size, frames, motion, step))[0]
    started = time.perf_counter()
    first = None
    count = 0
    memory = {}
    with scratch_dir() as scratch:
        for _ in iter_render(job, Path(scratch)):
            count += 1
            if first is None:
                first, first_cpu = time.perf_counter(), _cpu_s()
            if count in memory_at:
                memory[count] = _rss_mb()
    end, end_cpu = time.perf_counter(), _cpu_s()
    return {"method": method, "images": count, "setup_s": first - started,
            "loop_images_per_s": (count - 1) / (end - first) if count > 1 else float("nan"),
            "loop_cpu_s_per_image": (end_cpu - first_cpu) / max(count - 1, 1),
            "total_images_per_s": count / (end - started), "rss_mb": memory}


def worker_seed(size: int, frames: int, motions: list[str], character_name: str = CHARACTER, step: int = 10) -> dict:
    """The seed's approach: per animation a fresh scene + character import, Freestyle + holdout,
    one render call per camera written to disk and read back. ``character_name``: a catalogue name or a
    Mixamo .fbx path; every ``step``-th frame of each motion, at most ``frames`` of them."""
    import cv2

    from renderers.blender import reset_blender
    from renderers.cameras import frame_view, ring_views
    from renderers.config import CameraConfig
    from renderers.blender.freestyle import setup_freestyle
    from renderers.blender.scene import apply_camera, figure_points, make_camera
    from renderers.blender.keypoints3d import world_keypoints
    from renderers.blender.keying import apply_motion
    from renderers.selection import CharacterSpec, MotionSpec, load_character

    views = ring_views(CameraConfig(count=8))
    count, started, first = 0, time.perf_counter(), None
    with tempfile.TemporaryDirectory() as scratch:
        for motion in motions:
            bpy = reset_blender()
            character = load_character(CharacterSpec.parse(character_name))  # "import" per animation
            all_frames = apply_motion(character, MotionSpec.parse(motion), np.random.default_rng(0))
            from renderers.blender import blender_world_to_camera_view, import_mathutils
            world_to_camera_view = blender_world_to_camera_view()
            Vector = import_mathutils().Vector

            scene = bpy.context.scene
            scene.render.engine = "CYCLES"
            scene.cycles.samples = 1  # the same cheap Cycles settings as our methods
            scene.cycles.use_denoising = False
            scene.cycles.use_adaptive_sampling = False
            scene.cycles.max_bounces = 0
            scene.render.resolution_x = scene.render.resolution_y = size
            scene.render.film_transparent = True
            scene.render.image_settings.file_format = "PNG"
            scene.render.image_settings.color_mode = "RGBA"
            holdout = bpy.data.materials.new("holdout")
            tree = holdout.node_tree
            for node in list(tree.nodes):
                tree.nodes.remove(node)
            output = tree.nodes.new("ShaderNodeOutputMaterial")
            tree.links.new(tree.nodes.new("ShaderNodeHoldout").outputs[0], output.inputs["Surface"])
            for obj in character.meshes:
                obj.data.materials.clear()
                obj.data.materials.append(holdout)
            setup_freestyle(bpy, scene, 1.5, as_render_pass=False)
            camera = make_camera(bpy, scene)
            for frame in all_frames[::step][:frames]:
                scene.frame_set(frame)
                depsgraph = bpy.context.evaluated_depsgraph_get()
                coco, _ = world_keypoints(character, depsgraph)
                surface = figure_points(character, depsgraph)
                for view in views:
                    apply_camera(camera, frame_view(view, surface, size, size))
                    path = os.path.join(scratch, f"{count:06d}.png")
                    scene.render.filepath = path
                    bpy.ops.render.render(write_still=True)
                    rgba = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                    assert rgba is not None and rgba.shape[:2] == (size, size)
                    [world_to_camera_view(scene, camera, Vector(p)) for p in coco]
                    count += 1
                    if first is None:
                        first, first_cpu = time.perf_counter(), _cpu_s()
    end, end_cpu = time.perf_counter(), _cpu_s()
    return {"method": "seed_baseline", "images": count, "setup_s": first - started,
            "loop_images_per_s": (count - 1) / (end - first), "total_images_per_s": count / (end - started),
            "loop_cpu_s_per_image": (end_cpu - first_cpu) / max(count - 1, 1), "rss_mb": {}}


def run_worker(*args: str, timeout: int = 1500) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], cwd=REPO, capture_output=True,
                         text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)})
    if out.returncode:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def dask_scaling(size: int, frames: int) -> dict:
    from flows.render import render_flow
    from flows.runners.dask import DaskRunner

    result = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            # The dataset in a sub-folder, so its reports (shards.reports_dir: beside it) stay in the temp folder.
            cfg = replace(_config("depth_normal", size, frames, threads=1), out_dir=str(Path(out) / "raw"),
                          motions=MOTIONS)
            started = time.perf_counter()
            render_flow(cfg, DaskRunner(workers=workers))
            seconds = time.perf_counter() - started
            manifest = json.loads((Path(out) / "_reports" / "raw" / "manifest.json").read_text())
        # images_per_s: from the first job submitted to the last one done (the manifest's clock),
        # so the Prefect server and Dask cluster start-up are left out; seconds include them.
        result[workers] = {"seconds": seconds, "images": manifest["rows"],
                           "images_per_s": manifest["images_per_s"]}
    result["speedup"] = result[2]["images_per_s"] / result[1]["images_per_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs="+")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--only-methods", action="store_true", help="the images/s table only")
    parser.add_argument("--only-dask", action="store_true", help="the Dask scaling only")
    parser.add_argument("--methods", default="depth_normal,freestyle,hed",
                        help="comma-separated contour methods for the images/s table (the seed row always runs)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the table's workers this many times, alternated (seed, methods, seed, ...)")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "seed":
            # seed SIZE FRAMES MOTIONS [CHARACTER [STEP]] (benchmarks/whole_command.py passes all five)
            extra = {"character_name": rest[3]} if len(rest) > 3 else {}
            extra.update({"step": int(rest[4])} if len(rest) > 4 else {})
            print(json.dumps(worker_seed(int(rest[0]), int(rest[1]), rest[2].split(","), **extra)))
        else:
            size, frames, motion, step, marks = rest
            print(json.dumps(worker_method(kind, int(size), int(frames), motion, int(step),
                                           [int(m) for m in marks.split(",") if m])))
        return

    if args.only_dask:
        scaling = dask_scaling(256 if args.quick else 512, 2 if args.quick else 4)
        print(f"dask depth_normal {256 if args.quick else 512}px, {len(MOTIONS)} jobs: 1 worker {scaling[1]['images_per_s']:.2f} img/s "
              f"({scaling[1]['seconds']:.0f} s with start-up), 2 workers {scaling[2]['images_per_s']:.2f} img/s "
              f"({scaling[2]['seconds']:.0f} s) -> {scaling['speedup']:.2f}x; load {os.getloadavg()[0]:.1f}")
        return
    size = 256 if args.quick else 512
    frames = 2 if args.quick else 4
    seed_motions = MOTIONS[:2] if args.quick else MOTIONS[:1]
    print(f"render benchmark: {CHARACTER}, 8 ring cameras, {size}x{size}, machine: {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHOD_FRAMES))
    if unknown or args.repeat < 1:
        raise SystemExit(f"--methods: unknown {unknown}, known {sorted(METHOD_FRAMES)}; --repeat must be >= 1")
    for run in range(1, args.repeat + 1):
        rows = [run_worker("seed", str(size), str(frames), ",".join(seed_motions))]
        for method in methods:
            n = frames if METHOD_FRAMES[method] is None else METHOD_FRAMES[method]
            rows.append(run_worker(method, str(size), str(n), "walk", "10", ""))
        base = rows[0]["loop_images_per_s"]
        base_cpu = rows[0]["loop_cpu_s_per_image"]
        print(f"\nrun {run}/{args.repeat}, load {os.getloadavg()[0]:.1f}")
        print(f"{'method':<14} {'images':>6} {'setup s':>8} {'loop img/s':>10} {'vs seed':>8} {'total img/s':>11} "
              f"{'vs seed':>8} {'CPU s/img':>9} {'vs seed':>8}")
        for row in rows:
            print(f"{row['method']:<14} {row['images']:>6} {row['setup_s']:>8.2f} {row['loop_images_per_s']:>10.2f} "
                  f"{row['loop_images_per_s'] / base:>7.2f}x {row['total_images_per_s']:>11.2f} "
                  f"{row['total_images_per_s'] / rows[0]['total_images_per_s']:>7.2f}x "
                  f"{row['loop_cpu_s_per_image']:>9.3f} {base_cpu / row['loop_cpu_s_per_image']:>7.2f}x", flush=True)

    if args.only_methods:
        return
    marks = (50, 500) if not args.quick else (50, 120)
    # 500 images = 63 frames x 8 cameras: every frame of a 90-frame clip (stretch), step 1.
    memory = run_worker("depth_normal", "256" if args.quick else str(size), str(marks[1] // 8 + 1),
                        "stretch", "1", ",".join(map(str, marks)))
    before, after = memory["rss_mb"][str(marks[0])], memory["rss_mb"][str(marks[1])]
    print(f"\nworker RSS after {marks[0]} images: {before:.0f} MB, after {marks[1]}: {after:.0f} MB "
          f"(growth {100 * (after / before - 1):+.1f}%), loop {memory['loop_images_per_s']:.2f} img/s", flush=True)

    if not args.skip_dask:
        scaling = dask_scaling(256 if args.quick else 512, 2 if args.quick else 4)
        print(f"\ndask depth_normal {256 if args.quick else 512}px, {len(MOTIONS)} jobs: 1 worker {scaling[1]['images_per_s']:.2f} img/s "
              f"({scaling[1]['seconds']:.0f} s with start-up), 2 workers {scaling[2]['images_per_s']:.2f} img/s "
              f"({scaling[2]['seconds']:.0f} s) -> {scaling['speedup']:.2f}x; load {os.getloadavg()[0]:.1f}",
              flush=True)
    print(f"\nmax RSS of this driver: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
