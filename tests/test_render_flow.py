"""Render flow: job planning, runner choice, and a run killed mid-way then re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from flows.render import task_runner
from renderers.plan import config_hash, plan_jobs
from renderers.config import CameraConfig, FrameConfig, RenderConfig, RunnerConfig
from rig2sketch.paths import REPO_ROOT

LOADER = "tests.render_scene:mannequin_scene"


def _cfg(out: Path, characters=("a", "b", "c"), **kw) -> RenderConfig:
    return RenderConfig(out_dir=str(out), characters=list(characters), width=64, height=64,
                        scene_loader=LOADER, frames=FrameConfig(step=10, max_frames=1),
                        camera=CameraConfig(count=2), **{"runner": RunnerConfig(workers=1), **kw})


def test_plan_jobs_seeds_and_hash(tmp_path):
    jobs = plan_jobs(_cfg(tmp_path))
    assert [j.job_id for j in jobs] == ["a__default", "b__default", "c__default"]
    assert len({j.seed for j in jobs}) == 3
    assert [j.seed for j in jobs] == [j.seed for j in plan_jobs(_cfg(tmp_path / "elsewhere"))]
    other_seed = plan_jobs(replace(_cfg(tmp_path), seed=1))
    assert all(a.seed != b.seed for a, b in zip(jobs, other_seed))
    # Where and how jobs run does not change the images; what is rendered does.
    base = _cfg(tmp_path)
    assert config_hash(base) == config_hash(replace(base, out_dir="x", runner=RunnerConfig(workers=3)))
    assert config_hash(base) != config_hash(replace(base, width=128))


def test_task_runner_follows_config(tmp_path):
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(task_runner(_cfg(tmp_path)), ThreadPoolTaskRunner)
    dask = task_runner(_cfg(tmp_path, runner=RunnerConfig(kind="dask", address="tcp://127.0.0.1:8786")))
    assert isinstance(dask, DaskTaskRunner)
    with pytest.raises(ValueError, match="runner.address"):
        RunnerConfig(kind="local", address="tcp://127.0.0.1:8786")


SCRIPT = textwrap.dedent("""
    import sys
    from flows.render import render_flow
    from renderers.config import CameraConfig, FrameConfig, RenderConfig, RunnerConfig
    cfg = RenderConfig(out_dir=sys.argv[1], characters=["a", "b", "c"], width=64, height=64,
                       scene_loader="tests.render_scene:mannequin_scene",
                       frames=FrameConfig(step=10, max_frames=1), camera=CameraConfig(count=2),
                       runner=RunnerConfig(workers=1))
    render_flow(cfg)
""")


@pytest.mark.blender
@pytest.mark.slow
def test_killed_run_rerun_has_nothing_missing_or_duplicated(tmp_path, prefect_harness):
    from flows.render import render_flow
    from shards import iter_samples, list_shards, validate_dataset

    out = tmp_path / "raw"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], cwd=REPO_ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the flow and its render worker, mid-run
        proc.wait()
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.parquet")}
    assert 1 <= len(first) < 3, f"kill came too late or too early: {sorted(first)}"

    dataset = render_flow(_cfg(out))
    manifest = json.loads((dataset / "_manifest.json").read_text())
    status = {e["shard"]: e["status"] for e in manifest["jobs"]}
    assert sorted(status) == ["a__default.parquet", "b__default.parquet", "c__default.parquet"]
    for name, mtime in first.items():
        assert status[name] == "skipped" and (out / name).stat().st_mtime_ns == mtime
    assert sum(s == "rendered" for s in status.values()) == 3 - len(first)
    assert len(list_shards(dataset)) == 3 and not list(out.glob(".*.tmp"))
    ids = [s["sample_id"] for s in iter_samples(dataset, decode_images=False)]
    assert len(ids) == len(set(ids)) == 3 * 1 * 2  # 3 jobs x 1 frame x 2 cameras
    assert validate_dataset(dataset) == []
    assert (dataset / "_contact_sheet.png").stat().st_size > 1000
    summary = json.loads((dataset / "_summary.json").read_text())
    assert summary["rows"] == 6 and set(summary["counts"]["character"]) == {"a", "b", "c"}
