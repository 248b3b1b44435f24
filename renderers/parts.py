"""Body-part segmentation: a part id per face from the skinning weights, rendered as an AOV.

Part ids (``PARTS``, 0 = background) group the Mixamo bones: head, torso, and per side upper
arm, forearm, hand (fingers included), thigh, shin, foot (toes included). A face's part is
that of its first vertex's strongest bone; garments and hair follow the bones they are skinned
to. In the worker, :func:`setup_part_aov` writes the ids as an integer face attribute and makes
every material emit it to an AOV named ``part``, read back as the ``part`` pass.
"""

from __future__ import annotations

from typing import Any

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


def _mesh_weights(obj: Any, canonical: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    groups = list(obj.vertex_groups)
    weights = np.zeros((len(obj.data.vertices), len(groups)), dtype=np.float32)
    for vertex in obj.data.vertices:
        for element in vertex.groups:
            weights[vertex.index, element.group] = element.weight
    parts = np.array([part_of_bone(canonical.get(g.name, "Hips")) for g in groups], dtype=np.int64)
    return weights, parts


def setup_part_aov(bpy: Any, scene: Any, character: Any) -> None:
    """Write per-face part ids on the character's meshes and route them to the ``part`` AOV."""
    canonical = {actual: name for name, actual in character.bone_names.items()}
    view_layer = scene.view_layers[0]
    if AOV not in [a.name for a in view_layer.aovs]:
        aov = view_layer.aovs.add()
        aov.name, aov.type = AOV, "VALUE"
    fallback = None
    for obj in character.meshes:
        mesh = obj.data
        weights, parts = _mesh_weights(obj, canonical)
        starts = np.empty(len(mesh.polygons), dtype=np.int64)
        mesh.polygons.foreach_get("loop_start", starts)
        loops = np.empty(len(mesh.loops), dtype=np.int64)
        mesh.loops.foreach_get("vertex_index", loops)
        ids = face_parts(weights, parts, starts, loops)
        if ATTRIBUTE in mesh.attributes:
            mesh.attributes.remove(mesh.attributes[ATTRIBUTE])
        mesh.attributes.new(ATTRIBUTE, "INT", "FACE").data.foreach_set("value", ids.tolist())
        if not mesh.materials:
            fallback = fallback or bpy.data.materials.new("rig2sketch_plain")
            mesh.materials.append(fallback)
    done = set()
    for obj in character.meshes:
        for material in obj.data.materials:
            if material is None or material.name in done:
                continue
            done.add(material.name)
            tree = material.node_tree
            attribute = tree.nodes.new("ShaderNodeAttribute")
            attribute.attribute_type, attribute.attribute_name = "GEOMETRY", ATTRIBUTE
            output = tree.nodes.new("ShaderNodeOutputAOV")
            output.aov_name = AOV
            tree.links.new(attribute.outputs["Fac"], output.inputs["Value"])
