"""Render flow: characters x motions -> one shard per job, in parallel, resumable.

    out_dir/
      <character>__<motion>.parquet   one shard per job (written atomically by the worker)
      _manifest.json                  jobs, shards, rows, seeds, timings (rewritten as jobs finish)
      _summary.json                   images, characters, motions, cameras, visibility histogram
      _contact_sheet.png              a grid of renders with their keypoints drawn

Each job runs as its own ``python -m renderers.job`` process (bpy never enters the flow's
process or Prefect's threads), killed after ``runner.timeout_s`` and retried ``runner.retries``
times. A job whose shard already exists, validates and carries the same config hash and seed is
skipped, so a killed run re-run renders only what is missing. Tasks run on Prefect's thread pool
(``runner.kind=local``: each thread just waits on its process) or on Dask via prefect-dask
(``runner.kind=dask``: a LocalCluster of ``runner.workers`` processes, or ``runner.address``).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from renderers.config import RenderConfig
from renderers.job import RenderJob
from rig2sketch.atomic import write_json_atomic
from rig2sketch.paths import REPO_ROOT
from rig2sketch.progress import StageProgress
from rig2sketch.seeding import derive_seed, stable_hash

MANIFEST = "_manifest.json"


def config_hash(cfg: RenderConfig) -> str:
    """Hash of everything that shapes the images and labels (not where or how jobs run)."""
    shaping = asdict(cfg)
    for key in ("out_dir", "runner", "characters", "motions"):
        shaping.pop(key)
    return stable_hash(shaping)


def _safe(name: str) -> str:
    """A file-name-safe job id part: an FBX path's stem, other characters than [A-Za-z0-9-_.] -> '-'."""
    if name.lower().endswith((".fbx", ".blend")):
        name = Path(name).stem
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "x"


def job_specs(cfg: RenderConfig) -> list[tuple[str, Any, str, Any]]:
    """(character name, character spec, motion name, motion spec) for every job.

    With the default scene loader, names resolve through ``renderers.selection`` (empty
    ``characters``: every bundled character; empty ``motions``: the default clips); a custom
    loader receives the names themselves as specs.
    """
    if cfg.scene_loader != "renderers.job:selected_scene":
        motions = cfg.motions or ["default"]
        return [(c, c, m, m) for c in cfg.characters for m in motions]
    from renderers.selection import CharacterSpec, MotionSpec, SelectionConfig, catalogue_names

    characters = [CharacterSpec.parse(c) for c in (cfg.characters or catalogue_names())]
    motions = [MotionSpec.parse(m) for m in (cfg.motions or SelectionConfig().motions)]
    return [(c.label, c, m.label, m) for c in characters for m in motions]


def plan_jobs(cfg: RenderConfig) -> list[RenderJob]:
    """One :class:`RenderJob` per (character, motion); job seeds from the run seed and job id."""
    digest = config_hash(cfg)
    jobs, seen = [], set()
    for character_name, character, motion_name, motion in job_specs(cfg):
        job_id = f"{_safe(character_name)}__{_safe(motion_name)}"
        if job_id in seen:
            raise ValueError(f"two jobs are both called {job_id!r}: give characters/motions distinct names")
        seen.add(job_id)
        jobs.append(RenderJob(job_id, character, motion, character_name, motion_name, cfg,
                              derive_seed(cfg.seed, job_id), digest))
    if not jobs:
        raise ValueError("no render jobs: renderer.characters (or renderer.motions) is empty")
    return jobs


def shard_is_complete(job: RenderJob, path: Path) -> int | None:
    """Rows of an existing shard made by exactly this job (same config hash and seed) that
    validates; None when the job must (re)run."""
    from shards import count_rows, shard_metadata, validate_dataset

    if not path.exists():
        return None
    try:
        meta = shard_metadata(path)
    except Exception:  # unreadable file: re-render it
        return None
    if meta.get("config_hash") != job.config_hash or meta.get("seed") != job.seed:
        return None
    if validate_dataset([path]):
        return None
    return count_rows([path])


