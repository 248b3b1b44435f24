"""Weight files a user names (pose checkpoints, stylizer weights): read, or refused with one line.

``safetensors`` and ``torch.load`` answer a text file, an image or a truncated download with
errors such as ``HeaderTooLarge`` or ``invalid load key, 'h'``; these readers say instead which
file is not a checkpoint of which kind, and what to pass. torch and safetensors load lazily.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any


class WeightsError(ValueError):
    """A file that is not the weights file it was given as (one line: the file, the problem, the fix)."""


def _existing(path: str | Path, what: str, fix: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist{' (it is a folder)' if path.is_dir() else ''}; {fix}")
    return path


def _safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a safetensors file (None: its header parses)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "shorter than a safetensors header"
        (length,) = struct.unpack("<Q", head)
        if length > min(path.stat().st_size - 8, 100 << 20):
            return "no safetensors header (it looks like another kind of file)"
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "its header is not JSON (corrupt or another kind of file)"
    return None if isinstance(header, dict) else "its header is not a JSON object"


def safetensors_metadata(path: str | Path, what: str, fix: str) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file; :class:`WeightsError` when it is not one."""
    from safetensors import safe_open

    path = _existing(path, what, fix)
    if problem := _safetensors_problem(path):
        raise WeightsError(f"{what} {path} is not a safetensors file ({problem}); {fix}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            return dict(handle.metadata() or {})
    except Exception as err:  # safetensors raises SafetensorError for damaged files
        raise WeightsError(f"{what} {path} is a damaged safetensors file ({_first(err)}); {fix}") from None


def read_safetensors(path: str | Path, what: str, fix: str) -> dict[str, Any]:
    """The tensors of a safetensors file; :class:`WeightsError` when it is not one or is damaged."""
    from safetensors.torch import load_file

    path = _existing(path, what, fix)
    if problem := _safetensors_problem(path):
        raise WeightsError(f"{what} {path} is not a safetensors file ({problem}); {fix}")
    try:
        return load_file(str(path))
    except Exception as err:
        raise WeightsError(f"{what} {path} is a damaged safetensors file ({_first(err)}); {fix}") from None


def read_torch(path: str | Path, what: str, fix: str) -> Any:
    """``torch.load(path, weights_only=True)`` on CPU; :class:`WeightsError` when the file is not a
    PyTorch checkpoint (a zip archive or a pickle) or does not load."""
    import torch

    path = _existing(path, what, fix)
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        kind = "text" if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head) else "another kind of file"
        raise WeightsError(f"{what} {path} is not a PyTorch checkpoint (it starts like {kind}); {fix}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated archives, pickles holding code objects, ...
        raise WeightsError(f"{what} {path} does not load as a PyTorch checkpoint ({_first(err)}); {fix}") from None


def _first(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:200]}" if lines else type(err).__name__
