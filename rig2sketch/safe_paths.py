"""Names that come from data or config, made safe before they touch the file system.

A value read from a shard (split, character, motion, style, sample id) or from a user's
``index.json`` is data, not a path: it may hold ``..``, ``/`` or an absolute path. Every place
that turns such a value into a file name goes through this module:

- :func:`name_problem` / :func:`check_name`: the allow-list for names used as one path part
  (split) and, with ``folders=True``, for ids that may name sub-folders (character, motion,
  style: ``peeps/peep_00``, blends ``a+b``); ``..``, absolute paths, back-slashes and control
  characters never pass.
- :func:`contained`: ``resolve()`` + containment check; every export write and style-bank read.
- :func:`unique_file_stem`: a file stem for a sample id, unique by construction (a short hash of
  the id is appended whenever folding changed it, so ``pen/x`` and ``pen x`` stay apart).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

# A word character (any script) first, then also . + @ = , ( ) [ ] ' & # ! ~ - and space: file stems
# such as "Walking (1)" stay names; / \ : control characters and a leading '.' never pass.
_PART = r"\w[\w.+@=,()\[\]'&#!~ -]{0,254}"
_NAME = re.compile(_PART)
_FOLDER_NAME = re.compile(rf"{_PART}(/{_PART}){{0,31}}")
_FOLD = re.compile(r"[^A-Za-z0-9._-]+")
_HASHED = re.compile(r"-[0-9a-f]{8}$")  # ids that look hashed get a hash too: no id takes another's stem


class UnsafePathError(ValueError):
    """A name or path from data or config that would leave its folder or is not an allowed name."""


def name_problem(value: object, *, folders: bool = False) -> str | None:
    """Why ``value`` is not an allowed name (None when it is).

    Allowed: a letter, digit or ``_`` (any script), then also ``. + @ = , ( ) [ ] ' & # ! ~ -``
    and space, up to 255 characters, not ending in ``.`` or space; with ``folders`` up to 32
    such parts joined by ``/``.
    """
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    pattern = _FOLDER_NAME if folders else _NAME
    if pattern.fullmatch(value) and not value.endswith((" ", ".")):
        return None
    allowed = "letters, digits, _ then also . + @ = , ( ) [ ] ' & # ! ~ - space; no leading '.'"
    if folders:
        allowed += ", parts joined by '/'"
    return f"{value!r} is not an allowed name ({allowed})"


def check_name(value: object, what: str, *, folders: bool = False, fix: str = "") -> str:
    """``value`` if it is an allowed name, else ``UnsafePathError`` naming ``what`` and the fix."""
    problem = name_problem(value, folders=folders)
    if problem is None:
        return value  # type: ignore[return-value]
    raise UnsafePathError(f"{what}: {problem}; {fix or 'rename it'}")


def contained(root: str | Path, path: str | Path, what: str, *, fix: str = "") -> Path:
    """``path`` resolved (relative paths taken under ``root``) if it lies inside ``root``.

    Raises ``UnsafePathError`` naming ``what`` otherwise (``..``, absolute paths, symlinks out).
    """
    base = Path(root).resolve()
    full = (base / path).resolve()
    if full != base and base not in full.parents:
        raise UnsafePathError(f"{what}: {str(path)!r} lies outside {base}; "
                              f"{fix or 'use a path inside that folder'}")
    return full


def unique_file_stem(sample_id: str) -> str:
    """A file stem for ``sample_id``: the id itself when it is already a safe name, else the id
    folded to ``[A-Za-z0-9._-]`` plus ``-`` and 8 hex digits of the id's SHA-256, so two ids
    never share a stem (``pen/x`` -> ``pen__x-1a2b3c4d``, ``pen x`` -> ``pen__x-5e6f7a8b``)."""
    folded = _FOLD.sub("__", sample_id).strip("_.") or "sample"
    if folded == sample_id and not _HASHED.search(sample_id):
        return folded
    return f"{folded[:150]}-{hashlib.sha256(sample_id.encode()).hexdigest()[:8]}"
