"""Quaternion maths for motion clips (numpy only, no bpy).

Quaternions are ``(w, x, y, z)`` float arrays, unit length, acting on column vectors.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

AXES = {"x": np.array([1.0, 0.0, 0.0]), "y": np.array([0.0, 1.0, 0.0]), "z": np.array([0.0, 0.0, 1.0])}
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def axis_angle(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Quaternion rotating by ``angle_rad`` about ``axis`` (right-hand rule)."""
    axis = np.asarray(axis, dtype=float)
    axis = axis / np.linalg.norm(axis)
    half = 0.5 * angle_rad
    return np.concatenate([[np.cos(half)], np.sin(half) * axis])


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ])


def conjugate(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]])


def from_sequence(steps: Iterable[tuple[str, float]]) -> np.ndarray:
    """Quaternion of world-axis rotations applied in order: ``(("y", 70), ("x", -20))`` turns
    70 deg about +Y, then 20 deg the other way about +X (both axes fixed, i.e. extrinsic)."""
    q = IDENTITY.copy()
    for axis, degrees in steps:
        q = multiply(axis_angle(AXES[axis], np.radians(degrees)), q)
    return q


def to_matrix(q: np.ndarray) -> np.ndarray:
    """``3, 3`` rotation matrix of a unit quaternion."""
    q = np.asarray(q, dtype=float)
    w, x, y, z = q / np.sqrt(q @ q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternion (w >= 0) of a ``3, 3`` rotation matrix."""
    m = np.asarray(m, dtype=float)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    q = np.array(q) / np.linalg.norm(q)
    return q if q[0] >= 0 else -q


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Shortest-path spherical interpolation from ``a`` (t=0) to ``b`` (t=1)."""
    dot = float(np.dot(a, b))
    if dot < 0.0:
        b, dot = -b, -dot
    if dot > 0.9995:
        q = a + t * (b - a)
        return q / np.linalg.norm(q)
    theta = np.arccos(dot)
    return (np.sin((1 - t) * theta) * a + np.sin(t * theta) * b) / np.sin(theta)


def angle_deg(q: np.ndarray) -> float:
    """Rotation angle of ``q`` in degrees, in [0, 180]."""
    w = min(1.0, abs(float(q[0])) / float(np.linalg.norm(q)))
    return float(np.degrees(2.0 * np.arccos(w)))


def mirror_x(q: np.ndarray) -> np.ndarray:
    """The rotation seen in a mirror across the body's midplane (x -> -x)."""
    return np.array([q[0], q[1], -q[2], -q[3]])
