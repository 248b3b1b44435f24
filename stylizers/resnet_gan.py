"""The ResNet generator, PatchGAN discriminator and PatchNCE head of CycleGAN and CUT, in the module layout of
their official code (junyanz/pytorch-CycleGAN-and-pix2pix ``networks.py``, taesungp/contrastive-unpaired-
translation ``networks.py``), so ``latest_net_G*.pth`` and ``latest_net_F.pth`` load with strict key matching.

Generator (``model.N`` indices as in the reference, InstanceNorm without affine, conv biases on):
``ReflectionPad(3), Conv7x7(3->ngf), IN, ReLU`` | 2x down | ``n_blocks`` x ResnetBlock(4 ngf) | 2x up |
``ReflectionPad(3), Conv7x7(ngf->3), Tanh``. Down/up is a strided conv / transposed conv (CycleGAN), or with
``antialias`` (CUT's default) a stride-1 conv followed by a blur-pool ``Downsample`` and a blur ``Upsample``
before a conv; those blur layers carry their fixed filter as a ``filt`` buffer, as in CUT's checkpoints.
Images are ``B, 3, H, W`` in [-1, 1]; H and W multiples of 4.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

CUT_NCE_LAYERS = (0, 4, 8, 12, 16)  # CUT's default --nce_layers: indices into ``ResnetGenerator.model``


def _binomial_filter(size: int) -> torch.Tensor:
    """Normalised 2-D binomial blur ``size, size`` (rows of Pascal's triangle, outer product)."""
    row = torch.tensor([float(math.comb(size - 1, k)) for k in range(size)])
    kernel = row[:, None] * row[None, :]
    return kernel / kernel.sum()


class BlurDownsample(nn.Module):
    """Anti-aliased stride-2 subsampling (reflect-pad 1, depthwise 3x3 binomial blur): ``B, C, H, W`` -> ``H/2``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filt", _binomial_filter(3)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.filt, stride=2, groups=x.shape[1])


class BlurUpsample(nn.Module):
    """Anti-aliased 2x upsampling (replicate-pad 1, depthwise transposed 4x4 binomial x 4): ``H`` -> ``2H``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filt", (_binomial_filter(4) * 4)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), self.filt, stride=2, padding=2,
                               groups=x.shape[1])
        return y[:, :, 1:-1, 1:-1]  # even filter: drop one row/column each side -> exactly 2H x 2W


def _norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """x + [pad, conv3x3, IN, ReLU, pad, conv3x3, IN](x); keys ``conv_block.1`` and ``conv_block.5``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _norm(dim), nn.ReLU(True),
                                        nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), _norm(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN/CUT generator ``B, 3, H, W`` -> ``B, 3, H, W`` in [-1, 1] (official defaults: ngf 64, 9 blocks)."""

    def __init__(self, ngf: int = 64, n_blocks: int = 9, antialias: bool = False) -> None:
        super().__init__()
        self.ngf, self.n_blocks, self.antialias = ngf, n_blocks, antialias
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), _norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            cin, cout = ngf * mult, ngf * mult * 2
            if antialias:
                layers += [nn.Conv2d(cin, cout, 3, 1, 1), _norm(cout), nn.ReLU(True), BlurDownsample(cout)]
            else:
                layers += [nn.Conv2d(cin, cout, 3, 2, 1), _norm(cout), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for mult in (4, 2):
            cin, cout = ngf * mult, ngf * mult // 2
            if antialias:
                layers += [BlurUpsample(cin), nn.Conv2d(cin, cout, 3, 1, 1), _norm(cout), nn.ReLU(True)]
            else:
                layers += [nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1), _norm(cout), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def features(self, x: torch.Tensor, layers: Iterable[int]) -> list[torch.Tensor]:
        """Outputs of ``model[i]`` for each ``i`` in ``layers`` (CUT's encoder taps), stopping after the last."""
        wanted, feats = sorted(layers), []
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i in wanted:
                feats.append(x)
            if i == wanted[-1]:
                break
        return feats


class PatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix ``NLayerDiscriminator``, n_layers=3: 70x70 receptive field) ``B, 3, H, W`` -> logits
    ``B, 1, H/8 - 2, W/8 - 2``; keys ``model.0/2/5/8/11``."""

    def __init__(self, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1), _norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchSampleF(nn.Module):
    """CUT's ``netF`` (``mlp_sample``): per tapped layer l, an MLP ``mlp_l`` = Linear(C_l, nc), ReLU, Linear(nc, nc)
    on ``num_patches`` sampled locations, then L2 normalisation. Feature ``B, C_l, H, W`` -> ``B * P, nc``.

    The reference creates the MLPs lazily on the first batch; here ``channels`` (C_l per layer) builds them
    up front, so an optimiser and ``load_state_dict`` see them from the start."""

    def __init__(self, channels: Iterable[int], nc: int = 256) -> None:
        super().__init__()
        for i, c in enumerate(channels):
            setattr(self, f"mlp_{i}", nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)))

    def forward(self, feats: list[torch.Tensor], num_patches: int,
                patch_ids: list[torch.Tensor] | None = None,
                generator: torch.Generator | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Sample the same locations in every image of the batch (``patch_ids`` reuses another call's)."""
        out, ids = [], []
        for i, feat in enumerate(feats):
            flat = feat.permute(0, 2, 3, 1).flatten(1, 2)  # B, H*W, C
            if patch_ids is None:
                pid = torch.randperm(flat.shape[1], generator=generator)[:num_patches].to(feat.device)
            else:
                pid = patch_ids[i]
            x = getattr(self, f"mlp_{i}")(flat[:, pid].flatten(0, 1))
            out.append(F.normalize(x, dim=1, eps=1e-7))
            ids.append(pid)
        return out, ids


