"""HRNet for top-down 2D pose (Sun et al., CVPR 2019) in plain torch.

Module and parameter names follow the official implementation
(leoxiaobin/deep-high-resolution-net.pytorch, ``lib/models/pose_hrnet.py``): ``conv1, bn1,
conv2, bn2, layer1, transition1..3, stage2..4, final_layer``, so its checkpoints
(``pose_hrnet_w32_256x192.pth``, ...) load with ``strict=True``; mmpose checkpoints load after
``convert_state_dict`` maps their ``backbone.`` / ``head.`` (``keypoint_head.`` in mmpose 0.x)
prefixes.

Input ``B, 3, H, W`` (ImageNet-normalised RGB); output heatmaps ``B, K, H/4, W/4``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

BN_MOMENTUM = 0.1


@dataclass(frozen=True)
class HRNetSpec:
    """Architecture of one HRNet variant.

    width: channels of the highest-resolution branch (branch i has width * 2**i).
    stem_blocks / stem_planes: Bottleneck blocks in ``layer1`` and their planes (output
        channels = 4 * stem_planes; the official nets use 4 blocks of 64).
    modules: HR modules in stages 2, 3, 4. blocks: BasicBlocks per branch in each module.
    """

    width: int
    modules: tuple[int, int, int] = (1, 4, 3)
    blocks: int = 4
    stem_blocks: int = 4
    stem_planes: int = 64


SPECS: dict[str, HRNetSpec] = {
    "w32": HRNetSpec(width=32),
    "w48": HRNetSpec(width=48),
    # HRNet-W18-small-v2's layout (fewer modules and blocks): trains on a CPU in minutes at 128x96.
    "w18_small": HRNetSpec(width=18, modules=(1, 3, 2), blocks=2, stem_blocks=2),
    # 1.5M parameters, 0.36 GFLOP at 128x96: the bundled default model (3 MB in fp16).
    "small": HRNetSpec(width=16, modules=(1, 2, 1), blocks=2, stem_blocks=2, stem_planes=32),
    # For tests and CPU smoke runs only.
    "tiny": HRNetSpec(width=8, modules=(1, 1, 1), blocks=1, stem_blocks=1, stem_planes=16),
}


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, relu: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches of BasicBlocks, then every output branch sums all inputs resampled."""

    def __init__(self, channels: list[int], blocks: int, multi_scale_output: bool):
        super().__init__()
        self.num_branches = len(channels)
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(c, c) for _ in range(blocks)]) for c in channels
        )
        fuse = []
        for i in range(self.num_branches if multi_scale_output else 1):
            row: list[nn.Module | None] = []
            for j in range(self.num_branches):
                if j > i:
                    row.append(nn.Sequential(
                        nn.Conv2d(channels[j], channels[i], 1, 1, 0, bias=False),
                        nn.BatchNorm2d(channels[i]),
                        nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"),
                    ))
                elif j == i:
                    row.append(None)
                else:
                    steps = [_conv_bn(channels[j], channels[j], 3, 2, relu=True) for _ in range(i - j - 1)]
                    steps.append(_conv_bn(channels[j], channels[i], 3, 2, relu=False))
                    row.append(nn.Sequential(*steps))
            fuse.append(nn.ModuleList(row))
        self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU(True)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        if self.num_branches == 1:
            return xs
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, self.num_branches):
                y = y + (xs[j] if i == j else row[j](xs[j]))
            out.append(self.relu(y))
        return out


def _transition(pre: list[int], cur: list[int]) -> nn.ModuleList:
    layers: list[nn.Module | None] = []
    for i, c in enumerate(cur):
        if i < len(pre):
            layers.append(_conv_bn(pre[i], c, 3, 1, relu=True) if pre[i] != c else None)
        else:
            steps = []
            for j in range(i + 1 - len(pre)):
                cout = c if j == i - len(pre) else pre[-1]
                steps.append(_conv_bn(pre[-1], cout, 3, 2, relu=True))
            layers.append(nn.Sequential(*steps))
    return nn.ModuleList(layers)


