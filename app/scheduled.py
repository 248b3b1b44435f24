"""The scheduled pipeline run that ``rig2sketch serve`` deploys: Hydra composes the pipeline's
config from the schedule's overrides when the run starts (so a config edited after ``serve``
started is picked up), then the pipeline flow runs on the typed config.

Each schedule's overrides are also composed once at registration, so a typo fails now, on the
command line, and not at 3 a.m. in the first scheduled run."""

from __future__ import annotations

import re

from prefect import flow

from flows.serve import DEPLOYMENT_FLOW, ServeConfig, serve_deployments


@flow(name=DEPLOYMENT_FLOW, log_prints=True)
def scheduled_pipeline(overrides: list[str]) -> str:
    """The deployment's entry: compose the pipeline config at run time, then run the pipeline."""
    from app.cli import compose
    from flows.pipeline import pipeline_flow

    return str(pipeline_flow(compose("pipeline", overrides)))


def check_schedule_overrides(cfg: ServeConfig) -> None:
    """Compose the pipeline config of every schedule; raise ``ValueError`` (one line naming the
    schedule and the offending key) on the first that does not compose."""
    from app.cli import ConfigError, compose

    for schedule in cfg.schedules:
        try:
            compose("pipeline", schedule.overrides)
        except ConfigError as err:
            raise ValueError(
                f"schedule {schedule.name!r}: overrides {list(schedule.overrides)} do not compose: {_one_line(str(err))}"
            ) from err


def _one_line(message: str) -> str:
    """Hydra's multi-line explanation folded into one line, without its search-path and
    ``+key=`` append advice (a schedule's key is a typo, not something to append)."""
    message = message.split("Config search path:")[0]
    message = re.sub(r":\s*\n((?:\t[^\n]*\n?)+)", lambda m: ": " + ", ".join(m.group(1).split()), message)
    lines = [line.strip() for line in message.splitlines()]
    noise = ("To append", "full_key:", "reference_type=", "object_type=")
    return "; ".join(line for line in lines if line and not line.startswith(noise))


def serve_command(cfg: ServeConfig) -> int:
    """``rig2sketch serve``: check every schedule's overrides, then register (and serve) one
    deployment of :func:`scheduled_pipeline` per schedule."""
    check_schedule_overrides(cfg)
    return serve_deployments(cfg, scheduled_pipeline)
