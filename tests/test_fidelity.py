"""OKS and label fidelity maths (evaluation/fidelity.py)."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.fidelity import label_fidelity, object_keypoint_similarity
from rig2sketch.skeleton import COCO_SIGMAS


def labels() -> np.ndarray:
    rng = np.random.default_rng(0)
    kp = np.column_stack([rng.uniform(10, 90, 17), rng.uniform(10, 190, 17), np.full(17, 2.0)])
    kp[3, 2] = 0  # one unlabelled keypoint
    return kp.astype(np.float32)


def test_oks_is_one_for_the_labels_and_follows_the_coco_formula():
    kp = labels()
    assert object_keypoint_similarity(kp, kp, 4000.0) == pytest.approx(1.0)
    moved = kp.copy()
    moved[0, 0] += 3.0  # nose 3 px off: exp(-9 / (2 * area * (2 sigma)^2)), averaged over 16 labelled
    expected = (15 + np.exp(-9.0 / (2 * 4000.0 * (2 * COCO_SIGMAS[0]) ** 2))) / 16
    assert object_keypoint_similarity(moved, kp, 4000.0) == pytest.approx(expected)
    far = kp.copy()
    far[3, :2] += 500  # the unlabelled keypoint does not count
    assert object_keypoint_similarity(far, kp, 4000.0) == pytest.approx(1.0)
    assert np.isnan(object_keypoint_similarity(kp, np.zeros((17, 3), np.float32), 4000.0))


class Shifted:
    """A pose model that answers the labels of the image shifted by ``dx`` pixels."""

    def __init__(self, answers: list[np.ndarray], dx: float) -> None:
        self.answers, self.dx, self.i = answers, dx, 0

    def predict(self, image: np.ndarray, bbox: np.ndarray) -> np.ndarray:
        out = self.answers[self.i].copy()
        out[:, 0] += self.dx
        self.i += 1
        return out


def test_label_fidelity_counts_images_at_oks_threshold():
    kps = [labels(), labels()]
    imgs = [np.zeros((200, 100, 3), np.uint8)] * 2
    boxes, areas = [np.array([0, 0, 100, 200], np.float32)] * 2, [4000.0, 4000.0]
    assert label_fidelity(Shifted(kps, 0.0), imgs, kps, boxes, areas)["fidelity"] == 1.0
    bad = label_fidelity(Shifted(kps, 40.0), imgs, kps, boxes, areas)
    assert bad["fidelity"] == 0.0 and bad["mean_oks"] < 0.5 and bad["images"] == 2
