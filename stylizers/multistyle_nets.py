"""The multi-style networks in plain torch: Magenta's style predictor (MobileNetV2 -> z_s, 100-D) and its
feed-forward transformer, with the way z_s enters the transformer as a choice (the injection study).

Layout of the transformer (Ghiasi et al. 2017, the distilled TF-Lite size): contract 3->8 (9x9), 8->16 and
16->32 (3x3, stride 2), five residual blocks of 32 channels, expand 32->16->8 (2x nearest upsampling, 3x3)
and 8->3 (9x9) with a sigmoid; reflection padding everywhere. Every residual/expand conv is followed by a
style-conditioned normalisation ``inject(conv(x), code)``. Injections (``INJECTIONS``):

- ``film``: conditional instance norm, ``γ(z)·IN(x) + β(z)`` (the pretrained model; ``γ, β`` linear in z);
- ``add``: 1x1-conv injection added to the features, ``IN(x)·g + b + W z``;
- ``concat``: z (projected to 16-D) concatenated to the normalised features, then a 1x1 conv;
- ``patch``: no z; the content's bottleneck features are replaced by their best-matching 3x3 patches of the
  style's bottleneck features (style swap, Chen & Schmidt 2016), the rest normalised with learned affines.

Images are ``B, 3, H, W`` RGB in [0, 1]; H and W multiples of 4 give outputs of the same size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from rig2sketch.registry import Registry

Z_DIM = 100
EPS = 1e-5

INJECTIONS: Registry[type["Injection"]] = Registry("injection")


# ---------------------------------------------------------------- style predictor
def tf_same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's ``SAME`` zero padding (the extra pixel goes bottom/right)."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class TFConv(nn.Conv2d):
    """A conv whose weights come from the TF scope ``tf_scope``, with TF ``SAME`` padding, then ReLU6 or not."""

    def __init__(self, tf_scope: str, cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1,
                 relu6: bool = True) -> None:
        super().__init__(cin, cout, k, stride, 0, groups=groups)
        self.tf_scope, self.relu6 = tf_scope, relu6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = super().forward(tf_same_pad(x, self.kernel_size[0], self.stride[0]))
        return y.clamp(0.0, 6.0) if self.relu6 else y


class InvertedResidual(nn.Module):
    def __init__(self, scope: str, cin: int, cout: int, expand: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        layers = [TFConv(f"{scope}/expand", cin, mid)] if expand != 1 else []
        layers += [TFConv(f"{scope}/depthwise", mid, mid, 3, stride, groups=mid),
                   TFConv(f"{scope}/project", mid, cout, relu6=False)]
        self.layers = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.layers(x)
        return x + y if self.residual else y


class StylePredictor(nn.Module):
    """MobileNetV2 (width 1.0) + a 1x1 bottleneck: style image ``B, 3, H, W`` in [0, 1] -> z_s ``B, 100``.
    Magenta feeds it 256x256 crops; other sizes work (global average pooling)."""

    PLAN = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [TFConv("MobilenetV2/Conv", 3, 32, 3, 2)]
        cin, i = 32, 0
        for t, c, n, s in self.PLAN:
            for j in range(n):
                scope = "MobilenetV2/expanded_conv" + (f"_{i}" if i else "")
                layers.append(InvertedResidual(scope, cin, c, t, s if j == 0 else 1))
                cin, i = c, i + 1
        layers.append(TFConv("MobilenetV2/Conv_1", 320, 1280))
        self.features = nn.Sequential(*layers)
        self.bottleneck = TFConv("mobilenet_conv/Conv", 1280, Z_DIM, relu6=False)

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        pooled = self.features(style).mean((2, 3), keepdim=True)
        return self.bottleneck(pooled).flatten(1)


# ---------------------------------------------------------------- injections
def instance_norm(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``scale · (x - μ) / sqrt(σ² + EPS) + shift`` per image and channel (biased σ², as Magenta's StyleNorm);
    ``scale``/``shift`` broadcast to ``B, C, 1, 1``. Folded into one multiply-add, which keeps channels-last
    tensors channels-last (``F.instance_norm`` copies them: a quarter of the CPU time at 512 px)."""
    mean = x.mean((2, 3), keepdim=True)
    var = (x - mean).square().mean((2, 3), keepdim=True)
    mul = scale * torch.rsqrt(var + EPS)
    return x * mul + (shift - mean * mul)


class Affine(nn.Module):
    """A learned, style-free per-channel scale and shift after instance norm."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return instance_norm(x, self.weight, self.bias)


class Injection(nn.Module):
    """Normalise ``x`` (``B, C, H, W``) and condition it on the style code (``B, Z_DIM``, or None for ``patch``)."""

    def __init__(self, scope: str, channels: int) -> None:
        super().__init__()
        self.scope = scope


@INJECTIONS.register("film")
class FiLMInjection(Injection):
    """``γ(z)·IN(x) + β(z)``: Magenta's conditional instance norm (``StyleNorm/Conv_1`` = γ, ``Conv`` = β)."""

    def __init__(self, scope: str, channels: int) -> None:
        super().__init__(scope, channels)
        self.gamma, self.beta = nn.Linear(Z_DIM, channels), nn.Linear(Z_DIM, channels)
        self.gamma.tf_scope = f"style_params/{scope}/StyleNorm/Conv_1"
        self.beta.tf_scope = f"style_params/{scope}/StyleNorm/Conv"

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return instance_norm(x, self.gamma(z)[..., None, None], self.beta(z)[..., None, None])


@INJECTIONS.register("add")
class AddInjection(Injection):
    """``IN(x)·g + b + W z``: a 1x1 conv of the (spatially constant) code added to the features."""

    def __init__(self, scope: str, channels: int) -> None:
        super().__init__(scope, channels)
        self.norm = Affine(channels)
        self.inject = nn.Conv2d(Z_DIM, channels, 1)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.norm(x) + self.inject(z[..., None, None])


