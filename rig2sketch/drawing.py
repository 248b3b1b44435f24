"""Keypoint overlays and image grids for contact sheets (numpy + OpenCV, RGB uint8)."""

from __future__ import annotations

import cv2
import numpy as np

from rig2sketch import skeleton

# Character's left in blue, right in orange, centre in green (RGB).
LEFT, RIGHT, CENTRE = (40, 110, 255), (255, 120, 20), (30, 170, 60)


def _side(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("left") else RIGHT if name.startswith("right") else CENTRE


def draw_pose(image: np.ndarray, keypoints: np.ndarray, *, radius: int | None = None) -> np.ndarray:
    """Draw COCO-17 ``keypoints`` (``17, 3``: x, y, v in pixel coordinates) on a copy of ``image``.

    Visible points (v=2) are filled, occluded ones (v=1) hollow; v=0 points are not drawn.
    Limbs are coloured by side: the character's left blue, right orange.
    """
    out = np.ascontiguousarray(image if image.ndim == 3 else np.repeat(image[..., None], 3, 2)).copy()
    radius = radius or max(2, round(min(out.shape[:2]) / 90))
    shift = 4  # sub-pixel drawing: OpenCV takes fixed-point coordinates; pixel centres sit at +0.5
    pts = np.round((keypoints[:, :2] - 0.5) * (1 << shift)).astype(np.int64)
    for a, b in skeleton.COCO_SKELETON:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            colour = _side(skeleton.COCO_KEYPOINTS[a]) if _side(skeleton.COCO_KEYPOINTS[a]) == _side(skeleton.COCO_KEYPOINTS[b]) else CENTRE
            cv2.line(out, tuple(map(int, pts[a])), tuple(map(int, pts[b])), colour, max(1, radius // 2), cv2.LINE_AA, shift)
    for name, (x, y), v in zip(skeleton.COCO_KEYPOINTS, pts, keypoints[:, 2]):
        if v > 0:
            cv2.circle(out, (int(x), int(y)), radius << shift, _side(name), -1 if v == 2 else 1, cv2.LINE_AA, shift)
    return out


def grid(images: list[np.ndarray], columns: int, *, cell: int = 256, labels: list[str] | None = None) -> np.ndarray:
    """Tile RGB images (letterboxed to ``cell`` px squares, white) into a grid with optional captions."""
    rows = max(1, -(-len(images) // columns))
    sheet = np.full((rows * cell, columns * cell, 3), 255, np.uint8)
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        scale = cell / max(h, w)
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        r, c = divmod(i, columns)
        y0 = r * cell + (cell - small.shape[0]) // 2
        x0 = c * cell + (cell - small.shape[1]) // 2
        sheet[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
        if labels:
            cv2.putText(sheet, labels[i][:40], (c * cell + 4, r * cell + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.rectangle(sheet, (c * cell, r * cell), ((c + 1) * cell - 1, (r + 1) * cell - 1), (200, 200, 200), 1)
    return sheet
