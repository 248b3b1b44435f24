"""Paths from data (issue 17): a name read from a shard or an index never becomes a path unchecked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from evaluation.config import ExportConfig
from evaluation.export import export
from rig2sketch.safe_paths import UnsafePathError, check_name, contained, name_problem, unique_file_stem
from shards import validate_dataset
from stylizers.style_bank import INDEX_NAME, StyleBank, StyleBankError
from tests.test_shards import make_row, write_shard


def hostile_dataset(root, **changes):
    """A 3-row shard as another tool could write it (the ShardWriter without its name checks, so the
    checksum is valid); row 1 carries ``changes``."""
    rows = [make_row(i) for i in range(3)]
    rows[1].update(changes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("shards.writer.name_problems", lambda row: [])
        write_shard(root / "data" / "a.parquet", rows)
    return root / "data"


@pytest.mark.parametrize("column,value", [("split", "../../escape"), ("split", "val "), ("character", "../x"),
                                          ("motion", "/etc/passwd"), ("style", "peeps/../../x")])
def test_the_shard_writer_refuses_path_like_names(tmp_path, column, value):
    rows = [make_row(i) for i in range(2)]
    rows[1][column] = value
    with pytest.raises(ValueError, match=f"shard row 's0001': {column} {value!r}"):
        write_shard(tmp_path / "a.parquet", rows)
    assert not list(tmp_path.iterdir())  # no shard, no temp file


def files_under(path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_export_refuses_a_split_that_climbs_out_and_writes_nothing(tmp_path, fmt):
    data = hostile_dataset(tmp_path, split="../../escape")
    (tmp_path / "work").mkdir()
    before = files_under(tmp_path)
    with pytest.raises(UnsafePathError) as err:
        export(ExportConfig(dataset=str(data), out=str(tmp_path / "work" / "out"), format=fmt))
    message = str(err.value)
    assert "\n" not in message and "'../../escape' is not an allowed name" in message and "s0001" in message
    assert files_under(tmp_path) == before  # nothing outside out=, and no out= either


def test_cli_export_of_a_hostile_shard_is_one_line_and_exit_2(tmp_path, capsys):
    data = hostile_dataset(tmp_path, split="/tmp/abs")
    code = main(["export", f"dataset={data}", f"out={tmp_path / 'out'}", "format=yolo"])
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("[export] ")]
    assert code != 0 and len(err) == 1 and "split" in err[0] and "not an allowed name" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("column,value", [("split", "../../escape"), ("split", "a/b"),
                                          ("character", "../x"), ("motion", "/etc/passwd"),
                                          ("style", "peeps/../../x"), ("character", "a\\b")])
def test_validate_flags_path_like_names(tmp_path, column, value):
    data = hostile_dataset(tmp_path, **{column: value})
    problems = validate_dataset(data)
    assert len(problems) == 1 and problems[0].row == 1
    assert f"{column} {value!r} is not an allowed name" in problems[0].message


def test_validate_keeps_real_names(tmp_path):
    data = hostile_dataset(tmp_path, character="Ädå (1)", motion="cmu/02_01 walk", style="peeps/peep_00+ink_wash")
    assert validate_dataset(data) == []


def test_export_containment_refuses_paths_outside(tmp_path):
    assert contained(tmp_path, "images/a.png", "x") == (tmp_path / "images" / "a.png").resolve()
    for bad in ("../x.png", "/etc/passwd", "images/../../x"):
        with pytest.raises(UnsafePathError, match="lies outside"):
            contained(tmp_path, bad, "export file")
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(UnsafePathError):
        contained(tmp_path, "link/y", "export file")


def test_names_allow_list():
    assert name_problem("train") is None and name_problem("val") is None
    for bad in ("..", ".", "", "../a", "a/b", " a", "a\n", "a\x00b", ".hidden", "C:x", "a\\b", "a.", "x" * 256):
        assert name_problem(bad) is not None, bad
    assert name_problem("a/b", folders=True) is None and name_problem("a/../b", folders=True) is not None
    assert check_name("train", "split") == "train"


def bank_with_index(tmp_path, file: str):
    bank = tmp_path / "bank"
    bank.mkdir()
    Image.fromarray(np.full((32, 32, 3), 200, np.uint8)).save(tmp_path / "x.png")  # outside the bank
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(bank / "ok.png")
    (bank / INDEX_NAME).write_text(json.dumps({"images": [{"id": "ok", "file": "ok.png"},
                                                         {"id": "evil", "file": file}]}))
    return bank


@pytest.mark.parametrize("file", ["../x.png", "{abs}", "sub/../../x.png"])
def test_style_bank_index_cannot_name_a_file_outside_the_bank(tmp_path, file):
    bank = bank_with_index(tmp_path, file.format(abs=tmp_path / "x.png"))
    with pytest.raises(StyleBankError) as err:
        StyleBank.open(bank)
    assert "\n" not in str(err.value) and "'evil' file" in str(err.value) and "lies outside" in str(err.value)


def test_style_bank_load_checks_containment_too(tmp_path):
    bank = StyleBank.open(bank_with_index(tmp_path, "ok.png"))
    bank.entries[1] = bank._by_id["evil"] = type(bank.entries[1])("evil", "../x.png", "", "")
    with pytest.raises(StyleBankError, match="lies outside"):
        bank.load("evil")
    assert bank.load("ok").shape == (256, 256, 3)


def test_sample_ids_that_fold_alike_keep_apart_on_export(tmp_path):
    rows = [make_row(i) for i in range(3)]
    for row, sid in zip(rows, ["pen/x", "pen x", "pen__x"]):
        row["sample_id"] = sid
    rows[2]["split"] = "val"  # YOLO needs a val set
    write_shard(tmp_path / "data" / "a.parquet", rows)
    for fmt, pattern in (("coco", "images/*.png"), ("yolo", "images/*/*.png")):
        export(ExportConfig(dataset=str(tmp_path / "data"), out=str(tmp_path / fmt), format=fmt))
        assert len(list((tmp_path / fmt).glob(pattern))) == 3
    stems = {unique_file_stem(s) for s in ["pen/x", "pen x", "pen__x", "..", ".", "a-0123abcd"]}
    assert len(stems) == 6 and "pen__x" in stems and all(not s.startswith(".") for s in stems)


def test_render_job_ids_are_visible_shard_names():
    from renderers.plan import _safe

    for character, motion in (("_x", "walk"), (".hidden", "/m/../..fbx"), ("../../e", "a.")):
        job_id = f"{_safe(character)}__{_safe(motion)}"
        assert check_name(job_id, "job id") == job_id and not job_id.startswith((".", "_")), job_id


def test_coco_file_names_cannot_leave_the_images_folder(tmp_path):
    from evaluation.data import load_coco_records

    (tmp_path / "images").mkdir()
    ann = {"images": [{"id": 1, "file_name": "../secret.png", "width": 8, "height": 8}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "keypoints": [1, 1, 2] * 17,
                            "bbox": [0, 0, 8, 8], "area": 64, "num_keypoints": 17}]}
    (tmp_path / "a.json").write_text(json.dumps(ann))
    with pytest.raises(UnsafePathError, match="image 1 file_name: '../secret.png' lies outside"):
        load_coco_records(str(tmp_path / "images"), str(tmp_path / "a.json"))
    ann["images"][0]["file_name"] = "sub/ok.png"
    (tmp_path / "a.json").write_text(json.dumps(ann))
    assert load_coco_records(str(tmp_path / "images"), str(tmp_path / "a.json"))[0].image.endswith("sub/ok.png")
