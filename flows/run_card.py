"""Writes a pipeline run's dataset card (README.md), summary.json, config.yaml and sample grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rig2sketch.atomic import write_bytes_atomic, write_json_atomic, write_text_atomic
from rig2sketch.drawing import draw_pose, grid
from flows.licences import character_licences, style_licences, weights_licences
from rig2sketch.paths import DATA_DIR
from rig2sketch.versions import command_line, source_revision
from shards import encode_png, iter_samples, list_shards, reports_dir
from shards.card import card_markdown, dataset_licences, front_matter, hub_licence
from shards.summary import summarize


def sample_grid(datasets: dict[str, str], n: int, seed: int) -> np.ndarray:
    """Rows: ``n`` raw samples drawn with ``seed``; columns: raw and each stylized version of it."""
    raw_ids = [s["sample_id"] for s in iter_samples(datasets["raw"], columns=["sample_id"], decode_images=False)]
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(raw_ids, size=min(n, len(raw_ids)), replace=False).tolist()) if raw_ids else set()
    cells: dict[tuple[str, str], np.ndarray] = {}
    for name, path in datasets.items():
        for s in iter_samples(path, columns=["sample_id", "source_id", "image", "keypoints"]):
            key = s["source_id"] or s["sample_id"]
            if key in chosen and (name, key) not in cells:
                cells[(name, key)] = draw_pose(s["image"], s["keypoints"])
    images, labels = [], []
    for key in sorted(chosen):
        for name in datasets:
            if (name, key) in cells:
                images.append(cells[(name, key)])
                labels.append(f"{name}: {key}")
            else:
                images.append(np.full((8, 8, 3), 255, np.uint8))
                labels.append(f"{name}: -")
    return grid(images, columns=len(datasets), cell=256, labels=labels)


def write_run_card(cfg: Any, datasets: dict[str, str], extra_sections: dict[str, str]) -> Path:
    """Write README.md (the card, with the Hub's YAML front matter), summary.json, config.yaml and
    sample_grid.png into ``cfg.out``."""
    from omegaconf import OmegaConf

    run = Path(cfg.out)
    summaries = {name: summarize(path) for name, path in datasets.items()}
    config_yaml = OmegaConf.to_yaml(OmegaConf.structured(cfg))
    write_text_atomic(run / "config.yaml", config_yaml)
    write_json_atomic(run / "summary.json", {name: s.to_json() for name, s in summaries.items()})
    write_bytes_atomic(run / "sample_grid.png", encode_png(sample_grid(datasets, max(1, cfg.sample_grid // max(1, len(datasets))), cfg.seed)))

    characters = sorted({c for s in summaries.values() for c in s.counts["character"]})
    licences = character_licences(characters)
    for step in cfg.stylize:
        used = sorted(summaries[step.name].counts["style"]) if step.name in summaries else []
        licences += style_licences(step.style.bank, used)
    cards = sorted((DATA_DIR / "weights").glob("*/MODEL_CARD.md")) if (DATA_DIR / "weights").exists() else []
    used_cards = [c for c in cards if c.parent.name in {s.stylizer.name for s in cfg.stylize} | ({"hed"} if cfg.renderer.contour == "hed" else set())]
    from stylizers.multistyle import BUNDLED_GENERATORS

    used_cards += [BUNDLED_GENERATORS[s.stylizer.weights] / "MODEL_CARD.md" for s in cfg.stylize
                   if s.stylizer.name == "multistyle" and s.stylizer.weights in BUNDLED_GENERATORS]
    licences += weights_licences(used_cards)

    images = {"Sample grid (raw render and its stylized versions, keypoints drawn)": "sample_grid.png"}
    for name, path in datasets.items():
        sheet = (reports_dir(path) / "contact_sheet.png").resolve()
        if sheet.exists():
            images[f"Contact sheet: {name}"] = str(sheet.relative_to(run.resolve())) if sheet.is_relative_to(run.resolve()) else str(sheet)
    licence = hub_licence(dataset_licences([p for path in datasets.values() for p in list_shards(path)]))
    text = card_markdown(
        f"rig2sketch dataset: {cfg.name}",
        summaries,
        config_yaml=config_yaml,
        seed=cfg.seed,
        licences=licences,
        images=images,
        extra_sections=extra_sections,
        front=front_matter(run, datasets, licence=licence, pretty_name=f"rig2sketch {cfg.name}"),
        command=command_line(),
        source=source_revision(),
    )
    return write_text_atomic(run / "README.md", text)
