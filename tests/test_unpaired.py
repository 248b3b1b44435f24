"""CycleGAN, CUT and U-GAT-IT stylizers: official checkpoint formats load strictly (state dicts built here from
the reference repositories' layer names and shapes, not from our modules), including old CycleGAN files with
InstanceNorm running stats and ``module.``-prefixed ones; a wrong architecture fails in one line; the loaded
generator is the one that runs; GANs take no style images."""

from __future__ import annotations

import json

import pytest
import torch

from stylizers.base import StylizerRunner, build_stylizer, one_hot_weights
from stylizers.cut import CUTConfig
from stylizers.cyclegan import CycleGANConfig
from stylizers.ugatit import UGATITConfig


def conv(cout: int, cin: int, k: int, bias: bool = True) -> dict[str, tuple]:
    return {"weight": (cout, cin, k, k), **({"bias": (cout,)} if bias else {})}


def resblocks(start: int, n: int, dim: int, bias: bool, prefix: str = "model") -> dict[str, tuple]:
    """ResnetBlock keys of pytorch-CycleGAN-and-pix2pix / UGATIT: ``conv_block.1`` and ``.5`` are the convs."""
    out = {}
    for i in range(start, start + n):
        for j in (1, 5):
            out.update({f"{prefix}.{i}.conv_block.{j}.{k}": s for k, s in conv(dim, dim, 3, bias).items()})
    return out


def cyclegan_official_shapes(ngf: int = 64, n_blocks: int = 9) -> dict[str, tuple]:
    """``resnet_{n}blocks`` generator of junyanz/pytorch-CycleGAN-and-pix2pix (norm=instance, no dropout):
    model.1 conv7, model.4/7 stride-2 convs, model.10.. ResnetBlocks, then two ConvTranspose2d (weight is
    in, out, k, k), final conv7 at model.(n+17)."""
    up = 10 + n_blocks
    shapes = {**{f"model.1.{k}": s for k, s in conv(ngf, 3, 7).items()},
              **{f"model.4.{k}": s for k, s in conv(ngf * 2, ngf, 3).items()},
              **{f"model.7.{k}": s for k, s in conv(ngf * 4, ngf * 2, 3).items()},
              **resblocks(10, n_blocks, ngf * 4, True),
              f"model.{up}.weight": (ngf * 4, ngf * 2, 3, 3), f"model.{up}.bias": (ngf * 2,),
              f"model.{up + 3}.weight": (ngf * 2, ngf, 3, 3), f"model.{up + 3}.bias": (ngf,),
              **{f"model.{up + 7}.{k}": s for k, s in conv(3, ngf, 7).items()}}
    return shapes


def cut_official_shapes(ngf: int = 64, n_blocks: int = 9) -> dict[str, tuple]:
    """CUT's default generator (anti-aliased): conv at 4 and 8 with blur ``Downsample`` buffers ``filt`` at 7 and
    11, ResnetBlocks from 12, then ``Upsample`` (``filt`` 4x4) + conv twice, final conv7."""
    up = 12 + n_blocks
    return {**{f"model.1.{k}": s for k, s in conv(ngf, 3, 7).items()},
            **{f"model.4.{k}": s for k, s in conv(ngf * 2, ngf, 3).items()}, "model.7.filt": (ngf * 2, 1, 3, 3),
            **{f"model.8.{k}": s for k, s in conv(ngf * 4, ngf * 2, 3).items()}, "model.11.filt": (ngf * 4, 1, 3, 3),
            **resblocks(12, n_blocks, ngf * 4, True),
            f"model.{up}.filt": (ngf * 4, 1, 4, 4),
            **{f"model.{up + 1}.{k}": s for k, s in conv(ngf * 2, ngf * 4, 3).items()},
            f"model.{up + 4}.filt": (ngf * 2, 1, 4, 4),
            **{f"model.{up + 5}.{k}": s for k, s in conv(ngf, ngf * 2, 3).items()},
            **{f"model.{up + 9}.{k}": s for k, s in conv(3, ngf, 7).items()}}


