"""Per-shard content checksums: what the writer stores, what every reader and ``validate`` check.

At write time ``ShardWriter`` digests each row group column by column (BLAKE2b, 128 bit, over a
canonical encoding of the values as Arrow gives them back: lengths, validity and the value bytes,
never Parquet's encoded pages) and the schema with its ``rig2sketch.*`` metadata. The digests go
into the Parquet footer's key-value metadata under ``rig2sketch.checksum`` when the file is closed;
``rig2sketch.integrity`` in the schema metadata says that the shard carries one. A reader that
reads some columns of a row group checks those columns' digests before it hands out a row, so a
flipped bit in a label, an image or the metadata is refused with one line naming the shard,
never trained on or exported.

A shard without both keys was written before checksums existed or by another tool: readers still
read it, ``validate`` reports that its integrity cannot be checked. One that declares a checksum
and lacks it, or whose digests differ, is damaged (:class:`ShardError`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ALGORITHM = "blake2b-128/v1"
MARKER_KEY = "rig2sketch.integrity"  # schema metadata, set when the writer opens the file
HF_KEY = "huggingface"  # schema v2: the image columns' datasets features, covered like rig2sketch.*
CHECKSUM_KEY = "rig2sketch.checksum"  # footer key-value metadata, added when the writer closes it
FIX = "re-render it ('rig2sketch validate dataset=...' lists every damaged shard)"


class ShardError(ValueError):
    """A shard file that cannot be trusted (damaged, foreign, declared checksum missing); the
    message is one line naming the file (``path``), the ``problem`` and the ``fix``."""

    def __init__(self, path: str | Path, problem: str, fix: str = FIX) -> None:
        super().__init__(f"{path}: {problem}; {fix}")
        self.path, self.problem, self.fix = str(path), problem, fix


def _digest() -> "hashlib._Hash":
    return hashlib.blake2b(digest_size=16)


def _type_name(kind: pa.DataType) -> str:
    """The type without the list item's field name (``item`` when written, ``element`` when read)."""
    if pa.types.is_fixed_size_list(kind):
        return f"fixed_size_list<{_type_name(kind.value_type)}>[{kind.list_size}]"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"{'large_' if pa.types.is_large_list(kind) else ''}list<{_type_name(kind.value_type)}>"
    return str(kind)


def _update(h, array: pa.Array) -> None:
    """Feed ``array``'s values (not its buffer layout) into ``h``: type, length, validity, values."""
    h.update(f"{_type_name(array.type)}|{len(array)}|".encode())
    h.update(np.asarray(array.is_valid()).tobytes())
    kind = array.type
    if pa.types.is_fixed_size_list(kind):
        size = kind.list_size
        _update(h, array.values.slice(array.offset * size, len(array) * size))
    elif pa.types.is_binary(kind) or pa.types.is_string(kind) or pa.types.is_large_binary(kind) \
            or pa.types.is_large_string(kind):
        for value in array.to_pylist():
            data = b"" if value is None else value.encode() if isinstance(value, str) else value
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        h.update(np.asarray(array.fill_null(False if pa.types.is_boolean(kind) else 0)).tobytes())
    elif pa.types.is_struct(kind):  # schema v2 image columns: struct<bytes, path>, field by field
        for child in array.flatten():
            _update(h, child)
    else:  # types the schema does not use (a foreign shard): their Python values
        h.update(repr(array.to_pylist()).encode())


def column_digest(column: pa.Array | pa.ChunkedArray) -> str:
    """Hex digest of one column's values (a row group's, as Arrow reads them back)."""
    h = _digest()
    _update(h, column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    return h.hexdigest()


def _rig2sketch_metadata(raw: dict | None) -> dict[str, str]:
    """The ``rig2sketch.*`` entries (and the ``huggingface`` features of schema v2) of a metadata
    mapping, decoded, without the checksum itself (``ParquetFile.read()`` copies the footer's keys
    into the schema it returns)."""
    meta = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in (raw or {}).items()}
    return {k: v for k, v in sorted(meta.items())
            if (k.startswith("rig2sketch.") or k == HF_KEY) and k != CHECKSUM_KEY}


def schema_digest(schema: pa.Schema) -> str:
    """Hex digest of the column names, types and nullability and the ``rig2sketch.*`` (and
    ``huggingface``) metadata."""
    fields = [[f.name, _type_name(f.type), f.nullable] for f in schema]
    described = {"fields": fields, "metadata": _rig2sketch_metadata(schema.metadata)}
    h = _digest()
    h.update(json.dumps(described, sort_keys=True).encode())
    return h.hexdigest()


