"""Render flow: characters x motions -> one shard per job and split, in parallel, resumable.

    out_dir/                          shards only (shards.layout), so directory readers take it as is
      <split>/<character>__<motion>.parquet   a job's rows of that split (written atomically by the worker)
    <out_dir's parent>/_reports/<out_dir's name>/
      manifest.json                   jobs, shards, rows, seeds, timings (rewritten as jobs finish)
      summary.json, summary.md        images, characters, motions, cameras, splits, visibility histogram
      contact_sheet.png               a grid of renders with their keypoints drawn

Each job runs as its own ``python -m renderers.job`` process (``renderers.process``; bpy never
enters the flow's process or Prefect's threads), killed after ``runner.timeout_s`` and retried
``runner.retries`` times. A job whose shard already exists, validates and carries the same
config hash and seed is skipped, so a killed run re-run renders only what is missing. Which
split each row gets is planned up front (``renderer.split``, ``renderers.splits``). Where the
tasks run is the run's ``runner`` (``flows.runners``: ``local`` threads, ``dask``, ...). Job
planning is ``renderers.plan``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator, Mapping

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed

from flows.runners.registry import RunnerConfig, runner_config
from renderers.config import RenderConfig
from renderers.job import RenderJob
from renderers.plan import config_hash, plan_jobs
from renderers.process import run_job_process
from rig2sketch.atomic import write_json_atomic
from rig2sketch.progress import StageProgress
from shards import reports_dir

MANIFEST = "manifest.json"


@task(name="render-job", cache_policy=NO_CACHE)  # the shards on disk are the cache (see shard_is_complete)
def render_job(job: RenderJob, dataset: str, timeout_s: float, retries: int) -> dict[str, Any]:
    return run_job_process(job, Path(dataset), timeout_s, retries)


@flow(name="render")
def render_jobs_flow(cfg: RenderConfig, timeout_s: float, retries: int) -> str:
    logger = get_run_logger()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reports = reports_dir(out)
    jobs = plan_jobs(cfg)
    logger.info("render: %d jobs (%s) into %s", len(jobs), cfg.contour, out)
    progress = StageProgress("render", total_jobs=len(jobs))
    progress.update(force=True)  # the 0/N line, before the first job ends
    futures = [render_job.submit(job, str(out), timeout_s, retries) for job in jobs]
    entries, failures = [], []
    manifest = {"config_hash": config_hash(cfg), "seed": cfg.seed, "contour": cfg.contour,
                "split": asdict(cfg.split), "renderer": asdict(cfg), "jobs": entries}
    for future in as_completed(futures):
        try:
            entry = future.result()
        except Exception as err:  # keep going: the other jobs' shards still count
            failures.append(str(err))
            logger.error("%s", err)
            progress.update(jobs=1)
            continue
        entries.append(entry)
        entries.sort(key=lambda e: e["job_id"])
        manifest["rows"] = sum(e["rows"] for e in entries)
        write_json_atomic(reports / MANIFEST, manifest)
        progress.update(jobs=1, images=entry["rows"] if entry["status"] == "rendered" else 0)
    manifest["elapsed_s"] = round(time.monotonic() - progress.started, 3)
    manifest["images_per_s"] = round(progress.images / max(manifest["elapsed_s"], 1e-9), 3)
    manifest["failed"] = failures
    write_json_atomic(reports / MANIFEST, manifest)
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(jobs)} render jobs failed; re-run to retry only those. "
                           f"First error:\n{failures[0]}")
    from renderers.summary import write_summary

    summary = write_summary(out)
    create_markdown_artifact(key="render-summary", markdown=summary["markdown"],
                             description=f"render run {out}")
    return str(out)


@contextmanager
def shared_prefect_api(runner: RunnerConfig) -> Iterator[dict[str, str]]:
    """Env for a runner's worker processes so their task runs report to this flow's Prefect API.

    Without a configured ``PREFECT_API_URL`` Prefect runs an ephemeral server inside the flow's
    process, and each worker process (a Dask LocalCluster's) would start its own (slow, and they
    time out on a loaded machine). So for a runner that starts worker processes we start the
    ephemeral server up front and point both the flow and the workers at it. Workers of an
    existing cluster (``runner.address``) need ``PREFECT_API_URL`` set where they run."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if not runner.starts_worker_processes or configured:
        yield {"PREFECT_API_URL": configured} if configured else {}
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield {"PREFECT_API_URL": server.api_url}
            from prefect.events.worker import EventsWorker
            from prefect.logging.handlers import APILogWorker

            # Deliver queued events and logs before the server goes away.
            EventsWorker.drain_all(timeout=10)
            APILogWorker.drain_all(timeout=10)
    finally:
        server.stop()


def render_flow(cfg: RenderConfig, runner: RunnerConfig | Mapping[str, Any] | None = None) -> Path:
    """Render ``cfg`` into ``cfg.out_dir`` (shards; manifest, summary and contact sheet in its reports folder) on
    ``runner`` (a runner config or its ``{"kind": ...}`` mapping; None = ``local``); returns the
    dataset directory. Entry point of ``rig2sketch render``."""
    runner = runner_config(runner)
    with shared_prefect_api(runner) as worker_env:
        task_runner = runner.task_runner(worker_env)
        return Path(render_jobs_flow.with_options(task_runner=task_runner)(cfg, runner.timeout_s, runner.retries))


__all__ = ["render_flow"]
