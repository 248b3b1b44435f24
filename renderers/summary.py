"""Per-run render summary: a contact sheet with keypoints drawn, and counts as JSON + Markdown.

Contact sheet: up to ``max_images`` renders taken evenly across the dataset's shards, each with
its COCO skeleton drawn (character's left in red-orange, right in blue, centre in green; filled
dots visible, rings occluded, v=0 not drawn) and its sample id underneath.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rig2sketch.skeleton import COCO_KEYPOINTS, COCO_SKELETON

LEFT_BGR, RIGHT_BGR, CENTRE_BGR = (0, 90, 230), (220, 90, 0), (0, 160, 0)


def _colour(name: str) -> tuple[int, int, int]:
    return LEFT_BGR if name.startswith("left_") else RIGHT_BGR if name.startswith("right_") else CENTRE_BGR


def draw_keypoints(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """``H, W, 3`` BGR copy of an RGB or grey image with ``17, 3`` COCO keypoints drawn."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    radius = max(2, round(min(canvas.shape[:2]) / 80))
    for a, b in COCO_SKELETON:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            pa = tuple(int(round(c)) for c in keypoints[a, :2])
            pb = tuple(int(round(c)) for c in keypoints[b, :2])
            cv2.line(canvas, pa, pb, _colour(COCO_KEYPOINTS[b]), 1, cv2.LINE_AA)
    for name, (x, y, v) in zip(COCO_KEYPOINTS, keypoints):
        if v > 0:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius, _colour(name),
                       -1 if v == 2 else 1, cv2.LINE_AA)
    return canvas


def contact_sheet(dataset: Path, max_images: int = 24, columns: int = 6, tile: int = 192) -> np.ndarray:
    """``H, W, 3`` BGR grid of renders from ``dataset`` with keypoints drawn."""
    from shards import count_rows, iter_samples, list_shards

    shards = list_shards(dataset)
    total = count_rows(shards)
    if total == 0:
        raise ValueError(f"no rows under {dataset}: nothing to put on a contact sheet")
    wanted = set(np.linspace(0, total - 1, min(max_images, total)).round().astype(int).tolist())
    tiles = []
    for index, sample in enumerate(iter_samples(shards, decode_images=True)):
        if index not in wanted:
            continue
        drawn = draw_keypoints(sample["image"], sample["keypoints"])
        scale = tile / max(drawn.shape[:2])
        drawn = cv2.resize(drawn, (round(drawn.shape[1] * scale), round(drawn.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        cell = np.full((tile + 14, tile, 3), 255, np.uint8)
        cell[: drawn.shape[0], : drawn.shape[1]] = drawn
        cv2.putText(cell, sample["sample_id"][-30:], (2, tile + 10), cv2.FONT_HERSHEY_PLAIN, 0.7,
                    (60, 60, 60), 1, cv2.LINE_AA)
        tiles.append(cell)
    while len(tiles) % columns:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i: i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def _markdown(counts: dict[str, Any]) -> str:
    lines = [f"# Render summary\n\n{counts['rows']} images in {counts['shards']} shards "
             f"({counts['bytes'] / 1e6:.1f} MB)\n"]
    for key in ("character", "motion", "camera"):
        lines.append(f"**{key}s** ({len(counts['counts'][key])}): "
                     + ", ".join(f"{k} {v}" for k, v in counts["counts"][key].items()) + "\n")
    lines.append("\n| keypoint | v=0 | v=1 | v=2 |\n|---|---|---|---|")
    for name, row in counts["visibility"].items():
        lines.append(f"| {name} | {row['v0']} | {row['v1']} | {row['v2']} |")
    return "\n".join(lines) + "\n"


def write_summary(dataset: Path) -> dict[str, Any]:
    """Write ``_summary.json``, ``_summary.md`` and ``_contact_sheet.png`` into ``dataset``.
    Returns the summary dict (with a ``markdown`` key)."""
    from shards.summary import summarize

    dataset = Path(dataset)
    counts = summarize(dataset).to_json()
    counts["markdown"] = _markdown(counts)
    for name, text in (("_summary.json", json.dumps(counts, indent=2, sort_keys=True)),
                       ("_summary.md", counts["markdown"])):
        tmp = dataset / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, dataset / name)
    ok, png = cv2.imencode(".png", contact_sheet(dataset))
    tmp = dataset / "._contact_sheet.png.tmp"
    tmp.write_bytes(png.tobytes())
    os.replace(tmp, dataset / "_contact_sheet.png")
    return counts
