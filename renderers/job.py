"""One render job = one character x one motion -> one shard, run in its own process.

:class:`RenderJob` is a bpy-free, picklable spec. In the worker process, :func:`iter_render`
resets Blender, loads the character, applies the motion, and for every selected frame and
every camera renders the contour image and labels it; :func:`render` stacks the results and
:func:`write_shard` streams them into one Parquet shard. ``python -m renderers.job JOB.pkl
SHARD.parquet`` is the process entry the flow launches.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from renderers.cameras import PlacedCamera, frame_view, make_views
from renderers.config import FrameConfig, RenderConfig
from renderers.contours import CONTOURS
from renderers.contours.base import LineSettings, PassRender, over_white
from renderers.contours.freestyle import setup_freestyle
from renderers.parts import setup_part_aov
from renderers.projection import blender_matrix_world, project_points
from renderers.visibility import scene_ray_caster, visibility_flags
from rig2sketch.registry import resolve_ref

# (job, rng) -> (LoadedCharacter, frames, keypoints_fn(char, depsgraph) -> (coco 17x3, joints 53x3))
SceneLoader = Callable[["RenderJob", np.random.Generator], tuple[Any, list[int], Callable]]

MAX_FRAMING_POINTS = 4000


@dataclass(frozen=True)
class RenderJob:
    """Everything one worker needs. ``character``/``motion`` are the bpy-free specs of
    ``renderers.selection`` (or whatever ``settings.scene_loader`` understands: the
    ``module:function`` that builds them into the Blender scene, a :data:`SceneLoader`).
    ``seed`` is the job seed (derived from the run seed and ``job_id``); ``config_hash``
    identifies the settings that shaped the images (stored in the shard)."""

    job_id: str
    character: Any
    motion: Any
    character_name: str
    motion_name: str
    settings: RenderConfig
    seed: int
    config_hash: str


def selected_scene(job: RenderJob, rng: np.random.Generator):
    """The default :data:`SceneLoader`: a bundled or imported character with a motion."""
    from renderers.keypoints3d import world_keypoints
    from renderers.motions.apply import apply_motion
    from renderers.selection import load_character

    character = load_character(job.character)
    frames = apply_motion(character, job.motion, rng)
    return character, list(frames), world_keypoints


def select_frames(frames: list[int], cfg: FrameConfig, rng: np.random.Generator) -> list[int]:
    """Every ``cfg.step``-th frame, or ``cfg.random`` distinct random frames (sorted), capped
    at ``cfg.max_frames``."""
    frames = sorted(frames)
    if cfg.random:
        pick = rng.choice(len(frames), size=min(cfg.random, len(frames)), replace=False)
        chosen = [frames[i] for i in sorted(pick)]
    else:
        chosen = frames[:: cfg.step]
    return chosen[: cfg.max_frames] if cfg.max_frames else chosen


def _setup_world(bpy: Any, scene: Any, shaded: bool) -> None:
    """Lights for shaded renders (a key sun and a grey sky); nothing else is lit otherwise."""
    world = bpy.data.worlds.new("rig2sketch_world")
    world.color = (0.35, 0.35, 0.35)
    scene.world = world
    # Cheap passes: no bounces needed for depth/normal/index; shading gets a few.
    scene.cycles.max_bounces = 4 if shaded else 0
    if shaded:
        world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.45, 0.45, 0.45, 1.0)
        sun = bpy.data.lights.new("rig2sketch_key", "SUN")
        sun.energy = 3.0
        key = bpy.data.objects.new("rig2sketch_key", sun)
        key.rotation_euler = (np.deg2rad(50.0), 0.0, np.deg2rad(-30.0))
        scene.collection.objects.link(key)


def _skin_material(bpy: Any) -> Any:
    material = bpy.data.materials.new("rig2sketch_skin")
    material.diffuse_color = (0.8, 0.62, 0.52, 1.0)
    tree = material.node_tree
    bsdf = tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (0.8, 0.62, 0.52, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.6
    return material


def _make_camera(bpy: Any, scene: Any) -> Any:
    data = bpy.data.cameras.new("rig2sketch_camera")
    data.sensor_fit = "AUTO"
    data.clip_start = 0.01
    data.clip_end = 1000.0
    camera = bpy.data.objects.new("rig2sketch_camera", data)
    scene.collection.objects.link(camera)
    scene.camera = camera
    return camera


def apply_camera(camera: Any, placed: PlacedCamera) -> None:
    """Copy a :class:`PlacedCamera` into the Blender camera object (AUTO sensor fit, no shift)."""
    from mathutils import Matrix  # available wherever bpy is

    data = camera.data
    data.sensor_width = placed.sensor_mm
    data.shift_x = data.shift_y = 0.0
    if placed.orthographic:
        data.type = "ORTHO"
        data.ortho_scale = placed.ortho_scale
    else:
        data.type = "PERSP"
        data.lens = placed.focal_mm
    camera.matrix_world = Matrix(blender_matrix_world(placed.world_to_cam).tolist())


def figure_points(character: Any, depsgraph: Any) -> np.ndarray:
    """``N, 3`` world positions of the deformed meshes' vertices (subsampled for framing)."""
    chunks = []
    for obj in character.meshes:
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        co = np.empty(len(mesh.vertices) * 3, dtype=np.float64)
        mesh.vertices.foreach_get("co", co)
        evaluated.to_mesh_clear()
        matrix = np.array(evaluated.matrix_world)
        chunks.append(co.reshape(-1, 3) @ matrix[:3, :3].T + matrix[:3, 3])
    points = np.concatenate(chunks)
    step = max(1, len(points) // MAX_FRAMING_POINTS)
    return points[::step]


def label_points(points: np.ndarray, placed: PlacedCamera, cast, radius_m: float) -> np.ndarray:
    """``N, 3`` float32 (x, y, v) pixel labels of ``N, 3`` world points (COCO: v=0 -> 0, 0, 0)."""
    uv = project_points(placed.K, placed.world_to_cam, points, placed.orthographic)
    v = visibility_flags(points, uv, placed.width, placed.height, placed.location, cast, radius_m,
                         forward=placed.forward if placed.orthographic else None)
    out = np.zeros((len(points), 3), dtype=np.float32)
    shown = v > 0
    out[shown, :2] = uv[shown]
    out[:, 2] = v
    return out


def silhouette_box(alpha: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(bbox (x, y, w, h) float32, area in pixels, ``H, W`` bool mask) of coverage > 0.5."""
    mask = alpha > 0.5
    if not mask.any():
        return np.zeros(4, dtype=np.float32), 0.0, mask
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = np.array([cols[0], rows[0], cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]], dtype=np.float32)
    return box, float(mask.sum()), mask


def _extras(passes: dict[str, np.ndarray], mask: np.ndarray, placed: PlacedCamera, wanted) -> dict:
    out: dict[str, np.ndarray] = {}
    if wanted.shaded:
        out["shaded"] = over_white(passes["image"])
    if wanted.mask:
        out["mask"] = mask.astype(np.uint8) * 255
    if wanted.depth:  # uint16 millimetres along the view axis, 0 = background
        depth = np.where(mask, np.clip(passes["depth"] * 1000.0, 1, 65535), 0)
        out["depth"] = np.round(depth).astype(np.uint16)
    if wanted.normal:  # camera-space (OpenCV axes) unit normals as (n + 1) / 2 * 255, 0 background
        n = passes["normal"] @ placed.world_to_cam[:3, :3].T
        rgb = np.round((np.clip(n, -1, 1) + 1.0) * 127.5).astype(np.uint8)
        out["normal"] = np.where(mask[..., None], rgb, 0).astype(np.uint8)
    if wanted.parts:  # uint8 part ids of renderers.parts.PARTS, 0 = background
        out["parts"] = np.where(mask, np.round(passes["part"]), 0).astype(np.uint8)
    return out


def iter_render(job: RenderJob, scratch: Path) -> Iterator[dict[str, Any]]:
    """Render the job image by image (in the worker process; ``scratch`` is a private folder).

    Yields one dict per image: ``image`` ``H, W`` uint8 (255 paper, 0 ink), ``keypoints``
    ``17, 3`` and ``joints`` ``53, 3`` float32 (x, y, v), ``bbox`` ``4`` float32 (x, y, w, h),
    ``area`` float, ``frame`` int, ``camera`` str, ``intrinsics`` ``3, 3``, ``extrinsics``
    ``4, 4`` (world->camera, OpenCV), ``params`` dict, and the optional extras switched on in
    ``settings.outputs``: ``shaded`` ``H, W, 3`` uint8, ``mask`` ``H, W`` uint8, ``depth``
    ``H, W`` uint16 (mm), ``normal`` ``H, W, 3`` uint8, ``parts`` ``H, W`` uint8 part ids.
    """
    from renderers.blender import reset_blender

    cfg = job.settings
    bpy = reset_blender()
    rng = np.random.default_rng(job.seed)
    character, frames, keypoints_fn = resolve_ref(cfg.scene_loader)(job, rng)
    frames = select_frames(frames, cfg.frames, rng)
    views = make_views(cfg.camera, rng)
    method = CONTOURS.get(cfg.contour)()
    shaded = method.shaded or cfg.outputs.shaded
    settings = LineSettings(cfg.line_px, cfg.samples, cfg.shaded_samples)
    method.prepare(settings)

    scene = bpy.context.scene
    if cfg.threads:
        scene.render.threads_mode = "FIXED"
        scene.render.threads = cfg.threads
        if method.name == "hed":
            import torch

            torch.set_num_threads(cfg.threads)
    scene.render.resolution_x, scene.render.resolution_y = cfg.width, cfg.height
    _setup_world(bpy, scene, shaded)
    skin = _skin_material(bpy) if shaded else None
    for i, obj in enumerate(character.meshes):
        obj.pass_index = i + 1
        if skin is not None and not obj.data.materials:
            obj.data.materials.append(skin)
    if method.freestyle:
        setup_freestyle(bpy, scene, cfg.line_px, as_render_pass=True)
    camera = _make_camera(bpy, scene)
    # A sharp 1-spp render gives lines, mask and labels; a shaded image, when wanted, comes
    # from a second anti-aliased render with Freestyle off.
    passes = set(method.passes) | {"alpha"} | ({"image"} if shaded else set())
    passes |= {name for name in ("depth", "normal") if getattr(cfg.outputs, name)}
    if cfg.outputs.parts:
        setup_part_aov(bpy, scene, character)
        passes.add("part")
    renderer = PassRender(bpy, scene, passes, scratch)
    for frame in frames:
        scene.frame_set(frame)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        coco, joints = keypoints_fn(character, depsgraph)
        surface = figure_points(character, depsgraph)
        cast = scene_ray_caster(scene, depsgraph)
        for view in views:
            placed = frame_view(view, surface, cfg.width, cfg.height)
            apply_camera(camera, placed)
            result = renderer.render(sharp=True)
            if shaded:
                scene.render.use_freestyle = False
                result["image"] = renderer.render(cfg.shaded_samples, sharp=False)["image"]
                scene.render.use_freestyle = method.freestyle
            bbox, area, mask = silhouette_box(result["alpha"])
            yield {
                "image": method.draw(result, settings),
                "keypoints": label_points(np.asarray(coco), placed, cast, cfg.visibility_radius_m),
                "joints": label_points(np.asarray(joints), placed, cast, cfg.visibility_radius_m),
                "bbox": bbox,
                "area": area,
                "frame": int(frame),
                "camera": view.name,
                "intrinsics": placed.K.astype(np.float32),
                "extrinsics": placed.world_to_cam.astype(np.float32),
                "params": {"contour": cfg.contour, "line_px": cfg.line_px, **asdict(view),
                           "ortho_scale": placed.ortho_scale},
                **_extras(result, mask, placed, cfg.outputs),
            }


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A private folder for a worker's pass files: in RAM (``/dev/shm``) where the OS has one —
    each image's passes are written and read back once — else the system temp folder."""
    shm = Path("/dev/shm")
    ram = shm.is_dir() and os.access(shm, os.W_OK)
    return tempfile.TemporaryDirectory(prefix="rig2sketch-render-", dir=str(shm) if ram else None)


def render(job: RenderJob) -> dict[str, np.ndarray]:
    """Render a whole job into stacked arrays (``N`` images): the keys of :func:`iter_render`,
    each stacked along a new first axis (``image`` ``N, H, W`` uint8, ``keypoints`` ``N, 17, 3``,
    ``camera`` ``N`` str...; ``params`` a list of dicts). Keeps every image in memory: for
    shards use :func:`write_shard`."""
    with scratch_dir() as scratch:
        items = list(iter_render(job, Path(scratch)))
    if not items:
        raise ValueError(f"job {job.job_id!r} selected no frames; lower renderer.frames.step")
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [item[key] for item in items]
        out[key] = values if key == "params" else np.stack([np.asarray(v) for v in values])
    return out


def shard_metadata(job: RenderJob) -> dict[str, Any]:
    return {"config_hash": job.config_hash, "seed": job.seed, "job_id": job.job_id,
            "character": job.character_name, "motion": job.motion_name, "stage": "render",
            "renderer": json.dumps(asdict(job.settings), default=str)}


def write_shard(job: RenderJob, path: Path) -> tuple[int, float]:
    """Render ``job`` into the shard at ``path`` (atomic: complete or absent).
    Returns (rows, seconds)."""
    from shards import ShardWriter, encode_png

    started = time.perf_counter()
    rows = 0
    with scratch_dir() as scratch:
        with ShardWriter(Path(path), metadata=shard_metadata(job)) as writer:
            for item in iter_render(job, Path(scratch)):
                row = {
                    "sample_id": f"{job.job_id}/{item['frame']:05d}/{item['camera']}",
                    "image": encode_png(item["image"]),
                    "width": job.settings.width,
                    "height": job.settings.height,
                    "character": job.character_name,
                    "motion": job.motion_name,
                    "split": job.settings.split,
                    "stylizer": "none",
                    "style": "",
                    "source_id": "",
                    "seed": job.seed,
                    "params": json.dumps(item["params"], sort_keys=True),
                }
                for key in ("keypoints", "joints", "bbox", "area", "frame", "camera", "intrinsics",
                            "extrinsics"):
                    row[key] = item[key]
                for key in ("shaded", "mask", "depth", "normal", "parts"):
                    if key in item:
                        row[key] = encode_png(item[key])
                writer.write(row)
                rows += 1
    return rows, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Process entry: ``python -m renderers.job JOB.pkl SHARD.parquet``; prints a JSON receipt."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m renderers.job JOB.pkl SHARD.parquet", file=sys.stderr)
        return 2
    with open(argv[0], "rb") as handle:
        job = pickle.load(handle)
    rows, seconds = write_shard(job, Path(argv[1]))
    print(json.dumps({"job_id": job.job_id, "rows": rows, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
