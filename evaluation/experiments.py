"""The thesis experiment as a library: train each dataset variant, score every model on every
held-out set, and write the results table, bar chart and cross-validation matrix.

No Prefect here: ``flows/evaluate.py`` makes the datasets (render + stylize flows) and calls
these functions as tasks.

Outputs under ``cfg.out_dir``:
    variants/<name>/            one training run each (model.safetensors, curves.png, ...)
    results.csv                 one line per (model, eval set) with every metric
    table.md                    the thesis layout: rows = training data, columns = eval sets (AP)
    cross_validation.md/.csv    train on row, test on column (AP)
    results.png                 grouped bar chart of AP
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import textwrap
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rig2sketch.atomic import atomic_path, write_text_atomic
from evaluation import blazepose
from evaluation.checkpoints import DEFAULT_CHECKPOINT, load_model
from evaluation.coco_eval import score
from evaluation.config import EvaluateConfig, ExperimentConfig, HoldoutConfig, TrainConfig, VariantConfig
from evaluation.data import PoseRecord, load_coco_records, load_shard_records
from evaluation.train import pick_device, predict_records, train
from shards import iter_samples

BLAZEPOSE_ROW = "BlazePose (pretrained, no fine-tuning)"


def resolve_dataset(name: str, cfg: ExperimentConfig) -> str:
    """A dataset name of the experiment (or a directory) -> its directory."""
    path = cfg.datasets.get(name, name)
    if not Path(path).is_dir():
        raise FileNotFoundError(f"dataset {name!r} -> {path} does not exist; list it under experiment.datasets "
                                "or let the evaluate flow make it (render + stylize)")
    return path


def characters_of(paths: list[str]) -> list[str]:
    return sorted({row["character"] for row in iter_samples(paths, columns=["character"], decode_images=False)})


def effective_holdout(cfg: ExperimentConfig) -> HoldoutConfig:
    """``cfg.holdout``, or the last ``auto_holdout`` characters of all datasets when none are named."""
    if cfg.holdout.characters or cfg.holdout.styles:
        return cfg.holdout
    paths = sorted({resolve_dataset(d, cfg) for v in cfg.variants for d in v.datasets} |
                   {resolve_dataset(d, cfg) for d in cfg.test_on})
    chars = characters_of(paths)
    if len(chars) < 2:
        raise ValueError(f"the datasets hold {len(chars)} character(s) ({chars}); holding one out for validation "
                         "needs at least two: render more characters or give experiment.holdout")
    return HoldoutConfig(characters=chars[-min(cfg.auto_holdout, len(chars) - 1):])


def train_variant(variant: VariantConfig, cfg: ExperimentConfig, holdout: HoldoutConfig) -> dict:
    """Train one variant (resumable) into ``<out_dir>/variants/<name>``; returns train's summary."""
    tcfg: TrainConfig = replace(
        cfg.train,
        datasets=[resolve_dataset(d, cfg) for d in variant.datasets],
        out_dir=str(Path(cfg.out_dir) / "variants" / (re.sub(r"[^A-Za-z0-9._-]+", "_", variant.name).strip("_") or "v")),
        augment=replace(cfg.train.augment, preset=variant.augment),
        holdout=holdout,
        init=variant.init or cfg.train.init,
    )
    return train(tcfg)


def eval_records(cfg: ExperimentConfig, holdout: HoldoutConfig) -> dict[str, list[PoseRecord]]:
    """Validation sets by name: the held-out split of each ``test_on`` dataset, then ``eval_sets``."""
    sets = {name: load_shard_records([resolve_dataset(name, cfg)], "val", holdout, cfg.max_eval_samples)
            for name in cfg.test_on}
    for es in cfg.eval_sets:
        sets[es.name] = (load_coco_records(es.path, es.annotations, cfg.max_eval_samples) if es.kind == "coco"
                         else load_shard_records([es.path], "val", holdout, cfg.max_eval_samples))
    return sets


def score_model(model_path: str, sets: dict[str, list[PoseRecord]], device: str = "auto",
                batch_size: int = 32) -> dict[str, dict[str, float]]:
    """Metrics of one trained model on every set."""
    model, mcfg = load_model(model_path)
    dev = pick_device(device)
    model.to(dev)
    return {name: score(recs, predict_records(model, recs, mcfg, dev, batch_size)) for name, recs in sets.items()}


