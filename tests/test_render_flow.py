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

from flows.runners.dask import DaskRunner
from flows.runners.local import LocalRunner
from flows.runners.registry import RUNNERS, runner_config
from renderers.plan import config_hash, plan_jobs
from renderers.config import CameraConfig, FrameConfig, RenderConfig
from rig2sketch.paths import REPO_ROOT

LOADER = "tests.render_scene:mannequin_scene"


def _cfg(out: Path, characters=("a", "b", "c"), **kw) -> RenderConfig:
    return RenderConfig(out_dir=str(out), characters=list(characters), width=64, height=64,
                        scene_loader=LOADER, frames=FrameConfig(step=10, max_frames=1),
                        camera=CameraConfig(count=2), **kw)


def test_plan_jobs_seeds_and_hash(tmp_path):
    jobs = plan_jobs(_cfg(tmp_path))
    assert [j.job_id for j in jobs] == ["a__default", "b__default", "c__default"]
    assert len({j.seed for j in jobs}) == 3
    assert [j.seed for j in jobs] == [j.seed for j in plan_jobs(_cfg(tmp_path / "elsewhere"))]
    other_seed = plan_jobs(replace(_cfg(tmp_path), seed=1))
    assert all(a.seed != b.seed for a, b in zip(jobs, other_seed))
    # Where jobs go does not change the images; what is rendered does.
    base = _cfg(tmp_path)
    assert config_hash(base) == config_hash(replace(base, out_dir="x"))
    assert config_hash(base) != config_hash(replace(base, width=128))


def test_task_runner_follows_config():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    local = runner_config(None)
    assert isinstance(local, LocalRunner) and isinstance(local.task_runner({}), ThreadPoolTaskRunner)
    assert local.task_runner({})._max_workers == 2 and not local.starts_worker_processes
    dask = runner_config({"kind": "dask", "address": "tcp://127.0.0.1:8786", "retries": 3})
    assert isinstance(dask, DaskRunner) and dask.retries == 3 and not dask.starts_worker_processes
    assert isinstance(dask.task_runner({}), DaskTaskRunner)
    assert DaskRunner(workers=4).starts_worker_processes  # a LocalCluster: workers share our Prefect API
    with pytest.raises(ValueError, match=r"runner.address is not a setting of runner 'local'; allowed: timeout_s, retries, workers"):
        runner_config({"kind": "local", "address": "tcp://127.0.0.1:8786"})
    with pytest.raises(ValueError, match=r"runner.kind='slurm' is not allowed; expected one of dask, local"):
        runner_config({"kind": "slurm"})
    with pytest.raises(ValueError, match=r"runner.workers=0 is not allowed"):
        runner_config({"kind": "dask", "workers": 0})


TOY_RUNNER = '''
"""A runner in one module: Prefect's thread pool that logs every task it is handed."""
from dataclasses import dataclass

from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners.registry import RUNNERS, RunnerConfig

SUBMITTED = []


class LoggingThreadPool(ThreadPoolTaskRunner):
    def submit(self, task, parameters, *args, **kwargs):
        SUBMITTED.append((task.name, parameters["job"].job_id))
        return super().submit(task, parameters, *args, **kwargs)


@RUNNERS.register("toy_logging")
@dataclass
class ToyRunner(RunnerConfig):
    kind = "toy_logging"
    threads: int = 1

    def task_runner(self, worker_env):
        return LoggingThreadPool(max_workers=self.threads)
'''


def import_file(path: Path, source: str):
    """Write ``source`` to ``path`` and import it as a module (``sys.path`` untouched)."""
    import importlib.util

    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.blender
def test_a_runner_in_one_new_module_runs_the_render_flow(tmp_path, monkeypatch, prefect_harness):
    """Adding a runner is one module that registers its config (plus configs/runner/<kind>.yaml):
    the flow picks it by kind and every render job goes through its task runner."""
    from flows.render import render_flow
    from shards import iter_samples, validate_dataset

    with pytest.raises(ValueError, match="toy_logging"):
        runner_config({"kind": "toy_logging"})
    monkeypatch.setattr(RUNNERS, "_items", dict(RUNNERS._items))  # forget the toy afterwards
    toy = import_file(tmp_path / "toy_runner.py", TOY_RUNNER)
    assert RUNNERS.names() == ["dask", "local", "toy_logging"]
    with pytest.raises(ValueError, match="runner.workers is not a setting of runner 'toy_logging'"):
        runner_config({"kind": "toy_logging", "workers": 2})
    dataset = render_flow(_cfg(tmp_path / "raw", characters=("a", "b")), {"kind": "toy_logging", "threads": 2, "retries": 0})
    assert sorted(toy.SUBMITTED) == [("render-job", "a__default"), ("render-job", "b__default")]
    assert validate_dataset(dataset) == []
    assert len([s["sample_id"] for s in iter_samples(dataset, decode_images=False)]) == 2 * 1 * 2


