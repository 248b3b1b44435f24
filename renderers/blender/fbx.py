"""Import real Mixamo characters and animations (bpy, worker only).

A Mixamo character FBX ("With Skin") imports in Blender as an armature object rotated 90 deg
about X and scaled 0.01 with its bones in centimetres; names carry a ``mixamorig:`` prefix
(``mixamorig1:``... when several rigs met in one scene; none for some exports). The importer
here applies the object transforms so the armature frame is the world frame in metres (Z up),
turns a character that faces +Y round to face -Y, and maps canonical Mixamo bone names to the
file's names. ``*_End`` leaf bones stay in the armature; only ``HeadTop_End`` becomes a joint.

A ``.blend`` file holding one armature and its meshes is accepted too. It is read with
``bpy.data.libraries.load`` (objects appended into the current scene, nothing from the file
executed; auto-run scripts are also switched off in the preferences first).

Every problem is a :class:`CharacterImportError` naming the file, the problem and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from renderers.blender import import_bpy, import_mathutils, remove_objects
from renderers.rigging import (
    REQUIRED_BONES,
    TPOSE_TOLERANCE_DEG,
    CharacterImportError,
    ImportedAnimation,
    LoadedCharacter,
    canonical_bone_name,
    check_path,
    direction_deg,
    is_tpose,
    map_bones,
)
from rig2sketch.skeleton import MIXAMO_PARENTS

FBX_BINARY_MAGIC = b"Kaydara FBX Binary  \x00"
# A .blend starts with "BLENDER", or is zstd- (Blender >= 3.0 "compress") or gzip-compressed.
BLEND_MAGICS = (b"BLENDER", b"\x28\xb5\x2f\xfd", b"\x1f\x8b")
PLAUSIBLE_HEIGHT_M = (0.3, 4.0)


def _new_objects(before: set[Any]) -> list[Any]:
    bpy = import_bpy()
    return [ob for ob in bpy.data.objects if ob not in before]


def header_problem(path: str | Path) -> str | None:
    """Why the first bytes of ``path`` say it is not a binary FBX or a .blend file Blender can
    read (None: plausible). bpy-free: the config side checks files before any worker starts."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if Path(path).suffix.lower() == ".blend":
        return None if head[:8].startswith(BLEND_MAGICS) else (
            "is not a .blend file (no 'BLENDER' or compressed-blend header); save it again from Blender")
    if head.startswith(b"; FBX") or head.lstrip().startswith(b"FBXHeaderExtension"):
        return "is an ASCII FBX, which Blender cannot read; re-export it as binary FBX (Mixamo's downloads are binary)"
    if not head.startswith(FBX_BINARY_MAGIC):
        return "is not an FBX file (no 'Kaydara FBX Binary' header): it is corrupt or another format; download it again"
    return None


def _import_fbx(path: Path) -> list[Any]:
    """Run Blender's FBX importer on ``path``; returns the objects it added."""
    bpy = import_bpy()
    if problem := header_problem(path):
        raise CharacterImportError(f"{path} {problem}")
    before = set(bpy.data.objects)
    try:
        # automatic_bone_orientation=False keeps the file's own joint axes (Mixamo's), which
        # animation-only files rely on (see renderers.blender.keying.sample_source_poses)
        result = bpy.ops.import_scene.fbx(filepath=str(path), use_anim=True, ignore_leaf_bones=False,
                                          automatic_bone_orientation=False)
    except Exception as err:  # the importer raises RuntimeError/struct/zlib errors on damaged files
        for ob in _new_objects(before):
            bpy.data.objects.remove(ob, do_unlink=True)
        reason = str(err).strip().splitlines()[-1][:200] if str(err).strip() else type(err).__name__
        raise CharacterImportError(f"{path} could not be read as FBX ({reason}): the file is corrupt or truncated; download or export it again") from err
    if "FINISHED" not in result:
        raise CharacterImportError(f"Blender's FBX importer refused {path} ({result}); the file is corrupt or truncated; download or export it again")
    return _new_objects(before)


def _append_blend(path: Path) -> list[Any]:
    """Append every object of a .blend file to the current scene without running its scripts."""
    bpy = import_bpy()
    if problem := header_problem(path):
        raise CharacterImportError(f"{path} {problem}")
    bpy.context.preferences.filepaths.use_scripts_auto_execute = False
    try:
        with bpy.data.libraries.load(str(path), link=False) as (src, dst):
            dst.objects = list(src.objects)
    except (OSError, RuntimeError) as err:
        raise CharacterImportError(f"{path} could not be read as a .blend file ({err}); save it again from Blender") from err
    objects = [ob for ob in dst.objects if ob is not None]
    for ob in objects:
        bpy.context.scene.collection.objects.link(ob)
    return objects


