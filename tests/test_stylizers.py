"""AdaIN: official checkpoint layout, strict loading errors, alpha/interpolation/colour maths, bundled
weights from HED's VGG-16, padding of odd sizes, and style loss falling with alpha."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from stylizers.adain import (BUNDLED_DIR, ENCODER_FILE, AdaINConfig, AdaINStylizer, adain, build_adain, load_bundled,
                             mean_std, official_decoder, style_code)
from stylizers.base import STYLIZERS, StylizerRunner, one_hot_weights, pad_to_multiple
from stylizers.metrics import content_loss, style_loss
from stylizers.style_bank import StyleBank
from stylizers.train import outline
from stylizers.vgg import hed_h5_path, official_vgg19, vgg16_state_from_hed_h5

# The official pytorch-AdaIN layouts (net.py): conv module index -> (out, in, k).
OFFICIAL_VGG_CONVS = {0: (3, 3, 1), 2: (64, 3, 3), 5: (64, 64, 3), 9: (128, 64, 3), 12: (128, 128, 3),
                      16: (256, 128, 3), 19: (256, 256, 3), 22: (256, 256, 3), 25: (256, 256, 3),
                      29: (512, 256, 3), 32: (512, 512, 3), 35: (512, 512, 3), 38: (512, 512, 3),
                      42: (512, 512, 3), 45: (512, 512, 3), 48: (512, 512, 3), 51: (512, 512, 3)}
OFFICIAL_DECODER_CONVS = {1: (256, 512), 5: (256, 256), 8: (256, 256), 11: (256, 256), 14: (128, 256),
                          18: (128, 128), 21: (64, 128), 25: (64, 64), 28: (3, 64)}


def official_like_state_dicts(seed: int = 0):
    """State dicts with the real key names and shapes (random values), as torch.save would write them."""
    g = torch.Generator().manual_seed(seed)
    vgg = {}
    for i, (o, c, k) in OFFICIAL_VGG_CONVS.items():
        vgg[f"{i}.weight"] = torch.randn(o, c, k, k, generator=g) * (2.0 / (c * k * k)) ** 0.5
        vgg[f"{i}.bias"] = torch.zeros(o)
    dec = {}
    for i, (o, c) in OFFICIAL_DECODER_CONVS.items():
        dec[f"{i}.weight"] = torch.randn(o, c, 3, 3, generator=g) * (2.0 / (c * 9)) ** 0.5
        dec[f"{i}.bias"] = torch.zeros(o)
    return vgg, dec


def test_our_modules_have_exactly_the_official_keys_and_shapes():
    vgg, dec = official_like_state_dicts()
    assert {k: tuple(v.shape) for k, v in official_vgg19().state_dict().items()} == {k: tuple(v.shape) for k, v in vgg.items()}
    assert {k: tuple(v.shape) for k, v in official_decoder().state_dict().items()} == {k: tuple(v.shape) for k, v in dec.items()}


@pytest.mark.parametrize("vgg_name", ["vgg_normalised.pth", "vgg_normalized.pth"])
def test_official_checkpoints_load_strictly_and_run(tmp_path, vgg_name):
    vgg, dec = official_like_state_dicts()
    torch.save(vgg, tmp_path / vgg_name)
    torch.save(dec, tmp_path / "decoder.pth")
    stylizer = build_adain(AdaINConfig(weights="official", official_dir=str(tmp_path)))
    assert stylizer.encoder.name == "vgg19_normalised"
    assert torch.equal(stylizer.decoder.state_dict()["28.weight"], dec["28.weight"])
    assert torch.equal(stylizer.encoder.slices[0][0].weight, vgg["0.weight"])
    x = torch.rand(1, 3, 32, 40)
    assert stylizer.encoder.encode(x).shape == (1, 512, 4, 5)  # cut after relu4_1
    runner = StylizerRunner.create(stylizer, "cpu")
    codes = runner.embed_styles([torch.rand(3, 24, 24)])
    assert runner.stylize(x, codes, torch.ones(1, 1)).shape == x.shape


def test_wrong_checkpoint_lists_missing_and_unexpected_keys(tmp_path):
    vgg, dec = official_like_state_dicts()
    dec["99.weight"] = dec.pop("28.weight")
    dec["14.weight"] = torch.zeros(128, 256, 1, 1)
    torch.save(vgg, tmp_path / "vgg_normalised.pth")
    torch.save(dec, tmp_path / "decoder.pth")
    with pytest.raises(ValueError) as err:
        build_adain(AdaINConfig(weights="official", official_dir=str(tmp_path)))
    text = str(err.value)
    assert "missing keys (1): ['28.weight']" in text
    assert "unexpected keys (1): ['99.weight']" in text
    assert "14.weight: file (128, 256, 1, 1) vs model (128, 256, 3, 3)" in text


class NotWeights:  # an arbitrary pickled object, as in an unsafe or foreign checkpoint
    pass


def test_a_pickled_object_is_refused_by_weights_only_loading(tmp_path):
    vgg, _ = official_like_state_dicts()
    torch.save(vgg, tmp_path / "vgg_normalised.pth")
    torch.save({"model": NotWeights()}, tmp_path / "decoder.pth")
    with pytest.raises(ValueError, match="cannot be read as a plain PyTorch state dict"):
        build_adain(AdaINConfig(weights="official", official_dir=str(tmp_path)))
    (tmp_path / "decoder.pth").unlink()
    with pytest.raises(FileNotFoundError, match="no decoder.pth"):
        build_adain(AdaINConfig(weights="official", official_dir=str(tmp_path)))


def test_config_range_checks_name_the_key():
    with pytest.raises(ValueError, match="stylizer.alpha"):
        AdaINConfig(alpha=1.5)
    with pytest.raises(ValueError, match="stylizer.official_dir"):
        AdaINConfig(weights="official")
    assert "adain" in STYLIZERS


def test_bundled_encoder_is_hed_vgg16_in_fp16():
    bundled = load_file(BUNDLED_DIR / ENCODER_FILE)
    exact = vgg16_state_from_hed_h5(hed_h5_path())
    assert bundled.keys() == exact.keys()
    for k in exact:
        assert bundled[k].dtype == torch.float16
        assert torch.allclose(bundled[k].float(), exact[k], rtol=1e-3, atol=1e-4), k
    # Module 0 does Caffe preprocessing: RGB [0, 1] -> BGR*255 - mean.
    w, b = exact["0.weight"][:, :, 0, 0], exact["0.bias"]
    rgb = torch.tensor([0.2, 0.5, 0.9])
    assert torch.allclose(w @ rgb + b, torch.tensor([0.9 * 255 - 103.939, 0.5 * 255 - 116.779, 0.2 * 255 - 123.68]))


@pytest.fixture(scope="module")
def bundled() -> AdaINStylizer:
    return load_bundled()


@pytest.fixture(scope="module")
def figure() -> torch.Tensor:
    bank = StyleBank.open("bundled")
    return torch.from_numpy(outline(bank.load("peep_03", 96)).transpose(2, 0, 1).copy())[None]


def test_alpha0_returns_the_decoders_reconstruction(bundled, figure):
    runner = StylizerRunner.create(bundled, "cpu")
    codes = runner.embed_styles([torch.rand(3, 64, 64), torch.rand(3, 48, 64)])
    bundled.alpha = 0.0
    try:
        out = runner.stylize(figure, codes, one_hot_weights(torch.tensor([1]), 2))
    finally:
        bundled.alpha = 1.0
    with torch.inference_mode():
        recon = bundled.decoder(bundled.encoder.encode(figure)).clamp(0, 1)
    assert torch.allclose(out, recon, atol=1e-5)
    styled = runner.stylize(figure, codes, one_hot_weights(torch.tensor([1]), 2))
    assert (styled - recon).abs().mean() > 1e-3


def test_interpolation_equals_mixing_adain_outputs(bundled, figure):
    """Mixed codes = the reference test.py's sum_i w_i * AdaIN(content, style_i)."""
    styles = torch.rand(2, 3, 64, 64)
    with torch.inference_mode():
        feat = bundled.encoder.encode(figure)
        s_feats = bundled.encoder.encode(styles)
        ref = sum(w * adain(feat, *mean_std(s_feats[i:i + 1])) for i, w in enumerate((0.3, 0.7)))
        codes = style_code(s_feats)
        mixed = torch.tensor([[0.3, 0.7]]) @ codes
        ours = adain(feat, mixed[:, :512, None, None], mixed[:, 512:, None, None])
    assert torch.allclose(ours, ref, rtol=1e-4, atol=1e-4)


