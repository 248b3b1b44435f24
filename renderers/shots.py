"""What one render job shoots and how each image is labelled (numpy, no bpy): frame selection,
keypoint labels through a placed camera, the silhouette box and the optional extra images."""

from __future__ import annotations

import numpy as np

from renderers.cameras import PlacedCamera
from renderers.config import FrameConfig
from renderers.contours.base import over_white
from renderers.projection import project_points
from renderers.visibility import visibility_flags


def select_frames(frames: list[int], cfg: FrameConfig, rng: np.random.Generator) -> list[int]:
    """Every ``cfg.step``-th frame, or ``cfg.random`` distinct random frames (sorted), capped
    at ``cfg.max_frames``."""
    frames = sorted(frames)
    if cfg.random:
        pick = rng.choice(len(frames), size=min(cfg.random, len(frames)), replace=False)
        chosen = [frames[i] for i in sorted(pick)]
    else:
        chosen = frames[:: cfg.step]
    return chosen[: cfg.max_frames] if cfg.max_frames else chosen


def frame_chunk(frames: list[int], chunk: int, chunks: int) -> list[int]:
    """Part ``chunk`` (0-based) of ``chunks`` consecutive, near-equal parts of the selected ``frames``;
    the parts of 0..chunks-1 concatenated are ``frames`` (a part is empty when chunks > frames)."""
    if not 0 <= chunk < chunks:
        raise ValueError(f"chunk {chunk} of {chunks}: need 0 <= chunk < chunks")
    n = len(frames)
    return frames[n * chunk // chunks: n * (chunk + 1) // chunks]


def label_points(points: np.ndarray, placed: PlacedCamera, cast, radius_m: float) -> np.ndarray:
    """``N, 3`` float32 (x, y, v) pixel labels of ``N, 3`` world points (COCO: v=0 -> 0, 0, 0)."""
    uv = project_points(placed.K, placed.world_to_cam, points, placed.orthographic)
    v = visibility_flags(points, uv, placed.width, placed.height, placed.location, cast, radius_m,
                         forward=placed.forward if placed.orthographic else None)
    out = np.zeros((len(points), 3), dtype=np.float32)
    shown = v > 0
    out[shown, :2] = uv[shown]
    out[:, 2] = v
    return out


def silhouette_box(alpha: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(bbox (x, y, w, h) float32, area in pixels, ``H, W`` bool mask) of coverage > 0.5."""
    mask = alpha > 0.5
    if not mask.any():
        return np.zeros(4, dtype=np.float32), 0.0, mask
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = np.array([cols[0], rows[0], cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]], dtype=np.float32)
    return box, float(mask.sum()), mask


def image_extras(passes: dict[str, np.ndarray], mask: np.ndarray, placed: PlacedCamera, wanted) -> dict:
    out: dict[str, np.ndarray] = {}
    if wanted.shaded:
        out["shaded"] = over_white(passes["image"])
    if wanted.mask:
        out["mask"] = mask.astype(np.uint8) * 255
    if wanted.depth:  # uint16 millimetres along the view axis, 0 = background
        depth = np.where(mask, np.clip(passes["depth"] * 1000.0, 1, 65535), 0)
        out["depth"] = np.round(depth).astype(np.uint16)
    if wanted.normal:  # camera-space (OpenCV axes) unit normals as (n + 1) / 2 * 255, 0 background
        n = passes["normal"] @ placed.world_to_cam[:3, :3].T
        rgb = np.round((np.clip(n, -1, 1) + 1.0) * 127.5).astype(np.uint8)
        out["normal"] = np.where(mask[..., None], rgb, 0).astype(np.uint8)
    if wanted.parts:  # uint8 part ids of renderers.parts.PARTS, 0 = background
        out["parts"] = np.where(mask, np.round(passes["part"]), 0).astype(np.uint8)
    return out
