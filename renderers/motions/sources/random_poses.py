"""``motion: random_poses`` (or ``random_poses:N``): N poses drawn with the job's rng
(``renderers.motions.sampler``), held on consecutive frames (not blended)."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.blender.keying import fit_to_character, write_poses
from renderers.motions.sampler import random_poses
from renderers.motions.sources.base import MotionSource
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import LoadedCharacter
from renderers.selection import RANDOM_POSES, MotionSpec


@MOTION_SOURCES.register(RANDOM_POSES)
class RandomPosesSource(MotionSource):
    kind = RANDOM_POSES
    hint = f"{RANDOM_POSES}[:N]"

    def parse(self, text: str, random_pose_count: int = 16, **options: Any) -> MotionSpec | None:
        if text != RANDOM_POSES and not text.startswith(RANDOM_POSES + ":"):
            return None
        count_text = text[len(RANDOM_POSES) + 1:] or str(random_pose_count)
        if not count_text.isdigit():
            raise ValueError(f"motion {text!r}: write {RANDOM_POSES} or {RANDOM_POSES}:N with N a positive integer")
        return MotionSpec(RANDOM_POSES, RANDOM_POSES, count=int(count_text))

    def apply(self, char: LoadedCharacter, spec: MotionSpec, rng: np.random.Generator) -> list[int]:
        sampled = random_poses(spec.count, rng)
        return write_poses(char, fit_to_character(char, [s.pose for s in sampled]), RANDOM_POSES,
                           interpolation="CONSTANT")
