"""``stylizer=cyclegan``: CycleGAN's A -> B ResNet generator (Zhu et al., ICCV 2017).

Weights: ``bundled`` (``data/weights/cyclegan``: a small generator trained by rig2sketch, EXPERIMENTAL — see
its MODEL_CARD.md), ``official`` (``stylizer.checkpoint=latest_net_G_A.pth`` of junyanz/pytorch-CycleGAN-and-
pix2pix, or a pretrained ``<name>.pth``; ``ngf``/``n_blocks`` = the checkpoint's, official 64/9; ``module.``
prefixes and pre-0.4 InstanceNorm running stats are handled), or a folder from ``train-stylizer stylizer=cyclegan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from stylizers.base import STYLIZERS
from stylizers.config import BUNDLED, STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.resnet_gan import ResnetGenerator, load_official
from stylizers.unpaired import OFFICIAL, UnpairedStylizer, load_generator_file, read_official

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data" / "weights" / "cyclegan"


@dataclass
class ResnetGANConfig(StylizerConfig):
    """What the ResNet-generator GANs (CycleGAN, CUT) share: ``checkpoint`` (``weights=official``) and
    ``ngf``/``n_blocks``/``antialias``, which describe an official checkpoint (rig2sketch files carry their own)."""

    checkpoint: str | None = None
    ngf: int = 64
    n_blocks: int = 9
    antialias: bool = False

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=False, trainable=True, data="unpaired")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ngf < 1 or self.n_blocks < 0:
            raise ValueError(f"stylizer.ngf={self.ngf}, n_blocks={self.n_blocks}: need ngf >= 1, n_blocks >= 0")

    @property
    def arch(self) -> dict:
        return {"ngf": self.ngf, "n_blocks": self.n_blocks, "antialias": self.antialias}


@STYLIZER_CONFIGS.register("cyclegan")
@dataclass
class CycleGANConfig(ResnetGANConfig):
    """``weights``: ``bundled`` | ``official`` (with ``checkpoint``) | a folder/file from train-stylizer."""

    name: str = "cyclegan"
    weights: str = BUNDLED


def build_resnet(arch: dict) -> ResnetGenerator:
    return ResnetGenerator(int(arch["ngf"]), int(arch["n_blocks"]), bool(arch.get("antialias", False)))


def load_resnet_stylizer(model: str, weights: str, checkpoint: str | None, arch: dict,
                         what: str) -> UnpairedStylizer:
    """An official ``.pth`` (``weights=official``) or a rig2sketch file, as ``model``'s stylizer."""
    if weights == OFFICIAL:
        net = load_official(build_resnet(arch), read_official(checkpoint, model, what), f"{model} checkpoint "
                            f"{checkpoint}")
        return UnpairedStylizer(model, net, f"official:{Path(checkpoint).name}", arch)
    net, arch = load_generator_file(weights, model, build_resnet)
    return UnpairedStylizer(model, net, f"rig2sketch:{Path(weights).name}", arch)


@STYLIZERS.register("cyclegan")
def build_cyclegan(cfg: CycleGANConfig) -> UnpairedStylizer:
    weights = str(BUNDLED_DIR) if cfg.weights == BUNDLED else cfg.weights
    stylizer = load_resnet_stylizer("cyclegan", weights, cfg.checkpoint, cfg.arch,
                                    "the official latest_net_G_A.pth (A->B generator)")
    if cfg.weights == BUNDLED:
        stylizer.source, stylizer.licence = "rig2sketch:bundled", "MIT"
    return stylizer