def _armature(objects: list[Any], path: Path, what: str) -> Any:
    armatures = [ob for ob in objects if ob.type == "ARMATURE"]
    if not armatures:
        kinds = sorted({ob.type.lower() for ob in objects}) or ["nothing"]
        raise CharacterImportError(
            f"{path} has no armature (it holds {', '.join(kinds)}); a {what} needs a skeleton: "
            "download it from Mixamo as FBX with the skeleton, or rig it first"
        )
    mapped = [ob for ob in armatures if not set(REQUIRED_BONES) - set(map_bones(b.name for b in ob.data.bones))]
    if len(mapped) > 1:
        raise CharacterImportError(f"{path} holds {len(mapped)} Mixamo armatures ({', '.join(o.name for o in mapped)}); keep one per file")
    return mapped[0] if mapped else max(armatures, key=lambda ob: len(map_bones(b.name for b in ob.data.bones)))


def _hierarchy_mismatches(armature: Any, names: dict[str, str]) -> list[str]:
    """Mapped bones whose nearest mapped ancestor is not their Mixamo parent."""
    actual_to_canonical = {v: k for k, v in names.items()}
    bad = []
    for bone, actual in names.items():
        expected = MIXAMO_PARENTS.get(bone, "Head" if bone == "HeadTop_End" else None)
        parent = armature.data.bones[actual].parent
        while parent is not None and parent.name not in actual_to_canonical:
            parent = parent.parent
        found = actual_to_canonical[parent.name] if parent is not None else None
        if expected is not None and expected in names and found != expected:
            bad.append(f"{bone} (parent {found}, expected {expected})")
    return bad


def _require_skeleton(armature: Any, path: Path, what: str) -> dict[str, str]:
    names = map_bones(b.name for b in armature.data.bones)
    missing = [b for b in REQUIRED_BONES if b not in names]
    if missing:
        others = [b.name for b in armature.data.bones if canonical_bone_name(b.name) is None][:12]
        raise CharacterImportError(
            f"{what} {path}: the skeleton {armature.name!r} cannot be mapped to the Mixamo skeleton; missing joints: "
            f"{', '.join(missing)}" + (f" (unmapped bones include: {', '.join(others)})" if others else "")
            + "; rig the character with Mixamo or rename its bones to Mixamo names (mixamorig:Hips, ...)"
        )
    bad = _hierarchy_mismatches(armature, names)
    if bad:
        raise CharacterImportError(f"{what} {path}: bones have Mixamo names but another hierarchy: {'; '.join(bad)}")
    return names


def _skinned_meshes(armature: Any, objects: list[Any]) -> list[Any]:
    def deforms(ob: Any) -> bool:
        return ob.parent == armature or any(m.type == "ARMATURE" and m.object == armature for m in ob.modifiers)

    meshes = [ob for ob in objects if ob.type == "MESH" and deforms(ob)]
    return sorted(meshes, key=lambda ob: -len(ob.data.vertices))


def _apply_transforms(armature: Any, meshes: list[Any], turn_z: float) -> None:
    """Bake object transforms (Mixamo: rot X 90, scale 0.01) into the data: armature frame = world."""
    bpy = import_bpy()
    Matrix = import_mathutils().Matrix

    if turn_z:
        armature.matrix_world = Matrix.Rotation(turn_z, 4, "Z") @ armature.matrix_world
    for ob in bpy.context.view_layer.objects:
        ob.select_set(False)
    for ob in [armature, *meshes]:
        ob.select_set(True)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.transform_apply(location=True, rotation=True, scale=True)
    for ob in [armature, *meshes]:
        ob.select_set(False)


def _armature_points(armature: Any) -> np.ndarray:
    bones = armature.data.bones
    return np.array([b.head_local for b in bones] + [b.tail_local for b in bones], float)


def _require_tpose(armature: Any, names: dict[str, str], p: Path) -> None:
    """Motions are rotations away from a T-pose rest; an A-posed rest would bend them all."""

    heads = {b: np.array(armature.data.bones[n].head_local, float) for b, n in names.items()}
    if not is_tpose(heads):
        arm = direction_deg(heads["LeftForeArm"] - heads["LeftArm"], (1, 0, 0))
        leg = direction_deg(heads["LeftLeg"] - heads["LeftUpLeg"], (0, 0, -1))
        raise CharacterImportError(
            f"{p}: the rest pose is not a T-pose (upper arm {arm:.0f} deg from horizontal, thigh {leg:.0f} deg "
            f"from vertical; at most {TPOSE_TOLERANCE_DEG:.0f}); download the character from Mixamo with "
            "Pose: T-pose, or apply a T-pose as its rest pose"
        )


