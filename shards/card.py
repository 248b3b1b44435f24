"""The dataset card: a README.md that says what a run generated, from what, under which licences.

It opens with the YAML front matter the Hugging Face Hub and ``datasets`` read: ``license``,
``task_categories``, ``size_categories``, one ``configs`` entry per dataset folder with its splits'
``data_files`` (the split folders of ``shards.layout``) and ``dataset_info`` with each split's row
count, so ``load_dataset(RUN_DIR, "<dataset>")`` loads the splits the card lists.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import yaml  # PyYAML (pinned in constraints.txt; Hydra and Prefect need it)

from rig2sketch import skeleton
from rig2sketch.versions import package_versions
from shards.layout import HF_SPLIT_NAMES, dataset_files
from shards.reader import shard_metadata
from shards.summary import DatasetSummary

LICENCE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "Apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
    "MIT": "https://opensource.org/license/mit",
}
# SPDX id -> the Hub's licence id.
HUB_LICENCES = {"CC0-1.0": "cc0-1.0", "CC-BY-4.0": "cc-by-4.0", "Apache-2.0": "apache-2.0", "MIT": "mit"}
# Hub size buckets: (upper bound on rows, label).
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))
UNSPLIT = "unsplit"  # the split name of shards lying directly in a dataset folder (no split folder)


def licence_url(name: str) -> str:
    """A URL for an SPDX licence id ("" when unknown or a combination)."""
    return LICENCE_URLS.get(name, "")


def dataset_licences(paths: list[Path]) -> list[str]:
    """The distinct licences the shards record (``licence`` metadata, ``A AND B`` split into its parts;
    ``unknown`` for a shard that records none)."""
    found: set[str] = set()
    for path in paths:
        found.update(str(shard_metadata(path).get("licence") or "unknown").split(" AND "))
    return sorted(found)


def hub_licence(licences: list[str]) -> str:
    """The card's ``license``: the Hub id when every shard carries the same known licence, else ``other``."""
    return HUB_LICENCES.get(licences[0], "other") if len(licences) == 1 else "other"


def split_files(dataset: str | Path) -> dict[str, list[Path]]:
    """Hub split name -> the dataset's shards in that split's folder (``unsplit`` for shards lying
    directly in the dataset folder), in train, validation, test order."""
    out: dict[str, list[Path]] = {}
    for path, split in dataset_files(dataset):
        out.setdefault(HF_SPLIT_NAMES[split] if split else UNSPLIT, []).append(path)
    return out


def front_matter(run: Path, datasets: dict[str, str], *, licence: str, pretty_name: str) -> str:
    """The YAML front matter (between ``---`` lines) for a card in ``run`` over ``datasets`` (name ->
    folder inside ``run``): licence, task, size bucket, one config per dataset with its splits'
    ``data_files`` and ``dataset_info`` (rows and uncompressed bytes per split, bytes of the shard files). The first
    dataset is the default config; a dataset outside ``run`` gets no config (the card cannot point at it)."""
    configs, infos, total = [], [], 0
    for name, folder in datasets.items():
        if not Path(folder).resolve().is_relative_to(run.resolve()):
            continue
        rel = Path(folder).resolve().relative_to(run.resolve()).as_posix()
        files = split_files(folder)
        folder_of = {HF_SPLIT_NAMES[s]: s for s in HF_SPLIT_NAMES}
        data_files = [{"split": split, "path": f"{rel}/{folder_of[split]}/*.parquet" if split in folder_of
                       else f"{rel}/*.parquet"} for split in files]
        configs.append({"config_name": name, "data_files": data_files, **({} if configs else {"default": True})})
        splits = []
        for split, paths in files.items():
            meta = [pq.ParquetFile(p).metadata for p in paths]
            rows = sum(m.num_rows for m in meta)
            # num_bytes: the data's uncompressed size (datasets' in-memory size, from the Parquet footer).
            data_bytes = sum(m.row_group(i).total_byte_size for m in meta for i in range(m.num_row_groups))
            splits.append({"name": split, "num_bytes": data_bytes, "num_examples": rows})
            total += rows
        size = sum(p.stat().st_size for paths in files.values() for p in paths)
        infos.append({"config_name": name, "splits": splits, "download_size": size,
                      "dataset_size": sum(s["num_bytes"] for s in splits)})
    size_category = next((label for bound, label in SIZE_CATEGORIES if total < bound), "n>100M")
    meta = {"license": licence, "pretty_name": pretty_name, "task_categories": ["keypoint-detection"],
            "tags": ["synthetic", "pose-estimation", "human-pose", "line-art", "rig2sketch"],
            "size_categories": [size_category], "configs": configs, "dataset_info": infos}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def reproduce_section(config_yaml: str, seed: int, command: list[str] | None, source: dict) -> list[str]:
    """The card's "Reproduce" section: the command line, the git commit, the seed, the resolved config
    and the package versions."""
    commit = source.get("commit", "unknown")
    state = {True: " (with uncommitted changes to tracked files: this commit alone may not reproduce the run)",
             False: "", None: ""}[source.get("modified")]
    out = ["## Reproduce", ""]
    if command:
        out += ["Command line:", "", "```bash", shlex.join(command), "```", ""]
    else:
        out += ["Started from Python, not the command line: run `rig2sketch pipeline` with the resolved config below.", ""]
    out += [f"rig2sketch commit: `{commit}`{state}.", "", f"Seed: `{seed}`. Resolved config:", "",
            "```yaml", config_yaml.rstrip(), "```", "",
            "Package versions:", "", "```json", json.dumps(package_versions(), indent=1), "```", ""]
    return out


