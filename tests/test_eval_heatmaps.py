"""Heatmap encode/decode, flip test, top-down crops and augmentation keep labels right."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluation import heatmaps, topdown
from evaluation.augment import PhotometricAugment, swap_left_right
from rig2sketch.skeleton import COCO_FLIP_PAIRS, COCO_KEYPOINTS

IN, HM = (192, 256), (48, 64)


def random_keypoints(rng: np.random.Generator, n: int, margin: float) -> np.ndarray:
    kp = np.ones((n, 3), np.float32) * 2
    kp[:, 0] = rng.uniform(margin, IN[0] - margin, n)
    kp[:, 1] = rng.uniform(margin, IN[1] - margin, n)
    return kp


def test_encode_decode_within_half_pixel() -> None:
    kp = random_keypoints(np.random.default_rng(0), 17 * 20, margin=4)
    maps, weight = heatmaps.encode(kp, IN, HM, sigma=2.0)
    assert weight.min() == 1 and maps.shape == (17 * 20, 64, 48)
    xy, conf = heatmaps.decode(maps.reshape(20, 17, 64, 48), IN, sigma=2.0, refine="dark")
    err = np.abs(xy.reshape(-1, 2) - kp[:, :2]).max()
    assert err < 0.5, err
    # Without refinement the error is up to half a cell (2 px): the refinement matters.
    xy0, _ = heatmaps.decode(maps.reshape(20, 17, 64, 48), IN, sigma=2.0, refine="none")
    assert np.abs(xy0.reshape(-1, 2) - kp[:, :2]).max() > 1.0


def test_batch_encoder_matches_numpy_and_drops_unlabelled() -> None:
    kp = random_keypoints(np.random.default_rng(1), 17, margin=0)
    kp[3, 2] = 0
    kp[4, 0] = -5
    ref, w = heatmaps.encode(kp, IN, HM, 2.0)
    got, wb = heatmaps.encode_batch(torch.from_numpy(kp)[None], IN, HM, 2.0)
    assert np.allclose(got[0].numpy(), ref, atol=1e-5)
    assert w[3] == 0 and w[4] == 0 and wb[0, 3] == 0 and ref[3].max() == 0


def test_flip_back_swaps_pairs_and_mirrors() -> None:
    kp = random_keypoints(np.random.default_rng(2), 17, margin=8)
    truth, _ = heatmaps.encode(kp, IN, HM, 2.0)
    # What a correct model sees in the mirrored image: the character's left limbs now look
    # like right limbs, at x -> W - x.
    mirrored = swap_left_right(kp, COCO_FLIP_PAIRS)
    mirrored[:, 0] = IN[0] - mirrored[:, 0]
    seen, _ = heatmaps.encode(mirrored, IN, HM, 2.0)
    back = heatmaps.flip_back(torch.from_numpy(seen)[None], COCO_FLIP_PAIRS)[0].numpy()
    assert np.allclose(back, truth, atol=1e-5)
    lw, rw = COCO_KEYPOINTS.index("left_wrist"), COCO_KEYPOINTS.index("right_wrist")
    assert (lw, rw) in COCO_FLIP_PAIRS and len(COCO_FLIP_PAIRS) == 8


def test_flip_test_averages_a_mirror_consistent_model() -> None:
    kp = random_keypoints(np.random.default_rng(3), 17, margin=8)
    truth, _ = heatmaps.encode(kp, IN, HM, 2.0)
    mirrored = swap_left_right(kp, COCO_FLIP_PAIRS)
    mirrored[:, 0] = IN[0] - mirrored[:, 0]
    seen, _ = heatmaps.encode(mirrored, IN, HM, 2.0)

    class Oracle(torch.nn.Module):  # answers by looking at a marker pixel: flipped or not
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flipped = x[:, 0, 0, -1] > 0
            return torch.stack([torch.from_numpy(seen if f else truth) for f in flipped])

    image = torch.zeros(1, 3, IN[1], IN[0])
    image[:, :, 0, 0] = 1
    out = heatmaps.predict_heatmaps(Oracle(), image, True, COCO_FLIP_PAIRS)
    assert np.allclose(out[0].numpy(), truth, atol=1e-5)


def test_crop_round_trip_and_aspect_padding() -> None:
    center, size = topdown.box_to_center_size(np.array([10, 20, 50, 200]), 0.75, 1.25)
    assert np.allclose(center, [35, 120]) and np.allclose(size, [187.5, 250])
    M = topdown.crop_matrix(center, size, IN, rotation_deg=30, flip=True)
    pts = np.array([[35.0, 120.0], [12.5, 33.25]])
    back = topdown.transform_points(topdown.invert(M), topdown.transform_points(M, pts))
    assert np.allclose(back, pts)
    assert np.allclose(topdown.transform_points(M, pts[:1]), [[96, 128]])


def test_warp_moves_pixels_where_points_go() -> None:
    image = np.full((100, 80, 3), 255, np.uint8)
    image[40:42, 30:32] = 0  # a dark 2x2 dot centred on (31, 41) in continuous pixels
    M = topdown.crop_matrix(np.array([40.0, 50.0]), np.array([60.0, 80.0]), (96, 128), rotation_deg=20, flip=True)
    crop = topdown.warp_image(image, M, (96, 128))
    ys, xs = np.nonzero(crop[:, :, 0] < 128)
    expected = topdown.transform_points(M, np.array([31.0, 41.0]))
    assert np.allclose([xs.mean() + 0.5, ys.mean() + 0.5], expected, atol=0.6)


@pytest.mark.parametrize("preset", ["seed", "strong"])
def test_photometric_presets_keep_keypoints_on_content(preset: str) -> None:
    image = np.full((128, 96, 3), 255, np.uint8)
    kp = np.array([[30.5, 40.5, 2], [60.5, 90.5, 2]], np.float32)
    for x, y, _ in kp:
        image[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2] = 0
    aug = PhotometricAugment(preset)
    rng = np.random.default_rng(0)
    for _ in range(10):
        out, moved = aug(image, kp, rng)
        assert out.shape == image.shape and out.dtype == np.uint8
        for x, y, _ in moved:
            if 2 <= x < 94 and 2 <= y < 126:
                patch = out[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2].astype(float).mean()
                assert patch < out.astype(float).mean(), "a keypoint left its dot"
    a1, k1 = PhotometricAugment(preset)(image, kp, np.random.default_rng(5))
    a2, k2 = PhotometricAugment(preset)(image, kp, np.random.default_rng(5))
    assert np.array_equal(a1, a2) and np.array_equal(k1, k2)
