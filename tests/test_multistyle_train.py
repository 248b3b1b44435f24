"""The injection study's trainer: every injection lowers the loss in a few 64-px steps, a re-run resumes
with the step count kept, the trained generator loads as ``stylizer.weights``, bad style images fail clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylizers.multistyle_train import MultiStyleTrainConfig, train_multistyle
from stylizers.style_bank import StyleBank
from stylizers.train import outline


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """One line-art content image and a two-image style bank, 64 px."""
    root = tmp_path_factory.mktemp("data")
    bank = StyleBank.open("bundled")
    (root / "content").mkdir()
    (root / "styles").mkdir()
    Image.fromarray((outline(bank.load("peep_03", 64)) * 255).astype(np.uint8)).save(root / "content" / "peep.png")
    for sid in ("pencil_hb", "charcoal"):
        Image.fromarray((bank.load(sid, 64) * 255).astype(np.uint8)).save(root / "styles" / f"{sid}.png")
    return root


def config(data, out, **kw) -> MultiStyleTrainConfig:
    base = dict(out=str(out), content=[str(data / "content")], style_bank=str(data / "styles"), crop=64,
                crop_scale=[1.0, 1.0], batch_size=2, steps=6, log_every=6, lr=2e-3, threads=1, device="cpu")
    return MultiStyleTrainConfig(**{**base, **kw})


@pytest.mark.parametrize("injection", ["film", "add", "concat", "patch"])
def test_each_injection_lowers_the_loss_in_a_few_steps(data, tmp_path, injection):
    torch.set_num_threads(1)
    init = "pretrained" if injection == "film" else "scratch"
    out = train_multistyle(config(data, tmp_path / injection, injection=injection, init=init,
                                  lr=5e-4 if injection == "film" else 2e-3))
    log = json.loads((out / "losses.json").read_text())
    assert [e["step"] for e in log] == [0, 6]
    assert log[-1]["probe"] < 0.97 * log[0]["probe"], log
    for name in ("generator.safetensors", "checkpoint.pt", "losses.png", "samples.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0


def test_a_rerun_resumes_with_the_step_count_and_the_weights(data, tmp_path):
    from safetensors.torch import load_file

    torch.set_num_threads(1)
    out = train_multistyle(config(data, tmp_path / "r", injection="add", init="scratch", steps=3, log_every=3))
    first = load_file(out / "generator.safetensors")
    train_multistyle(config(data, tmp_path / "r", injection="add", init="scratch", steps=5, log_every=1))
    log = json.loads((out / "losses.json").read_text())
    assert [e["step"] for e in log] == [0, 3, 4, 5]  # steps 1-3 not repeated, 4-5 added
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 5
    assert any(not torch.equal(first[k], v) for k, v in load_file(out / "generator.safetensors").items())
    with pytest.raises(ValueError, match="trains injection=add, not concat; use another train.out"):
        train_multistyle(config(data, tmp_path / "r", injection="concat", init="scratch", steps=6))


def test_a_trained_generator_loads_as_stylizer_weights_and_styles_differ(data, tmp_path):
    from stylizers.base import StylizerRunner, build_stylizer
    from stylizers.config import stylizer_config

    torch.set_num_threads(1)
    out = train_multistyle(config(data, tmp_path / "c", injection="concat", init="scratch", steps=2, log_every=2))
    stylizer = build_stylizer(stylizer_config({"name": "multistyle", "weights": str(out)}))
    assert stylizer.generator.injection == "concat" and stylizer.params()["injection"] == "concat"
    runner = StylizerRunner.create(stylizer, "cpu", batch_size=2)
    styles = [torch.rand(3, 40, 40), torch.zeros(3, 40, 40)]
    out_imgs = runner.stylize(torch.rand(2, 3, 36, 44), runner.embed_styles(styles), torch.eye(2))
    assert out_imgs.shape == (2, 3, 36, 44)


@pytest.mark.parametrize("what", ["tiny", "not_an_image"])
def test_a_bad_style_image_in_the_training_bank_fails_clearly(data, tmp_path, what):
    bank = tmp_path / "bank"
    bank.mkdir()
    if what == "tiny":
        Image.new("RGB", (1, 1), "black").save(bank / "dot.png")
        match = r"style image .*dot.png \(id 'dot'\) is 1x1 px: style images need at least 16 px per side"
    else:
        (bank / "fake.jpg").write_text("not a picture")
        match = r"none of its 1 image files can be read"
    with pytest.raises(ValueError, match=match):
        train_multistyle(config(data, tmp_path / "o", style_bank=str(bank), steps=1))


def test_recipe_checks_name_the_fix():
    with pytest.raises(ValueError, match="injection=patch has no pretrained weights; set train.init=scratch"):
        MultiStyleTrainConfig(injection="patch", init="pretrained")
    assert MultiStyleTrainConfig(injection="patch").init == "scratch" and MultiStyleTrainConfig().init == "pretrained"
    with pytest.raises(ValueError, match="injection='film_x': choose one of add, concat, film, patch"):
        MultiStyleTrainConfig(injection="film_x")


def test_recipe_checks_the_figure_terms():
    with pytest.raises(ValueError, match="teacher_weight needs injection=film and init=pretrained"):
        MultiStyleTrainConfig(injection="add", teacher_weight=1.0)
    with pytest.raises(ValueError, match="content, style, pose or teacher weight > 0"):
        MultiStyleTrainConfig(content_weight=0, style_weight=0)
    with pytest.raises(ValueError, match=r"train.figure_size=\[300, 100\]: two sides \[low, high\]"):
        MultiStyleTrainConfig(pose_weight=1.0, figure_size=[300, 100])
    with pytest.raises(ValueError, match=r"train.alpha_range=\[0.5, 1.5\]"):
        MultiStyleTrainConfig(alpha_range=[0.5, 1.5])


def figure_config(data, shards, out, **kw) -> MultiStyleTrainConfig:
    base = dict(content=[shards], content_weight=0.0, style_weight=0.0, figure_size=[64, 64], alpha_range=[0.5, 1.0],
                batch_size=2, steps=6, log_every=6, lr=1e-4)
    return config(data, out, **{**base, **kw})


@pytest.mark.slow
def test_the_figure_term_pulls_the_pose_networks_reading_back_to_the_renders(data, tmp_path, stick_figure_shards):
    """A few 64 px steps against MediaPipe's real BlazePose lower the landmark gap between stylized and plain
    figure crops; the teacher term starts at 0 (the generator is the pretrained one) and the result loads."""
    from evaluation.fidelity import figure_reader
    from stylizers.base import build_stylizer
    from stylizers.config import stylizer_config

    torch.set_num_threads(1)
    reader = figure_reader("blazepose_full")
    crops = torch.rand(2, 3, 256, 256, requires_grad=True)
    points = reader(crops)
    assert points.shape == (2, 17, 2) and not any(p.requires_grad for p in reader.parameters())
    points.sum().backward()
    assert crops.grad.abs().sum() > 0  # differentiable in the image, frozen itself
    shards = stick_figure_shards((96, 96))
    out = train_multistyle(figure_config(data, shards, tmp_path / "pose", pose_weight=1.0), figure_reader=reader)
    log = json.loads((out / "losses.json").read_text())
    assert log[-1]["probe_pose"] < 0.9 * log[0]["probe_pose"], log
    assert "probe_content" not in log[0]  # no VGG term when its weights are 0
    both = train_multistyle(figure_config(data, shards, tmp_path / "both", pose_weight=1.0, teacher_weight=1.0,
                                          steps=1, log_every=1), figure_reader=reader)
    log = json.loads((both / "losses.json").read_text())
    assert log[0]["probe_teacher"] == 0.0 and log[1]["probe_teacher"] > 0.0
    assert build_stylizer(stylizer_config({"name": "multistyle", "weights": str(out)})).generator.injection == "film"


def test_the_figure_terms_need_labelled_renders_and_a_pose_network(data, tmp_path, stick_figure_shards):
    with pytest.raises(ValueError, match="need render shards with labelled figures in train.content"):
        train_multistyle(figure_config(data, str(data / "content"), tmp_path / "a", teacher_weight=1.0))
    with pytest.raises(ValueError, match="train.pose_weight > 0 needs a pose network"):
        train_multistyle(figure_config(data, stick_figure_shards((96, 96)), tmp_path / "b", pose_weight=1.0))
