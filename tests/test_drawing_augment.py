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


def test_partial_crops_cut_the_figure_to_its_upper_or_lower_part() -> None:
    """``augment.partial_prob``: the crop covers the upper or lower part of the box, so the other
    part's joints land outside the crop (and drop out of the loss); off, the stream is unchanged."""
    import cv2

    from evaluation.augment import part_box, sample_jitter
    from evaluation.config import AugmentConfig, ModelConfig
    from evaluation.data import PoseRecord, TopDownDataset

    image = np.full((200, 100, 3), 255, np.uint8)
    ok, png = cv2.imencode(".png", image)
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0], kp[:, 1], kp[:, 2] = 50, np.linspace(12, 188, 17), 2  # nose at the top, ankles at the bottom
    record = PoseRecord("a", png.tobytes(), 100, 200, kp, np.array([10, 5, 80, 190], np.float32), 80 * 190)
    model = ModelConfig(arch="blazepose_full", input_width=256, input_height=256)
    still = dict(preset="standard", scale_factor=0.0, rotation_prob=0.0, flip_prob=0.0)
    parts = set()
    ds = TopDownDataset([record], model, AugmentConfig(partial_prob=1.0, **still))
    for epoch in range(12):
        ds.set_epoch(epoch)
        y = ds[0]["keypoints"][:, 1].numpy()
        inside = (y >= 0) & (y < 256)
        assert 0 < inside.sum() < 17
        parts.add("upper" if inside[0] else "lower")
        assert inside[0] != inside[-1]
    assert parts == {"upper", "lower"}
    whole = TopDownDataset([record], model, AugmentConfig(partial_prob=0.0, **still))[0]["keypoints"][:, 1].numpy()
    assert ((whole >= 0) & (whole < 256)).all()
    assert part_box(np.array([0, 10, 4, 100.0]), "lower").tolist() == pytest.approx([0, 55, 4, 55])
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert sample_jitter(AugmentConfig(), rng_a) == sample_jitter(AugmentConfig(), rng_b)
    assert rng_a.random() == rng_b.random()
