"""Versions of the packages that shape rig2sketch's outputs (stored in every shard)."""

from __future__ import annotations

from functools import cache
from importlib import metadata

_PACKAGES = ("rig2sketch", "bpy", "numpy", "torch", "pyarrow", "opencv-python-headless", "prefect", "anny")


@cache
def package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def source_revision() -> dict[str, object]:
    """The git commit of the rig2sketch checkout that runs (``commit``: 40 hex digits or ``unknown``
    when this is not a git checkout or git is absent) and whether tracked files differ from it
    (``modified``; None when unknown). Recorded on dataset cards so a run can be reproduced."""
    import subprocess

    from rig2sketch.paths import REPO_ROOT

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"commit": "unknown", "modified": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "modified": None if status is None else bool(status)}


# The command line that started this process, as the entry point recorded it (app.cli); None when
# rig2sketch runs from Python. Read by the dataset card (the "Reproduce" section).
_COMMAND_LINE: list[str] | None = None


def record_command_line(argv: list[str]) -> None:
    """Called once by the command-line entry point with ``["rig2sketch", COMMAND, *overrides]``."""
    global _COMMAND_LINE
    _COMMAND_LINE = list(argv)


def command_line() -> list[str] | None:
    return None if _COMMAND_LINE is None else list(_COMMAND_LINE)
