"""The stylize stage's label-fidelity gate: flag stores each row's OKS, drop writes only rows the judge reads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shards import encode_png
from stylizers.config import FidelityGate, StylizeConfig
from stylizers.stage import fidelity_summary, judged_rows


def rows(n: int) -> list[dict]:
    return [{"sample_id": f"s{i}", "params": json.dumps({"alpha": 1.0})} for i in range(n)]


def test_flag_keeps_every_row_and_stores_oks():
    tally = [0.9, 0.2, float("nan")]
    out = judged_rows(rows(3), np.array(tally), "flag", 0.5)
    params = [json.loads(r["params"]) for r in out]
    assert [p["label_oks"] for p in params] == [0.9, 0.2, None]
    assert [p["label_kept"] for p in params] == [True, False, True] and params[0]["alpha"] == 1.0
    summary = fidelity_summary("flag", 0.5, tally)
    assert summary == {"mode": "flag", "threshold": 0.5, "rows": 3, "scored": 2, "below": 1, "dropped": 0,
                       "fidelity": 0.5, "mean_oks": 0.55}


def test_drop_writes_only_rows_at_or_above_threshold():
    tally = [0.5, 0.49, float("nan"), 0.1]
    out = judged_rows(rows(4), np.array(tally), "drop", 0.5)
    assert [r["sample_id"] for r in out] == ["s0", "s2"]
    assert "label_oks" not in json.loads(out[0]["params"])
    assert fidelity_summary("drop", 0.5, tally)["dropped"] == 2


def test_gate_settings_fail_clearly():
    with pytest.raises(ValueError, match="fidelity.mode='keep'"):
        FidelityGate(mode="keep")
    with pytest.raises(ValueError, match="fidelity.threshold=1.5"):
        FidelityGate(threshold=1.5)
    with pytest.raises(ValueError, match="fidelity.treshold"):
        StylizeConfig(dataset="a", out="b", fidelity={"treshold": 0.3})


def test_gate_changes_config_hash_only_when_on():
    from stylizers.stage import config_hash

    off = StylizeConfig(dataset="a", out="b")
    assert config_hash(off) == config_hash(StylizeConfig(dataset="a", out="b", fidelity={"threshold": 0.3}))
    assert config_hash(off) != config_hash(StylizeConfig(dataset="a", out="b", fidelity={"mode": "drop"}))


@pytest.fixture(scope="module")
def lena_shard(tmp_path_factory):
    """A real render shard: bundled character lena, 1 frame from 4 cameras, 160 px, depth_normal lines."""
    from flows.render import plan_jobs
    from renderers.config import CameraConfig, FrameConfig, RenderConfig
    from renderers.job import write_shards

    raw = tmp_path_factory.mktemp("raw")
    cfg = RenderConfig(out_dir=str(raw), characters=["lena"], motions=["walk"], width=160, height=160,
                       contour="depth_normal", threads=2, frames=FrameConfig(step=10, max_frames=1),
                       camera=CameraConfig(count=4))
    write_shards(plan_jobs(cfg)[0], raw)
    return raw


@pytest.mark.blender
@pytest.mark.slow
def test_stylize_flow_flags_then_drops_with_the_bundled_judge(lena_shard, tmp_path):
    """The real gate end to end: the bundled pose model judges AdaIN-stylized renders of a bundled character.
    ``flag`` keeps all rows with their OKS; ``drop`` at a threshold between the scores writes exactly the rows
    at or above it, and both runs' stylize.json agree with the rows on disk. A blank page with the same
    labels scores far below the render."""
    from evaluation.fidelity import CheckpointJudge
    from flows.stylize import stylize_flow
    from shards import iter_samples, list_shards, reports_dir
    from stylizers.adain import AdaINConfig
    from stylizers.config import StyleConfig

    def run(out: str, **gate) -> tuple[list[dict], dict]:
        cfg = StylizeConfig(dataset=str(lena_shard), out=str(tmp_path / out), seed=1, metrics=False,
                            contact_sheet=0, stylizer=AdaINConfig(device="cpu", batch_size=4, style_size=64),
                            style=StyleConfig(ids=["pencil_hb"]), fidelity=FidelityGate(device="cpu", **gate))
        stylize_flow(cfg)
        written = [r for shard in list_shards(cfg.out) for r in iter_samples(shard, decode_images=False)]
        return written, json.loads((reports_dir(cfg.out) / "stylize.json").read_text())

    flagged, record = run("flag", mode="flag")
    oks = np.array([json.loads(r["params"])["label_oks"] for r in flagged], np.float64)
    assert len(flagged) == 4 and np.isfinite(oks).all()
    assert record["fidelity"]["scored"] == 4 and abs(record["fidelity"]["mean_oks"] - oks.mean()) < 1e-3
    assert oks.max() > 0.3, f"the judge should read some stylized views of a clean render; OKS {oks}"
    threshold = float(np.sort(oks)[1] + np.sort(oks)[2]) / 2  # keeps the two best views
    kept, record = run("drop", mode="drop", threshold=threshold)
    assert sorted(r["sample_id"] for r in kept) == sorted(r["sample_id"] for r, o in zip(flagged, oks) if o >= threshold)
    assert record["fidelity"]["dropped"] == 4 - len(kept) == 2

    row = next(iter_samples(list_shards(lena_shard)[0], decode_images=False))
    blank = {**row, "image": encode_png(np.full((row["height"], row["width"], 3), 255, np.uint8))}
    render_oks, blank_oks = CheckpointJudge("bundled", device="cpu")([row, blank])
    assert render_oks > 0.5 > blank_oks + 0.2
