"""The main job end to end at tiny size, and the render stage on a real 2-worker Dask cluster."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from flows.pipeline import pipeline_flow
from app.cli import compose
from shards import iter_samples, validate_dataset

pytestmark = [pytest.mark.blender, pytest.mark.slow]

TINY = [
    "renderer.characters=[ada]",
    "renderer.motions=[wave]",
    "renderer.width=64",
    "renderer.height=64",
    "renderer.camera.count=2",
    "renderer.frames.step=20",
    "renderer.frames.max_frames=2",
]


def tiny_render(out: Path):
    cfg = compose("pipeline", [*TINY, f"out={out}"]).renderer
    return replace(cfg, out_dir=str(out))


def images_by_id(dataset: Path) -> dict[str, bytes]:
    return {s["sample_id"]: s["image"] for s in iter_samples(dataset, decode_images=False)}


def test_pipeline_leaves_a_valid_documented_run(tmp_path, prefect_harness):
    cfg = compose("pipeline", [*TINY, f"out={tmp_path / 'run'}", "stylize.0.style.per_image=1", "export=[coco]"])
    run = pipeline_flow(cfg)
    assert validate_dataset(run / "raw") == [] and validate_dataset(run / "multistyle_1") == []
    raw = pd.read_parquet(run / "raw")
    styled = pd.read_parquet(run / "multistyle_1")
    assert len(raw) == 4 and len(styled) == 4 and set(styled.source_id) == set(raw.sample_id)
    card = (run / "README.md").read_text()
    for needle in ("| `raw/` | 4 |", "| `multistyle_1/` | 4 |", "| ada | 4 |", "CC0-1.0", "sample_grid.png", "Seed: `0`", "| nose |"):
        assert needle in card, needle
    assert (run / "sample_grid.png").stat().st_size > 1000
    assert (run / "export" / "coco" / "raw").is_dir()
    assert [p.name for p in (run / "raw").iterdir()] == ["train"]  # shards only; reports in _reports/raw
    assert (run / "_reports" / "raw" / "contact_sheet.png").is_file()
    # A re-run resumes: the render shard is kept (same bytes, same mtime).
    shard = next((run / "raw").rglob("*.parquet"))
    before = shard.stat().st_mtime_ns
    pipeline_flow(cfg)
    assert shard.stat().st_mtime_ns == before


def test_two_dask_workers_make_the_same_samples_as_local(tmp_path, prefect_harness):
    from flows.render import render_flow

    local = render_flow(replace(tiny_render(tmp_path / "local"), characters=["ada", "ben"]), {"kind": "local"})
    dask = render_flow(replace(tiny_render(tmp_path / "dask"), characters=["ada", "ben"]), {"kind": "dask", "workers": 2})
    assert images_by_id(local) == images_by_id(dask)
    assert len(images_by_id(local)) == 8


def test_killing_a_dask_worker_mid_run_still_completes_the_dataset(tmp_path, prefect_harness):
    from distributed import Client, LocalCluster

    from flows.render import render_flow

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            cfg = replace(tiny_render(tmp_path / "ds"), characters=["ada", "ben", "chloe"])
            runner = {"kind": "dask", "address": cluster.scheduler_address}
            result: dict = {}
            thread = threading.Thread(target=lambda: result.setdefault("out", render_flow(cfg, runner)))
            thread.start()
            # Wait until a worker is busy with a render job, then kill that worker process.
            deadline = time.monotonic() + 300
            victim = None
            while victim is None and time.monotonic() < deadline:
                processing = client.processing()
                busy = [addr for addr, keys in processing.items() if keys]
                if busy:
                    victim = busy[0]
                time.sleep(0.2)
            assert victim is not None, "no worker ever started a job"
            time.sleep(2.0)  # let the job's Blender process get going
            pid = client.run(os.getpid, workers=[victim])[victim]
            os.kill(pid, signal.SIGKILL)
            thread.join(timeout=900)
    assert not thread.is_alive()
    out = result["out"]
    assert validate_dataset(out) == []
    ids = sorted(images_by_id(out))
    assert len(ids) == 12 and len(set(ids)) == 12
