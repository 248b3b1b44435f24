"""Render-time body proportions: config checks, per-frame draws, bone scales, and real renders
(a bundled character and an imported Mixamo FBX) whose labels follow the scaled skeleton."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from renderers.config import CameraConfig, FrameConfig, OutputConfig, RenderConfig
from renderers.job import RenderJob, render, shard_metadata
from renderers.plan import config_hash
from renderers.proportions import (GROUPS, PRESETS, ProportionsConfig, bone_scales, draw_proportions,
                                   inherit_modes, proportions_rng)
from rig2sketch.skeleton import COCO_KEYPOINTS, JOINTS, MIXAMO_BONES, MIXAMO_PARENTS


def kp(name: str) -> int:
    return COCO_KEYPOINTS.index(name)


def jt(name: str) -> int:
    return JOINTS.index(name)


@pytest.mark.parametrize("kw, key", [
    ({"presets": ["chibbi"], "prob": 0.5}, "renderer.proportions.presets"),
    ({"presets": ["chibi"], "prob": 1.5}, "renderer.proportions.prob"),
    ({"presets": ["chibi"], "prob": -0.1}, "renderer.proportions.prob"),
    ({"presets": ["chibi"], "prob": 1.0, "jitter": -0.1}, "renderer.proportions.jitter"),
    ({"presets": ["chibi"], "prob": 1.0, "jitter": 0.9}, "renderer.proportions.jitter"),
    ({"presets": [], "prob": 0.5}, "renderer.proportions.presets"),
])
def test_bad_config_is_one_line_naming_the_key_and_the_fix(kw, key):
    with pytest.raises(ValueError) as err:
        RenderConfig(proportions=kw)  # as Hydra hands it over: a dict
    text = str(err.value)
    assert key in text and "use " in text and "\n" not in text


def test_command_line_overrides_reach_the_render_config_and_are_checked():
    from app.cli import ConfigError, compose

    cmd = compose("render", ["renderer.proportions.presets=[chibi,heroic]", "renderer.proportions.prob=1",
                             "renderer.proportions.jitter=0.1", "out=x"])
    assert cmd.renderer.proportions == ProportionsConfig(presets=["chibi", "heroic"], prob=1.0, jitter=0.1)
    with pytest.raises(ConfigError, match="renderer.proportions.presets=.*chibbi.*use a list of none, chibi"):
        compose("render", ["renderer.proportions.presets=[chibbi]", "renderer.proportions.prob=1", "out=x"])


def test_off_by_default_changes_no_hash_and_no_metadata():
    default = RenderConfig()
    assert not default.proportions.enabled and "proportions" not in default.record()
    # prob 0 is off whatever else is set: the same hash as a config from before the setting.
    idle = RenderConfig(proportions=ProportionsConfig(presets=["chibi"], prob=0.0, jitter=0.2))
    assert config_hash(idle) == config_hash(default)
    on = RenderConfig(proportions=ProportionsConfig(presets=["chibi"], prob=0.5))
    assert config_hash(on) != config_hash(default)
    job = RenderJob("a__idle", "a", "idle", "a", "idle", default, 1, "h")
    assert "proportions" not in json.loads(shard_metadata(job)["renderer"])
    job_on = RenderJob("a__idle", "a", "idle", "a", "idle", on, 1, "h")
    assert json.loads(shard_metadata(job_on)["renderer"])["proportions"]["presets"] == ["chibi"]


def test_draws_mix_presets_per_frame_deterministically():
    cfg = ProportionsConfig(presets=["chibi", "heroic"], prob=0.5, jitter=0.1)
    frames = list(range(1, 301))
    bodies = draw_proportions(cfg, frames, proportions_rng(5))
    assert bodies == draw_proportions(cfg, frames, proportions_rng(5))
    assert bodies != draw_proportions(cfg, frames, proportions_rng(6))
    counts = {p: sum(b.preset == p for b in bodies.values()) for p in ("none", "chibi", "heroic")}
    assert 0.4 < counts["none"] / len(frames) < 0.6 and counts["chibi"] > 50 and counts["heroic"] > 50
    for body in bodies.values():
        assert set(body.factors) == set(GROUPS)
        for group, factor in body.factors.items():
            base = PRESETS[body.preset].get(group, 1.0)
            if body.preset == "none":
                assert factor == 1.0  # frames that draw no preset keep the modelled body, unjittered
            else:
                assert base * 0.9 - 1e-4 <= factor <= base * 1.1 + 1e-4
    exact = draw_proportions(ProportionsConfig(presets=["elongated"], prob=1.0), frames[:3], proportions_rng(5))
    assert all(b.factors == {g: PRESETS["elongated"].get(g, 1.0) for g in GROUPS} for b in exact.values())


def test_bone_scales_and_inherit_modes_on_a_prefixed_rig():
    names = {b: f"mixamorig7:{b}" for b in MIXAMO_BONES}
    (chibi,) = draw_proportions(ProportionsConfig(presets=["chibi"], prob=1.0), [1], proportions_rng(0)).values()
    scales = bone_scales(chibi, names)
    f = PRESETS["chibi"]
    assert scales["mixamorig7:Head"] == (f["head"],) * 3
    assert scales["mixamorig7:Spine2"] == pytest.approx((f["chest"], f["torso"], f["chest"]))
    assert scales["mixamorig7:LeftForeArm"] == (1.0, f["forearm"], 1.0)
    assert "mixamorig7:Hips" not in scales and "mixamorig7:LeftHandIndex1" not in scales
    parents = {names[b]: names.get(MIXAMO_PARENTS[b]) for b in MIXAMO_BONES} | {"extra_eye": "mixamorig7:Head"}
    modes = inherit_modes(parents, names)
    # children of stretched bones ignore the parent's scale; children of uniformly scaled ones share it
    for bone in ("LeftHand", "LeftShoulder", "LeftArm", "Neck", "Head", "Spine1", "LeftLeg", "LeftFoot"):
        assert modes[names[bone]] == "NONE", bone
    for bone in ("LeftHandIndex1", "RightHandThumb1", "LeftToeBase"):
        assert modes[names[bone]] == "FULL", bone
    assert modes["extra_eye"] == "FULL" and names["LeftUpLeg"] not in modes and names["Spine"] not in modes


# ------------------------------------------------------------------ Blender


def _segment(joints: np.ndarray, a: str, b: str) -> float:
    return float(np.linalg.norm(joints[jt(a)] - joints[jt(b)]))


@pytest.mark.blender
@pytest.mark.slow
def test_bundled_character_bones_scale_by_the_preset_and_labels_follow():
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.keypoints3d import world_keypoints
    from renderers.blender.proportions import apply_proportions, prepare_rig
    from renderers.selection import CharacterSpec, MotionSpec, load_character

    bpy = reset_blender()
    char = load_character(CharacterSpec("bundled", "ada"))
    apply_motion(char, MotionSpec("clip", "wave"), np.random.default_rng(0))
    prepare_rig(char)
    bodies = {p: next(iter(draw_proportions(ProportionsConfig(presets=[p], prob=1.0), [1],
                                            proportions_rng(0)).values())) for p in ("none", "chibi")}

    def posed(preset: str) -> tuple[np.ndarray, np.ndarray]:
        apply_proportions(char, bodies[preset])
        bpy.context.scene.frame_set(5)
        return world_keypoints(char, bpy.context.evaluated_depsgraph_get())

    coco0, joints0 = posed("none")
    coco1, joints1 = posed("chibi")
    f = PRESETS["chibi"]

    def ratio(a: str, b: str) -> float:
        return _segment(joints1, a, b) / _segment(joints0, a, b)

    assert ratio("LeftArm", "LeftForeArm") == pytest.approx(f["upper_arm"], rel=0.02)
    assert ratio("RightForeArm", "RightHand") == pytest.approx(f["forearm"], rel=0.02)
    assert ratio("LeftUpLeg", "LeftLeg") == pytest.approx(f["thigh"], rel=0.02)
    assert ratio("RightLeg", "RightFoot") == pytest.approx(f["shin"], rel=0.02)
    assert ratio("Head", "HeadTop_End") == pytest.approx(f["head"], rel=0.02)
    # the hand scales by its own factor only: the shorter forearm does not shrink it too
    assert ratio("LeftHand", "LeftHandMiddle1") == pytest.approx(f["hand"], rel=0.02)
    assert ratio("LeftUpLeg", "RightUpLeg") == pytest.approx(1.0, abs=1e-6)  # the pelvis is not scaled
    # face points come from the deformed mesh: the eyes sit farther apart on the bigger head
    eyes = [np.linalg.norm(c[kp("left_eye")] - c[kp("right_eye")]) for c in (coco0, coco1)]
    assert eyes[1] / eyes[0] == pytest.approx(f["head"], rel=0.1)
    legs = [_segment(j, "LeftUpLeg", "LeftLeg") + _segment(j, "LeftLeg", "LeftFoot") for j in (joints0, joints1)]
    heads = [_segment(j, "Head", "HeadTop_End") for j in (joints0, joints1)]
    assert (heads[1] / legs[1]) / (heads[0] / legs[0]) > 3.0
    # applying "none" again gives back the modelled body exactly
    coco2, joints2 = posed("none")
    np.testing.assert_allclose(joints2, joints0, atol=1e-6)
    np.testing.assert_allclose(coco2, coco0, atol=1e-6)


def _export_mixamo_fbx(path) -> None:
    """A box mannequin written as Mixamo writes characters: centimetres, X 90 deg, scale 0.01."""
    from renderers.blender import reset_blender
    from renderers.blender.mannequin import build_mannequin

    bpy = reset_blender()
    char = build_mannequin("ybot", scale=100.0)
    for obj in (char.armature, *char.meshes):
        obj.select_set(True)
    bpy.context.view_layer.objects.active = char.armature
    char.armature.rotation_euler = (-math.pi / 2, 0, 0)
    bpy.ops.object.transform_apply(location=False, rotation=True, scale=False)
    char.armature.rotation_euler = (math.pi / 2, 0, 0)
    char.armature.scale = (0.01, 0.01, 0.01)
    bpy.context.view_layer.update()
    bpy.ops.export_scene.fbx(filepath=str(path), use_selection=True, object_types={"ARMATURE", "MESH"},
                             add_leaf_bones=True, bake_anim=False)


def _fbx_job(path, proportions: ProportionsConfig, seed: int = 3) -> RenderJob:
    from renderers.selection import CharacterSpec, MotionSpec

    camera = CameraConfig(mode="sampled", count=2, fill_range=(0.8, 0.9))
    cfg = RenderConfig(width=64, height=64, threads=1, camera=camera,
                       frames=FrameConfig(step=1, random=2), outputs=OutputConfig(mask=True),
                       proportions=proportions)
    return RenderJob("ybot__wave", CharacterSpec("file", str(path)), MotionSpec("clip", "wave"), "ybot", "wave",
                     cfg, seed, "h")


@pytest.mark.blender
@pytest.mark.slow
def test_imported_mixamo_fbx_job_labels_sit_on_the_scaled_figure(tmp_path):
    from scipy.ndimage import binary_dilation

    path = tmp_path / "ybot.fbx"
    _export_mixamo_fbx(path)
    chibi = ProportionsConfig(presets=["chibi"], prob=1.0, jitter=0.05)
    out = render(_fbx_job(path, chibi))
    plain = render(_fbx_job(path, ProportionsConfig()))
    # the same frames and cameras (the proportions draw from their own stream), a different body
    assert out["frame"].tolist() == plain["frame"].tolist() and out["camera"].tolist() == plain["camera"].tolist()
    assert all(p["proportions"]["preset"] == "chibi" for p in out["params"])
    assert all("proportions" not in p for p in plain["params"])
    for params, frame in zip(out["params"], out["frame"]):  # one body per frame, for all its cameras
        same = [p["proportions"] for p, f in zip(out["params"], out["frame"]) if f == frame]
        assert all(s == params["proportions"] for s in same)
        assert params["proportions"]["factors"]["head"] == pytest.approx(PRESETS["chibi"]["head"], rel=0.051)
    for labels, mask in zip(out["keypoints"], out["mask"]):
        near = binary_dilation(mask > 0, iterations=2)  # the figure, give or take a line width
        shown = labels[labels[:, 2] == 2]
        assert len(shown) >= 8
        for x, y, _ in shown:
            assert near[int(y), int(x)], (x, y)

    def head_to_legs(labels: np.ndarray) -> float:
        head = np.linalg.norm(labels[kp("nose"), :2] - (labels[kp("left_shoulder"), :2]
                                                         + labels[kp("right_shoulder"), :2]) / 2)
        legs = np.linalg.norm(labels[kp("left_hip"), :2] - labels[kp("left_ankle"), :2])
        return head / legs

    for scaled, modelled in zip(out["keypoints"], plain["keypoints"]):
        assert head_to_legs(scaled) > 1.8 * head_to_legs(modelled)
    again = render(_fbx_job(path, chibi))
    for key in ("image", "keypoints", "joints", "bbox"):
        np.testing.assert_array_equal(again[key], out[key], err_msg=key)
    assert again["params"] == out["params"]


@pytest.mark.blender
def test_a_job_cut_into_parts_draws_the_bodies_one_process_would():
    from dataclasses import replace

    cfg = RenderConfig(width=64, height=64, threads=1, scene_loader="tests.render_scene:mannequin_scene",
                       camera=CameraConfig(count=1), frames=FrameConfig(step=5, max_frames=4),
                       proportions=ProportionsConfig(presets=["chibi", "elongated", "heroic"], prob=0.7, jitter=0.1))
    job = RenderJob("m__swing", "m", "swing", "m", "swing", cfg, 9, "h")
    whole = render(job)
    parts = [render(replace(job, job_id=f"m__swing.part{i:02d}of02", chunk=i, chunks=2, base_id=job.job_id))
             for i in range(2)]
    assert np.concatenate([p["frame"] for p in parts]).tolist() == whole["frame"].tolist() == [1, 6, 11, 16]
    assert [q for p in parts for q in p["params"]] == whole["params"]
    np.testing.assert_array_equal(np.concatenate([p["keypoints"] for p in parts]), whole["keypoints"])
    assert len({json.dumps(p["proportions"], sort_keys=True) for p in whole["params"]}) > 1  # one job, many bodies
