"""ShardWriter: atomic, streaming Parquet writer for schema v2 rows."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rig2sketch.safe_paths import name_problem
from rig2sketch.versions import package_versions
from shards import schema
from shards.checksum import ALGORITHM, CHECKSUM_KEY, MARKER_KEY, RunningChecksum


class ShardWriteError(OSError):
    """A shard that could not be written (full disk, read-only folder); one line naming the shard."""


@dataclass(frozen=True)
class ShardStats:
    path: Path
    rows: int
    bytes: int


def name_problems(row: dict[str, Any]) -> list[str]:
    """Why the row's split and name columns (values that may become paths on export) are refused."""
    out = []
    if row.get("split") not in schema.SPLITS:
        out.append(f"split {row.get('split')!r} is not one of {', '.join(schema.SPLITS)}; fix the stage that set it")
    for name, folders in schema.NAME_COLUMNS.items():
        if name != "split" and (name != "style" or row.get(name)) and \
                (problem := name_problem(row.get(name), folders=folders)):
            out.append(f"{name} {problem}; rename the input it came from")
    return out


def _column_value(name: str, value: Any) -> Any:
    if name in schema.IMAGE_COLUMNS:
        return {"bytes": value, "path": None} if isinstance(value, (bytes, bytearray)) else value
    if name in schema.LIST_LENGTHS:
        arr = np.asarray(value, dtype=np.float32).reshape(-1)
        if arr.size != schema.LIST_LENGTHS[name]:
            raise ValueError(
                f"column {name!r} needs {schema.LIST_LENGTHS[name]} values, got {arr.size} (shape {np.shape(value)})"
            )
        return arr
    if isinstance(value, np.generic):
        return value.item()
    return value


class ShardWriter:
    """Writes rows to ``path`` through a hidden temp file renamed into place on success.

    A crash or exception inside the ``with`` block leaves no file at ``path`` (and removes the
    temp file), so a shard on disk is always complete. ``metadata`` lands in the Parquet
    key-value metadata (prefixed ``rig2sketch.``) next to the schema version, the label
    definitions and the package versions; the content checksum of every row group
    (``shards.checksum``) is added to the footer on close.

        with ShardWriter(out / "job-0001.parquet", metadata={"config_hash": h, "seed": s}) as w:
            w.write(row)
        w.stats  # ShardStats(path, rows, bytes)
    """

    def __init__(self, path: Path, *, metadata: dict[str, Any] | None = None, row_group_size: int = 64) -> None:
        self.path = Path(path)
        if self.path.suffix != ".parquet":
            raise ValueError(f"shard paths end in .parquet, got {self.path}")
        meta = {"package_versions": json.dumps(package_versions())}
        meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
        meta[MARKER_KEY] = ALGORITHM
        self._schema = schema.arrow_schema(meta)
        self._checksum = RunningChecksum(self._schema)
        self._row_group_size = row_group_size
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._buffer: dict[str, list] = {name: [] for name in schema.COLUMNS}
        self._rows = 0
        self._writer: pq.ParquetWriter | None = None
        self.stats: ShardStats | None = None

    def __enter__(self) -> "ShardWriter":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")
        except OSError as err:
            raise self._io_error(err) from None
        return self

    def write(self, row: dict[str, Any]) -> None:
        """Append one row (keys: schema.COLUMNS; optional columns may be absent)."""
        missing = [c for c in schema.REQUIRED if row.get(c) is None]
        unknown = [c for c in row if c not in self._buffer]
        if missing or unknown:
            raise ValueError(f"shard row has missing columns {missing} and unknown columns {unknown}")
        if problems := name_problems(row):
            raise ValueError(f"shard row {row['sample_id']!r}: {problems[0]}")
        for name in ("bbox", "area"):  # labels that are never NaN (keypoints with v=0 may be)
            if not np.isfinite(np.asarray(row[name], dtype=np.float64)).all():
                raise ValueError(f"shard row {row['sample_id']!r}: {name} {np.asarray(row[name]).tolist()} is "
                                 "NaN/inf; fix the stage that computed it (labels must be finite)")
        for name in schema.COLUMNS:
            self._buffer[name].append(_column_value(name, row.get(name)))
        self._rows += 1
        if len(self._buffer["sample_id"]) >= self._row_group_size:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer["sample_id"]:
            return
        table = pa.Table.from_pydict(self._buffer, schema=self._schema)
        try:
            self._writer.write_table(table, row_group_size=self._row_group_size)  # one row group
        except OSError as err:
            raise self._io_error(err) from None
        self._checksum.add(table)
        self._buffer = {name: [] for name in schema.COLUMNS}

    def _io_error(self, err: OSError) -> OSError:
        """``err`` (pyarrow's often names no file) as one line naming the shard and the fix."""
        if isinstance(err, ShardWriteError):
            return err
        reason = err.strerror or str(err).strip().splitlines()[-1]
        out = ShardWriteError(f"cannot write shard {self.path}: {reason}; free space or choose a writable out=")
        out.errno = err.errno
        return out

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._flush()
                self._writer.add_key_value_metadata({CHECKSUM_KEY: self._checksum.value()})
            self._writer.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
                self.stats = ShardStats(self.path, self._rows, self.path.stat().st_size)
        except OSError as err:  # a full disk, a folder made read-only mid-run
            raise self._io_error(err) from None
        finally:
            self._tmp.unlink(missing_ok=True)  # gone after the rename; removed on any failure
