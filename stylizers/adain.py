"""AdaIN (Huang & Belongie, ICCV 2017): encoder to relu4_1, adaptive instance normalisation, decoder.

One code path, two weight sources (``load_official`` and ``load_bundled``). A style's code is the
mean and std of its relu4_1 features, ``S, 2C`` (C = 512); mixing codes linearly is exactly the
reference's style interpolation, because AdaIN is linear in the style statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from rig2sketch.atomic import atomic_path
from stylizers.base import STYLIZERS, Stylizer
from stylizers.config import BUNDLED, STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.vgg import VGGEncoder, encoder_from_official, encoder_vgg16, load_strict

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data" / "weights" / "adain"
ENCODER_FILE = "encoder_vgg16_hed.safetensors"
DECODER_FILE = "decoder.safetensors"
EPS = 1e-5


@STYLIZER_CONFIGS.register("adain")
@dataclass
class AdaINConfig(StylizerConfig):
    """AdaIN (Huang & Belongie 2017). ``weights``: ``bundled`` (rig2sketch's VGG-16/HED encoder + trained
    decoder in ``data/weights/adain``), ``official`` (pytorch-AdaIN ``vgg_normalised.pth`` + ``decoder.pth``
    given by ``vgg_path``/``decoder_path``, or a folder holding both in ``official_dir``), or a folder of
    rig2sketch safetensors written by ``train_stylizer``."""

    name: str = "adain"
    weights: str = BUNDLED
    vgg_path: str | None = None
    decoder_path: str | None = None
    official_dir: str | None = None
    alpha: float = 1.0  # checked by StylizerConfig (capabilities.alpha)
    preserve_color: bool = False

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=True, alpha=True, trainable=True,
                                                        data="unpaired")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weights == "official" and not (self.official_dir or (self.vgg_path and self.decoder_path)):
            raise ValueError("stylizer.weights=official needs stylizer.official_dir=DIR (holding vgg_normalised.pth "
                             "and decoder.pth) or both stylizer.vgg_path=... and stylizer.decoder_path=...")


# ---------------------------------------------------------------- the maths
def mean_std(feat: torch.Tensor, eps: float = EPS) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std over space: ``B, C, H, W`` -> two ``B, C, 1, 1`` (unbiased var + eps)."""
    flat = feat.flatten(2)
    return flat.mean(2)[..., None, None], (flat.var(2) + eps).sqrt()[..., None, None]


