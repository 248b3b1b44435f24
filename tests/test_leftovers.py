"""Leftovers (issue 17): temp files and scratch folders of killed runs are found and removed by
the next run (only those whose owning process is gone), a worker killed at its timeout leaves no
scratch folder, and the helpers of a command killed with SIGKILL stop with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rig2sketch import leftovers
from rig2sketch.paths import REPO_ROOT


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_are_removed_and_live_ones_kept(tmp_path):
    dead, live = dead_pid(), os.getpid()
    stale = [tmp_path / f".a.parquet.{dead}.tmp", tmp_path / f".card.{dead}.tmp.json", tmp_path / f".coco.{dead}.tmp"]
    stale[0].write_bytes(b"half a shard")
    stale[1].write_text("{")
    stale[2].mkdir()
    (stale[2] / "images").mkdir()
    kept = [tmp_path / f".b.parquet.{live}.tmp", tmp_path / "a.parquet", tmp_path / ".hidden", tmp_path / ".x.tmp"]
    for path in kept:
        path.write_bytes(b"")
    removed = leftovers.remove_stale_temp_files(tmp_path)
    assert sorted(removed) == sorted(stale) and not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert leftovers.remove_stale_temp_files(tmp_path / "missing") == []


def test_stale_scratch_folders_are_removed_and_others_kept(tmp_path):
    dead, live = dead_pid(), os.getpid()
    stale = tmp_path / f"rig2sketch-render-{dead}-ab_c12x9"
    (stale / "passes").mkdir(parents=True)
    kept = [tmp_path / f"rig2sketch-job-{live}-zz9k1q2w", tmp_path / "rig2sketch-job-lucw475b",  # no id: older name
            tmp_path / f"other-render-{dead}-ab_c12x9"]
    for path in kept:
        path.mkdir()
    assert leftovers.remove_stale_scratch([tmp_path]) == [stale] and not stale.exists()
    assert all(p.exists() for p in kept)
    with leftovers.scratch_dir("job") as scratch:
        assert Path(scratch).name.startswith(f"rig2sketch-job-{os.getpid()}-")
        assert leftovers.SCRATCH_NAME.match(Path(scratch).name)


HANGING_WORKER = '''
import sys, time
from pathlib import Path
from rig2sketch.leftovers import scratch_dir
with scratch_dir("render", in_ram=True) as scratch:
    Path(sys.argv[1]).write_text(scratch)
    time.sleep(600)
'''


def test_a_worker_killed_at_its_timeout_leaves_no_scratch(tmp_path, monkeypatch):
    from renderers.process import run_worker

    (tmp_path / "hanging_worker.py").write_text(HANGING_WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    made = tmp_path / "scratch.txt"
    with pytest.raises(RuntimeError, match="timed out after 10 s"):
        run_worker("hanging_worker", [str(made)], "hanging worker", timeout_s=10, retries=0)
    scratch = Path(made.read_text())  # the worker made its scratch folder before it was killed
    assert scratch.name.startswith("rig2sketch-render-") and not scratch.exists()


PARENT = textwrap.dedent('''
    import subprocess, sys, time
    from rig2sketch.watchdog import start_watchdog
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    start_watchdog(ready=sys.argv[1])
    print(helper.pid, flush=True)
    time.sleep(600)
''')


def test_helpers_of_a_killed_command_stop_with_it(tmp_path):
    import psutil

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    ready = tmp_path / "watching"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(ready)], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    helper = psutil.Process(int(parent.stdout.readline()))
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert str(helper.pid) in ready.read_text().split()  # the watchdog has seen the helper
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    helper.wait(timeout=30)  # psutil.TimeoutExpired: the helper outlived its command
    assert not helper.is_running()