def run_job_process(job: RenderJob, shard: Path, timeout_s: float, retries: int) -> dict[str, Any]:
    """Render ``job`` into ``shard`` in a fresh process (skipped when already complete).

    Returns a manifest entry. Raises RuntimeError with the worker's last output lines when every
    attempt failed or timed out."""
    rows = shard_is_complete(job, shard)
    entry = {"job_id": job.job_id, "character": job.character_name, "motion": job.motion_name,
             "shard": shard.name, "seed": job.seed}
    if rows is not None:
        return {**entry, "status": "skipped", "rows": rows, "seconds": 0.0, "attempts": 0}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    errors = []
    with tempfile.TemporaryDirectory(prefix="rig2sketch-job-") as tmp:
        spec = Path(tmp) / "job.pkl"
        spec.write_bytes(pickle.dumps(job))
        for attempt in range(1, retries + 2):
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "renderers.job", str(spec), str(shard)],
                    cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout_s,
                )
            except subprocess.TimeoutExpired:
                errors.append(f"attempt {attempt}: timed out after {timeout_s:.0f} s")
                continue
            if done.returncode == 0:
                receipt = json.loads(done.stdout.strip().splitlines()[-1])
                return {**entry, "status": "rendered", "rows": receipt["rows"],
                        "seconds": round(time.perf_counter() - started, 3), "attempts": attempt}
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            errors.append(f"attempt {attempt}: exit {done.returncode}\n{tail}")
    raise RuntimeError(f"render job {job.job_id} failed {len(errors)} time(s):\n" + "\n".join(errors))


@task(name="render-job", cache_policy=NO_CACHE)  # the shard on disk is the cache (see shard_is_complete)
def render_job(job: RenderJob, shard: str, timeout_s: float, retries: int) -> dict[str, Any]:
    return run_job_process(job, Path(shard), timeout_s, retries)


@flow(name="render")
def render_jobs_flow(cfg: RenderConfig) -> str:
    logger = get_run_logger()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(cfg)
    logger.info("render: %d jobs (%s) into %s", len(jobs), cfg.contour, out)
    progress = StageProgress("render", total_jobs=len(jobs))
    futures = [render_job.submit(job, str(out / f"{job.job_id}.parquet"), cfg.runner.timeout_s,
                                 cfg.runner.retries) for job in jobs]
    entries, failures = [], []
    manifest = {"config_hash": config_hash(cfg), "seed": cfg.seed, "contour": cfg.contour,
                "renderer": asdict(cfg), "jobs": entries}
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
        write_json_atomic(out / MANIFEST, manifest)
        progress.update(jobs=1, images=entry["rows"] if entry["status"] == "rendered" else 0)
    manifest["elapsed_s"] = round(time.monotonic() - progress.started, 3)
    manifest["images_per_s"] = round(progress.images / max(manifest["elapsed_s"], 1e-9), 3)
    manifest["failed"] = failures
    write_json_atomic(out / MANIFEST, manifest)
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(jobs)} render jobs failed; re-run to retry only those. "
                           f"First error:\n{failures[0]}")
    from renderers.summary import write_summary

    summary = write_summary(out)
    create_markdown_artifact(key="render-summary", markdown=summary["markdown"],
                             description=f"render run {out}")
    return str(out)


def task_runner(cfg: RenderConfig, worker_env: dict[str, str] | None = None):
    """Prefect task runner for ``cfg.runner``; ``worker_env`` reaches LocalCluster workers."""
    if cfg.runner.kind == "local":
        return ThreadPoolTaskRunner(max_workers=cfg.runner.workers)
    from prefect_dask import DaskTaskRunner

    if cfg.runner.address:
        return DaskTaskRunner(address=cfg.runner.address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": cfg.runner.workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None,
                                          "env": dict(worker_env or {})})


@contextmanager
def shared_prefect_api(cfg: RenderConfig) -> Iterator[dict[str, str]]:
    """Env for Dask workers so their task runs report to this flow's Prefect API.

    Without a configured ``PREFECT_API_URL`` Prefect runs an ephemeral server inside the flow's
    process, and each Dask worker process would start its own (slow, and they time out on a
    loaded machine). So for a Dask LocalCluster we start the ephemeral server up front and point
    both the flow and the workers at it. Workers of an existing cluster (``runner.address``)
    need ``PREFECT_API_URL`` set where they run."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    configured = PREFECT_API_URL.value()
    if cfg.runner.kind != "dask" or configured:
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


def render_flow(cfg: RenderConfig) -> Path:
    """Render ``cfg`` into ``cfg.out_dir`` (shards + manifest + summary + contact sheet);
    returns the dataset directory. Entry point of ``rig2sketch render``."""
    with shared_prefect_api(cfg) as worker_env:
        runner = task_runner(cfg, worker_env)
        return Path(render_jobs_flow.with_options(task_runner=runner)(cfg))


def render_command(cfg: RenderConfig) -> Path:
    """CLI entry: same as :func:`render_flow`."""
    return render_flow(cfg)


__all__ = ["render_flow", "render_command", "plan_jobs", "run_job_process", "config_hash"]
