"""One row of the character contact sheet (bpy, worker process ``python -m
renderers.blender.sheet row ...``): reset Blender, load the character and motions through
``renderers.selection`` and ``renderers.blender.keying`` (so Mixamo files work too), render
with Workbench, project the COCO keypoints with Blender's
``bpy_extras.object_utils.world_to_camera_view`` and draw them. The sheet itself is
``renderers.characters.sheet``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from renderers.blender import reset_blender


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
    from PIL import Image

    from renderers.blender import blender_world_to_camera_view, import_mathutils

    from renderers.blender.keypoints3d import world_keypoints
    from rig2sketch.drawing import draw_pose

    world_to_camera_view = blender_world_to_camera_view()
    Vector = import_mathutils().Vector
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

    from renderers.blender.keying import apply_motion
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


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m renderers.blender.sheet")
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
