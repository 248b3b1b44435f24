"""The three unpaired objectives the training flow (``unpaired_train``) runs: CycleGAN, CUT and U-GAT-IT.

Each is a module holding all its networks, registered in ``UNPAIRED_OBJECTIVES`` under the stylizer's name, with
``g_loss(a, b)`` / ``d_loss(a, b)`` for one training step (a: renders ``B, 3, H, W``, b: drawings, both in
[-1, 1]), ``probe(a, b)`` (every loss term on a fixed batch, no gradients), ``generator()`` (the A -> B net
the stylizer ships) and ``arch()`` (what rebuilds it). Losses follow the references:

- CycleGAN (junyanz): LSGAN; λ_cyc (|G_B(G_A(a)) - a| + |G_A(G_B(b)) - b|) + λ_cyc·λ_idt (|G_A(b) - b| +
  |G_B(a) - a|); discriminators on an image pool, their loss halved. Defaults λ_cyc 10, λ_idt 0.5.
- CUT (taesungp): LSGAN on one G/D pair + λ_NCE · PatchNCE(a, G(a)) (+ PatchNCE(b, G(b)), ``nce_idt``):
  patches of G's encoder features at ``nce_layers`` through the ``PatchSampleF`` MLP head, positives = the same
  location in the input, negatives = the other sampled locations of that image, temperature τ.
- U-GAT-IT (znxlwm): LSGAN on patch and CAM logits of a global and a local discriminator per domain;
  λ_cyc 10 cycle, λ_idt 10 identity, λ_cam 1000 BCE on the generators' CAM logits; AdaLIN's ρ clipped to [0, 1].
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from rig2sketch.registry import Registry
from stylizers.resnet_gan import (ImagePool, PatchDiscriminator, PatchSampleF, ResnetGenerator, lsgan_loss,
                                  tap_channels)
from stylizers.ugatit_nets import AdaLIN, LIN, UGATITDiscriminator, UGATITGenerator

# stylizer name -> objective class, built from that stylizer's training recipe
UNPAIRED_OBJECTIVES: Registry[Callable[..., "UnpairedObjective"]] = Registry("unpaired objective")
Losses = dict[str, torch.Tensor]


def init_normal(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The references' init: conv/linear weights N(0, gain), biases 0 (U-GAT-IT keeps PyTorch's defaults)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


class UnpairedObjective(nn.Module, ABC):
    """All networks of one method. ``g_loss`` also leaves its generated images (detached) in ``last_fakes``
    (``"b"``: A -> B, ``"a"``: B -> A where the method has it) for the discriminator step that follows."""

    last_fakes: dict[str, torch.Tensor]

    def g_parameters(self) -> list[nn.Parameter]:
        return [p for net in self.g_nets() for p in net.parameters()]

    def d_parameters(self) -> list[nn.Parameter]:
        return [p for net in self.d_nets() for p in net.parameters()]

    @abstractmethod
    def g_nets(self) -> list[nn.Module]:
        """The modules the generator optimiser updates."""

    @abstractmethod
    def d_nets(self) -> list[nn.Module]:
        """The discriminators."""

    @abstractmethod
    def generator(self) -> nn.Module:
        """The A -> B generator (renders -> drawings) the stylizer ships."""

    @abstractmethod
    def arch(self) -> dict[str, Any]:
        """The generator's constructor settings (stored in its safetensors metadata)."""

    @abstractmethod
    def g_loss(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Losses]:
        """(weighted generator loss, its terms) for renders ``a`` and drawings ``b`` (``B, 3, H, W`` in [-1, 1])."""

    @abstractmethod
    def d_loss(self, a: torch.Tensor, b: torch.Tensor, fakes: dict[str, torch.Tensor],
               pooled: bool = True) -> tuple[torch.Tensor, Losses]:
        """(discriminator loss, its terms) on real ``a``/``b`` and ``fakes`` (through the image pool if ``pooled``)."""

    def after_g_step(self) -> None:
        """Hook after the generator's optimiser step (U-GAT-IT clips ρ)."""

    @torch.no_grad()
    def probe(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        """Every loss term on a fixed batch (D without the pool), as floats."""
        _, g_terms = self.g_loss(a, b)
        _, d_terms = self.d_loss(a, b, self.last_fakes, pooled=False)
        return {k: float(v) for k, v in {**g_terms, **d_terms}.items()}


@UNPAIRED_OBJECTIVES.register("cyclegan")
class CycleGANObjective(UnpairedObjective):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.cfg = cfg
        self.G_A, self.G_B = (init_normal(ResnetGenerator(cfg.ngf, cfg.n_blocks)) for _ in range(2))
        self.D_A, self.D_B = (init_normal(PatchDiscriminator(cfg.ndf)) for _ in range(2))
        rng = torch.Generator().manual_seed(cfg.seed)
        self.pool_A, self.pool_B = ImagePool(cfg.pool_size, rng), ImagePool(cfg.pool_size, rng)
        self.last_fakes: dict[str, torch.Tensor] = {}

    def g_nets(self) -> list[nn.Module]:
        return [self.G_A, self.G_B]

    def d_nets(self) -> list[nn.Module]:
        return [self.D_A, self.D_B]

    def generator(self) -> nn.Module:
        return self.G_A

    def arch(self) -> dict[str, Any]:
        return {"ngf": self.cfg.ngf, "n_blocks": self.cfg.n_blocks, "antialias": False}

    def g_loss(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, Losses]:
        c = self.cfg
        fake_b, fake_a = self.G_A(a), self.G_B(b)
        self.last_fakes = {"b": fake_b.detach(), "a": fake_a.detach()}
        for d in self.d_nets():
            d.requires_grad_(False)
        adv = lsgan_loss(self.D_A(fake_b), True) + lsgan_loss(self.D_B(fake_a), True)
        for d in self.d_nets():
            d.requires_grad_(True)
        cycle = (self.G_B(fake_b) - a).abs().mean() + (self.G_A(fake_a) - b).abs().mean()
        idt = (self.G_A(b) - b).abs().mean() + (self.G_B(a) - a).abs().mean() if c.lambda_identity > 0 \
            else a.new_zeros(())
        content = c.lambda_cycle * cycle + c.lambda_cycle * c.lambda_identity * idt
        return adv + content, {"g_adv": adv, "cycle": cycle, "identity": idt, "g_content": content}

    def d_loss(self, a, b, fakes, pooled=True):
        fake_b = self.pool_B.query(fakes["b"]) if pooled else fakes["b"]
        fake_a = self.pool_A.query(fakes["a"]) if pooled else fakes["a"]
        d_a = 0.5 * (lsgan_loss(self.D_A(b), True) + lsgan_loss(self.D_A(fake_b), False))
        d_b = 0.5 * (lsgan_loss(self.D_B(a), True) + lsgan_loss(self.D_B(fake_a), False))
        return d_a + d_b, {"d": d_a + d_b}


def patch_nce(q: torch.Tensor, k: torch.Tensor, batch: int, tau: float) -> torch.Tensor:
    """PatchNCE (CUT): ``q``, ``k`` ``B * P, D`` (L2-normalised, same locations). For each query patch the
    positive is the key at its location, the negatives the other P - 1 keys of the same image; cross-entropy
    of the positive among them at temperature ``tau``."""
    q, k = q.float(), k.detach().float()  # logits / 0.07 in bf16 would lose the ranking's precision
    q, k = q.view(batch, -1, q.shape[1]), k.view(batch, -1, k.shape[1])
    logits = torch.bmm(q, k.transpose(1, 2)) / tau  # B, P, P: diagonal = positives
    return F.cross_entropy(logits.flatten(0, 1), torch.arange(q.shape[1], device=q.device).repeat(batch))


@UNPAIRED_OBJECTIVES.register("cut")
class CUTObjective(UnpairedObjective):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.cfg = cfg
        self.G = init_normal(ResnetGenerator(cfg.ngf, cfg.n_blocks, cfg.antialias))
        self.D = init_normal(PatchDiscriminator(cfg.ndf))
        self.F = init_normal(PatchSampleF(tap_channels(self.G, cfg.nce_layers), cfg.netF_nc))
        self.rng = torch.Generator().manual_seed(cfg.seed)
        self.last_fakes: dict[str, torch.Tensor] = {}

    def g_nets(self) -> list[nn.Module]:
        return [self.G, self.F]

    def d_nets(self) -> list[nn.Module]:
        return [self.D]

    def generator(self) -> nn.Module:
        return self.G

    def arch(self) -> dict[str, Any]:
        return {"ngf": self.cfg.ngf, "n_blocks": self.cfg.n_blocks, "antialias": self.cfg.antialias}

    def nce(self, src: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        layers = self.cfg.nce_layers
        k_feats, ids = self.F(self.G.features(src, layers), self.cfg.num_patches, generator=self.rng)
        q_feats, _ = self.F(self.G.features(out, layers), self.cfg.num_patches, ids)
        return sum(patch_nce(q, k, src.shape[0], self.cfg.nce_T) for q, k in zip(q_feats, k_feats)) / len(layers)

    def probe(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        saved, self.rng = self.rng, torch.Generator().manual_seed(0)  # the same patches every probe
        try:
            return super().probe(a, b)
        finally:
            self.rng = saved

    def g_loss(self, a, b):
        c = self.cfg
        both = self.G(torch.cat([a, b])) if c.nce_idt else self.G(a)
        fake_b = both[:a.shape[0]]
        self.last_fakes = {"b": fake_b.detach()}
        self.D.requires_grad_(False)
        adv = lsgan_loss(self.D(fake_b), True)
        self.D.requires_grad_(True)
        nce = self.nce(a, fake_b)
        nce_idt = self.nce(b, both[a.shape[0]:]) if c.nce_idt else a.new_zeros(())
        content = c.lambda_nce * (0.5 * (nce + nce_idt) if c.nce_idt else nce)
        return c.lambda_gan * adv + content, {"g_adv": adv, "nce": nce, "nce_idt": nce_idt, "g_content": content}

    def d_loss(self, a, b, fakes, pooled=True):
        d = 0.5 * (lsgan_loss(self.D(b), True) + lsgan_loss(self.D(fakes["b"]), False))
        return d, {"d": d}


@UNPAIRED_OBJECTIVES.register("ugatit")
class UGATITObjective(UnpairedObjective):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.genA2B, self.genB2A = (UGATITGenerator(cfg.ngf, cfg.n_blocks, cfg.crop, cfg.light) for _ in range(2))
        g_layers, l_layers = cfg.d_layers
        self.disGA, self.disGB = (UGATITDiscriminator(cfg.ndf, g_layers) for _ in range(2))
        self.disLA, self.disLB = (UGATITDiscriminator(cfg.ndf, l_layers) for _ in range(2))
        self.last_fakes: dict[str, torch.Tensor] = {}

    def g_nets(self) -> list[nn.Module]:
        return [self.genA2B, self.genB2A]

    def d_nets(self) -> list[nn.Module]:
        return [self.disGA, self.disGB, self.disLA, self.disLB]

    def generator(self) -> nn.Module:
        return self.genA2B

    def arch(self) -> dict[str, Any]:
        c = self.cfg
        return {"ngf": c.ngf, "n_blocks": c.n_blocks, "img_size": c.crop, "light": c.light}

    @staticmethod
    def _adv(outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], real: bool) -> torch.Tensor:
        return sum(lsgan_loss(logit, real) + lsgan_loss(cam_logit, real) for logit, cam_logit, _ in outputs)

    def g_loss(self, a, b):
        c = self.cfg
        fake_b, cam_ab, _ = self.genA2B(a)
        fake_a, cam_ba, _ = self.genB2A(b)
        self.last_fakes = {"b": fake_b.detach(), "a": fake_a.detach()}
        for d in self.d_nets():
            d.requires_grad_(False)
        adv = (self._adv([self.disGA(fake_a), self.disLA(fake_a)], True)
               + self._adv([self.disGB(fake_b), self.disLB(fake_b)], True))
        for d in self.d_nets():
            d.requires_grad_(True)
        cycle = (self.genB2A(fake_b)[0] - a).abs().mean() + (self.genA2B(fake_a)[0] - b).abs().mean()
        idt_a, cam_aa, _ = self.genB2A(a)
        idt_b, cam_bb, _ = self.genA2B(b)
        idt = (idt_a - a).abs().mean() + (idt_b - b).abs().mean()
        bce = F.binary_cross_entropy_with_logits
        cam = (bce(cam_ba, torch.ones_like(cam_ba)) + bce(cam_aa, torch.zeros_like(cam_aa))
               + bce(cam_ab, torch.ones_like(cam_ab)) + bce(cam_bb, torch.zeros_like(cam_bb)))
        content = c.lambda_cycle * cycle + c.lambda_identity * idt + c.lambda_cam * cam
        return c.lambda_gan * adv + content, {"g_adv": adv, "cycle": cycle, "identity": idt, "cam": cam,
                                              "g_content": content}

    def d_loss(self, a, b, fakes, pooled=True):
        real = self._adv([self.disGA(a), self.disLA(a), self.disGB(b), self.disLB(b)], True)
        fake = self._adv([self.disGA(fakes["a"]), self.disLA(fakes["a"]), self.disGB(fakes["b"]),
                          self.disLB(fakes["b"])], False)
        d = self.cfg.lambda_gan * (real + fake)
        return d, {"d": d}

    def after_g_step(self) -> None:
        for m in itertools.chain(self.genA2B.modules(), self.genB2A.modules()):
            if isinstance(m, (AdaLIN, LIN)):
                m.rho.data.clamp_(0.0, 1.0)
