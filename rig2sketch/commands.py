"""Command schemas that wrap a stage config with the run-level keys every command shares.

``rig2sketch render renderer=seed renderer.width=512 out=runs/x seed=3``: ``out`` and ``seed``
are top-level for every command; the stage's own config sits under its group name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from renderers.config import RenderConfig
from stylizers.config import stylizer_config, stylizer_trainer, typed_config


@dataclass
class RenderCommand:
    out: str = "runs/render"
    seed: int = 0
    renderer: RenderConfig = field(default_factory=RenderConfig)


def render_command(cmd: RenderCommand) -> Path:
    from flows.render import render_flow

    return render_flow(replace(cmd.renderer, out_dir=cmd.out, seed=cmd.seed))


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
    import importlib

    module, _, name = stylizer_trainer(cmd.stylizer.name).entry.partition(":")
    return getattr(importlib.import_module(module), name)(cmd.train)
