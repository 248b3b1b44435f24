"""Contact sheet: every bundled character in T-pose and in a few motions, keypoints drawn on.

:func:`draw_character_sheet` draws it; :func:`characters_command` is the ``rig2sketch
characters`` entry (takes a ``renderers.characters.config.CharacterSheetConfig``).

Each character row is one job in its own Python process (``python -m
renderers.characters.sheet row ...``): reset Blender, load the character and motions through
``renderers.selection`` and ``renderers.motions.apply`` (so Mixamo files work too), render
with Workbench, project the COCO keypoints with Blender's
``bpy_extras.object_utils.world_to_camera_view`` and draw them. The parent pastes the rows.

Colours (``rig2sketch.drawing.draw_pose``): the character's left blue, right orange, centre
green. Seen from the front (the T-pose column) the character's left is on the image's right;
motion columns are seen from 30 degrees to the character's left-front.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from renderers.process import run_worker
from rig2sketch.atomic import atomic_path


DEFAULT_MOTIONS = ("walk", "wave", "kick")
MOTION_AZIMUTH_DEG = 30.0
SHEET_SPAN_M = 2.2  # metres shown across a panel: the tallest character in T-pose fits


def _frame_camera(bpy, scene, meshes, depsgraph, azimuth_deg: float):
    """An orthographic camera looking at the character from azimuth (0 = from the front, -Y),
    at one scale for every panel (``SHEET_SPAN_M`` across, unless a pose is wider) with the
    lowest point near the bottom, so heights compare across the sheet."""
    points = []
    for obj in meshes:
        evaluated = obj.evaluated_get(depsgraph)
        co = np.empty(len(evaluated.data.vertices) * 3)
        evaluated.data.vertices.foreach_get("co", co)
        m = np.asarray(evaluated.matrix_world)
        points.append(co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3])
    points = np.concatenate(points)
    a = np.radians(azimuth_deg)
    forward = np.array([-np.sin(a), np.cos(a), 0.0])  # view direction
    right = np.array([np.cos(a), np.sin(a), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    u, v = points @ right, points @ up
    span = max(SHEET_SPAN_M, 1.12 * max(u.max() - u.min(), v.max() - v.min()))
    centre = (right * (u.min() + u.max()) / 2 + up * (v.min() - 0.04 * span + span / 2)
              + forward * (points @ forward).mean())
    cam_data = bpy.data.cameras.new("sheet_camera")
    cam_data.type = "ORTHO"
    cam_data.ortho_scale = span
    cam = bpy.data.objects.new("sheet_camera", cam_data)
    scene.collection.objects.link(cam)
    cam.location = (centre - 10.0 * forward).tolist()
    cam.rotation_euler = (np.pi / 2, 0.0, a)
    cam_data.clip_end = 100.0
    scene.camera = cam
    return cam


def _render_panel(bpy, char, size: int, azimuth_deg: float, tmp: Path) -> np.ndarray:
    """``size, size, 3`` uint8 Workbench render with the COCO keypoints drawn on."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector
    from PIL import Image

    from renderers.keypoints3d import world_keypoints
    from rig2sketch.drawing import draw_pose

    scene = bpy.context.scene
    bpy.context.view_layer.update()
    depsgraph = bpy.context.evaluated_depsgraph_get()
    cam = _frame_camera(bpy, scene, char.meshes, depsgraph, azimuth_deg)
    bpy.context.view_layer.update()
    coco, _ = world_keypoints(char, depsgraph)
    path = tmp / "panel.png"
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    image = np.asarray(Image.open(path).convert("RGB"))
    keypoints = np.zeros((len(coco), 3), np.float32)
    for k, p in enumerate(coco):
        if not np.isnan(p).any():
            ndc = world_to_camera_view(scene, cam, Vector(p.tolist()))
            # ndc: (0, 0) = bottom-left corner of the frame; pixels run x right, y down
            keypoints[k] = (ndc.x * size, (1.0 - ndc.y) * size, 2.0)
    bpy.data.objects.remove(cam)
    return draw_pose(image, keypoints)


