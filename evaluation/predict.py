"""COCO-format keypoint predictions for a folder of images, one person per image.

    rig2sketch predict images=DIR out=preds.json [checkpoint=FILE] [boxes=coco.json] [draw=DIR]

The box is the whole image unless ``boxes`` (a COCO JSON whose ``images`` name the files and
whose ``annotations`` carry ``bbox``) is given; then each annotated box is one person.
Output: a JSON list of COCO results (``image_id``, ``category_id`` 1, ``keypoints`` flat
(x, y, score) x 17, ``score``) plus ``file_name`` and ``bbox``; pycocotools ``loadRes`` reads it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from rig2sketch.atomic import write_text_atomic
from rig2sketch.drawing import draw_pose
from rig2sketch.images import IMAGE_SUFFIXES, image_size
from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model
from evaluation.coco_eval import detections
from evaluation.config import PredictConfig
from evaluation.data import PoseRecord, read_image
from evaluation.train import pick_device, predict_records



def image_records(images_dir: str | Path, boxes: str = "") -> list[PoseRecord]:
    """One record per image (whole-image box) or per annotated box of a COCO JSON."""
    folder = Path(images_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"images={folder} is not a folder of images")
    empty = np.zeros((17, 3), np.float32)
    if boxes:
        data = json.loads(Path(boxes).read_text())
        images = {im["id"]: im for im in data["images"]}
        return [PoseRecord(str(a.get("id", i)), str(folder / images[a["image_id"]]["file_name"]),
                           int(images[a["image_id"]]["width"]), int(images[a["image_id"]]["height"]), empty,
                           np.asarray(a["bbox"], np.float32), 0.0, image_id=int(a["image_id"]))
                for i, a in enumerate(data["annotations"])]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    records = []
    for i, path in enumerate(files):
        w, h = image_size(path)
        records.append(PoseRecord(path.name, str(path), w, h, empty, np.array([0, 0, w, h], np.float32), 0.0,
                                  image_id=i + 1))
    return records


def draw_prediction(image: np.ndarray, keypoints: np.ndarray, min_score: float = 0.2) -> np.ndarray:
    """Overlay of predicted ``17, 3`` (x, y, score) keypoints with the house colours
    (``rig2sketch.drawing``: character's left blue, right orange); scores below ``min_score`` hidden."""
    shown = keypoints.copy()
    shown[:, 2] = np.where(keypoints[:, 2] >= min_score, 2.0, 0.0)
    return draw_pose(image, shown)


def predict(cfg: PredictConfig) -> Path:
    """Run the model over ``cfg.images`` and write ``cfg.out``; returns its path."""
    checkpoint = cfg.checkpoint or DEFAULT_CHECKPOINT
    device = pick_device(cfg.device)
    model, mcfg = load_model(checkpoint, cfg.model)
    model.to(device)
    records = image_records(cfg.images, cfg.boxes)
    if not cfg.boxes:
        # A whole image is already a loose box: growing it x1.25 again would shrink the figure
        # below the scales seen in training (tight boxes x1.25, jittered +-35%).
        mcfg = replace(mcfg, padding=1.0)
    keypoints = predict_records(model, records, mcfg, device, cfg.batch_size)
    results = detections(records, keypoints)
    for res, rec in zip(results, records):
        res["file_name"] = Path(rec.image).name
        res["bbox"] = [float(t) for t in rec.bbox]
    out = write_text_atomic(cfg.out, json.dumps(results))
    if cfg.draw:
        folder = Path(cfg.draw)
        folder.mkdir(parents=True, exist_ok=True)
        for rec, kp in zip(records, keypoints):
            overlay = draw_prediction(read_image(rec), kp)
            cv2.imwrite(str(folder / (Path(rec.image).stem + "_pose.png")), cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
    return out
