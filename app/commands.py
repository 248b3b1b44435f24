"""Command schemas that wrap a stage config with the run-level keys every command shares.

``rig2sketch render renderer=seed renderer.width=512 runner=dask out=runs/x seed=3``: ``out`` and
``seed`` are top-level for every command (``runner`` for those that render); the stage's own config sits under its group name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.runners.registry import runner_config

from renderers.config import RenderConfig
from stylizers.config import AdaINConfig, TrainStylizerConfig


@dataclass
class RenderCommand:
    out: str = "runs/render"
    seed: int = 0
    renderer: RenderConfig = field(default_factory=RenderConfig)
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})  # configs/runner/<kind>.yaml

    def __post_init__(self) -> None:
        self.renderer.in_run(self.out, self.seed)  # refuses renderer.out_dir / renderer.seed
        runner_config(self.runner)  # an unknown kind or setting fails before any work


def render_command(cmd: RenderCommand) -> Path:
    from flows.render import render_flow

    return render_flow(cmd.renderer.in_run(cmd.out, cmd.seed), runner_config(cmd.runner))


@dataclass
class TrainStylizerCommand:
    """``rig2sketch train-stylizer stylizer=adain``: ``stylizer`` names the model to train;
    ``train`` holds its training recipe (``configs/train_stylizer/<stylizer>.yaml``)."""

    stylizer: AdaINConfig = field(default_factory=AdaINConfig)
    train: TrainStylizerConfig = field(default_factory=TrainStylizerConfig)

    def __post_init__(self) -> None:
        if self.stylizer.name != "adain":
            raise ValueError(f"stylizer={self.stylizer.name!r} has no trainer; train-stylizer supports: adain")


def train_stylizer_command(cmd: TrainStylizerCommand) -> Path:
    from stylizers.train import train_stylizer

    return train_stylizer(cmd.train)
