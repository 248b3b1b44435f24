"""stylize_flow on a 3-row render shard: labels byte-identical, lineage, validate passes, resume, reports."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from shards import ShardWriter, encode_png, iter_samples, reports_dir, validate_dataset
from stylizers.adain import AdaINConfig
from stylizers.config import StyleConfig, StylizeConfig
from stylizers.stage import assign_styles
from stylizers.style_bank import StyleBank, StyleBankError
from stylizers.train import outline

LABEL_COLUMNS = ["width", "height", "keypoints", "joints", "bbox", "area", "character", "motion", "frame",
                 "camera", "intrinsics", "extrinsics", "split", "mask"]


def render_rows(sizes: list[tuple[int, int]]) -> list[dict]:
    """Line-art rows (Open Peeps outlines) with labels in the v1 layout; one odd size included."""
    bank = StyleBank.open("bundled")
    rng = np.random.default_rng(7)
    rows = []
    for i, (h, w) in enumerate(sizes):
        img = outline(bank.load(f"peep_{i:02d}", max(h, w)))
        canvas = np.ones((h, w, 3), np.float32)
        canvas[: min(h, img.shape[0]), : min(w, img.shape[1])] = img[:h, :w]
        kp = np.column_stack([rng.uniform(1, w - 1, 17), rng.uniform(1, h - 1, 17), rng.integers(0, 3, 17)])
        joints = np.column_stack([rng.uniform(1, w - 1, 53), rng.uniform(1, h - 1, 53), np.full(53, 2)])
        rows.append({
            "sample_id": f"c{i}_walk_f{i:03d}_cam0", "image": encode_png((canvas * 255).astype(np.uint8)),
            "width": w, "height": h, "keypoints": kp.astype(np.float32), "joints": joints.astype(np.float32),
            "bbox": np.array([2.25, 3.5, w / 2, h / 2], np.float32), "area": float(w * h / 5), "character": f"c{i}",
            "motion": "walk", "frame": i, "camera": "cam0", "intrinsics": np.eye(3) * 1.1, "extrinsics": np.eye(4),
            "split": "train", "stylizer": "none", "style": "", "source_id": "", "seed": 11 + i, "params": None,
            "mask": encode_png(np.full((h, w), 255 * (i % 2), np.uint8)),
        })
    return rows


@pytest.fixture()
def render_dir(tmp_path):
    raw = tmp_path / "raw"
    with ShardWriter(raw / "train" / "job-0000.parquet", metadata={"config_hash": "abc", "seed": 1,
                                                                    "licence": "CC0-1.0"}) as w:
        for row in render_rows([(64, 64), (64, 64), (61, 67)]):
            w.write(row)
    return raw


def config(raw, out, **style) -> StylizeConfig:
    return StylizeConfig(dataset=str(raw), out=str(out), seed=3, metrics_samples=3, contact_sheet=3,
                         stylizer=AdaINConfig(device="cpu", batch_size=2, style_size=64),
                         style=StyleConfig(ids=["pencil_hb", "charcoal", "ballpoint", "ink_wash"], **style))


def progress_lines(monkeypatch) -> io.StringIO:
    """Where progress lines (``rig2sketch.progress``, written to ``sys.stderr``) go for the rest of the
    test. (pytest's capfd/capsys would also capture Prefect's log handler, which outlives the test.)"""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


def test_stylize_keeps_labels_adds_lineage_validates_and_resumes(prefect_harness, render_dir, tmp_path, monkeypatch):
    from flows.stylize import stylize_flow
    from shards import shard_metadata

    cfg = config(render_dir, tmp_path / "adain", per_image=2)
    stderr = progress_lines(monkeypatch)
    out = stylize_flow(cfg)
    shard = out / "train" / "job-0000.parquet"  # the source's split folder and name
    assert validate_dataset(out) == [] and [p.name for p in out.iterdir()] == ["train"]
    assert shard_metadata(shard)["licence"] == "CC0-1.0"  # the render's and the (CC0) style images'
    src = pq.read_table(render_dir / "train" / "job-0000.parquet").to_pylist()
    dst = pq.read_table(shard).to_pylist()
    assert len(dst) == 2 * len(src)
    by_id = {r["sample_id"]: r for r in src}
    ids = ["pencil_hb", "charcoal", "ballpoint", "ink_wash"]
    for row in dst:
        origin = by_id[row["source_id"]]
        for col in LABEL_COLUMNS:
            assert row[col] == origin[col], col  # byte-identical label values
        assert row["stylizer"] == "adain" and row["style"] in ids
        assert row["sample_id"] == f"{row['source_id']}~{row['style']}"
        params = json.loads(row["params"])
        assert params["alpha"] == 1.0 and params["style_weights"] == {row["style"]: 1.0}
        assert row["image"] != origin["image"]
    for sid in by_id:  # two different styles per render, the ones assign_styles picks
        picked = [ids[int(np.argmax(w))] for w in assign_styles(sid, 4, 2, 1, 3)]
        assert sorted(r["style"] for r in dst if r["source_id"] == sid) == sorted(picked)
        assert len(set(picked)) == 2
    odd = next(iter_samples(shard))
    assert odd["image"].shape[:2] == (odd["height"], odd["width"])

    reports = reports_dir(out)
    report = json.loads((reports / "metrics.json").read_text())
    assert set(report["by_alpha"]) == {"0", "1"} and report["samples"] == 3
    assert (reports / "contact_sheet.png").stat().st_size > 10_000
    # Progress: a 0/N line before the first shard ends, and the metrics step counts its images.
    err = [line for line in stderr.getvalue().splitlines() if line.startswith("[stylize")]
    assert err[0].startswith("[stylize] shards 0/1 ")
    metric_lines = [line for line in err if line.startswith("[stylize metrics] ")]
    assert metric_lines[0].startswith("[stylize metrics] scored 0/6 ") and " scored 6/6 " in metric_lines[-1]

    mtime = shard.stat().st_mtime_ns
    stylize_flow(cfg)  # resume: the finished shard is kept
    assert shard.stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match=r"holds shard train/job-0000.parquet \(config_hash .* \(stylize settings "
                                         r"changed\)\) made by another run; re-run with overwrite=true"):
        stylize_flow(config(render_dir, tmp_path / "adain", per_image=1))
    assert shard.stat().st_mtime_ns == mtime
    other = config(render_dir, tmp_path / "adain", per_image=1)
    other.overwrite = True
    stylize_flow(other)  # overwrite: made again with the new config
    assert shard.stat().st_mtime_ns != mtime and validate_dataset(tmp_path / "adain") == []


def test_metrics_can_be_switched_off(prefect_harness, render_dir, tmp_path, monkeypatch):
    from dataclasses import replace

    from flows.stylize import stylize_flow

    stderr = progress_lines(monkeypatch)
    out = stylize_flow(replace(config(render_dir, tmp_path / "quick", per_image=1), metrics=False))
    assert validate_dataset(out) == [] and not (reports_dir(out) / "metrics.json").exists()
    assert json.loads((reports_dir(out) / "stylize.json").read_text())["metrics"] == {}
    assert "[stylize] shards 1/1 " in stderr.getvalue() and "[stylize metrics]" not in stderr.getvalue()


def test_a_pipeline_stylize_step_passes_metrics_false_on():
    from dataclasses import replace

    from app.cli import compose
    from flows.pipeline import stylize_config

    cfg = compose("pipeline", ["out=runs/x", "stylize.0.metrics=false"])
    assert cfg.stylize[0].metrics is False
    assert stylize_config(cfg, cfg.stylize[0], "runs/x/raw").metrics is False
    assert stylize_config(cfg, replace(cfg.stylize[0], metrics=True), "runs/x/raw").metrics is True


def test_stylize_refuses_bad_style_requests_before_work(render_dir, tmp_path):
    from stylizers.stage import load_stage

    with pytest.raises(StyleBankError, match="style.per_image=12"):
        load_stage(config(render_dir, tmp_path / "o", per_image=12))
    with pytest.raises(StyleBankError, match="does not exist"):
        load_stage(StylizeConfig(dataset=str(render_dir), out=str(tmp_path / "o"),
                                 style=StyleConfig(bank=str(tmp_path / "nope"))))


def test_mixing_styles_writes_weights_and_combined_style_name(render_dir, tmp_path):
    from stylizers.stage import load_stage, stylize_shard

    cfg = config(render_dir, tmp_path / "mix", per_image=1, mix=2)
    runner, styles = load_stage(cfg)
    n = stylize_shard(render_dir / "train" / "job-0000.parquet", tmp_path / "mix" / "s.parquet", cfg, runner, styles).rows
    rows = pq.read_table(tmp_path / "mix" / "s.parquet").to_pylist()
    assert n == 3
    for row in rows:
        weights = json.loads(row["params"])["style_weights"]
        assert len(weights) == 2 and abs(sum(weights.values()) - 1) < 1e-3
        assert row["style"].split("+")[0] == max(weights, key=weights.get)