def adain(content_feat: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    """Normalise each channel of ``content_feat`` and give it the style's mean/std (``B, C, 1, 1``)."""
    c_mean, c_std = mean_std(content_feat)
    return (content_feat - c_mean) / c_std * style_std + style_mean


def style_code(style_feat: torch.Tensor) -> torch.Tensor:
    """relu4_1 ``S, C, H, W`` -> code ``S, 2C`` = [mean, std]."""
    m, s = mean_std(style_feat)
    return torch.cat([m.flatten(1), s.flatten(1)], 1)


def preserve_content_colour(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Keep the content's colours, take the stylized luminance (YIQ luminance transfer, Gatys et al. 2016).

    The reference ``test.py`` recolours the style image with CORAL instead; with precomputed style codes
    the luminance variant is the one that works per batch. Both ``B, 3, H, W`` in [0, 1]."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]],
                          dtype=stylized.dtype, device=stylized.device)
    yiq_s = torch.einsum("ij,bjhw->bihw", to_yiq, stylized)
    yiq_c = torch.einsum("ij,bjhw->bihw", to_yiq, content)
    yiq = torch.cat([yiq_s[:, :1], yiq_c[:, 1:]], 1)
    return torch.einsum("ij,bjhw->bihw", torch.linalg.inv(to_yiq.float()).to(yiq.dtype), yiq)


def official_decoder(in_channels: int = 512) -> nn.Sequential:
    """The decoder of pytorch-AdaIN ``net.decoder`` (relu4_1, 512 ch -> RGB), keys ``1.weight`` ... ``27.bias``.

    StyTr²'s ``decode`` is the same layout; ``in_channels`` is its d_model (512 in the release)."""
    layers: list[nn.Module] = []
    plan = [(in_channels, 256, True), (256, 256, False), (256, 256, False), (256, 256, False), (256, 128, True),
            (128, 128, False), (128, 64, True), (64, 64, False), (64, 3, None)]
    for cin, cout, up in plan:
        layers += [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(cin, cout, (3, 3))]
        if up is not None:
            layers.append(nn.ReLU())
        if up:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- the stylizer
class AdaINStylizer(Stylizer):
    """AdaIN with ``alpha`` (0 = the decoder's reconstruction of the content, 1 = full style), colour
    preservation, and style interpolation through mixed codes."""

    name = "adain"
    size_multiple = 8  # three 2x2 poolings before relu4_1
    supports_mixing = True

    def __init__(self, encoder: VGGEncoder, decoder: nn.Sequential, alpha: float = 1.0,
                 preserve_color: bool = False, source: str = "") -> None:
        self.encoder, self.decoder = encoder, decoder.eval().requires_grad_(False)
        self.alpha, self.preserve_color, self.source = alpha, preserve_color, source

    def networks(self) -> list[nn.Module]:
        return [self.encoder, self.decoder]

    def embed_styles(self, style_images: torch.Tensor) -> torch.Tensor:
        return style_code(self.encoder.encode(style_images))

    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        feat = self.encoder.encode(content)
        mixed = weights.to(codes.dtype) @ codes  # B, 2C
        c = feat.shape[1]
        t = adain(feat, mixed[:, :c, None, None], mixed[:, c:, None, None])
        t = self.alpha * t + (1.0 - self.alpha) * feat
        out = self.decoder(t)
        if self.preserve_color:
            out = preserve_content_colour(out, content)
        return out

    def params(self) -> dict:
        return {"alpha": self.alpha, "preserve_color": self.preserve_color, "weights": self.source,
                "encoder": self.encoder.name}


# ---------------------------------------------------------------- weights
def _torch_load(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle errors, truncated files, non-tensor objects
        raise ValueError(f"{path}: cannot be read as a plain PyTorch state dict ({err}); pass the "
                         "pytorch-AdaIN release files vgg_normalised.pth / decoder.pth") from err
    if not isinstance(state, dict):
        raise ValueError(f"{path}: holds a {type(state).__name__}, not a state dict of tensors")
    return state


def find_official(folder: Path) -> tuple[Path, Path]:
    """``vgg_normalised.pth`` (or the ``vgg_normalized.pth`` spelling) and ``decoder.pth`` in ``folder``."""
    folder = Path(folder)
    for name in ("vgg_normalised.pth", "vgg_normalized.pth"):
        if (folder / name).is_file():
            vgg = folder / name
            break
    else:
        raise FileNotFoundError(f"{folder}: no vgg_normalised.pth (or vgg_normalized.pth); put the "
                                "pytorch-AdaIN release files there or pass stylizer.vgg_path=...")
    if not (folder / "decoder.pth").is_file():
        raise FileNotFoundError(f"{folder}: no decoder.pth; pass stylizer.decoder_path=...")
    return vgg, folder / "decoder.pth"


def load_official(vgg_path: Path, decoder_path: Path, **kw) -> AdaINStylizer:
    """The official pytorch-AdaIN checkpoints, loaded strictly (``weights_only=True``)."""
    encoder = encoder_from_official(_torch_load(Path(vgg_path)))
    decoder = official_decoder()
    load_strict(decoder, _torch_load(Path(decoder_path)), "decoder.pth (pytorch-AdaIN net.decoder)")
    return AdaINStylizer(encoder, decoder, source=f"official:{Path(decoder_path).name}", **kw)


def load_bundled(folder: Path = BUNDLED_DIR, **kw) -> AdaINStylizer:
    """rig2sketch's safetensors: VGG-16 (HED) encoder + a decoder trained by ``train_stylizer``."""
    from rig2sketch.weights import read_safetensors

    folder = Path(folder)
    enc, dec = folder / ENCODER_FILE, folder / DECODER_FILE
    fix = "run `rig2sketch train-stylizer stylizer=adain` or point stylizer.weights to a folder holding both files"
    for p in (enc, dec):
        if not p.is_file():
            raise FileNotFoundError(f"{p} is missing; {fix}")
    decoder = official_decoder()
    load_strict(decoder, {k: v.float() for k, v in read_safetensors(dec, "AdaIN decoder", fix).items()}, str(dec))
    return AdaINStylizer(encoder_vgg16(read_safetensors(enc, "AdaIN encoder", fix)), decoder,
                         source=f"rig2sketch:{folder.name}", **kw)


def save_safetensors_fp16(state: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> Path:
    """Write ``state`` as fp16 safetensors atomically (temp file + rename)."""
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().to("cpu", torch.float16).contiguous() for k, v in state.items()}, str(tmp), metadata)
    return Path(path)


@STYLIZERS.register("adain")
def build_adain(cfg: AdaINConfig) -> AdaINStylizer:
    kw = {"alpha": cfg.alpha, "preserve_color": cfg.preserve_color}
    if cfg.weights == "official":
        vgg, dec = (find_official(Path(cfg.official_dir)) if cfg.official_dir
                    else (Path(cfg.vgg_path), Path(cfg.decoder_path)))
        return load_official(vgg, dec, **kw)
    return load_bundled(BUNDLED_DIR if cfg.weights == BUNDLED else Path(cfg.weights), **kw)
