"""``stylizer=cut``: CUT's generator (Park et al., ECCV 2020, contrastive unpaired translation): the CycleGAN
ResNet generator, by default with CUT's anti-aliased down/upsampling.

No bundled weights: pass ``stylizer.weights=official stylizer.checkpoint=latest_net_G.pth`` (taesungp/contrastive-
unpaired-translation; ``ngf``/``n_blocks``/``antialias`` = the checkpoint's: official 64/9/true), or
``stylizer.weights=<folder>`` from ``train-stylizer stylizer=cut``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylizers.base import STYLIZERS
from stylizers.config import STYLIZER_CONFIGS
from stylizers.cyclegan import ResnetGANConfig, load_resnet_stylizer
from stylizers.unpaired import OFFICIAL, UnpairedStylizer


@STYLIZER_CONFIGS.register("cut")
@dataclass
class CUTConfig(ResnetGANConfig):
    """``weights``: ``official`` (with ``checkpoint``, required) | a folder/file from train-stylizer."""

    name: str = "cut"
    weights: str = OFFICIAL
    antialias: bool = True


@STYLIZERS.register("cut")
def build_cut(cfg: CUTConfig) -> UnpairedStylizer:
    return load_resnet_stylizer("cut", cfg.weights, cfg.checkpoint, cfg.arch,
                                "CUT's latest_net_G.pth (no bundled CUT weights)")
