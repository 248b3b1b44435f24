"""Dataset validation: every problem reported with its file and row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rig2sketch.safe_paths import name_problem
from shards import schema
from shards.checksum import ShardError, read_checksum, verify_row_group
from shards.images import decode_png
from shards.layout import dataset_files
from shards.reader import first_line, list_shards, row_to_sample, stream_row_groups
from shards.schema import schema_problems


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # None: the problem is with the whole file
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        return f"{where}: {self.message}"


def _check_schema(path: Path, actual: pa.Schema) -> list[Problem]:
    return [Problem(str(path), None, message) for message in schema_problems(actual)]


def label_problems(row: dict) -> list[str]:
    """What is wrong with a row's labels (empty: fine): bbox and area finite and the bbox inside
    the image; keypoint/joint visibility in {0, 1, 2}; points with v>0 finite and inside the image
    (points with v=0 may be NaN: a joint with no 3D position). ``row`` as ``row_to_sample`` gives
    it; ``joints`` may be absent. Shared by ``validate`` and export, so a NaN never reaches a label file.
    """
    out = []
    width, height = row["width"], row["height"]
    for name in ("keypoints", "joints"):
        if name not in row:
            continue
        pts = row[name]
        v = pts[:, 2]
        if not np.isin(v, (0.0, 1.0, 2.0)).all():
            out.append(f"{name} visibility must be 0, 1 or 2, got {sorted(set(v.tolist()) - {0.0, 1.0, 2.0})}")
        shown = v > 0
        xy = pts[shown, :2]
        outside = ~np.isfinite(xy).all(1) | (xy[:, 0] < 0) | (xy[:, 0] >= width) | (xy[:, 1] < 0) | (xy[:, 1] >= height)
        if outside.any():
            idx = np.flatnonzero(shown)[outside].tolist()
            out.append(f"{name} {idx} have v>0 but lie outside the {width}x{height} image or are NaN/inf")
    x, y, w, h = (float(t) for t in row["bbox"])
    finite = np.isfinite([x, y, w, h]).all()
    if not finite or w < 0 or h < 0 or x < 0 or y < 0 or x + w > width + 1e-3 or y + h > height + 1e-3:
        out.append(f"bbox {[x, y, w, h]} is {'not inside' if finite else 'NaN/inf, not inside'} the "
                   f"{width}x{height} image")
    if not np.isfinite(row["area"]) or row["area"] < 0:
        out.append(f"area {float(row['area'])} is not a finite, non-negative number of pixels")
    return out


def _check_row(path: Path, index: int, row: dict, folder_split: str | None = None) -> list[Problem]:
    out: list[Problem] = []

    def bad(message: str) -> None:
        out.append(Problem(str(path), index, f"sample {row.get('sample_id')!r}: {message}"))

    width, height = row["width"], row["height"]
    try:
        image = decode_png(row["image"], mode="unchanged")
    except ValueError as err:
        bad(f"image: {err}")
        image = None
    if image is not None and image.shape[:2] != (height, width):
        bad(f"image is {image.shape[1]}x{image.shape[0]} but width x height say {width}x{height}")
    for name in schema.EXTRA_IMAGE_COLUMNS:
        if row.get(name) is not None:
            try:
                extra = decode_png(row[name], mode="unchanged")
                if extra.shape[:2] != (height, width):
                    bad(f"{name} is {extra.shape[1]}x{extra.shape[0]}, image is {width}x{height}")
            except ValueError as err:
                bad(f"{name}: {err}")
    for message in label_problems(row):
        bad(message)
    if not row["sample_id"]:
        bad("empty sample_id")
    if row["split"] not in schema.SPLITS and not name_problem(row["split"], folders=False):  # else flagged below
        bad(f"split {row['split']!r} is not one of {', '.join(schema.SPLITS)}")
    elif folder_split is not None and row["split"] != folder_split:
        bad(f"split {row['split']!r} in the {folder_split}/ folder: readers that take the split from the "
            "folder (Hugging Face datasets) would put it in the wrong split; re-render this shard")
    for name, folders in schema.NAME_COLUMNS.items():
        if (name != "style" or row[name]) and (problem := name_problem(row[name], folders=folders)):
            bad(f"{name} {problem}; it may become a path on export, re-render with a plain name")
    return out



def _check_integrity(path: Path, parquet: pq.ParquetFile) -> tuple[dict | None, list[Problem]]:
    """The stored checksum after the footer checks (None: none to check rows against) and the problems."""
    try:
        stored = read_checksum(parquet, path)
    except ShardError as err:
        return None, [Problem(str(path), None, f"{err.problem}; re-render this shard")]
    if stored is None:
        return None, [Problem(str(path), None, "no content checksum (written before checksums existed or by another "
                                               "tool), so damage cannot be detected; re-render this shard")]
    return stored, []


def validate_dataset(paths, *, max_problems: int = 1000) -> list[Problem]:
    """Check every shard of a dataset; returns the problems found (empty: the dataset is clean).

    Checks: each file opens as Parquet; schema v2 columns, types and version; the content
    checksum (``shards.checksum``: footer, then every column of every row group); images (and
    extra image columns) decode at the stated size; keypoint/joint visibility in {0,1,2} and
    points with v>0 inside the image; bbox inside the image; sample_ids unique across all shards;
    split is train, val or test and the one its split folder names (``shards.layout``); split,
    character, motion and style are allowed names (``rig2sketch.safe_paths``), never paths; one
    config (``config_hash`` and stage) across the dataset's shards.
    """
    problems: list[Problem] = []
    seen: dict[str, tuple[str, int]] = {}
    configs: dict[tuple[str, str], list[str]] = {}
    try:
        files = list_shards(paths)
    except FileNotFoundError as err:
        return [Problem(str(paths), None, str(err))]
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    folder_split = {p: split for item in items if Path(item).is_dir() for p, split in dataset_files(item)}
    for path in files:
        try:
            parquet = pq.ParquetFile(path)
        except Exception as err:  # pyarrow raises several types for damaged files
            problems.append(Problem(str(path), None, f"not a readable Parquet file ({first_line(err)}); re-render this shard"))
            continue
        file_problems = _check_schema(path, parquet.schema_arrow)
        problems.extend(file_problems)
        if file_problems:
            continue
        stored, file_problems = _check_integrity(path, parquet)
        problems.extend(file_problems)
        meta = parquet.schema_arrow.metadata or {}
        # a render job's own config_hash adds its splits; run_config_hash is the run's (one per dataset)
        digest_key = "run_config_hash" if b"rig2sketch.run_config_hash" in meta else "config_hash"
        config = tuple(meta.get(f"rig2sketch.{k}".encode(), b"").decode(errors="replace") for k in ("stage", digest_key))
        configs.setdefault(config, []).append(f"{folder_split[path]}/{path.name}" if folder_split.get(path) else path.name)
        index = 0
        try:
            for group, table in stream_row_groups(parquet):
                if not file_problems:
                    try:
                        verify_row_group(path, stored, group, table)
                    except ShardError as err:
                        problems.append(Problem(str(path), None, f"{err.problem}; re-render this shard"))
                        file_problems.append(problems[-1])
                for row in table.to_pylist():
                    try:
                        row = row_to_sample(row, decode_images=False)
                        problems.extend(_check_row(path, index, row, folder_split.get(path)))
                    except Exception as err:  # values no stage writes (a damaged or foreign shard)
                        problems.append(Problem(str(path), index, f"row cannot be checked ({first_line(err)})"))
                    sid = row["sample_id"]
                    if sid in seen:
                        first = seen[sid]
                        problems.append(Problem(str(path), index, f"sample_id {sid!r} duplicates {first[0]} row {first[1]}"))
                    else:
                        seen[sid] = (str(path), index)
                    index += 1
                    if len(problems) >= max_problems:
                        return problems
        except Exception as err:  # a damaged page: decompression, thrift, a stream that ends early, ...
            problems.append(Problem(str(path), index, f"cannot read rows from here on ({first_line(err)}); "
                                                      "re-render this shard"))
    if len(configs) > 1:
        parts = [f"{len(names)} shard(s) with stage {stage or '?'!r} config_hash {digest or '?'!r} ({', '.join(names[:3])}"
                 f"{', ...' if len(names) > 3 else ''})" for (stage, digest), names in sorted(configs.items())]
        problems.append(Problem(str(paths), None, f"the dataset mixes {len(configs)} configs: {'; '.join(parts)}; "
                                                  "keep one config per folder (re-render the odd shards)"))
    return problems


@dataclass
class ValidateConfig:
    """``rig2sketch validate dataset=DIR``: check every shard under DIR."""

    dataset: str
    max_problems: int = 1000


def validate_command(cfg: ValidateConfig) -> int:
    """Print each problem (file and row) and a verdict; 0 only when the dataset is clean, 1 when it
    has problems. A path with no shards raises FileNotFoundError (the command's exit code 2)."""
    from shards.reader import count_rows

    list_shards(cfg.dataset)  # no dataset there: FileNotFoundError (a wrong path, not a broken dataset)
    problems = validate_dataset(cfg.dataset, max_problems=cfg.max_problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"INVALID: {len(problems)} problem(s) in {cfg.dataset}")
        return 1
    print(f"OK: {count_rows(cfg.dataset)} rows in {len(list_shards(cfg.dataset))} shard(s) under {cfg.dataset}")
    return 0
