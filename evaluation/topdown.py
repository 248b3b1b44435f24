"""Top-down person crops: box -> (centre, size) padded to the model's aspect, affine warps.

Coordinates are continuous pixels: origin at the top-left corner of the top-left pixel, pixel
centres at +0.5, x right, y down. OpenCV's warps address pixel centres at integers, so
``warp_image`` converts between the two.
"""

from __future__ import annotations

import cv2
import numpy as np


def box_to_center_size(bbox: np.ndarray, aspect: float, padding: float) -> tuple[np.ndarray, np.ndarray]:
    """Box (x, y, w, h) -> (centre (2,), size (2,) = (w, h)) grown to width/height == aspect,
    then scaled by padding (1.25 in HRNet)."""
    x, y, w, h = (float(t) for t in bbox)
    if w <= 0 or h <= 0:
        raise ValueError(f"bbox {bbox!r} has no area; boxes are (x, y, w, h) with w, h > 0")
    center = np.array([x + 0.5 * w, y + 0.5 * h])
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h]) * padding


def crop_matrix(center: np.ndarray, size: np.ndarray, out_size: tuple[int, int],
                rotation_deg: float = 0.0, flip: bool = False) -> np.ndarray:
    """2x3 affine that maps source pixels to crop pixels.

    The box (center, size) fills the output (width, height); rotation turns the content
    counter-clockwise on screen; flip mirrors the crop horizontally (x -> W - x).
    """
    W, H = out_size
    scale = W / size[0]
    a = np.deg2rad(rotation_deg)
    c, s = np.cos(a) * scale, np.sin(a) * scale
    # y is down, so a counter-clockwise turn on screen is [[c, s], [-s, c]].
    R = np.array([[c, s], [-s, c]])
    t = np.array([W / 2, H / 2]) - R @ center
    M = np.hstack([R, t[:, None]])
    if flip:
        M = np.array([[-1.0, 0.0, W], [0.0, 1.0, 0.0]]) @ np.vstack([M, [0, 0, 1]])
    return M


def invert(M: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine."""
    return cv2.invertAffineTransform(M.astype(np.float64))


def transform_points(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine to ``..., 2`` points (continuous pixel coordinates)."""
    return points @ M[:, :2].T + M[:, 2]


def warp_image(image: np.ndarray, M: np.ndarray, out_size: tuple[int, int],
               border_value: int = 255) -> np.ndarray:
    """Warp ``H, W, C`` uint8 by M (continuous-pixel convention) into ``out_size`` (w, h)."""
    # cv2 indexes pixel centres at integers: p_idx = p - 0.5 on both sides.
    Mi = M.astype(np.float64).copy()
    Mi[:, 2] += Mi[:, :2] @ np.array([0.5, 0.5]) - 0.5
    return cv2.warpAffine(image, Mi, out_size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(border_value,) * 3)


def to_rgb(image: np.ndarray, background: int = 255) -> np.ndarray:
    """Grey ``H, W``, RGB or RGBA uint8 -> RGB uint8; alpha is composited over ``background``."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        rgb = image[:, :, :3].astype(np.float32) * alpha + background * (1.0 - alpha)
        return rgb.round().astype(np.uint8)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return image
