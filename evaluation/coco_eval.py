"""Scoring keypoint predictions the COCO way (pycocotools COCOeval, OKS) plus per-joint PCK.

A set whose ground truth lacks some joints (v = 0 everywhere, e.g. no face points) is scored
on the joints it has: COCOeval's OKS only sums over labelled ground-truth keypoints, and PCK
counts only labelled joints.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from rig2sketch.skeleton import COCO_KEYPOINTS, COCO_SIGMAS, COCO_SKELETON

METRIC_NAMES = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")


def person_category() -> dict:
    """The COCO person category with keypoint names and the 1-based skeleton."""
    return {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO_KEYPOINTS),
            "skeleton": [[a + 1, b + 1] for a, b in COCO_SKELETON]}


def ground_truth(records: list) -> dict:
    """COCO keypoints dataset dict for records (one image and one person per record; image ids
    are ``record.image_id`` when set, else 1-based positions)."""
    images, annotations, seen = [], [], set()
    for i, rec in enumerate(records):
        image_id = rec.image_id or i + 1
        if image_id not in seen:
            seen.add(image_id)
            images.append({"id": image_id, "width": rec.width, "height": rec.height,
                           "file_name": f"{rec.sample_id}.png"})
        kp = np.asarray(rec.keypoints, dtype=np.float64)
        area = float(rec.area) if rec.area > 0 else float(rec.bbox[2] * rec.bbox[3])
        annotations.append({
            "id": i + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
            "bbox": [float(t) for t in rec.bbox], "area": area,
            "keypoints": kp.reshape(-1).tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()),
        })
    return {"images": images, "annotations": annotations, "categories": [person_category()]}


def detections(records: list, keypoints: np.ndarray) -> list[dict]:
    """COCO results for predictions ``N, K, 3`` (x, y, score) aligned with records; the person
    score is the mean keypoint score over joints scoring above 0.2 (mmpose's rescoring)."""
    out = []
    for i, (rec, kp) in enumerate(zip(records, keypoints)):
        conf = kp[:, 2]
        good = conf > 0.2
        score = float(conf[good].mean()) if good.any() else float(conf.mean())
        out.append({"image_id": rec.image_id or i + 1, "category_id": 1,
                    "keypoints": np.asarray(kp, dtype=np.float64).reshape(-1).tolist(), "score": score})
    return out


def coco_eval(gt: dict, results: list[dict]) -> dict[str, float]:
    """COCOeval keypoint metrics (AP, AP50, AP75, APm, APl, AR, ...) of results against gt."""
    if not results:
        raise ValueError("no predictions to score")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        dt = coco.loadRes(results)
        ev = COCOeval(coco, dt, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(COCO_SIGMAS)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    # -1 marks an empty area range (e.g. no medium persons); report it as NaN.
    return {name: (float(v) if v >= 0 else float("nan")) for name, v in zip(METRIC_NAMES, ev.stats)}


def pck(gt_keypoints: np.ndarray, pred: np.ndarray, threshold: float = 0.2) -> dict[str, float]:
    """Per-joint PCK@threshold: a labelled joint is correct when it lies within threshold x the
    person's torso diameter (left shoulder to right hip, LSP's convention). Persons without
    both torso joints labelled are skipped. Returns ``{joint: pck}`` (NaN when never labelled)
    plus ``"mean"`` over all counted joints."""
    gt = np.asarray(gt_keypoints, dtype=np.float64)
    li, ri = COCO_KEYPOINTS.index("left_shoulder"), COCO_KEYPOINTS.index("right_hip")
    has_torso = (gt[:, li, 2] > 0) & (gt[:, ri, 2] > 0)
    torso = np.linalg.norm(gt[:, li, :2] - gt[:, ri, :2], axis=-1)
    has_torso &= torso > 0
    dist = np.linalg.norm(gt[:, :, :2] - np.asarray(pred)[:, :, :2], axis=-1)
    labelled = (gt[:, :, 2] > 0) & has_torso[:, None]
    hit = (dist <= threshold * torso[:, None]) & labelled
    out = {}
    for k, name in enumerate(COCO_KEYPOINTS[: gt.shape[1]]):
        n = labelled[:, k].sum()
        out[name] = float(hit[:, k].sum() / n) if n else float("nan")
    out["mean"] = float(hit.sum() / labelled.sum()) if labelled.any() else float("nan")
    return out


def score(records: list, keypoints: np.ndarray) -> dict[str, float]:
    """All metrics of predictions ``N, K, 3`` for records: COCOeval's plus ``PCK`` (mean, at 0.2
    torso), ``PCK@0.1`` (mean, the stricter threshold) and ``PCK_<joint>`` per joint (at 0.2)."""
    metrics = coco_eval(ground_truth(records), detections(records, keypoints))
    gt = np.stack([r.keypoints for r in records])
    metrics["PCK@0.1"] = pck(gt, keypoints, 0.1)["mean"]
    per_joint = pck(gt, keypoints)
    metrics["PCK"] = per_joint.pop("mean")
    metrics.update({f"PCK_{k}": v for k, v in per_joint.items()})
    return metrics
