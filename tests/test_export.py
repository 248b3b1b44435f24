"""Export round trips: shards -> COCO JSON -> pycocotools -> COCOeval; shards -> YOLO pose."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from evaluation import stickfigures
from evaluation.config import ExportConfig
from evaluation.data import load_coco_records
from evaluation.export import export, flip_index, safe_name
from rig2sketch.skeleton import COCO_KEYPOINTS, COCO_SIGMAS
from shards import iter_samples


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("ds")
    stickfigures.write_dataset(out, 10, (64, 96), np.random.default_rng(3))
    return str(out)


def test_coco_export_round_trips_through_pycocotools(dataset, tmp_path) -> None:
    counts = export(ExportConfig(dataset=dataset, out=str(tmp_path / "coco"), format="coco"))
    assert counts == {"train": 8, "val": 2}
    ann = tmp_path / "coco" / "annotations" / "person_keypoints_train.json"
    coco = COCO(str(ann))
    cat = coco.loadCats(1)[0]
    assert cat["keypoints"] == list(COCO_KEYPOINTS) and [16, 14] in cat["skeleton"]
    assert min(min(e) for e in cat["skeleton"]) == 1
    rows = [r for r in iter_samples(dataset) if r["split"] == "train"]
    first_id = sorted(coco.getImgIds())[0]
    first = coco.loadAnns(coco.getAnnIds(imgIds=[first_id]))[0]
    assert np.allclose(np.reshape(first["keypoints"], (17, 3)), rows[0]["keypoints"])
    image = cv2.imread(str(tmp_path / "coco" / "images" / coco.loadImgs(first_id)[0]["file_name"]))
    assert image.shape[:2] == (96, 64)
    # Ground truth as predictions scores AP 1 under COCOeval.
    results = [{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
               for a in coco.dataset["annotations"]]
    ev = COCOeval(coco, coco.loadRes(results), "keypoints")
    ev.params.kpt_oks_sigmas = np.asarray(COCO_SIGMAS)
    ev.evaluate(), ev.accumulate(), ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)
    # And the evaluation stage reads the export back as a COCO set.
    records = load_coco_records(str(tmp_path / "coco" / "images"), str(ann))
    assert len(records) == 8 and Path(records[0].image).is_file()


@pytest.fixture(scope="module")
def split_dataset(tmp_path_factory) -> Path:
    """The train/val/test stick figures of tests/test_hub.py (4/2/2 rows, split folders)."""
    from tests.test_hub import split_dataset as make

    return make(tmp_path_factory.mktemp("splits"), size=(64, 96))


def test_coco_export_writes_one_loadable_json_per_split_with_info_and_licenses(split_dataset, tmp_path,
                                                                              capsys) -> None:
    counts = export(ExportConfig(dataset=str(split_dataset), out=str(tmp_path / "coco"), format="coco"))
    assert counts == {"train": 4, "val": 2, "test": 2}
    progress = capsys.readouterr().err.splitlines()  # a 0/N line before the first row, then the end
    assert progress[0].startswith("[export] rows 0/8 ") and progress[-1].startswith("[export] rows 8/8 ")
    truth = {r["sample_id"]: r for r in iter_samples(split_dataset, decode_images=False)}
    for split, n in counts.items():
        path = tmp_path / "coco" / "annotations" / f"person_keypoints_{split}.json"
        coco = COCO(str(path))  # the reference loader
        assert len(coco.getImgIds()) == len(coco.getAnnIds()) == n
        info, licenses = coco.dataset["info"], coco.dataset["licenses"]
        assert split in info["description"] and info["year"] >= 2024 and info["date_created"]
        assert licenses == [{"id": 1, "name": "CC0-1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/"}]
        for image in coco.loadImgs(coco.getImgIds()):
            assert image["license"] == 1 and truth[image["rig2sketch_sample_id"]]["split"] == split
            assert (tmp_path / "coco" / "images" / image["file_name"]).is_file()


def test_yolo_export_names_real_train_val_test_folders(split_dataset, tmp_path) -> None:
    """Ultralytics' dataset checker does not install with our pins (it needs torchvision and
    opencv-python beside opencv-python-headless), so its documented pose format is checked field by
    field: data.yaml keys, folders relative to the file, one label file per image, label lines."""
    import yaml

    export(ExportConfig(dataset=str(split_dataset), out=str(tmp_path / "partial"), format="yolo"))
    (tmp_path / "partial").rename(tmp_path / "yolo")  # as the pipeline's export task does
    root = tmp_path / "yolo"
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert "path" not in data  # folders resolve against data.yaml's own folder, wherever it is moved
    assert (data["train"], data["val"], data["test"]) == ("images/train", "images/val", "images/test")
    assert data["kpt_shape"] == [17, 3] and data["names"] == {0: "person"}
    assert sorted(data["flip_idx"]) == list(range(17)) and [data["flip_idx"][i] for i in data["flip_idx"]] == list(range(17))
    truth = {r["sample_id"]: r for r in iter_samples(split_dataset, decode_images=False)}
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        images = sorted((root / data[split]).glob("*.png"))
        labels = sorted((root / "labels" / split).glob("*.txt"))
        assert len(images) == len(labels) == n and [p.stem for p in images] == [p.stem for p in labels]
        for label in labels:
            lines = label.read_text().splitlines()
            values = [float(v) for v in lines[0].split()]
            assert len(lines) == 1 and len(values) == 1 + 4 + 17 * 3 and values[0] == 0
            assert all(0.0 <= v <= 1.0 for v in values[1:5])
            kp = np.reshape(values[5:], (17, 3))
            assert set(kp[:, 2]) <= {0.0, 1.0, 2.0} and ((kp[:, :2] >= 0) & (kp[:, :2] <= 1)).all()
    sids = {safe_name(s): s for s in truth}
    assert {truth[sids[p.stem]]["split"] for p in (root / "images" / "val").glob("*.png")} == {"val"}


def test_yolo_export_refuses_a_dataset_without_val(tmp_path) -> None:
    data = tmp_path / "train_only"
    stickfigures.write_dataset(data, 4, (64, 64), np.random.default_rng(2))  # rows 1-4: train, row 0: val
    only_train = ExportConfig(dataset=str(data), out=str(tmp_path / "y"), format="yolo", splits=["train"])
    with pytest.raises(ValueError, match="format=yolo needs train and val rows"):
        export(only_train)
    assert not (tmp_path / "y").exists()


def test_yolo_export_layout(dataset, tmp_path) -> None:
    export(ExportConfig(dataset=dataset, out=str(tmp_path / "yolo"), format="yolo"))
    yaml = (tmp_path / "yolo" / "data.yaml").read_text()
    assert "kpt_shape: [17, 3]" in yaml and f"flip_idx: {flip_index()}" in yaml
    assert flip_index()[:5] == [0, 2, 1, 4, 3]
    labels = sorted((tmp_path / "yolo" / "labels" / "train").glob("*.txt"))
    images = sorted((tmp_path / "yolo" / "images" / "train").glob("*.png"))
    assert len(labels) == len(images) == 8
    values = labels[0].read_text().split()
    assert values[0] == "0" and len(values) == 1 + 4 + 17 * 3
    row = next(r for r in iter_samples(dataset) if r["split"] == "train")
    kx, ky = float(values[5]) * 64, float(values[6]) * 96
    assert np.allclose([kx, ky], row["keypoints"][0, :2], atol=1e-3)


def test_export_refuses_to_overwrite(dataset, tmp_path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("1")
    with pytest.raises(FileExistsError, match="not empty"):
        export(ExportConfig(dataset=dataset, out=str(tmp_path / "busy")))
    with pytest.raises(ValueError, match="export.format"):
        ExportConfig(dataset=dataset, out="x", format="voc")


TOY_FORMAT = '''
from evaluation.export import export_rows
from evaluation.exporters.registry import EXPORT_FORMATS


@EXPORT_FORMATS.register("toy_ids")
def write_ids(cfg, tmp):
    tmp.mkdir(parents=True)
    ids = [row["sample_id"] for row in export_rows(cfg)]
    (tmp / "ids.txt").write_text("\\n".join(ids))
    return {"all": len(ids)}
'''


def test_a_format_in_one_new_module_is_registered_and_used(dataset, tmp_path, monkeypatch) -> None:
    """Adding an export format is one module that registers itself: the config accepts the new
    name and ``export`` dispatches to it (nothing else changes)."""
    from app.cli import ConfigError, compose
    from evaluation.exporters.registry import EXPORT_FORMATS
    from tests.test_motion_sources import import_file

    with pytest.raises(ConfigError, match="export.format='toy_ids' is not allowed; expected 'coco' or 'coco_wholebody' or 'yolo'"):
        compose("export", [f"dataset={dataset}", f"out={tmp_path / 'x'}", "format=toy_ids"])
    monkeypatch.setattr(EXPORT_FORMATS, "_items", dict(EXPORT_FORMATS._items))  # forget the toy afterwards
    import_file(tmp_path / "toy_export_format.py", TOY_FORMAT)
    cfg = compose("export", [f"dataset={dataset}", f"out={tmp_path / 'ids'}", "format=toy_ids"])
    assert export(cfg) == {"all": 10}
    assert sorted((tmp_path / "ids" / "ids.txt").read_text().split("\n")) == sorted(r["sample_id"] for r in iter_samples(dataset))
