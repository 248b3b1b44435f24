"""The stylize stage on shards (no Prefect here): load the stylizer and the styles once, then turn each
render shard into a stylized shard with the same labels plus lineage.

Per source row ``r`` and copy ``k < per_image``: ``sample_id = f"{r.sample_id}~{style}"``, every label
column copied byte for byte (keypoints, joints, bbox, area, camera, intrinsics, extrinsics, extra image
columns, ...), ``image`` = the stylized PNG (same width/height), ``stylizer`` = the stylizer name,
``style`` = the style id (``a+b`` for mixtures), ``source_id`` = ``r.sample_id``, ``seed`` = the row's
derived seed, ``params`` = JSON of the stylizer settings and style weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from rig2sketch.seeding import derive_seed, stable_hash
from shards import ShardWriter, decode_png, encode_png, iter_samples, shard_content_id, shard_metadata
from stylizers.base import StylizerRunner, build_stylizer
from stylizers.config import StylizeConfig
from stylizers.style_bank import StyleBank, StyleBankError, StyleEntry


@dataclass
class LoadedStyles:
    bank: StyleBank
    ids: list[str]
    codes: torch.Tensor  # S, ...
    images: list[np.ndarray]  # H, W, 3 float32 in [0, 1], for the contact sheet and the metrics


def load_stage(cfg: StylizeConfig) -> tuple[StylizerRunner, LoadedStyles]:
    """Stylizer on its device + the selected styles' codes. Raises ``StyleBankError``/``ValueError`` early."""
    bank = StyleBank.open(cfg.style.bank).select(cfg.style.ids, cfg.style.tags)
    if cfg.style.per_image > len(bank) or cfg.style.mix > len(bank):
        raise StyleBankError(f"style.per_image={cfg.style.per_image} and style.mix={cfg.style.mix} need that many "
                             f"distinct styles, but the selection from {bank.root} has {len(bank)}")
    stylizer = build_stylizer(cfg.stylizer)
    runner = StylizerRunner.create(stylizer, cfg.stylizer.device, cfg.stylizer.batch_size)
    images = [bank.load(i, cfg.stylizer.style_size) for i in bank.ids()]
    if not cfg.stylizer.capabilities.style_images:
        return runner, model_as_style(runner, bank, images)
    codes = runner.embed_styles([torch.from_numpy(im.transpose(2, 0, 1).copy()) for im in images])
    return runner, LoadedStyles(bank, bank.ids(), codes, images)


def model_as_style(runner: StylizerRunner, bank: StyleBank, images: list[np.ndarray]) -> LoadedStyles:
    """A stylizer without style images (a GAN trained on one drawing domain): its one "style" is the model,
    id = the stylizer's name, code ``1, 0``, licence = its weights' (``stylizer.licence``). The selected bank's
    images stay as reference drawings (the contact sheet's style tile). ``StylizeConfig`` has already refused
    ``per_image``/``mix`` > 1 for such a stylizer."""
    name = runner.stylizer.name
    entry = StyleEntry(name, "", getattr(runner.stylizer, "source", name), getattr(runner.stylizer, "licence",
                                                                                  "unknown"), ("model",))
    return LoadedStyles(StyleBank(bank.root, [entry]), [name], torch.zeros(1, 0), images)


def config_hash(cfg: StylizeConfig) -> str:
    """What decides the output pixels (not the paths)."""
    d = asdict(cfg)
    keys = ("stylizer", "style", "seed") + (("fidelity",) if cfg.fidelity.mode != "off" else ())
    return stable_hash({k: d[k] for k in keys})


