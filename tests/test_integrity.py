"""Integrity (issue 17): a per-shard content checksum, checked by validate and by every reader.

The fuzz test flips single bits and truncates a small shard. Every change that alters what a
reader would get (rows, schema, metadata, row count) must be caught by ``validate`` and refused by
the reader with one line; a change that alters nothing a reader sees is harmless. Before the
checksum, 77 of 600 single-bit flips changed labels or images while validate said OK.
"""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shards import ShardWriter, count_rows, iter_samples, shard_metadata, validate_dataset
from shards.checksum import ShardError


def raw_content(path):
    """What a reader without checks gets from ``path`` (None: it does not read): column names,
    value types and nullability (a list's item field name is no content), the schema's metadata
    and the footer's plain copy of it (without the checksum itself), rows."""
    try:
        parquet = pq.ParquetFile(path)
        table = parquet.read()
        columns = [(f.name, f.nullable, str(getattr(f.type, "value_type", f.type)), getattr(f.type, "list_size", None),
                    str(f.type).split("<")[0]) for f in parquet.schema_arrow]
        footer = {k: v for k, v in (parquet.metadata.metadata or {}).items()
                  if k not in (b"rig2sketch.checksum", b"ARROW:schema")}
        return columns, parquet.schema_arrow.metadata, footer, parquet.metadata.num_rows, table.to_pylist()
    except Exception:
        return None


@pytest.fixture
def small_shard(tmp_path, stick_figure_shards):
    """A 3-row, 64x64 stick-figure shard in two row groups (2 + 1 rows) under ``tmp_path/data``."""
    rows = list(iter_samples(stick_figure_shards((64, 64)), decode_images=False))
    path = tmp_path / "data" / "stick.parquet"
    with ShardWriter(path, metadata={"config_hash": "abc", "seed": 3, "stage": "render"}, row_group_size=2) as writer:
        for row in rows:
            writer.write(row)
    assert len(rows) == 3 and pq.ParquetFile(path).metadata.num_row_groups == 2
    return path


def test_clean_shard_reads_and_validates(small_shard):
    assert validate_dataset(small_shard.parent) == []
    assert count_rows(small_shard.parent) == 3 and len(list(iter_samples(small_shard.parent))) == 3
    assert shard_metadata(small_shard)["integrity"] == "blake2b-128/v1"


def test_bit_flips_and_truncations_are_caught_or_harmless(small_shard, tmp_path):
    original_bytes = small_shard.read_bytes()
    original = raw_content(small_shard)
    rng = np.random.default_rng(17)
    size = len(original_bytes)
    flips = [(int(rng.integers(size)), int(rng.integers(8))) for _ in range(600)]
    # The footer (schema, metadata, checksum, row-group offsets) is small: flip it more densely too.
    footer = int.from_bytes(original_bytes[-8:-4], "little") + 8
    flips += [(size - 1 - int(rng.integers(footer)), int(rng.integers(8))) for _ in range(200)]
    cuts = sorted({int(c) for c in rng.integers(1, size, 40)})
    cases = [("flip", pos, bit) for pos, bit in flips] + [("cut", cut, None) for cut in cuts]
    counts = {"caught": 0, "harmless": 0}
    for kind, pos, bit in cases:
        data = bytearray(original_bytes)
        if kind == "flip":
            data[pos] ^= 1 << bit
        else:
            data = data[:pos]
        small_shard.write_bytes(bytes(data))
        if raw_content(small_shard) == original:
            counts["harmless"] += 1
            continue
        where = f"{kind} at byte {pos}" + (f" bit {bit}" if bit is not None else "")
        assert validate_dataset(small_shard.parent), f"{where} changed the content but validate said OK"
        with pytest.raises(ShardError) as refused:
            list(iter_samples(small_shard.parent, decode_images=False))
        message = str(refused.value)
        assert "\n" not in message and str(small_shard) in message and "re-render" in message, where
        counts["caught"] += 1
    small_shard.write_bytes(original_bytes)
    assert validate_dataset(small_shard.parent) == []
    print(counts)
    assert counts["caught"] > 300 and counts["caught"] + counts["harmless"] == len(cases)


def test_a_label_changed_behind_the_writer_is_refused_by_every_reader(small_shard, tmp_path):
    """A keypoint edited in place (same length, so the file still parses) is refused by the
    column readers and the full reader, and validate names the column."""
    table = pq.read_table(small_shard)
    column = table.column("keypoints").to_pylist()
    column[0][0] += 1.0
    field = table.schema.field("keypoints")
    table = table.set_column(table.schema.get_field_index("keypoints"), field, pa.array(column, field.type))
    checksum = pq.ParquetFile(small_shard).metadata.metadata[b"rig2sketch.checksum"]
    with pq.ParquetWriter(small_shard, table.schema) as writer:  # the old checksum copied over
        writer.write_table(table, row_group_size=2)
        writer.add_key_value_metadata({"rig2sketch.checksum": checksum})
    problems = validate_dataset(small_shard.parent)
    assert [p.message for p in problems] == [
        "column 'keypoints' of rows 0..1 differs from what was written (checksum mismatch); re-render this shard"]
    with pytest.raises(ShardError, match="column 'keypoints' of rows 0..1 differs"):
        list(iter_samples(small_shard.parent, columns=["sample_id", "keypoints"]))
    # Columns that did not change still read (a reader checks the columns it reads).
    assert len(list(iter_samples(small_shard.parent, columns=["sample_id", "bbox"]))) == 3


def test_checksum_removed_or_metadata_edited_is_caught(small_shard, tmp_path):
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    table = pq.read_table(small_shard)
    no_marker = table.replace_schema_metadata({k: v for k, v in table.schema.metadata.items()
                                               if k != b"rig2sketch.integrity"})
    pq.write_table(no_marker, legacy / "a.parquet")  # as another tool would rewrite it
    assert ["no content checksum" in p.message for p in validate_dataset(legacy)] == [True]
    assert len(list(iter_samples(legacy))) == 3  # readable, but validate says it cannot be checked

    pq.write_table(table, small_shard)  # marker kept, checksum dropped
    with pytest.raises(ShardError, match="declares a content checksum but has none"):
        count_rows(small_shard)
    shutil.copy(legacy / "a.parquet", small_shard)


def test_validate_flags_a_dataset_mixing_configs(tmp_path, small_shard):
    from tests.test_shards import make_row

    with ShardWriter(small_shard.parent / "other.parquet", metadata={"config_hash": "def", "stage": "render"}) as w:
        w.write(make_row(9))
    problems = validate_dataset(small_shard.parent)
    assert len(problems) == 1 and "mixes 2 configs" in problems[0].message
    assert "config_hash 'abc' (stick.parquet)" in problems[0].message and "'def' (other.parquet)" in problems[0].message
