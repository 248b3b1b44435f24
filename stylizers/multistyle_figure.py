"""Keep the figure: the multistyle generator fine-tuned so a pose network still reads the labelled pose (issue 14).

``rig2sketch train-stylizer stylizer=multistyle train.content=[RENDER_SHARDS] train.pose_weight=1
train.teacher_weight=1 train.content_weight=0 train.style_weight=0``: each step takes top-down crops around the
labelled figure of render rows (the box's longer side x ``CROP_MARGIN``, the pose model's crop), at one random
working size in ``train.figure_size`` (the sizes the stylizer meets: a 512 px render's figure is ~300-450 px),
stylizes them with random bank styles at a random ``alpha`` in ``train.alpha_range`` and adds

  λp · |P(g(c, s)) - P(c)|₁    P: the pose network's 17 COCO landmarks (crop fractions) on 256 px crops
  λt · |g(c, s) - g₀(c, s)|₁   g₀: Magenta's pretrained generator, frozen (keep the look it learned)

to the trainer's loss. The stylized figure is held to what the pose network reads on the *render*, not to the
labels: a stylization cannot teach it to see a pose the render does not show. P is handed in by the command
(``train.pose_model``, built by ``evaluation.fidelity.figure_reader``; stylizers do not import evaluation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

CROP_MARGIN = 1.25  # the top-down crop around a box, as the pose models take it
READER_SIZE = 256  # the pose network's input side


def figure_crop(image: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """The square crop (side = longer box side x ``CROP_MARGIN``) centred on ``bbox`` (x, y, w, h) of an
    ``H, W, 3`` uint8 image, white where it leaves the image; native resolution."""
    x, y, w, h = (float(v) for v in bbox)
    side = max(8, int(round(max(w, h) * CROP_MARGIN)))
    left, top = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
    crop = np.full((side, side, 3), 255, np.uint8)
    sy, sx = max(0, top), max(0, left)
    ey, ex = min(image.shape[0], top + side), min(image.shape[1], left + side)
    if ey > sy and ex > sx:
        crop[sy - top:ey - top, sx - left:ex - left] = image[sy:ey, sx:ex, :3]
    return crop


def load_figures(sources: list[str]) -> list[np.ndarray]:
    """Figure crops (``figure_crop``, uint8) of every labelled row of the render shard folders in ``sources``."""
    from shards import iter_samples

    crops = []
    for src in sources:
        p = Path(src)
        if not list(p.rglob("*.parquet")):
            continue
        for row in iter_samples(p, decode_images=True):
            if not (np.asarray(row["keypoints"]).reshape(17, 3)[:, 2] > 0).any():
                continue
            img = np.asarray(row["image"])
            img = img if img.ndim == 3 else np.repeat(img[..., None], 3, 2)
            if img.dtype != np.uint8:
                img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8) if img.max() <= 1.0 else img.astype(np.uint8)
            crops.append(figure_crop(img, np.asarray(row["bbox"], np.float32)))
    if not crops:
        raise ValueError(f"train.pose_weight/teacher_weight need render shards with labelled figures in train.content "
                         f"(got {sources}); render some with 'rig2sketch render' and list their folder")
    return crops


def figure_batch(crops: list[np.ndarray], n: int, size_range: list[int], rng: np.random.Generator) -> torch.Tensor:
    """``n`` random figure crops at one random side in ``size_range`` (a multiple of 4), maybe mirrored:
    ``n, 3, S, S`` float in [0, 1]."""
    low, high = (int(v) // 4 for v in size_range)
    side = 4 * int(rng.integers(low, high + 1))
    picks = rng.integers(0, len(crops), size=n)
    out = []
    for i in picks:
        crop = cv2.resize(crops[i], (side, side), interpolation=cv2.INTER_AREA if crops[i].shape[0] > side
                          else cv2.INTER_LINEAR)
        out.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    arr = np.stack(out).astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))


def reader_input(images: torch.Tensor) -> torch.Tensor:
    """``B, 3, S, S`` -> the pose network's ``B, 3, 256, 256`` (differentiable)."""
    if images.shape[-1] == READER_SIZE:
        return images
    return F.interpolate(images, size=(READER_SIZE, READER_SIZE), mode="bilinear", align_corners=False,
                         antialias=images.shape[-1] > READER_SIZE)


def figure_loss(reader: Callable[[torch.Tensor], torch.Tensor], stylized: torch.Tensor,
                content: torch.Tensor) -> torch.Tensor:
    """Mean |landmarks(stylized) - landmarks(content)| in crop fractions (the content's reading is the target)."""
    with torch.no_grad():
        target = reader(reader_input(content))
    return (reader(reader_input(stylized.float().clamp(0, 1))) - target).abs().mean()