def training_data_fidelity(cfg: ExperimentConfig, holdout: HoldoutConfig) -> dict[str, dict[str, float]]:
    """Label fidelity of each variant's training data (``cfg.label_fidelity`` judges, at most
    ``max_eval_samples`` images each): did the stylizer keep the figure its labels mark? {} when off."""
    if not cfg.label_fidelity:
        return {}
    from evaluation.fidelity import CheckpointJudge, fidelity_of

    judge = CheckpointJudge(cfg.label_fidelity, cfg.train.device, cfg.train.batch_size)
    out = {}
    for variant in cfg.variants:
        records = load_shard_records([resolve_dataset(d, cfg) for d in variant.datasets], "train", holdout,
                                     cfg.max_eval_samples)
        out[variant.name] = fidelity_of(judge.records_oks(records))
    return out


def pretrained_path(value: str) -> str:
    """A ``pretrained`` row's model: a file, ``blazepose_lite|full|heavy`` (MediaPipe's weights),
    or ``bundled`` (the default ``predict`` model)."""
    return str(DEFAULT_CHECKPOINT) if value == "bundled" else value


def score_blazepose(sets: dict[str, list[PoseRecord]]) -> dict[str, dict[str, float]]:
    model = blazepose.BlazePose()
    return {name: score(recs, blazepose.predict_records(recs, model)) for name, recs in sets.items()}


