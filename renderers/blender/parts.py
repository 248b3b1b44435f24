"""Body-part ids on the character's meshes, routed to the ``part`` AOV (bpy, worker only; the
part table and the per-face maths are ``renderers.parts``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.parts import AOV, ATTRIBUTE, face_parts, part_of_bone


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
