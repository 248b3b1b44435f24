"""Motion keying: putting motions on a loaded character (bpy, worker only; the retargeting
maths is ``renderers.motions.retarget`` and ``renderers.motions.kinematics``).

Clip and sampled rotations are written in the T-pose armature frame (``renderers.motions.clip``)
and turned into each bone's local pose rotation with its rest matrix ``R``: ``R^-1 W R``. File
animations (FBX, BVH) are retargeted by world-space rest alignment: each source bone's rotation
away from its own rest, in the world frame (after turning the source to face -Y), becomes the
same rotation of the target bone away from its rest. So a motion gives the same joint angles on
every character; joint positions follow each character's proportions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from renderers.blender import import_bpy
from renderers.motions import rotations as rot
from renderers.motions.kinematics import RestSkeleton, clearance, grounded, reference_skeleton
from renderers.motions.pose import Pose
from renderers.motions.retarget import facing_alignment, rotation_part
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import CharacterImportError, LoadedCharacter, is_tpose
from rig2sketch.skeleton import MIXAMO_BONES, MIXAMO_PARENTS

if TYPE_CHECKING:
    from renderers.selection import MotionSpec


def _object_frame(char: LoadedCharacter) -> tuple[np.ndarray, float]:
    """The armature object's world rotation ``3, 3`` and uniform scale."""
    world = np.array(char.armature.matrix_world, dtype=float)[:3, :3]
    return rotation_part(world), float(np.cbrt(abs(np.linalg.det(world))))


def rest_rotations(char: LoadedCharacter) -> dict[str, np.ndarray]:
    """Canonical bone -> ``3, 3`` rest rotation of the bone in the world frame."""
    bones = char.armature.data.bones
    a, _ = _object_frame(char)
    return {b: a @ rotation_part(bones[n].matrix_local) for b, n in char.bone_names.items() if b in MIXAMO_PARENTS and n in bones}


def rest_skeleton(char: LoadedCharacter) -> RestSkeleton:
    """The character's T-pose in world metres for the bpy-free kinematics (a bone the rig
    lacks, e.g. fingers, sits at its parent's tail with no length)."""
    world = np.array(char.armature.matrix_world, dtype=float)
    bones = char.armature.data.bones
    heads: dict[str, np.ndarray] = {}
    tails: dict[str, np.ndarray] = {}
    for b in MIXAMO_BONES:
        name = char.bone_names.get(b)
        if name in bones:
            heads[b] = (world @ np.append(np.array(bones[name].head_local, float), 1.0))[:3]
            tails[b] = (world @ np.append(np.array(bones[name].tail_local, float), 1.0))[:3]
        else:
            heads[b] = tails[b] = tails[MIXAMO_PARENTS[b]]
    return RestSkeleton(np.array([heads[b] for b in MIXAMO_BONES]), np.array([tails[b] for b in MIXAMO_BONES]))


def hip_height(char: LoadedCharacter) -> float:
    """Hips rest height above the character's floor (lowest rest bone point), world metres."""
    return rest_skeleton(char).hip_height


def fit_to_character(char: LoadedCharacter, poses: Sequence[Pose]) -> list[Pose]:
    """Clip or sampled poses, each lifted or lowered so the character clears its floor by as
    many hip heights as the reference body does (feet stay planted on every body shape)."""
    reference, own = reference_skeleton(), rest_skeleton(char)
    return [grounded(own, p, clearance(reference, p)) for p in poses]


