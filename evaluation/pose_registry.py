"""The pose-model registry: ``model.arch`` -> the :class:`PoseModel` that builds, trains and
decodes it. Members register in their own modules (``evaluation.hrnet_model``,
``evaluation.blazepose_model``); ``evaluation.pose_models.pose_model`` loads them."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from rig2sketch.registry import Registry


class PoseModel(Protocol):
    """A family of top-down pose networks. Images are ``B, 3, H, W`` ImageNet-normalised crops
    (``evaluation.data.normalize``); keypoints ``B, K, 3`` (x, y, v) in crop pixels."""

    def build(self, cfg) -> torch.nn.Module:
        """The network for ``cfg`` (``ModelConfig``), with its pretrained weights where it has some."""

    def load(self, model: torch.nn.Module, state: dict[str, torch.Tensor], strict: bool = True) -> int:
        """Load a state dict; returns the number of tensors loaded; ValueError when it does not fit."""

    def loss(self, model: torch.nn.Module, images: torch.Tensor, keypoints: torch.Tensor, cfg) -> torch.Tensor:
        """Training loss of one batch (``cfg``: ``TrainConfig``)."""

    def predict(self, model: torch.nn.Module, images: torch.Tensor, cfg) -> tuple[np.ndarray, np.ndarray]:
        """(``B, K, 2`` crop-pixel keypoints, ``B, K`` scores) for ``cfg`` (``ModelConfig``)."""


POSE_MODELS: Registry[PoseModel] = Registry("pose model (model.arch)")
