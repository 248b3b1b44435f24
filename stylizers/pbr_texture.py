"""Material maps as learnable parameters (torch), their starting values, and the texture-set
conversion (``rig2sketch.texture_set``).

Materials are ``P, 8, S, S`` in [0, 1] (channel layout in ``stylizers.pbr_shading``). Two
parametrisations, registered by name in :data:`PARAMETRISATIONS`:

- ``direct``: the maps themselves are the parameters, clamped back into [0, 1] after every step
  (seed 001: "represent textures directly as images", "clamp it!").
- ``dip``: a Deep Image Prior — a small conv generator from fixed noise outputs a residual on the
  starting maps; its weights are the parameters (seed 001: DIP regularises the textures).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rig2sketch.registry import Registry
from rig2sketch.texture_set import TextureSet
from stylizers.pbr_shading import CHANNELS, linear_to_srgb

PARAMETRISATIONS: Registry[type] = Registry("texture parametrisation")


def initial_material(base_rgb: np.ndarray, size: int, rng: np.random.Generator, variation: float = 0.08,
                     roughness: float = 0.7) -> torch.Tensor:
    """``P, 8, size, size`` starting maps from each part's linear base colour ``P, 3``: the colour
    (sRGB-encoded) with a little low-frequency value noise of relative size ``variation``, a flat
    normal, ``roughness`` and metallic 0."""
    base = torch.as_tensor(np.asarray(base_rgb, dtype=np.float32)).reshape(-1, 3)
    parts = base.shape[0]
    coarse = torch.as_tensor(rng.standard_normal((parts, 1, 8, 8)).astype(np.float32))
    noise = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    albedo = (linear_to_srgb(base)[:, :, None, None] * (1 + variation * noise)).clamp(0, 1)
    normal = torch.tensor([0.5, 0.5, 1.0]).reshape(1, 3, 1, 1).expand(parts, 3, size, size)
    rough = torch.full((parts, 1, size, size), roughness) + 0.03 * noise
    metal = torch.zeros(parts, 1, size, size)
    return torch.cat([albedo, normal, rough.clamp(0, 1), metal], dim=1).contiguous()


def normalise_normals(material: torch.Tensor) -> torch.Tensor:
    """The material with its normal channels made unit vectors with +Z out (encoded back to [0, 1])."""
    n = material[:, CHANNELS["normal"]] * 2 - 1
    n = torch.cat([n[:, :2], n[:, 2:3].clamp_min(0.05)], dim=1)
    n = F.normalize(n, dim=1) * 0.5 + 0.5
    return torch.cat([material[:, :3], n, material[:, 6:]], dim=1)


@PARAMETRISATIONS.register("direct")
class DirectMaps(nn.Module):
    """The maps as parameters; :meth:`project` clamps them into [0, 1] after each step."""

    def __init__(self, start: torch.Tensor, rng: torch.Generator | None = None) -> None:
        super().__init__()
        self.maps = nn.Parameter(start.clone())

    def forward(self) -> torch.Tensor:
        """``P, 8, S, S`` maps in [0, 1]."""
        return self.maps

    @torch.no_grad()
    def project(self) -> None:
        self.maps.clamp_(0.0, 1.0)


@PARAMETRISATIONS.register("dip")
class DeepImagePrior(nn.Module):
    """``start + scale * tanh(g(z))``, clamped: a conv generator ``g`` from fixed noise ``z``
    (16 channels at a quarter of the map size, two upsampling stages), output zero-initialised so
    the first render is the starting material."""

    def __init__(self, start: torch.Tensor, rng: torch.Generator | None = None, width: int = 32,
                 scale: float = 0.5) -> None:
        super().__init__()
        parts, channels, size, _ = start.shape
        self.register_buffer("start", start.clone())
        self.register_buffer("z", torch.randn(parts, 16, max(1, size // 4), max(1, size // 4), generator=rng))
        self.scale = scale

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]

        # The layers' initial weights come from ``rng`` too (not torch's global generator), so a run is
        # the same whatever ran before it in the process.
        seed = int(torch.randint(2**31 - 1, (1,), generator=rng)) if rng is not None else None
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.net = nn.Sequential(*block(16, width), nn.Upsample(scale_factor=2, mode="bilinear"),
                                     *block(width, width), nn.Upsample(size=(size, size), mode="bilinear"),
                                     *block(width, width), nn.Conv2d(width, channels, 1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self) -> torch.Tensor:
        return (self.start + self.scale * torch.tanh(self.net(self.z))).clamp(0.0, 1.0)

    def project(self) -> None:
        """Nothing to project: the output is clamped."""


def to_texture_set(material: torch.Tensor, parts: list[str], character: str, specular_ior_level: float = 0.5,
                   params: dict | None = None) -> TextureSet:
    """``P, 8, S, S`` -> a :class:`TextureSet` (normals made unit first)."""
    material = normalise_normals(material.detach().float().cpu()).clamp(0, 1)
    maps = {}
    for p, part in enumerate(parts):
        hwc = material[p].permute(1, 2, 0).numpy()
        maps[part] = {name: np.ascontiguousarray(hwc[..., sl]) for name, sl in CHANNELS.items()}
    return TextureSet(character, maps, specular_ior_level, params or {})


def from_texture_set(textures: TextureSet, parts: list[str]) -> torch.Tensor:
    """A :class:`TextureSet` -> ``P, 8, S, S`` in the order of ``parts`` (ValueError for a missing part)."""
    missing = [p for p in parts if p not in textures.maps]
    if missing:
        raise ValueError(f"texture set of {textures.character!r} has no maps for parts {missing}; it has {textures.parts}")
    stacks = [np.concatenate([textures.maps[p][name] for name in CHANNELS], axis=-1) for p in parts]
    return torch.as_tensor(np.stack(stacks)).permute(0, 3, 1, 2).contiguous().float()
