"""``local``: render jobs on Prefect's thread pool, ``workers`` at a time (each thread only
waits on its job's process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flows.runners.registry import RUNNERS, RunnerConfig, check_option


@RUNNERS.register("local")
@dataclass
class LocalRunner(RunnerConfig):
    kind = "local"
    workers: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        check_option(1 <= self.workers <= 512, "runner.workers", "an integer in 1..512", self.workers)

    def task_runner(self, worker_env: Mapping[str, str]) -> Any:
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=self.workers)
