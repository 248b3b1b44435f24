"""World keypoints of a real bpy character: bone heads, mesh face points, head-bone fallback."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from rig2sketch.skeleton import COCO_FACE, COCO_FROM_BONE_HEAD, COCO_KEYPOINTS, JOINTS, MIXAMO_PREFIX

pytestmark = pytest.mark.blender

FACE = [COCO_KEYPOINTS.index(n) for n in COCO_FACE]


def _turn(pose_bone, axis: str, degrees: float) -> np.ndarray:
    """Rotate a pose bone about a world axis (armature at the origin); returns the 3x3 rotation."""
    from renderers.blender import import_mathutils

    Matrix = import_mathutils().Matrix

    rest = np.asarray(pose_bone.bone.matrix_local)[:3, :3]
    world = np.asarray(Matrix.Rotation(np.radians(degrees), 3, axis.upper()))
    pose_bone.rotation_mode = "QUATERNION"
    pose_bone.rotation_quaternion = Matrix((rest.T @ world @ rest).tolist()).to_quaternion()
    return world


@pytest.fixture(scope="module")
def facts():
    """Build one character; read keypoints at rest, after a head turn and an elbow bend."""
    from renderers.blender import reset_blender
    from renderers.blender.characters import build_bundled_character
    from renderers.blender.keypoints3d import world_keypoints

    bpy = reset_blender()
    char = build_bundled_character("ada")
    imported = replace(char, face_regressor=None)  # as an imported rig: face from head bones
    no_feet = replace(char, bone_names={k: v for k, v in char.bone_names.items() if k != "LeftFoot"})
    bones = char.armature.data.bones

    def read(c):
        bpy.context.view_layer.update()
        return world_keypoints(c, bpy.context.evaluated_depsgraph_get())

    out = {"rest": read(char), "rest_imported": read(imported), "no_feet": read(no_feet)}
    out["heads"] = {b.name: np.asarray(b.head_local) for b in bones}
    out["head_tail"] = np.asarray(bones[MIXAMO_PREFIX + "Head"].tail_local)
    t = time.perf_counter()
    for _ in range(20):
        read(char)
    out["seconds"] = (time.perf_counter() - t) / 20
    pose = char.armature.pose.bones
    out["head_turn"] = _turn(pose[MIXAMO_PREFIX + "Head"], "z", 40.0)
    _turn(pose[MIXAMO_PREFIX + "LeftForeArm"], "z", -70.0)  # bend the elbow forward
    out["posed"] = read(char)
    out["posed_imported"] = read(imported)
    char.armature.rotation_euler = (0.0, 0.0, np.radians(30.0))  # a turned, half-size rig
    char.armature.scale = (0.5, 0.5, 0.5)
    out["moved"] = read(char)
    out["moved_imported"] = read(imported)
    char.armature.rotation_euler = (0.0, 0.0, 0.0)
    char.armature.scale = (1.0, 1.0, 1.0)
    bpy.context.view_layer.objects.active = char.armature
    bpy.ops.object.mode_set(mode="EDIT")  # a Mixamo-style eye bone, as some rigs carry
    eye = char.armature.data.edit_bones.new("mixamorig1:LeftEye")
    eye.head, eye.tail = (0.03, -0.2, 1.5), (0.03, -0.25, 1.5)
    eye.parent = char.armature.data.edit_bones[MIXAMO_PREFIX + "Head"]
    bpy.ops.object.mode_set(mode="OBJECT")
    out["eye_bone"] = read(imported)
    return out


def test_body_points_are_bone_heads_and_head_top_is_the_head_tail(facts):
    coco, joints = facts["rest"]
    for name, bone in COCO_FROM_BONE_HEAD.items():
        np.testing.assert_allclose(coco[COCO_KEYPOINTS.index(name)], facts["heads"][MIXAMO_PREFIX + bone], atol=1e-5)
    for k, joint in enumerate(JOINTS[:-1]):
        np.testing.assert_allclose(joints[k], facts["heads"][MIXAMO_PREFIX + joint], atol=1e-5)
    np.testing.assert_allclose(joints[JOINTS.index("HeadTop_End")], facts["head_tail"], atol=1e-5)


def test_left_points_have_plus_x_at_rest(facts):
    coco, _ = facts["rest"]
    for k, name in enumerate(COCO_KEYPOINTS):
        if name.startswith("left_"):
            assert coco[k, 0] > 0.01, name
        elif name.startswith("right_"):
            assert coco[k, 0] < -0.01, name


def test_face_points_follow_the_deformed_head(facts):
    (rest, joints), (posed, _) = facts["rest"], facts["posed"]
    head = joints[JOINTS.index("Head")]
    turn = facts["head_turn"]
    for k in FACE:
        assert np.linalg.norm(rest[k] - head) < 0.2
        expected = head + turn @ (rest[k] - head)
        assert np.linalg.norm(posed[k] - expected) < 0.005, COCO_KEYPOINTS[k]
        assert np.linalg.norm(posed[k] - rest[k]) > 0.02, COCO_KEYPOINTS[k]
    elbow, wrist = COCO_KEYPOINTS.index("left_elbow"), COCO_KEYPOINTS.index("left_wrist")
    np.testing.assert_allclose(posed[elbow], rest[elbow], atol=1e-6)
    assert posed[wrist][1] < rest[wrist][1] - 0.1  # the forearm swung forward (-Y)


def test_imported_character_face_from_head_frame(facts):
    for state, scale in (("rest", 1.0), ("posed", 1.0), ("moved", 0.5)):
        regressed, from_bones = facts[state][0], facts[f"{state}_imported"][0]
        for k in FACE:
            assert np.linalg.norm(regressed[k] - from_bones[k]) < 0.03 * scale, (state, COCO_KEYPOINTS[k])
    moved, rest = facts["moved"][0], facts["rest"][0]
    assert np.linalg.norm(moved[0] - rest[0]) > 0.3  # the nose really moved with the object


def test_imported_eye_bone_is_used_when_present(facts):
    coco, _ = facts["eye_bone"]
    head = facts["eye_bone"][1][JOINTS.index("Head")]
    turn = facts["head_turn"]  # the Head pose from earlier still applies to the new child bone
    expected = head + turn @ (np.array([0.03, -0.2, 1.5]) - facts["heads"][MIXAMO_PREFIX + "Head"])
    np.testing.assert_allclose(coco[COCO_KEYPOINTS.index("left_eye")], expected, atol=1e-4)


def test_missing_bone_gives_nan_rows(facts):
    coco, joints = facts["no_feet"]
    assert np.isnan(coco[COCO_KEYPOINTS.index("left_ankle")]).all()
    assert np.isnan(joints[JOINTS.index("LeftFoot")]).all()
    assert np.isfinite(np.delete(coco, COCO_KEYPOINTS.index("left_ankle"), 0)).all()
    assert np.isfinite(np.delete(joints, JOINTS.index("LeftFoot"), 0)).all()


def test_keypoints_are_fast(facts):
    assert facts["seconds"] < 0.02  # measured ~1.5 ms (view-layer update included here)
