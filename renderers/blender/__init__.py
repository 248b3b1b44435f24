"""The Blender wing: the only code that touches ``bpy``, ``mathutils`` and ``bpy_extras``, and
this module the one place that imports them.

Only render worker processes call :func:`import_bpy`; nothing imports ``bpy`` at module
import time, so the rest of ``renderers/`` (specs, cameras, projection) loads without it.
The wing: ``render`` (a job's render loop), ``scene`` (lights, camera, framing points, ray
casting), ``passes`` (the Cycles pass render), ``freestyle``, ``parts`` (the part AOV),
``keypoints3d`` (world keypoints of a posed rig), ``characters`` (bundled characters),
``mannequin`` (the test rig), ``fbx`` (FBX and .blend import), ``bvh``, ``keying`` (motions
keyed onto a character), ``sheet`` (a contact-sheet row) and ``allocator`` (a render worker keeps
freed memory for the next render; no bpy). The maths they use (projection,
visibility, retargeting, kinematics, EXR parsing) stays outside and is tested without Blender;
``renderers.rigging`` is the vocabulary both sides share.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Sequence


class BlenderUnavailable(ImportError):
    """Raised when the ``bpy`` module (Blender as a Python module) cannot be imported."""


def import_bpy() -> ModuleType:
    """Return the ``bpy`` module, or raise :class:`BlenderUnavailable` saying how to get it."""
    try:
        return importlib.import_module("bpy")
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise BlenderUnavailable(
            f"rig2sketch renders with Blender as a Python module, but 'import bpy' failed ({err}). "
            "Install it with 'make setup' (pins bpy==5.0.1 for Python 3.11, which needs numpy<2)."
        ) from err


def import_mathutils() -> ModuleType:
    """Return Blender's ``mathutils`` module (it comes with ``bpy``)."""
    import_bpy()
    return importlib.import_module("mathutils")


def reset_blender() -> ModuleType:
    """Import ``bpy`` and reset Blender to an empty factory scene; returns ``bpy``.

    Call once at the start of every job so no state leaks between jobs in one process.
    """
    bpy = import_bpy()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy


def blender_world_to_camera_view():
    """Blender's own ``bpy_extras.object_utils.world_to_camera_view``: the reference projection
    that tests and benchmarks compare rig2sketch's pinhole maths against."""
    import_bpy()
    return importlib.import_module("bpy_extras.object_utils").world_to_camera_view


def remove_objects(objects: Sequence[Any]) -> None:
    """Delete imported helper objects (a source armature and its meshes) and their actions."""
    bpy = import_bpy()
    for ob in objects:
        action = ob.animation_data.action if ob.animation_data else None
        data = ob.data
        bpy.data.objects.remove(ob, do_unlink=True)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
        if data is not None and data.users == 0:
            if isinstance(data, bpy.types.Armature):
                bpy.data.armatures.remove(data)
            elif isinstance(data, bpy.types.Mesh):
                bpy.data.meshes.remove(data)