def plan_shards(cfg: StylizeConfig, full: bool = True) -> list[tuple[Path, Path, str]]:
    """(source shard, stylized shard, status) for every render shard of ``cfg.dataset``: "todo",
    "keep" (already stylized by this config from this very source content and, with ``full``,
    validates) or "redo" (``cfg.overwrite`` and made by another run). Raises ``ResumeConflict``
    (one line naming the shard, what differs and the fix) for a shard made by another run."""
    from shards import list_shards, shard_content_id, validate_dataset
    from shards.checksum import ShardError

    digest = config_hash(cfg)
    plan, conflicts = [], []
    root = Path(cfg.dataset)
    for src in list_shards(cfg.dataset):
        # the same split folder and name (``shards.layout``)
        dst = Path(cfg.out) / (src.relative_to(root) if src.is_relative_to(root) else src.name)
        if not dst.exists():
            plan.append((src, dst, "todo"))
            continue
        try:
            made = shard_metadata(dst)
            why = None
            if str(made.get("config_hash")) != digest:
                why = f"config_hash {made.get('config_hash')} != {digest} (stylize settings changed)"
            elif made.get("source_content") != shard_content_id(src):
                why = f"its source {src} changed since (re-rendered or edited)"
            elif full and (problems := validate_dataset([dst])):
                why = problems[0].message
        except ShardError as err:
            why = err.problem
        if why is None:
            plan.append((src, dst, "keep"))
        elif cfg.overwrite:
            plan.append((src, dst, "redo"))
        else:
            conflicts.append(f"{dst.relative_to(cfg.out)} ({why})")
    if conflicts:
        what = f"shard {conflicts[0]}" if len(conflicts) == 1 else f"{len(conflicts)} shards: {', '.join(conflicts[:3])}"
        raise ResumeConflict(f"out={cfg.out} holds {what} made by another run; re-run with overwrite=true to "
                             "re-stylize, or choose a fresh out=")
    return plan


class ResumeConflict(ValueError):
    """Stylized shards in ``out`` that this run may not keep (one line naming them and the fix)."""


def assign_styles(sample_id: str, n_styles: int, per_image: int, mix: int, run_seed: int) -> list[np.ndarray]:
    """``per_image`` weight vectors ``S`` for one render; copies use distinct (leading) styles.

    Deterministic in (run seed, sample id): a resumed or re-run job picks the same styles."""
    rng = np.random.default_rng(derive_seed(run_seed, "stylize", sample_id))
    lead = rng.permutation(n_styles)[:per_image]
    out = []
    for s in lead:
        w = np.zeros(n_styles, np.float32)
        if mix == 1:
            w[s] = 1.0
        else:
            others = rng.choice(np.setdiff1d(np.arange(n_styles), [s]), size=mix - 1, replace=False)
            w[np.concatenate([[s], others])] = rng.dirichlet(np.ones(mix)).astype(np.float32)
        out.append(w)
    return out


def style_name(weights: np.ndarray, ids: list[str]) -> str:
    nz = np.flatnonzero(weights)
    return "+".join(ids[i] for i in nz[np.argsort(-weights[nz], kind="stable")])


def _batches(rows: list[dict], size: int) -> Iterator[list[dict]]:
    """Consecutive rows of equal image size, at most ``size`` at a time."""
    chunk: list[dict] = []
    for row in rows:
        if chunk and (len(chunk) >= size or row["_rgb"].shape != chunk[0]["_rgb"].shape):
            yield chunk
            chunk = []
        chunk.append(row)
    if chunk:
        yield chunk


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """``H, W, 3`` uint8 RGB images (same size) -> ``B, 3, H, W`` float in [0, 1]."""
    return torch.from_numpy(np.stack(images).transpose(0, 3, 1, 2).copy()).float() / 255.0


