"""``pose_model(arch)``: the registered :class:`~evaluation.pose_registry.PoseModel` for a
``model.arch`` (HRNet sizes, BlazePose lite/full/heavy)."""

from __future__ import annotations

from evaluation.pose_registry import POSE_MODELS, PoseModel


def pose_model(arch: str) -> PoseModel:
    # Registration only: importing the members fills POSE_MODELS.
    from evaluation import blazepose_model, hrnet_model  # noqa: F401

    return POSE_MODELS.get(arch)
