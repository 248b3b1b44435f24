"""Export a rig2sketch dataset for other tools.

- ``format=coco``: ``images/<name>.png`` + ``annotations/person_keypoints_<split>.json``, one file
  per split, each with ``info``, ``licenses`` (the shards' ``licence`` metadata; each image names
  its licence id), ``images``, ``annotations`` and ``categories`` (1-based skeleton); loadable by pycocotools.
- ``format=yolo``: Ultralytics pose layout: ``images/<split>/``, ``labels/<split>/`` with one
  line ``0 cx cy w h x1 y1 v1 ... x17 y17 v17`` per person (normalised to [0, 1]) and
  ``data.yaml`` with ``train``, ``val`` (and ``test``) naming those folders relative to the
  file (no ``path:``, so the export can be moved), ``kpt_shape: [17, 3]`` and ``flip_idx``.
  Ultralytics needs a train and a val set: a dataset without both is refused.

Each format is a module of ``evaluation/exporters/`` registered in ``EXPORT_FORMATS``.

The shards need no export for Hugging Face ``datasets`` (``shards.layout``)::

    from datasets import load_dataset
    ds = load_dataset("runs/demo/raw")  # splits from the train/ val/ test/ folders
    ds["train"][0]["image"]  # a PIL image; keypoints: 51 floats, COCO-17 (x, y, v)

Writes go to a temporary folder renamed into place, so ``out`` is either complete or absent.
A progress line (``export: rows done/N``) starts before the first row is written.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from evaluation.config import ExportConfig
from evaluation.exporters.registry import EXPORT_FORMATS
from rig2sketch.atomic import writable_dir
from rig2sketch.leftovers import remove_stale_temp_files
from rig2sketch.progress import StageProgress
from rig2sketch.safe_paths import check_name, contained, unique_file_stem
from rig2sketch.skeleton import COCO_FLIP_PAIRS, COCO_KEYPOINTS
from shards import iter_samples, list_shards, shard_metadata
from shards.reader import open_shard
from shards.validate import label_problems

COLUMNS = ["sample_id", "image", "width", "height", "keypoints", "bbox", "area", "split"]


def safe_name(sample_id: str) -> str:
    """A file stem for a sample id, unique by construction (ids may contain ``/``, ``..``)."""
    return unique_file_stem(sample_id)


def out_path(tmp: Path, *parts: str) -> Path:
    """``tmp / parts`` after the containment check every export write goes through."""
    return contained(tmp, Path(*parts), "export file", fix="the shard holds a path-like name; run validate")


def flip_index() -> list[int]:
    """For each keypoint, the index of its mirror image (Ultralytics ``flip_idx``)."""
    idx = list(range(len(COCO_KEYPOINTS)))
    for a, b in COCO_FLIP_PAIRS:
        idx[a], idx[b] = b, a
    return idx


UNKNOWN_LICENCE = "unknown (see the dataset card)"


def export_rows(cfg: ExportConfig, columns: list[str] = COLUMNS):
    """The dataset's rows (``COLUMNS``, image as PNG bytes, plus ``licence``: the ``licence`` metadata of
    the row's shard) in the splits ``cfg.splits`` selects, with a progress line from ``0/N`` on.

    Refuses (``ValueError``, one line) a split that is not an allowed name before it becomes a path,
    and labels ``validate`` would flag (NaN/inf or out-of-image bbox, keypoints) before they are written.
    """
    shards = list_shards(cfg.dataset)
    for shard in shards:  # footers first: a foreign or damaged shard is named before any row is counted
        open_shard(shard, columns=columns)
    total = sum(1 for r in iter_samples(shards, columns=["split"], decode_images=False)
                if not cfg.splits or r["split"] in cfg.splits)
    progress = StageProgress("export", total_jobs=total, unit="rows")
    progress.update(force=True)
    for shard in shards:
        licence = str(shard_metadata(shard).get("licence") or UNKNOWN_LICENCE)
        for row in iter_samples([shard], columns=columns, decode_images=False):
            if cfg.splits and row["split"] not in cfg.splits:
                continue
            where = f"{cfg.dataset}: sample {row['sample_id']!r}"
            check_name(row["split"], f"{where} split", fix="run 'rig2sketch validate' and re-render or fix that shard")
            if problems := label_problems(row):
                raise ValueError(f"{where}: {'; '.join(problems)}; run 'rig2sketch validate' and re-render that shard")
            yield {**row, "licence": licence}
            progress.update(jobs=1, images=1)


def export(cfg: ExportConfig) -> dict[str, int]:
    """Write the export; returns the number of samples per split."""
    out = Path(cfg.out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"export out={out} exists and is not empty; choose a new folder or remove it")
    writable_dir(out.parent, "out's parent folder")  # the export is built beside out, then renamed
    remove_stale_temp_files(out.parent)  # half exports of killed runs
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        counts = EXPORT_FORMATS.get(cfg.format)(cfg, tmp)
        if not counts:
            raise ValueError(f"no samples in {cfg.dataset} for splits {cfg.splits or 'all'}")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except OSError as err:  # a full disk, a folder made read-only mid-export: name where it was going
        if err.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EACCES):
            raise
        reason = err.strerror or str(err).strip().splitlines()[-1]
        raise OSError(f"cannot write the export to {out}: {reason} ({err.filename or tmp}); free space or choose "
                      "another out= (nothing was written there)") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts


def export_dataset(cfg: ExportConfig) -> Path:
    """``export`` for callers that want the output folder (the pipeline's export task)."""
    export(cfg)
    return Path(cfg.out)
