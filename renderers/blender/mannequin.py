"""A wooden-mannequin character on the Mixamo skeleton (bpy, worker only).

One box per body bone, rigidly skinned to it, on the reference T-pose (MakeHuman's default body,
``data/motions/reference_tpose.json``) with Mixamo-style rolls, scaled by ``scale``. Used by the
tests, the FBX round trip, and clip previews when a bundled character would be overkill.
"""

from __future__ import annotations

import numpy as np

from renderers.blender import import_bpy
from renderers.motions.kinematics import REFERENCE_TPOSE
from renderers.rigging import LoadedCharacter
from rig2sketch.skeleton import MIXAMO_BONES, MIXAMO_PARENTS, MIXAMO_PREFIX

# Box half-widths (metres on the reference body) of the bones that get a box.
_BOX_HALF_WIDTH = {
    "Hips": 0.13, "Spine": 0.12, "Spine1": 0.13, "Spine2": 0.15, "Neck": 0.05, "Head": 0.09,
    "LeftArm": 0.05, "LeftForeArm": 0.04, "LeftHand": 0.035, "LeftUpLeg": 0.07, "LeftLeg": 0.05,
    "LeftFoot": 0.04, "LeftToeBase": 0.035,
}
_BOX_HALF_WIDTH |= {"Right" + k[4:]: v for k, v in _BOX_HALF_WIDTH.items() if k.startswith("Left")}


def build_mannequin(name: str = "mannequin", scale: float = 1.0, prefix: str = MIXAMO_PREFIX,
                    roll_offset_rad: float = 0.0) -> LoadedCharacter:
    """Add a mannequin ``scale`` times the reference size to the current scene.

    ``roll_offset_rad`` is added to every bone's roll (rigs whose local axes differ from
    Mixamo's; motions must not care).
    Bone names are ``prefix + canonical`` (``mixamorig:Hips``); the head gets a ``HeadTop_End``
    leaf bone like Mixamo exports. Z up, metres, facing -Y, left = +X, identity object transforms.
    """
    import json

    bpy = import_bpy()
    bones = json.loads(REFERENCE_TPOSE.read_text())["bones"]
    arm_data = bpy.data.armatures.new(f"{name}_armature")
    arm = bpy.data.objects.new(f"{name}_armature", arm_data)
    bpy.context.scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    for bone in MIXAMO_BONES:
        eb = arm_data.edit_bones.new(prefix + bone)
        eb.head = np.multiply(bones[bone]["head"], scale).tolist()
        eb.tail = np.multiply(bones[bone]["tail"], scale).tolist()
        eb.roll = bones[bone]["roll"] + roll_offset_rad
        parent = MIXAMO_PARENTS[bone]
        if parent is not None:
            eb.parent = arm_data.edit_bones[prefix + parent]
    head = arm_data.edit_bones[prefix + "Head"]
    top = arm_data.edit_bones.new(prefix + "HeadTop_End")
    top.head = head.tail
    top.tail = head.tail + (head.tail - head.head) * 0.2
    top.parent = head
    top.use_connect = True
    bpy.ops.object.mode_set(mode="OBJECT")

    verts, faces, groups = [], [], []
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (0, 1) for z in (-1, 1)], float)
    box_faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    for bone, half in _BOX_HALF_WIDTH.items():
        b = arm_data.bones[prefix + bone]
        m = np.array(b.matrix_local)
        length = b.length
        local = corners * [half * scale, length, half * scale]
        world = local @ m[:3, :3].T + m[:3, 3]
        base = len(verts)
        verts.extend(world.tolist())
        faces.extend(tuple(base + i for i in f) for f in box_faces)
        groups.append((prefix + bone, list(range(base, base + 8))))
    mesh_data = bpy.data.meshes.new(f"{name}_body")
    mesh_data.from_pydata(verts, [], faces)
    mesh = bpy.data.objects.new(f"{name}_body", mesh_data)
    bpy.context.scene.collection.objects.link(mesh)
    for group, indices in groups:
        mesh.vertex_groups.new(name=group).add(indices, 1.0, "REPLACE")
    mesh.parent = arm
    mod = mesh.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    names = {b: prefix + b for b in MIXAMO_BONES} | {"HeadTop_End": prefix + "HeadTop_End"}
    return LoadedCharacter(name=name, armature=arm, meshes=[mesh], bone_names=names, face_regressor=None,
                           source="mannequin", licence="CC0-1.0")
