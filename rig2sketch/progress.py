"""A live terminal line for long runs: stage, jobs, images, images/s, ETA."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


@dataclass
class StageProgress:
    """Counts jobs and images of one stage and renders a status line.

    ``update`` redraws the line in place on a terminal (``\\r``) and prints a plain line per
    update otherwise (logs, CI), at most every ``min_interval_s``; ``update(force=True)`` right
    after creating it prints the ``0/N`` line, so a stage is never silent until its first job ends.
    ``unit`` names what ``jobs`` counts (render jobs, shards, rows, ...).
    """

    stage: str
    total_jobs: int
    unit: str = "jobs"
    jobs: int = 0
    images: int = 0
    started: float = field(default_factory=time.monotonic)
    min_interval_s: float = 1.0
    stream: object = None
    _last: float = 0.0

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.images / elapsed if elapsed > 0 else 0.0
        eta = elapsed / self.jobs * (self.total_jobs - self.jobs) if self.jobs else float("nan")
        eta_text = _duration(eta) if self.jobs else "?"
        return (f"[{self.stage}] {self.unit} {self.jobs}/{self.total_jobs} | images {self.images} | "
                f"{rate:.2f} img/s | elapsed {_duration(elapsed)} | ETA {eta_text}")

    def update(self, jobs: int = 0, images: int = 0, *, force: bool = False) -> None:
        self.jobs += jobs
        self.images += images
        now = time.monotonic()
        if not force and now - self._last < self.min_interval_s and self.jobs < self.total_jobs:
            return
        self._last = now
        stream = self.stream or sys.stderr
        if getattr(stream, "isatty", lambda: False)():
            stream.write("\r" + self.line().ljust(100) + ("\n" if self.jobs >= self.total_jobs else ""))
        else:
            stream.write(self.line() + "\n")
        stream.flush()
