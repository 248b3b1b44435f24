"""BlazePose (lite, full, heavy) as a registered pose model for fine-tuning and prediction.

The network is ``evaluation.blazepose_net.BlazePoseNet`` built from MediaPipe's ``.tflite``
file, so ``build`` starts from the converted pretrained weights. The loss is on the 17
BlazePose landmarks that are COCO keypoints (``COCO_FROM_BLAZEPOSE``): L1 on x, y in crop
pixels / crop size where the joint is labelled and inside the crop (a visibility term is
available, ``VISIBILITY_WEIGHT``, and off: see there). The
other 22 landmarks, the heatmaps and the world landmarks have no labels; with
``train.distill_weight`` > 0 the other landmarks are held to a frozen copy of the pretrained
network (distillation, the alternative to ``train.freeze_layers`` for forgetting control).

Contour renders seen from the back look much like the front, so the labels' left and right
are often undecidable from the lines; plain L1 then pulls each pair to its midpoint (the
prediction collapses onto the body's centre line). ``train.swap_tolerant`` scores each sample
against the better of its labels and their left/right swap instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from evaluation.blazepose import COCO_FROM_BLAZEPOSE
from evaluation.blazepose_net import BlazePoseNet
from evaluation.pose_registry import POSE_MODELS
from rig2sketch.skeleton import COCO_FLIP_PAIRS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "data" / "weights" / "blazepose"
VARIANTS = ("lite", "full", "heavy")
# rig2sketch's visibility flags (occluded by the body) are not BlazePose's "visibility": with a
# weight of 0.1 the BCE was ~70% of the first fine-tune's loss and its gradient undid the landmarks
# (mean error 15 -> 26 px on training crops while the total loss fell). Coordinates only.
VISIBILITY_WEIGHT = 0.0
# ImageNet statistics of evaluation.data.normalize, undone before the network (it wants [0, 1]).
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def tflite_path(variant: str) -> Path:
    return WEIGHTS_DIR / f"pose_landmark_{variant}.tflite"


class BlazePoseModel(nn.Module):
    """``BlazePoseNet`` taking the house's ImageNet-normalised ``B, 3, 256, 256`` crops."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        path = tflite_path(variant)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; BlazePose {variant} is fetched by the optional setup "
                                    "step `make blazepose-models` (npm pack @mediapipe/pose)")
        self.net = BlazePoseNet(path)
        self.register_buffer("mean", _MEAN.clone(), persistent=False)
        self.register_buffer("std", _STD.clone(), persistent=False)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net(images * self.std + self.mean)


def coco_landmarks(out: dict[str, torch.Tensor]) -> torch.Tensor:
    """The 17 COCO landmarks ``B, 17, 5`` of a network output, COCO order."""
    return out["landmarks"][:, list(COCO_FROM_BLAZEPOSE)].float()


def _swap_sides(keypoints: torch.Tensor) -> torch.Tensor:
    perm = list(range(keypoints.shape[1]))
    for a, b in COCO_FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return keypoints[:, perm]


def landmark_loss(lm: torch.Tensor, keypoints: torch.Tensor, size: tuple[int, int],
                  swap_tolerant: bool = False) -> torch.Tensor:
    """L1 coordinates (/ crop size) [+ ``VISIBILITY_WEIGHT`` x visibility BCE], per sample then
    averaged; ``lm`` ``B, 17, 5``, ``keypoints`` ``B, 17, 3`` in crop pixels. ``swap_tolerant``:
    each sample is scored against its labels or their left/right swap, whichever fits better."""
    per_sample = _sample_loss(lm, keypoints, size)
    if swap_tolerant:
        per_sample = torch.minimum(per_sample, _sample_loss(lm, _swap_sides(keypoints), size))
    return per_sample.mean()