def import_character(path: str | Path, name: str | None = None) -> LoadedCharacter:
    """Load a Mixamo character (.fbx "With Skin", or a .blend with one armature) into the scene.

    The rest pose must be a T-pose (Mixamo's "Pose: T-pose" download). Returns a
    :class:`LoadedCharacter` in metres, Z up, facing -Y, at rest (T-pose, no action),
    with identity object transforms, ``bone_names`` for the Mixamo bones it has (fingers may be
    absent; ``HeadTop_End`` when the file has it). Raises :class:`CharacterImportError`.
    """
    bpy = import_bpy()
    p = check_path(path, (".fbx", ".blend"), "character")
    objects = _import_fbx(p) if p.suffix.lower() == ".fbx" else _append_blend(p)
    try:
        return _make_character(p, objects, name)
    except CharacterImportError:
        remove_objects(objects)  # leave the scene as it was
        raise


def _make_character(p: Path, objects: list[Any], name: str | None) -> LoadedCharacter:
    bpy = import_bpy()
    armature = _armature(objects, p, "character")
    names = _require_skeleton(armature, p, "character")
    meshes = _skinned_meshes(armature, objects)
    if not meshes:
        raise CharacterImportError(f"{p} has a skeleton but no mesh skinned to it; download the character 'With Skin' (an animation file is not a character)")
    if armature.animation_data is not None:
        armature.animation_data.action = None
    for pb in armature.pose.bones:
        pb.matrix_basis.identity()
    bpy.context.view_layer.update()
    world = np.array(armature.matrix_world)
    left = world @ np.append(np.array(armature.data.bones[names["LeftArm"]].head_local), 1)
    right = world @ np.append(np.array(armature.data.bones[names["RightArm"]].head_local), 1)
    _apply_transforms(armature, meshes, np.pi if left[0] < right[0] else 0.0)
    points = _armature_points(armature)
    height = float(points[:, 2].max() - points[:, 2].min())
    lo, hi = PLAUSIBLE_HEIGHT_M
    if not lo <= height <= hi:
        raise CharacterImportError(
            f"{p}: the skeleton is {height:.3g} m tall after unit conversion, outside {lo}..{hi} m; "
            "check the FBX unit scale (Mixamo exports centimetres) or the export's scale settings"
        )
    _require_tpose(armature, names, p)
    for ob in objects:
        if ob.type in ("CAMERA", "LIGHT"):
            bpy.data.objects.remove(ob, do_unlink=True)
    return LoadedCharacter(name=name or p.stem, armature=armature, meshes=meshes, bone_names=names,
                           face_regressor=None, source=str(p), licence="user-supplied")


def import_animation(path: str | Path, char: LoadedCharacter | None = None) -> ImportedAnimation:
    """Import a Mixamo animation (.fbx, "Without Skin" or with) for retargeting onto ``char``.

    Refuses a file with no animation, and one made for another skeleton: its armature must map
    to the Mixamo body and have every body bone ``char`` has.
    """
    bpy = import_bpy()
    p = check_path(path, (".fbx",), "animation")
    objects = _import_fbx(p)
    try:
        armatures = [ob for ob in objects if ob.type == "ARMATURE"]
        animated = [ob for ob in armatures if ob.animation_data is not None and ob.animation_data.action is not None]
        if not armatures:
            raise CharacterImportError(f"{p} has no armature, so it holds no skeletal animation; download the animation from Mixamo as FBX")
        if not animated:
            raise CharacterImportError(f"{p} has an armature but no animation; download it from Mixamo with an animation selected")
        armature = animated[0]
        names = map_bones(b.name for b in armature.data.bones)
        wanted = [b for b in REQUIRED_BONES if char is None or b in char.bone_names]
        missing = [b for b in wanted if b not in names]
        if missing:
            found = [b.name for b in armature.data.bones][:12]
            raise CharacterImportError(
                f"{p}: animation made for another skeleton; its armature {armature.name!r} lacks the Mixamo joints "
                f"{', '.join(missing)} (its bones include: {', '.join(found)}); use an animation downloaded from Mixamo"
            )
        bad = _hierarchy_mismatches(armature, names)
        if bad:
            raise CharacterImportError(f"{p}: animation made for another skeleton; mismatched bones: {'; '.join(bad)}")
        start, end = (int(round(v)) for v in armature.animation_data.action.frame_range)
        return ImportedAnimation(armature, names, list(range(start, end + 1)), objects)
    except CharacterImportError:
        remove_objects(objects)
        raise