class PoseHRNet(nn.Module):
    """Top-down HRNet: image ``B, 3, H, W`` -> heatmaps ``B, num_joints, H/4, W/4``."""

    def __init__(self, spec: HRNetSpec, num_joints: int = 17):
        super().__init__()
        self.spec = spec
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        stem_out = spec.stem_planes * Bottleneck.expansion
        layer1 = [Bottleneck(64, spec.stem_planes, downsample=nn.Sequential(
            nn.Conv2d(64, stem_out, kernel_size=1, bias=False),
            nn.BatchNorm2d(stem_out, momentum=BN_MOMENTUM),
        ))]
        layer1 += [Bottleneck(stem_out, spec.stem_planes) for _ in range(spec.stem_blocks - 1)]
        self.layer1 = nn.Sequential(*layer1)

        widths = [spec.width * 2**i for i in range(4)]
        self.transition1 = _transition([stem_out], widths[:2])
        self.stage2 = self._stage(widths[:2], spec.modules[0], spec.blocks, last_multi_scale=True)
        self.transition2 = _transition(widths[:2], widths[:3])
        self.stage3 = self._stage(widths[:3], spec.modules[1], spec.blocks, last_multi_scale=True)
        self.transition3 = _transition(widths[:3], widths[:4])
        self.stage4 = self._stage(widths, spec.modules[2], spec.blocks, last_multi_scale=False)
        self.final_layer = nn.Conv2d(widths[0], num_joints, kernel_size=1, stride=1, padding=0)
        self.init_weights()

    def init_weights(self) -> None:
        """The official initialisation: convs N(0, 0.001), zero bias; BN weight 1, bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.001)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _stage(channels: list[int], modules: int, blocks: int, last_multi_scale: bool) -> nn.Sequential:
        return nn.Sequential(*[
            HighResolutionModule(channels, blocks, multi_scale_output=last_multi_scale or m < modules - 1)
            for m in range(modules)
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.layer1(x)
        ys = self.stage2([t(x) if t is not None else x for t in self.transition1])
        ys = self.stage3([t(ys[-1]) if t is not None else ys[i] for i, t in enumerate(self.transition2)])
        ys = self.stage4([t(ys[-1]) if t is not None else ys[i] for i, t in enumerate(self.transition3)])
        return self.final_layer(ys[0])


def build_hrnet(arch: str, num_joints: int = 17) -> PoseHRNet:
    """``arch``: one of ``SPECS`` (w32, w48, w18_small, small, tiny)."""
    if arch not in SPECS:
        raise ValueError(f"unknown HRNet arch {arch!r}; choose one of: {', '.join(SPECS)}")
    return PoseHRNet(SPECS[arch], num_joints)


# mmpose 1.x: backbone.* + head.final_layer.*; mmpose 0.x: backbone.* + keypoint_head.final_layer.*
_PREFIXES = (("backbone.", ""), ("head.", ""), ("keypoint_head.", ""), ("module.", ""))


def convert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official, mmpose (0.x/1.x) or DataParallel keys -> this module's keys.

    Drops ``num_batches_tracked`` buffers (absent from old checkpoints) and unwraps a
    ``{"state_dict": ...}`` container.
    """
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    out = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        for prefix, repl in _PREFIXES:
            if key.startswith(prefix):
                key = repl + key[len(prefix):]
                break
        out[key] = value
    return out


def load_weights(model: PoseHRNet, state: dict[str, torch.Tensor], strict: bool = True) -> int:
    """Load an official / mmpose / rig2sketch state dict strictly (except BN counters); returns
    the number of tensors loaded.

    Raises ValueError naming missing and unexpected keys and shape mismatches, so a W48 file
    given to a W32 model says so instead of failing deep inside torch. ``strict=False`` loads
    every key whose name and shape match (e.g. an ImageNet HRNet backbone without a pose head,
    or a head trained for another number of joints) and leaves the rest initialised.
    """
    state = convert_state_dict(state)
    own = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if not strict:
        fitting = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
        if not fitting:
            raise ValueError("no tensor of the checkpoint matches this HRNet by name and shape; is it an HRNet?")
        model.load_state_dict({**model.state_dict(), **fitting})
        return len(fitting)
    if missing or unexpected or shapes:
        raise ValueError(
            "checkpoint does not fit this HRNet "
            f"(arch width {model.spec.width}); missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}, shape mismatches {shapes[:3]}. "
            "Pick the matching evaluation.model.arch (w32, w48, w18_small, small, tiny) and num_joints."
        )
    counters = {k: v for k, v in model.state_dict().items() if k.endswith("num_batches_tracked")}
    model.load_state_dict({**counters, **state})
    return len(state)
