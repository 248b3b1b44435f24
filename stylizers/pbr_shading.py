"""Differentiable PBR shading over fixed geometry (torch; the G-buffers come from Blender once,
``renderers.gbuffer``).

A material is a ``P, 8, S, S`` tensor in [0, 1], one ``S x S`` texture per part, channels:
0-2 albedo (sRGB-encoded), 3-5 tangent-space normal ``(n + 1) / 2`` (+Z out), 6 roughness,
7 metallic — the texture-set maps of ``rig2sketch.texture_set``. :func:`sample_material` reads it
at every pixel's UV with ``grid_sample``; :func:`shade` lights the result with Blender's
Principled BSDF model reduced to its metallic-workflow core: Lambert diffuse + GGX specular
(Smith G, Schlick Fresnel, alpha = roughness²), one sun per view plus a uniform grey ambient.
Everything is differentiable with respect to the material. No shadows, no bounces: compare with
Cycles renders made with shadows off and zero bounces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

CHANNELS = {"albedo": slice(0, 3), "normal": slice(3, 6), "roughness": slice(6, 7), "metallic": slice(7, 8)}
DIELECTRIC_F0 = 0.04  # IOR 1.5; Blender scales it by 2 x "Specular IOR Level"


@dataclass
class GBuffers:
    """Per-view geometry as torch tensors (``V`` views, ``H, W`` pixels, world space):
    ``uv`` ``V, H, W, 2`` (Blender UV, v up), ``normal``/``tangent``/``bitangent``/``view``
    ``V, H, W, 3``, ``mask`` ``V, H, W`` 0/1, ``part`` ``V, H, W`` long (0 nothing, i + 1 part i)."""

    uv: torch.Tensor
    normal: torch.Tensor
    tangent: torch.Tensor
    bitangent: torch.Tensor
    view: torch.Tensor
    mask: torch.Tensor
    part: torch.Tensor
    parts: list[str]

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], device: str | torch.device = "cpu") -> "GBuffers":
        """From the ``.npz`` arrays of ``renderers.gbuffer.run_gbuffer_job``; ValueError if a key is missing."""
        need = ("uv", "normal", "tangent", "bitangent", "view", "mask", "part", "parts")
        missing = [k for k in need if k not in arrays]
        if missing:
            raise ValueError(f"G-buffers lack {missing}; render them with renderers.gbuffer.run_gbuffer_job")
        tensor = {k: torch.as_tensor(np.asarray(arrays[k]), device=device) for k in need[:-1]}
        return cls(**{k: v.float() for k, v in tensor.items() if k != "part"}, part=tensor["part"].long(),
                   parts=[str(p) for p in arrays["parts"]])

    def select(self, index: torch.Tensor | list[int]) -> "GBuffers":
        """The views ``index`` only."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.uv.device)
        return GBuffers(*(getattr(self, k)[index] for k in ("uv", "normal", "tangent", "bitangent", "view",
                                                            "mask", "part")), parts=self.parts)

    @property
    def views(self) -> int:
        return int(self.uv.shape[0])


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055).clamp_min(1e-8) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, x * 12.92, 1.055 * x.clamp_min(1e-8) ** (1 / 2.4) - 0.055)


def sample_material(material: torch.Tensor, gb: GBuffers) -> torch.Tensor:
    """``P, 8, S, S`` material -> ``V, 8, H, W`` values at each pixel's UV from its part's
    textures (bilinear, texel centres at ``(i + 0.5) / S``, clamped at the border, as Blender's
    Linear/EXTEND image texture); zero where no part is seen."""
    parts = material.shape[0]
    if int(gb.part.max()) > parts:
        raise ValueError(f"G-buffers see part {int(gb.part.max()) - 1} but the material has {parts} parts; "
                         f"give one texture per part of {gb.parts}")
    # grid_sample: x = -1 the left edge, y = -1 the top row; UV v = 1 is the top row.
    grid = torch.stack([gb.uv[..., 0] * 2 - 1, 1 - gb.uv[..., 1] * 2], dim=-1)
    out = material.new_zeros(gb.uv.shape[0], material.shape[1], *gb.uv.shape[1:3])
    for p in range(parts):
        seen = (gb.part == p + 1)
        if not bool(seen.any()):
            continue
        sampled = F.grid_sample(material[p : p + 1].expand(gb.uv.shape[0], -1, -1, -1), grid, mode="bilinear",
                                padding_mode="border", align_corners=False)
        out = torch.where(seen[:, None], sampled, out)
    return out


