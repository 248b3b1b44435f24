"""Scheduled pipeline runs: deployments with cron schedules, served by this process.

``rig2sketch serve`` registers one deployment per configured schedule (e.g. a nightly dataset
refresh) against the Prefect API in use (``PREFECT_API_URL``: a long-lived ``prefect server
start`` or a remote server; without it Prefect's temporary local server) and, unless
``register_only``, serves them: this process then runs each scheduled flow run.

The deployed flow is passed in by the edge (``app.scheduled``): it composes the pipeline's
config from the schedule's overrides at run time, which is the command line's job, not a flow's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEPLOYMENT_FLOW = "rig2sketch-scheduled-pipeline"


@dataclass
class ScheduleConfig:
    """One deployment: ``cron`` (5 fields, in ``timezone``) runs the pipeline with ``overrides``."""

    name: str = "nightly"
    cron: str = "0 3 * * *"
    timezone: str = "UTC"
    overrides: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.cron.split()) != 5:
            raise ValueError(f"serve.schedules[].cron={self.cron!r} is not a 5-field cron expression (e.g. '0 3 * * *')")
        if not self.name:
            raise ValueError("serve.schedules[].name must be a non-empty deployment name")


@dataclass
class ServeConfig:
    schedules: list[ScheduleConfig] = field(default_factory=lambda: [ScheduleConfig()])
    register_only: bool = False

    def __post_init__(self) -> None:
        names = [s.name for s in self.schedules]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"serve.schedules needs one or more uniquely named schedules, got {names}")


def build_deployments(cfg: ServeConfig, entry: Any) -> list:
    """One deployment of the flow ``entry`` (named :data:`DEPLOYMENT_FLOW`, taking
    ``overrides: list[str]``) per schedule in ``cfg``."""
    from prefect.client.schemas.schedules import CronSchedule

    return [
        entry.to_deployment(
            name=s.name,
            schedules=[CronSchedule(cron=s.cron, timezone=s.timezone)],
            parameters={"overrides": list(s.overrides)},
            tags=["rig2sketch"],
            description=f"rig2sketch pipeline on cron '{s.cron}' ({s.timezone}) with overrides {s.overrides}",
        )
        for s in cfg.schedules
    ]


def serve_deployments(cfg: ServeConfig, entry: Any) -> int:
    """Register the deployments of ``entry``; then serve them unless ``register_only``."""
    from prefect import serve

    deployments = build_deployments(cfg, entry)
    for deployment in deployments:
        deployment_id = deployment.apply()
        print(f"registered {DEPLOYMENT_FLOW}/{deployment.name} ({deployment_id})")
    if not cfg.register_only:
        serve(*deployments)
    return 0
