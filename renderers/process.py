"""The one way rig2sketch runs bpy: a fresh ``python -m <module>`` process per job (Blender
state never outlives a job, and bpy never enters the caller's process or Prefect's threads).

:func:`run_worker` runs any worker module (render jobs, character-sheet rows) with the project
on ``PYTHONPATH``, a timeout and retries; :func:`run_job_process` is the render job on top of it,
skipped when its shard is already there and matches (``renderers.resume``).
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


def run_job_process(job: RenderJob, shard: Path, timeout_s: float, retries: int) -> dict[str, Any]:
    """Render ``job`` into ``shard`` in a fresh process; skipped when the shard there was made by
    exactly this job and validates (``renderers.resume.check_shard``), replaced otherwise (the
    flow refuses a differing shard before this runs unless the run says ``overwrite``).

    Returns a manifest entry. Raises RuntimeError with the worker's last output lines when every
    attempt failed or timed out."""
    check = check_shard(job, shard)
    entry = {"job_id": job.job_id, "character": job.character_name, "motion": job.motion_name,
             "shard": shard.name, "seed": job.seed}
    if check.status == "keep":
        return {**entry, "status": "skipped", "rows": check.rows, "seconds": 0.0, "attempts": 0}
    with leftovers.scratch_dir("job") as tmp:
        spec = Path(tmp) / "job.pkl"
        spec.write_bytes(pickle.dumps(job))
        stdout, attempt, seconds = run_worker("renderers.job", [str(spec), str(shard)], f"render job {job.job_id}",
                                              timeout_s, retries)
    receipt = json.loads(stdout.strip().splitlines()[-1])
    return {**entry, "status": "rendered", "rows": receipt["rows"], "seconds": round(seconds, 3), "attempts": attempt}
