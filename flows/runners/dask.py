"""``dask``: render jobs on Dask through prefect-dask: a LocalCluster of ``workers`` processes
(one thread each), or the scheduler at ``address`` (start workers there with this repo on
their PYTHONPATH and ``PREFECT_API_URL`` set)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flows.runners.registry import RUNNERS, RunnerConfig, check_option


@RUNNERS.register("dask")
@dataclass
class DaskRunner(RunnerConfig):
    kind = "dask"
    workers: int = 2
    address: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_option(1 <= self.workers <= 512, "runner.workers", "an integer in 1..512", self.workers)

    @property
    def starts_worker_processes(self) -> bool:
        return not self.address

    def task_runner(self, worker_env: Mapping[str, str]) -> Any:
        from prefect_dask import DaskTaskRunner

        if self.address:
            return DaskTaskRunner(address=self.address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": self.workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None,
                                              "env": dict(worker_env)})