def test_odd_sizes_are_padded_and_cropped_back(bundled):
    x = torch.rand(2, 3, 37, 53)
    padded, (h, w) = pad_to_multiple(x, 8)
    assert padded.shape[-2:] == (40, 56) and torch.equal(padded[..., :h, :w], x)
    runner = StylizerRunner.create(bundled, "cpu", batch_size=1)
    codes = runner.embed_styles([torch.rand(3, 33, 29)])
    out = runner.stylize(x, codes, torch.ones(2, 1))
    assert out.shape == x.shape and out.dtype == torch.float32 and 0 <= out.min() and out.max() <= 1


def test_colour_preservation_keeps_a_grey_render_grey(bundled, figure):
    style = torch.from_numpy(StyleBank.open("bundled").load("sanguine", 96).transpose(2, 0, 1).copy())
    runner = StylizerRunner.create(bundled, "cpu")
    codes = runner.embed_styles([style])
    coloured = runner.stylize(figure, codes, torch.ones(1, 1))
    bundled.preserve_color = True
    try:
        kept = runner.stylize(figure, codes, torch.ones(1, 1))
    finally:
        bundled.preserve_color = False
    spread = lambda im: (im.max(1).values - im.min(1).values).mean()  # noqa: E731 - channel spread = colourfulness
    assert spread(coloured) > 0.02 and spread(kept) < 0.01


