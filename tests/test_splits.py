"""Splits (issue 16, item 2): deterministic train/val/test by character, motion or camera, planned
before any job runs and stored per row (the render itself: tests/test_render_flow.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from app.cli import ConfigError, compose
from renderers.config import CameraConfig, FrameConfig, RenderConfig
from renderers.plan import plan_jobs
from renderers.splits import SplitConfig, assign_splits

LOADER = "tests.render_scene:mannequin_scene"
CHARACTERS = [f"c{i:02d}" for i in range(14)]


def cfg(split: SplitConfig, characters=CHARACTERS, motions=("idle", "walk", "wave"), cameras=8) -> RenderConfig:
    return RenderConfig(out_dir="unused", characters=list(characters), motions=list(motions), scene_loader=LOADER,
                        frames=FrameConfig(step=10, max_frames=1), camera=CameraConfig(count=cameras), split=split)


def splits_by(jobs, key) -> dict[str, set[str]]:
    """name (character/motion/camera) -> the splits its rows get."""
    out: dict[str, set[str]] = {}
    for job in jobs:
        for camera, split in job.splits:
            name = {"character": job.character_name, "motion": job.motion_name, "camera": camera}[key]
            out.setdefault(name, set()).add(split)
    return out


@pytest.mark.parametrize("by,names,expected", [
    ("character", CHARACTERS, {"train": 12, "val": 1, "test": 1}),
    ("motion", ["idle", "walk", "wave"], {"train": 1, "val": 1, "test": 1}),
    ("camera", [f"ring{i:02d}" for i in range(8)], {"train": 6, "val": 1, "test": 1}),
])
def test_each_name_lands_in_exactly_one_split(by, names, expected):
    jobs = plan_jobs(cfg(SplitConfig(by=by)))
    found = splits_by(jobs, by)
    assert sorted(found) == sorted(names) and all(len(s) == 1 for s in found.values())
    assert Counter(next(iter(s)) for s in found.values()) == expected
    # Deterministic: the same names give the same split whatever the seed.
    again = plan_jobs(replace(cfg(SplitConfig(by=by)), seed=99))
    assert splits_by(again, by) == found


def test_listed_names_are_held_out_and_others_train():
    split = SplitConfig(by="motion", val=["walk"], test=["wave"])
    assert assign_splits(["idle", "walk", "wave", "run"], split) == {
        "idle": "train", "run": "train", "walk": "val", "wave": "test"}
    jobs = plan_jobs(cfg(split, characters=["a", "b"]))
    assert {j.job_id: j.split_names() for j in jobs} == {
        "a__idle": ["train"], "a__walk": ["val"], "a__wave": ["test"],
        "b__idle": ["train"], "b__walk": ["val"], "b__wave": ["test"]}


def test_a_camera_split_gives_a_job_one_shard_per_split():
    job = plan_jobs(cfg(SplitConfig(by="camera", val=["ring01"], test=["ring02"]), characters=["a"],
                        motions=["idle"], cameras=4))[0]
    assert job.splits == (("ring00", "train"), ("ring01", "val"), ("ring02", "test"), ("ring03", "train"))
    assert job.split_names() == ["test", "train", "val"]
    from renderers.job import shard_paths

    assert {s: p.as_posix() for s, p in shard_paths(job, Path("d")).items()} == {
        "test": "d/test/a__idle.parquet", "train": "d/train/a__idle.parquet", "val": "d/val/a__idle.parquet"}


def test_no_split_keeps_every_row_in_train():
    jobs = plan_jobs(cfg(SplitConfig(), characters=["a"], motions=["idle"]))
    assert jobs[0].split_names() == ["train"] and {s for _, s in jobs[0].splits} == {"train"}


def test_a_changed_assignment_changes_the_job_hash():
    """The resume check compares job hashes: a shard of another split assignment is re-rendered."""
    by_list = plan_jobs(cfg(SplitConfig(by="motion", val=["walk"], test=["wave"]), characters=["a"]))
    swapped = plan_jobs(cfg(SplitConfig(by="motion", val=["wave"], test=["walk"]), characters=["a"]))
    hashes = {j.job_id: j.config_hash for j in by_list}
    assert hashes["a__idle"] == {j.job_id: j.config_hash for j in swapped}["a__idle"]
    assert hashes["a__walk"] != {j.job_id: j.config_hash for j in swapped}["a__walk"]


def test_impossible_splits_fail_before_any_job_naming_the_key():
    with pytest.raises(ValueError, match="renderer.split.by=character holds out 1 val and 1 test character"):
        plan_jobs(cfg(SplitConfig(by="character"), characters=["a", "b"]))
    with pytest.raises(ValueError, match=r"renderer.split.val/test name \['zed'\]"):
        plan_jobs(cfg(SplitConfig(by="character", val=["zed"]), characters=["a", "b"]))
    with pytest.raises(ValueError, match="renderer.split.by='face'"):
        SplitConfig(by="face")
    with pytest.raises(ValueError, match="disjoint"):
        SplitConfig(by="motion", val=["walk"], test=["walk"])


def test_split_presets_compose_on_render_and_pipeline():
    assert compose("render", ["split=character"]).renderer.split.by == "character"
    cmd = compose("pipeline", ["split=motion", "renderer.split.val=[walk]", "renderer.split.test=[wave]"])
    assert (cmd.renderer.split.by, cmd.renderer.split.val, cmd.renderer.split.test) == ("motion", ["walk"], ["wave"])
    assert compose("render", []).renderer.split == SplitConfig()
    with pytest.raises(ConfigError, match="renderer.split.by='face'"):
        compose("render", ["renderer.split.by=face"])


def test_a_pipeline_exporting_yolo_without_held_out_rows_fails_before_work():
    with pytest.raises(ConfigError, match=r"export=\[..., yolo\] needs val rows"):
        compose("pipeline", ["export=[coco,yolo]"])
    assert compose("pipeline", ["export=[coco,yolo]", "split=character"]).export == ["coco", "yolo"]
