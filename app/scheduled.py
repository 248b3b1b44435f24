"""The scheduled pipeline run that ``rig2sketch serve`` deploys: Hydra composes the pipeline's
config from the schedule's overrides when the run starts (so a config edited after ``serve``
started is picked up), then the pipeline flow runs on the typed config."""

from __future__ import annotations

from prefect import flow

from flows.serve import DEPLOYMENT_FLOW, ServeConfig, serve_deployments


@flow(name=DEPLOYMENT_FLOW, log_prints=True)
def scheduled_pipeline(overrides: list[str]) -> str:
    """The deployment's entry: compose the pipeline config at run time, then run the pipeline."""
    from app.cli import compose
    from flows.pipeline import pipeline_flow

    return str(pipeline_flow(compose("pipeline", overrides)))


def serve_command(cfg: ServeConfig) -> int:
    """``rig2sketch serve``: register (and serve) one deployment of :func:`scheduled_pipeline` per schedule."""
    return serve_deployments(cfg, scheduled_pipeline)
