"""``stylizer=ugatit``: U-GAT-IT's generator (Kim et al., ICLR 2020; CAM attention + AdaLIN).

No bundled weights: pass ``stylizer.weights=official stylizer.checkpoint=<dataset>_params_latest.pt``
(znxlwm/UGATIT-pytorch: one dict with ``genA2B``, ``genB2A``, ``disGA`` ...; ``direction`` picks the generator;
``ngf``/``n_blocks``/``img_size``/``light`` = the run's, official 64/4/256/false), or ``stylizer.weights=<folder>``
from ``train-stylizer stylizer=ugatit``. The full (non-light) model only runs at ``img_size``: renders are
resized to it and the output back to the render's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from stylizers.base import STYLIZERS
from stylizers.config import STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.resnet_gan import load_official
from stylizers.ugatit_nets import UGATITGenerator
from stylizers.unpaired import OFFICIAL, UnpairedStylizer, load_generator_file, read_official

OFFICIAL_KEYS = ("genA2B", "genB2A", "disGA", "disGB", "disLA", "disLB")


@STYLIZER_CONFIGS.register("ugatit")
@dataclass
class UGATITConfig(StylizerConfig):
    """``weights``: ``official`` (with ``checkpoint``, required) | a folder/file from train-stylizer."""

    name: str = "ugatit"
    weights: str = OFFICIAL
    checkpoint: str | None = None
    direction: str = "A2B"  # official checkpoints hold both generators: genA2B or genB2A
    ngf: int = 64
    n_blocks: int = 4
    img_size: int = 256
    light: bool = False

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=False, trainable=True, data="unpaired")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.direction not in ("A2B", "B2A"):
            raise ValueError(f"stylizer.direction={self.direction!r}: choose A2B or B2A")
        if self.img_size < 16 or self.img_size % 4:
            raise ValueError(f"stylizer.img_size={self.img_size}: must be a multiple of 4 and >= 16")


def build_ugatit_generator(arch: dict) -> UGATITGenerator:
    return UGATITGenerator(int(arch["ngf"]), int(arch["n_blocks"]), int(arch["img_size"]), bool(arch["light"]))


def official_generator(params: object, direction: str, path: str) -> dict:
    """The ``gen<direction>`` state dict of an official U-GAT-IT ``.pt`` file."""
    key = f"gen{direction}"
    if not isinstance(params, dict) or key not in params:
        found = sorted(params)[:6] if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"ugatit checkpoint {path} has no {key} (found {found}); pass UGATIT-pytorch's "
                         f"<dataset>_params_latest.pt, whose dict holds {', '.join(OFFICIAL_KEYS)}")
    return params[key]


@STYLIZERS.register("ugatit")
def build_ugatit(cfg: UGATITConfig) -> UnpairedStylizer:
    if cfg.weights == OFFICIAL:
        arch = {"ngf": cfg.ngf, "n_blocks": cfg.n_blocks, "img_size": cfg.img_size, "light": cfg.light}
        params = read_official(cfg.checkpoint, "ugatit", "UGATIT-pytorch's <dataset>_params_latest.pt")
        net = load_official(build_ugatit_generator(arch), official_generator(params, cfg.direction, cfg.checkpoint),
                            f"ugatit checkpoint {cfg.checkpoint} gen{cfg.direction}",
                            "set stylizer.ngf/n_blocks/img_size/light to the run's (official 64/4/256/false)")
        source = f"official:{Path(cfg.checkpoint).name}:gen{cfg.direction}"
    else:
        net, arch = load_generator_file(cfg.weights, "ugatit", build_ugatit_generator)
        source = f"rig2sketch:{Path(cfg.weights).name}"
    return UnpairedStylizer("ugatit", net, source, arch, fixed_size=0 if arch["light"] else int(arch["img_size"]))
