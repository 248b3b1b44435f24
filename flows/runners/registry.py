"""The runner registry and the shared base of every runner's typed config."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

from rig2sketch.registry import Registry


@dataclass
class RunnerConfig(ABC):
    """How a run's render jobs run. Each job is its own fresh Python process
    (``renderers.process``), killed after ``timeout_s`` and retried ``retries`` times; a runner
    kind decides where those waiting tasks live (:meth:`task_runner`)."""

    kind: ClassVar[str] = ""
    timeout_s: float = 1800.0
    retries: int = 1

    def __post_init__(self) -> None:
        check_option(self.timeout_s > 0, "runner.timeout_s", "a number of seconds > 0", self.timeout_s)
        check_option(0 <= self.retries <= 10, "runner.retries", "an integer in 0..10", self.retries)

    @abstractmethod
    def task_runner(self, worker_env: Mapping[str, str]) -> Any:
        """The Prefect task runner; ``worker_env`` is the environment worker processes this
        runner starts need (the Prefect API to report to)."""

    @property
    def parallel_jobs(self) -> int:
        """How many render jobs run at once (``renderer.chunks=0`` cuts a lone long job into that many parts)."""
        return int(getattr(self, "workers", 1))

    @property
    def starts_worker_processes(self) -> bool:
        """True when task runs happen in processes this runner starts (they must share the
        flow's Prefect API: see ``flows.render.shared_prefect_api``)."""
        return False


RUNNERS: Registry[type[RunnerConfig]] = Registry("runner", discover="flows.runners")


def check_option(ok: bool, key: str, expected: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{key}={value!r} is not allowed; expected {expected}")


def runner_config(spec: RunnerConfig | Mapping[str, Any] | None) -> RunnerConfig:
    """The typed config of ``spec`` (``{"kind": "dask", "workers": 4, ...}`` as composed from
    ``configs/runner/<kind>.yaml``); ``None`` = the ``local`` runner with its defaults.
    Unknown kinds and keys fail naming what is allowed."""
    if isinstance(spec, RunnerConfig):
        return spec
    options = dict(spec or {"kind": "local"})
    kind = options.pop("kind", "local")
    if kind not in RUNNERS:
        raise ValueError(f"runner.kind={kind!r} is not allowed; expected one of {', '.join(RUNNERS.names())}")
    schema = RUNNERS.get(kind)
    allowed = [f.name for f in fields(schema)]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"runner.{unknown[0]} is not a setting of runner {kind!r}; allowed: {', '.join(allowed)}")
    return schema(**options)
