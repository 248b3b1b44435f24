"""Body proportions on a loaded character (bpy, worker only; presets and draws: ``renderers.proportions``).

The scales go on the pose bones (``pose_bone.scale``, in each bone's own axes) on top of the
motion's rotations: motions key only rotations and the hips location, so a scale set before
``scene.frame_set`` is part of that frame's evaluation, and the mesh, the bone heads (COCO body
points, joints) and the deformed vertices (the bundled characters' face points) all come from
the scaled skeleton. Works for any rig ``bone_names`` maps (bundled ``mixamorig:`` bones,
imported Mixamo FBX with any prefix).
"""

from __future__ import annotations

from renderers.proportions import BodyProportions, bone_scales, inherit_modes
from renderers.rigging import LoadedCharacter


def prepare_rig(char: LoadedCharacter) -> None:
    """Set ``inherit_scale`` on the children of scaled bones (:func:`renderers.proportions.inherit_modes`).
    Call once per job, before the first :func:`apply_proportions`; with every scale at 1 the pose
    is the same as before."""
    bones = char.armature.data.bones
    parents = {bone.name: bone.parent.name if bone.parent is not None else None for bone in bones}
    for name, mode in inherit_modes(parents, char.bone_names).items():
        bones[name].inherit_scale = mode


def apply_proportions(char: LoadedCharacter, body: BodyProportions) -> None:
    """Give ``char``'s pose bones ``body``'s scales (every group bone, so the previous frame's body
    is undone). Call before ``scene.frame_set`` of the frame it is for."""
    pose_bones = char.armature.pose.bones
    for name, scale in bone_scales(body, char.bone_names).items():
        if name in pose_bones:
            pose_bones[name].scale = scale
