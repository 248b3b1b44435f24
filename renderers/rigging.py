"""What a loaded character is, inside a render worker (bpy objects, no bpy import here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LoadedCharacter:
    """A character in the current Blender scene, ready to animate and render.

    armature: the ``bpy.types.Object`` of type ARMATURE (Z up, metres, facing -Y like an
        imported Mixamo character; the character's left is +X in rest pose).
    meshes: the skinned ``bpy.types.Object`` meshes (body first, then garments/hair).
    bone_names: canonical Mixamo bone name (no prefix, see ``rig2sketch.skeleton``) -> the
        bone's name in this armature (``mixamorig:Hips``, ``mixamorig1:Hips``, ``Hips``...).
    face_regressor: ``5, V`` weights over the body mesh's vertices giving nose, left eye,
        right eye, left ear, right ear (COCO order) from deformed vertices; None for imported
        characters (face points then come from head bones, see ``renderers.keypoints3d``).
    """

    name: str
    armature: Any
    meshes: list[Any]
    bone_names: dict[str, str]
    face_regressor: np.ndarray | None = None
    source: str = "bundled"
    licence: str = "CC0-1.0"
    extras: dict[str, Any] = field(default_factory=dict)
