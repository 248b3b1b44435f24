"""Body-part segmentation: a part id per face from the skinning weights, rendered as an AOV.

Part ids (``PARTS``, 0 = background) group the Mixamo bones: head, torso, and per side upper
arm, forearm, hand (fingers included), thigh, shin, foot (toes included). A face's part is
that of its first vertex's strongest bone; garments and hair follow the bones they are skinned
to. In the worker, ``renderers.blender.parts.setup_part_aov`` writes the ids as an integer face attribute and makes
every material emit it to an AOV named ``part``, read back as the ``part`` pass.
"""

from __future__ import annotations

import numpy as np

PARTS: tuple[str, ...] = (
    "background", "head", "torso",
    "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm", "left_hand", "right_hand",
    "left_thigh", "right_thigh", "left_shin", "right_shin", "left_foot", "right_foot",
)
ATTRIBUTE = "rig2sketch_part"
AOV = "part"


def part_of_bone(bone: str) -> int:
    """Part id of a canonical Mixamo bone name (``LeftForeArm`` -> left_forearm)."""
    side = "left" if bone.startswith("Left") else "right" if bone.startswith("Right") else ""
    rest = bone[len(side):] if side else bone
    if bone in ("Head", "Neck", "HeadTop_End") or bone.endswith(("Eye", "HeadTop_End")):
        return PARTS.index("head")
    table = {"Arm": "upper_arm", "ForeArm": "forearm", "Hand": "hand", "UpLeg": "thigh", "Leg": "shin",
             "Foot": "foot", "ToeBase": "foot"}
    if side:
        if rest.startswith("Hand"):
            return PARTS.index(f"{side}_hand")
        if rest in table:
            return PARTS.index(f"{side}_{table[rest]}")
    return PARTS.index("torso")


def face_parts(weights: np.ndarray, group_parts: np.ndarray, loop_starts: np.ndarray,
               loop_vertices: np.ndarray) -> np.ndarray:
    """``F`` int part ids from ``V, G`` vertex weights, ``G`` part id per group, and the faces'
    first loop's vertex. Vertices with no weight fall back to torso."""
    torso = PARTS.index("torso")
    vertex_part = np.full(len(weights), torso, dtype=np.int64)
    if weights.shape[1]:
        weighted = weights.max(axis=1) > 0
        vertex_part[weighted] = group_parts[np.argmax(weights[weighted], axis=1)]
    return vertex_part[loop_vertices[loop_starts]].astype(np.int32)
