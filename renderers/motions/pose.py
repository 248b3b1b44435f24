"""A sampled pose of the Mixamo skeleton as pure data (no bpy): what clips, the random pose
sampler and retargeting produce, and what forward kinematics and the worker consume.
Axis conventions: ``renderers.motions.clip``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Pose:
    """A sampled pose: ``rotations`` bone -> parent-relative quaternion (w, x, y, z) in the
    T-pose armature frame (bones not listed stay at rest); ``hips_offset`` in hip heights."""

    rotations: dict[str, np.ndarray]
    hips_offset: np.ndarray = field(default_factory=lambda: np.zeros(3))
