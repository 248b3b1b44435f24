"""World positions of the COCO-17 keypoints and the 53 joints of a character at the current frame.

Definitions (names from ``rig2sketch.skeleton``):
- joints (``JOINTS``, 53): each Mixamo bone's head in world space, then ``HeadTop_End`` = the
  bone of that name when the armature has one (imported Mixamo rigs), else the Head bone's tail.
- COCO body points: bone heads per ``COCO_FROM_BONE_HEAD`` (shoulder = upper-arm head, ...).
- COCO face points (nose, eyes, ears):
  * bundled characters: ``face_regressor @ deformed body vertices`` (anny's COCO regressor
    re-expressed on body vertices, see ``renderers.characters.body.face_regressor``);
  * imported characters: eyes from ``LeftEye``/``RightEye`` bone heads when present (found in
    ``bone_names`` or by name after any ``prefix:``), all other face points from the head
    frame with :data:`HEAD_FACE_OFFSETS`.
- The head frame of an imported character: origin = Head bone head, unit = head length
  (Head head -> HeadTop_End), axes = the character's left, forward and up in the rest pose
  (left: right-arm head -> left-arm head; up: hips -> head; forward = left x up), carried by
  the Head bone's pose rotation. Offsets were measured on the bundled adult bodies.
- A joint the armature lacks gives a NaN row (the renderer turns it into v = 0).
"""

from __future__ import annotations

import numpy as np

from rig2sketch.skeleton import COCO_FACE, COCO_FROM_BONE_HEAD, COCO_KEYPOINTS, JOINTS

# (left, forward, up) in head lengths from the Head bone head: the mean over nine bundled
# adults (spread <= 0.03), made symmetric.
HEAD_FACE_OFFSETS: dict[str, tuple[float, float, float]] = {
    "nose": (0.0, 0.66, 0.30),
    "left_eye": (0.15, 0.54, 0.45),
    "right_eye": (-0.15, 0.54, 0.45),
    "left_ear": (0.37, 0.14, 0.35),
    "right_ear": (-0.37, 0.14, 0.35),
}


def _pose_heads(armature_eval, bone_names: list[str | None]) -> np.ndarray:
    """``len(bone_names), 3`` world heads (NaN where the name is None or missing)."""
    bones = armature_eval.pose.bones
    heads = np.empty(len(bones) * 3, np.float64)
    bones.foreach_get("head", heads)
    heads = heads.reshape(-1, 3)
    index = {b.name: i for i, b in enumerate(bones)}
    world = np.asarray(armature_eval.matrix_world, np.float64)
    heads = heads @ world[:3, :3].T + world[:3, 3]
    out = np.full((len(bone_names), 3), np.nan)
    for k, name in enumerate(bone_names):
        if name is not None and name in index:
            out[k] = heads[index[name]]
    return out


def _body_vertices(mesh_obj, depsgraph) -> np.ndarray:
    evaluated = mesh_obj.evaluated_get(depsgraph)
    verts = evaluated.data.vertices
    co = np.empty(len(verts) * 3, np.float64)
    verts.foreach_get("co", co)
    world = np.asarray(evaluated.matrix_world, np.float64)
    return co.reshape(-1, 3) @ world[:3, :3].T + world[:3, 3]


