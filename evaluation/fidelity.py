"""Label fidelity: does a pose model still find the labelled pose on an image (e.g. after stylization)?

Per image, the pose model predicts COCO-17 keypoints inside the labelled box; the object keypoint similarity
(OKS, the COCO formula with pycocotools' sigmas) of the prediction against the labels is computed over the
labelled keypoints (visibility > 0). The image "keeps its labels" when OKS >= ``threshold`` (0.5 = the loose
COCO AP50 match). The pose model is any object with ``predict(image, bbox) -> 17, 3`` (x, y, score), e.g.
``evaluation.blazepose.BlazePose`` (zero-shot) or a fine-tuned model with the same method.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import torch

from rig2sketch.skeleton import COCO_SIGMAS


class PoseModel(Protocol):
    def predict(self, image: np.ndarray, bbox: np.ndarray) -> np.ndarray:
        """``H, W, 3`` uint8 RGB + box (x, y, w, h) -> COCO-17 ``17, 3`` (x, y, score), image pixels."""


def object_keypoint_similarity(pred: np.ndarray, labels: np.ndarray, area: float) -> float:
    """COCO OKS of ``pred`` (``17, 2+``) against ``labels`` (``17, 3``: x, y, visibility) for an object of
    ``area`` px²: mean over labelled keypoints of ``exp(-d² / (2 · area · (2σ)²))``; NaN when none is labelled."""
    labelled = labels[:, 2] > 0
    if not labelled.any():
        return float("nan")
    d2 = ((pred[:, :2] - labels[:, :2]) ** 2).sum(1)
    k2 = (2.0 * np.asarray(COCO_SIGMAS)) ** 2
    return float(np.exp(-d2 / (2.0 * max(area, 1.0) * k2))[labelled].mean())


def label_fidelity(model: PoseModel, images: Sequence[np.ndarray], keypoints: Sequence[np.ndarray],
                   bboxes: Sequence[np.ndarray], areas: Sequence[float], threshold: float = 0.5) -> dict:
    """Fraction of images whose prediction matches the labels (OKS >= ``threshold``) and the mean OKS.

    ``images`` ``H, W, 3`` uint8; ``keypoints`` ``17, 3``; ``bboxes`` (x, y, w, h); ``areas`` px²."""
    scores = [object_keypoint_similarity(model.predict(img, np.asarray(box, np.float32)), np.asarray(kp), area)
              for img, kp, box, area in zip(images, keypoints, bboxes, areas)]
    result = fidelity_of(np.asarray(scores), threshold)
    if not result["images"]:
        raise ValueError("label_fidelity: no image has a labelled keypoint")
    return result


class CheckpointJudge:
    """A pose checkpoint (``rig2sketch train``'s, or the bundled fine-tuned BlazePose) as the judge of
    stylized rows: ``judge(rows) -> OKS N`` of its prediction in each row's labelled box vs the row's labels
    (NaN where no keypoint is labelled). Rows are shard rows: ``image`` PNG bytes, ``width``, ``height``,
    ``keypoints`` (51 or ``17, 3``), ``bbox`` (x, y, w, h), ``area``."""

    def __init__(self, checkpoint: str, device: str = "auto", batch_size: int = 16) -> None:
        from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model
        from evaluation.train import pick_device

        path = DEFAULT_CHECKPOINT if checkpoint == "bundled" else checkpoint
        self.device = pick_device(device)
        self.model, self.cfg = load_model(path)
        self.model.to(self.device)
        self.batch_size = batch_size

    def __call__(self, rows: list[dict]) -> np.ndarray:
        from evaluation.data import PoseRecord

        records = [PoseRecord(sample_id=r["sample_id"], image=r["image"], width=int(r["width"]),
                              height=int(r["height"]), keypoints=np.asarray(r["keypoints"], np.float32).reshape(17, 3),
                              bbox=np.asarray(r["bbox"], np.float32), area=float(r["area"])) for r in rows]
        return self.records_oks(records)

    def records_oks(self, records: list) -> np.ndarray:
        """OKS ``N`` of the judge's prediction on each ``PoseRecord`` vs its keypoints (NaN: none labelled)."""
        from evaluation.train import predict_records

        if not records:
            return np.zeros(0)
        pred = predict_records(self.model, records, self.cfg, self.device, self.batch_size)
        return np.asarray([object_keypoint_similarity(p, rec.keypoints, rec.area) for p, rec in zip(pred, records)])


def fidelity_of(oks: np.ndarray, threshold: float = 0.5) -> dict:
    """``fidelity`` (share of scored images at OKS >= ``threshold``), ``mean_oks`` and ``images`` scored."""
    scored = np.asarray(oks, np.float64)
    scored = scored[~np.isnan(scored)]
    if not len(scored):
        return {"fidelity": float("nan"), "mean_oks": float("nan"), "images": 0}
    return {"fidelity": float((scored >= threshold).mean()), "mean_oks": float(scored.mean()), "images": len(scored)}


class FigureReader(torch.nn.Module):
    """A BlazePose network as a frozen, differentiable reader of the figure: ``B, 3, 256, 256`` top-down crops,
    RGB in [0, 1] -> the 17 COCO landmarks ``B, 17, 2`` (x, y as fractions of the crop). What
    ``train-stylizer stylizer=multistyle train.pose_weight=...`` holds the stylized figure to."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        from evaluation.blazepose import COCO_FROM_BLAZEPOSE

        landmarks = self.net(crops)["landmarks"][:, list(COCO_FROM_BLAZEPOSE), :2]
        return landmarks.float() / crops.shape[-1]


def figure_reader(checkpoint: str = "blazepose_full") -> FigureReader:
    """``checkpoint``: ``blazepose_lite|full|heavy`` (MediaPipe's pretrained network), ``bundled`` (predict's
    default) or a fine-tuned BlazePose file; other pose models fail with one line."""
    from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model
    from evaluation.config import BLAZEPOSE_ARCHS

    model, cfg = load_model(DEFAULT_CHECKPOINT if checkpoint == "bundled" else checkpoint)
    if cfg.arch not in BLAZEPOSE_ARCHS:
        raise ValueError(f"pose_model={checkpoint} is a {cfg.arch}; the figure reader needs a BlazePose network "
                         f"({', '.join(BLAZEPOSE_ARCHS)}, bundled, or a fine-tuned BlazePose file)")
    return FigureReader(model.net)
