"""Render flow: characters x motions -> one shard per job and split, in parallel, resumable.

    out_dir/                          shards only (shards.layout), so directory readers take it as is
      <split>/<character>__<motion>.parquet   a job's rows of that split (written atomically by the worker)
    <out_dir's parent>/_reports/<out_dir's name>/
      manifest.json                   jobs, shards, rows, seeds, timings (rewritten as jobs finish)
      summary.json, summary.md        images, characters, motions, cameras, splits, visibility histogram
      contact_sheet.png               a grid of renders with their keypoints drawn

Each job runs as its own ``python -m renderers.job`` process (``renderers.process``; bpy never
enters the flow's process or Prefect's threads), killed after ``runner.timeout_s`` and retried
``runner.retries`` times (not when it refused its input). A job whose shards already exist with
the same config hash, seed and input fingerprints, and validate (checksum included), is skipped,
so a killed run re-run renders only what is missing; a shard made by another run is refused
before any job starts unless ``overwrite`` (``renderers.resume``). Which split each row gets is
planned up front (``renderer.split``, ``renderers.splits``); a job writes one shard per split
(``<out>/<split>/<job>.parquet``). Where the tasks run is the run's ``runner`` (``flows.runners``:
``local`` threads, ``dask``, ...). Job planning is ``renderers.plan``.
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
from renderers.process import JobInputError, job_entry, run_job_process
from renderers.resume import plan_resume
from rig2sketch.atomic import write_json_atomic
from rig2sketch.leftovers import remove_stale_scratch, remove_stale_temp_files
from rig2sketch.progress import StageProgress
from shards import SPLITS, reports_dir

MANIFEST = "manifest.json"


@task(name="render-job", cache_policy=NO_CACHE)  # the shards on disk are the cache (renderers.resume)
def render_job(job: RenderJob, dataset: str, timeout_s: float, retries: int) -> dict[str, Any]:
    return run_job_process(job, Path(dataset), timeout_s, retries)


def _entry(job: RenderJob, dataset: Path, status: str, rows: int = 0, **extra: Any) -> dict[str, Any]:
    return {**job_entry(job, dataset), "status": status, "rows": rows, **extra}


@flow(name="render")
def render_jobs_flow(cfg: RenderConfig, timeout_s: float, retries: int, overwrite: bool = False,
                     workers: int = 1) -> str:
    logger = get_run_logger()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reports = reports_dir(out)
    for folder in (out, *(out / split for split in SPLITS)):
        for path in remove_stale_temp_files(folder):  # left by a killed run
            logger.info("removed %s (left by a killed run)", path)
    for path in remove_stale_scratch():
        logger.info("removed %s (left by a killed run)", path)
    jobs = plan_jobs(cfg, workers)  # renderer.chunks=0: a long single job is cut so every worker has a part
    checks, others = plan_resume(jobs, out, overwrite)  # refuses shards of another run unless overwrite
    logger.info("render: %d jobs (%s) into %s", len(jobs), cfg.contour, out)
    progress = StageProgress("render", total_jobs=len(jobs))
    # The manifest lists every job's shards from the start: kept, pending (then rendered or failed),
    # and shards of the same config that this run does not write.
    entries = {job.job_id: _entry(job, out, "skipped", check.rows, seconds=0.0, attempts=0) if check.status == "keep"
               else _entry(job, out, "pending") for job, check in zip(jobs, checks)}
    manifest = {"config_hash": config_hash(cfg), "seed": cfg.seed, "contour": cfg.contour,
                "split": asdict(cfg.split), "renderer": asdict(cfg), "jobs": [],
                "other_shards": [str(p.relative_to(out)) for p in others]}

    def save() -> None:
        manifest["jobs"] = [entries[k] for k in sorted(entries)]
        manifest["rows"] = sum(e["rows"] for e in manifest["jobs"])
        write_json_atomic(reports / MANIFEST, manifest)

    save()
    todo = [job for job, check in zip(jobs, checks) if check.status != "keep"]
    progress.update(jobs=len(jobs) - len(todo), force=True)  # the 0/N line, before the first job ends
    futures = {render_job.submit(job, str(out), timeout_s, retries): job for job in todo}
    failures = []
    for future in as_completed(list(futures)):
        job = futures[future]
        try:
            entries[job.job_id] = future.result()
        except Exception as err:  # keep going: the other jobs' shards still count
            failures.append(err)
            entries[job.job_id] = _entry(job, out, "failed", error=str(err).strip().splitlines()[-1][:500])
            logger.info("%s", err)  # the run ends with it (the command prints one line)
            save()
            progress.update(jobs=1)
            continue
        save()
        progress.update(jobs=1, images=entries[job.job_id]["rows"] if entries[job.job_id]["status"] == "rendered" else 0)
    manifest["elapsed_s"] = round(time.monotonic() - progress.started, 3)
    manifest["images_per_s"] = round(progress.images / max(manifest["elapsed_s"], 1e-9), 3)
    manifest["failed"] = [str(err) for err in failures]
    save()
    if failures:
        raise job_failures(failures, len(jobs))
    from renderers.summary import write_summary

    summary = write_summary(out)
    create_markdown_artifact(key="render-summary", markdown=summary["markdown"],
                             description=f"render run {out}")
    return str(out)


def job_failures(failures: list[Exception], total: int) -> Exception:
    """The error a run with failed jobs ends with: the first job's bad-input line (a ``ValueError``,
    one line) when a job refused its input, else a RuntimeError with the first worker's output."""
    others = (f" ({len(failures) - 1} other job(s) failed too; see manifest.json in the run's _reports folder)"
              if len(failures) > 1 else "")
    refused = [err for err in failures if isinstance(err, JobInputError)]
    if refused:
        return ValueError(f"{refused[0]}{others}")
    return RuntimeError(f"{len(failures)} of {total} render jobs failed; re-run to retry only those. "
                        f"First error:\n{failures[0]}")


@contextmanager
def shared_prefect_api(runner: RunnerConfig) -> Iterator[dict[str, str]]:
    """Env for a runner's worker processes so their task runs report to this flow's Prefect API.

    Without a configured ``PREFECT_API_URL`` Prefect runs an ephemeral server inside the flow's
    process, and each worker process (a Dask LocalCluster's) would start its own (slow, and they
    time out on a loaded machine). So for a runner that starts worker processes we start the
    ephemeral server up front and point both the flow and the workers at it. A command of the
    CLI has started it already (``flows.prefect_server``: ``PREFECT_API_URL`` is set), so its URL is
    passed on. Workers of an existing cluster (``runner.address``) need ``PREFECT_API_URL`` set where
    they run."""
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


def render_flow(cfg: RenderConfig, runner: RunnerConfig | Mapping[str, Any] | None = None,
                overwrite: bool = False) -> Path:
    """Render ``cfg`` into ``cfg.out_dir`` (shards; manifest, summary and contact sheet in its reports folder) on
    ``runner`` (a runner config or its ``{"kind": ...}`` mapping; None = ``local``); returns the
    dataset directory. Shards already there are kept when they match this run and refused
    otherwise, or re-rendered with ``overwrite`` (``renderers.resume``). Entry point of
    ``rig2sketch render``."""
    runner = runner_config(runner)
    with shared_prefect_api(runner) as worker_env:
        task_runner = runner.task_runner(worker_env)
        return Path(render_jobs_flow.with_options(task_runner=task_runner)(cfg, runner.timeout_s, runner.retries,
                                                                            overwrite, runner.parallel_jobs))


__all__ = ["render_flow"]
