"""Keypoint visibility by ray casting: v = 0 outside the image, 1 occluded, 2 visible.

A joint lies *inside* its limb, so a ray from the camera to the joint always meets the limb's
own skin first; testing "is anything in front of the joint" would call every joint occluded.
Instead a joint is visible when the first surface the camera ray meets lies within
``radius_m`` in front of the joint (that surface is the limb around the joint), or when the
ray meets nothing before the joint (points on or outside the skin: nose, eyes, head top).
Anything met earlier (the other arm, the torso seen from behind) occludes it.

The casting itself is a callable so the rule is testable without Blender;
``renderers.blender.scene.scene_ray_caster`` adapts ``scene.ray_cast`` on an evaluated depsgraph.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from renderers.projection import in_image

# cast(origin (3,), unit direction (3,), max_distance) -> distance to the first hit, or inf.
RayCaster = Callable[[np.ndarray, np.ndarray, float], float]


def visibility_flags(
    points: np.ndarray,
    uv: np.ndarray,
    width: int,
    height: int,
    camera_location: np.ndarray,
    cast: RayCaster,
    radius_m: float,
    forward: np.ndarray | None = None,
) -> np.ndarray:
    """``N`` float32 visibility (0, 1, 2) of ``N, 3`` world points projected to ``N, 2`` ``uv``.

    ``forward``: for an orthographic camera, its viewing direction; rays then run parallel to
    it from the camera plane instead of from ``camera_location``. NaN points get 0.
    """
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    v = np.zeros(len(points), dtype=np.float32)
    inside = in_image(uv, width, height) & np.isfinite(points).all(axis=1)
    for i in np.flatnonzero(inside):
        if forward is None:
            origin = np.asarray(camera_location, dtype=float)
            ray = points[i] - origin
        else:
            f = np.asarray(forward, dtype=float)
            depth = float(np.dot(points[i] - camera_location, f))
            origin = points[i] - depth * f
            ray = depth * f
        distance = float(np.linalg.norm(ray))
        if distance <= 1e-9:
            continue
        hit = cast(origin, ray / distance, distance)
        v[i] = 2.0 if hit >= distance - radius_m else 1.0
    return v
