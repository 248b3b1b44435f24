"""Helpers the stylizer trainers share: the loss curve PNG and the fixed content x style sample grid."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rig2sketch.atomic import atomic_path, write_bytes_atomic


def plot_losses(log: list[dict], path: Path, title: str, ylabel: str = "λc·content + λs·style + λTV·TV") -> None:
    """Curve of ``log`` entries (``step``, optional ``loss`` = the batch, ``probe`` = the fixed batch), log y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    steps = [e["step"] for e in log]
    ax.plot(steps, [e.get("loss", float("nan")) for e in log], lw=0.8, alpha=0.6, label="batch")
    ax.plot(steps, [e["probe"] for e in log], "o-", ms=3, label="fixed probe batch")
    ax.set(xlabel="step", ylabel=ylabel, yscale="log", title=title)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


@torch.no_grad()
def write_sample_grid(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], content: torch.Tensor,
                      style: torch.Tensor, path: Path) -> None:
    """``model(content, style) -> images``, content/style ``N, 3, H, W`` in [0, 1]. Rows = content crops; columns =
    the content, then each style applied to it; top row = the styles."""
    from shards import encode_png

    n = content.shape[0]
    rows = [torch.cat([torch.ones_like(content[0]), *style], 2)]
    for i in range(n):
        outs = model(content[i:i + 1].expand(n, -1, -1, -1), style).float().clamp(0, 1)
        rows.append(torch.cat([content[i], *outs], 2))
    grid = (torch.cat(rows, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
    write_bytes_atomic(path, encode_png(grid))