SCRIPT = textwrap.dedent("""
    import sys
    from flows.render import render_flow
    from renderers.config import CameraConfig, FrameConfig, RenderConfig
    cfg = RenderConfig(out_dir=sys.argv[1], characters=["a", "b", "c"], width=64, height=64,
                       scene_loader="tests.render_scene:mannequin_scene",
                       frames=FrameConfig(step=10, max_frames=1), camera=CameraConfig(count=2))
    render_flow(cfg, {"kind": "local", "workers": 1})
""")


@pytest.mark.blender
@pytest.mark.slow
def test_killed_run_rerun_has_nothing_missing_or_duplicated(tmp_path, prefect_harness):
    from flows.render import render_flow
    from shards import iter_samples, list_shards, reports_dir, validate_dataset

    out = tmp_path / "raw"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], cwd=REPO_ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not list(out.rglob("*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the flow and its render worker, mid-run
        proc.wait()
    first = {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    assert 1 <= len(first) < 3, f"kill came too late or too early: {sorted(first)}"

    dataset = render_flow(_cfg(out), {"kind": "local", "workers": 1})
    manifest = json.loads((reports_dir(dataset) / "manifest.json").read_text())
    status = {shard: e["status"] for e in manifest["jobs"] for shard in e["shards"]}
    assert sorted(status) == ["train/a__default.parquet", "train/b__default.parquet", "train/c__default.parquet"]
    for name, mtime in first.items():
        assert status[name] == "skipped" and (out / name).stat().st_mtime_ns == mtime
    assert sum(s == "rendered" for s in status.values()) == 3 - len(first)
    assert len(list_shards(dataset)) == 3 and not list(out.rglob(".*.tmp"))
    ids = [s["sample_id"] for s in iter_samples(dataset, decode_images=False)]
    assert len(ids) == len(set(ids)) == 3 * 1 * 2  # 3 jobs x 1 frame x 2 cameras
    assert validate_dataset(dataset) == []
    assert (reports_dir(dataset) / "contact_sheet.png").stat().st_size > 1000
    summary = json.loads((reports_dir(dataset) / "summary.json").read_text())
    assert summary["rows"] == 6 and set(summary["counts"]["character"]) == {"a", "b", "c"}


@pytest.mark.blender
def test_a_camera_split_render_files_each_row_by_its_camera_split(tmp_path, monkeypatch, prefect_harness):
    """Issue 16: rows are split by camera slot (planned up front, stored per row), each split in its
    own folder that Hugging Face datasets reads as a split; the reports lie outside the dataset
    folder; and the render prints its 0/N line before the first job ends."""
    import io

    import datasets

    from flows.render import render_flow
    from renderers.splits import SplitConfig
    from shards import iter_samples, reports_dir, validate_dataset

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)  # progress lines (not pytest's capture: Prefect's handler outlives it)
    split = SplitConfig(by="camera", val=["ring01"], test=["ring02"])
    cfg = replace(_cfg(tmp_path / "raw", characters=("a",)), camera=CameraConfig(count=3), split=split)
    dataset = render_flow(cfg, {"kind": "local", "workers": 1})
    assert sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*") if p.is_file()) == [
        "test/a__default.parquet", "train/a__default.parquet", "val/a__default.parquet"]
    rows = list(iter_samples(dataset, decode_images=False))
    assert sorted((r["camera"], r["split"]) for r in rows) == [("ring00", "train"), ("ring01", "val"), ("ring02", "test")]
    assert validate_dataset(dataset) == []
    manifest = json.loads((reports_dir(dataset) / "manifest.json").read_text())
    assert manifest["jobs"][0]["splits"] == ["test", "train", "val"] and manifest["split"]["by"] == "camera"
    lines = [line for line in stderr.getvalue().splitlines() if line.startswith("[render]")]
    assert lines[0].startswith("[render] jobs 0/1 ") and lines[-1].startswith("[render] jobs 1/1 ")
    loaded = datasets.load_dataset(str(dataset), cache_dir=str(tmp_path / "hf"))
    assert {k: v.num_rows for k, v in loaded.items()} == {"train": 1, "validation": 1, "test": 1}
    assert loaded["validation"][0]["camera"] == "ring01" and loaded["validation"][0]["image"].size == (64, 64)


def test_a_custom_loader_gets_paths_but_shards_store_labels(tmp_path):
    """A custom scene loader receives the characters as given; the name stored in the shards (and used by
    export as a folder) is the file's stem, which the shard writer accepts."""
    hero = str(tmp_path / "assets" / "hero.fbx")
    job = plan_jobs(_cfg(tmp_path, characters=[hero]))[0]
    assert job.character == hero and job.character_name == "hero" and job.job_id == "hero__default"