@dataclass(frozen=True)
class Licence:
    """One asset the run used: what it is, where it came from, under which licence."""

    asset: str
    source: str
    licence: str


def _table(counter: dict[str, int], key: str) -> str:
    lines = [f"| {key} | images |", "|---|---:|"]
    lines += [f"| {name or '(none)'} | {count} |" for name, count in sorted(counter.items())]
    return "\n".join(lines)


def card_markdown(
    title: str,
    datasets: dict[str, DatasetSummary],
    *,
    config_yaml: str,
    seed: int,
    licences: list[Licence],
    images: dict[str, str],
    extra_sections: dict[str, str] | None = None,
    front: str = "",
    command: list[str] | None = None,
    source: dict | None = None,
) -> str:
    """Markdown for a run folder. ``datasets``: name -> summary; ``images``: caption -> relative path;
    ``front``: the YAML front matter (:func:`front_matter`); ``command``/``source``: the command line
    and git revision that made the run (:func:`reproduce_section`)."""
    total = sum(s.rows for s in datasets.values())
    first = next(iter(datasets), "raw")
    out = [front + f"# {title}", "", f"{total} labelled images in {len(datasets)} dataset(s), generated by rig2sketch.", ""]
    out += ["| dataset | images | shards | size (MB) |", "|---|---:|---:|---:|"]
    out += [f"| `{name}/` | {s.rows} | {s.shards} | {s.bytes / 1e6:.1f} |" for name, s in datasets.items()]
    out += ["", "Each dataset folder holds Parquet shards (schema v2, see docs/shards.md in rig2sketch) in one folder "
            "per split (`train/`, `val/`, `test/`); run reports (manifest, contact sheets, metrics) are in `_reports/`.",
            "```python", "from datasets import load_dataset",
            f"ds = load_dataset('.', '{first}')  # this folder; the configs above list each dataset's splits",
            "ds['train'][0]['image']  # a PIL image; keypoints: 51 floats, COCO-17 (x, y, v)",
            "import polars as pl", f"df = pl.read_parquet('{first}')  # every split; the split column says which", "```", ""]
    for caption, rel in images.items():
        out += [f"## {caption}", "", f"![{caption}]({rel})", ""]
    for name, s in datasets.items():
        out += [f"## `{name}`: counts", ""]
        for key in ("character", "motion", "camera", "stylizer", "style", "split"):
            if s.counts[key]:
                out += [_table(dict(s.counts[key]), key), ""]
        out += ["Visibility of COCO keypoints (v=0 not in image, 1 occluded, 2 visible):", "",
                "| keypoint | v=0 | v=1 | v=2 |", "|---|---:|---:|---:|"]
        out += [f"| {n} | {r[0]} | {r[1]} | {r[2]} |" for n, r in zip(skeleton.COCO_KEYPOINTS, s.visibility)]
        out += [""]
    for heading, body in (extra_sections or {}).items():
        out += [f"## {heading}", "", body.strip(), ""]
    out += ["## Licences of the assets used", "", "| asset | source | licence |", "|---|---|---|"]
    out += [f"| {l.asset} | {l.source} | {l.licence} |" for l in sorted(set(licences), key=lambda l: l.asset)]
    out += ["", "The `license` in the front matter is the licence every shard records (its `licence` metadata: the "
            "character's, joined with the style images' for stylized rows), or `other` when shards differ or record "
            "none; the licences of model weights above cover the weights.", ""]
    out += reproduce_section(config_yaml, seed, command, source or {"commit": "unknown", "modified": None})
    return "\n".join(out)
