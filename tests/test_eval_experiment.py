"""The thesis-table experiment end to end at toy size: two stick-figure datasets standing in
for renders, two variants, BlazePose, table + chart + cross-validation matrix."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from evaluation import stickfigures
from evaluation.config import AugmentConfig, ExperimentConfig, ModelConfig, TrainConfig, VariantConfig
from evaluation.experiments import BLAZEPOSE_ROW, effective_holdout, run_experiment


@pytest.mark.slow
def test_thesis_table_at_toy_size(tmp_path) -> None:
    rng = np.random.default_rng(0)
    stickfigures.write_dataset(tmp_path / "thin", 12, (64, 80), rng, characters=("a", "b", "c"))
    stickfigures.write_dataset(tmp_path / "grey", 12, (64, 80), rng, characters=("a", "b", "c"), styles=("g",))
    cfg = ExperimentConfig(
        name="toy", out_dir=str(tmp_path / "exp"),
        datasets={"thin": str(tmp_path / "thin"), "grey": str(tmp_path / "grey")},
        variants=[VariantConfig(name="thin", datasets=["thin"]),
                  VariantConfig(name="thin + grey, seed aug", datasets=["thin", "grey"], augment="seed")],
        test_on=["thin", "grey"],
        train=TrainConfig(model=ModelConfig(arch="tiny", input_width=64, input_height=64, sigma=1.0),
                          augment=AugmentConfig(), epochs=1, max_steps=2, batch_size=4, device="cpu",
                          val_every_epochs=5),
        pretrained={"BlazePose full (torch)": "blazepose_full"},
    )
    assert effective_holdout(cfg).characters == ["c"]
    table = run_experiment(cfg)
    text = table.read_text()
    assert "| thin | standard |" in text and BLAZEPOSE_ROW in text and "thin (4)" in text
    # Label fidelity of each variant's training data, judged by the bundled pose model; "–" for scored-only rows.
    assert "| Label fidelity |" in text and f"| {BLAZEPOSE_ROW} | – | – |" in text
    fidelity = json.loads((tmp_path / "exp" / "summary.json").read_text())["label_fidelity"]
    assert set(fidelity) == {"thin", "thin + grey, seed aug"}
    assert fidelity["thin"]["images"] == 8 and fidelity["thin + grey, seed aug"]["images"] == 16
    assert all(0.0 <= f["fidelity"] <= 1.0 and 0.0 < f["mean_oks"] < 1.0 for f in fidelity.values())
    rows = list(csv.DictReader((tmp_path / "exp" / "results.csv").open()))
    assert len(rows) == 4 * 2
    assert {r["training_data"] for r in rows} == {"thin", "thin + grey, seed aug", BLAZEPOSE_ROW,
                                                  "BlazePose full (torch)"}
    for r in rows:
        assert 0.0 <= float(r["AP"]) <= 1.0 and int(r["samples"]) == 4
    trained = [r for r in rows if r["training_data"] == "thin"]
    assert all(int(r["train_samples"]) == 8 for r in trained)
    cv = (tmp_path / "exp" / "cross_validation.md").read_text()
    assert "| thin + grey, seed aug |" in cv and BLAZEPOSE_ROW not in cv and "BlazePose full (torch)" not in cv
    assert (tmp_path / "exp" / "results.png").stat().st_size > 5000
    assert (tmp_path / "exp" / "variants" / "thin_grey_seed_aug" / "model.safetensors").exists()


def test_experiment_config_errors() -> None:
    with pytest.raises(ValueError, match="experiment.variants"):
        ExperimentConfig(variants=[])
    with pytest.raises(ValueError, match="augment"):
        VariantConfig(name="x", datasets=["raw"], augment="wild")


@pytest.mark.slow
def test_evaluate_flow_uses_existing_datasets(tmp_path, prefect_harness) -> None:
    from flows.evaluate import EvaluateCommand, experiment_flow

    rng = np.random.default_rng(1)
    stickfigures.write_dataset(tmp_path / "raw", 8, (64, 80), rng, characters=("a", "b"))
    exp = ExperimentConfig(
        name="flow", out_dir=str(tmp_path / "exp"), datasets={"raw": str(tmp_path / "raw")},
        variants=[VariantConfig(name="plain contours", datasets=["raw"])], test_on=["raw"], blazepose=False,
        train=TrainConfig(model=ModelConfig(arch="tiny", input_width=64, input_height=64, sigma=1.0),
                          epochs=1, max_steps=1, batch_size=4, device="cpu", val_every_epochs=5))
    table = experiment_flow(EvaluateCommand(experiment=exp))
    assert "| plain contours | standard |" in table.read_text()
    with pytest.raises(ValueError, match="neither a directory"):
        experiment_flow(EvaluateCommand(experiment=ExperimentConfig(
            out_dir=str(tmp_path / "x"), variants=[VariantConfig(name="v", datasets=["stytr2_12"])])))
