"""Export a rig2sketch dataset for other tools.

- ``format=coco``: ``images/<name>.png`` + ``annotations/person_keypoints_<split>.json``
  (COCO person keypoints, 1-based skeleton in ``categories``), loadable by pycocotools.
- ``format=yolo``: Ultralytics pose layout: ``images/<split>/``, ``labels/<split>/`` with one
  line ``0 cx cy w h x1 y1 v1 ... x17 y17 v17`` per person (normalised to [0, 1]) and
  ``data.yaml`` with ``kpt_shape: [17, 3]`` and ``flip_idx``.

The shards need no export for Hugging Face ``datasets``; they are plain Parquet::

    from datasets import load_dataset
    ds = load_dataset("parquet", data_files={"train": "runs/data/contours/*.parquet"})["train"]
    ds[0]["keypoints"]  # 51 floats: COCO-17 (x, y, v), reshape to (17, 3)
    # images are PNG bytes: PIL.Image.open(io.BytesIO(ds[0]["image"]))

Writes go to a temporary folder renamed into place, so ``out`` is either complete or absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np

from evaluation.coco_eval import person_category
from evaluation.config import ExportConfig
from rig2sketch.skeleton import COCO_FLIP_PAIRS, COCO_KEYPOINTS
from shards import iter_samples

COLUMNS = ["sample_id", "image", "width", "height", "keypoints", "bbox", "area", "split"]


def safe_name(sample_id: str) -> str:
    """A file name for a sample id (ids may contain ``/``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", sample_id).strip("_") or "sample"


def flip_index() -> list[int]:
    """For each keypoint, the index of its mirror image (Ultralytics ``flip_idx``)."""
    idx = list(range(len(COCO_KEYPOINTS)))
    for a, b in COCO_FLIP_PAIRS:
        idx[a], idx[b] = b, a
    return idx


def _rows(cfg: ExportConfig):
    for row in iter_samples(cfg.dataset, columns=COLUMNS, decode_images=False):
        if cfg.splits and row["split"] not in cfg.splits:
            continue
        yield row


def _write_coco(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    (tmp / "images").mkdir(parents=True)
    (tmp / "annotations").mkdir()
    per_split: dict[str, dict] = defaultdict(lambda: {"images": [], "annotations": [],
                                                      "categories": [person_category()]})
    next_id = 1
    for row in _rows(cfg):
        name = safe_name(row["sample_id"]) + ".png"
        (tmp / "images" / name).write_bytes(row["image"])
        kp = np.asarray(row["keypoints"], np.float64).reshape(17, 3)
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
        (tmp / "annotations" / f"person_keypoints_{split}.json").write_text(json.dumps(data))
    return {s: len(d["images"]) for s, d in per_split.items()}


def _write_yolo(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in _rows(cfg):
        split = row["split"]
        for sub in ("images", "labels"):
            (tmp / sub / split).mkdir(parents=True, exist_ok=True)
        stem = safe_name(row["sample_id"])
        (tmp / "images" / split / f"{stem}.png").write_bytes(row["image"])
        w, h = float(row["width"]), float(row["height"])
        x, y, bw, bh = (float(t) for t in row["bbox"])
        kp = np.asarray(row["keypoints"], np.float64).reshape(17, 3)
        fields = [f"{(x + bw / 2) / w:.6f}", f"{(y + bh / 2) / h:.6f}", f"{bw / w:.6f}", f"{bh / h:.6f}"]
        for kx, ky, v in kp:
            fields += [f"{kx / w:.6f}", f"{ky / h:.6f}", str(int(v))] if v > 0 else ["0", "0", "0"]
        line = "0 " + " ".join(fields)
        (tmp / "labels" / split / f"{stem}.txt").write_text(line + "\n")
        counts[split] += 1
    train = "train" if "train" in counts else sorted(counts)[0]
    val = "val" if "val" in counts else ("test" if "test" in counts else train)
    yaml = [
        "# Ultralytics pose dataset exported by rig2sketch",
        f"path: {Path(cfg.out).resolve()}",
        f"train: images/{train}",
        f"val: images/{val}",
        *(["test: images/test"] if "test" in counts and val != "test" else []),
        "kpt_shape: [17, 3]",
        f"flip_idx: {flip_index()}",
        "names:",
        "  0: person",
        f"kpt_names: {{0: [{', '.join(COCO_KEYPOINTS)}]}}",
    ]
    (tmp / "data.yaml").write_text("\n".join(yaml) + "\n")
    return dict(counts)


def export(cfg: ExportConfig) -> dict[str, int]:
    """Write the export; returns the number of samples per split."""
    out = Path(cfg.out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"export out={out} exists and is not empty; choose a new folder or remove it")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        counts = _write_coco(cfg, tmp) if cfg.format == "coco" else _write_yolo(cfg, tmp)
        if not counts:
            raise ValueError(f"no samples in {cfg.dataset} for splits {cfg.splits or 'all'}")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts


def export_dataset(cfg: ExportConfig) -> Path:
    """``export`` for callers that want the output folder (the pipeline's export task)."""
    export(cfg)
    return Path(cfg.out)
