"""Counting what a dataset holds: rows by character, motion, camera, stylizer, style; visibility."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rig2sketch import skeleton
from shards.reader import PathsLike, iter_row_groups, list_shards

COUNTED = ("character", "motion", "camera", "stylizer", "style", "split")


@dataclass
class DatasetSummary:
    """Counts over every row of one or more shard directories.

    ``visibility``: ``17, 3`` int counts of v = 0, 1, 2 per COCO keypoint.
    """

    rows: int = 0
    shards: int = 0
    bytes: int = 0
    counts: dict[str, Counter] = field(default_factory=lambda: {c: Counter() for c in COUNTED})
    visibility: np.ndarray = field(default_factory=lambda: np.zeros((len(skeleton.COCO_KEYPOINTS), 3), np.int64))
    sizes: Counter = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "shards": self.shards,
            "bytes": self.bytes,
            "counts": {k: dict(sorted(v.items())) for k, v in self.counts.items()},
            "image_sizes": {f"{w}x{h}": n for (w, h), n in sorted(self.sizes.items())},
            "visibility": {
                name: {"v0": int(row[0]), "v1": int(row[1]), "v2": int(row[2])}
                for name, row in zip(skeleton.COCO_KEYPOINTS, self.visibility)
            },
        }


def summarize(paths: PathsLike) -> DatasetSummary:
    """Read only the label columns (never the images) of every shard and count them."""
    out = DatasetSummary()
    for path in list_shards(paths):
        out.shards += 1
        out.bytes += path.stat().st_size
        for batch in iter_row_groups(path, columns=[*COUNTED, "keypoints", "width", "height"]):
            cols = batch.to_pydict()
            out.rows += batch.num_rows
            for name in COUNTED:
                out.counts[name].update(cols[name])
            out.sizes.update(zip(cols["width"], cols["height"]))
            kp = np.asarray(cols["keypoints"], dtype=np.float32).reshape(-1, len(skeleton.COCO_KEYPOINTS), 3)
            v = kp[:, :, 2].astype(np.int64)
            for level in range(3):
                out.visibility[:, level] += (v == level).sum(0)
    return out