class RunningChecksum:
    """The writer's side: digests of each row group as it is written (one ``add`` per row group)."""

    def __init__(self, schema: pa.Schema) -> None:
        self._schema = schema_digest(schema)
        self._groups: list[dict[str, Any]] = []

    def add(self, table: pa.Table) -> None:
        self._groups.append({"rows": table.num_rows,
                             "columns": {name: column_digest(table.column(name)) for name in table.column_names}})

    def value(self) -> str:
        return json.dumps({"algorithm": ALGORITHM, "schema": self._schema, "rows": sum(g["rows"] for g in self._groups),
                           "row_groups": self._groups}, sort_keys=True)


def _footer(parquet: pq.ParquetFile) -> dict[str, str]:
    raw = parquet.metadata.metadata or {}
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in raw.items()}


def read_checksum(parquet: pq.ParquetFile, path: str | Path) -> dict[str, Any] | None:
    """The footer checks of a shard: the stored checksum after its schema digest, row-group count
    and row counts match the file; None for a shard with no checksum and no marker (older or
    foreign). Raises :class:`ShardError` for a declared checksum that is missing or does not match."""
    footer = _footer(parquet)
    declared = MARKER_KEY in footer or MARKER_KEY.encode() in (parquet.schema_arrow.metadata or {})
    text = footer.get(CHECKSUM_KEY)
    if text is None:
        if declared:
            raise ShardError(path, "the shard declares a content checksum but has none (damaged footer)")
        return None
    try:
        stored = json.loads(text)
        algorithm, schema, total = stored["algorithm"], stored["schema"], int(stored["rows"])
        rows = [int(g["rows"]) for g in stored["row_groups"]]
        if not all(isinstance(g["columns"], dict) for g in stored["row_groups"]):
            raise TypeError("row group without column digests")
    except (ValueError, KeyError, TypeError) as err:
        raise ShardError(path, f"the stored content checksum is unreadable ({type(err).__name__})") from None
    if algorithm != ALGORITHM:
        raise ShardError(path, f"checksum algorithm {algorithm!r} is not {ALGORITHM!r}")
    if schema != schema_digest(parquet.schema_arrow):
        raise ShardError(path, "schema or metadata differ from what was written (checksum mismatch)")
    if _rig2sketch_metadata(parquet.metadata.metadata) != _rig2sketch_metadata(parquet.schema_arrow.metadata):
        # Parquet keeps a plain copy of the schema's metadata in the footer; tools read either.
        raise ShardError(path, "the footer's copy of the metadata differs from the schema's (damaged footer)")
    meta = parquet.metadata
    if meta.num_row_groups != len(rows) or meta.num_rows != total or sum(rows) != total:
        raise ShardError(path, f"{meta.num_rows} rows in {meta.num_row_groups} row groups, but {total} rows in "
                               f"{len(rows)} were written (checksum mismatch)")
    for index, want in enumerate(rows):
        if meta.row_group(index).num_rows != want:
            raise ShardError(path, f"row group {index} has {meta.row_group(index).num_rows} rows, {want} were "
                                   "written (checksum mismatch)")
    return stored


def verify_row_group(path: str | Path, stored: dict[str, Any] | None, index: int, table: pa.Table) -> None:
    """Check the columns of row group ``index`` that ``table`` holds against ``stored``
    (``read_checksum``'s answer; None = nothing to check). Raises :class:`ShardError`."""
    if stored is None:
        return
    want = stored["row_groups"][index]
    if table.num_rows != want["rows"]:
        raise ShardError(path, f"row group {index} reads as {table.num_rows} rows, {want['rows']} were written")
    for name in table.column_names:
        if want["columns"].get(name) != column_digest(table.column(name)):
            raise ShardError(path, f"column {name!r} of rows {sum(g['rows'] for g in stored['row_groups'][:index])}"
                             f"..{sum(g['rows'] for g in stored['row_groups'][:index + 1]) - 1} differs from what was "
                             f"written (checksum mismatch)")


def content_id(stored: dict[str, Any] | None) -> str:
    """A short id of a shard's content (digest of its stored checksum); "" without one."""
    if stored is None:
        return ""
    return hashlib.blake2b(json.dumps(stored, sort_keys=True).encode(), digest_size=8).hexdigest()
