"""Training augmentation for top-down crops, keypoint-aware.

Two parts, both driven by one ``rng``:
- crop jitter (every preset but "none"): random scale, rotation and horizontal flip applied to
  the crop's affine matrix, so the image is resampled once; a flip swaps left/right keypoints
  (``rig2sketch.skeleton.COCO_FLIP_PAIRS``);
- an Albumentations pipeline on the crop (presets "seed" and "strong"): the seed thesis's set
  (affine, blurs, multiplicative and Gaussian noise) and more; "drawing" puts the hand-drawn
  look of ``evaluation.drawing_augment`` before the seed's blurs and noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import albumentations as A
import cv2
import numpy as np

from evaluation.config import AugmentConfig
from evaluation.drawing_augment import DrawingPipeline
from rig2sketch.registry import Registry

PIPELINES: Registry[Callable[[], A.Compose | None]] = Registry("augmentation preset")
WHITE = 255  # line art is dark on white; borders are filled white


def _compose(transforms: list) -> A.Compose:
    return A.Compose(transforms, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False))


@PIPELINES.register("none")
def _none() -> None:
    return None


@PIPELINES.register("standard")
def _standard() -> None:
    return None


def _seed_transforms() -> list:
    return [
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.05, 0.05), rotate=(-15, 15), shear=(-10, 10),
                 border_mode=cv2.BORDER_CONSTANT, fill=WHITE, p=0.5),
        A.OneOf([
            A.Blur(blur_limit=(3, 5)),
            A.GaussianBlur(blur_limit=(3, 5)),
            A.MotionBlur(blur_limit=(3, 7)),
            A.MedianBlur(blur_limit=(3, 5)),
        ], p=0.4),
        A.MultiplicativeNoise(multiplier=(0.8, 1.2), per_channel=True, elementwise=True, p=0.3),
        A.GaussNoise(std_range=(0.02, 0.1), p=0.3),
    ]


@PIPELINES.register("seed")
def _seed() -> A.Compose:
    return _compose(_seed_transforms())


@PIPELINES.register("strong")
def _strong() -> A.Compose:
    return _compose(_seed_transforms() + [
        A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3, p=0.4),
        A.ToGray(p=0.2),
        A.ImageCompression(quality_range=(40, 95), p=0.3),
        A.Downscale(scale_range=(0.4, 0.8), p=0.2),
        A.CoarseDropout(num_holes_range=(1, 3), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15),
                        fill=WHITE, p=0.3),
    ])


@PIPELINES.register("drawing")
def _drawing() -> DrawingPipeline:
    """Hand-drawn look (``evaluation.drawing_augment``: wobble, stroke breaks, line weight,
    paper), then the seed's blurs and noise."""
    return DrawingPipeline(_compose(_seed_transforms()[1:]))


@dataclass(frozen=True)
class CropJitter:
    scale: float
    rotation_deg: float
    flip: bool
    part: str = ""  # "", "upper" or "lower": crop to that part of the box (``part_box``)


# A part keeps this share of the box's height, from the top (upper) or the bottom (lower).
PART_SHARE = 0.55


def part_box(bbox: np.ndarray, part: str) -> np.ndarray:
    """The ``upper`` or ``lower`` part (``PART_SHARE`` of the height) of a box (x, y, w, h)."""
    x, y, w, h = (float(t) for t in bbox)
    if part == "upper":
        return np.array([x, y, w, PART_SHARE * h], np.float32)
    if part == "lower":
        return np.array([x, y + (1 - PART_SHARE) * h, w, PART_SHARE * h], np.float32)
    return np.asarray(bbox, np.float32)


def sample_jitter(cfg: AugmentConfig, rng: np.random.Generator) -> CropJitter:
    """Random crop jitter (HRNet's: scale x[1-s, 1+s], rotation clipped normal, flip)."""
    if cfg.preset == "none":
        return CropJitter(1.0, 0.0, False)
    s = float(np.clip(rng.normal() * cfg.scale_factor + 1, 1 - cfg.scale_factor, 1 + cfg.scale_factor))
    r = 0.0
    if rng.random() < cfg.rotation_prob:
        r = float(np.clip(rng.normal() * cfg.rotation_deg, -2 * cfg.rotation_deg, 2 * cfg.rotation_deg))
    flip = bool(rng.random() < cfg.flip_prob)
    part = ""
    if cfg.partial_prob and rng.random() < cfg.partial_prob:  # no draw at 0: earlier runs repeat exactly
        part = "upper" if rng.random() < 0.5 else "lower"
    return CropJitter(s, r, flip, part)


def swap_left_right(keypoints: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Swap rows of each (left, right) pair of a ``K, C`` array (after mirroring the image,
    the character's left arm is where a right arm would be)."""
    out = keypoints.copy()
    for a, b in pairs:
        out[[a, b]] = keypoints[[b, a]]
    return out


class PhotometricAugment:
    """Applies a preset's Albumentations pipeline to a crop ``H, W, 3`` uint8 and its keypoints
    ``K, 3`` (crop pixels, continuous convention); seeded from ``rng`` on every call."""

    def __init__(self, preset: str) -> None:
        self.pipeline = PIPELINES.get(preset)()

    def __call__(self, image: np.ndarray, keypoints: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
        if self.pipeline is None:
            return image, keypoints
        self.pipeline.set_random_seed(int(rng.integers(2**31 - 1)))
        # Albumentations addresses pixel centres at integers.
        out = self.pipeline(image=image, keypoints=keypoints[:, :2] - 0.5)
        moved = keypoints.copy()
        moved[:, :2] = np.asarray(out["keypoints"], dtype=np.float32).reshape(-1, 2) + 0.5
        return out["image"], moved
