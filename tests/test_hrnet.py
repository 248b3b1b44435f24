"""HRNet: official and mmpose checkpoints load strictly; sizes and errors are right.

``tests/data/hrnet_official_keys.json.gz`` lists every state-dict key and shape of the official
``PoseHighResolutionNet`` (leoxiaobin/deep-high-resolution-net.pytorch, w32/w48 256x192
configs), dumped once from that code; the checkpoints here are synthetic tensors with those
names and shapes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from evaluation.hrnet import build_hrnet, convert_state_dict, load_weights

KEYS = json.loads(gzip.decompress((Path(__file__).parent / "data" / "hrnet_official_keys.json.gz").read_bytes()))


def synthetic_official(arch: str) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {k: torch.randn(shape, generator=g) if shape else torch.tensor(7) for k, shape in KEYS[arch].items()}


@pytest.mark.parametrize("arch", ["w32", "w48"])
def test_official_checkpoint_loads_strictly(arch: str) -> None:
    state = synthetic_official(arch)
    model = build_hrnet(arch)
    load_weights(model, state)
    own = model.state_dict()
    assert set(k for k in own if not k.endswith("num_batches_tracked")) == \
        set(k for k in state if not k.endswith("num_batches_tracked"))
    for key in ("conv1.weight", "stage4.2.fuse_layers.0.3.0.weight", "final_layer.bias"):
        assert torch.equal(own[key], state[key])
    # Old checkpoints lack BN counters; the same load works without them.
    load_weights(build_hrnet(arch), {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")})


def test_mmpose_checkpoint_loads_after_prefix_mapping() -> None:
    official = synthetic_official("w32")
    mm1 = {"state_dict": {("head." + k if k.startswith("final_layer") else "backbone." + k): v
                          for k, v in official.items()}}
    mm0 = {("keypoint_head." + k if k.startswith("final_layer") else "backbone." + k): v for k, v in official.items()}
    for ckpt in (mm1, mm0):
        model = build_hrnet("w32")
        load_weights(model, ckpt)
        assert torch.equal(model.state_dict()["transition3.3.0.0.weight"], official["transition3.3.0.0.weight"])
        assert torch.equal(model.state_dict()["final_layer.weight"], official["final_layer.weight"])
    assert "final_layer.weight" in convert_state_dict(mm1)


def test_wrong_arch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="shape mismatches"):
        load_weights(build_hrnet("w48"), synthetic_official("w32"))
    with pytest.raises(ValueError, match="unknown HRNet arch"):
        build_hrnet("w64")


def test_parameter_count_matches_published_w32() -> None:
    # HRNet-W32 256x192 has 28.5M parameters (paper, Table 1).
    assert sum(p.numel() for p in build_hrnet("w32").parameters()) == 28_536_113


@pytest.mark.parametrize("arch", ["tiny", "w18_small"])
def test_heatmaps_are_quarter_resolution(arch: str) -> None:
    out = build_hrnet(arch).eval()(torch.zeros(2, 3, 128, 96))
    assert out.shape == (2, 17, 32, 24)


def test_partial_init_loads_a_backbone_without_pose_head() -> None:
    official = synthetic_official("w32")
    backbone = {k: v for k, v in official.items() if not k.startswith("final_layer")}
    backbone["incre_modules.0.0.conv1.weight"] = torch.zeros(1)  # ImageNet classifier parts
    model = build_hrnet("w32")
    with pytest.raises(ValueError, match="missing"):
        load_weights(model, backbone)
    n = load_weights(model, backbone, strict=False)
    assert n == len([k for k in backbone if not k.startswith("incre") and not k.endswith("num_batches_tracked")])
    assert torch.equal(model.state_dict()["conv1.weight"], official["conv1.weight"])
