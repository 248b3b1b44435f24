"""U-GAT-IT (Kim et al., ICLR 2020) networks in the module layout of znxlwm/UGATIT-pytorch ``networks.py``, so
the generators of its checkpoints (one ``.pt`` dict with ``genA2B``, ``genB2A``, ``disGA``, ``disGB``, ``disLA``,
``disLB``) load with strict key matching.

Generator ``B, 3, H, W`` in [-1, 1] -> (image ``B, 3, H, W``, CAM logits ``B, 2``, heatmap ``B, 1, H/4, W/4``):
``DownBlock`` (7x7 conv, two stride-2 convs, ``n_blocks`` residual blocks; InstanceNorm, no conv bias) -> class
activation map attention (``gap_fc``/``gmp_fc`` weight the channels, ``conv1x1`` fuses the two) -> ``FC`` gives
AdaLIN's ``gamma``/``beta`` -> ``UpBlock1_1..n`` (residual blocks with AdaLIN) -> ``UpBlock2`` (nearest 2x
up + conv + LIN, twice; 7x7 conv; tanh). ``light=False`` (the paper's full model) feeds the whole flattened
bottleneck to ``FC``, which ties it to ``img_size``; ``light=True`` pools it first (any size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm


def _instance_and_layer_norm(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(instance-normalised, layer-normalised) ``B, C, H, W`` (unbiased variances, as the reference)."""
    x_in = (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), keepdim=True) + eps).sqrt()
    x_ln = (x - x.mean((1, 2, 3), keepdim=True)) / (x.var((1, 2, 3), keepdim=True) + eps).sqrt()
    return x_in, x_ln


class AdaLIN(nn.Module):
    """Adaptive layer-instance norm: ``rho`` ``1, C, 1, 1`` mixes IN and LN, then per-image gamma/beta ``B, C``."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.full((1, channels, 1, 1), 0.9))

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        x_in, x_ln = _instance_and_layer_norm(x, self.eps)
        mixed = self.rho * x_in + (1 - self.rho) * x_ln
        return mixed * gamma[..., None, None] + beta[..., None, None]


class LIN(nn.Module):
    """Layer-instance norm with learned ``rho``, ``gamma``, ``beta`` (each ``1, C, 1, 1``)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_in, x_ln = _instance_and_layer_norm(x, self.eps)
        return (self.rho * x_in + (1 - self.rho) * x_ln) * self.gamma + self.beta


class ResnetBlock(nn.Module):
    """x + [pad, conv3x3, IN, ReLU, pad, conv3x3, IN](x), no conv bias; keys ``conv_block.1``/``.5``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False), nn.InstanceNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class AdaLINBlock(nn.Module):
    """x + [pad, conv1, AdaLIN, ReLU, pad, conv2, AdaLIN](x); keys ``conv1``, ``norm1.rho``, ``conv2``,
    ``norm2.rho``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv1, self.norm1 = nn.Conv2d(dim, dim, 3, bias=False), AdaLIN(dim)
        self.conv2, self.norm2 = nn.Conv2d(dim, dim, 3, bias=False), AdaLIN(dim)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect")), gamma, beta))
        return x + self.norm2(self.conv2(F.pad(y, (1, 1, 1, 1), mode="reflect")), gamma, beta)


