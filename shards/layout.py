"""Where a dataset's files lie: shards in one folder per split, run reports beside the dataset.

    <dataset>/
      train/<name>.parquet     rows whose split is train (one file per render job and split)
      val/<name>.parquet
      test/<name>.parquet
    <dataset's parent>/_reports/<dataset's name>/
      manifest.json, summary.json, contact_sheet.png, ...   what a stage reports about its run

The dataset folder holds nothing but shards, so directory readers that take every file they find
(Hugging Face ``load_dataset(DIR)`` and ``data_dir=``, polars ``read_parquet(DIR)``, pyarrow,
pandas) read it as it is, and ``datasets`` names the splits after the folders (``val`` becomes its
``validation`` split). A split-named folder is matched by ``datasets`` before any file name, so a
character or motion called ``test`` cannot put a file into the wrong split. Shards directly in
the dataset folder (the layout before split folders) are still read.
"""

from __future__ import annotations

from pathlib import Path

from shards.schema import SPLITS

REPORTS = "_reports"
# rig2sketch split -> the split name Hugging Face datasets gives the folder.
HF_SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}


def shard_path(dataset: str | Path, split: str, name: str) -> Path:
    """``<dataset>/<split>/<name>.parquet``; ``split`` must be one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    return Path(dataset) / split / f"{name}.parquet"


def dataset_files(dataset: str | Path) -> list[tuple[Path, str | None]]:
    """(shard, the split its folder names or None) for every shard of a dataset folder: its
    ``*.parquet`` files and those of its ``train/``, ``val/``, ``test/`` folders. Names starting with
    ``.`` or ``_`` are not shards (temporary files)."""
    root = Path(dataset)
    found = [(p, None) for p in sorted(root.glob("*.parquet"))]
    for split in SPLITS:
        found += [(p, split) for p in sorted((root / split).glob("*.parquet"))]
    return [(p, split) for p, split in found if not p.name.startswith((".", "_"))]


def reports_dir(dataset: str | Path) -> Path:
    """``<parent>/_reports/<name>/``: the folder for a stage's reports about ``dataset`` (kept out of
    the dataset folder, which holds only shards)."""
    dataset = Path(dataset)
    if dataset.name in ("", ".", ".."):
        dataset = dataset.resolve()
    return dataset.parent / REPORTS / dataset.name


def has_shards(dataset: str | Path) -> bool:
    return Path(dataset).is_dir() and bool(dataset_files(dataset))
