"""``motion: walk``: a bundled clip (``renderers.motions.library``), baked frame by frame."""

from __future__ import annotations

import numpy as np

from renderers.motions import clip_names, get_clip
from renderers.blender.keying import fit_to_character, write_poses
from renderers.motions.sources.base import MotionSource
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import LoadedCharacter
from renderers.selection import MotionSpec
from renderers.sources import NamedSource


@MOTION_SOURCES.register("clip")
class ClipSource(NamedSource, MotionSource):
    kind, title, names = "clip", "a clip", staticmethod(clip_names)

    def apply(self, char: LoadedCharacter, spec: MotionSpec, rng: np.random.Generator) -> list[int]:
        clip = get_clip(spec.name)
        return write_poses(char, fit_to_character(char, [clip.pose_at(f) for f in clip.frames()]), clip.name)
