"""The one way rig2sketch runs bpy: a fresh ``python -m <module>`` process per job (Blender
state never outlives a job, and bpy never enters the caller's process or Prefect's threads).

:func:`run_worker` runs any worker module (render jobs, character-sheet rows) with the project
on ``PYTHONPATH``, a timeout and retries; :func:`run_job_process` is the render job on top of it,
skipped when its shards are already there and match (``renderers.resume``).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from renderers.job import INPUT_ERROR_EXIT, RenderJob
from renderers.resume import check_shard
from rig2sketch import leftovers
from rig2sketch.paths import REPO_ROOT


class JobInputError(ValueError):
    """A worker refused its input (one line from its stderr, naming the job, the input and the fix)."""


def run_worker(module: str, args: list[str], what: str, timeout_s: float | None = None,
               retries: int = 0) -> tuple[str, int, float]:
    """Run ``python -m module *args`` from the repository root until it exits 0, at most
    ``retries + 1`` times, each attempt killed after ``timeout_s`` (None: no limit).

    Returns (stdout, attempt number, seconds of that attempt). Raises RuntimeError naming
    ``what`` with each failed attempt's last output lines, or :class:`JobInputError` (no retry)
    when the worker exits ``INPUT_ERROR_EXIT``: bad input that another attempt would not fix."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    errors = []
    for attempt in range(1, retries + 2):
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env,
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:  # the worker was killed: its scratch folder stays behind
            leftovers.remove_stale_scratch()
            errors.append(f"attempt {attempt}: timed out after {timeout_s:.0f} s")
            continue
        if done.returncode == 0:
            return done.stdout, attempt, time.perf_counter() - started
        if done.returncode < 0:  # killed by a signal (out of memory, ...): nothing removed its scratch
            leftovers.remove_stale_scratch()
        if done.returncode == INPUT_ERROR_EXIT and (done.stderr or "").strip():
            raise JobInputError(done.stderr.strip().splitlines()[-1])
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        errors.append(f"attempt {attempt}: exit {done.returncode}\n{tail}")
    raise RuntimeError(f"{what} failed {len(errors)} time(s):\n" + "\n".join(errors))


def stale_shards(job: RenderJob, dataset: Path) -> list[Path]:
    """Shards of ``job`` under ``dataset`` that it no longer writes: another split's folder (the split
    assignment changed) or the dataset folder itself (the layout before split folders)."""
    from renderers.job import shard_paths
    from shards import SPLITS

    keep = set(shard_paths(job, dataset).values())
    candidates = [dataset / f"{job.job_id}.parquet", *(dataset / s / f"{job.job_id}.parquet" for s in SPLITS)]
    return [p for p in candidates if p.exists() and p not in keep]


def job_entry(job: RenderJob, dataset: Path) -> dict[str, Any]:
    """The manifest fields of ``job`` (``shards``: paths relative to ``dataset``)."""
    from renderers.job import shard_paths

    return {"job_id": job.job_id, "character": job.character_name, "motion": job.motion_name,
            "shards": [str(p.relative_to(dataset)) for p in shard_paths(job, Path(dataset)).values()],
            "splits": job.split_names(), "seed": job.seed}


def run_job_process(job: RenderJob, dataset: Path, timeout_s: float, retries: int) -> dict[str, Any]:
    """Render ``job`` into its shards under ``dataset`` in a fresh process; skipped when every shard
    there was made by exactly this job and validates (``renderers.resume.check_shard``), replaced
    otherwise (the flow refuses a differing shard before this runs unless the run says
    ``overwrite``); the job's shards of an earlier split assignment are removed first.

    Returns a manifest entry (``shards``: paths relative to ``dataset``). Raises RuntimeError with
    the worker's last output lines when every attempt failed or timed out."""
    dataset = Path(dataset)
    check = check_shard(job, dataset)
    entry = job_entry(job, dataset)
    if check.status == "keep":
        return {**entry, "status": "skipped", "rows": check.rows, "seconds": 0.0, "attempts": 0}
    for path in stale_shards(job, dataset):
        path.unlink()
    with leftovers.scratch_dir("job") as tmp:
        spec = Path(tmp) / "job.pkl"
        spec.write_bytes(pickle.dumps(job))
        stdout, attempt, seconds = run_worker("renderers.job", [str(spec), str(dataset)], f"render job {job.job_id}",
                                              timeout_s, retries)
    receipt = json.loads(stdout.strip().splitlines()[-1])
    return {**entry, "status": "rendered", "rows": receipt["rows"], "seconds": round(seconds, 3), "attempts": attempt}
