"""StyTr² behind the ``Stylizer`` interface: the official diyiiyiii/StyTR-2 release or rig2sketch's weights.

A style's code is its style memory (the ``encoder_s`` tokens), padded to a square token count so codes of
styles with the same longer side stack: ``S, L*L, d + 1`` with ``L = ceil(max(Hs, Ws) / 8)``; the last
channel is 1 for a real token and 0 for padding (the decoder masks padding out, so the result is exactly
the unpadded one). StyTr² has no style interpolation: each image takes the style of its weights row's argmax.

Weights: ``official`` (``embedding_iter_160000.pth``, ``transformer_iter_160000.pth``, ``decoder_iter_160000.pth``
in ``official_dir``, loaded strictly; a ``module.`` prefix from DataParallel is dropped), ``bundled``
(``data/weights/stytr2``) or a folder from ``train-stylizer stylizer=stytr2``: one ``stytr2.safetensors`` with
keys ``embedding.*``, ``transformer.*``, ``decode.*`` and the architecture in its metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F

from stylizers.base import STYLIZERS, Stylizer
from stylizers.config import BUNDLED, STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.stytr2_nets import PATCH, StyTr2, StyTr2Arch
from stylizers.vgg import load_strict

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data" / "weights" / "stytr2"
WEIGHTS_FILE = "stytr2.safetensors"
OFFICIAL_FILES = {"embedding": "embedding_iter_160000.pth", "transformer": "transformer_iter_160000.pth",
                  "decode": "decoder_iter_160000.pth"}


@STYLIZER_CONFIGS.register("stytr2")
@dataclass
class StyTr2Config(StylizerConfig):
    """StyTr² (Deng et al. 2022). ``weights``: ``bundled`` (rig2sketch's small, EXPERIMENTAL variant in
    ``data/weights/stytr2``, see its MODEL_CARD.md), ``official`` (the three ``*_iter_160000.pth`` of
    diyiiyiii/StyTR-2 in ``official_dir``) or a folder holding ``stytr2.safetensors``."""

    name: str = "stytr2"
    weights: str = BUNDLED
    official_dir: str | None = None

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=True, alpha=False, trainable=True,
                                                        data="unpaired")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weights == "official" and not self.official_dir:
            raise ValueError("stylizer.weights=official needs stylizer.official_dir=DIR holding "
                             + ", ".join(OFFICIAL_FILES.values()))


class StyTr2Stylizer(Stylizer):
    """A loaded ``StyTr2`` network; codes are padded style memories (module docstring)."""

    name = "stytr2"
    size_multiple = PATCH
    supports_mixing = False

    def __init__(self, net: StyTr2, source: str = "") -> None:
        self.net, self.source = net.eval().requires_grad_(False), source

    def networks(self) -> list[torch.nn.Module]:
        return [self.net]

    def embed_styles(self, style_images: torch.Tensor) -> torch.Tensor:
        """``S, 3, Hs, Ws`` (multiples of 8) -> ``S, L*L, d + 1`` (memory tokens + a validity channel)."""
        memory = self.net.style_memory(style_images)
        side = math.ceil(max(style_images.shape[-2:]) / PATCH)
        pad = side * side - memory.shape[1]
        flag = torch.ones_like(memory[..., :1])
        return F.pad(torch.cat([memory, flag], 2), (0, 0, 0, pad))

    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        chosen = codes[weights.argmax(1)]  # B, M, d + 1
        return self.net.stylize_with_memory(content, chosen[..., :-1], memory_key_padding_mask=chosen[..., -1] < 0.5)

    def params(self) -> dict:
        return {"weights": self.source, "arch": self.net.arch.to_json()}


# ---------------------------------------------------------------- weights
def _strip_module(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix ``nn.DataParallel`` adds (the reference trains under it)."""
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_official(folder: Path, arch: StyTr2Arch = StyTr2Arch()) -> StyTr2Stylizer:
    """The three released state dicts of diyiiyiii/StyTR-2, each loaded strictly into its part."""
    from rig2sketch.weights import read_torch

    folder = Path(folder)
    net = StyTr2(arch)
    fix = f"put the StyTR-2 release files ({', '.join(OFFICIAL_FILES.values())}) in {folder}"
    for part, filename in OFFICIAL_FILES.items():
        state = read_torch(folder / filename, f"StyTr² {part} weights", fix)
        if not isinstance(state, dict):
            raise ValueError(f"{folder / filename} holds a {type(state).__name__}, not a state dict; {fix}")
        load_strict(getattr(net, part), {k: v.float() for k, v in _strip_module(state).items()},
                    f"{filename} (StyTR-2 {part})")
    return StyTr2Stylizer(net, source=f"official:{folder.name}")


def save_weights(net: StyTr2, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """``net`` as fp16 safetensors with its architecture in the metadata (atomic)."""
    from stylizers.adain import save_safetensors_fp16

    return save_safetensors_fp16(net.state_dict(), path, {**(metadata or {}), "arch": net.arch.to_json(),
                                                          "model": "StyTr2"})


def load_weights(folder: Path) -> StyTr2Stylizer:
    """``stytr2.safetensors`` from ``folder``: the network is rebuilt from the ``arch`` metadata."""
    from rig2sketch.weights import read_safetensors, safetensors_metadata

    path = Path(folder) / WEIGHTS_FILE
    fix = "run `rig2sketch train-stylizer stylizer=stytr2` or point stylizer.weights to a folder holding it"
    meta = safetensors_metadata(path, "StyTr² weights", fix)
    if "arch" not in meta:
        raise ValueError(f"{path}: no 'arch' metadata (not written by rig2sketch's StyTr² trainer); {fix}")
    net = StyTr2(StyTr2Arch.from_json(meta["arch"]))
    load_strict(net, {k: v.float() for k, v in read_safetensors(path, "StyTr² weights", fix).items()}, str(path))
    return StyTr2Stylizer(net, source=f"rig2sketch:{Path(folder).name}")


@STYLIZERS.register("stytr2")
def build_stytr2(cfg: StyTr2Config) -> StyTr2Stylizer:
    if cfg.weights == "official":
        return load_official(Path(cfg.official_dir))
    return load_weights(BUNDLED_DIR if cfg.weights == BUNDLED else Path(cfg.weights))
