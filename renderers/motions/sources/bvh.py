"""``motion: path/to/take.bvh``: BVH mocap (CMU-style or Mixamo-named), retargeted onto the character."""

from __future__ import annotations

from renderers.blender.bvh import header_problem, import_bvh
from renderers.motions.sources.base import MotionFileSource
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import ImportedAnimation, LoadedCharacter


@MOTION_SOURCES.register("bvh")
class BvhMocapSource(MotionFileSource):
    kind = "bvh"
    suffixes = (".bvh",)

    def header_problem(self, path: str) -> str | None:
        return header_problem(path)

    def import_animation(self, path: str, char: LoadedCharacter) -> ImportedAnimation:
        return import_bvh(path)  # mocap skeletons are retargeted by rest alignment, whatever the rig