def tap_channels(generator: ResnetGenerator, layers: Iterable[int]) -> list[int]:
    """Channel count at each tapped ``model`` index (for ``PatchSampleF``), from a tiny dry run."""
    with torch.no_grad():
        return [f.shape[1] for f in generator.features(torch.zeros(1, 3, 16, 16), layers)]


def official_generator_state(state: dict, net: nn.Module) -> dict:
    """An official ``latest_net_G*.pth`` state dict made loadable with ``strict=True``: ``module.`` prefixes
    (saved from ``DataParallel``) removed, and the ``running_mean``/``running_var``/``num_batches_tracked``
    entries of InstanceNorm layers dropped (checkpoints saved by PyTorch < 0.4 carry them; the reference
    drops them the same way when loading). Other keys are kept, so a wrong architecture still fails."""
    modules = dict(net.named_modules())
    clean = {}
    for key, value in state.items():
        key = key[len("module."):] if key.startswith("module.") else key
        owner, _, leaf = key.rpartition(".")
        if leaf in ("running_mean", "running_var", "num_batches_tracked") and \
                isinstance(modules.get(owner), nn.InstanceNorm2d) and not modules[owner].track_running_stats:
            continue
        clean[key] = value
    return clean


def load_official(net: nn.Module, state: dict, what: str,
                  fix: str = "set the stylizer's ngf/n_blocks/antialias to the checkpoint's") -> nn.Module:
    """``net.load_state_dict(official_generator_state(state))``, strictly; a mismatch is one ValueError line."""
    if not isinstance(state, dict):
        raise ValueError(f"{what} holds {type(state).__name__}, not a state dict; pass the official .pth file")
    clean = official_generator_state(state, net)
    own = net.state_dict()
    missing = [k for k in own if k not in clean]
    unexpected = [k for k in clean if k not in own]
    bad = [k for k in own if k in clean and tuple(clean[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or bad:
        first = (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}" if unexpected
                 else f"shape of {bad[0]} is {tuple(clean[bad[0]].shape)}, expected {tuple(own[bad[0]].shape)}")
        raise ValueError(f"{what} does not match this architecture ({len(missing)} missing, {len(unexpected)} "
                         f"unexpected, {len(bad)} wrong-shape keys; {first}); {fix}")
    net.load_state_dict({k: v.float() for k, v in clean.items()}, strict=True)
    return net


class ImagePool:
    """The discriminator's history buffer (Shrivastava et al. 2017, as in CycleGAN's ``ImagePool``): once full,
    each generated image is, with probability 1/2, swapped for a stored one (which is returned instead)."""

    def __init__(self, size: int, rng: torch.Generator) -> None:
        self.size, self.rng, self.images = size, rng, []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif float(torch.rand((), generator=self.rng)) < 0.5:
                j = int(torch.randint(len(self.images), (), generator=self.rng))
                out.append(self.images[j].clone())
                self.images[j] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)


def lsgan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """LSGAN (Mao et al. 2017): mean squared distance of the logits to 1 (real) or 0 (fake)."""
    return F.mse_loss(logits, torch.full_like(logits, 1.0 if real else 0.0))