def local_pose(char: LoadedCharacter, pose: Pose, rest: dict[str, np.ndarray] | None = None,
               height: float | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Local quaternions (actual bone name -> w, x, y, z) and the Hips pose location for ``pose``.

    ``pose`` is in the T-pose world frame; the armature object may carry any rotation and
    uniform scale (an imported Mixamo armature before normalising has X 90 deg, 0.01).
    """
    rest = rest if rest is not None else rest_rotations(char)
    height = height if height is not None else hip_height(char)
    out = {}
    for bone, q in pose.rotations.items():
        if bone not in rest:
            continue
        r = rest[bone]
        out[char.bone_names[bone]] = rot.from_matrix(r.T @ rot.to_matrix(q) @ r)
    _, scale = _object_frame(char)
    location = rest["Hips"].T @ (np.asarray(pose.hips_offset, float) * height) / scale
    return out, location


def _interpolation_value(name: str) -> int:
    bpy = import_bpy()
    return bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[name].value


def write_poses(char: LoadedCharacter, poses: Sequence[Pose], name: str, interpolation: str = "LINEAR") -> list[int]:
    """Key ``poses`` on frames 1..N of a new action on the armature; returns the frame numbers.

    Every mapped bone gets a quaternion key on every frame (bones a pose leaves out stay at
    rest), so frames can be rendered in any order. Sets the scene's frame range to 1..N.
    """
    bpy = import_bpy()
    arm = char.armature
    rest = rest_rotations(char)
    height = hip_height(char)
    frames = np.arange(1, len(poses) + 1, dtype=float)
    quats = {char.bone_names[b]: np.tile(rot.IDENTITY, (len(poses), 1)) for b in rest}
    hips_loc = np.zeros((len(poses), 3))
    for i, pose in enumerate(poses):
        local, hips_loc[i] = local_pose(char, pose, rest, height)
        for bone, q in local.items():
            quats[bone][i] = q
    for series in quats.values():  # keep neighbouring keys in the same hemisphere
        for i in range(1, len(series)):
            if np.dot(series[i - 1], series[i]) < 0:
                series[i] = -series[i]

    for pb in arm.pose.bones:
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = (1, 0, 0, 0)
        pb.location = (0, 0, 0)
    arm.animation_data_create()
    action = bpy.data.actions.new(f"{char.name}:{name}")
    arm.animation_data.action = action
    interp = _interpolation_value(interpolation)
    channels = [(f'pose.bones["{b}"].rotation_quaternion', b, q) for b, q in quats.items()]
    channels.append((f'pose.bones["{char.bone_names["Hips"]}"].location', char.bone_names["Hips"], hips_loc))
    for path, group, values in channels:
        for index in range(values.shape[1]):
            fc = action.fcurve_ensure_for_datablock(arm, path, index=index, group_name=group)
            fc.keyframe_points.add(len(frames))
            co = np.empty(2 * len(frames))
            co[0::2], co[1::2] = frames, values[:, index]
            fc.keyframe_points.foreach_set("co", co)
            fc.keyframe_points.foreach_set("interpolation", [interp] * len(frames))
            fc.update()
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, len(poses)
    return [int(f) for f in frames]


def sample_source_poses(source: Any, names: dict[str, str], frames: Sequence[int], char: LoadedCharacter,
                        mixamo_axes: bool = True) -> list[Pose]:
    """Read an animated armature ``source`` (bones ``names``: canonical -> actual) at ``frames``
    as :class:`Pose` s for ``char``, by world-space rest alignment.

    A T-posed source is first turned about Z to face -Y. Each bone's world rotation away from its
    T-pose becomes the target bone's. The source's T-pose is its rest when its rest is a T-pose
    (skinned FBX, CMU BVH); an animation-only FBX has no bind pose (Blender makes its rest from
    some animated frame), and then the target's rest stands in for it, which is exact for
    Mixamo animations on Mixamo rigs (same joint axes). The hips go where the source's hips
    are in its world (ground at z = 0, as in Mixamo files and CMU mocap), scaled by the ratio
    of leg lengths (thigh + shin), so a longer-legged source does not lift a child off the ground.
    """
    bpy = import_bpy()
    scene = bpy.context.scene
    world = np.array(source.matrix_world)
    w3 = rotation_part(world)
    bones = source.data.bones

    def world_point(p: Any) -> np.ndarray:
        return (world @ np.append(np.array(p, float), 1.0))[:3]

    rest_heads = {b: world_point(bones[n].head_local) for b, n in names.items()}
    align = facing_alignment(rest_heads["LeftUpLeg"] - rest_heads["RightUpLeg"])
    target_rest = rest_rotations(char)
    if is_tpose({b: align @ p for b, p in rest_heads.items()}):
        reference = {b: align @ w3 @ rotation_part(bones[n].matrix_local) for b, n in names.items() if b in MIXAMO_PARENTS}
    elif not mixamo_axes:
        raise CharacterImportError(
            f"the motion's skeleton {source.name!r} is not in a T-pose at rest (its upper arms must point "
            "sideways and its legs down), so its rotations cannot be aligned; export the BVH with a T-pose rest "
            "(CMU mocap has one)"
        )
    else:
        # A posed rest says nothing about facing: Mixamo's FBX axes already face -Y.
        align = np.eye(3)
        reference = {b: r for b, r in target_rest.items() if b in names}
    target_world = np.array(char.armature.matrix_world, dtype=float)
    target_bones = char.armature.data.bones

    def target_point(bone: str) -> np.ndarray:
        return (target_world @ np.append(np.array(target_bones[char.bone_names[bone]].head_local, float), 1.0))[:3]

    def leg_length(point: Callable[[str], np.ndarray]) -> float:
        return sum(float(np.linalg.norm(point(f"{s}{b}") - point(f"{s}{a}")))
                   for s in ("Left", "Right") for a, b in (("UpLeg", "Leg"), ("Leg", "Foot"))) / 2

    scale = leg_length(target_point) / leg_length(rest_heads.__getitem__)
    target_hips = target_point("Hips")
    height = hip_height(char)
    poses = []
    for f in frames:
        scene.frame_set(int(f))
        hips = align @ world_point(source.pose.bones[names["Hips"]].head)
        g: dict[str, np.ndarray] = {}
        rotations = {}
        for bone in MIXAMO_BONES:
            parent = MIXAMO_PARENTS[bone]
            parent_g = np.eye(3) if parent is None else g[parent]
            if bone not in reference:
                g[bone] = parent_g
                continue
            posed = align @ w3 @ rotation_part(source.pose.bones[names[bone]].matrix)
            g[bone] = posed @ reference[bone].T
            rotations[bone] = rot.from_matrix(parent_g.T @ g[bone])
        poses.append(Pose(rotations, (hips * scale - target_hips) / height))
    return poses


def apply_motion(char: LoadedCharacter, motion: "MotionSpec", rng: np.random.Generator) -> list[int]:
    """Animate ``char`` with ``motion``; returns the frame numbers that hold the motion (1..N).

    Clips are baked frame by frame; ``random_poses`` puts ``motion.count`` poses drawn with
    ``rng`` on consecutive frames (held, not blended); FBX and BVH files are retargeted, keeping
    every ``motion.frame_step``-th source frame. Each kind is a module of
    ``renderers.motions.sources``.
    """
    return MOTION_SOURCES.get(motion.kind)().apply(char, motion, rng)
