"""The render loop of one job (bpy, worker only): reset Blender, load the character, apply the
motion, and for every selected frame and camera render the contour image and label it.
``renderers.job`` wraps it into arrays (:func:`renderers.job.render`) or a shard."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from renderers.blender import reset_blender
from renderers.blender.allocator import keep_freed_memory
from renderers.blender.freestyle import setup_freestyle
from renderers.blender.parts import setup_part_aov
from renderers.blender.passes import PassRender
from renderers.blender.pbr import texture_character
from renderers.blender.proportions import apply_proportions, prepare_rig
from renderers.blender.scene import (apply_camera, figure_points, held_animation, make_camera, scene_ray_caster,
                                     setup_world, skin_material)
from renderers.cameras import frame_view, make_views
from renderers.contours import CONTOURS
from renderers.contours.base import LineSettings
from renderers.proportions import draw_proportions, proportions_rng
from renderers.shots import frame_chunk, image_extras, label_points, select_frames, silhouette_box
from rig2sketch.registry import resolve_ref


def iter_render(job: Any, scratch: Path) -> Iterator[dict[str, Any]]:
    """Render the job image by image (in the worker process; ``scratch`` is a private folder).

    Yields one dict per image: ``image`` ``H, W`` uint8 (255 paper, 0 ink), ``keypoints``
    ``17, 3`` and ``joints`` ``53, 3`` float32 (x, y, v), ``bbox`` ``4`` float32 (x, y, w, h),
    ``area`` float, ``frame`` int, ``camera`` str, ``intrinsics`` ``3, 3``, ``extrinsics``
    ``4, 4`` (world->camera, OpenCV), ``params`` dict, and the optional extras switched on in
    ``settings.outputs``: ``shaded`` ``H, W, 3`` uint8, ``mask`` ``H, W`` uint8, ``depth``
    ``H, W`` uint16 (mm), ``normal`` ``H, W, 3`` uint8, ``parts`` ``H, W`` uint8 part ids.
    With ``settings.proportions`` on, ``params["proportions"]`` is the frame's body
    (``renderers.proportions.BodyProportions.record``).
    """
    cfg = job.settings
    keep_freed_memory()  # the same big buffers every render: reuse their pages (~11 ms a 512 px image)
    bpy = reset_blender()
    rng = np.random.default_rng(job.seed)
    character, frames, keypoints_fn = resolve_ref(cfg.scene_loader)(job, rng)
    if cfg.textures:
        texture_character(bpy, character, cfg.textures)
    frames = select_frames(frames, cfg.frames, rng)
    views = make_views(cfg.camera, rng)  # every random draw happens before the chunk is cut: parts agree
    # Proportions draw from their own stream (off: no draw, nothing touched, the same bytes as before).
    bodies = draw_proportions(cfg.proportions, frames, proportions_rng(job.seed)) if cfg.proportions.enabled else {}
    if bodies:
        prepare_rig(character)
    frames = frame_chunk(frames, job.chunk, job.chunks)
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
    setup_world(bpy, scene, shaded)
    skin = skin_material(bpy) if shaded else None
    for i, obj in enumerate(character.meshes):
        obj.pass_index = i + 1
        if skin is not None and not obj.data.materials:
            obj.data.materials.append(skin)
    if method.freestyle:
        setup_freestyle(bpy, scene, cfg.line_px, as_render_pass=True)
    camera = make_camera(bpy, scene)
    # A sharp 1-spp render gives lines, mask and labels; a shaded image, when wanted, comes
    # from a second anti-aliased render with Freestyle off.
    passes = set(method.passes) | {"alpha"} | ({"image"} if shaded else set())
    passes |= {name for name in ("depth", "normal") if getattr(cfg.outputs, name)}
    if cfg.outputs.parts:
        setup_part_aov(bpy, scene, character)
        passes.add("part")
    renderer = PassRender(bpy, scene, passes, scratch)
    for frame in frames:
        if bodies:  # before frame_set: the frame's evaluation (mesh, framing, labels) has the scaled skeleton
            apply_proportions(character, bodies[frame])
        scene.frame_set(frame)
        depsgraph = bpy.context.evaluated_depsgraph_get()
        coco, joints = keypoints_fn(character, depsgraph)
        surface = figure_points(character, depsgraph)
        cast = scene_ray_caster(scene, depsgraph)
        # Within a frame only the camera moves: with the actions held, Cycles keeps the synced
        # meshes and their BVH between the views instead of rebuilding them for each.
        with held_animation(bpy):
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
                               "ortho_scale": placed.ortho_scale,
                               **({"proportions": bodies[frame].record()} if bodies else {})},
                    **image_extras(result, mask, placed, cfg.outputs),
                }
