"""Reading shards: listing, streaming rows as numpy, and a streaming torch dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow.parquet as pq

from shards import schema
from shards.images import decode_png
from shards.layout import dataset_files

PathsLike = str | Path | Iterable[str | Path]


def list_shards(paths: PathsLike) -> list[Path]:
    """Shard files of a dataset directory (its ``*.parquet`` files and those of its split folders,
    ``shards.layout``), or the files given.

    Files whose names start with ``.`` or ``_`` are not shards (temp files).
    Raises FileNotFoundError naming the path when nothing is there.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            out.extend(p for p, _ in dataset_files(item))
        elif item.is_file():
            out.append(item)
        else:
            raise FileNotFoundError(f"no dataset at {item}: expected a directory of .parquet shards or a shard file")
    if not out:
        raise FileNotFoundError(f"no .parquet shards found in {', '.join(map(str, items))}")
    return out


def shard_metadata(path: str | Path) -> dict[str, Any]:
    """The ``rig2sketch.*`` key-value metadata of a shard, JSON values decoded, prefix dropped."""
    raw = pq.read_schema(path).metadata or {}
    out = {}
    for key, value in raw.items():
        key = key.decode()
        if key.startswith("rig2sketch."):
            text = value.decode()
            try:
                out[key[len("rig2sketch."):]] = json.loads(text)
            except json.JSONDecodeError:
                out[key[len("rig2sketch."):]] = text
    return out


def row_to_sample(row: dict[str, Any], *, decode_images: bool) -> dict[str, Any]:
    """Reshape list columns to numpy (``keypoints``: 17, 3; ``joints``: 53, 3; ...), image columns to
    their PNG bytes (schema v2 stores ``{bytes, path}``; v1 stored bytes); optionally decode ``image``."""
    for name in schema.IMAGE_COLUMNS:
        if isinstance(row.get(name), dict):
            row[name] = row[name]["bytes"]
    for name, shape in schema.ARRAY_SHAPES.items():
        if name in row and row[name] is not None:
            row[name] = np.asarray(row[name], dtype=np.float32).reshape(shape)
    if decode_images and row.get("image") is not None:
        row["image"] = decode_png(row["image"])
    return row


def iter_samples(
    paths: PathsLike,
    *,
    columns: list[str] | None = None,
    decode_images: bool = True,
    batch_rows: int = 64,
) -> Iterator[dict[str, Any]]:
    """Stream rows of every shard as dicts, one record batch in memory at a time."""
    for path in list_shards(paths):
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            for row in batch.to_pylist():
                yield row_to_sample(row, decode_images=decode_images)


def count_rows(paths: PathsLike) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in list_shards(paths))
