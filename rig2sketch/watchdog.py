"""A parent-death watchdog: the helpers a rig2sketch command starts stop when it is killed.

A command starts helper processes: Prefect's temporary API server (a ``uvicorn`` child that
Prefect stops from an ``atexit`` hook), a render worker per job, Dask workers. A normal exit or
an exception stops them; ``kill -9`` or the kernel's OOM killer does not run ``atexit``, and
each helper lives on as an orphan (measured: the temporary server kept its port open after its
parent was killed). ``prctl(PR_SET_PDEATHSIG)`` would need a hook in every place that starts a
process, Prefect's included, and fires when the starting *thread* ends, so instead the command
starts this small process beside it: it notes the command's descendants every ``POLL_S``
seconds and, once the command is gone, terminates the ones still running (SIGTERM, then SIGKILL
after ``GRACE_S``). A process started less than ``POLL_S`` before the kill can be missed.

    python -m rig2sketch.watchdog PID [READY_FILE]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

POLL_S = 0.5
GRACE_S = 5.0


def watch(parent_pid: int, poll_s: float = POLL_S, grace_s: float = GRACE_S, ready: str | None = None) -> list[int]:
    """Block until process ``parent_pid`` is gone, then stop the descendants it left; returns their
    ids. ``ready``: a file written once the first look at the descendants is done."""
    import psutil

    me = os.getpid()
    try:
        parent = psutil.Process(parent_pid)
    except psutil.NoSuchProcess:
        return []
    known: dict[int, psutil.Process] = {}
    while True:
        try:
            if parent.status() == psutil.STATUS_ZOMBIE:
                break
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for child in children:
            if child.pid != me:
                known.setdefault(child.pid, child)  # the first sighting fixes its start time
        known = {pid: p for pid, p in known.items() if p.is_running()}
        if ready:
            Path(ready).write_text(" ".join(map(str, sorted(known))))
            ready = None
        time.sleep(poll_s)
    left = [p for p in known.values() if p.is_running()]  # is_running compares start times: no reused ids
    for process in left:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(left, timeout=grace_s)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return [p.pid for p in left]


def start_watchdog(pid: int | None = None, ready: str | None = None) -> subprocess.Popen | None:
    """Start the watchdog of process ``pid`` (default: this one) in its own session, so a Ctrl-C
    to the command does not stop it; None where psutil is missing. ``ready``: see :func:`watch`."""
    try:
        import psutil  # noqa: F401  (the watchdog needs it)
    except ImportError:
        return None
    from rig2sketch.paths import REPO_ROOT

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "rig2sketch.watchdog", str(pid or os.getpid()), *filter(None, [ready])],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True, close_fds=True)


if __name__ == "__main__":
    watch(int(sys.argv[1]), ready=sys.argv[2] if len(sys.argv) > 2 else None)