def shading_normal(values: torch.Tensor, gb: GBuffers) -> torch.Tensor:
    """``V, 3, H, W`` world normals after the normal map (Blender's Normal Map node, tangent space)."""
    n_ts = values[:, CHANNELS["normal"]] * 2 - 1
    frame = [t.permute(0, 3, 1, 2) for t in (gb.tangent, gb.bitangent, gb.normal)]
    n = n_ts[:, 0:1] * frame[0] + n_ts[:, 1:2] * frame[1] + n_ts[:, 2:3] * frame[2]
    return F.normalize(n, dim=1, eps=1e-8)


def shade(material: torch.Tensor, gb: GBuffers, light_dir: torch.Tensor, irradiance: torch.Tensor,
          ambient: torch.Tensor | float = 0.0, specular_level: float = 0.5) -> torch.Tensor:
    """Linear RGB radiance ``V, 3, H, W`` (0 outside the mask) of ``material`` seen through ``gb``.

    ``light_dir`` ``V, 3`` unit world directions towards each view's sun; ``irradiance`` ``V, 3``
    linear RGB (Blender sun strength x colour); ``ambient`` the radiance of a uniform white
    world (scalar or ``V``; lit without occlusion). Diffuse: ``(1 - metallic) albedo / pi``;
    specular: GGX ``D G F / (4 n.l n.v)`` with ``F0 = mix(0.08 specular_level, albedo, metallic)``."""
    values = sample_material(material, gb)
    albedo = srgb_to_linear(values[:, CHANNELS["albedo"]])
    rough = values[:, CHANNELS["roughness"]].clamp(0.02, 1.0)
    metal = values[:, CHANNELS["metallic"]]
    n = shading_normal(values, gb)
    v = gb.view.permute(0, 3, 1, 2)
    l = light_dir[:, :, None, None]
    h = F.normalize(l + v, dim=1, eps=1e-8)
    n_l = (n * l).sum(1, keepdim=True).clamp_min(0.0)
    n_v = (n * v).sum(1, keepdim=True).clamp_min(1e-4)
    n_h = (n * h).sum(1, keepdim=True).clamp_min(0.0)
    v_h = (v * h).sum(1, keepdim=True).clamp_min(0.0)
    alpha2 = (rough * rough) ** 2
    d = alpha2 / (math.pi * (n_h * n_h * (alpha2 - 1) + 1) ** 2)
    k = alpha2.sqrt() / 2
    g = (n_l / (n_l * (1 - k) + k + 1e-8)) * (n_v / (n_v * (1 - k) + k))
    f0 = torch.lerp(torch.full_like(albedo, DIELECTRIC_F0 * 2 * specular_level), albedo, metal)
    fresnel = f0 + (1 - f0) * (1 - v_h) ** 5
    if specular_level == 0:
        fresnel = fresnel * metal  # no dielectric layer at all (Blender's level 0)
    specular = d * g * fresnel / (4 * n_l * n_v + 1e-6)
    diffuse = (1 - metal) * albedo / math.pi
    # Cycles lights nothing whose surface faces away from the light, whatever the normal map says.
    facing = ((gb.normal.permute(0, 3, 1, 2) * l).sum(1, keepdim=True) > 0).to(n_l.dtype)
    sun = irradiance[:, :, None, None] * n_l * facing
    ambient = torch.as_tensor(ambient, dtype=albedo.dtype, device=albedo.device).reshape(-1, 1, 1, 1)
    radiance = (diffuse + specular) * sun + ambient * (1 - metal) * albedo
    return radiance * gb.mask[:, None]


def random_suns(views: int, rng: torch.Generator, strength: tuple[float, float] = (2.0, 4.0),
                up_bias: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """``views`` random suns: unit directions ``V, 3`` (tilted upwards by ``up_bias``) and white-ish
    irradiance ``V, 3`` with strength uniform in ``strength``."""
    d = torch.randn(views, 3, generator=rng)
    d[:, 2] = d[:, 2].abs() + up_bias
    d = F.normalize(d, dim=1)
    s = strength[0] + (strength[1] - strength[0]) * torch.rand(views, 1, generator=rng)
    tint = 1 + 0.1 * (torch.rand(views, 3, generator=rng) - 0.5)
    return d, s * tint


def facing_suns(gb: GBuffers, rng: torch.Generator, strength: tuple[float, float] = (2.0, 4.0),
                spread: float = 0.8) -> tuple[torch.Tensor, torch.Tensor]:
    """Random suns on the camera's side of each view (the lit side is seen): each view's mean view
    vector plus noise of size ``spread``, normalised. ``V, 3`` directions and irradiance."""
    mean = (gb.view * gb.mask[..., None]).sum((1, 2)).cpu()  # the generator draws on the CPU
    d, irradiance = random_suns(gb.views, rng, strength)
    device = gb.view.device
    return F.normalize(F.normalize(mean, dim=1) + spread * d, dim=1).to(device), irradiance.to(device)
