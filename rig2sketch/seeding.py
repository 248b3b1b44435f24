"""Deterministic seeds: a job's seed comes from the run seed and the job's identity."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from typing import Any


def stable_hash(value: Any, length: int = 16) -> str:
    """Hex digest of a JSON-serialisable value (dataclasses allowed), stable across runs."""
    if is_dataclass(value):
        value = asdict(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def derive_seed(run_seed: int, *identity: Any) -> int:
    """A 63-bit seed for one unit of work, from the run seed and what identifies the work."""
    digest = hashlib.sha256(json.dumps([run_seed, *identity], default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
