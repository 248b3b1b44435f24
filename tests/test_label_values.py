"""Values (issue 17): NaN/inf and out-of-image labels are flagged by validate, refused by the
writer and by export, so a NaN bbox never reaches a COCO JSON or a YOLO label."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluation.config import ExportConfig
from evaluation.export import export
from shards import ShardWriter, validate_dataset
from tests.test_shards import make_row, write_sealed, write_shard


def shard_with_bbox(root, bbox, area=None):
    """A 3-row shard (project writer) whose row 1 then gets ``bbox`` (and ``area``) via pyarrow
    behind a matching checksum, as a stage with a bug would write it (the writer refuses NaN)."""
    path = root / "data" / "a.parquet"
    write_shard(path, [make_row(i) for i in range(3)])
    table = pq.read_table(path)
    for name, value in (("bbox", bbox), ("area", area)):
        if value is None:
            continue
        i = table.schema.get_field_index(name)
        column = table.column(name).to_pylist()
        column[1] = value
        table = table.set_column(i, table.schema.field(name), pa.array(column, table.schema.field(name).type))
    write_sealed(table, path)
    return root / "data"


@pytest.mark.parametrize("bbox,area,expect", [
    ([math.nan, 1, 5, 5], None, "bbox [nan, 1.0, 5.0, 5.0] is NaN/inf"),
    ([1, 1, math.inf, 5], None, "is NaN/inf"),
    ([1, 1, 50, 5], None, "not inside the 16x12 image"),
    (None, math.nan, "area nan is not a finite"),
])
def test_validate_flags_and_export_refuses_bad_label_values(tmp_path, bbox, area, expect):
    data = shard_with_bbox(tmp_path, bbox, area)
    problems = validate_dataset(data)
    assert len(problems) == 1 and problems[0].row == 1 and expect in problems[0].message
    for fmt in ("coco", "yolo"):
        with pytest.raises(ValueError) as err:
            export(ExportConfig(dataset=str(data), out=str(tmp_path / fmt), format=fmt))
        assert "\n" not in str(err.value) and "'s0001'" in str(err.value) and expect in str(err.value)
        assert not (tmp_path / fmt).exists()


def test_validate_flags_nan_visible_keypoint(tmp_path):
    row = make_row(1)
    row["keypoints"][5] = [math.nan, 3.0, 2.0]
    write_shard(tmp_path / "a.parquet", [make_row(0), row])
    problems = validate_dataset(tmp_path)
    assert len(problems) == 1 and "keypoints [5] have v>0" in problems[0].message


def test_hidden_nan_keypoint_is_fine_and_exports_as_zeros(tmp_path):
    row = make_row(0)
    row["keypoints"][5] = [math.nan, math.nan, 0.0]  # a joint with no 3D position: v=0
    write_shard(tmp_path / "data" / "a.parquet", [row])
    assert validate_dataset(tmp_path / "data") == []
    export(ExportConfig(dataset=str(tmp_path / "data"), out=str(tmp_path / "coco"), format="coco"))
    text = (tmp_path / "coco" / "annotations" / "person_keypoints_train.json").read_text()
    assert "NaN" not in text and json.loads(text)["annotations"][0]["keypoints"][15:18] == [0, 0, 0]


@pytest.mark.parametrize("name,value", [("bbox", [1, 1, math.nan, 2]), ("area", math.inf)])
def test_writer_refuses_nan_bbox_and_area(tmp_path, name, value):
    with pytest.raises(ValueError, match=f"'s0000': {name} .* is NaN/inf"):
        with ShardWriter(tmp_path / "a.parquet") as w:
            w.write({**make_row(0), name: value})
    assert not (tmp_path / "a.parquet").exists()
