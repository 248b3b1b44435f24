"""A motion source is one module: registered from a temporary module, it is parsed from config
strings, planned into render jobs, and animates a character in Blender."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

TOY_SOURCE = '''
from renderers.blender.keying import write_poses
from renderers.motions.pose import Pose
from renderers.motions.sources.base import MotionSource
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.selection import MotionSpec


@MOTION_SOURCES.register("toy_hold")
class HoldSource(MotionSource):
    """``toy_hold:N``: the rest pose held for N frames."""

    kind = "toy_hold"
    hint = "toy_hold:N"

    def parse(self, text, random_pose_count, frame_step):
        if not text.startswith("toy_hold:"):
            return None
        return MotionSpec(self.kind, "toy_hold", count=int(text.partition(":")[2]))

    def apply(self, char, spec, rng):
        return write_poses(char, [Pose({}) for _ in range(spec.count)], "toy_hold")
'''


@pytest.fixture()
def toy_source(tmp_path, monkeypatch):
    from renderers.motions.sources.registry import MOTION_SOURCES

    MOTION_SOURCES.names()  # discover the bundled sources first, then forget the toy afterwards
    monkeypatch.setattr(MOTION_SOURCES, "_items", dict(MOTION_SOURCES._items))
    return import_file(tmp_path / "toy_motion_source.py", TOY_SOURCE)


def import_file(path, source: str):
    """Write ``source`` to ``path`` and import it as a module (without touching ``sys.path``:
    bpy adds its own script folders there on first import, and those must stay)."""
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_sources_are_discovered():
    from renderers.motions.sources.registry import MOTION_SOURCES

    assert MOTION_SOURCES.names() == ["bvh", "clip", "fbx", "random_poses"]


def test_a_toy_source_parses_and_plans_jobs(toy_source, tmp_path):
    from renderers.plan import plan_jobs
    from renderers.config import RenderConfig
    from renderers.selection import MotionSpec

    with pytest.raises(ValueError, match=r"choose a clip \(.*\), random_poses\[:N\], toy_hold:N, or a path"):
        MotionSpec.parse("toy_spin")
    spec = MotionSpec.parse("toy_hold:3")
    assert (spec.kind, spec.count, spec.label) == ("toy_hold", 3, "toy_hold")
    jobs = plan_jobs(RenderConfig(out_dir=str(tmp_path), characters=["ada"], motions=["toy_hold:3", "walk"]))
    assert [(j.job_id, j.motion.kind) for j in jobs] == [("ada__toy_hold", "toy_hold"), ("ada__walk", "clip")]


@pytest.mark.blender
def test_a_toy_source_animates_a_character(toy_source):
    from renderers.blender import reset_blender
    from renderers.blender.keying import apply_motion
    from renderers.blender.mannequin import build_mannequin
    from renderers.selection import MotionSpec

    bpy = reset_blender()
    char = build_mannequin()
    assert apply_motion(char, MotionSpec.parse("toy_hold:3"), np.random.default_rng(0)) == [1, 2, 3]
    assert char.armature.animation_data.action.name == f"{char.name}:toy_hold"
    assert (bpy.context.scene.frame_start, bpy.context.scene.frame_end) == (1, 3)