def ugatit_official_shapes(ngf: int = 64, n_blocks: int = 4, img_size: int = 256, light: bool = False) -> dict:
    """UGATIT-pytorch ``ResnetGenerator``: no conv biases except conv1x1; ILN/adaILN ``rho`` (+ ILN gamma/beta)."""
    dim = ngf * 4
    shapes = {"DownBlock.1.weight": (ngf, 3, 7, 7), "DownBlock.5.weight": (ngf * 2, ngf, 3, 3),
              "DownBlock.9.weight": (dim, ngf * 2, 3, 3), **resblocks(12, n_blocks, dim, False, "DownBlock"),
              "gap_fc.weight": (1, dim), "gmp_fc.weight": (1, dim), "conv1x1.weight": (dim, dim * 2, 1, 1),
              "conv1x1.bias": (dim,), "FC.0.weight": (dim, dim if light else (img_size // 4) ** 2 * dim),
              "FC.2.weight": (dim, dim), "gamma.weight": (dim, dim), "beta.weight": (dim, dim),
              "UpBlock2.2.weight": (ngf * 2, dim, 3, 3), "UpBlock2.7.weight": (ngf, ngf * 2, 3, 3),
              "UpBlock2.11.weight": (3, ngf, 7, 7)}
    for i in range(1, n_blocks + 1):
        shapes.update({f"UpBlock1_{i}.conv1.weight": (dim, dim, 3, 3), f"UpBlock1_{i}.norm1.rho": (1, dim, 1, 1),
                       f"UpBlock1_{i}.conv2.weight": (dim, dim, 3, 3), f"UpBlock1_{i}.norm2.rho": (1, dim, 1, 1)})
    for j, c in ((3, ngf * 2), (8, ngf)):
        shapes.update({f"UpBlock2.{j}.{k}": (1, c, 1, 1) for k in ("rho", "gamma", "beta")})
    return shapes


def synthetic(shapes: dict[str, tuple], seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(s, generator=g) * 0.05 for k, s in shapes.items()}


def run(stylizer, size: int = 64) -> torch.Tensor:
    runner = StylizerRunner.create(stylizer, "cpu", batch_size=2)
    codes = runner.embed_styles([torch.rand(3, 32, 32)])
    assert codes.shape == (1, 0)  # a GAN takes no style images: empty code
    content = torch.rand(2, 3, size, size - 2)  # odd width: padded and cropped back
    out = runner.stylize(content, codes, one_hot_weights(torch.zeros(2), 1))
    assert out.shape == content.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    return out


@pytest.mark.parametrize("variant", ["plain", "old_instancenorm_stats", "dataparallel"])
def test_official_cyclegan_generator_loads_strictly(tmp_path, variant):
    torch.set_num_threads(1)
    state = synthetic(cyclegan_official_shapes(ngf=8, n_blocks=9))
    saved = dict(state)
    if variant == "old_instancenorm_stats":  # PyTorch < 0.4 saved InstanceNorm running stats
        for idx in ("2", "5", "8", "20", "23", "10.conv_block.2", "18.conv_block.6"):
            c = 8 * (4 if "conv_block" in idx or idx == "8" else 2 if idx in ("5", "20") else 1)
            saved.update({f"model.{idx}.running_mean": torch.zeros(c), f"model.{idx}.running_var": torch.ones(c),
                          f"model.{idx}.num_batches_tracked": torch.tensor(0)})
    if variant == "dataparallel":
        saved = {f"module.{k}": v for k, v in saved.items()}
    torch.save(saved, tmp_path / "latest_net_G_A.pth")
    stylizer = build_stylizer(CycleGANConfig(weights="official", checkpoint=str(tmp_path / "latest_net_G_A.pth"),
                                             ngf=8, n_blocks=9, device="cpu"))
    loaded = stylizer.generator.state_dict()
    assert set(loaded) == set(state)
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert stylizer.params()["weights"] == "official:latest_net_G_A.pth"
    run(stylizer)


def test_official_cyclegan_default_is_the_11m_9_block_generator():
    from stylizers.resnet_gan import ResnetGenerator

    net = ResnetGenerator()  # ngf 64, 9 blocks: the official resnet_9blocks
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == cyclegan_official_shapes()
    assert sum(p.numel() for p in net.parameters()) == 11_378_179


def test_wrong_architecture_fails_in_one_line(tmp_path):
    torch.save(synthetic(cyclegan_official_shapes(ngf=8, n_blocks=9)), tmp_path / "g.pth")
    with pytest.raises(ValueError, match=r"does not match this architecture .* set the stylizer's ngf/n_blocks") as err:
        build_stylizer(CycleGANConfig(weights="official", checkpoint=str(tmp_path / "g.pth"), ngf=8, n_blocks=6))
    assert "\n" not in str(err.value)


def test_official_cut_generator_and_patch_head_load_strictly(tmp_path):
    from stylizers.resnet_gan import CUT_NCE_LAYERS, PatchSampleF, ResnetGenerator, load_official, tap_channels

    state = synthetic(cut_official_shapes(ngf=8, n_blocks=9))
    torch.save(state, tmp_path / "latest_net_G.pth")
    stylizer = build_stylizer(CUTConfig(checkpoint=str(tmp_path / "latest_net_G.pth"), ngf=8, device="cpu"))
    assert all(torch.equal(stylizer.generator.state_dict()[k], v) for k, v in state.items())
    run(stylizer)
    # netF (mlp_sample, netF_nc 256) on CUT's default nce_layers 0,4,8,12,16: input channels 3, ngf*2, ngf*4, ...
    f_shapes = {}
    for i, cin in enumerate([3, 16, 32, 32, 32]):
        f_shapes.update({f"mlp_{i}.0.weight": (256, cin), f"mlp_{i}.0.bias": (256,),
                         f"mlp_{i}.2.weight": (256, 256), f"mlp_{i}.2.bias": (256,)})
    head = PatchSampleF(tap_channels(ResnetGenerator(8, 9, antialias=True), CUT_NCE_LAYERS))
    load_official(head, synthetic(f_shapes), "latest_net_F.pth")


def test_cut_without_a_checkpoint_says_what_to_pass():
    with pytest.raises(ValueError, match="stylizer.checkpoint=PATH"):
        build_stylizer(CUTConfig())


@pytest.mark.parametrize("light,img_size", [(True, 256), (False, 32)])
def test_official_ugatit_params_file_loads_the_chosen_generator(tmp_path, light, img_size):
    shapes = ugatit_official_shapes(ngf=8, n_blocks=4, img_size=img_size, light=light)
    params = {"genA2B": synthetic(shapes, 1), "genB2A": synthetic(shapes, 2),
              **{k: {"model.1.weight_orig": torch.zeros(8, 3, 4, 4)} for k in ("disGA", "disGB", "disLA", "disLB")}}
    torch.save(params, tmp_path / "selfie2anime_params_latest.pt")
    for direction in ("A2B", "B2A"):
        stylizer = build_stylizer(UGATITConfig(checkpoint=str(tmp_path / "selfie2anime_params_latest.pt"),
                                               direction=direction, ngf=8, img_size=img_size, light=light,
                                               device="cpu"))
        loaded = stylizer.generator.state_dict()
        assert set(loaded) == set(shapes)
        assert all(torch.equal(loaded[k], v) for k, v in params[f"gen{direction}"].items())
        run(stylizer)  # the full model runs at img_size: resized there and back


def test_ugatit_file_without_generators_fails_clearly(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="has no genA2B .*_params_latest.pt"):
        build_stylizer(UGATITConfig(checkpoint=str(tmp_path / "x.pt")))


def test_bundled_cyclegan_is_small_fp16_self_describing_and_marked_experimental():
    from rig2sketch.weights import read_safetensors, safetensors_metadata
    from stylizers.cyclegan import BUNDLED_DIR

    path = BUNDLED_DIR / "generator.safetensors"
    meta = safetensors_metadata(path, "bundled", "")
    arch = json.loads(meta["arch"])
    assert meta["model"] == "cyclegan" and set(arch) == {"ngf", "n_blocks", "antialias"}
    assert path.stat().st_size <= 3 << 20
    assert all(t.dtype == torch.float16 for t in read_safetensors(path, "bundled", "").values())
    card = (BUNDLED_DIR / "MODEL_CARD.md").read_text()
    assert "EXPERIMENTAL" in card and "Hardware" in card and "Losses" in card
    stylizer = build_stylizer(CycleGANConfig(device="cpu"))
    assert stylizer.arch == arch and stylizer.generator.ngf == arch["ngf"]
    out = run(stylizer)
    assert float((out[0] - out[1]).abs().mean()) > 0  # different renders give different drawings
