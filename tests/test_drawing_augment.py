"""Drawing augmentations change how lines look, never where the figure is."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import drawing_augment as da
from evaluation.augment import PhotometricAugment


def _figure() -> np.ndarray:
    """A 2-px black rectangle outline and a diagonal on white, ``96, 80, 3``."""
    im = np.full((96, 80, 3), 255, np.uint8)
    im[20:22, 15:65] = im[70:72, 15:65] = 0
    im[20:72, 15:17] = im[20:72, 63:65] = 0
    for t in range(40):
        im[25 + t, 20 + t] = 0
    return im


def _ink(im: np.ndarray) -> np.ndarray:
    return im.mean(-1) < 160


def _dist_to(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.sqrt(((points[:, None, 0] - xs[None]) ** 2 + (points[:, None, 1] - ys[None]) ** 2).min(1))


@pytest.mark.parametrize("transform", [da.line_wobble, da.stroke_breaks, da.line_weight, da.paper_texture])
def test_each_transform_keeps_the_lines_where_they_were(transform) -> None:
    im = _figure()
    for seed in range(5):
        out = transform(im, np.random.default_rng(seed))
        assert out.shape == im.shape and out.dtype == np.uint8
        moved = _ink(out)
        assert moved.sum() > 0.5 * _ink(im).sum()
        # every new ink pixel lies within the wobble bound (+1 px line weight) of an old line
        ys, xs = np.nonzero(moved)
        assert _dist_to(_ink(im), np.stack([xs, ys], 1)).max() <= da.WOBBLE_MAX_PX + 1.5


def test_transforms_do_what_they_say() -> None:
    im = _figure()
    rng = np.random.default_rng(0)
    assert not np.array_equal(da.line_wobble(im, rng), im)
    assert _ink(da.stroke_breaks(im, np.random.default_rng(3))).sum() < _ink(im).sum()
    pens = [da.line_weight(im, np.random.default_rng(s)) for s in range(8)]
    assert max(_ink(p).sum() for p in pens) > _ink(im).sum()  # a thicker pen
    assert max(p[_ink(im)].mean() for p in pens) > 40  # a paler one
    paper = da.paper_texture(im, np.random.default_rng(1))
    assert paper[~_ink(im)].std() > 1.0 and paper[~_ink(im)].mean() < 255


def test_drawing_preset_passes_keypoints_through_and_repeats_with_the_seed() -> None:
    aug = PhotometricAugment("drawing")
    kp = np.array([[20.0, 30.0, 2.0], [60.0, 70.0, 1.0]], np.float32)
    a, ka = aug(_figure(), kp, np.random.default_rng(5))
    b, kb = aug(_figure(), kp, np.random.default_rng(5))
    assert np.array_equal(a, b) and np.allclose(ka, kp) and np.allclose(kb, kp)
    c, _ = aug(_figure(), kp, np.random.default_rng(6))
    assert not np.array_equal(a, c)