def test_style_loss_falls_with_alpha_and_content_stays_bounded(bundled, figure):
    from stylizers.report import CONTENT_BOUND

    bank = StyleBank.open("bundled")
    runner = StylizerRunner.create(bundled, "cpu")
    enc = bundled.encoder
    for style_id in ("charcoal", "ballpoint"):
        style = torch.from_numpy(bank.load(style_id, 96).transpose(2, 0, 1).copy())[None]
        codes = runner.embed_styles([style[0]])
        losses = {}
        for alpha in (0.0, 1.0):
            bundled.alpha = alpha
            out = runner.stylize(figure, codes, torch.ones(1, 1))
            losses[alpha] = (float(style_loss(enc, out, style)[0]), float(content_loss(enc, out, figure)[0]))
        bundled.alpha = 1.0
        assert losses[1.0][0] < 0.8 * losses[0.0][0], (style_id, losses)
        assert losses[1.0][1] <= CONTENT_BOUND, (style_id, losses)


def test_frechet_distance_matches_the_sqrtm_formula():
    from scipy import linalg

    from stylizers.metrics import frechet_distance

    rng = np.random.default_rng(0)
    for n, d in ((40, 8), (12, 30)):  # full-rank and low-rank covariances
        a, b = rng.normal(size=(n, d)), rng.normal(1.0, 2.0, size=(n + 5, d))
        ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.trace(linalg.sqrtm(ca @ cb).real)
        assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_one_training_step_on_render_shards_writes_loadable_weights_and_card(tmp_path):
    from shards import ShardWriter
    from stylizers.config import TrainStylizerConfig
    from stylizers.train import train_stylizer
    from tests.test_stylizers_flow import render_rows

    with ShardWriter(tmp_path / "raw" / "job-0000.parquet", metadata={"config_hash": "x", "seed": 0}) as w:
        for row in render_rows([(64, 64), (64, 64)]):
            w.write(row)
    out = train_stylizer(TrainStylizerConfig(out=str(tmp_path / "w"), content=[str(tmp_path / "raw")], steps=1,
                                             batch_size=1, crop=32, threads=1, log_every=1))
    card = (out / "MODEL_CARD.md").read_text()
    assert "2 images" in card and "steps 1" in card and str(tmp_path / "raw") in card
    reloaded = load_bundled(out)
    assert reloaded.decoder.state_dict()["1.weight"].dtype == torch.float32
    x = torch.rand(1, 3, 32, 32)
    assert StylizerRunner.create(reloaded, "cpu").stylize(x, torch.rand(1, 1024), torch.ones(1, 1)).shape == x.shape


def test_reconstruction_stage_trains_the_decoder_to_invert_the_encoder(tmp_path):
    from stylizers.config import TrainStylizerConfig
    from stylizers.train import train_stylizer

    with pytest.raises(ValueError, match="identity_weight"):
        TrainStylizerConfig(objective="reconstruction")
    with pytest.raises(ValueError, match="choose adain or reconstruction"):
        TrainStylizerConfig(objective="wct")
    out = train_stylizer(TrainStylizerConfig(out=str(tmp_path / "r"), objective="reconstruction", identity_weight=1.0,
                                             steps=2, batch_size=1, crop=32, log_every=1, lr=1e-3))
    card = (out / "MODEL_CARD.md").read_text()
    assert "reconstruction (WCT's decoder objective" in card and "steps 2" in card
    log = json.loads((out / "losses.json").read_text())
    assert [e["style"] for e in log] == [0.0, 0.0] and all(e["identity"] > 0 for e in log)
    first = official_decoder().state_dict()
    trained = load_file(out / "decoder.safetensors")
    assert set(trained) == set(first)  # the official decoder layout, loadable by load_bundled
    assert load_bundled(out).decoder is not None


def test_build_stylizer_finds_registered_stylizers_in_a_fresh_process():
    import subprocess
    import sys

    code = ("from stylizers.base import STYLIZERS, build_stylizer; from stylizers.config import stylizer_config; "
            "assert STYLIZERS.names() == []; s = build_stylizer(stylizer_config({'name': 'adain', 'alpha': 0.5})); "
            "print(type(s).__name__, s.alpha, 'adain' in STYLIZERS.names())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "AdaINStylizer 0.5 True"


def test_frechet_distance_is_left_out_for_a_one_style_bank():
    import numpy as np

    from stylizers.report import _frechet_or_none

    assert _frechet_or_none(np.ones((1, 4)), np.random.default_rng(0).random((5, 4))) is None
    assert _frechet_or_none(np.random.default_rng(1).random((3, 4)), np.random.default_rng(2).random((5, 4))) > 0
