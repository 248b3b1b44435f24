"""StyTr²: the release's state dicts (official names and shapes, ``module.`` prefixes) load strictly and stylize
non-square content with a differently sized style; the network computes the reference's forward (an independent
functional re-implementation from the state dict); padded style codes give the unpadded result; training lowers
the loss, resumes with its step count, and its weights load back as ``stylizer.weights``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from stylizers.base import StylizerRunner, build_stylizer, one_hot_weights
from stylizers.style_bank import StyleBank
from stylizers.stytr2 import OFFICIAL_FILES, StyTr2Config, StyTr2Stylizer
from stylizers.stytr2_nets import StyTr2, StyTr2Arch
from stylizers.train import outline

# The CNN decoder of the reference (models/StyTR.py ``decoder``): Sequential index of each conv, its channels, and
# whether a 2x nearest upsampling follows it.
DECODER_CONVS = [(1, 512, 256, True), (5, 256, 256, False), (8, 256, 256, False), (11, 256, 256, False),
                 (14, 256, 128, True), (18, 128, 128, False), (21, 128, 64, True), (25, 64, 64, False),
                 (28, 64, 3, False)]


def official_shapes(d: int = 512, ffn: int = 2048, layers: int = 3) -> dict[str, dict[str, tuple[int, ...]]]:
    """Key -> shape of the three released files, written out from the reference's modules (not from ours)."""
    attn = {"in_proj_weight": (3 * d, d), "in_proj_bias": (3 * d,), "out_proj.weight": (d, d), "out_proj.bias": (d,)}
    ffn_norm = {"linear1.weight": (ffn, d), "linear1.bias": (ffn,), "linear2.weight": (d, ffn), "linear2.bias": (d,)}
    trans: dict[str, tuple[int, ...]] = {"new_ps.weight": (d, d, 1, 1), "new_ps.bias": (d,),
                                         "decoder.norm.weight": (d,), "decoder.norm.bias": (d,)}
    for i in range(layers):
        for enc in ("encoder_c", "encoder_s"):
            p = f"{enc}.layers.{i}."
            trans.update({p + f"self_attn.{k}": s for k, s in attn.items()})
            trans.update({p + k: s for k, s in ffn_norm.items()})
            trans.update({p + f"norm{n}.{w}": (d,) for n in (1, 2) for w in ("weight", "bias")})
        p = f"decoder.layers.{i}."
        for a in ("self_attn", "multihead_attn"):
            trans.update({p + f"{a}.{k}": s for k, s in attn.items()})
        trans.update({p + k: s for k, s in ffn_norm.items()})
        trans.update({p + f"norm{n}.{w}": (d,) for n in (1, 2, 3) for w in ("weight", "bias")})
    decoder = {}
    for index, cin, cout, _ in DECODER_CONVS:
        decoder[f"{index}.weight"] = (cout, d if index == 1 else cin, 3, 3)
        decoder[f"{index}.bias"] = (cout,)
    return {"embedding": {"proj.weight": (d, 3, 8, 8), "proj.bias": (d,)}, "transformer": trans, "decode": decoder}


