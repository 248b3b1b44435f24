"""Build a bundled character in the current Blender scene (render workers only).

:func:`build_bundled_character` makes, from a catalogue entry:
- an armature object named after the character with the 52 Mixamo bones (``mixamorig:Hips``...,
  parents from the rig file), heads/tails fitted to the shaped body, rest pose = T-pose;
- the body mesh (13,380 vertices, base-mesh UVs in the ``UVMap`` layer), then one mesh per
  garment/hair shell, then the eyeballs (``<name>.eyes``), each parented to the armature with an Armature modifier and one vertex
  group per bone (weights normalised to sum 1 for every vertex);
- one Principled BSDF material per mesh, named ``rig2sketch.<part>`` (``skin``, ``top``,
  ``bottom``, ``hair``, ``eyes``), base colour set from the catalogue. A stylizer that wants a texture
  plugs an Image Texture (UV map ``UVMap``) into the ``Principled BSDF`` node's Base Color.

Rest pose and bone axes. Metres, Z up, the character faces -Y, its left is +X, feet on z = 0,
arms horizontal (T-pose), palms down. Every bone's local +Y points from its head to its tail
(Blender's convention, as in Mixamo rigs); rolls come from MPFB2's ``rig.mixamo.json`` (made
for a T-pose), except feet and toes, whose rolls in that file disagree between the two sides
and are set so local Z points up. Rest-pose bone axes in world terms (columns of
``bone.matrix_local``, to within 20 degrees; ``tests/test_characters.py`` checks them):

    bone                          local X      local Y (along)   local Z
    Hips, Spine*, Neck, Head      +X (left)    +Z (up)           -Y (forward)
    LeftArm, LeftForeArm, Hand    +Y (back)    +X                -Z (down)
    RightArm, RightForeArm, Hand  -Y (front)   -X                -Z (down)
    Left/RightUpLeg, Leg          -X           -Z (down)         -Y (forward)
    Left/RightFoot, ToeBase       -X           -Y (forward)      +Z (up)

Motion clips (``renderers.motions``) are written as rotations in the T-pose armature frame
and converted per bone with ``local = R^-1 W R``, so they do not depend on this table; it is
here for anyone keying bones directly (``pose.bones[...].rotation_quaternion``, QUATERNION mode).
"""

from __future__ import annotations

import numpy as np

from renderers.blender import import_bpy
from renderers.characters.body import Body, build_body
from renderers.characters.catalogue import character_design
from renderers.characters.garments import GARMENTS, GarmentMesh, eyes_mesh, garment_mesh
from renderers.rigging import LoadedCharacter
from rig2sketch.skeleton import MIXAMO_BONES, MIXAMO_PREFIX


def _material(bpy, part: str, rgb: tuple[float, float, float]):
    mat = bpy.data.materials.new(f"rig2sketch.{part}")  # Blender 5 materials come with nodes
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.7
    mat.diffuse_color = (*rgb, 1.0)  # what Workbench shows in MATERIAL colour mode
    return mat


def _skinned_mesh(bpy, name: str, armature, vertices, faces, face_uvs, weights, material):
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(vertices.tolist(), [], faces.tolist())
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", face_uvs.astype(np.float32).ravel())
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    mesh.materials.append(material)
    mesh.validate(clean_customdata=False)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent = armature
    weights = weights / weights.sum(1, keepdims=True).clip(1e-12)
    for j, bone in enumerate(MIXAMO_BONES):
        group = obj.vertex_groups.new(name=MIXAMO_PREFIX + bone)
        for i in np.flatnonzero(weights[:, j] > 1e-6):
            group.add([int(i)], float(weights[i, j]), "REPLACE")
    modifier = obj.modifiers.new("Armature", "ARMATURE")
    modifier.object = armature
    modifier.use_vertex_groups = True
    return obj


def _armature(bpy, name: str, body: Body):
    data = bpy.data.armatures.new(f"{name}_armature")
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    bones = []
    for j, bone in enumerate(MIXAMO_BONES):
        edit = data.edit_bones.new(MIXAMO_PREFIX + bone)
        edit.head = body.heads[j].tolist()
        edit.tail = body.tails[j].tolist()
        edit.roll = float(body.rolls[j])
        if bone.endswith(("Foot", "ToeBase")):
            # rig.mixamo.json's foot/toe rolls disagree between sides (left toe Z down, right
            # toe Z up); use one rule for both: local Z up, so local X = -X like the legs.
            edit.align_roll((0.0, 0.0, 1.0))
        if body.parents[j] >= 0:
            edit.parent = bones[body.parents[j]]
        bones.append(edit)
    bpy.ops.object.mode_set(mode="OBJECT")
    for pose_bone in obj.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    return obj


def build_bundled_character(name: str) -> LoadedCharacter:
    """Add catalogue character ``name`` to the current scene (call after ``reset_blender()``).

    Returns the :class:`LoadedCharacter` (armature, meshes body first, ``face_regressor``
    ``5, 13380`` over the body mesh's vertices). Takes about 0.3 s, plus about 4 s for the
    first character in a process (reading the MakeHuman data).
    """
    design = character_design(name)
    bpy = import_bpy()
    body = build_body(design.shape)
    armature = _armature(bpy, name, body)
    meshes = [
        _skinned_mesh(bpy, f"{name}.body", armature, body.vertices, body.faces, body.face_uvs,
                      body.weights, _material(bpy, "skin", design.skin_rgb))
    ]
    colours = design.colours or tuple((0.5, 0.5, 0.5) for _ in design.garments)
    for kind, rgb in zip(design.garments, colours):
        garment: GarmentMesh = garment_mesh(body, kind)
        slot = GARMENTS[kind][1]
        meshes.append(
            _skinned_mesh(bpy, f"{name}.{kind}", armature, garment.vertices, garment.faces,
                          garment.face_uvs, garment.weights, _material(bpy, slot, rgb))
        )
    eyes = eyes_mesh(body)
    meshes.append(_skinned_mesh(bpy, f"{name}.eyes", armature, eyes.vertices, eyes.faces, eyes.face_uvs,
                                eyes.weights, _material(bpy, "eyes", (0.85, 0.85, 0.82))))
    return LoadedCharacter(
        name=name,
        armature=armature,
        meshes=meshes,
        bone_names={bone: MIXAMO_PREFIX + bone for bone in MIXAMO_BONES},
        face_regressor=body.face_regressor.astype(np.float64),
        source="bundled",
        licence="CC0-1.0",
        extras={"height_m": body.height_m, "description": design.description,
                "garments": design.garments},
    )
