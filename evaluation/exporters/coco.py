"""COCO person keypoints: ``images/<name>.png`` + ``annotations/person_keypoints_<split>.json``, one
file per split with ``info``, ``licenses``, ``images``, ``annotations`` and ``categories`` (1-based
skeleton), loadable by pycocotools. ``coco_wholebody``: the same plus each person's hands in the
COCO-WholeBody layout (``annotations/coco_wholebody_<split>.json``)."""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from evaluation.coco_eval import person_category
from evaluation.config import ExportConfig
from evaluation.export import COLUMNS, export_rows, out_path, safe_name
from evaluation.exporters.registry import EXPORT_FORMATS
from rig2sketch.skeleton import hand_keypoints
from shards.card import licence_url
from shards.schema import SCHEMA_VERSION


def coco_info(cfg: ExportConfig, split: str) -> dict:
    """The COCO ``info`` block of one split's file."""
    today = datetime.date.today()
    return {"description": f"rig2sketch person keypoints: {Path(cfg.dataset).name or cfg.dataset}, split {split}",
            "url": "", "version": f"shard schema v{SCHEMA_VERSION}", "year": today.year,
            "contributor": "rig2sketch (synthetic renders)", "date_created": today.isoformat()}


@EXPORT_FORMATS.register("coco")
def write_coco(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    """``images/<name>.png`` + ``annotations/person_keypoints_<split>.json`` into ``tmp``; samples per split."""
    return _write(cfg, tmp, "person_keypoints", COLUMNS, lambda row: {})


@EXPORT_FORMATS.register("coco_wholebody")
def write_coco_wholebody(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    """COCO-WholeBody (Jin et al. 2020) with the parts a rig gives: ``images/`` +
    ``annotations/coco_wholebody_<split>.json``. Each annotation adds ``lefthand_kpts``/``righthand_kpts``
    (21 x 3 each, ``rig2sketch.skeleton.hand_keypoints``: fingertips absent), ``*_valid`` (a hand with a
    labelled point) and ``*_box`` (its points' box, 10 % margin); feet and face are absent (``foot_kpts``
    6 x 3, ``face_kpts`` 68 x 3 zeros, ``*_valid`` false), as the rig has no such points."""
    return _write(cfg, tmp, "coco_wholebody", [*COLUMNS, "joints"], wholebody_parts)


def wholebody_parts(row: dict) -> dict:
    """The COCO-WholeBody fields of one row's annotation (hands from its ``joints``)."""
    out: dict = {"foot_kpts": [0.0] * 18, "foot_valid": False, "face_kpts": [0.0] * 204, "face_valid": False,
                 "face_box": [0.0, 0.0, 0.0, 0.0]}
    for side in ("left", "right"):
        hand = hand_keypoints(row["joints"], side).astype(np.float64)
        shown = hand[:, 2] > 0
        box = [0.0, 0.0, 0.0, 0.0]
        if shown.any():
            lo, hi = hand[shown, :2].min(0), hand[shown, :2].max(0)
            pad = 0.1 * max(hi - lo) + 1.0
            lo = np.maximum(lo - pad, 0.0)
            hi = np.minimum(hi + pad, [float(row["width"]), float(row["height"])])
            box = [float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])]
        out.update({f"{side}hand_kpts": hand.reshape(-1).tolist(), f"{side}hand_valid": bool(shown.any()),
                    f"{side}hand_box": box})
    return out


def _write(cfg: ExportConfig, tmp: Path, prefix: str, columns: list[str], extra) -> dict[str, int]:
    """The COCO writer: ``extra(row)`` adds fields to each annotation; files ``<prefix>_<split>.json``."""
    (tmp / "images").mkdir(parents=True)
    (tmp / "annotations").mkdir()
    per_split: dict[str, dict] = defaultdict(lambda: {"images": [], "annotations": [],
                                                      "categories": [person_category()]})
    licence_ids: dict[str, int] = {}  # licence name -> COCO licence id, in order of first use
    next_id = 1
    for row in export_rows(cfg, columns):
        name = safe_name(row["sample_id"]) + ".png"
        out_path(tmp, "images", name).write_bytes(row["image"])
        kp = np.asarray(row["keypoints"], np.float64).reshape(17, 3)
        kp[(kp[:, 2] == 0) & ~np.isfinite(kp).all(1)] = 0  # a v=0 point may be NaN in a shard, not in JSON
        split = per_split[row["split"]]
        licence = licence_ids.setdefault(row["licence"], len(licence_ids) + 1)
        split["images"].append({"id": next_id, "file_name": name, "width": int(row["width"]),
                                "height": int(row["height"]), "license": licence,
                                "rig2sketch_sample_id": row["sample_id"]})
        split["annotations"].append({
            "id": next_id, "image_id": next_id, "category_id": 1, "iscrowd": 0,
            "bbox": [float(t) for t in row["bbox"]], "area": float(row["area"]),
            "keypoints": kp.reshape(-1).tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()), **extra(row),
        })
        next_id += 1
    licenses = [{"id": i, "name": name, "url": licence_url(name)} for name, i in licence_ids.items()]
    for split, data in per_split.items():
        used = {image["license"] for image in data["images"]}
        data = {"info": coco_info(cfg, split), "licenses": [l for l in licenses if l["id"] in used], **data}
        out_path(tmp, "annotations", f"{prefix}_{split}.json").write_text(json.dumps(data))
    return {s: len(d["images"]) for s, d in per_split.items()}
