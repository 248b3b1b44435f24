"""Stylize a character's material maps by optimisation through the differentiable shader
(``stylizers.pbr_shading``), so the style lives in the textures and holds from every camera.

Each step renders a few random views of the fixed G-buffers under random suns, composites
them over white paper (sRGB) and scores them with a *judge* — a registered render loss
(:data:`RENDER_LOSSES`; ``gram_vgg``: Gram-matrix style loss to a style image on the bundled
VGG-16 features). Seed 001 judged with a diffusion model (score distillation); a user who has
one registers it here under a new name. Regularisers: total variation of the maps, albedo near
the starting albedo, and unit normals. ``deepdream`` (seed 000) is gradient ascent on chosen VGG
activations of the albedo map itself, gradients divided by their std, values clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rig2sketch.registry import Registry
from stylizers.metrics import gram
from stylizers.pbr_shading import CHANNELS, GBuffers, facing_suns, linear_to_srgb, shade
from stylizers.pbr_texture import PARAMETRISATIONS
from stylizers.vgg import VGGEncoder, encoder_vgg16

RenderLoss = Callable[[torch.Tensor], torch.Tensor]  # B, 3, H, W sRGB in [0, 1] -> scalar
RENDER_LOSSES: Registry[Callable[..., RenderLoss]] = Registry("texture judge")
ENCODER_FILE = Path(__file__).resolve().parents[1] / "data" / "weights" / "adain" / "encoder_vgg16_hed.safetensors"


@dataclass
class TextureStylizeConfig:
    """Settings of one texture stylization (``configs/stylize-textures.yaml`` mirrors them).

    ``mode``: ``style`` (optimise against the judge) or ``deepdream``. ``parametrisation``:
    ``direct`` or ``dip``. ``judge``: a :data:`RENDER_LOSSES` name. ``views_per_step`` random
    G-buffer views and suns per step; ``sun_strength`` range (W/m²); ``ambient`` world radiance.
    Weights: ``style_weight`` (judge), ``tv_weight``, ``albedo_weight`` (stay near the start),
    ``normal_weight`` (unit normals). DeepDream: ``dream_taps`` (VGG tap indices 0-3),
    ``dream_step`` (strength per step). ``size``: map side in texels."""

    mode: str = "style"
    parametrisation: str = "direct"
    judge: str = "gram_vgg"
    size: int = 256
    steps: int = 100
    views_per_step: int = 2
    lr: float = 0.02
    sun_strength: tuple[float, float] = (2.5, 4.0)
    ambient: float = 0.15
    specular_ior_level: float = 0.5
    style_weight: float = 1.0
    tv_weight: float = 0.05
    albedo_weight: float = 0.05
    normal_weight: float = 0.1
    dream_taps: tuple[int, ...] = (2, 3)
    dream_step: float = 0.01

    def __post_init__(self) -> None:
        if self.mode not in ("style", "deepdream"):
            raise ValueError(f"mode={self.mode!r}: choose style or deepdream")
        if self.parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"parametrisation={self.parametrisation!r}: choose one of {PARAMETRISATIONS.names()}")
        if self.judge not in RENDER_LOSSES:
            raise ValueError(f"judge={self.judge!r}: choose one of {RENDER_LOSSES.names()}")
        if self.steps < 0 or self.views_per_step < 1 or self.size < 4:
            raise ValueError("steps must be >= 0, views_per_step >= 1 and size >= 4")
        if not all(0 <= t <= 3 for t in self.dream_taps) or not self.dream_taps:
            raise ValueError(f"dream_taps={list(self.dream_taps)}: give VGG tap indices from 0 (relu1_1) to 3 (relu4_1)")


def bundled_encoder(device: torch.device | str = "cpu") -> VGGEncoder:
    """The bundled VGG-16 (HED) encoder (``data/weights/adain/``), frozen."""
    from safetensors.torch import load_file

    if not ENCODER_FILE.is_file():
        raise ValueError(f"the bundled VGG encoder {ENCODER_FILE} is missing; restore data/weights/adain from git")
    return encoder_vgg16(load_file(str(ENCODER_FILE))).to(device)


@RENDER_LOSSES.register("gram_vgg")
def gram_vgg_judge(style: torch.Tensor, encoder: VGGEncoder) -> RenderLoss:
    """Gram style loss of renders to ``style`` (``1, 3, H, W`` in [0, 1]) over the four VGG taps,
    each tap normalised by the style's own Gram energy so the taps weigh alike."""
    with torch.no_grad():
        targets = [gram(f) for f in encoder(style)]
        scales = [t.pow(2).mean().clamp_min(1e-12) for t in targets]

    def loss(images: torch.Tensor) -> torch.Tensor:
        total = images.new_zeros(())
        for f, t, s in zip(encoder(images), targets, scales):
            total = total + ((gram(f) - t) ** 2).mean() / s
        return total

    return loss