def synthetic_state(shapes: dict[str, tuple[int, ...]], seed: int, dtype=torch.float32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, s in shapes.items():
        if k.endswith("norm.weight") or ".norm" in k and k.endswith("weight"):
            state[k] = 1.0 + 0.1 * torch.randn(s, generator=g)
        else:
            fan_in = math.prod(s[1:]) if len(s) > 1 else 1.0
            state[k] = torch.randn(s, generator=g) / math.sqrt(fan_in) * (1.0 if len(s) > 1 else 0.1)
    return {k: v.to(dtype) for k, v in state.items()}


def reference_forward(states: dict[str, dict[str, torch.Tensor]], nhead: int, content: torch.Tensor,
                      style: torch.Tensor) -> torch.Tensor:
    """The reference's ``StyTrans`` inference path written functionally from the three state dicts, sequence-first
    as in models/transformer.py, with its CAPE resized to the style grid and its ``view(B, C, -1, √N)`` output."""
    e, t, dec = states["embedding"], states["transformer"], states["decode"]
    d = e["proj.weight"].shape[0]

    def mha(p, q, k, v):
        return F.multi_head_attention_forward(q, k, v, d, nhead, t[p + "in_proj_weight"], t[p + "in_proj_bias"], None,
                                              None, False, 0.0, t[p + "out_proj.weight"], t[p + "out_proj.bias"],
                                              training=False, need_weights=False)[0]

    def norm(p, x):
        return F.layer_norm(x, (d,), t[p + "weight"], t[p + "bias"])

    def ffn(p, x):
        return F.linear(F.relu(F.linear(x, t[p + "linear1.weight"], t[p + "linear1.bias"])),
                        t[p + "linear2.weight"], t[p + "linear2.bias"])

    def seq(grid):
        return grid.flatten(2).permute(2, 0, 1)

    ce = F.conv2d(content, e["proj.weight"], e["proj.bias"], stride=8)
    se = F.conv2d(style, e["proj.weight"], e["proj.bias"], stride=8)
    pos = F.conv2d(F.adaptive_avg_pool2d(ce, 18), t["new_ps.weight"], t["new_ps.bias"])
    pos = seq(F.interpolate(pos, size=se.shape[-2:], mode="bilinear"))
    layers = 1 + max(int(k.split(".")[2]) for k in t if k.startswith("encoder_c.layers."))
    mem, x = seq(se), seq(ce)
    for i in range(layers):
        p = f"encoder_s.layers.{i}."
        mem = norm(p + "norm1.", mem + mha(p + "self_attn.", mem, mem, mem))
        mem = norm(p + "norm2.", mem + ffn(p, mem))
        p = f"encoder_c.layers.{i}."
        x = norm(p + "norm1.", x + mha(p + "self_attn.", x + pos, x + pos, x))
        x = norm(p + "norm2.", x + ffn(p, x))
    for i in range(1 + max(int(k.split(".")[2]) for k in t if k.startswith("decoder.layers."))):
        p = f"decoder.layers.{i}."
        x = norm(p + "norm1.", x + mha(p + "self_attn.", x + pos, mem, mem))
        x = norm(p + "norm2.", x + mha(p + "multihead_attn.", x + pos, mem, mem))
        x = norm(p + "norm3.", x + ffn(p, x))
    x = norm("decoder.norm.", x)
    n, b, c = x.shape
    y = x.permute(1, 2, 0).reshape(b, c, -1, int(math.sqrt(n)))
    for index, _, _, up in DECODER_CONVS:
        y = F.conv2d(F.pad(y, (1, 1, 1, 1), mode="reflect"), dec[f"{index}.weight"], dec[f"{index}.bias"])
        y = y if index == 28 else F.relu(y)
        y = F.interpolate(y, scale_factor=2, mode="nearest") if up else y
    return y


def load_small(states: dict[str, dict[str, torch.Tensor]], arch: StyTr2Arch) -> StyTr2:
    net = StyTr2(arch).eval()
    for part, state in states.items():
        getattr(net, part).load_state_dict(state, strict=True)
    return net


def test_the_network_computes_the_reference_forward_on_square_inputs():
    torch.manual_seed(0)
    arch = StyTr2Arch(d_model=32, nhead=4, enc_layers=2, dec_layers=2, ffn=48)
    states = {part: synthetic_state(shapes, seed=i)
              for i, (part, shapes) in enumerate(official_shapes(32, 48, 2).items())}
    net = load_small(states, arch)
    content, style = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        ours, ref = net(content, style), reference_forward(states, 4, content, style)
    assert ours.shape == (2, 3, 32, 32)
    assert torch.allclose(ours, ref, atol=1e-4, rtol=1e-4), (ours - ref).abs().max()
    # Non-square content of another size than the style: the reference cannot run it; ours keeps the layout
    # (each output pixel depends on the content patch under it: changing the top-left patch changes the top-left).
    wide = torch.rand(1, 3, 32, 48)
    changed = wide.clone()
    changed[..., :8, :8] = 1.0 - changed[..., :8, :8]
    with torch.no_grad():
        a, b = net(wide, style[:1]), net(changed, style[:1])
    assert a.shape == (1, 3, 32, 48)
    diff = (a - b).abs().sum(1)[0]
    assert diff[:16, :16].mean() > 3 * diff[-16:, -16:].mean()


@pytest.mark.slow
def test_the_release_files_load_strictly_and_stylize_non_square_content(tmp_path):
    """Synthetic files with the release's names and shapes (fp16 to keep them small; the transformer saved from
    DataParallel with ``module.`` prefixes) -> strict load -> 64x96 content with an 80x48 style."""
    torch.set_num_threads(1)
    for i, (part, shapes) in enumerate(official_shapes().items()):
        state = synthetic_state(shapes, seed=i, dtype=torch.float16)
        if part == "transformer":
            state = {f"module.{k}": v for k, v in state.items()}
        torch.save(state, tmp_path / OFFICIAL_FILES[part])
    stylizer = build_stylizer(StyTr2Config(weights="official", official_dir=str(tmp_path)))
    assert isinstance(stylizer, StyTr2Stylizer) and stylizer.net.arch == StyTr2Arch()
    ref = torch.load(tmp_path / OFFICIAL_FILES["embedding"], weights_only=True)["proj.weight"].float()
    assert torch.equal(stylizer.net.embedding.proj.weight, ref)
    runner = StylizerRunner.create(stylizer, device="cpu", batch_size=2)
    g = torch.Generator().manual_seed(0)
    styles = [torch.rand(3, 80, 48, generator=g), torch.rand(3, 80, 48, generator=g) ** 3]
    codes = runner.embed_styles(styles)
    assert codes.shape == (2, 10 * 10, 513)  # 10x6 real tokens padded to the 10x10 square
    assert codes[0, :60, -1].eq(1).all() and codes[0, 60:].eq(0).all()
    content = torch.rand(2, 3, 64, 96, generator=g)
    out = runner.stylize(content, codes, one_hot_weights(torch.tensor([0, 1]), 2))
    assert out.shape == (2, 3, 64, 96) and torch.isfinite(out).all()
    with torch.no_grad():  # the padded, masked style code gives exactly the network on the unpadded style
        direct = stylizer.net(content[:1], styles[0][None]).clamp(0, 1)
    assert torch.allclose(out[:1], direct, atol=1e-5)
    swapped = runner.stylize(content, codes, one_hot_weights(torch.tensor([1, 0]), 2))
    assert (swapped[0] - out[0]).abs().mean() > 1e-3  # the style changes the output


def test_bad_release_files_fail_with_one_line_naming_the_problem(tmp_path):
    with pytest.raises(ValueError, match="official_dir"):
        StyTr2Config(weights="official")
    with pytest.raises(FileNotFoundError, match="embedding_iter_160000.pth"):
        build_stylizer(StyTr2Config(weights="official", official_dir=str(tmp_path)))
    shapes = official_shapes(32, 48, 1)
    for part, filename in OFFICIAL_FILES.items():
        torch.save(synthetic_state(shapes[part], 0), tmp_path / filename)
    with pytest.raises(ValueError, match="shape mismatches"):  # a d_model=32 file is not the 512-d release
        build_stylizer(StyTr2Config(weights="official", official_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="multiples of 8"):
        StyTr2(StyTr2Arch(d_model=32, nhead=4, enc_layers=1, dec_layers=1, ffn=32))(torch.rand(1, 3, 60, 64),
                                                                                     torch.rand(1, 3, 64, 64))


def test_the_bundled_weights_load_and_stylize_a_render():
    stylizer = build_stylizer(StyTr2Config())
    assert stylizer.net.arch.d_model < 512  # the small rig2sketch variant, rebuilt from the file's metadata
    bank = StyleBank.open("bundled")
    line = torch.from_numpy(outline(bank.load("peep_03", 96))).permute(2, 0, 1)[None].float()
    runner = StylizerRunner.create(stylizer, device="cpu")
    style = torch.from_numpy(bank.load("charcoal", 64)).permute(2, 0, 1).float()
    out = runner.stylize(line, runner.embed_styles([style]), torch.ones(1, 1))
    assert out.shape == line.shape
    ink = line.mean(1)[0] < 0.5  # the figure's lines stay darker than the paper around them
    assert out.mean(1)[0][ink].mean() < out.mean(1)[0][~ink].mean() - 0.05
    assert "arch" in stylizer.params() and stylizer.params()["weights"].startswith("rig2sketch:")


# ---------------------------------------------------------------- training
@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    bank = StyleBank.open("bundled")
    (root / "content").mkdir()
    (root / "styles").mkdir()
    Image.fromarray((outline(bank.load("peep_03", 64)) * 255).astype(np.uint8)).save(root / "content" / "peep.png")
    for sid in ("pencil_hb", "charcoal"):
        Image.fromarray((bank.load(sid, 64) * 255).astype(np.uint8)).save(root / "styles" / f"{sid}.png")
    return root


def train_config(data, out, **kw):
    from stylizers.stytr2_train import StyTr2TrainConfig

    base = dict(out=str(out), content=[str(data / "content")], style_bank=str(data / "styles"), d_model=32, nhead=4,
                enc_layers=1, dec_layers=1, ffn=64, crop=64, crop_scale=[1.0, 1.0], batch_size=1, steps=4,
                log_every=4, sample_every=4, lr=1e-3, warmup_steps=0, threads=1, device="cpu", style_weight=0.02,
                identity1_weight=200.0, identity2_weight=0.002)
    return StyTr2TrainConfig(**{**base, **kw})


@pytest.mark.slow
def test_training_lowers_the_loss_resumes_with_its_step_count_and_loads_as_weights(data, tmp_path):
    from stylizers.stytr2_train import train_stytr2

    torch.set_num_threads(1)
    out = train_stytr2(train_config(data, tmp_path / "run"))
    log = json.loads((out / "losses.json").read_text())
    assert [e["step"] for e in log] == [0, 4]
    assert log[-1]["probe"] < 0.95 * log[0]["probe"], log
    for name in ("stytr2.safetensors", "checkpoint.pt", "losses.png", "samples.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0
    train_stytr2(train_config(data, tmp_path / "run", steps=6, log_every=1))
    log = json.loads((out / "losses.json").read_text())
    assert [e["step"] for e in log] == [0, 4, 5, 6]  # steps 1-4 not repeated
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 6
    stylizer = build_stylizer(StyTr2Config(weights=str(out)))
    assert stylizer.net.arch == StyTr2Arch(d_model=32, nhead=4, enc_layers=1, dec_layers=1, ffn=64)
    with pytest.raises(ValueError, match="architecture"):  # resuming with other sizes is refused
        train_stytr2(train_config(data, tmp_path / "run", steps=8, d_model=64))


def test_the_learning_rate_follows_the_reference_schedule_and_the_teacher_term_adds_in():
    from stylizers.stytr2_train import StyTr2TrainConfig, learning_rate, stytr2_losses, total_loss
    from stylizers.adain import load_bundled

    cfg = StyTr2TrainConfig(lr=5e-4, warmup_steps=10000, lr_decay=1e-5)  # train.py: warm-up, then 2e-4 / (1 + decay t)
    assert learning_rate(cfg, 0) == pytest.approx(5e-5)
    assert learning_rate(cfg, 5000) == pytest.approx(5e-4 * 0.1 * (1 + 3e-4 * 5000))
    assert learning_rate(cfg, 30000) == pytest.approx(2e-4 / (1 + 1e-5 * 20000))
    torch.manual_seed(0)
    net = StyTr2(StyTr2Arch(d_model=32, nhead=4, enc_layers=1, dec_layers=1, ffn=32)).eval()
    adain = load_bundled()
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        plain = stytr2_losses(net, adain.encoder, c, s)
    assert set(plain) == {"content", "style", "identity1", "identity2"} and all(v > 0 for v in plain.values())
    with torch.no_grad():
        with_teacher = stytr2_losses(net, adain.encoder, c, s, teacher=torch.zeros_like(c))
    assert float(total_loss(cfg, with_teacher)) == pytest.approx(float(total_loss(cfg, plain)))  # weight 0: no change
    only = StyTr2TrainConfig(content_weight=0, style_weight=0, identity1_weight=0, identity2_weight=0, teacher_weight=10)
    with torch.no_grad():
        expected = 10.0 * float((net(c, s) ** 2).mean())
    assert float(total_loss(only, with_teacher)) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="init"):
        StyTr2TrainConfig(init="no/such/folder")


def test_the_reference_vgg19_gives_five_taps_and_content_at_relu4_1_and_relu5_1(tmp_path):
    """``train.vgg=<vgg_normalised.pth>``: the reference's loss network (official names, here random weights)."""
    from stylizers.stytr2_train import loss_encoder, normalise, stytr2_losses
    from stylizers.vgg import official_vgg19

    torch.manual_seed(0)
    torch.save({k: v.half() for k, v in official_vgg19().state_dict().items()}, tmp_path / "vgg_normalised.pth")
    encoder = loss_encoder(str(tmp_path / "vgg_normalised.pth"))
    x = torch.rand(1, 3, 64, 64)
    assert [f.shape[1:] for f in encoder(x)] == [(64, 64, 64), (128, 32, 32), (256, 16, 16), (512, 8, 8), (512, 4, 4)]
    net = StyTr2(StyTr2Arch(d_model=32, nhead=4, enc_layers=1, dec_layers=1, ffn=32)).eval()
    s = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        losses = stytr2_losses(net, encoder, x, s)
        out_feats, c_feats = encoder(net(x, s)), encoder(x)
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    expected = sum(F.mse_loss(normalise(out_feats[i]), normalise(c_feats[i])) for i in (3, 4))  # relu4_1, relu5_1
    assert float(losses["content"]) == pytest.approx(float(expected), rel=1e-3)