def to_uint8(batch: torch.Tensor) -> np.ndarray:
    return (batch.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def licence_name(text: str) -> str:
    """The leading licence id of a licence note (``"CC0-1.0 (artwork); code MIT"`` -> ``"CC0-1.0"``)."""
    return text.split()[0].rstrip(";,") if text.strip() else "unknown"


def stylized_licence(source_licence: str, style_licences: list[str]) -> str:
    """The licence of stylized rows: the source shard's and the style images', joined with AND when
    they differ (the ``licence`` shard metadata; COCO export lists it)."""
    names = sorted({source_licence or "unknown", *map(licence_name, style_licences)})
    return " AND ".join(names)


# stylized rows (``image`` PNG bytes + labels) -> OKS ``N`` of the pose model's prediction vs the labels (NaN: none labelled)
Judge = Callable[[list[dict]], np.ndarray]


@dataclass
class StylizedShard:
    """What ``stylize_shard`` wrote: ``rows``, and with a fidelity gate what the judge saw
    (``fidelity_summary``; None with ``fidelity.mode=off``)."""

    rows: int
    fidelity: dict | None = None


def stylize_shard(src: Path, dst: Path, cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles,
                  on_rows: Callable[[int], None] | None = None, judge: Judge | None = None) -> StylizedShard:
    """Write the stylized copy of shard ``src`` to ``dst`` (atomic). ``on_rows(n)`` is called after each batch
    of ``n`` stylized rows (progress). With ``cfg.fidelity.mode`` ``flag`` or ``drop``, ``judge`` scores each
    stylized row (``FidelityGate``)."""
    gate = cfg.fidelity
    if gate.mode != "off" and judge is None:
        raise ValueError(f"fidelity.mode={gate.mode} needs a judge (the pose model); stylize through the flow")
    rows = list(iter_samples(src, decode_images=False))
    for row in rows:
        row["_rgb"] = decode_png(row["image"])
    params = runner.stylizer.params()
    source = shard_metadata(src)
    n_styles = len(styles.ids)
    used = {int(i) for row in rows for w in assign_styles(row["sample_id"], n_styles, cfg.style.per_image,
                                                          cfg.style.mix, cfg.seed) for i in np.flatnonzero(w)}
    by_id = {e.id: e for e in styles.bank.entries}
    meta = {"config_hash": config_hash(cfg), "seed": cfg.seed, "stylizer": runner.stylizer.name, "stage": "stylize",
            "source_shard": src.name, "source_metadata": source.get("config_hash", ""),
            "source_content": shard_content_id(src),
            "licence": stylized_licence(str(source.get("licence", "")),
                                        [by_id[styles.ids[i]].licence for i in sorted(used)])}
    tally: list[float] = []
    with ShardWriter(dst, metadata=meta) as writer:
        for chunk in _batches(rows, runner.batch_size):
            jobs = [(row, w) for row in chunk
                    for w in assign_styles(row["sample_id"], n_styles, cfg.style.per_image, cfg.style.mix, cfg.seed)]
            content = to_tensor([row["_rgb"] for row, _ in jobs])
            weights = torch.from_numpy(np.stack([w for _, w in jobs]))
            out = to_uint8(runner.stylize(content, styles.codes, weights))
            new = [stylized_row(row, img, w, styles.ids, runner.stylizer.name, params, cfg.seed)
                   for (row, w), img in zip(jobs, out)]
            if gate.mode != "off":
                oks = np.asarray(judge(new), np.float64)
                tally.extend(oks.tolist())
                new = judged_rows(new, oks, gate.mode, gate.threshold)
            for row in new:
                writer.write(row)
            if on_rows is not None:
                on_rows(len(jobs))
    summary = fidelity_summary(gate.mode, gate.threshold, tally) if gate.mode != "off" else None
    return StylizedShard(writer.stats.rows, summary)


def judged_rows(rows: list[dict], oks: np.ndarray, mode: str, threshold: float) -> list[dict]:
    """``flag``: every row, its ``params`` JSON gains ``label_oks`` (null: no labelled keypoint) and
    ``label_kept``; ``drop``: only rows with OKS >= ``threshold`` or no labelled keypoint."""
    kept = []
    for row, score in zip(rows, np.asarray(oks, np.float64)):
        ok = bool(np.isnan(score) or score >= threshold)
        if mode == "flag":
            params = json.loads(row["params"])
            params.update(label_oks=None if np.isnan(score) else round(float(score), 4), label_kept=ok)
            row = {**row, "params": json.dumps(params, sort_keys=True)}
        if ok or mode == "flag":
            kept.append(row)
    return kept


def fidelity_summary(mode: str, threshold: float, oks: list[float]) -> dict:
    """What the gate saw on a shard: rows scored, below ``threshold`` (dropped in ``drop`` mode), mean OKS."""
    scored = np.asarray([o for o in oks if not np.isnan(o)])
    below = int((scored < threshold).sum())
    return {"mode": mode, "threshold": threshold, "rows": len(oks), "scored": len(scored), "below": below,
            "dropped": below if mode == "drop" else 0,
            "fidelity": round(float((scored >= threshold).mean()), 4) if len(scored) else None,
            "mean_oks": round(float(scored.mean()), 4) if len(scored) else None}


def stylized_row(row: dict, image: np.ndarray, weights: np.ndarray, ids: list[str], stylizer: str,
                 params: dict, run_seed: int) -> dict:
    style = style_name(weights, ids)
    new = {k: v for k, v in row.items() if not k.startswith("_")}
    new.update({
        "sample_id": f"{row['sample_id']}~{style}",
        "image": encode_png(image),
        "stylizer": stylizer,
        "style": style,
        "source_id": row["sample_id"],
        "seed": derive_seed(run_seed, "stylize", row["sample_id"], style),
        "params": json.dumps({**params, "style_weights": {ids[i]: round(float(weights[i]), 4)
                                                          for i in np.flatnonzero(weights)}}, sort_keys=True),
    })
    return new