def on_paper(radiance: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``V, 3, H, W`` linear radiance and ``V, H, W`` mask -> sRGB images over white paper."""
    m = mask[:, None]
    return linear_to_srgb(radiance) * m + (1 - m)


def total_variation(maps: torch.Tensor) -> torch.Tensor:
    return (maps[..., 1:, :] - maps[..., :-1, :]).abs().mean() + (maps[..., 1:] - maps[..., :-1]).abs().mean()


def normal_penalty(material: torch.Tensor) -> torch.Tensor:
    """Mean ``(|n| - 1)²`` of the decoded normals plus a penalty on normals pointing into the surface."""
    n = material[:, CHANNELS["normal"]] * 2 - 1
    return ((n.norm(dim=1) - 1) ** 2).mean() + torch.relu(0.1 - n[:, 2]).mean()


def render_views(material: torch.Tensor, gb: GBuffers, rng: torch.Generator, cfg: TextureStylizeConfig
                 ) -> torch.Tensor:
    """Random suns on ``gb``'s views -> sRGB renders over paper ``V, 3, H, W``."""
    light, irradiance = facing_suns(gb, rng, cfg.sun_strength)
    light, irradiance = light.to(material.device), irradiance.to(material.device)
    return on_paper(shade(material, gb, light, irradiance, cfg.ambient, cfg.specular_ior_level), gb.mask)


def stylize_material(start: torch.Tensor, gb: GBuffers, judge: RenderLoss | None, cfg: TextureStylizeConfig,
                     seed: int, encoder: VGGEncoder | None = None,
                     on_step: Callable[[int, float], None] | None = None) -> tuple[torch.Tensor, list[float]]:
    """Optimise ``start`` (``P, 8, S, S``) and return ``(material, losses)`` — the stylized maps
    (detached) and the judge's loss per step (``style`` mode) or the dream objective (``deepdream``)."""
    rng = torch.Generator().manual_seed(seed)
    device = start.device
    if cfg.mode == "deepdream":
        if encoder is None:
            raise ValueError("deepdream needs the VGG encoder")
        return deepdream_albedo(start, encoder, cfg), []
    if judge is None:
        raise ValueError(f"mode=style needs a judge ({RENDER_LOSSES.names()})")
    param = PARAMETRISATIONS.get(cfg.parametrisation)(start, rng).to(device)
    optimiser = torch.optim.Adam(param.parameters(), lr=cfg.lr)
    albedo0 = start[:, CHANNELS["albedo"]]
    history = []
    for step in range(cfg.steps):
        pick = torch.randperm(gb.views, generator=rng)[: cfg.views_per_step]
        views = gb.select(pick)
        material = param()
        images = render_views(material, views, rng, cfg)
        style = judge(images)
        loss = (cfg.style_weight * style + cfg.tv_weight * total_variation(material)
                + cfg.albedo_weight * ((material[:, CHANNELS["albedo"]] - albedo0) ** 2).mean()
                + cfg.normal_weight * normal_penalty(material))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        param.project()
        history.append(float(style.detach()))
        if on_step is not None:
            on_step(step, history[-1])
    with torch.no_grad():
        return param().detach(), history


def deepdream_albedo(start: torch.Tensor, encoder: VGGEncoder, cfg: TextureStylizeConfig) -> torch.Tensor:
    """Seed 000's DeepDream on each part's albedo map: ``cfg.steps`` ascent steps on the mean
    squared activation of ``cfg.dream_taps``, gradient divided by its std, times
    ``cfg.dream_step``, albedo clipped to [0, 1]. Other maps unchanged."""
    material = start.clone()
    albedo = material[:, CHANNELS["albedo"]].clone()
    for _ in range(cfg.steps):
        albedo.requires_grad_(True)
        feats = encoder(albedo)
        objective = sum(feats[t].pow(2).mean() for t in cfg.dream_taps)
        (grad,) = torch.autograd.grad(objective, albedo)
        with torch.no_grad():
            albedo = (albedo + cfg.dream_step * grad / grad.std().clamp_min(1e-8)).clamp(0.0, 1.0)
    material[:, CHANNELS["albedo"]] = albedo.detach()
    return material


def style_image_tensor(image: np.ndarray, side: int) -> torch.Tensor:
    """``H, W`` or ``H, W, 3`` (uint8, or float in [0, 1]) -> ``1, 3, H', W'`` float in [0, 1]
    with the shorter side ``side``."""
    array = np.asarray(image)
    x = torch.as_tensor(array.astype(np.float32) / (255.0 if array.dtype == np.uint8 else 1.0))
    x = x[..., None].expand(*x.shape, 3) if x.ndim == 2 else x[..., :3]
    x = x.permute(2, 0, 1)[None]
    h, w = x.shape[-2:]
    scale = side / min(h, w)
    return torch.nn.functional.interpolate(x, size=(max(8, round(h * scale)), max(8, round(w * scale))),
                                           mode="bilinear", align_corners=False)


__all__ = ["RENDER_LOSSES", "TextureStylizeConfig", "bundled_encoder", "deepdream_albedo", "gram_vgg_judge",
           "on_paper", "render_views", "stylize_material", "style_image_tensor"]
