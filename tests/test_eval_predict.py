"""predict: COCO results for a folder of images, readable by pycocotools; the bundled model loads."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from pycocotools.coco import COCO

from evaluation import stickfigures
from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model, read_model_config, save_model
from evaluation.coco_eval import person_category
from evaluation.config import ModelConfig, PredictConfig
from evaluation.hrnet import build_hrnet
from evaluation.predict import image_records, predict
from rig2sketch.skeleton import COCO_FLIP_PAIRS


@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(0)
    kps = []
    for i in range(3):
        kp = stickfigures.random_pose((96, 128), rng)
        kps.append(kp)
        img = stickfigures.draw(kp, (96, 128), 2, 0)
        cv2.imwrite(str(tmp_path / f"fig{i}.png"), img)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path, kps


def test_predict_writes_coco_results(folder, tmp_path) -> None:
    images, kps = folder
    ckpt = save_model(build_hrnet("tiny"), ModelConfig(arch="tiny", input_width=64, input_height=64, sigma=1.0),
                      tmp_path / "m.safetensors")
    out = predict(PredictConfig(images=str(images), out=str(tmp_path / "preds.json"), checkpoint=str(ckpt),
                                device="cpu", draw=str(tmp_path / "draw")))
    preds = json.loads(out.read_text())
    assert [p["file_name"] for p in preds] == ["fig0.png", "fig1.png", "fig2.png"]
    assert all(len(p["keypoints"]) == 51 and p["bbox"] == [0, 0, 96, 128] for p in preds)
    for p in preds:  # predictions stay inside the crop: the whole image widened to the model's square
        xy = np.reshape(p["keypoints"], (17, 3))[:, :2]
        assert (xy[:, 0] >= -17).all() and (xy[:, 0] <= 113).all() and (xy[:, 1] >= -1).all() and (xy[:, 1] <= 129).all()
    gt = COCO()
    gt.dataset = {"images": [{"id": i + 1, "width": 96, "height": 128, "file_name": f"fig{i}.png"} for i in range(3)],
                  "annotations": [{"id": i + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "area": 5000.0,
                                   "bbox": [0, 0, 96, 128], "keypoints": kps[i].reshape(-1).tolist(),
                                   "num_keypoints": 17} for i in range(3)],
                  "categories": [person_category()]}
    gt.createIndex()
    assert len(gt.loadRes(str(out)).getAnnIds()) == 3
    assert len(list((tmp_path / "draw").glob("*_pose.png"))) == 3


def test_boxes_file_gives_one_person_per_box(folder, tmp_path) -> None:
    images, _ = folder
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({"images": [{"id": 7, "file_name": "fig1.png", "width": 96, "height": 128}],
                                 "annotations": [{"id": 1, "image_id": 7, "bbox": [10, 10, 40, 90]},
                                                 {"id": 2, "image_id": 7, "bbox": [50, 10, 40, 90]}]}))
    recs = image_records(images, str(boxes))
    assert [r.image_id for r in recs] == [7, 7] and recs[1].bbox.tolist() == [50, 10, 40, 90]
    with pytest.raises(FileNotFoundError, match="not a folder"):
        image_records(tmp_path / "nope")


def test_default_model_loads_and_predicts(folder, tmp_path) -> None:
    # The default is rig2sketch's fine-tuned BlazePose full: an fp16 delta of the bundled .tflite that
    # loads strictly (every stored tensor has its name and shape in the network).
    assert Path(DEFAULT_CHECKPOINT).is_file() and read_model_config(DEFAULT_CHECKPOINT).arch == "blazepose_full"
    model, cfg = load_model(DEFAULT_CHECKPOINT)
    assert cfg.arch == "blazepose_full" and cfg.input_size == (256, 256)
    pretrained, _ = load_model("blazepose_full")
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, pretrained.state_dict()[k])]
    assert len(changed) > 50  # the fine-tune, not the pretrained network
    images, kps = folder
    out = predict(PredictConfig(images=str(images), out=str(tmp_path / "p.json"), device="cpu"))
    preds = json.loads(out.read_text())
    assert len(preds) == 3
    mirrored = np.arange(17)
    for a, b in COCO_FLIP_PAIRS:
        mirrored[[a, b]] = [b, a]
    for pred, truth in zip(preds, kps):
        # The default model finds the drawn figure's joints: a stick figure has no face or feet to say
        # whether it faces the viewer, so its labels are compared as drawn and mirrored left/right. The
        # figure spans ~60 px; a model that ignored the image would be off by far more.
        points = np.array(pred["keypoints"]).reshape(17, 3)[:, :2]
        truth = np.asarray(truth)[:, :2]
        error = min(np.median(np.linalg.norm(points - t, axis=1)) for t in (truth, truth[mirrored]))
        assert error < 6.0, (pred["file_name"], error)  # measured 2.0-2.7 px
