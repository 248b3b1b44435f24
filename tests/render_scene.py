"""A constructed test figure for the render tests: capsule-ish cylinders skinned rigidly to a
Mixamo-named armature (Z up, metres, facing -Y, the character's left on +X), with a 21-frame
arm-swing action. Usable as a ``RenderJob.scene`` loader: ``tests.render_scene:mannequin_scene``.

Its keypoint function reads bone heads (COCO body points) and fixed offsets rigidly attached to
the head bone (face points), so labels are known exactly.
"""

from __future__ import annotations

import numpy as np

from rig2sketch.skeleton import COCO_FROM_BONE_HEAD, COCO_KEYPOINTS, JOINTS
from renderers.rigging import LoadedCharacter

# bone: (head, tail) in metres
BONES = {
    "Hips": ((0, 0, 1.0), (0, 0, 1.1)),
    "Spine": ((0, 0, 1.1), (0, 0, 1.2)),
    "Spine1": ((0, 0, 1.2), (0, 0, 1.3)),
    "Spine2": ((0, 0, 1.3), (0, 0, 1.45)),
    "Neck": ((0, 0, 1.45), (0, 0, 1.55)),
    "Head": ((0, 0, 1.55), (0, 0, 1.78)),
}
for side, s in (("Left", 1.0), ("Right", -1.0)):
    BONES.update({
        f"{side}Shoulder": ((0.05 * s, 0, 1.42), (0.18 * s, 0, 1.42)),
        f"{side}Arm": ((0.18 * s, 0, 1.42), (0.18 * s, 0, 1.15)),
        f"{side}ForeArm": ((0.18 * s, 0, 1.15), (0.18 * s, 0, 0.9)),
        f"{side}Hand": ((0.18 * s, 0, 0.9), (0.18 * s, 0, 0.8)),
        f"{side}UpLeg": ((0.1 * s, 0, 0.95), (0.1 * s, 0, 0.52)),
        f"{side}Leg": ((0.1 * s, 0, 0.52), (0.1 * s, 0, 0.1)),
        f"{side}Foot": ((0.1 * s, 0, 0.1), (0.1 * s, -0.12, 0.03)),
        f"{side}ToeBase": ((0.1 * s, -0.12, 0.03), (0.1 * s, -0.2, 0.03)),
    })

# (bone, p0, p1, radius): cylinders, each extended past both ends so joints lie inside.
PARTS = [("Spine", (0, 0, 0.92), (0, 0, 1.47), 0.15), ("Head", (0, 0, 1.5), (0, 0, 1.78), 0.1)]
for side, s in (("Left", 1.0), ("Right", -1.0)):
    PARTS += [
        (f"{side}Arm", (0.18 * s, 0, 1.42), (0.18 * s, 0, 1.15), 0.05),
        (f"{side}ForeArm", (0.18 * s, 0, 1.15), (0.18 * s, 0, 0.9), 0.045),
        (f"{side}Hand", (0.18 * s, 0, 0.9), (0.18 * s, 0, 0.78), 0.04),
        (f"{side}UpLeg", (0.1 * s, 0, 0.95), (0.1 * s, 0, 0.52), 0.07),
        (f"{side}Leg", (0.1 * s, 0, 0.52), (0.1 * s, 0, 0.1), 0.055),
        (f"{side}Foot", (0.1 * s, 0.03, 0.05), (0.1 * s, -0.2, 0.05), 0.04),
    ]

# Face points in the rest pose, carried rigidly by the Head bone.
FACE_REST = {
    "nose": (0, -0.1, 1.64),
    "left_eye": (0.035, -0.09, 1.67),
    "right_eye": (-0.035, -0.09, 1.67),
    "left_ear": (0.1, 0, 1.65),
    "right_ear": (-0.1, 0, 1.65),
}
EXTEND_M = 0.04
SIDES = 12


def cylinder(p0, p1, radius: float) -> tuple[np.ndarray, list[list[int]]]:
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = (p1 - p0) / np.linalg.norm(p1 - p0)
    p0, p1 = p0 - EXTEND_M * axis, p1 + EXTEND_M * axis
    helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    w = np.cross(axis, u)
    angles = np.linspace(0, 2 * np.pi, SIDES, endpoint=False)
    ring = radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * w)
    verts = np.concatenate([p0 + ring, p1 + ring])
    faces = [[i, (i + 1) % SIDES, SIDES + (i + 1) % SIDES, SIDES + i] for i in range(SIDES)]
    faces += [list(range(SIDES))[::-1], list(range(SIDES, 2 * SIDES))]
    return verts, faces


