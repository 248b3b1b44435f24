"""What CycleGAN, CUT and U-GAT-IT share as stylizers: one A -> B generator (domain A = renders, B = drawings),
no style images, and rig2sketch's generator file format.

A GAN trained on one drawing domain takes no style images: ``embed_styles`` returns an empty code ``S, 0`` and
the stage records the model itself as the row's style (``stylizers/stage.py``). ``stylize`` maps [0, 1] to the
generators' [-1, 1] and back. Generators trained by ``train-stylizer`` are stored as ``generator.safetensors``
(fp16) whose metadata names the model and its architecture (``arch`` JSON), so ``stylizer.weights=<folder>``
needs no other settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from rig2sketch.atomic import atomic_path
from stylizers.base import Stylizer

GENERATOR_FILE = "generator.safetensors"
OFFICIAL = "official"


class UnpairedStylizer(Stylizer):
    """An A -> B generator as a ``Stylizer``. ``generator(x)`` takes and returns ``B, 3, H, W`` in [-1, 1]
    (extra outputs of U-GAT-IT's generator are dropped). ``fixed_size`` > 0: the generator only runs at that
    square size (U-GAT-IT's full model); the batch is resized there and back, so the frame (and the labels'
    pixel coordinates) stays the same."""

    size_multiple = 4  # two stride-2 stages
    supports_mixing = False
    alpha = None  # no content/style blend: the render goes through the generator whole
    licence = "unknown"  # of the weights (the stage records it as the model-style's licence)

    def __init__(self, name: str, generator: nn.Module, source: str, arch: dict[str, Any],
                 fixed_size: int = 0) -> None:
        self.name, self.generator, self.source, self.arch = name, generator.eval().requires_grad_(False), source, arch
        self.fixed_size = fixed_size

    def networks(self) -> list[nn.Module]:
        return [self.generator]

    def embed_styles(self, style_images: torch.Tensor) -> torch.Tensor:
        """No style input: an empty code ``S, 0``."""
        return style_images.new_zeros(style_images.shape[0], 0)

    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        h, w = content.shape[-2:]
        x = content * 2 - 1
        if self.fixed_size and (h, w) != (self.fixed_size, self.fixed_size):
            x = F.interpolate(x, size=(self.fixed_size,) * 2, mode="bilinear", align_corners=False, antialias=True)
        y = self.generator(x)
        y = y[0] if isinstance(y, tuple) else y
        if y.shape[-2:] != (h, w):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        return (y + 1) / 2

    def params(self) -> dict[str, Any]:
        return {"weights": self.source, "arch": self.arch}


def save_generator(path: Path, generator: nn.Module, model: str, arch: dict[str, Any],
                   extra: dict[str, Any]) -> Path:
    """``generator``'s weights as fp16 safetensors (atomic) with ``model``, ``arch`` and ``extra`` metadata."""
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16 if v.is_floating_point() else v.dtype).cpu().contiguous()
             for k, v in generator.state_dict().items()}
    meta = {"model": model, "arch": json.dumps(arch, sort_keys=True), "config": json.dumps(extra, default=str)}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), meta)
    return path


def generator_file(weights: str) -> Path:
    """``weights`` is a folder holding ``generator.safetensors`` or the file itself."""
    path = Path(weights)
    return path / GENERATOR_FILE if path.is_dir() else path


def load_generator_file(weights: str, model: str, build: Callable[[dict], nn.Module]) -> tuple[nn.Module, dict]:
    """A generator written by ``train-stylizer stylizer=<model>``: (module with its weights, its ``arch``)."""
    from rig2sketch.weights import read_safetensors, safetensors_metadata

    path = generator_file(weights)
    fix = (f"point stylizer.weights to a folder written by 'rig2sketch train-stylizer stylizer={model}' "
           f"(holding {GENERATOR_FILE})")
    meta = safetensors_metadata(path, f"{model} generator", fix)
    if meta.get("model") != model:
        raise ValueError(f"{path} holds a {meta.get('model') or 'non-rig2sketch'} generator, not {model}; {fix}")
    arch = json.loads(meta["arch"])
    net = build(arch)
    net.load_state_dict({k: v.float() for k, v in read_safetensors(path, f"{model} generator", fix).items()})
    return net, arch


def read_official(checkpoint: str | None, model: str, what: str) -> Any:
    """The object stored in an official checkpoint file (``torch.load``, weights only)."""
    from rig2sketch.weights import read_torch

    if not checkpoint:
        raise ValueError(f"stylizer={model} stylizer.weights=official needs stylizer.checkpoint=PATH ({what})")
    return read_torch(checkpoint, f"{model} checkpoint", f"pass {what}")