def _orthonormal(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(np.asarray(m, np.float64)[:3, :3])
    r = u @ vt
    return r if np.linalg.det(r) > 0 else u @ np.diag([1.0, 1.0, -1.0]) @ vt


def _rest_character_axes(char, armature_eval) -> np.ndarray | None:
    """``3, 3`` columns (left, forward, up) of the character in armature space at rest, from
    the rest skeleton itself (left = right shoulder -> left shoulder, up = hips -> head), so it
    holds whatever axis convention the armature was imported with."""
    bones = armature_eval.data.bones
    names = [char.bone_names.get(b) for b in ("LeftArm", "RightArm", "Hips", "Head")]
    if any(n is None or n not in bones for n in names):
        return None
    left_arm, right_arm, hips, head = (np.asarray(bones[n].head_local, np.float64) for n in names)
    left = left_arm - right_arm
    left /= np.linalg.norm(left)
    up = head - hips
    up -= (up @ left) * left
    up /= np.linalg.norm(up)
    return np.stack([left, np.cross(left, up), up], axis=1)  # forward = left x up


def _head_frame_points(char, armature_eval, joints: np.ndarray) -> np.ndarray:
    """``5, 3`` face points of an imported character from its head bones (see module doc)."""
    out = np.full((len(COCO_FACE), 3), np.nan)
    head_name = char.bone_names.get("Head")
    head = joints[JOINTS.index("Head")]
    top = joints[JOINTS.index("HeadTop_End")]
    rest_axes = _rest_character_axes(char, armature_eval)
    if head_name is None or rest_axes is None or np.isnan(head).any() or np.isnan(top).any():
        return out
    pose_bone = armature_eval.pose.bones[head_name]
    rest = _orthonormal(pose_bone.bone.matrix_local)
    posed = _orthonormal(pose_bone.matrix)
    world = _orthonormal(armature_eval.matrix_world)
    axes = world @ posed @ rest.T @ rest_axes  # (left, forward, up) of the head now, world
    scale = np.linalg.norm(top - head)
    for k, name in enumerate(COCO_FACE):
        out[k] = head + scale * axes @ np.asarray(HEAD_FACE_OFFSETS[name])
    for k, bone in ((1, "LeftEye"), (2, "RightEye")):
        name = char.bone_names.get(bone) or _bone_by_suffix(armature_eval, bone)
        if name is not None and name in armature_eval.pose.bones:
            out[k] = _pose_heads(armature_eval, [name])[0]
    return out


def _bone_by_suffix(armature_eval, canonical: str) -> str | None:
    """The armature's bone named ``canonical`` after any ``prefix:`` (``mixamorig1:LeftEye``)."""
    for bone in armature_eval.data.bones:
        if bone.name.rsplit(":", 1)[-1] == canonical:
            return bone.name
    return None


def world_keypoints(char, depsgraph) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 ``17, 3`` and joints ``53, 3`` world positions (metres) at the current frame.

    ``char`` is a ``renderers.rigging.LoadedCharacter``; ``depsgraph`` the evaluated
    dependency graph (``bpy.context.evaluated_depsgraph_get()`` after ``scene.frame_set``).
    Rows are NaN for points the character lacks. About 1-2 ms for a bundled character.
    """
    armature_eval = char.armature.evaluated_get(depsgraph)
    names = [char.bone_names.get(j) for j in JOINTS]
    joints = _pose_heads(armature_eval, names)
    top = JOINTS.index("HeadTop_End")
    head_name = char.bone_names.get("Head")
    if names[top] is None and head_name is not None and head_name in armature_eval.pose.bones:
        tail = np.asarray(armature_eval.pose.bones[head_name].tail, np.float64)
        world = np.asarray(armature_eval.matrix_world, np.float64)
        joints[top] = world[:3, :3] @ tail + world[:3, 3]

    coco = np.full((len(COCO_KEYPOINTS), 3), np.nan)
    for name, bone in COCO_FROM_BONE_HEAD.items():
        coco[COCO_KEYPOINTS.index(name)] = joints[JOINTS.index(bone)]
    face_rows = [COCO_KEYPOINTS.index(n) for n in COCO_FACE]
    if char.face_regressor is not None:
        verts = _body_vertices(char.meshes[0], depsgraph)
        if verts.shape[0] != char.face_regressor.shape[1]:
            raise ValueError(
                f"face_regressor has {char.face_regressor.shape[1]} columns but the body mesh "
                f"{char.meshes[0].name!r} has {verts.shape[0]} vertices; rebuild the character"
            )
        coco[face_rows] = char.face_regressor @ verts
    else:
        coco[face_rows] = _head_frame_points(char, armature_eval, joints)
    return coco, joints
