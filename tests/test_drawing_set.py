"""The bundled hand-labelled Open Peeps set (data/drawings/open_peeps): it loads the way `score` loads
COCO sets, and its labels are consistent with its images. No rendering."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from evaluation.data import load_coco_records
from rig2sketch.skeleton import COCO_KEYPOINTS

SET_DIR = Path(__file__).resolve().parent.parent / "data" / "drawings" / "open_peeps"
IMAGES = SET_DIR / "images"
ANNOTATIONS = SET_DIR / "person_keypoints.json"
LEFT_SHOULDER, RIGHT_SHOULDER = COCO_KEYPOINTS.index("left_shoulder"), COCO_KEYPOINTS.index("right_shoulder")
LEFT_HIP, RIGHT_HIP = COCO_KEYPOINTS.index("left_hip"), COCO_KEYPOINTS.index("right_hip")


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads(ANNOTATIONS.read_text())


def keypoints(ann: dict) -> np.ndarray:
    return np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)


def test_the_set_loads_as_score_loads_it_and_with_pycocotools(data):
    records = load_coco_records(str(IMAGES), str(ANNOTATIONS))
    assert len(records) == len(data["annotations"]) >= 20
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(ANNOTATIONS))
    assert coco.getCatIds(catNms=["person"]) == [1]
    assert list(coco.loadCats(1)[0]["keypoints"]) == list(COCO_KEYPOINTS)
    assert len(coco.getAnnIds(catIds=[1], iscrowd=False)) == len(records)
    assert data["licenses"][0]["name"] == "CC0-1.0"


def test_every_image_exists_with_the_size_the_json_gives(data):
    for im in data["images"]:
        with Image.open(IMAGES / im["file_name"]) as img:
            assert img.size == (im["width"], im["height"]), im["file_name"]


def test_annotations_have_17_keypoints_and_consistent_box_fields(data):
    image_ids = {im["id"] for im in data["images"]}
    assert len({ann["image_id"] for ann in data["annotations"]}) == len(image_ids)
    for ann in data["annotations"]:
        kp = keypoints(ann)
        assert kp.shape == (17, 3)
        assert set(kp[:, 2]) <= {0, 1, 2}
        assert ann["num_keypoints"] == int((kp[:, 2] > 0).sum())
        assert (kp[kp[:, 2] == 0, :2] == 0).all()  # v=0 means x=y=0 in COCO
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and ann["area"] == w * h and ann["iscrowd"] == 0
        assert ann["image_id"] in image_ids and ann["category_id"] == 1
        # PCK needs the torso (left shoulder to right hip) on every person
        assert kp[LEFT_SHOULDER, 2] > 0 and kp[RIGHT_HIP, 2] > 0


def test_labelled_points_lie_in_the_image_and_in_the_box_grown_by_ten_percent(data):
    sizes = {im["id"]: (im["width"], im["height"]) for im in data["images"]}
    for ann in data["annotations"]:
        kp = keypoints(ann)
        pts = kp[kp[:, 2] > 0, :2]
        width, height = sizes[ann["image_id"]]
        assert ((pts >= 0) & (pts <= (width, height))).all(), ann["id"]
        x, y, w, h = ann["bbox"]
        lo, hi = np.array([x - 0.05 * w, y - 0.05 * h]), np.array([x + 1.05 * w, y + 1.05 * h])
        assert ((pts >= lo) & (pts <= hi)).all(), ann["id"]


def test_the_box_is_the_tight_box_of_the_ink(data):
    for im, ann in zip(data["images"], data["annotations"]):
        grey = np.asarray(Image.open(IMAGES / im["file_name"]).convert("L"))
        ys, xs = np.nonzero(grey < 128)
        assert ann["bbox"] == [int(xs.min()), int(ys.min()), int(np.ptp(xs) + 1), int(np.ptp(ys) + 1)], im["file_name"]


def test_left_is_the_persons_left_on_figures_facing_the_viewer(data):
    views = [ann["view"] for ann in data["annotations"]]
    assert set(views) <= {"front", "back", "side"} and views.count("front") >= len(views) // 2
    for ann in data["annotations"]:
        if ann["view"] != "front":
            continue
        kp = keypoints(ann)
        assert kp[LEFT_SHOULDER, 0] > kp[RIGHT_SHOULDER, 0], ann["id"]
        assert kp[LEFT_HIP, 0] > kp[RIGHT_HIP, 0], ann["id"]