def build_mannequin(bpy) -> LoadedCharacter:
    """Build the figure and its action (frames 1..21) in the current (empty) scene."""
    scene = bpy.context.scene
    arm_data = bpy.data.armatures.new("mannequin_rig")
    armature = bpy.data.objects.new("mannequin", arm_data)
    scene.collection.objects.link(armature)
    bpy.context.view_layer.objects.active = armature
    bpy.ops.object.mode_set(mode="EDIT")
    for name, (head, tail) in BONES.items():
        bone = arm_data.edit_bones.new(f"mixamorig:{name}")
        bone.head, bone.tail = head, tail
    for name in BONES:
        parent = {"Hips": None, "Spine": "Hips", "Spine1": "Spine", "Spine2": "Spine1", "Neck": "Spine2",
                  "Head": "Neck"}.get(name)
        if parent is None and name != "Hips":
            from rig2sketch.skeleton import MIXAMO_PARENTS

            parent = MIXAMO_PARENTS[name]
        if parent:
            arm_data.edit_bones[f"mixamorig:{name}"].parent = arm_data.edit_bones[f"mixamorig:{parent}"]
    bpy.ops.object.mode_set(mode="OBJECT")

    verts, faces, groups = [], [], []
    for bone, p0, p1, radius in PARTS:
        v, f = cylinder(p0, p1, radius)
        offset = sum(len(x) for x in verts)
        verts.append(v)
        faces += [[i + offset for i in face] for face in f]
        groups.append((bone, offset, len(v)))
    mesh = bpy.data.meshes.new("mannequin_body")
    mesh.from_pydata(np.concatenate(verts).tolist(), [], faces)
    mesh.update()
    body = bpy.data.objects.new("mannequin_body", mesh)
    scene.collection.objects.link(body)
    for bone, offset, count in groups:
        group = body.vertex_groups.new(name=f"mixamorig:{bone}")
        group.add(list(range(offset, offset + count)), 1.0, "REPLACE")
    body.parent = armature
    modifier = body.modifiers.new("armature", "ARMATURE")
    modifier.object = armature

    # Arm swing: left arm forward (towards -Y), right arm backward, and back again.
    for frame, angle in ((1, 0.0), (11, 60.0), (21, 0.0)):
        for side, sign in (("Left", 1.0), ("Right", -1.0)):
            pose_bone = armature.pose.bones[f"mixamorig:{side}Arm"]
            pose_bone.rotation_mode = "XYZ"
            pose_bone.rotation_euler = (np.deg2rad(sign * angle), 0.0, 0.0)
            pose_bone.keyframe_insert("rotation_euler", frame=frame)
    scene.frame_start, scene.frame_end = 1, 21
    return LoadedCharacter(
        name="mannequin",
        armature=armature,
        meshes=[body],
        bone_names={name: f"mixamorig:{name}" for name in BONES},
        source="test",
    )


def mannequin_keypoints(character: LoadedCharacter, depsgraph) -> tuple[np.ndarray, np.ndarray]:
    """World (coco ``17, 3``, joints ``53, 3``) of the posed mannequin; NaN for absent joints."""
    armature = character.armature.evaluated_get(depsgraph)
    world = np.array(armature.matrix_world)

    def to_world(p) -> np.ndarray:
        return world[:3, :3] @ np.asarray(p) + world[:3, 3]

    joints = np.full((len(JOINTS), 3), np.nan)
    for i, name in enumerate(JOINTS):
        if name in character.bone_names:
            joints[i] = to_world(armature.pose.bones[character.bone_names[name]].head)
    joints[JOINTS.index("HeadTop_End")] = to_world(armature.pose.bones[character.bone_names["Head"]].tail)
    head = armature.pose.bones[character.bone_names["Head"]]
    deform = np.array(head.matrix) @ np.linalg.inv(np.array(head.bone.matrix_local))
    coco = np.full((len(COCO_KEYPOINTS), 3), np.nan)
    for i, name in enumerate(COCO_KEYPOINTS):
        if name in COCO_FROM_BONE_HEAD:
            coco[i] = joints[JOINTS.index(COCO_FROM_BONE_HEAD[name])]
        else:
            p = deform @ np.append(FACE_REST[name], 1.0)
            coco[i] = to_world(p[:3])
    return coco, joints


def mannequin_scene(job, rng):
    """``RenderJob.scene`` loader: the mannequin and its frames 1..21 (job specs unused)."""
    from renderers.blender import import_bpy

    character = build_mannequin(import_bpy())
    return character, list(range(1, 22)), mannequin_keypoints


def mannequin_or_refusal(job, rng):
    """Like ``mannequin_scene``, but a character named ``broken`` is refused as bad input would be."""
    if job.character_name == "broken":
        raise ValueError("character 'broken' is not a character file; use a Mixamo .fbx")
    return mannequin_scene(job, rng)
