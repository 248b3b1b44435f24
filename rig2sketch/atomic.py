"""Atomic file writes: write a hidden temp file beside the target, then rename it into place."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

# The process umask, read once (os.umask can only be read by setting it): finished files get the
# mode a plain open() would give them, whatever the writer chose for its temp file (safetensors'
# save_file writes 0600).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a hidden temp path beside ``path`` for any writer (``torch.save``, ``savefig``,
    ``save_file``...); on success it is renamed onto ``path``, on an exception removed.

    The temp name keeps ``path``'s suffix, so writers that pick a format by suffix still work.
    The finished file gets the usual ``0666 & ~umask`` mode.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | Path, value: Any) -> Path:
    return write_text_atomic(path, json.dumps(value, indent=1, sort_keys=True, default=str))


def writable_dir(path: str | Path, key: str) -> Path:
    """``path`` as a folder this process can write to (created with its parents), or OSError with
    one line naming the config ``key``, the path and the fix (a read-only disk, a file in the way,
    no permission): checked before a run starts, not when its first output is due."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        where = f"{key}={path}" if key.isidentifier() else f"{key} {path}"
        raise OSError(f"{where} is not a writable folder ({reason}: {err.filename or path}); "
                      f"choose another out= or fix its permissions") from None
    return path
