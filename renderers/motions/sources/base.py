"""The motion family of sources: config side (bpy-free) makes a :class:`MotionSpec`; the worker
side animates a loaded character with it."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from renderers.blender import remove_objects
from renderers.blender.keying import sample_source_poses, write_poses
from renderers.rigging import ImportedAnimation, LoadedCharacter
from renderers.selection import MotionSpec
from renderers.sources import FileSource, Source


class MotionSource(Source):
    what = "motion"

    def spec(self, name: str, **options: Any) -> MotionSpec:
        return MotionSpec(self.kind, name)

    @abstractmethod
    def apply(self, char: LoadedCharacter, spec: MotionSpec, rng: np.random.Generator) -> list[int]:
        """Animate ``char`` (worker only); returns the frame numbers that hold the motion (1..N)."""


class MotionFileSource(FileSource, MotionSource):
    """An animation file retargeted onto the character, every ``frame_step``-th source frame."""

    def spec(self, name: str, frame_step: int = 1, **options: Any) -> MotionSpec:
        return MotionSpec(self.kind, name, frame_step=frame_step)

    @abstractmethod
    def import_animation(self, path: str, char: LoadedCharacter) -> ImportedAnimation:
        """Import the file's animated armature into the current scene (worker only)."""

    def apply(self, char: LoadedCharacter, spec: MotionSpec, rng: np.random.Generator) -> list[int]:
        anim = self.import_animation(spec.path, char)
        try:
            frames = anim.frames[:: spec.frame_step]
            poses = sample_source_poses(anim.armature, anim.bone_names, frames, char, anim.mixamo_axes)
        finally:
            remove_objects(anim.objects)
        return write_poses(char, poses, spec.name)
