"""Hub-ready shards (issue 16, item 3): Hugging Face ``datasets`` decodes the image column as an
``Image`` feature and names the splits after the split folders; reports stay out of the dataset
folder, so ``load_dataset(DIR)``, ``data_dir=`` and polars directory reads work; the run card's
front matter loads each dataset's splits."""

from __future__ import annotations

import re
from pathlib import Path

import datasets
import numpy as np
import polars as pl
import pytest
import yaml

from evaluation import stickfigures
from shards import ShardWriter, decode_png, iter_samples, list_shards, reports_dir, validate_dataset

SPLIT_OF = {0: "train", 1: "train", 2: "val", 3: "test"}  # by row index % 4


def split_dataset(root: Path, n: int = 8, size=(64, 64)) -> Path:
    """``n`` stick figures in the split folders of ``shards.layout`` (train 4, val 2, test 2 for n=8),
    one shard per split, plus the reports a render run writes beside it."""
    flat = root / "flat"
    stickfigures.write_dataset(flat, n, size, np.random.default_rng(5))
    rows = list(iter_samples(flat, decode_images=False))
    dataset = root / "raw"
    for split in ("train", "val", "test"):
        with ShardWriter(dataset / split / "stick.parquet", metadata={"licence": "CC0-1.0"}) as w:
            for i, row in enumerate(rows):
                if SPLIT_OF[i % 4] == split:
                    w.write({**row, "split": split})
    from renderers.summary import write_summary

    write_summary(dataset)  # summary + contact sheet, into the reports folder
    return dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return split_dataset(tmp_path_factory.mktemp("run")).parent


def load(path, *args, cache: Path, **kw):
    return datasets.load_dataset(str(path), *args, cache_dir=str(cache), **kw)


def test_reports_stay_out_of_the_dataset_folder(run):
    raw = run / "raw"
    assert sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*")) == [
        "test", "test/stick.parquet", "train", "train/stick.parquet", "val", "val/stick.parquet"]
    assert (reports_dir(raw) / "contact_sheet.png").stat().st_size > 1000
    assert reports_dir(raw) == run / "_reports" / "raw"
    assert validate_dataset(raw) == [] and len(list_shards(raw)) == 3


def test_datasets_decodes_images_and_names_splits_from_folders(run, tmp_path):
    for ds in (load(run / "raw", cache=tmp_path / "a"), load(run, data_dir="raw", cache=tmp_path / "b")):
        assert {k: v.num_rows for k, v in ds.items()} == {"train": 4, "validation": 2, "test": 2}
        assert isinstance(ds["train"].features["image"], datasets.Image)
        first = ds["validation"][0]
        truth = next(r for r in iter_samples(run / "raw") if r["sample_id"] == first["sample_id"])
        assert np.array_equal(np.asarray(first["image"].convert("RGB")), truth["image"])
        assert first["split"] == "val" and len(first["keypoints"]) == 51


def test_polars_and_pandas_read_the_dataset_folder(run):
    import pandas as pd

    frame = pl.read_parquet(run / "raw")
    assert frame.height == 8 and sorted(frame["split"].unique().to_list()) == ["test", "train", "val"]
    png = frame.filter(pl.col("split") == "test")["image"].struct.field("bytes")[0]
    assert decode_png(png).shape == (64, 64, 3)
    assert len(pd.read_parquet(run / "raw")) == 8


def test_a_shard_in_the_wrong_split_folder_is_invalid(tmp_path):
    dataset = split_dataset(tmp_path, n=4)
    rows = list(iter_samples(dataset / "val", decode_images=False))
    with ShardWriter(dataset / "test" / "moved.parquet") as w:
        w.write({**rows[0], "sample_id": "moved"})
    problems = validate_dataset(dataset)
    assert len(problems) == 1 and "split 'val' in the test/ folder" in problems[0].message


def test_run_card_front_matter_loads_each_dataset_with_its_splits(run, tmp_path, monkeypatch):
    from flows.run_card import write_run_card
    from rig2sketch import versions

    from flows.pipeline import PipelineConfig

    monkeypatch.setattr(versions, "_COMMAND_LINE", ["rig2sketch", "pipeline", "out=runs/x", "split=motion"])
    cfg = PipelineConfig(out=str(run), name="tiny", seed=4, sample_grid=2, stylize=[], export=[])
    card = write_run_card(cfg, {"raw": str(run / "raw")}, {}).read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "cc0-1.0" and front["task_categories"] == ["keypoint-detection"]
    assert front["size_categories"] == ["n<1K"]
    assert front["configs"] == [{"config_name": "raw", "default": True, "data_files": [
        {"split": "train", "path": "raw/train/*.parquet"}, {"split": "validation", "path": "raw/val/*.parquet"},
        {"split": "test", "path": "raw/test/*.parquet"}]}]
    assert [s["num_examples"] for s in front["dataset_info"][0]["splits"]] == [4, 2, 2]
    assert all(s["num_bytes"] > 0 for s in front["dataset_info"][0]["splits"])
    assert "rig2sketch pipeline out=runs/x split=motion" in card
    assert re.search(r"rig2sketch commit: `([0-9a-f]{40}|unknown)`", card)
    assert "_reports/raw/contact_sheet.png" in card
    ds = load(run, "raw", cache=tmp_path / "c")
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 4, "validation": 2, "test": 2}
    # datasets reads the card's sizes (it drops a dataset_info it finds malformed, e.g. without num_bytes).
    info = datasets.load_dataset_builder(str(run), "raw", cache_dir=str(tmp_path / "d")).info
    card_splits = front["dataset_info"][0]["splits"]
    assert {k: (v.num_examples, v.num_bytes) for k, v in info.splits.items()} == {
        s["name"]: (s["num_examples"], s["num_bytes"]) for s in card_splits}
    assert info.download_size == front["dataset_info"][0]["download_size"]
    assert isinstance(ds["test"].features["image"], datasets.Image)
