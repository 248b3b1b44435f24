"""Per-run render summary: a contact sheet with keypoints drawn, and counts as JSON + Markdown.

Contact sheet: up to ``max_images`` renders taken evenly across the dataset's shards, each with
its COCO skeleton drawn by ``rig2sketch.drawing.draw_pose`` (character's left blue, right
orange, centre green; filled dots visible, rings occluded, v=0 not drawn) and its sample id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rig2sketch.atomic import write_bytes_atomic, write_text_atomic
from rig2sketch.drawing import draw_pose, grid


def contact_sheet(dataset: Path, max_images: int = 24, columns: int = 6, tile: int = 192) -> np.ndarray:
    """``H, W, 3`` RGB grid of renders from ``dataset`` with keypoints drawn."""
    from shards import count_rows, iter_samples, list_shards

    shards = list_shards(dataset)
    total = count_rows(shards)
    if total == 0:
        raise ValueError(f"no rows under {dataset}: nothing to put on a contact sheet")
    wanted = set(np.linspace(0, total - 1, min(max_images, total)).round().astype(int).tolist())
    tiles, labels = [], []
    for index, sample in enumerate(iter_samples(shards, decode_images=True)):
        if index in wanted:
            tiles.append(draw_pose(sample["image"], sample["keypoints"]))
            labels.append(sample["sample_id"][-34:])
    return grid(tiles, columns=min(columns, len(tiles)), cell=tile, labels=labels)


def _markdown(counts: dict[str, Any]) -> str:
    lines = [f"# Render summary\n\n{counts['rows']} images in {counts['shards']} shards "
             f"({counts['bytes'] / 1e6:.1f} MB)\n"]
    for key in ("character", "motion", "camera", "split"):
        lines.append(f"**{key}s** ({len(counts['counts'][key])}): "
                     + ", ".join(f"{k} {v}" for k, v in counts["counts"][key].items()) + "\n")
    lines.append("\n| keypoint | v=0 | v=1 | v=2 |\n|---|---|---|---|")
    for name, row in counts["visibility"].items():
        lines.append(f"| {name} | {row['v0']} | {row['v1']} | {row['v2']} |")
    return "\n".join(lines) + "\n"


def write_summary(dataset: Path) -> dict[str, Any]:
    """Write ``summary.json``, ``summary.md`` and ``contact_sheet.png`` into the dataset's reports folder
    (``shards.reports_dir``). Returns the summary dict (with a ``markdown`` key)."""
    from shards import encode_png, reports_dir
    from shards.summary import summarize

    dataset = Path(dataset)
    reports = reports_dir(dataset)
    counts = summarize(dataset).to_json()
    counts["markdown"] = _markdown(counts)
    write_text_atomic(reports / "summary.json", json.dumps(counts, indent=2, sort_keys=True))
    write_text_atomic(reports / "summary.md", counts["markdown"])
    write_bytes_atomic(reports / "contact_sheet.png", encode_png(contact_sheet(dataset)))
    return counts
