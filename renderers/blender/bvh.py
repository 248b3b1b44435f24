"""BVH mocap (CMU-style or Mixamo-named) read with Blender's importer, for retargeting onto the
Mixamo skeleton (bpy, worker only). Retargeting itself is ``renderers.blender.keying``: world-space
rest alignment, so the BVH's own joint axes and units do not matter; its rest must be a T-pose
(CMU's is).
"""

from __future__ import annotations

from pathlib import Path

from renderers.blender import import_bpy, remove_objects
from renderers.rigging import REQUIRED_BONES, CharacterImportError, ImportedAnimation, check_path, map_bones

# CMU (cgspeed BVH conversion) joint -> Mixamo bone. LHipJoint/RHipJoint (pelvis to hip offsets),
# Neck1, finger bases and thumbs have no Mixamo counterpart: their rotation is carried by the
# world-space rotation of the next mapped bone.
CMU_TO_MIXAMO: dict[str, str] = {
    "Hips": "Hips", "LowerBack": "Spine", "Spine": "Spine1", "Spine1": "Spine2", "Neck": "Neck", "Head": "Head",
    **{f"{s}{b}": f"{s}{b}" for s in ("Left", "Right")
       for b in ("Shoulder", "Arm", "ForeArm", "Hand", "UpLeg", "Leg", "Foot", "ToeBase")},
}


def bvh_bone_map(bone_names: list[str]) -> dict[str, str]:
    """Canonical Mixamo name -> BVH bone name: CMU names when the file has CMU's ``LowerBack``
    or ``LHipJoint``, otherwise Mixamo names with or without a ``mixamorig:`` prefix."""
    if {"LowerBack", "LHipJoint"} & set(bone_names):
        return {CMU_TO_MIXAMO[n]: n for n in bone_names if n in CMU_TO_MIXAMO}
    return map_bones(bone_names)


def header_problem(path: str | Path) -> str | None:
    """Why ``path`` is not a BVH file (None: it starts with HIERARCHY). bpy-free."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    return None if head.lstrip().upper().startswith(b"HIERARCHY") else (
        "is not a BVH file (it must start with HIERARCHY); export the mocap as BVH")


def import_bvh(path: str | Path) -> ImportedAnimation:
    """Import a BVH file as an animated armature (Y-up BVH -> Z-up scene) and map its joints."""
    bpy = import_bpy()
    p = check_path(path, (".bvh",), "motion")
    if problem := header_problem(p):
        raise CharacterImportError(f"{p} {problem}")
    before = set(bpy.data.objects)
    try:
        bpy.ops.import_anim.bvh(filepath=str(p), target="ARMATURE", global_scale=1.0, frame_start=1,
                                use_fps_scale=False, update_scene_fps=False, update_scene_duration=False,
                                rotate_mode="NATIVE", axis_forward="-Z", axis_up="Y")
    except Exception as err:  # Blender's BVH parser raises on malformed or truncated files
        for ob in [o for o in bpy.data.objects if o not in before]:
            bpy.data.objects.remove(ob, do_unlink=True)
        reason = str(err).strip().splitlines()[-1][:200] if str(err).strip() else type(err).__name__
        raise CharacterImportError(f"{p} could not be read as BVH ({reason}): the file is corrupt or truncated") from err
    objects = [o for o in bpy.data.objects if o not in before]
    armature = next(o for o in objects if o.type == "ARMATURE")
    names = bvh_bone_map([b.name for b in armature.data.bones])
    missing = [b for b in REQUIRED_BONES if b not in names]
    if missing:
        found = [b.name for b in armature.data.bones][:12]
        remove_objects(objects)
        raise CharacterImportError(
            f"{p}: motion made for another skeleton; no BVH joint maps to the Mixamo joints {', '.join(missing)} "
            f"(its joints include: {', '.join(found)}); use CMU joint names (Hips, LowerBack, Spine, LHipJoint, "
            "LeftUpLeg, ...) or Mixamo names"
        )
    action = armature.animation_data.action if armature.animation_data else None
    start, end = (int(round(v)) for v in action.frame_range) if action else (1, 1)
    return ImportedAnimation(armature, names, list(range(start, end + 1)), objects, mixamo_axes=False)