def _fmt(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def write_results(cfg: ExperimentConfig, results: dict[str, dict[str, dict[str, float]]],
                  trained: dict[str, dict], holdout: HoldoutConfig, set_sizes: dict[str, int],
                  fidelity: dict[str, dict[str, float]] | None = None) -> Path:
    """Write results.csv, table.md, cross_validation.md/.csv and results.png; returns table.md.

    ``results[row][set]`` = metrics; ``trained[row]`` = train summary (absent for BlazePose);
    ``fidelity[row]`` = label fidelity of a variant's training data (``training_data_fidelity``)."""
    fidelity = fidelity or {}
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sets = list(set_sizes)
    metric_keys = ["AP", "AP50", "AP75", "AR", "PCK"]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["training_data", "eval_set", "samples", *metric_keys, "train_samples", "steps"])
    for row, per_set in results.items():
        for s in sets:
            m = per_set[s]
            t = trained.get(row, {})
            writer.writerow([row, s, set_sizes[s], *(f"{m[k]:.4f}" for k in metric_keys),
                             t.get("train_samples", 0), t.get("steps", 0)])
    write_text_atomic(out / "results.csv", buf.getvalue())

    variant_by_name = {v.name: v for v in cfg.variants}
    lines = [f"# {cfg.name}: HRNet COCO OKS AP by training data", "",
             f"Model `{cfg.train.model.arch}` at {cfg.train.model.input_width}x{cfg.train.model.input_height}, "
             f"init: {cfg.train.init or 'scratch'}; held-out characters: {', '.join(holdout.characters) or '–'}"
             + (f"; held-out styles: {', '.join(holdout.styles)}" if holdout.styles else "") + ".",
             "Columns: evaluation sets (samples). Every figure is produced by this run; see results.csv for "
             "AP50, AP75, AR and PCK@0.2."
             + (f" Label fidelity: share of a row's training images on which the judge (`{cfg.label_fidelity}`) "
                "still finds the labelled pose (OKS >= 0.5)." if fidelity else ""), "",
             "| Training data | Augmentation | " + ("Label fidelity | " if fidelity else "")
             + " | ".join(f"{s} ({set_sizes[s]})" for s in sets) + " |",
             "|---|---|" + ("---:|" if fidelity else "") + "---:|" * len(sets)]
    for row, per_set in results.items():
        aug = variant_by_name[row].augment if row in variant_by_name else "–"
        kept = (_fmt(fidelity[row]["fidelity"]) if row in fidelity else "–") + " | " if fidelity else ""
        lines.append(f"| {row} | {aug} | {kept}" + " | ".join(_fmt(per_set[s]["AP"]) for s in sets) + " |")
    write_text_atomic(out / "table.md", "\n".join(lines) + "\n")

    # Cross-validation: trained variants (rows) x held-out dataset splits (columns).
    cv_rows = [r for r in results if r in variant_by_name]
    cv_cols = [s for s in cfg.test_on]
    cv = ["# Cross-validation (AP): train on row, test on column (held-out characters)", "",
          "| train \\ test | " + " | ".join(cv_cols) + " |", "|---|" + "---:|" * len(cv_cols)]
    cv += [f"| {r} | " + " | ".join(_fmt(results[r][c]["AP"]) for c in cv_cols) + " |" for r in cv_rows]
    write_text_atomic(out / "cross_validation.md", "\n".join(cv) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["train", *cv_cols])
    for r in cv_rows:
        w.writerow([r, *(f"{results[r][c]['AP']:.4f}" for c in cv_cols)])
    write_text_atomic(out / "cross_validation.csv", buf.getvalue())

    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(results)), 4))
    width = 0.8 / max(1, len(sets))
    x = np.arange(len(results))
    for j, s in enumerate(sets):
        vals = [results[r][s]["AP"] for r in results]
        bars = ax.bar(x + (j - (len(sets) - 1) / 2) * width, np.nan_to_num(vals), width, label=s)
        ax.bar_label(bars, labels=[_fmt(v) for v in vals], fontsize=7, padding=1)
    ax.set_xticks(x, [textwrap.fill(r, 18) for r in results], fontsize=8)
    ax.set(ylabel="COCO OKS AP", ylim=(0, 1.05), title=f"{cfg.name}: AP by training data (columns: test set)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "results.png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    write_text_atomic(out / "summary.json", json.dumps({"holdout": holdout.__dict__, "results": results,
                                                    "trained": trained, "set_sizes": set_sizes,
                                                    "label_fidelity": fidelity}, default=float,
                                                   indent=1))
    return out / "table.md"


def run_experiment(cfg: ExperimentConfig) -> Path:
    """The whole experiment in one process (the flow runs the same steps as tasks)."""
    holdout = effective_holdout(cfg)
    sets = eval_records(cfg, holdout)
    results, trained = {}, {}
    if cfg.blazepose:
        results[BLAZEPOSE_ROW] = score_blazepose(sets)
    for name, path in cfg.pretrained.items():
        results[name] = score_model(pretrained_path(path), sets, cfg.train.device, cfg.train.batch_size)
    for variant in cfg.variants:
        trained[variant.name] = train_variant(variant, cfg, holdout)
        results[variant.name] = score_model(trained[variant.name]["model"], sets, cfg.train.device,
                                            cfg.train.batch_size)
    return write_results(cfg, results, trained, holdout, {k: len(v) for k, v in sets.items()},
                         training_data_fidelity(cfg, holdout))


def score_command(cfg: EvaluateConfig) -> Path:
    """Score one checkpoint (``checkpoint=bundled``: the default predict model; ``blazepose``: zero-shot
    MediaPipe TFLite) on ``cfg.sets``: COCO sets whole,
    shard sets on their held-out split (``cfg.holdout``). Writes ``metrics.json`` and
    ``metrics.md`` under ``cfg.out_dir``; returns the markdown path."""
    sets = {}
    for es in cfg.sets:
        sets[es.name] = (load_coco_records(es.path, es.annotations, cfg.max_samples) if es.kind == "coco"
                         else load_shard_records([es.path], "val", cfg.holdout, cfg.max_samples))
    if not sets:
        raise ValueError("evaluate.sets is empty; give {name, kind: coco|shards, path, annotations}")
    if cfg.checkpoint == "blazepose":
        results = score_blazepose(sets)
    else:
        model, mcfg = load_model(pretrained_path(cfg.checkpoint), cfg.model)
        dev = pick_device(cfg.device)
        model.to(dev)
        results = {n: score(r, predict_records(model, r, mcfg, dev, cfg.batch_size)) for n, r in sets.items()}
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "metrics.json", json.dumps(results, indent=1, default=float))
    keys = ["AP", "AP50", "AP75", "AR", "PCK"]
    lines = [f"# {cfg.checkpoint}", "", "| set | samples | " + " | ".join(keys) + " |", "|---|---:|" + "---:|" * len(keys)]
    lines += [f"| {n} | {len(sets[n])} | " + " | ".join(_fmt(m[k]) for k in keys) + " |" for n, m in results.items()]
    write_text_atomic(out / "metrics.md", "\n".join(lines) + "\n")
    return out / "metrics.md"
