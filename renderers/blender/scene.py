"""Scene pieces of a render job (bpy, worker only): lights, skin material, the camera and its
placement, the deformed figure's points for framing, ray casting for visibility, and holding
the animation still while only the camera moves."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from renderers.blender import import_mathutils
from renderers.cameras import PlacedCamera
from renderers.projection import blender_matrix_world, intrinsics
from renderers.visibility import RayCaster

MAX_FRAMING_POINTS = 4000


def setup_world(bpy: Any, scene: Any, shaded: bool) -> None:
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


def skin_material(bpy: Any) -> Any:
    material = bpy.data.materials.new("rig2sketch_skin")
    material.diffuse_color = (0.8, 0.62, 0.52, 1.0)
    tree = material.node_tree
    bsdf = tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (0.8, 0.62, 0.52, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.6
    return material


def make_camera(bpy: Any, scene: Any) -> Any:
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
    Matrix = import_mathutils().Matrix

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


def scene_ray_caster(scene: Any, depsgraph: Any) -> RayCaster:
    """A :data:`RayCaster` over every visible mesh of the evaluated ``depsgraph``."""

    def cast(origin: np.ndarray, direction: np.ndarray, max_distance: float) -> float:
        hit, location, *_ = scene.ray_cast(depsgraph, tuple(origin), tuple(direction), distance=max_distance)
        if not hit:
            return float("inf")
        return float(np.linalg.norm(np.asarray(location) - origin))

    return cast


def intrinsics_from_blender(camera_data, render) -> np.ndarray:
    """K of a Blender camera (``bpy.types.Camera``) for the scene's ``render`` settings, read
    from exactly the values Blender renders with: resolution and percentage, pixel aspect,
    sensor fit and size, lens or ortho scale, and shift."""
    scale = render.resolution_percentage / 100.0
    return intrinsics(
        width=int(render.resolution_x * scale),
        height=int(render.resolution_y * scale),
        focal_mm=camera_data.lens,
        sensor_width_mm=camera_data.sensor_width,
        sensor_height_mm=camera_data.sensor_height,
        sensor_fit=camera_data.sensor_fit,
        shift_x=camera_data.shift_x,
        shift_y=camera_data.shift_y,
        pixel_aspect_x=render.pixel_aspect_x,
        pixel_aspect_y=render.pixel_aspect_y,
        ortho_scale=camera_data.ortho_scale if camera_data.type == "ORTHO" else None,
    )


# Datablock collections whose members can carry an animation (``animation_data.action``).
ANIMATABLE = ("objects", "armatures", "meshes", "shape_keys", "materials", "node_groups", "cameras",
              "lights", "worlds", "scenes")


@contextmanager
def held_animation(bpy: Any) -> Iterator[int]:
    """Unassign every action while the block runs (yields how many), then put each back with its slot.

    Every render call evaluates the render dependency graph as for a new frame: the armature
    re-deforms the meshes, and Cycles, even with persistent data, re-syncs them and rebuilds its
    BVH (~20 ms at 512 px) though only the camera moved. ``scene.frame_set`` has already written
    the frame's animated values into the datablocks (the active dependency graph flushes them
    back), so without the actions the pose is the same to the bit and nothing is time-dependent:
    after the first render of a frame, the others re-sync the camera only. Call after
    ``frame_set``; frame changes belong outside the block.
    """
    held = []
    for name in ANIMATABLE:
        for block in getattr(bpy.data, name):
            data = getattr(block, "animation_data", None)
            if data is not None and data.action is not None:
                held.append((data, data.action, data.action_slot))
                data.action = None
    try:
        yield len(held)
    finally:
        for data, action, slot in held:
            data.action = action
            data.action_slot = slot
