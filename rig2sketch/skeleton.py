"""Keypoint and joint definitions: the one place that names every point rig2sketch labels.

Conventions (used by every stage and stored in each shard's metadata):
- COCO-17 keypoints in COCO order. "left" is the *character's* left, as in COCO: seen from
  the front, the character's left side is on the image's right.
- Joints: the 52 bones of the Mixamo skeleton (names without the ``mixamorig:`` prefix),
  followed by ``HeadTop_End``. A joint's position is its bone's head; ``HeadTop_End`` is
  the head bone's tail (or the imported leaf bone of that name).
- Keypoint rows are ``K, 3`` arrays ``(x, y, v)``: pixel coordinates with the origin at the
  top-left corner of the top-left pixel (pixel centres at +0.5), x right, y down;
  v = 0 not in the image, 1 in the image but occluded, 2 visible.
"""

from __future__ import annotations

import numpy as np

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

# 0-based index pairs; COCO's JSON uses the same edges 1-based (see coco_skeleton_1based).
COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)

# Per-keypoint OKS sigmas from the COCO keypoint evaluation (pycocotools' defaults).
COCO_SIGMAS: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)


def flip_pairs(names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Index pairs (i, j) whose names differ only by left/right (``left_``/``Left`` prefixes)."""
    index = {n: i for i, n in enumerate(names)}
    pairs = []
    for i, n in enumerate(names):
        for a, b in (("left_", "right_"), ("Left", "Right")):
            if n.startswith(a) and b + n[len(a):] in index:
                pairs.append((i, index[b + n[len(a):]]))
    return tuple(pairs)


COCO_FLIP_PAIRS = flip_pairs(COCO_KEYPOINTS)

MIXAMO_PREFIX = "mixamorig:"

# The 52 bones of a Mixamo humanoid, parents before children.
MIXAMO_BONES: tuple[str, ...] = (
    "Hips", "Spine", "Spine1", "Spine2", "Neck", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
    "LeftHandThumb1", "LeftHandThumb2", "LeftHandThumb3",
    "LeftHandIndex1", "LeftHandIndex2", "LeftHandIndex3",
    "LeftHandMiddle1", "LeftHandMiddle2", "LeftHandMiddle3",
    "LeftHandRing1", "LeftHandRing2", "LeftHandRing3",
    "LeftHandPinky1", "LeftHandPinky2", "LeftHandPinky3",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand",
    "RightHandThumb1", "RightHandThumb2", "RightHandThumb3",
    "RightHandIndex1", "RightHandIndex2", "RightHandIndex3",
    "RightHandMiddle1", "RightHandMiddle2", "RightHandMiddle3",
    "RightHandRing1", "RightHandRing2", "RightHandRing3",
    "RightHandPinky1", "RightHandPinky2", "RightHandPinky3",
    "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase",
    "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase",
)

MIXAMO_PARENTS: dict[str, str | None] = {
    "Hips": None, "Spine": "Hips", "Spine1": "Spine", "Spine2": "Spine1",
    "Neck": "Spine2", "Head": "Neck",
    **{f"{s}Shoulder": "Spine2" for s in ("Left", "Right")},
    **{f"{s}Arm": f"{s}Shoulder" for s in ("Left", "Right")},
    **{f"{s}ForeArm": f"{s}Arm" for s in ("Left", "Right")},
    **{f"{s}Hand": f"{s}ForeArm" for s in ("Left", "Right")},
    **{
        f"{s}Hand{f}{i}": (f"{s}Hand" if i == 1 else f"{s}Hand{f}{i - 1}")
        for s in ("Left", "Right")
        for f in ("Thumb", "Index", "Middle", "Ring", "Pinky")
        for i in (1, 2, 3)
    },
    **{f"{s}UpLeg": "Hips" for s in ("Left", "Right")},
    **{f"{s}Leg": f"{s}UpLeg" for s in ("Left", "Right")},
    **{f"{s}Foot": f"{s}Leg" for s in ("Left", "Right")},
    **{f"{s}ToeBase": f"{s}Foot" for s in ("Left", "Right")},
}

JOINTS: tuple[str, ...] = MIXAMO_BONES + ("HeadTop_End",)

JOINT_EDGES: tuple[tuple[int, int], ...] = tuple(
    (JOINTS.index(p), JOINTS.index(c)) for c, p in MIXAMO_PARENTS.items() if p is not None
) + ((JOINTS.index("Head"), JOINTS.index("HeadTop_End")),)

JOINT_FLIP_PAIRS = flip_pairs(JOINTS)

# COCO body keypoints are bone heads of the Mixamo skeleton. Face points (nose, eyes, ears)
# come from the mesh (bundled characters) or from head bones (imported ones): see renderers.
COCO_FROM_BONE_HEAD: dict[str, str] = {
    "left_shoulder": "LeftArm",
    "right_shoulder": "RightArm",
    "left_elbow": "LeftForeArm",
    "right_elbow": "RightForeArm",
    "left_wrist": "LeftHand",
    "right_wrist": "RightHand",
    "left_hip": "LeftUpLeg",
    "right_hip": "RightUpLeg",
    "left_knee": "LeftLeg",
    "right_knee": "RightLeg",
    "left_ankle": "LeftFoot",
    "right_ankle": "RightFoot",
}

COCO_FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")

# COCO-WholeBody hands: 21 points per hand, the wrist then four per finger from the palm out
# (thumb: CMC, MCP, IP, tip; other fingers: MCP, PIP, DIP, tip). A Mixamo rig has three bones per
# finger, so points 1-3 of a finger are the heads of Finger1..3 and the fingertip (4) is absent.
WHOLEBODY_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Pinky")
WHOLEBODY_HAND: tuple[str | None, ...] = ("Hand",) + tuple(
    name for finger in WHOLEBODY_FINGERS for name in (f"Hand{finger}1", f"Hand{finger}2", f"Hand{finger}3", None))


def hand_keypoints(joints: np.ndarray, side: str) -> np.ndarray:
    """COCO-WholeBody ``21, 3`` (x, y, v) of the character's ``side`` ("left" or "right") hand from the
    ``53, 3`` projected ``JOINTS``; points the rig has no bone for (fingertips) are ``0, 0, 0``."""
    if side not in ("left", "right"):
        raise ValueError(f"side={side!r}: choose left or right (the character's own side)")
    joints = np.asarray(joints, np.float32).reshape(len(JOINTS), 3)
    out = np.zeros((len(WHOLEBODY_HAND), 3), np.float32)
    prefix = side.capitalize()
    for i, bone in enumerate(WHOLEBODY_HAND):
        if bone is not None:
            out[i] = joints[JOINTS.index(prefix + bone)]
    out[out[:, 2] == 0] = 0.0  # not in the image: no coordinates either (COCO)
    return out
