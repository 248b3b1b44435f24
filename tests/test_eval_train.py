"""Training smoke run on a 3-row shard of drawn figures: the loss falls, files appear, resume
continues where it stopped, and the saved model predicts through ``predict_records``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from evaluation.checkpoints import load_model, read_model_config
from evaluation.config import AugmentConfig, ModelConfig, TrainConfig
from evaluation.data import load_shard_records
from evaluation.config import HoldoutConfig
from evaluation.train import predict_records, train

TINY = ModelConfig(arch="tiny", input_width=64, input_height=64, sigma=1.0)


@pytest.fixture(scope="module")
def shard_dir(stick_figure_shards) -> str:
    return stick_figure_shards((64, 80))


@pytest.mark.slow
def test_training_lowers_the_loss_and_resumes(shard_dir, tmp_path) -> None:
    records = load_shard_records([shard_dir], None, HoldoutConfig())
    assert len(records) == 3
    cfg = TrainConfig(datasets=[shard_dir], out_dir=str(tmp_path / "run"), model=TINY,
                      augment=AugmentConfig(preset="none"), epochs=40, max_steps=40, batch_size=3, lr=1e-2,
                      warmup_steps=2, device="cpu", seed=0, val_every_epochs=100)
    torch.manual_seed(0)
    summary = train(cfg, train_records=records, val_records=records)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    losses = [loss for _, loss in history["loss"]]
    assert summary["steps"] == 40 and len(losses) == 40
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert (tmp_path / "run" / "curves.png").stat().st_size > 1000
    assert read_model_config(tmp_path / "run" / "model.safetensors") == TINY
    assert summary["val"]["AP"] >= 0.0 and "PCK_left_wrist" in summary["val"]

    # Resume: a longer schedule picks up at step 40 instead of starting over.
    longer = TrainConfig(**{**cfg.__dict__, "epochs": 45, "max_steps": 45})
    summary2 = train(longer, train_records=records, val_records=records)
    history2 = json.loads((tmp_path / "run" / "history.json").read_text())
    assert summary2["steps"] == 45 and [s for s, _ in history2["loss"]][:40] == list(range(40))

    model, mcfg = load_model(tmp_path / "run" / "model.safetensors")
    kp = predict_records(model, records, mcfg, torch.device("cpu"))
    assert kp.shape == (3, 17, 3) and np.isfinite(kp).all()


def test_init_from_checkpoint_and_bad_config(shard_dir, tmp_path) -> None:
    with pytest.raises(ValueError, match="train.batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="model.arch"):
        ModelConfig(arch="resnet")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train(TrainConfig(datasets=[shard_dir], out_dir=str(tmp_path / "x"), model=TINY, init=str(tmp_path / "nope.pth"),
                          device="cpu", max_steps=1, resume=False))
