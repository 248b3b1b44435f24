"""Ultralytics YOLO pose: ``images/<split>/``, ``labels/<split>/`` with one line
``0 cx cy w h x1 y1 v1 ... x17 y17 v17`` per person (normalised to [0, 1]) and ``data.yaml`` with
``train``/``val``/``test`` naming those folders, ``kpt_shape: [17, 3]`` and ``flip_idx``.

``data.yaml`` has no ``path:``: Ultralytics then resolves the folders against the file's own folder,
so the export stays valid wherever it is moved (the export is written to a temporary folder and
renamed into place; an absolute ``path:`` named the temporary folder). Ultralytics requires ``train``
and ``val``: a dataset without val (or train) rows is refused with the fix, never given val = train."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from evaluation.config import ExportConfig
from evaluation.export import export_rows, flip_index, out_path, safe_name
from evaluation.exporters.registry import EXPORT_FORMATS
from rig2sketch.skeleton import COCO_KEYPOINTS


@EXPORT_FORMATS.register("yolo")
def write_yolo(cfg: ExportConfig, tmp: Path) -> dict[str, int]:
    """Ultralytics pose layout (``images/``, ``labels/``, ``data.yaml``) into ``tmp``; samples per split."""
    counts: dict[str, int] = defaultdict(int)
    for row in export_rows(cfg):
        split = row["split"]
        for sub in ("images", "labels"):
            out_path(tmp, sub, split).mkdir(parents=True, exist_ok=True)
        stem = safe_name(row["sample_id"])
        out_path(tmp, "images", split, f"{stem}.png").write_bytes(row["image"])
        w, h = float(row["width"]), float(row["height"])
        x, y, bw, bh = (float(t) for t in row["bbox"])
        kp = np.asarray(row["keypoints"], np.float64).reshape(17, 3)
        fields = [f"{(x + bw / 2) / w:.6f}", f"{(y + bh / 2) / h:.6f}", f"{bw / w:.6f}", f"{bh / h:.6f}"]
        for kx, ky, v in kp:
            fields += [f"{kx / w:.6f}", f"{ky / h:.6f}", str(int(v))] if v > 0 else ["0", "0", "0"]
        line = "0 " + " ".join(fields)
        out_path(tmp, "labels", split, f"{stem}.txt").write_text(line + "\n")
        counts[split] += 1
    missing = [s for s in ("train", "val") if s not in counts]
    if missing:
        raise ValueError(f"format=yolo needs train and val rows (Ultralytics trains on one and validates on the "
                         f"other); {cfg.dataset} has {dict(counts) or 'none'} in splits {cfg.splits or 'all'}: "
                         f"render with split=character|motion|camera (renderer.split) or export format=coco")
    yaml = [
        "# Ultralytics pose dataset exported by rig2sketch (folders relative to this file)",
        "train: images/train",
        "val: images/val",
        *(["test: images/test"] if "test" in counts else []),
        "kpt_shape: [17, 3]",
        f"flip_idx: {flip_index()}",
        "names:",
        "  0: person",
        f"kpt_names: {{0: [{', '.join(COCO_KEYPOINTS)}]}}",
    ]
    out_path(tmp, "data.yaml").write_text("\n".join(yaml) + "\n")
    return dict(counts)
