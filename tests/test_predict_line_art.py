"""The default model on what a user hands in: a transparent (RGBA) line drawing of a bundled
character, rendered here with real Blender, read through ``rig2sketch.images``."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import torch

from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model
from evaluation.coco_eval import pck
from evaluation.config import PredictConfig
from evaluation.data import PoseRecord
from evaluation.predict import predict
from evaluation.train import predict_records
from flows.render import plan_jobs
from renderers.config import CameraConfig, FrameConfig, RenderConfig
from renderers.job import render


@pytest.mark.blender
@pytest.mark.slow
def test_predict_on_a_transparent_line_drawing_puts_the_joints_on_the_figure(tmp_path) -> None:
    cfg = RenderConfig(out_dir=str(tmp_path), characters=["lena"], motions=["walk"], width=192, height=192,
                       contour="depth_normal", threads=2, frames=FrameConfig(step=10, max_frames=1),
                       camera=CameraConfig(count=2))
    out = render(plan_jobs(cfg)[0])
    images = tmp_path / "drawings"
    images.mkdir()
    for i, grey in enumerate(out["image"]):
        rgba = np.zeros((*grey.shape, 4), np.uint8)
        rgba[..., 3] = 255 - grey  # black ink, transparent paper: read naively, black on black
        cv2.imwrite(str(images / f"lena_{i}.png"), rgba)
    result = json.loads(predict(PredictConfig(images=str(images), out=str(tmp_path / "p.json"), device="cpu",
                                              draw=str(tmp_path / "drawn"))).read_text())
    pred = np.array([r["keypoints"] for r in sorted(result, key=lambda r: r["file_name"])]).reshape(-1, 17, 3)
    truth = out["keypoints"]
    # Every predicted joint lies on the figure's box, and most within 0.2 torso of the truth.
    for kp, (x, y, w, h) in zip(pred, out["bbox"]):
        assert ((kp[:, 0] > x - 0.1 * w) & (kp[:, 0] < x + 1.1 * w)).all()
        assert ((kp[:, 1] > y - 0.1 * h) & (kp[:, 1] < y + 1.1 * h)).all()
    good = pck(truth, pred, 0.2)["mean"]
    assert good >= 0.5  # the back view may swap sides; box checks above hold for every joint
    assert len(list((tmp_path / "drawn").glob("*_pose.png"))) == len(truth)
    # The same files read the naive way (OpenCV drops the alpha: black lines on black) lose the figure.
    model, mcfg = load_model(DEFAULT_CHECKPOINT)
    naive = [PoseRecord(p.name, cv2.imencode(".png", cv2.imread(str(p)))[1].tobytes(), 192, 192,
                        np.zeros((17, 3), np.float32), np.array([0, 0, 192, 192], np.float32), 0.0)
             for p in sorted(images.glob("*.png"))]
    blind = predict_records(model, naive, mcfg, torch.device("cpu"))
    assert pck(truth, blind, 0.2)["mean"] < good - 0.2
