"""Shard contract: write -> read round trip, plain pyarrow/pandas reads, atomic writes, validator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from rig2sketch import skeleton
from shards import (
    ShardWriter, decode_png, encode_png, iter_samples, shard_metadata, validate_dataset,
)
from shards.schema import SCHEMA


def make_row(i: int, size=(12, 16), rng=None) -> dict:
    rng = rng or np.random.default_rng(i)
    h, w = size
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    kp = np.zeros((17, 3), np.float32)
    kp[:, 0] = rng.uniform(0, w - 1, 17)
    kp[:, 1] = rng.uniform(0, h - 1, 17)
    kp[:, 2] = rng.integers(0, 3, 17)
    joints = np.zeros((len(skeleton.JOINTS), 3), np.float32)
    joints[:, :2] = [1.5, 2.5]
    joints[:, 2] = 2
    return dict(
        sample_id=f"s{i:04d}", image=encode_png(image), width=w, height=h, keypoints=kp, joints=joints,
        bbox=[1, 1, w - 2, h - 2], area=float((w - 2) * (h - 2)), character="c", motion="m", frame=i,
        camera="ring0", intrinsics=np.eye(3), extrinsics=np.eye(4), split="train", stylizer="none", style="",
        source_id="", seed=7,
    )


def write_sealed(table: pa.Table, path: Path) -> None:
    """``table`` as a shard with a matching content checksum: values no stage would write (the
    writer refuses them) behind an intact checksum, as a stage with a bug would leave them."""
    from shards.checksum import CHECKSUM_KEY, RunningChecksum

    checksum = RunningChecksum(table.schema)
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table, row_group_size=len(table))
        checksum.add(table)
        writer.add_key_value_metadata({CHECKSUM_KEY: checksum.value()})


def write_shard(path: Path, rows: list[dict], **meta) -> None:
    with ShardWriter(path, metadata={"config_hash": "abc", "seed": 7, **meta}, row_group_size=2) as w:
        for row in rows:
            w.write(row)


def test_round_trip_keeps_every_value(tmp_path):
    rows = [make_row(i) for i in range(3)]
    with ShardWriter(tmp_path / "a.parquet", metadata={"config_hash": "abc", "seed": 7}, row_group_size=2) as w:
        for row in rows:
            w.write(row)
    assert w.stats.rows == 3 and w.stats.bytes == (tmp_path / "a.parquet").stat().st_size
    back = list(iter_samples(tmp_path))
    assert [b["sample_id"] for b in back] == ["s0000", "s0001", "s0002"]
    for row, got in zip(rows, back):
        assert np.array_equal(got["image"], decode_png(row["image"]))
        np.testing.assert_array_equal(got["keypoints"], row["keypoints"])
        assert got["keypoints"].shape == (17, 3) and got["joints"].shape == (53, 3)
        assert got["intrinsics"].shape == (3, 3) and got["frame"] == row["frame"]
    meta = shard_metadata(tmp_path / "a.parquet")
    assert meta["schema_version"] == 2 and meta["config_hash"] == "abc" and meta["seed"] == 7
    assert meta["keypoint_names"] == list(skeleton.COCO_KEYPOINTS)
    assert meta["joint_names"][-1] == "HeadTop_End" and "bpy" in meta["package_versions"]
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 2


def test_plain_pyarrow_and_pandas_read_a_dataset_dir(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0), make_row(1)])
    write_shard(tmp_path / "b.parquet", [make_row(2)])
    (tmp_path / "_manifest.json").write_text("{}")
    assert pads.dataset(tmp_path).count_rows() == 3
    frame = pd.read_parquet(tmp_path)
    assert sorted(frame.sample_id) == ["s0000", "s0001", "s0002"]
    assert len(frame.keypoints.iloc[0]) == 51


def test_writer_leaves_no_file_when_the_job_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path / "a.parquet") as w:
            w.write(make_row(0))
            raise RuntimeError("render crashed")
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_bad_rows(tmp_path):
    with pytest.raises(ValueError, match="missing columns \\['image'"):
        with ShardWriter(tmp_path / "a.parquet") as w:
            row = make_row(0)
            del row["image"]
            w.write(row)
    with pytest.raises(ValueError, match="keypoints.*51"):
        with ShardWriter(tmp_path / "b.parquet") as w:
            w.write({**make_row(0), "keypoints": np.zeros((16, 3))})
    assert list(tmp_path.iterdir()) == []


def test_png_round_trip_is_exact_and_deterministic():
    image = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    assert encode_png(image) == encode_png(image.copy())
    assert np.array_equal(decode_png(encode_png(image)), image)
    with pytest.raises(ValueError, match="do not decode"):
        decode_png(b"not a png")


def test_shard_dataset_streams_tensors(tmp_path):
    from shards import ShardDataset

    write_shard(tmp_path / "a.parquet", [make_row(i) for i in range(3)])
    ds = ShardDataset(tmp_path, shuffle_buffer=2, seed=1)
    items = list(ds)
    assert len(ds) == 3 and sorted(i["sample_id"] for i in items) == ["s0000", "s0001", "s0002"]
    assert tuple(items[0]["image"].shape) == (3, 12, 16) and float(items[0]["image"].max()) <= 1.0
    assert tuple(items[0]["keypoints"].shape) == (17, 3)


# --- validator: each corruption it claims to catch -------------------------------------------


def messages(problems) -> str:
    return "\n".join(map(str, problems))


def test_validator_passes_a_clean_dataset(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0), make_row(1)])
    write_shard(tmp_path / "b.parquet", [make_row(2)])
    assert validate_dataset(tmp_path) == []


def test_validator_catches_truncated_file(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0)])
    data = (tmp_path / "a.parquet").read_bytes()
    (tmp_path / "a.parquet").write_bytes(data[: len(data) // 2])
    problems = validate_dataset(tmp_path)
    assert len(problems) == 1 and "a.parquet" in problems[0].file and "not a readable Parquet" in problems[0].message


def test_validator_catches_wrong_column_type(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0)])
    table = pq.read_table(tmp_path / "a.parquet")
    i = table.schema.get_field_index("frame")
    table = table.set_column(i, pa.field("frame", pa.string()), pa.array(["zero"]))
    pq.write_table(table, tmp_path / "a.parquet")
    assert "column 'frame' has type string, expected int32" in messages(validate_dataset(tmp_path))


def test_validator_catches_bad_image_bytes_with_row(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0), {**make_row(1), "image": b"\x89PNG broken"}])
    problems = validate_dataset(tmp_path)
    assert [(p.row, "do not decode" in p.message) for p in problems] == [(1, True)]


def test_validator_catches_size_mismatch(tmp_path):
    write_shard(tmp_path / "a.parquet", [{**make_row(0), "width": 99}])
    assert "width x height say 99x12" in messages(validate_dataset(tmp_path))


def test_validator_catches_keypoint_outside_image(tmp_path):
    row = make_row(0)
    row["keypoints"][3] = [40.0, 5.0, 2.0]  # x beyond the 16-px width, marked visible
    row2 = make_row(1)
    row2["keypoints"][4] = [40.0, 5.0, 0.0]  # outside but v=0: fine
    write_shard(tmp_path / "a.parquet", [row, row2])
    problems = validate_dataset(tmp_path)
    assert len(problems) == 1 and problems[0].row == 0 and "keypoints [3]" in problems[0].message


def test_validator_catches_duplicate_ids_across_shards(tmp_path):
    write_shard(tmp_path / "a.parquet", [make_row(0), make_row(1)])
    write_shard(tmp_path / "b.parquet", [make_row(1)])
    problems = validate_dataset(tmp_path)
    assert len(problems) == 1 and problems[0].file.endswith("b.parquet") and problems[0].row == 0
    assert "duplicates" in problems[0].message and "a.parquet row 1" in problems[0].message


def test_validator_catches_bad_visibility_and_version(tmp_path):
    row = make_row(0)
    row["keypoints"][0, 2] = 3
    write_shard(tmp_path / "a.parquet", [row])
    assert "visibility must be 0, 1 or 2" in messages(validate_dataset(tmp_path))
    pq.write_table(pq.read_table(tmp_path / "a.parquet").replace_schema_metadata({}), tmp_path / "a.parquet")
    assert "schema version 'missing'" in messages(validate_dataset(tmp_path))


def test_atomic_writes_give_the_usual_file_mode_whatever_the_writer_chose(tmp_path) -> None:
    """safetensors' ``save_file`` writes 0600; a file written through ``atomic_path`` ends with the
    mode a plain ``open()`` gives (``0666 & ~umask``), so weights others must read are readable."""
    import os

    import torch
    from safetensors.torch import save_file

    from rig2sketch.atomic import atomic_path

    umask = os.umask(0o022)
    os.umask(umask)
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    with atomic_path(tmp_path / "w.safetensors") as tmp:
        save_file({"w": torch.zeros(2)}, str(tmp))
    assert (tmp_path / "w.safetensors").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o666 & ~umask
