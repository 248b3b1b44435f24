"""``stylizer=cut``: CUT's generator (Park et al., ECCV 2020, contrastive unpaired translation): the CycleGAN
ResNet generator, by default with CUT's anti-aliased down/upsampling.

No bundled weights: pass ``stylizer.weights=official stylizer.checkpoint=latest_net_G.pth`` (taesungp/contrastive-
unpaired-translation; ``ngf``/``n_blocks``/``antialias`` = the checkpoint's: official 64/9/true), or
``stylizer.weights=<folder>`` from ``train-stylizer stylizer=cut``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from stylizers.base import STYLIZERS
from stylizers.config import STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.cyclegan import load_resnet_stylizer
from stylizers.unpaired import OFFICIAL, UnpairedStylizer


@STYLIZER_CONFIGS.register("cut")
@dataclass
class CUTConfig(StylizerConfig):
    """``weights``: ``official`` (with ``checkpoint``, required) | a folder/file from train-stylizer."""

    name: str = "cut"
    weights: str = OFFICIAL
    checkpoint: str | None = None
    ngf: int = 64
    n_blocks: int = 9
    antialias: bool = True

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=False, trainable=True, data="unpaired")


@STYLIZERS.register("cut")
def build_cut(cfg: CUTConfig) -> UnpairedStylizer:
    return load_resnet_stylizer("cut", cfg.weights, cfg.checkpoint,
                                {"ngf": cfg.ngf, "n_blocks": cfg.n_blocks, "antialias": cfg.antialias},
                                "CUT's latest_net_G.pth (no bundled CUT weights)")