def cam(x: torch.Tensor, gap_fc: nn.Linear, gmp_fc: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """Class activation map attention: ``B, C, H, W`` -> (``B, 2C, H, W`` channel-weighted by the average- and
    max-pool classifiers' weights, their logits ``B, 2``)."""
    gap_logit = gap_fc(x.mean((2, 3)))
    gmp_logit = gmp_fc(x.amax((2, 3)))
    # the reference weights channels with the layer's first parameter: under spectral norm the raw weight_orig
    gap_w, gmp_w = (getattr(fc, "weight_orig", fc.weight)[..., None, None] for fc in (gap_fc, gmp_fc))
    weighted = torch.cat([x * gap_w, x * gmp_w], 1)
    return weighted, torch.cat([gap_logit, gmp_logit], 1)


class UGATITGenerator(nn.Module):
    """U-GAT-IT's ``ResnetGenerator`` (official: ngf 64, 4 blocks, img_size 256; ``light`` for the small model)."""

    def __init__(self, ngf: int = 64, n_blocks: int = 4, img_size: int = 256, light: bool = True) -> None:
        super().__init__()
        self.ngf, self.n_blocks, self.img_size, self.light = ngf, n_blocks, img_size, light
        dim = ngf * 4
        down: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=False), nn.InstanceNorm2d(ngf),
                                 nn.ReLU(True)]
        for mult in (1, 2):
            down += [nn.ReflectionPad2d(1), nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, bias=False),
                     nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        down += [ResnetBlock(dim) for _ in range(n_blocks)]
        self.DownBlock = nn.Sequential(*down)
        self.gap_fc = nn.Linear(dim, 1, bias=False)
        self.gmp_fc = nn.Linear(dim, 1, bias=False)
        self.conv1x1 = nn.Conv2d(dim * 2, dim, 1)
        fc_in = dim if light else (img_size // 4) ** 2 * dim
        self.FC = nn.Sequential(nn.Linear(fc_in, dim, bias=False), nn.ReLU(True), nn.Linear(dim, dim, bias=False),
                                nn.ReLU(True))
        self.gamma = nn.Linear(dim, dim, bias=False)
        self.beta = nn.Linear(dim, dim, bias=False)
        for i in range(n_blocks):
            setattr(self, f"UpBlock1_{i + 1}", AdaLINBlock(dim))
        up: list[nn.Module] = []
        for mult in (4, 2):
            up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1),
                   nn.Conv2d(ngf * mult, ngf * mult // 2, 3, bias=False), LIN(ngf * mult // 2), nn.ReLU(True)]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7, bias=False), nn.Tanh()]
        self.UpBlock2 = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feat = self.DownBlock(x)
        if not self.light and feat.shape[-2:] != (self.img_size // 4, self.img_size // 4):
            raise ValueError(f"U-GAT-IT (light=False) runs on {self.img_size}x{self.img_size} images only; got "
                             f"{tuple(x.shape[-2:])}")
        weighted, cam_logit = cam(feat, self.gap_fc, self.gmp_fc)
        feat = F.relu(self.conv1x1(weighted))
        heatmap = feat.sum(1, keepdim=True)
        style = self.FC(feat.mean((2, 3)) if self.light else feat.flatten(1))
        gamma, beta = self.gamma(style), self.beta(style)
        for i in range(self.n_blocks):
            feat = getattr(self, f"UpBlock1_{i + 1}")(feat, gamma, beta)
        return self.UpBlock2(feat), cam_logit, heatmap


class UGATITDiscriminator(nn.Module):
    """U-GAT-IT's spectral-normalised ``Discriminator`` with CAM: ``B, 3, H, W`` -> (patch logits, CAM logits
    ``B, 2``, heatmap). ``n_layers`` 7 = the global critic (stride 32), 5 = the local one (stride 8); the input
    side must be at least ``min_side(n_layers)``."""

    def __init__(self, ndf: int = 64, n_layers: int = 5) -> None:
        super().__init__()
        if n_layers < 4:
            raise ValueError(f"U-GAT-IT discriminator n_layers={n_layers}: must be >= 4")
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(3, ndf, 4, 2)),
                                   nn.LeakyReLU(0.2, True)]
        for i in range(1, n_layers - 2):
            mult = 2 ** (i - 1)
            layers += [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2)),
                       nn.LeakyReLU(0.2, True)]
        mult = 2 ** (n_layers - 3)
        layers += [nn.ReflectionPad2d(1), spectral_norm(nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 1)),
                   nn.LeakyReLU(0.2, True)]
        dim = ndf * mult * 2
        self.gap_fc = spectral_norm(nn.Linear(dim, 1, bias=False))
        self.gmp_fc = spectral_norm(nn.Linear(dim, 1, bias=False))
        self.conv1x1 = nn.Conv2d(dim * 2, dim, 1)
        self.conv = spectral_norm(nn.Conv2d(dim, 1, 4, bias=False))
        self.model = nn.Sequential(*layers)

    @staticmethod
    def min_side(n_layers: int) -> int:
        """Smallest input side that leaves the last 4x4 conv a non-empty output."""
        return 3 * 2 ** (n_layers - 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feat = self.model(x)
        weighted, cam_logit = cam(feat, self.gap_fc, self.gmp_fc)
        feat = F.leaky_relu(self.conv1x1(weighted), 0.2)
        return self.conv(F.pad(feat, (1, 1, 1, 1), mode="reflect")), cam_logit, feat.sum(1, keepdim=True)
