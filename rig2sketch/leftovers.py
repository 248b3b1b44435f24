"""Leftovers of killed runs: hidden temp files beside outputs and scratch folders, found and removed.

Every temporary name carries the id of the process that owns it:

- hidden temp files and folders beside an output, ``.NAME.PID.tmp`` or ``.NAME.PID.tmp.SUFFIX``
  (``ShardWriter``, ``rig2sketch.atomic``, export folders);
- scratch folders ``rig2sketch-KIND-PID-XXXXXXXX`` in the system temp folder and ``/dev/shm``
  (a render job's spec folder, a worker's pass files).

An exception removes them on the way out; a process killed outright (``kill -9``, a worker
past its timeout, a lost machine) cannot, so the next run removes those whose owning process is
gone. A name whose process id is alive is left alone, whoever runs under that id now; names
without an id (made before this module) are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

TEMP_NAME = re.compile(r"^\..+\.(\d+)\.tmp(\.[^.]+)?$")
SCRATCH_NAME = re.compile(r"^rig2sketch-[a-z]+-(\d+)-[a-z0-9_]+$")
SHM = Path("/dev/shm")


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (a zombie counts: its parent has not reaped it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _stale(folder: Path, pattern: re.Pattern) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError:  # not there, not readable: nothing of ours to remove
        return []
    return [p for p in entries if (m := pattern.match(p.name)) and not pid_alive(int(m.group(1)))]


def remove_stale_temp_files(folder: str | Path) -> list[Path]:
    """Remove the hidden ``.NAME.PID.tmp[.SUFFIX]`` files and folders in ``folder`` whose process
    is gone; returns what was removed."""
    stale = _stale(Path(folder), TEMP_NAME)
    for path in stale:
        _remove(path)
    return stale


def scratch_roots() -> list[Path]:
    """Where scratch folders go: the system temp folder and, where the OS has one, ``/dev/shm``."""
    roots = [Path(tempfile.gettempdir())]
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        roots.append(SHM)
    return roots


def scratch_dir(kind: str, in_ram: bool = False) -> tempfile.TemporaryDirectory:
    """A private scratch folder ``rig2sketch-KIND-PID-XXXX`` (removed when the ``with`` ends), in
    ``/dev/shm`` when ``in_ram`` and the OS has one, else in the system temp folder."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"scratch kind {kind!r} must be lower-case letters")
    roots = scratch_roots()
    where = roots[-1] if in_ram else roots[0]
    return tempfile.TemporaryDirectory(prefix=f"rig2sketch-{kind}-{os.getpid()}-", dir=str(where))


def remove_stale_scratch(roots: list[Path] | None = None) -> list[Path]:
    """Remove scratch folders (``scratch_dir``) whose process is gone; returns what was removed."""
    stale = [p for root in (roots if roots is not None else scratch_roots()) for p in _stale(root, SCRATCH_NAME)]
    for path in stale:
        _remove(path)
    return stale
