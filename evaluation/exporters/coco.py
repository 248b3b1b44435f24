"""COCO person keypoints: ``images/<name>.png`` + ``annotations/person_keypoints_<split>.json``
(1-based skeleton in ``categories``), loadable by pycocotools."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from evaluation.coco_eval import person_category
from evaluation.config import ExportConfig
from evaluation.export import export_rows, out_path, safe_name
from evaluation.exporters.registry import EXPORT_FORMATS


@EXPORT_FORMATS.register("coco")
def write_coco(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    """``images/<name>.png`` + ``annotations/person_keypoints_<split>.json`` into ``tmp``; samples per split."""
    (tmp / "images").mkdir(parents=True)
    (tmp / "annotations").mkdir()
    per_split: dict[str, dict] = defaultdict(lambda: {"images": [], "annotations": [],
                                                      "categories": [person_category()]})
    next_id = 1
    for row in export_rows(cfg):
        name = safe_name(row["sample_id"]) + ".png"
        out_path(tmp, "images", name).write_bytes(row["image"])
        kp = np.asarray(row["keypoints"], np.float64).reshape(17, 3)
        kp[(kp[:, 2] == 0) & ~np.isfinite(kp).all(1)] = 0  # a v=0 point may be NaN in a shard, not in JSON
        split = per_split[row["split"]]
        split["images"].append({"id": next_id, "file_name": name, "width": int(row["width"]),
                                "height": int(row["height"]), "rig2sketch_sample_id": row["sample_id"]})
        split["annotations"].append({
            "id": next_id, "image_id": next_id, "category_id": 1, "iscrowd": 0,
            "bbox": [float(t) for t in row["bbox"]], "area": float(row["area"]),
            "keypoints": kp.reshape(-1).tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()),
        })
        next_id += 1
    for split, data in per_split.items():
        out_path(tmp, "annotations", f"person_keypoints_{split}.json").write_text(json.dumps(data))
    return {s: len(d["images"]) for s, d in per_split.items()}
