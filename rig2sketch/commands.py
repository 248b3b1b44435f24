"""Command schemas that wrap a stage config with the run-level keys every command shares.

``rig2sketch render renderer=seed renderer.width=512 out=runs/x seed=3``: ``out`` and ``seed``
are top-level for every command; the stage's own config sits under its group name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from renderers.config import RenderConfig


@dataclass
class RenderCommand:
    out: str = "runs/render"
    seed: int = 0
    renderer: RenderConfig = field(default_factory=RenderConfig)


def render_command(cmd: RenderCommand) -> Path:
    from flows.render import render_flow

    return render_flow(replace(cmd.renderer, out_dir=cmd.out, seed=cmd.seed))
