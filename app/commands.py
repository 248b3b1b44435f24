"""Command schemas that wrap a stage config with the run-level keys every command shares.

``rig2sketch render renderer=seed renderer.width=512 runner=dask out=runs/x seed=3``: ``out`` and
``seed`` are top-level for every command (``runner`` for those that render); the stage's own config sits under its group name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from flows.runners.registry import runner_config

from renderers.config import RenderConfig
from rig2sketch.atomic import writable_dir
from rig2sketch.registry import resolve_ref
from stylizers.config import stylizer_config, stylizer_trainer, typed_config


@dataclass
class RenderCommand:
    """``overwrite``: re-render shards in ``out`` made by another run (another config, seed or
    input file) instead of refusing them (``renderers.resume``)."""

    out: str = "runs/render"
    seed: int = 0
    renderer: RenderConfig = field(default_factory=RenderConfig)
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})  # configs/runner/<kind>.yaml
    overwrite: bool = False

    def __post_init__(self) -> None:
        self.renderer.in_run(self.out, self.seed)  # refuses renderer.out_dir / renderer.seed
        runner_config(self.runner)  # an unknown kind or setting fails before any work


def preflight_render(cfg: RenderConfig, overwrite: bool, workers: int = 1) -> None:
    """What a render run can know before Prefect starts: ``out`` is writable, every character and
    motion resolves (names, files and their headers), and shards already there belong to this run
    (footers only; the flow checks their values). Raises ValueError/OSError with one line."""
    from renderers.plan import plan_jobs
    from renderers.resume import plan_resume

    writable_dir(cfg.out_dir, "out")
    jobs = plan_jobs(cfg, workers)
    if not overwrite:
        plan_resume(jobs, cfg.out_dir, overwrite=False, full=False)


def render_command(cmd: RenderCommand) -> Path:
    cfg = cmd.renderer.in_run(cmd.out, cmd.seed)
    runner = runner_config(cmd.runner)
    preflight_render(cfg, cmd.overwrite, runner.parallel_jobs)
    from flows.prefect_server import prefect_api_ready
    from flows.render import render_flow

    prefect_api_ready()
    return render_flow(cfg, runner, overwrite=cmd.overwrite)


@dataclass
class TrainStylizerCommand:
    """``rig2sketch train-stylizer stylizer=adain``: ``stylizer`` names the model to train;
    ``train`` holds its training recipe (``configs/train_stylizer/<stylizer>.yaml``)."""

    stylizer: Any = field(default_factory=lambda: {"name": "adain"})  # a StylizerConfig or its mapping
    train: Any = field(default_factory=dict)  # the recipe schema of the stylizer's trainer, or its mapping
    injection: str | None = None  # shorthand for train.injection (multistyle: film | add | concat | patch)

    def __post_init__(self) -> None:
        self.stylizer = stylizer_config(self.stylizer)
        schema = stylizer_trainer(self.stylizer.name).schema
        if self.injection is not None:
            if "injection" not in {f.name for f in fields(schema)}:
                raise ValueError(f"injection={self.injection}: stylizer={self.stylizer.name} has no injection "
                                 "choice; use stylizer=multistyle")
            self.train = {**self.train, "injection": self.injection}
        self.train = typed_config(schema, self.train, "train")


def train_stylizer_command(cmd: TrainStylizerCommand) -> Path:
    entry = resolve_ref(stylizer_trainer(cmd.stylizer.name).entry)
    if getattr(cmd.train, "pose_weight", 0) > 0:  # multistyle's figure-keeping term: the pose network it reads with
        from evaluation.fidelity import figure_reader

        return entry(cmd.train, figure_reader=figure_reader(cmd.train.pose_model))
    return entry(cmd.train)
