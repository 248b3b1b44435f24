"""Choosing characters and motions from config strings (renderers.selection), bpy-free."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import yaml

from renderers.motions import clip_names
from renderers.selection import CharacterSpec, MotionSpec, SelectionConfig, catalogue_names, load_character

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs" / "motion").glob("*.yaml"))


def test_bundled_character_names():
    names = catalogue_names()
    assert len(names) >= 12
    spec = CharacterSpec.parse(names[0])
    assert spec == CharacterSpec("bundled", names[0]) and spec.label == names[0]
    with pytest.raises(ValueError, match=r"unknown character 'adaa'; choose a bundled character \(ada, ben"):
        CharacterSpec.parse("adaa")


def test_character_files(tmp_path):
    fbx = tmp_path / "Y Bot.fbx"
    fbx.write_bytes(b"Kaydara FBX Binary  \x00")
    spec = CharacterSpec.parse(str(fbx))
    assert spec.kind == "file" and Path(spec.name).is_absolute() and spec.label == "Y Bot"
    (tmp_path / "sub").mkdir()
    assert CharacterSpec.parse(str(tmp_path / "sub" / ".." / "Y Bot.fbx")).name == str(fbx.resolve())
    with pytest.raises(ValueError, match=r"character file '.*missing\.blend' does not exist"):
        CharacterSpec.parse(str(tmp_path / "missing.blend"))
    (tmp_path / "char.obj").write_text("v 0 0 0\n")
    with pytest.raises(ValueError, match=r"must end in \.fbx or \.blend"):
        CharacterSpec.parse(str(tmp_path / "char.obj"))


def test_motion_clips_and_random_poses():
    assert MotionSpec.parse("walk") == MotionSpec("clip", "walk")
    assert MotionSpec.parse(" kick ").label == "kick"
    with pytest.raises(ValueError, match=r"unknown motion 'wlak'; choose a clip \(bow, .*walk.*\), random_poses\[:N\]"):
        MotionSpec.parse("wlak")
    spec = MotionSpec.parse("random_poses")
    assert (spec.kind, spec.count, spec.label) == ("random_poses", 16, "random_poses")
    assert MotionSpec.parse("random_poses", random_pose_count=5).count == 5
    assert MotionSpec.parse("random_poses:40").count == 40
    with pytest.raises(ValueError, match=r"random_poses:N with N a positive integer"):
        MotionSpec.parse("random_poses:many")
    with pytest.raises(ValueError, match=r"count 0 must be 1\.\.10000"):
        MotionSpec.parse("random_poses:0")
    for name in clip_names():
        assert MotionSpec.parse(name).kind == "clip"


def test_motion_files(tmp_path):
    for suffix, kind in ((".fbx", "fbx"), (".bvh", "bvh"), (".BVH", "bvh")):
        path = tmp_path / f"take{suffix}"
        # The first bytes each format starts with (files are header-checked when parsed).
        path.write_bytes(b"Kaydara FBX Binary  \x00" if kind == "fbx" else b"HIERARCHY\nROOT Hips\n")
        spec = MotionSpec.parse(str(path), frame_step=3)
        assert (spec.kind, spec.path, spec.label, spec.frame_step) == (kind, str(path.resolve()), "take", 3)
    with pytest.raises(ValueError, match=r"motion file '.*nope\.bvh' does not exist"):
        MotionSpec.parse(str(tmp_path / "nope.bvh"))
    with pytest.raises(ValueError, match=r"must end in \.bvh or \.fbx"):
        MotionSpec.parse(str(tmp_path / "take.c3d"))
    with pytest.raises(ValueError, match="frame_step 0 must be >= 1"):
        MotionSpec("fbx", "x.fbx", frame_step=0)


def test_specs_pickle_and_hash():
    specs = [CharacterSpec.parse("ada"), MotionSpec.parse("random_poses:3"), MotionSpec.parse("walk")]
    assert pickle.loads(pickle.dumps(specs)) == specs
    assert len({*specs}) == 3


def test_selection_config_checks_everything_up_front():
    cfg = SelectionConfig(characters="ben", motions=["walk", "random_poses"], random_pose_count=8)
    assert cfg.characters == ["ben"]
    assert [m.count for m in cfg.motion_specs()] == [0, 8]
    with pytest.raises(ValueError, match="unknown motion 'moonwalk'"):
        SelectionConfig(motions=["walk", "moonwalk"])
    with pytest.raises(ValueError, match="motion.characters is empty"):
        SelectionConfig(characters=[])
    with pytest.raises(ValueError, match=r"motion.random_pose_count=0 is not allowed; use 1\.\.10000"):
        SelectionConfig(random_pose_count=0)
    with pytest.raises(ValueError, match=r"motion.frame_step=0 is not allowed"):
        SelectionConfig(frame_step=0)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_motion_configs_load(path):
    raw = yaml.safe_load(path.read_text())
    cfg = SelectionConfig(**raw)
    assert [(c.kind, c.label) for c in cfg.character_specs()] == [("bundled", c) for c in raw["characters"]]
    motions = cfg.motion_specs()
    assert [m.label for m in motions] == [m.partition(":")[0] for m in raw["motions"]]
    assert [m.count for m in motions if m.kind == "random_poses"] == [int(m.partition(":")[2]) for m in raw["motions"] if ":" in m]


def test_all_clips_config_lists_every_clip():
    assert len(CONFIGS) >= 3
    all_clips = yaml.safe_load((CONFIGS[0].parent / "all_clips.yaml").read_text())
    assert sorted(all_clips["motions"]) == clip_names()


def test_load_character_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="unknown character kind 'url'"):
        load_character(CharacterSpec("url", "http://example.com/x.fbx"))
