"""``rig2sketch stylize stylizer=cyclegan`` end to end on a 3-row render shard: the real stage with the bundled
generator (and a trained folder), labels byte-identical, the model recorded as the style, reports written,
several styles per render refused in one line."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import torch

from shards import decode_png, reports_dir, shard_metadata, validate_dataset
from stylizers.base import StylizerRunner, build_stylizer
from stylizers.config import StyleConfig, StylizeConfig
from stylizers.cyclegan import CycleGANConfig
from stylizers.stage import to_tensor
from tests.test_stylizers_flow import LABEL_COLUMNS, render_dir  # noqa: F401 (fixture)


def config(raw, out, stylizer, **style) -> StylizeConfig:
    return StylizeConfig(dataset=str(raw), out=str(out), seed=3, metrics_samples=3, contact_sheet=3,
                         stylizer=stylizer, style=StyleConfig(ids=["pencil_hb", "charcoal"], **style))


@pytest.mark.slow
def test_stylize_with_the_bundled_cyclegan(prefect_harness, render_dir, tmp_path):  # noqa: F811
    from flows.stylize import stylize_flow

    torch.set_num_threads(1)
    gan = CycleGANConfig(device="cpu", batch_size=2)
    out = stylize_flow(config(render_dir, tmp_path / "gan", gan))
    shard = out / "train" / "job-0000.parquet"
    assert validate_dataset(out) == []
    src = pq.read_table(render_dir / "train" / "job-0000.parquet").to_pylist()
    dst = pq.read_table(shard).to_pylist()
    assert len(dst) == len(src) == 3
    runner = StylizerRunner.create(build_stylizer(gan), "cpu")
    for origin, row in zip(src, dst):
        for col in LABEL_COLUMNS:
            assert row[col] == origin[col], col
        assert (row["stylizer"], row["style"], row["sample_id"]) == ("cyclegan", "cyclegan",
                                                                    f"{origin['sample_id']}~cyclegan")
        assert json.loads(row["params"])["weights"] == "rig2sketch:bundled"
        # the image is the bundled generator's output for this render (odd sizes included), to PNG rounding
        render = to_tensor([decode_png(origin["image"]["bytes"])])
        expected = runner.stylize(render, torch.zeros(1, 0), torch.ones(1, 1))
        got = torch.from_numpy(decode_png(row["image"]["bytes"]).transpose(2, 0, 1).copy()).float() / 255
        assert got.shape == expected[0].shape and float((got - expected[0]).abs().max()) <= 1 / 255 + 1e-6
        assert row["image"] != origin["image"]
    assert shard_metadata(shard)["licence"] == "CC0-1.0 AND MIT"  # the render's and the bundled weights'
    # no alpha: the alpha-vs-0 metrics do not apply (stylizers/report.py), the contact sheet does
    assert not (reports_dir(out) / "metrics.json").exists()
    assert (reports_dir(out) / "contact_sheet.png").stat().st_size > 5_000


def test_a_gan_refuses_several_styles_per_render(render_dir, tmp_path):  # noqa: F811
    for style in (dict(per_image=2), dict(mix=2)):
        with pytest.raises(ValueError, match="stylizer=cyclegan takes no style images, so style.per_image and "
                                             "style.mix must be 1"):
            config(render_dir, tmp_path / "x", CycleGANConfig(device="cpu"), **style)


def test_rig2sketch_stylize_stylizer_cut_without_a_checkpoint_exits_2_with_the_fix(render_dir, tmp_path,  # noqa: F811
                                                                                  capsys):
    from app.cli import main

    code = main(["stylize", "stylizer=cut", "stylizer.device=cpu", f"dataset={render_dir}", f"out={tmp_path / 'o'}",
                 "style.ids=[pencil_hb]", "metrics=false"])
    assert code == 2
    assert "stylizer=cut stylizer.weights=official needs stylizer.checkpoint=PATH" in capsys.readouterr().err


def test_rig2sketch_train_stylizer_composes_each_unpaired_recipe():
    from app.cli import compose

    for model, schema in (("cyclegan", "CycleGANTrainConfig"), ("cut", "CUTTrainConfig"),
                          ("ugatit", "UGATITTrainConfig")):
        cfg = compose("train-stylizer", [f"stylizer={model}", "train.steps=3"])
        assert type(cfg.train).__name__ == schema and cfg.train.steps == 3 and cfg.train.model == model
