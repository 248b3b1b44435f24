"""Retargeting maths shared by the Blender wing's motion keying (numpy, no bpy): the rotation
part of a scaled matrix and the turn that makes a skeleton face -Y."""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.motions import rotations as rot


def rotation_part(m: Any) -> np.ndarray:
    """Orthonormal ``3, 3`` rotation part of a (possibly uniformly scaled) 4x4 or 3x3 matrix."""
    a = np.array(m, dtype=float)[:3, :3]
    u, _, vt = np.linalg.svd(a)
    r = u @ vt
    return r if np.linalg.det(r) > 0 else u @ np.diag([1, 1, -1]) @ vt


def facing_alignment(left_to_right: np.ndarray) -> np.ndarray:
    """Rotation about Z turning a skeleton whose right->left hip vector is given to face -Y."""
    angle = np.arctan2(left_to_right[1], left_to_right[0])
    return rot.to_matrix(rot.axis_angle(np.array([0.0, 0.0, 1.0]), -angle))
