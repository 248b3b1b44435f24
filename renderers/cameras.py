"""Camera views (bpy-free) and auto-framing of the figure.

A :class:`ViewSpec` is a direction and lens (azimuth, elevation, roll, focal, fill) chosen once
per job; :func:`frame_view` places it for one frame so that the figure's points fill ``fill`` of
the image, giving a :class:`PlacedCamera` (K and world->camera matrix, OpenCV convention) that
the worker copies into the Blender camera and into the labels.

Azimuth 0 puts the camera in front of the character (characters face -Y, so the camera sits on
the -Y side looking at +Y); azimuth 90 is the character's left side (+X); elevation is
positive above the figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderers.config import CameraConfig
from renderers.projection import intrinsics, look_at_rotation, world_to_camera

NEAR_M = 0.05


@dataclass(frozen=True)
class ViewSpec:
    """One camera's direction and lens, before framing. Angles in degrees, focal in mm."""

    name: str
    azimuth_deg: float
    elevation_deg: float
    roll_deg: float = 0.0
    focal_mm: float = 50.0
    sensor_mm: float = 36.0
    fill: float = 0.85
    look_at_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    projection: str = "perspective"

    @property
    def direction(self) -> np.ndarray:
        """Unit vector from the figure towards the camera."""
        az, el = np.deg2rad(self.azimuth_deg), np.deg2rad(self.elevation_deg)
        return np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])


@dataclass(frozen=True)
class PlacedCamera:
    """A camera placed for one frame: ``K`` (3, 3) and ``world_to_cam`` (4, 4, OpenCV axes).

    ``ortho_scale`` is set (metres across the image's larger side) for orthographic cameras.
    """

    name: str
    width: int
    height: int
    K: np.ndarray
    world_to_cam: np.ndarray
    focal_mm: float
    sensor_mm: float
    ortho_scale: float | None = None

    @property
    def orthographic(self) -> bool:
        return self.ortho_scale is not None

    @property
    def location(self) -> np.ndarray:
        return -self.world_to_cam[:3, :3].T @ self.world_to_cam[:3, 3]

    @property
    def forward(self) -> np.ndarray:
        return self.world_to_cam[2, :3].copy()


def camera_names(cfg: CameraConfig) -> list[str]:
    """The ids of a job's cameras, in order: ``ring00``.. for a ring, ``cam00``.. for sampled views
    (the ``camera`` column; known before rendering, so splits by camera are planned up front)."""
    prefix = "ring" if cfg.mode == "ring" else "cam"
    return [f"{prefix}{i:02d}" for i in range(cfg.count)]


def ring_views(cfg: CameraConfig) -> list[ViewSpec]:
    """The seed's ring: ``cfg.count`` views evenly spaced in azimuth from the front, at
    ``cfg.elevation_deg``, all with ``cfg.focal_mm`` and ``cfg.fill``."""
    return [
        ViewSpec(
            name=name,
            azimuth_deg=360.0 * i / cfg.count,
            elevation_deg=cfg.elevation_deg,
            focal_mm=cfg.focal_mm,
            sensor_mm=cfg.sensor_mm,
            fill=cfg.fill,
            projection=cfg.projection,
        )
        for i, name in enumerate(camera_names(cfg))
    ]


def sample_views(cfg: CameraConfig, rng: np.random.Generator) -> list[ViewSpec]:
    """``cfg.count`` views drawn uniformly from the config's ranges (look-at jitter uniform in a
    cube of half-side ``look_at_jitter_m``)."""

    def draw(pair: tuple[float, float]) -> float:
        return float(rng.uniform(pair[0], pair[1]))

    views = []
    for name in camera_names(cfg):
        views.append(
            ViewSpec(
                name=name,
                azimuth_deg=draw(cfg.azimuth_deg_range),
                elevation_deg=draw(cfg.elevation_deg_range),
                roll_deg=draw(cfg.roll_deg_range),
                focal_mm=draw(cfg.focal_mm_range),
                sensor_mm=cfg.sensor_mm,
                fill=draw(cfg.fill_range),
                look_at_offset_m=tuple(float(v) for v in rng.uniform(-1, 1, 3) * cfg.look_at_jitter_m),
                projection=cfg.projection,
            )
        )
    return views


def make_views(cfg: CameraConfig, rng: np.random.Generator) -> list[ViewSpec]:
    """Views for one job: the ring (rng unused) or sampled ones."""
    return ring_views(cfg) if cfg.mode == "ring" else sample_views(cfg, rng)


def frame_view(view: ViewSpec, points: np.ndarray, width: int, height: int) -> PlacedCamera:
    """Place ``view`` so the ``N, 3`` world ``points`` (the figure's surface) fit within ``fill``
    of the image, centred on the points' bounding-box centre (plus the look-at offset).

    Perspective: the smallest distance at which every point projects within the central
    ``fill`` part of both image axes (closed form per point). Orthographic: the smallest
    ``ortho_scale`` doing the same.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        raise ValueError(f"cannot frame camera {view.name!r}: the figure has no finite points")
    target = (pts.min(axis=0) + pts.max(axis=0)) / 2.0 + np.asarray(view.look_at_offset_m)
    rot = look_at_rotation(-view.direction, view.roll_deg)
    q = (pts - target) @ rot.T  # camera axes, origin at the target
    half_w, half_h = view.fill * width / 2.0, view.fill * height / 2.0
    if view.projection == "orthographic":
        k1 = intrinsics(width, height, view.focal_mm, view.sensor_mm, ortho_scale=1.0)
        # fx = k1[0,0] / scale; need |x| * fx <= half_w for every point.
        scale = max(
            np.max(np.abs(q[:, 0])) * k1[0, 0] / half_w,
            np.max(np.abs(q[:, 1])) * k1[1, 1] / half_h,
            1e-3,
        )
        distance = float(np.max(-q[:, 2]) + 1.0)
        K = intrinsics(width, height, view.focal_mm, view.sensor_mm, ortho_scale=scale)
        location = target - rot[2] * distance
        return PlacedCamera(view.name, width, height, K, world_to_camera(location, rot),
                            view.focal_mm, view.sensor_mm, float(scale))
    K = intrinsics(width, height, view.focal_mm, view.sensor_mm)
    # |x| * fx / (z + d) <= half_w  <=>  d >= |x| * fx / half_w - z, and likewise for y.
    need = np.maximum(np.abs(q[:, 0]) * K[0, 0] / half_w, np.abs(q[:, 1]) * K[1, 1] / half_h) - q[:, 2]
    distance = float(max(need.max(), (NEAR_M - q[:, 2]).max()))
    location = target - rot[2] * distance
    return PlacedCamera(view.name, width, height, K, world_to_camera(location, rot),
                        view.focal_mm, view.sensor_mm)


def view_vectors(camera: PlacedCamera) -> np.ndarray:
    """``H, W, 3`` float32 world-space unit vectors from each pixel's surface point towards the
    camera, through pixel centres (OpenCV pixel grid: origin top-left, x right, y down)."""
    ys, xs = np.mgrid[0 : camera.height, 0 : camera.width].astype(np.float64) + 0.5
    rotation = camera.world_to_cam[:3, :3]
    if camera.orthographic:
        forward = rotation[2]
        return np.broadcast_to(-forward / np.linalg.norm(forward), (camera.height, camera.width, 3)).astype(np.float32)
    pixels = np.stack([xs, ys, np.ones_like(xs)], axis=-1)
    rays_cam = pixels @ np.linalg.inv(camera.K).T  # camera axes: +z forward
    rays = rays_cam @ rotation  # R^T applied to each row: world directions
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    return (-rays).astype(np.float32)
