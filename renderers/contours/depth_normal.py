"""``depth_normal``: lines from discontinuities of one cheap Cycles pass render.

A pixel is an edge pixel when, against its right or lower neighbour, any of these jumps:
coverage (the silhouette), depth (relative jump beyond ``DEPTH_JUMP`` after removing the local
slope, so smooth receding surfaces stay clean), surface normal (angle beyond ``CREASE_DEG``)
or object index (garment against body). Islands of fewer than ``SPECK_FRACTION`` x the
image side pixels are dropped. The nearer pixel of each pair is marked, so lines sit
on the figure. Thickness comes from a distance transform: a pixel's ink is how far it lies
inside a band of ``line_px`` around the edge pixels (soft, anti-aliased borders).
"""

from __future__ import annotations

import cv2
import numpy as np

from renderers.contours.registry import CONTOURS
from renderers.contours.base import ContourMethod, LineSettings

DEPTH_JUMP = 0.03
CREASE_DEG = 50.0
SPECK_FRACTION = 0.06  # edge islands smaller than this x the image's shorter side are dropped


def edge_pixels(alpha: np.ndarray, depth: np.ndarray, normal: np.ndarray, index: np.ndarray,
                depth_jump: float = DEPTH_JUMP, crease_deg: float = CREASE_DEG) -> np.ndarray:
    """``H, W`` bool edge map from ``H, W`` alpha/depth/index and ``H, W, 3`` normals."""
    inside = alpha > 0.5
    depth = np.where(inside, depth, np.inf)
    cos_crease = np.cos(np.deg2rad(crease_deg))
    edges = np.zeros(inside.shape, dtype=bool)
    for axis in (0, 1):
        a = [slice(None), slice(None)]
        b = [slice(None), slice(None)]
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        a, b = tuple(a), tuple(b)
        da, db = depth[a], depth[b]
        both = inside[a] & inside[b]
        # Depth jump beyond what the local slope predicts (second difference).
        with np.errstate(invalid="ignore"):
            slope = np.diff(depth, axis=axis)
            pad = [(0, 0), (0, 0)]
            pad[axis] = (1, 0)
            prev = np.pad(slope, pad, mode="edge")[a]
            d2 = np.abs(slope - prev)
            near = np.minimum(da, db)
            jump = both & (d2 > depth_jump * near) & (np.abs(slope) > depth_jump * near)
        crease = both & (np.sum(normal[a] * normal[b], axis=-1) < cos_crease)
        other = both & (index[a] != index[b])
        silhouette = inside[a] != inside[b]
        pair = jump | crease | other | silhouette
        a_nearer = da <= db
        edges[a] |= pair & a_nearer
        edges[b] |= pair & ~a_nearer
    return edges


def remove_specks(edges: np.ndarray, min_pixels: int) -> np.ndarray:
    """Drop 8-connected edge pieces smaller than ``min_pixels`` (garment or hair shells that
    touch the body flicker between object indices in tiny islands)."""
    if min_pixels <= 1 or not edges.any():
        return edges
    count, labels, stats, _ = cv2.connectedComponentsWithStats(edges.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False
    return keep[labels]


def draw_lines(edges: np.ndarray, line_px: float) -> np.ndarray:
    """``H, W`` uint8 (255 paper, 0 ink): a band of width ``line_px`` around ``edges``."""
    if not edges.any():
        return np.full(edges.shape, 255, dtype=np.uint8)
    distance = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 3)
    ink = np.clip(line_px / 2.0 + 0.5 - distance, 0.0, 1.0)
    return np.round(255.0 * (1.0 - ink)).astype(np.uint8)


@CONTOURS.register("depth_normal")
class DepthNormalContours(ContourMethod):
    name = "depth_normal"
    passes = frozenset({"alpha", "depth", "normal", "index"})

    def draw(self, passes: dict[str, np.ndarray], settings: LineSettings) -> np.ndarray:
        edges = edge_pixels(passes["alpha"], passes["depth"], passes["normal"], passes["index"])
        edges = remove_specks(edges, round(SPECK_FRACTION * min(edges.shape)))
        return draw_lines(edges, settings.line_px)
