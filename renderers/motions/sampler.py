"""Random poses inside per-joint rotation limits (numpy only, no bpy).

Each limited bone gets world-axis steps (conventions: ``renderers.motions.clip``) whose angles
are drawn uniformly inside ``JOINT_LIMITS``. Hinges have one axis: the elbow bends forward
only (LeftForeArm z in [-145, 0] after its twist), the knee backwards only (x in [0, 140]).
A pose whose knees, ankles or toes end up inside the torso (a capsule from the hips to the
neck) is drawn again; each pose is lowered or raised so its lowest point is on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.motions import rotations as rot
from renderers.motions.pose import Pose
from renderers.motions.kinematics import RestSkeleton, forward_kinematics, grounded, reference_skeleton
from rig2sketch.skeleton import JOINTS

Limits = tuple[tuple[str, float, float], ...]

# Left side and trunk, degrees; steps are applied in the order written.
_LEFT_AND_TRUNK: dict[str, Limits] = {
    "Hips": (("z", -60, 60), ("y", -15, 15), ("x", -15, 40)),
    "Spine": (("z", -15, 15), ("y", -10, 10), ("x", -10, 25)),
    "Spine1": (("z", -15, 15), ("y", -10, 10), ("x", -10, 25)),
    "Spine2": (("z", -10, 10), ("y", -8, 8), ("x", -10, 20)),
    "Neck": (("z", -30, 30), ("y", -15, 15), ("x", -20, 30)),
    "Head": (("z", -40, 40), ("y", -15, 15), ("x", -25, 25)),
    "LeftShoulder": (("y", -20, 8), ("z", -15, 15)),
    "LeftArm": (("x", -60, 60), ("y", -80, 85), ("z", -100, 35)),
    "LeftForeArm": (("x", -60, 60), ("z", -145, 0)),
    "LeftHand": (("y", -60, 70), ("z", -25, 35)),
    **{f"LeftHand{f}{i}": (("y", 0, 90),) for f in ("Index", "Middle", "Ring", "Pinky") for i in (1, 2, 3)},
    **{f"LeftHandThumb{i}": (("z", -40, 10),) for i in (1, 2, 3)},
    "LeftUpLeg": (("z", -40, 40), ("y", -45, 15), ("x", -110, 30)),
    "LeftLeg": (("x", 0, 140),),
    "LeftFoot": (("x", -25, 40),),
    "LeftToeBase": (("x", -30, 30),),
}


def _mirror_limits(limits: Limits) -> Limits:
    return tuple((a, lo, hi) if a == "x" else (a, -hi, -lo) for a, lo, hi in limits)


JOINT_LIMITS: dict[str, Limits] = dict(_LEFT_AND_TRUNK) | {
    "Right" + bone[4:]: _mirror_limits(lim) for bone, lim in _LEFT_AND_TRUNK.items() if bone.startswith("Left")
}

# Knees, ankles and toes must stay this far from the hips-neck axis (metres on the reference
# body, scaled by hip height).
TORSO_RADIUS_M = 0.12
_LEG_POINTS = tuple(JOINTS.index(b) for b in ("LeftLeg", "LeftFoot", "LeftToeBase", "RightLeg", "RightFoot", "RightToeBase"))


@dataclass(frozen=True)
class SampledPose:
    """A random pose and the angles it was drawn with (bone -> degrees per step of its limits)."""

    pose: Pose
    angles: dict[str, tuple[float, ...]]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0)
    return float(np.linalg.norm(p - (a + t * (b - a))))


def legs_through_torso(joints: np.ndarray, rest: RestSkeleton) -> bool:
    """True if a knee, ankle or toe of ``joints`` (``53, 3``) is inside the torso capsule."""
    radius = TORSO_RADIUS_M * rest.hip_height / reference_skeleton().hip_height
    hips, neck = joints[JOINTS.index("Spine")], joints[JOINTS.index("Neck")]
    return any(_segment_distance(joints[i], hips, neck) < radius for i in _LEG_POINTS)


def random_poses(count: int, rng: np.random.Generator, rest: RestSkeleton | None = None, max_tries: int = 100) -> list[SampledPose]:
    """``count`` poses with every limited joint inside ``JOINT_LIMITS``, on the ground.

    ``rest`` is the skeleton used for the torso and ground checks (the reference body if None).
    """
    if count < 1:
        raise ValueError(f"random_poses count must be >= 1, got {count}")
    rest = rest or reference_skeleton()
    out: list[SampledPose] = []
    while len(out) < count:
        for _ in range(max_tries):
            angles = {bone: tuple(float(rng.uniform(lo, hi)) for _, lo, hi in lim) for bone, lim in JOINT_LIMITS.items()}
            rotations = {
                bone: rot.from_sequence(tuple((a, v) for (a, _, _), v in zip(JOINT_LIMITS[bone], vals)))
                for bone, vals in angles.items()
            }
            pose = grounded(rest, Pose(rotations))
            joints = forward_kinematics(rest, pose)
            if not legs_through_torso(joints, rest):
                break
        else:
            raise RuntimeError(f"no pose without legs through the torso in {max_tries} draws; loosen JOINT_LIMITS")
        out.append(SampledPose(pose, angles))
    return out


__all__ = ["JOINT_LIMITS", "SampledPose", "legs_through_torso", "random_poses"]
