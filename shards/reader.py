"""Reading shards: listing, streaming rows as numpy, and a streaming torch dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shards import schema
from shards.checksum import ShardError, content_id, read_checksum, verify_row_group
from shards.images import decode_png
from shards.layout import dataset_files
from shards.schema import schema_problems

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


def open_shard(path: str | Path, columns: list[str] | None = None) -> tuple[pq.ParquetFile, dict[str, Any] | None]:
    """Open a shard and check its footer: a readable Parquet file, the v2 schema or v1 (``columns``:
    only these) and its stored content checksum (``shards.checksum.read_checksum``; None for a shard
    written before checksums). Raises :class:`ShardError` (one line naming the file) otherwise."""
    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises OSError, ArrowInvalid, ... for damaged files
        raise ShardError(path, f"not a readable Parquet file ({first_line(err)})") from None
    problems = schema_problems(parquet.schema_arrow, columns, old_ok=True)
    if problems:
        raise ShardError(path, f"not a rig2sketch v{schema.SCHEMA_VERSION} shard ({'; '.join(problems[:3])})")
    return parquet, read_checksum(parquet, path)


def first_line(err: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters) of an error from a library."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:200]}" if text else type(err).__name__


def iter_row_groups(path: str | Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """The row groups of one shard (``columns`` of them), each checked against the stored
    checksum before it is yielded. Raises :class:`ShardError` naming the file and the fix."""
    parquet, stored = open_shard(path, columns)
    groups = stream_row_groups(parquet, columns)
    index = 0
    while True:
        try:
            index, table = next(groups)
        except StopIteration:
            return
        except Exception as err:  # a damaged page: decompression, thrift, a stream that ends early, ...
            raise ShardError(path, f"rows from row group {index} on do not read ({first_line(err)})") from None
        verify_row_group(path, stored, index, table)
        yield table
        index += 1


def read_row_group(path: str | Path, index: int, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """The rows of row group ``index`` of one shard (random access, e.g. a viewer's page), checked against
    the stored checksum, as ``row_to_sample`` dicts with image columns as PNG bytes."""
    parquet, stored = open_shard(path, columns)
    try:
        table = parquet.read_row_group(index, columns=columns)
    except Exception as err:
        raise ShardError(path, f"row group {index} does not read ({first_line(err)})") from None
    verify_row_group(path, stored, index, table)
    return [row_to_sample(row, decode_images=False) for row in table.to_pylist()]


def stream_row_groups(parquet: pq.ParquetFile, columns: list[str] | None = None) -> Iterator[tuple[int, pa.Table]]:
    """(index, table) of each row group, read as one stream over the whole file (as pandas,
    polars or ``datasets`` read it: a file only a row group at a time reads is still damaged),
    one row group in memory at a time (``columns``: only these)."""
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)]
    pending: list[pa.RecordBatch] = []
    have, group = 0, 0
    while group < len(sizes) and sizes[group] == 0:
        yield group, pa.Table.from_batches([], schema=_read_schema(parquet, columns))
        group += 1
    for batch in parquet.iter_batches(batch_size=max(sizes, default=1) or 1, columns=columns):
        pending.append(batch)
        have += batch.num_rows
        while group < len(sizes) and have >= sizes[group]:
            table = pa.Table.from_batches(pending)
            yield group, table.slice(0, sizes[group])
            pending = table.slice(sizes[group]).to_batches()
            have -= sizes[group]
            group += 1
    if group < len(sizes) or have:
        raise ValueError(f"the row groups hold {sum(sizes)} rows but {sum(sizes) - sum(sizes[group:]) + have} were read")


def _read_schema(parquet: pq.ParquetFile, columns: list[str] | None) -> pa.Schema:
    schema = parquet.schema_arrow
    return schema if columns is None else pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


def shard_metadata(path: str | Path) -> dict[str, Any]:
    """The ``rig2sketch.*`` key-value metadata of a shard, JSON values decoded, prefix dropped.
    Raises :class:`ShardError` when the file is not a readable shard."""
    parquet, _ = open_shard(path, columns=[])
    raw = parquet.schema_arrow.metadata or {}
    out = {}
    for key, value in raw.items():
        key = key.decode(errors="replace")
        if key.startswith("rig2sketch."):
            text = value.decode(errors="replace")
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
    """Stream rows of every shard as dicts, one row group in memory at a time, each checked
    against the shard's content checksum before its rows are yielded (:class:`ShardError`,
    one line naming the file, when it differs or the file is damaged or foreign)."""
    for path in list_shards(paths):
        for table in iter_row_groups(path, columns):
            for batch in table.to_batches(max_chunksize=batch_rows):
                for row in batch.to_pylist():
                    try:
                        yield row_to_sample(row, decode_images=decode_images)
                    except ValueError as err:  # an image that does not decode in a shard without checksum
                        raise ShardError(path, f"sample {row.get('sample_id')!r}: {err}") from None


def shard_content_id(path: str | Path) -> str:
    """A short id of a shard's content from its footer (its stored checksum; "" for a shard
    written before checksums): equal ids, equal rows. Raises :class:`ShardError`."""
    return content_id(open_shard(path, columns=[])[1])


def count_rows(paths: PathsLike) -> int:
    """Rows of every shard, from the footers (checked against the stored checksums)."""
    return sum(open_shard(p, columns=[])[0].metadata.num_rows for p in list_shards(paths))
