"""The one way rig2sketch runs bpy: a fresh ``python -m <module>`` process per job (Blender
state never outlives a job, and bpy never enters the caller's process or Prefect's threads).

:func:`run_worker` runs any worker module (render jobs, character-sheet rows) with the project
on ``PYTHONPATH``, a timeout and retries; :func:`run_job_process` is the render job on top of it,
skipped when its shards are already complete.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from renderers.job import RenderJob
from rig2sketch.paths import REPO_ROOT


def run_worker(module: str, args: list[str], what: str, timeout_s: float | None = None,
               retries: int = 0) -> tuple[str, int, float]:
    """Run ``python -m module *args`` from the repository root until it exits 0, at most
    ``retries + 1`` times, each attempt killed after ``timeout_s`` (None: no limit).

    Returns (stdout, attempt number, seconds of that attempt). Raises RuntimeError naming
    ``what`` with each failed attempt's last output lines."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    errors = []
    for attempt in range(1, retries + 2):
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            errors.append(f"attempt {attempt}: timed out after {timeout_s:.0f} s")
            continue
        if done.returncode == 0:
            return done.stdout, attempt, time.perf_counter() - started
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        errors.append(f"attempt {attempt}: exit {done.returncode}\n{tail}")
    raise RuntimeError(f"{what} failed {len(errors)} time(s):\n" + "\n".join(errors))


def shard_is_complete(job: RenderJob, dataset: Path) -> int | None:
    """Rows of the job's existing shards under ``dataset`` (one per split it writes) when every one
    was made by exactly this job (same config hash and seed) and validates; None when the job must
    (re)run."""
    from renderers.job import shard_paths
    from shards import count_rows, shard_metadata, validate_dataset

    paths = list(shard_paths(job, dataset).values())
    if not all(p.exists() for p in paths):
        return None
    try:
        metas = [shard_metadata(p) for p in paths]
    except Exception:  # unreadable file: re-render it
        return None
    if any(m.get("config_hash") != job.config_hash or m.get("seed") != job.seed for m in metas):
        return None
    if validate_dataset(paths):
        return None
    return count_rows(paths)


def stale_shards(job: RenderJob, dataset: Path) -> list[Path]:
    """Shards of ``job`` under ``dataset`` that it no longer writes: another split's folder (the split
    assignment changed) or the dataset folder itself (the layout before split folders)."""
    from renderers.job import shard_paths
    from shards import SPLITS

    keep = set(shard_paths(job, dataset).values())
    candidates = [dataset / f"{job.job_id}.parquet", *(dataset / s / f"{job.job_id}.parquet" for s in SPLITS)]
    return [p for p in candidates if p.exists() and p not in keep]


def run_job_process(job: RenderJob, dataset: Path, timeout_s: float, retries: int) -> dict[str, Any]:
    """Render ``job`` into its shards under ``dataset`` in a fresh process (skipped when already
    complete); the job's shards of an earlier split assignment are removed first.

    Returns a manifest entry (``shards``: paths relative to ``dataset``). Raises RuntimeError with
    the worker's last output lines when every attempt failed or timed out."""
    from renderers.job import shard_paths

    dataset = Path(dataset)
    rows = shard_is_complete(job, dataset)
    entry = {"job_id": job.job_id, "character": job.character_name, "motion": job.motion_name,
             "shards": [str(p.relative_to(dataset)) for p in shard_paths(job, dataset).values()],
             "splits": job.split_names(), "seed": job.seed}
    if rows is not None:
        return {**entry, "status": "skipped", "rows": rows, "seconds": 0.0, "attempts": 0}
    for path in stale_shards(job, dataset):
        path.unlink()
    with tempfile.TemporaryDirectory(prefix="rig2sketch-job-") as tmp:
        spec = Path(tmp) / "job.pkl"
        spec.write_bytes(pickle.dumps(job))
        stdout, attempt, seconds = run_worker("renderers.job", [str(spec), str(dataset)], f"render job {job.job_id}",
                                              timeout_s, retries)
    receipt = json.loads(stdout.strip().splitlines()[-1])
    return {**entry, "status": "rendered", "rows": receipt["rows"], "seconds": round(seconds, 3), "attempts": attempt}
