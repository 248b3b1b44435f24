"""``motion: path/to/take.fbx``: a Mixamo animation FBX, retargeted onto the character."""

from __future__ import annotations

from renderers.blender.fbx import header_problem, import_animation
from renderers.motions.sources.base import MotionFileSource
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import ImportedAnimation, LoadedCharacter


@MOTION_SOURCES.register("fbx")
class FbxAnimationSource(MotionFileSource):
    kind = "fbx"
    suffixes = (".fbx",)

    def header_problem(self, path: str) -> str | None:
        return header_problem(path)

    def import_animation(self, path: str, char: LoadedCharacter) -> ImportedAnimation:
        return import_animation(path, char)
