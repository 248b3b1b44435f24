"""The rigging vocabulary both sides of the Blender wing share (no bpy import here): Mixamo bone
names and their canonical form, the T-pose check, the import error, and what a loaded character
or an imported animation is inside a render worker (bpy objects held as ``Any``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from rig2sketch.skeleton import MIXAMO_BONES

# Bones a character or animation must have: the body without fingers (Mixamo's smallest
# skeleton, "no fingers", still has these).
REQUIRED_BONES: tuple[str, ...] = tuple(b for b in MIXAMO_BONES if "Hand" not in b or b.endswith("Hand"))
_PREFIX = re.compile(r"^(?:.*[:|])?(?:mixamorig\d*[_:]?)?", re.IGNORECASE)
_CANONICAL = {b.lower(): b for b in MIXAMO_BONES + ("HeadTop_End",)}


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
        characters (face points then come from head bones, see ``renderers.blender.keypoints3d``).
    """

    name: str
    armature: Any
    meshes: list[Any]
    bone_names: dict[str, str]
    face_regressor: np.ndarray | None = None
    source: str = "bundled"
    licence: str = "CC0-1.0"
    extras: dict[str, Any] = field(default_factory=dict)


class CharacterImportError(ValueError):
    """A character or animation file cannot be used; the message names the file, why, and the fix."""


@dataclass
class ImportedAnimation:
    """An animation file's armature in the scene: ``objects`` are deleted after retargeting.

    ``mixamo_axes``: the file's bones use Mixamo's joint axes, so when its rest is not a T-pose
    (animation-only FBX) rotations can be copied bone for bone; False for BVH mocap.
    """

    armature: Any
    bone_names: dict[str, str]
    frames: list[int]
    objects: list[Any]
    mixamo_axes: bool = True


def canonical_bone_name(name: str) -> str | None:
    """``mixamorig:LeftArm``, ``mixamorig7:LeftArm``, ``Armature|mixamorig_LeftArm``, ``LeftArm``
    -> ``LeftArm``; None for bones outside the Mixamo skeleton (other ``*_End`` leaves)."""
    return _CANONICAL.get(_PREFIX.sub("", name, count=1).lower())


def map_bones(names: Iterable[str]) -> dict[str, str]:
    """Canonical name -> actual name for the Mixamo bones among ``names`` (first one wins)."""
    out: dict[str, str] = {}
    for name in names:
        canonical = canonical_bone_name(name)
        if canonical is not None and canonical not in out:
            out[canonical] = name
    return out


def check_path(path: str | Path, suffixes: tuple[str, ...], what: str) -> Path:
    """The path if it exists and has one of ``suffixes``; CharacterImportError otherwise."""
    p = Path(path).expanduser()
    if p.suffix.lower() not in suffixes:
        raise CharacterImportError(f"{what} file {p} has suffix {p.suffix!r}; rig2sketch reads {', '.join(suffixes)} files")
    if not p.is_file():
        raise CharacterImportError(f"{what} file {p} does not exist; check the path")
    return p


TPOSE_TOLERANCE_DEG = 25.0


def direction_deg(v: np.ndarray, target: tuple[float, float, float]) -> float:
    """Angle in degrees between the vector ``v`` and the unit vector ``target``."""
    v = v / np.linalg.norm(v)
    return float(np.degrees(np.arccos(np.clip(np.dot(v, target), -1.0, 1.0))))


def is_tpose(heads: dict[str, np.ndarray]) -> bool:
    """Whether bone heads (canonical -> world point, facing -Y) stand in a T-pose: upper arms
    along +-X and thighs along -Z within ``TPOSE_TOLERANCE_DEG``."""
    checks = (("LeftArm", "LeftForeArm", (1, 0, 0)), ("RightArm", "RightForeArm", (-1, 0, 0)),
              ("LeftUpLeg", "LeftLeg", (0, 0, -1)), ("RightUpLeg", "RightLeg", (0, 0, -1)))
    return all(direction_deg(heads[b] - heads[a], d) < TPOSE_TOLERANCE_DEG for a, b, d in checks)
