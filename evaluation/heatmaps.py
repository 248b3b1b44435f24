"""Gaussian keypoint heatmaps: encode, decode with DARK sub-pixel refinement, flip test.

Coordinates: input-image pixels with the origin at the top-left corner of the top-left pixel,
pixel centres at +0.5 (the shard convention). Heatmap cell (row i, col j) of a map with stride
``s`` (input size / heatmap size) is centred on input pixel ``((j + 0.5) s, (i + 0.5) s)``, so a
horizontal flip of the input is an exact column flip of the heatmap, with no one-pixel shift.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter


def encode(keypoints: np.ndarray, input_size: tuple[int, int], heatmap_size: tuple[int, int],
           sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``K, 3`` (x, y, v) in input pixels -> (heatmaps ``K, h, w`` float32, weights ``K``).

    input_size and heatmap_size are (width, height). A joint gets weight 0 when v == 0 or when it
    lies outside the input; its heatmap is then all zeros.
    """
    (W, H), (w, h) = input_size, heatmap_size
    sx, sy = W / w, H / h
    u = keypoints[:, 0] / sx - 0.5
    v = keypoints[:, 1] / sy - 0.5
    inside = (keypoints[:, 0] >= 0) & (keypoints[:, 0] < W) & (keypoints[:, 1] >= 0) & (keypoints[:, 1] < H)
    weight = ((keypoints[:, 2] > 0) & inside).astype(np.float32)
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    gx = np.exp(-((xs[None, :] - u[:, None]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((ys[None, :] - v[:, None]) ** 2) / (2 * sigma**2))
    maps = gy[:, :, None] * gx[:, None, :] * weight[:, None, None]
    return maps.astype(np.float32), weight


def encode_batch(keypoints: torch.Tensor, input_size: tuple[int, int], heatmap_size: tuple[int, int],
                 sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched ``encode`` in torch: keypoints ``B, K, 3`` -> (``B, K, h, w``, ``B, K``)."""
    (W, H), (w, h) = input_size, heatmap_size
    x, y, vis = keypoints.unbind(-1)
    u = x / (W / w) - 0.5
    v = y / (H / h) - 0.5
    weight = ((vis > 0) & (x >= 0) & (x < W) & (y >= 0) & (y < H)).to(keypoints.dtype)
    xs = torch.arange(w, dtype=keypoints.dtype, device=keypoints.device)
    ys = torch.arange(h, dtype=keypoints.dtype, device=keypoints.device)
    gx = torch.exp(-((xs - u[..., None]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((ys - v[..., None]) ** 2) / (2 * sigma**2))
    return gy[..., :, None] * gx[..., None, :] * weight[..., None, None], weight


def decode(heatmaps: np.ndarray, input_size: tuple[int, int], sigma: float,
           refine: str = "dark") -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps ``N, K, h, w`` -> (keypoints ``N, K, 2`` in input pixels, scores ``N, K``).

    refine: "dark" (Zhang et al. 2020: Taylor expansion of the log of the Gaussian-smoothed map
    around its maximum), "quarter" (move a quarter cell towards the higher neighbour, as the
    original HRNet does) or "none" (argmax cell centre).
    """
    if refine not in ("dark", "quarter", "none"):
        raise ValueError(f"refine must be 'dark', 'quarter' or 'none', got {refine!r}")
    hm = np.asarray(heatmaps, dtype=np.float32)
    N, K, h, w = hm.shape
    flat = hm.reshape(N, K, -1)
    idx = flat.argmax(-1)
    scores = flat.max(-1)
    py, px = np.divmod(idx, w)
    coords = np.stack([px, py], -1).astype(np.float64)
    if refine == "quarter":
        n, k = np.meshgrid(np.arange(N), np.arange(K), indexing="ij")
        xl, xr = np.clip(px - 1, 0, w - 1), np.clip(px + 1, 0, w - 1)
        yu, yd = np.clip(py - 1, 0, h - 1), np.clip(py + 1, 0, h - 1)
        coords[..., 0] += 0.25 * np.sign(hm[n, k, py, xr] - hm[n, k, py, xl])
        coords[..., 1] += 0.25 * np.sign(hm[n, k, yd, px] - hm[n, k, yu, px])
    elif refine == "dark":
        coords += _dark_offsets(hm, px, py, sigma)
    sx, sy = input_size[0] / w, input_size[1] / h
    out = np.stack([(coords[..., 0] + 0.5) * sx, (coords[..., 1] + 0.5) * sy], -1)
    return out.astype(np.float32), scores


def _dark_offsets(hm: np.ndarray, px: np.ndarray, py: np.ndarray, sigma: float) -> np.ndarray:
    N, K, h, w = hm.shape
    smooth = gaussian_filter(hm, sigma=(0, 0, sigma, sigma), mode="constant", truncate=2.5)
    # Rescale so each map keeps its original maximum, as DARK's modulation does.
    peak = hm.reshape(N, K, -1).max(-1)[..., None, None]
    speak = smooth.reshape(N, K, -1).max(-1)[..., None, None]
    smooth = smooth * (peak / np.maximum(speak, 1e-12))
    smooth_step = _taylor_step(np.log(np.maximum(smooth, 1e-10)), px, py)
    # Near the border the blur sees zeros beyond the map and drags the peak inwards; there the
    # raw map (a clean Gaussian for a confident prediction) gives the better step.
    raw_step = _taylor_step(np.log(np.maximum(hm, 1e-10)), px, py)
    margin = int(np.ceil(2.5 * sigma))
    near = (px < margin) | (px >= w - margin) | (py < margin) | (py >= h - margin)
    offsets = np.where(near[..., None], raw_step, smooth_step)
    offsets[peak[..., 0, 0] <= 0] = 0.0
    return np.clip(offsets, -1.0, 1.0)


def _taylor_step(logm: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Newton step -H^-1 g of ``N, K, h, w`` log-maps at integer peaks -> ``N, K, 2`` (dx, dy)."""
    N, K = px.shape
    pad = np.pad(logm, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    n, k = np.meshgrid(np.arange(N), np.arange(K), indexing="ij")
    y, x = py + 1, px + 1
    c = pad[n, k, y, x]
    dx = 0.5 * (pad[n, k, y, x + 1] - pad[n, k, y, x - 1])
    dy = 0.5 * (pad[n, k, y + 1, x] - pad[n, k, y - 1, x])
    dxx = pad[n, k, y, x + 1] - 2 * c + pad[n, k, y, x - 1]
    dyy = pad[n, k, y + 1, x] - 2 * c + pad[n, k, y - 1, x]
    dxy = 0.25 * (pad[n, k, y + 1, x + 1] - pad[n, k, y + 1, x - 1]
                  - pad[n, k, y - 1, x + 1] + pad[n, k, y - 1, x - 1])
    det = dxx * dyy - dxy**2
    ok = (det > 1e-12) & (dxx < 0)
    safe = np.where(ok, det, 1.0)
    ox = -(dyy * dx - dxy * dy) / safe
    oy = -(dxx * dy - dxy * dx) / safe
    return np.stack([np.where(ok, ox, 0.0), np.where(ok, oy, 0.0)], -1)


def flip_back(heatmaps: torch.Tensor, flip_pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """Heatmaps predicted on a horizontally flipped input ``B, K, h, w`` -> the unflipped frame:
    mirror the columns and swap each left/right channel pair."""
    out = heatmaps.flip(-1)
    perm = list(range(out.shape[1]))
    for a, b in flip_pairs:
        perm[a], perm[b] = b, a
    return out[:, perm]


@torch.no_grad()
def predict_heatmaps(model: torch.nn.Module, images: torch.Tensor, flip_test: bool,
                     flip_pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """Model heatmaps for ``B, 3, H, W`` inputs; with flip_test, the mean with the flipped pass."""
    out = model(images).float()
    if flip_test:
        out = 0.5 * (out + flip_back(model(images.flip(-1)).float(), flip_pairs))
    return out
