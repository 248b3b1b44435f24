"""COCO OKS scoring, PCK, holdout splits and the BlazePose baseline."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import stickfigures
from evaluation.blazepose import BLAZEPOSE_LANDMARKS, COCO_FROM_BLAZEPOSE, BlazePose
from evaluation.coco_eval import pck, score
from evaluation.config import HoldoutConfig
from evaluation.data import PoseRecord, holdout_role, load_shard_records, read_image
from rig2sketch.skeleton import COCO_KEYPOINTS


@pytest.fixture(scope="module")
def stick_dir(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("stick")
    stickfigures.write_dataset(out, 12, (96, 128), np.random.default_rng(0),
                               characters=("a", "b", "c"), styles=("s1", "s2"))
    return str(out)


@pytest.fixture(scope="module")
def records(stick_dir) -> list[PoseRecord]:
    return load_shard_records([stick_dir], None, HoldoutConfig())


def predictions(records: list[PoseRecord], shift: float) -> np.ndarray:
    kp = np.stack([r.keypoints for r in records]).copy()
    kp[:, :, 0] += shift
    kp[:, :, 2] = 0.9
    return kp


def test_ground_truth_predictions_score_one_and_shifted_lower(records) -> None:
    exact = score(records, predictions(records, 0.0))
    assert exact["AP"] == pytest.approx(1.0) and exact["AR"] == pytest.approx(1.0) and exact["PCK"] == 1.0
    near = score(records, predictions(records, 2.0))
    far = score(records, predictions(records, 8.0))
    assert 1.0 > near["AP"] > far["AP"] >= 0.0
    assert near["PCK"] >= far["PCK"]
    assert exact["PCK@0.1"] == 1.0 and near["PCK@0.1"] <= near["PCK"] and far["PCK@0.1"] <= far["PCK"]


def test_sets_without_face_points_score_on_the_joints_they_have(records) -> None:
    faceless = []
    for r in records:
        kp = r.keypoints.copy()
        kp[:5] = 0
        faceless.append(PoseRecord(r.sample_id, r.image, r.width, r.height, kp, r.bbox, r.area))
    pred = predictions(records, 0.0)
    pred[:, :5, :2] += 40.0  # wrong face predictions do not count when the set has no face labels
    m = score(faceless, pred)
    assert m["AP"] == pytest.approx(1.0)
    assert np.isnan(m["PCK_nose"]) and m["PCK_left_wrist"] == 1.0


def test_pck_threshold_is_torso_relative() -> None:
    gt = np.zeros((1, 17, 3))
    gt[0, :, 2] = 2
    gt[0, 5, :2] = (0, 0)
    gt[0, 12, :2] = (30, 40)  # torso diameter 50 -> threshold 10 px
    pred = gt.copy()
    pred[0, 9, 0] += 9.9
    pred[0, 10, 0] += 10.1
    out = pck(gt, pred)
    assert out["left_wrist"] == 1.0 and out["right_wrist"] == 0.0


def test_holdout_roles_never_leak() -> None:
    h = HoldoutConfig(characters=["c"], styles=["s2"])
    assert holdout_role("a", "s1", "train", h) == "train"
    assert holdout_role("c", "s2", "train", h) == "val"
    assert holdout_role("c", "s1", "train", h) is None and holdout_role("a", "s2", "train", h) is None
    assert holdout_role("a", "", "val", HoldoutConfig()) == "val"


def test_holdout_split_on_shards(stick_dir) -> None:
    h = HoldoutConfig(characters=["c"], styles=["s2"])
    train = load_shard_records([stick_dir], "train", h)
    val = load_shard_records([stick_dir], "val", h)
    assert {(r.character, r.style) for r in train} == {("a", "s1"), ("b", "s1")}
    assert {(r.character, r.style) for r in val} == {("c", "s2")}
    with pytest.raises(ValueError, match="holdout"):
        load_shard_records([stick_dir], "val", HoldoutConfig(characters=["nobody"], styles=["s1"]))


def test_blazepose_mapping_puts_each_joint_on_its_side() -> None:
    assert len(BLAZEPOSE_LANDMARKS) == 33
    expected = {"nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8, "left_shoulder": 11,
                "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14, "left_wrist": 15, "right_wrist": 16,
                "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26, "left_ankle": 27,
                "right_ankle": 28}
    assert dict(zip(COCO_KEYPOINTS, COCO_FROM_BLAZEPOSE)) == expected
    for coco_name, bp in zip(COCO_KEYPOINTS, COCO_FROM_BLAZEPOSE):
        side = coco_name.split("_")[0]
        if side in ("left", "right"):
            assert BLAZEPOSE_LANDMARKS[bp].startswith(side)


def test_blazepose_runs_on_a_drawing(records) -> None:
    model = BlazePose()
    rec = records[0]
    lm, flag = model.landmarks(read_image(rec), rec.bbox)
    assert lm.shape == (39, 5) and 0.0 <= flag <= 1.0
    assert np.all((lm[:, 3:5] >= 0) & (lm[:, 3:5] <= 1))
    kp = model.predict(read_image(rec), rec.bbox)
    assert kp.shape == (17, 3) and np.isfinite(kp).all()
    # Landmarks land around the figure, in image pixels (not 256-crop pixels).
    x, y, w, h = (float(t) for t in rec.bbox)
    assert np.median(kp[:, 0]) == pytest.approx(x + w / 2, abs=w) and np.median(kp[:, 1]) == pytest.approx(
        y + h / 2, abs=h)


def test_score_command_on_a_coco_set_with_blazepose(stick_dir, tmp_path) -> None:
    import json

    from evaluation.config import EvalSet, EvaluateConfig, ExportConfig
    from evaluation.experiments import score_command
    from evaluation.export import export

    export(ExportConfig(dataset=stick_dir, out=str(tmp_path / "coco")))
    cfg = EvaluateConfig(checkpoint="blazepose", out_dir=str(tmp_path / "m"), sets=[
        EvalSet(name="sticks", kind="coco", path=str(tmp_path / "coco" / "images"),
                annotations=str(tmp_path / "coco" / "annotations" / "person_keypoints_train.json"))])
    md = score_command(cfg)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert 0.0 <= metrics["sticks"]["AP"] <= 1.0 and "| sticks |" in md.read_text()