def _sample_loss(lm: torch.Tensor, keypoints: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    W, H = size
    x, y, v = keypoints.unbind(-1)
    inside = (x >= 0) & (x < W) & (y >= 0) & (y < H)
    labelled = ((v > 0) & inside).float()
    scale = keypoints.new_tensor([W, H])
    err = ((lm[..., :2] - keypoints[..., :2]).abs() / scale).sum(-1)
    coords = (err * labelled).sum(-1) / labelled.sum(-1).clamp(min=1)
    if not VISIBILITY_WEIGHT:
        return coords
    visible = ((v > 1) & inside).float()
    vis = F.binary_cross_entropy_with_logits(lm[..., 3], visible, reduction="none").mean(-1)
    return coords + VISIBILITY_WEIGHT * vis


OTHER_LANDMARKS = tuple(i for i in range(33) if i not in COCO_FROM_BLAZEPOSE)  # hands, feet, face


def distill_loss(student: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], size: tuple[int, int]
                 ) -> torch.Tensor:
    """L1 (/ crop size) between the student's and the teacher's x, y of the 16 body landmarks
    that are not COCO keypoints (``OTHER_LANDMARKS``)."""
    idx = list(OTHER_LANDMARKS)
    scale = student["landmarks"].new_tensor(size)
    diff = (student["landmarks"][:, idx, :2].float() - teacher["landmarks"][:, idx, :2].float()).abs() / scale
    return diff.sum(-1).mean()


def flip_coco(keypoints: torch.Tensor, width: int) -> torch.Tensor:
    """``B, 17, C`` (x first) predicted on a mirrored crop -> the unmirrored frame."""
    out = keypoints.clone()
    out[..., 0] = width - keypoints[..., 0]
    return _swap_sides(out)


class BlazePoseFamily:
    """Builds ``BlazePoseModel(variant)`` from MediaPipe's pretrained ``.tflite``."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self._teacher: nn.Module | None = None

    def teacher(self, device: torch.device) -> nn.Module:
        """The pretrained network, frozen, for ``train.distill_weight`` (built once)."""
        if self._teacher is None:
            self._teacher = BlazePoseModel(self.variant).eval().requires_grad_(False)
        return self._teacher.to(device)

    def build(self, cfg) -> nn.Module:
        return BlazePoseModel(self.variant)

    def load(self, model: nn.Module, state: dict[str, torch.Tensor], strict: bool = True) -> int:
        own = model.state_dict()
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        shapes = [k for k in own if k in state and state[k].shape != own[k].shape]
        if strict and (missing or unexpected or shapes):
            raise ValueError(f"checkpoint does not fit BlazePose {self.variant}: missing {missing[:3]}, unexpected "
                             f"{unexpected[:3]}, shape mismatches {shapes[:3]}; pick the model.arch it was trained as")
        fitting = {k: v.to(own[k].dtype) for k, v in state.items() if k in own and v.shape == own[k].shape}
        model.load_state_dict({**own, **fitting})
        return len(fitting)

    def loss(self, model: nn.Module, images: torch.Tensor, keypoints: torch.Tensor, cfg) -> torch.Tensor:
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=cfg.bf16 and images.is_cuda):
            out = model(images)
            if cfg.distill_weight:
                with torch.no_grad():
                    target = self.teacher(images.device)(images)
        loss = landmark_loss(coco_landmarks(out), keypoints, cfg.model.input_size, cfg.swap_tolerant)
        if cfg.distill_weight:
            loss = loss + cfg.distill_weight * distill_loss(out, target, cfg.model.input_size)
        return loss

    @torch.no_grad()
    def predict(self, model: nn.Module, images: torch.Tensor, cfg) -> tuple[np.ndarray, np.ndarray]:
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=images.is_cuda):
            lm = coco_landmarks(model(images))
            if cfg.flip_test:
                lm = 0.5 * (lm + flip_coco(coco_landmarks(model(images.flip(-1))), cfg.input_width))
        return lm[..., :2].cpu().numpy(), torch.sigmoid(lm[..., 3]).cpu().numpy()


for _variant in VARIANTS:
    POSE_MODELS.register(f"blazepose_{_variant}")(BlazePoseFamily(_variant))
