"""The unpaired training flow: a few 64-px steps lower every non-adversarial loss term and the discriminator
loss on a fixed probe batch (CycleGAN, CUT, U-GAT-IT); a re-run resumes with the step count kept; the trained
generator loads as ``stylizer.weights`` and is the one that runs; bad recipes fail in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from stylizers.base import StylizerRunner, build_stylizer, one_hot_weights
from stylizers.style_bank import StyleBank
from stylizers.train import outline
from stylizers.unpaired_train import CUTTrainConfig, CycleGANTrainConfig, UGATITTrainConfig, train_unpaired

SCHEMAS = {"cyclegan": CycleGANTrainConfig, "cut": CUTTrainConfig, "ugatit": UGATITTrainConfig}
# the generator-side terms without the adversarial one (which rises as D learns) + D's loss
FALLING = {"cyclegan": ["cycle", "identity", "d"], "cut": ["nce", "nce_idt", "d"],
           "ugatit": ["cycle", "identity", "cam", "d"]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Domain A: two line-art renders; domain B: two drawings (64 px)."""
    root = tmp_path_factory.mktemp("data")
    bank = StyleBank.open("bundled")
    (root / "renders").mkdir()
    (root / "drawings").mkdir()
    for pid in ("peep_03", "peep_07"):
        Image.fromarray((outline(bank.load(pid, 64)) * 255).astype(np.uint8)).save(root / "renders" / f"{pid}.png")
    for sid in ("pencil_hb", "charcoal"):
        Image.fromarray((bank.load(sid, 64) * 255).astype(np.uint8)).save(root / "drawings" / f"{sid}.png")
    return root


def config(model: str, data, out, **kw):
    base = dict(out=str(out), content=[str(data / "renders")], style_bank=str(data / "drawings"), crop=64,
                crop_scale=[0.8, 1.0], batch_size=2, steps=8, log_every=8, sample_every=8, lr=1e-3, ngf=8,
                n_blocks=2, ndf=16, threads=1, device="cpu")
    extra = {"cut": dict(nce_layers=[0, 4, 8, 12], num_patches=64), "ugatit": dict(d_layers=[5, 4])}[model] \
        if model != "cyclegan" else {}
    return SCHEMAS[model](**{**base, **extra, **kw})


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cyclegan", "cut", "ugatit"])
def test_a_few_steps_lower_each_loss_and_the_generator_loads(data, tmp_path, model):
    torch.set_num_threads(1)
    out = train_unpaired(config(model, data, tmp_path / model))
    log = json.loads((out / "losses.json").read_text())
    first, last = log[0]["probe"], log[-1]["probe"]
    assert (log[0]["step"], log[-1]["step"]) == (0, 8)
    for term in FALLING[model]:
        assert last[term] < first[term], (term, first[term], last[term])
    for name in ("generator.safetensors", "checkpoint.pt", "losses.png", "samples.png", "MODEL_CARD.md"):
        assert (out / name).stat().st_size > 0
    assert "8 of 8" in (out / "MODEL_CARD.md").read_text()

    # the saved A -> B generator is what stylizer.weights=<out> runs
    from stylizers.config import stylizer_config

    stylizer = build_stylizer(stylizer_config({"name": model, "weights": str(out), "device": "cpu"}))
    state = torch.load(out / "checkpoint.pt", weights_only=True)["nets"]
    prefix = {"cyclegan": "G_A.", "cut": "G.", "ugatit": "genA2B."}[model]
    for k, v in stylizer.generator.state_dict().items():
        assert torch.allclose(v, state[prefix + k].half().float())
    runner = StylizerRunner.create(stylizer, "cpu")
    y = runner.stylize(torch.rand(1, 3, 64, 64), torch.zeros(1, 0), one_hot_weights(torch.zeros(1), 1))
    assert y.shape == (1, 3, 64, 64)


def test_resume_keeps_the_step_count(data, tmp_path):
    torch.set_num_threads(1)
    cfg = config("cyclegan", data, tmp_path / "run", steps=2, log_every=1)
    train_unpaired(cfg)
    first = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert first["step"] == 2
    train_unpaired(config("cyclegan", data, tmp_path / "run", steps=4, log_every=1))
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    log = json.loads(state["log"])
    assert state["step"] == 4 and [e["step"] for e in log] == [0, 1, 2, 3, 4]
    assert len(state["opt_g"]["state"]) > 0  # the optimiser moments came back too
    # another architecture in the same folder is refused
    with pytest.raises(ValueError, match="not cyclegan .* use another train.out"):
        train_unpaired(config("cyclegan", data, tmp_path / "run", steps=5, ngf=4))


@pytest.mark.parametrize("kw,match", [
    (dict(crop=64, d_layers=[7, 5]), r"train.crop=64 is too small for a 7-layer discriminator \(needs >= 96\)"),
    (dict(crop=30), "train.crop=30: must be a multiple of 4"),
])
def test_bad_recipes_fail_in_one_line(data, tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        UGATITTrainConfig(out=str(tmp_path), **kw)


def test_cut_nce_layers_must_exist(tmp_path):
    with pytest.raises(ValueError, match=r"train.nce_layers=\[0, 40\]"):
        CUTTrainConfig(out=str(tmp_path), n_blocks=6, nce_layers=[0, 40])


def test_rig2sketch_train_stylizer_runs_the_unpaired_flow(data, tmp_path):
    from app.cli import main

    torch.set_num_threads(1)
    out = tmp_path / "cli"
    code = main(["train-stylizer", "stylizer=cut", f"train.out={out}", f"train.content=[{data / 'renders'}]",
                 f"train.style_bank={data / 'drawings'}", "train.steps=2", "train.log_every=1", "train.ngf=4",
                 "train.n_blocks=1", "train.ndf=4", "train.num_patches=16", "train.nce_layers=[0,4]",
                 "train.device=cpu"])
    assert code == 0
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2
    assert "cut generator" in (out / "MODEL_CARD.md").read_text()