def render_row(character: str, motions: list[str], size: int, seed: int, out_png: Path) -> None:
    """Render one character (catalogue name or Mixamo file): T-pose, then each motion at 40%
    of its frames, side by side, into ``out_png`` (``size, size * (1 + len(motions)), 3``)."""
    from PIL import Image

    from renderers.blender import reset_blender
    from renderers.motions.apply import apply_motion
    from renderers.selection import CharacterSpec, MotionSpec, load_character

    bpy = reset_blender()
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.world = bpy.data.worlds.new("sheet_world")
    char = load_character(CharacterSpec.parse(character))
    rng = np.random.default_rng(seed)
    panels = []
    with tempfile.TemporaryDirectory() as tmp:
        panels.append(_render_panel(bpy, char, size, 0.0, Path(tmp)))
        for motion in motions:
            frames = apply_motion(char, MotionSpec.parse(motion), rng)
            scene.frame_set(frames[int(0.4 * (len(frames) - 1))])
            panels.append(_render_panel(bpy, char, size, MOTION_AZIMUTH_DEG, Path(tmp)))
    Image.fromarray(np.concatenate(panels, axis=1)).save(out_png)


def draw_character_sheet(out_png: Path, characters: list[str], motions: list[str] | None, size: int,
                         seed: int = 0, workers: int = 2) -> Path:
    """Write a contact sheet PNG: one row per character (T-pose, then ``motions``).

    characters: catalogue names or Mixamo ``.fbx``/``.blend`` paths (empty list = the whole
    catalogue). motions: clip names, ``.fbx``/``.bvh`` paths or ``random_poses``; ``None`` = the
    default three (walk, wave, kick), ``[]`` = T-pose only. size: panel side in pixels
    (64..1024). seed: for ``random_poses``. Each row renders in its own process, ``workers``
    at a time; the sheet is written atomically. Returns ``out_png``.
    """
    from PIL import Image

    from renderers.characters.catalogue import CHARACTER_NAMES
    from renderers.selection import CharacterSpec, MotionSpec
    from rig2sketch.drawing import grid

    if not 64 <= size <= 1024:
        raise ValueError(f"size={size} must be in 64..1024 pixels")
    names = list(characters) or list(CHARACTER_NAMES)
    labels_by_row = [CharacterSpec.parse(c).label for c in names]  # errors before any process
    motions = list(DEFAULT_MOTIONS) if motions is None else list(motions)
    motion_labels = [MotionSpec.parse(m).label for m in motions]
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [Path(tmp) / f"row{k}.png" for k in range(len(names))]

        def job(k: int) -> None:
            run_worker("renderers.characters.sheet", ["row", names[k], json.dumps(motions), str(size), str(seed),
                                                       str(rows[k])], f"rendering character {names[k]!r}")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(job, range(len(names))))
        columns = 1 + len(motions)
        panels, labels = [], []
        for label, row_png in zip(labels_by_row, rows):
            strip = np.asarray(Image.open(row_png).convert("RGB"))
            panels += np.split(strip, columns, axis=1)
            labels += [f"{label} {m}" for m in ("T-pose", *motion_labels)]
        sheet = grid(panels, columns, cell=size, labels=labels)
        with atomic_path(out_png) as partial:
            Image.fromarray(sheet).save(partial)
    return out_png


def characters_command(cfg) -> Path:
    """``rig2sketch characters``: draw the sheet described by a ``CharacterSheetConfig``."""
    return draw_character_sheet(Path(cfg.out), list(cfg.characters), list(cfg.motions), cfg.size,
                                seed=cfg.seed, workers=cfg.workers)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m renderers.characters.sheet")
    sub = parser.add_subparsers(dest="command", required=True)
    row = sub.add_parser("row", help="render one character row (worker process)")
    row.add_argument("name")
    row.add_argument("motions_json")
    row.add_argument("size", type=int)
    row.add_argument("seed", type=int)
    row.add_argument("out_png", type=Path)
    args = parser.parse_args(argv)
    render_row(args.name, json.loads(args.motions_json), args.size, args.seed, args.out_png)


if __name__ == "__main__":
    main(sys.argv[1:])