@INJECTIONS.register("concat")
class ConcatInjection(Injection):
    """``conv1x1([IN(x)·g + b, P z])``: the code, projected to 16-D and tiled, concatenated to the features."""

    def __init__(self, scope: str, channels: int, z_channels: int = 16) -> None:
        super().__init__(scope, channels)
        self.norm = Affine(channels)
        self.project = nn.Linear(Z_DIM, z_channels)
        self.mix = nn.Conv2d(channels + z_channels, channels, 1)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        n = self.norm(x)
        tiled = self.project(z)[..., None, None].expand(-1, -1, *n.shape[-2:])
        return self.mix(torch.cat([n, tiled], 1))


@INJECTIONS.register("patch")
class PatchInjection(Injection):
    """``IN(x)·g + b``: style enters earlier, by patch matching at the bottleneck (``style_swap``)."""

    def __init__(self, scope: str, channels: int) -> None:
        super().__init__(scope, channels)
        self.norm = Affine(channels)

    def forward(self, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        return self.norm(x)


def style_swap(content: torch.Tensor, style: torch.Tensor, patch: int = 3) -> torch.Tensor:
    """Replace each ``patch``x``patch`` patch of ``content`` (``B, C, H, W``) by the style patch of ``style``
    (``B, C, Hs, Ws``) with the highest normalised cross-correlation; overlaps are averaged."""
    out = []
    for c, s in zip(content, style):
        patches = F.unfold(s[None], patch).squeeze(0).T.reshape(-1, s.shape[0], patch, patch)  # N, C, p, p
        normed = patches / patches.flatten(1).norm(dim=1).clamp_min(1e-6)[:, None, None, None]
        best = F.conv2d(c[None], normed).argmax(1).flatten()  # (H-p+1)·(W-p+1) indices into the N patches
        chosen = patches.flatten(1)[best].T[None]  # 1, C·p·p, L: fold's column layout
        size = tuple(c.shape[-2:])
        overlap = F.fold(torch.ones_like(chosen[:, :1]).expand(-1, patch * patch, -1), size, patch)
        out.append(F.fold(chosen, size, patch) / overlap)
    return torch.cat(out)


# ---------------------------------------------------------------- transformer
class ReflectConv(nn.Conv2d):
    def __init__(self, tf_scope: str, cin: int, cout: int, k: int, stride: int = 1) -> None:
        super().__init__(cin, cout, k, stride, 0)
        self.tf_scope = tf_scope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.kernel_size[0] // 2
        return super().forward(F.pad(x, (p, p, p, p), mode="reflect"))


class StyleTransformer(nn.Module):
    """Content ``B, 3, H, W`` in [0, 1] + style code -> stylized ``B, 3, H, W`` in [0, 1].

    The code is z_s ``B, 100`` for ``film``/``add``/``concat`` and the style's bottleneck features
    ``B, 32, h, w`` (``style_features``) for ``patch``."""

    def __init__(self, injection: str = "film") -> None:
        super().__init__()
        inject = INJECTIONS.get(injection)
        self.injection = injection
        self.contract = nn.ModuleList([ReflectConv("transformer/contract/conv1", 3, 8, 9),
                                       ReflectConv("transformer/contract/conv2", 8, 16, 3, 2),
                                       ReflectConv("transformer/contract/conv3", 16, 32, 3, 2)])
        self.residual = nn.ModuleList()
        for i in range(1, 6):
            scope = f"transformer/residual/residual{i}"
            self.residual.append(nn.ModuleList([ReflectConv(f"{scope}/conv1", 32, 32, 3), inject(f"{scope}/conv1", 32),
                                                ReflectConv(f"{scope}/conv2", 32, 32, 3), inject(f"{scope}/conv2", 32)]))
        self.expand = nn.ModuleList()
        for i, (cin, cout, k) in enumerate([(32, 16, 3), (16, 8, 3), (8, 3, 9)], 1):
            scope = f"transformer/expand/conv{i}/conv"
            self.expand.append(nn.ModuleList([ReflectConv(scope, cin, cout, k), inject(scope, cout)]))

    def style_features(self, style: torch.Tensor) -> torch.Tensor:
        """The ``patch`` code: bottleneck features ``B, 32, h, w`` of style images ``B, 3, Hs, Ws``."""
        for conv in self.contract:
            style = F.relu(conv(style))
        return style

    def forward(self, content: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = self.style_features(content)
        z = code
        if self.injection == "patch":
            x, z = style_swap(x, code), None
        for conv1, inj1, conv2, inj2 in self.residual:
            x = x + inj2(conv2(F.relu(inj1(conv1(x), z))), z)
        for i, (conv, inj) in enumerate(self.expand):
            if i < 2:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = inj(conv(x), z)
            x = F.relu(x) if i < 2 else torch.sigmoid(x)
        return x


def load_tf_weights(module: nn.Module, weights: dict[str, tuple[torch.Tensor, torch.Tensor]], what: str) -> None:
    """Copy ``{tf scope: (weight, bias)}`` into every submodule with a ``tf_scope``; every scope must match."""
    targets = {m.tf_scope: m for m in module.modules() if hasattr(m, "tf_scope")}
    missing, unused = sorted(set(targets) - set(weights)), sorted(set(weights) - set(targets))
    if missing or unused:
        raise ValueError(f"{what}: layers without weights {missing[:3]}, weights without layers {unused[:3]}")
    with torch.no_grad():
        for scope, m in targets.items():
            w, b = (torch.as_tensor(a) for a in weights[scope])
            m.weight.copy_(w.reshape(m.weight.shape))
            m.bias.copy_(b)
