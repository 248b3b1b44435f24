"""HRNet as a registered pose model: Gaussian heatmap targets, JointsMSE loss, DARK decoding."""

from __future__ import annotations

import numpy as np
import torch

from evaluation import heatmaps
from evaluation.hrnet import SPECS, build_hrnet, load_weights
from evaluation.pose_registry import POSE_MODELS
from rig2sketch.skeleton import COCO_FLIP_PAIRS


def joints_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """HRNet's JointsMSELoss: 0.5 x mean squared error over weighted heatmaps ``B, K, h, w``."""
    w = weight[..., None, None]
    return 0.5 * ((pred.float() * w - target * w) ** 2).mean()


class HRNetModel:
    """Top-down HRNet (``evaluation.hrnet``), trained from scratch or an HRNet checkpoint."""

    def build(self, cfg) -> torch.nn.Module:
        return build_hrnet(cfg.arch, cfg.num_joints)

    def load(self, model: torch.nn.Module, state: dict[str, torch.Tensor], strict: bool = True) -> int:
        return load_weights(model, state, strict=strict)

    def loss(self, model: torch.nn.Module, images: torch.Tensor, keypoints: torch.Tensor, cfg) -> torch.Tensor:
        target, weight = heatmaps.encode_batch(keypoints, cfg.model.input_size, cfg.model.heatmap_size,
                                               cfg.model.sigma)
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=_bf16(images, cfg)):
            pred = model(images)
        return joints_mse(pred, target, weight)

    @torch.no_grad()
    def predict(self, model: torch.nn.Module, images: torch.Tensor, cfg) -> tuple[np.ndarray, np.ndarray]:
        with torch.autocast(images.device.type, dtype=torch.bfloat16, enabled=images.device.type == "cuda"):
            hm = heatmaps.predict_heatmaps(model, images, cfg.flip_test, COCO_FLIP_PAIRS)
        return heatmaps.decode(hm.float().cpu().numpy(), cfg.input_size, cfg.sigma, cfg.refine)


def _bf16(images: torch.Tensor, cfg) -> bool:
    return cfg.bf16 and images.device.type == "cuda"


for _arch in SPECS:
    POSE_MODELS.register(_arch)(HRNetModel())
