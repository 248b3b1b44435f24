"""Pinhole and orthographic projection in the OpenCV convention, matched to Blender's camera.

Conventions (the shard contract's):
- Camera space: x right, y down, z forward (OpenCV). ``world_to_cam`` is a ``4, 4`` matrix
  taking homogeneous world points (metres, Blender's Z-up world) into camera space.
- Pixels: origin at the top-left corner of the top-left pixel, x right, y down, so the centre
  of pixel (i, j) (row i, column j) is at (j + 0.5, i + 0.5). Blender's
  ``world_to_camera_view`` ``(s, t)`` maps to ``(s * W, (1 - t) * H)`` in this convention.
- ``K`` is ``3, 3``: ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``. For an orthographic camera
  fx, fy are pixels per metre and ``u = fx * x + cx`` (no division by depth).

Pure numpy: used in render workers and in tests, never imports bpy.
"""

from __future__ import annotations

import numpy as np

# Blender's camera looks down its local -Z with +Y up; OpenCV's looks down +Z with +Y down.
BLENDER_FROM_OPENCV = np.diag([1.0, -1.0, -1.0])


def intrinsics(
    width: int,
    height: int,
    focal_mm: float,
    sensor_width_mm: float,
    sensor_height_mm: float = 24.0,
    sensor_fit: str = "AUTO",
    shift_x: float = 0.0,
    shift_y: float = 0.0,
    pixel_aspect_x: float = 1.0,
    pixel_aspect_y: float = 1.0,
    ortho_scale: float | None = None,
) -> np.ndarray:
    """``3, 3`` K of a Blender camera rendering a ``width x height`` image.

    Follows Blender's sensor-fit rules: AUTO fits the sensor width to the larger side of the
    image (in pixel-aspect corrected units), HORIZONTAL to the width, VERTICAL the sensor
    height to the height. ``shift_x/y`` are Blender's lens shift (fractions of the larger
    side). With ``ortho_scale`` set the camera is orthographic and ``ortho_scale`` metres span
    the fitted side.
    """
    if sensor_fit not in ("AUTO", "HORIZONTAL", "VERTICAL"):
        raise ValueError(f"sensor_fit={sensor_fit!r}; use AUTO, HORIZONTAL or VERTICAL")
    aspect = pixel_aspect_y / pixel_aspect_x
    if sensor_fit == "AUTO":
        fit = "HORIZONTAL" if width * pixel_aspect_x >= height * pixel_aspect_y else "VERTICAL"
        sensor_mm = sensor_width_mm
    else:
        fit = sensor_fit
        sensor_mm = sensor_width_mm if fit == "HORIZONTAL" else sensor_height_mm
    view_px = width if fit == "HORIZONTAL" else aspect * height
    if ortho_scale is None:
        fx = focal_mm / sensor_mm * view_px
    else:
        fx = view_px / ortho_scale
    fy = fx / aspect
    cx = width / 2.0 - shift_x * view_px
    cy = height / 2.0 + shift_y * view_px / aspect
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def look_at_rotation(forward: np.ndarray, roll_deg: float = 0.0, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """``3, 3`` world->camera rotation (rows = camera x, y, z axes in world) for a camera looking
    along ``forward`` with world ``up`` appearing up in the image, then rolled by ``roll_deg``
    about the viewing axis (positive turns the camera clockwise as seen from behind it, so the
    image content turns counter-clockwise)."""
    z = np.asarray(forward, dtype=float)
    z = z / np.linalg.norm(z)
    up = np.asarray(up, dtype=float)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-8:  # looking straight up or down: any x works; pick world X
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    r = np.deg2rad(roll_deg)
    c, s = np.cos(r), np.sin(r)
    return np.stack([c * x + s * y, -s * x + c * y, z])


def world_to_camera(location: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``4, 4`` world->camera matrix from the camera centre (world) and world->camera rotation."""
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = -rotation @ np.asarray(location, dtype=float)
    return m


def camera_location(world_to_cam: np.ndarray) -> np.ndarray:
    """The camera centre in world coordinates."""
    return -world_to_cam[:3, :3].T @ world_to_cam[:3, 3]


def blender_matrix_world(world_to_cam: np.ndarray) -> np.ndarray:
    """The Blender camera object's ``matrix_world`` (local -Z forward, +Y up) for this camera."""
    m = np.eye(4)
    m[:3, :3] = world_to_cam[:3, :3].T @ BLENDER_FROM_OPENCV
    m[:3, 3] = camera_location(world_to_cam)
    return m


def world_to_camera_from_blender(matrix_world: np.ndarray) -> np.ndarray:
    """Inverse of :func:`blender_matrix_world`: OpenCV world->camera from a camera's matrix_world
    (scale removed)."""
    m = np.asarray(matrix_world, dtype=float)
    rot = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0, keepdims=True)
    return world_to_camera(m[:3, 3], (rot @ BLENDER_FROM_OPENCV).T)


def to_camera(world_to_cam: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``N, 3`` world points -> ``N, 3`` camera-space points (z = depth along the view axis)."""
    pts = np.asarray(pts, dtype=float).reshape(-1, 3)
    return pts @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]


def project_points(K: np.ndarray, world_to_cam: np.ndarray, pts: np.ndarray,
                   orthographic: bool = False) -> np.ndarray:
    """``N, 3`` world points -> ``N, 2`` pixel coordinates (origin top-left corner, y down).

    NaN input rows stay NaN; points at or behind a perspective camera's centre give NaN.
    """
    cam = to_camera(world_to_cam, pts)
    if orthographic:
        xy = cam[:, :2]
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(cam[:, 2] > 1e-9, cam[:, 2], np.nan)
            xy = cam[:, :2] / z[:, None]
    return xy * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])


def in_image(uv: np.ndarray, width: int, height: int) -> np.ndarray:
    """``N`` bool: the pixel position lies inside the image rectangle (NaN -> False)."""
    with np.errstate(invalid="ignore"):
        return (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
