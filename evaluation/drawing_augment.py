"""Keypoint-safe augmentations that make clean line renders look drawn by hand.

Each transform takes ``H, W, 3`` uint8 line art (dark lines on light paper) and an ``rng`` and
returns an image of the same size. None moves the figure by more than ``WOBBLE_MAX_PX`` pixels,
so keypoint labels stay exact to within a line's width and are passed through unchanged:

- ``line_wobble``: a smooth random displacement field (hand tremor), at most ``WOBBLE_MAX_PX``;
- ``stroke_breaks``: short gaps erased from the lines (lifted pen);
- ``line_weight``: lines thickened by a pixel or two, or drawn with a finer, paler pen;
- ``paper_texture``: off-white tint, low-frequency shading and grain (paper, scan).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

WOBBLE_MAX_PX = 2.0


def _smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> np.ndarray:
    """Noise in [-1, 1] varying over about ``cells`` cells per side, ``H, W`` float32."""
    h, w = shape
    coarse = rng.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).clip(-1, 1)


def line_wobble(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    amp = rng.uniform(0.5, WOBBLE_MAX_PX)
    cells = int(rng.integers(6, 16))
    # The field is smooth, so it is made at 1/4 size and upsampled with the pixel grid added.
    small = (max(2, h // 4), max(2, w // 4))
    dx = _smooth_noise(small, cells, rng) * amp
    dy = _smooth_noise(small, cells, rng) * amp
    xs, ys = _grid(h, w)
    return cv2.remap(image, xs + cv2.resize(dx, (w, h)), ys + cv2.resize(dy, (w, h)), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


def stroke_breaks(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    gaps = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(5, 25))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(1, max(2, min(h, w) // 40) + 1))
        cv2.circle(gaps, (x, y), r, 255, -1)
    paper = np.percentile(image[::4, ::4].reshape(-1, image.shape[2]), 90, axis=0).astype(np.uint8)
    out = image.copy()
    out[gaps > 0] = paper
    return out


def line_weight(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.6:
        # Lines are dark: a minimum filter (erode) thickens them by one or two pixels.
        return cv2.erode(image, np.ones((2, 2) if rng.random() < 0.5 else (3, 3), np.uint8))
    # A finer, lighter pen: a hard thinning would erase 1-px lines, so the ink is made paler
    # and the line's soft edge narrower instead.
    ink = 255.0 - image.astype(np.float32)
    return (255.0 - rng.uniform(0.55, 0.85) * ink * (ink > 64)).clip(0, 255).astype(np.uint8)


def paper_texture(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    tint = np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.82, 1.0)], np.float32)  # warm paper
    shade = 1.0 - rng.uniform(0.0, 0.15) * (0.5 + 0.5 * _smooth_noise((h, w), 3, rng))
    grain = rng.standard_normal((h, w), dtype=np.float32)
    grain *= rng.uniform(0.01, 0.05)
    grain += 1.0
    gain = cv2.merge([shade * grain * t for t in tint.tolist()])  # float32 throughout
    return cv2.multiply(image.astype(np.float32), gain).clip(0, 255).astype(np.uint8)


DRAWING_TRANSFORMS = ((line_wobble, 0.6), (stroke_breaks, 0.4), (line_weight, 0.5), (paper_texture, 0.6))


class DrawingPipeline:
    """The drawing transforms, each applied with its probability, then an optional
    Albumentations pipeline (blur, noise); called like one: ``pipeline(image=, keypoints=)``."""

    def __init__(self, then=None) -> None:
        self.then = then
        self.rng = np.random.default_rng(0)

    def set_random_seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        if self.then is not None:
            self.then.set_random_seed(seed)

    def __call__(self, image: np.ndarray, keypoints) -> dict:
        for transform, p in DRAWING_TRANSFORMS:
            if self.rng.random() < p:
                image = transform(image, self.rng)
        if self.then is not None:
            return self.then(image=image, keypoints=keypoints)
        return {"image": image, "keypoints": keypoints}
