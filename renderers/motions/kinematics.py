"""Forward kinematics of a T-pose Mixamo skeleton under a :class:`Pose` (numpy, no bpy).

Used to check clips and sampled poses without Blender (ground contact, limbs through the
torso, stick-figure previews); the worker applies the same rotations to real armatures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from renderers.motions import rotations as rot
from renderers.motions.pose import Pose
from rig2sketch.paths import DATA_DIR
from rig2sketch.skeleton import JOINTS, MIXAMO_BONES, MIXAMO_PARENTS

REFERENCE_TPOSE = DATA_DIR / "motions" / "reference_tpose.json"


@dataclass(frozen=True)
class RestSkeleton:
    """T-pose bone heads and tails, ``52, 3`` each in MIXAMO_BONES order (metres, Z up, -Y facing)."""

    heads: np.ndarray
    tails: np.ndarray

    @property
    def floor(self) -> float:
        """Lowest z of the rest bones (the toe tips' bone points, just above the soles)."""
        return float(min(self.tails[:, 2].min(), self.heads[:, 2].min()))

    @property
    def hip_height(self) -> float:
        """Hips head height above :attr:`floor`; hips offsets are in this unit."""
        return float(self.heads[0, 2] - self.floor)


@lru_cache(maxsize=1)
def reference_skeleton() -> RestSkeleton:
    """The MakeHuman default body's T-pose on the Mixamo skeleton (data/motions/reference_tpose.json)."""
    bones = json.loads(REFERENCE_TPOSE.read_text())["bones"]
    heads = np.array([bones[b]["head"] for b in MIXAMO_BONES], float)
    tails = np.array([bones[b]["tail"] for b in MIXAMO_BONES], float)
    return RestSkeleton(heads, tails)


def global_rotations(pose: Pose) -> dict[str, np.ndarray]:
    """Bone -> ``3, 3`` rotation of the bone in the armature frame relative to its T-pose."""
    out: dict[str, np.ndarray] = {}
    for bone in MIXAMO_BONES:
        own = rot.to_matrix(pose.rotations.get(bone, rot.IDENTITY))
        parent = MIXAMO_PARENTS[bone]
        out[bone] = own if parent is None else out[parent] @ own
    return out


def forward_kinematics(rest: RestSkeleton, pose: Pose, g: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Posed joints ``53, 3`` in JOINTS order (bone heads, then HeadTop_End = Head's tail)."""
    index = {b: i for i, b in enumerate(MIXAMO_BONES)}
    g = g if g is not None else global_rotations(pose)
    heads = np.zeros_like(rest.heads)
    for i, bone in enumerate(MIXAMO_BONES):
        parent = MIXAMO_PARENTS[bone]
        if parent is None:
            heads[i] = rest.heads[i] + pose.hips_offset * rest.hip_height
        else:
            p = index[parent]
            heads[i] = heads[p] + g[parent] @ (rest.heads[i] - rest.heads[p])
    h = index["Head"]
    head_top = heads[h] + g["Head"] @ (rest.tails[h] - rest.heads[h])
    joints = np.vstack([heads, head_top])
    assert joints.shape == (len(JOINTS), 3)
    return joints


def bone_tails(rest: RestSkeleton, pose: Pose, joints: np.ndarray, g: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Posed bone tails ``52, 3`` given the posed heads from :func:`forward_kinematics`."""
    g = g if g is not None else global_rotations(pose)
    stacked = np.stack([g[b] for b in MIXAMO_BONES])
    return joints[: len(MIXAMO_BONES)] + np.einsum("bij,bj->bi", stacked, rest.tails - rest.heads)


def lowest_point(rest: RestSkeleton, pose: Pose) -> float:
    """Lowest z of the posed joints and bone tails (toe tips), in metres."""
    g = global_rotations(pose)
    joints = forward_kinematics(rest, pose, g)
    return float(min(joints[:, 2].min(), bone_tails(rest, pose, joints, g)[:, 2].min()))


def clearance(rest: RestSkeleton, pose: Pose) -> float:
    """How far the posed skeleton's lowest point is above its rest floor, in hip heights."""
    return (lowest_point(rest, pose) - rest.floor) / rest.hip_height


def grounded(rest: RestSkeleton, pose: Pose, target_clearance: float = 0.0) -> Pose:
    """``pose`` with the hips moved vertically so its :func:`clearance` on ``rest`` is ``target_clearance``."""
    shift = target_clearance - clearance(rest, pose)
    return Pose(pose.rotations, np.asarray(pose.hips_offset, float) + np.array([0.0, 0.0, shift]))
