"""Stylize flow: render shards -> stylized shards (same labels + lineage), a contact sheet and metrics.

    <out>/                                         shards only (shards.layout)
      <split>/<same names as the input shards>.parquet   one stylized shard per render shard
    <out's parent>/_reports/<out's name>/
      contact_sheet.png      render | style | stylized copies | labels on stylized
      metrics.json           content/style loss + Fréchet distance, alpha vs alpha=0 (``metrics: false``: skipped)
      stylize.json           config, config hash, every shard with its status, counts

Progress: a ``0/N`` line before the first shard, lines as images are written, and the metrics
step's own line (it runs the stylizer twice more on ``metrics_samples`` renders).

Resumable: a shard already in ``out`` (shards are written atomically, so present = complete) made with
the same config hash from the same source content (checksum) that validates is skipped; one made by
another run is refused with one line (``overwrite=true`` re-stylizes it; ``stylizers.stage.plan_shards``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.prefect_server import prefect_api_ready
from rig2sketch.atomic import write_json_atomic
from rig2sketch.leftovers import remove_stale_temp_files
from rig2sketch.progress import StageProgress
from shards import SPLITS, list_shards, reports_dir
from shards.reader import open_shard
from stylizers.base import StylizerRunner
from stylizers.config import StylizeConfig
from stylizers.report import write_reports
from stylizers.stage import Judge, LoadedStyles, StylizedShard, config_hash, load_stage, plan_shards, stylize_shard


@task(name="stylize-shard", cache_policy=NO_CACHE)
def stylize_shard_task(src: Path, dst: Path, cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles,
                       progress: StageProgress, judge: Judge | None) -> StylizedShard:
    return stylize_shard(src, dst, cfg, runner, styles, on_rows=lambda n: progress.update(images=n), judge=judge)


@task(name="stylize-report", cache_policy=NO_CACHE)
def report_task(cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles) -> dict:
    return write_reports(cfg, runner, styles)


@flow(name="stylize", log_prints=True)
def stylize_flow(cfg: StylizeConfig) -> Path:
    """Stylize every shard of ``cfg.dataset`` into ``cfg.out``; return ``cfg.out``."""
    logger = get_run_logger()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    record = reports_dir(out) / "stylize.json"
    for folder in (out, *(out / split for split in SPLITS)):
        for path in remove_stale_temp_files(folder):
            logger.info("removed %s (left by a killed run)", path)
    plan = plan_shards(cfg)  # refuses shards made by another run unless cfg.overwrite
    todo = [(src, dst) for src, dst, status in plan if status != "keep"]
    logger.info("stylize: %d shards, %d already done, %d to do", len(plan), len(plan) - len(todo), len(todo))
    if not todo and record.exists():
        return out  # everything was done by an earlier run, reports included
    progress = StageProgress(stage="stylize", total_jobs=len(todo), unit="shards")
    progress.update(force=True)  # the 0/N line, before the stylizer loads and the first shard ends
    runner, styles = load_stage(cfg)
    logger.info("stylizer %s on %s (%s), %d styles", runner.stylizer.name, runner.device, runner.dtype, len(styles.ids))
    judge = None
    if cfg.fidelity.mode != "off":
        from evaluation.fidelity import CheckpointJudge

        judge = CheckpointJudge(cfg.fidelity.checkpoint, cfg.fidelity.device, cfg.fidelity.batch_size)
        logger.info("fidelity gate: %s below OKS %.2f (judge %s)", cfg.fidelity.mode, cfg.fidelity.threshold,
                    cfg.fidelity.checkpoint)
    total, gated = 0, previous_fidelity(record)
    for src, dst in todo:
        done = stylize_shard_task(src, dst, cfg, runner, styles, progress, judge)
        total += done.rows
        if done.fidelity is not None:
            gated[str(dst.relative_to(out))] = done.fidelity
        progress.update(jobs=1, force=True)
    report = report_task(cfg, runner, styles)
    status_word = {"keep": "skipped", "todo": "stylized", "redo": "re-stylized"}
    shards = []
    for src, dst, status in plan:
        name = str(dst.relative_to(out))
        shards.append({"shard": name, "source": str(src), "status": status_word[status],
                       **({"fidelity": gated[name]} if name in gated else {})})
    summary = {"config": asdict(cfg), "config_hash": config_hash(cfg), "shards": shards,
               "rows_written_this_run": total, "metrics": report}
    if cfg.fidelity.mode != "off":
        summary["fidelity"] = fidelity_totals(cfg.fidelity.mode, [s["fidelity"] for s in shards if "fidelity" in s])
        logger.info("fidelity: %s", json.dumps(summary["fidelity"]))
    write_json_atomic(record, summary)
    if report:
        logger.info("metrics: %s", json.dumps(report["by_alpha"]))
    return out


def previous_fidelity(record: Path) -> dict[str, dict]:
    """Per-shard fidelity summaries of an earlier run of this out (kept shards keep theirs on resume)."""
    try:
        old = json.loads(record.read_text())
    except (OSError, ValueError):
        return {}
    return {s["shard"]: s["fidelity"] for s in old.get("shards", []) if isinstance(s, dict) and "fidelity" in s}


def fidelity_totals(mode: str, per_shard: list[dict]) -> dict:
    """The gate over all shards: rows judged, rows below the threshold (dropped with ``drop``), label fidelity
    (share of scored rows at OKS >= threshold) and mean OKS, weighted by rows scored."""
    scored = sum(s["scored"] for s in per_shard)
    below = sum(s["below"] for s in per_shard)
    mean = sum((s["mean_oks"] or 0.0) * s["scored"] for s in per_shard) / scored if scored else None
    return {"mode": mode, "shards": len(per_shard), "rows": sum(s["rows"] for s in per_shard), "scored": scored,
            "below": below, "dropped": below if mode == "drop" else 0,
            "fidelity": round(1 - below / scored, 4) if scored else None,
            "mean_oks": round(mean, 4) if mean is not None else None}


def stylize_command(cfg: StylizeConfig) -> Path:
    """``rig2sketch stylize``: what can be checked before Prefect starts (the dataset's shards,
    a writable ``out``, the style bank, shards already in ``out``: footers only), then the flow."""
    from rig2sketch.atomic import writable_dir
    from stylizers.style_bank import StyleBank

    for src in list_shards(cfg.dataset):  # FileNotFoundError naming the folder
        open_shard(src, columns=[])  # ShardError: a foreign or damaged footer, before any model loads
    writable_dir(cfg.out, "out")
    StyleBank.open(cfg.style.bank).select(cfg.style.ids, cfg.style.tags)
    if cfg.fidelity.mode != "off" and cfg.fidelity.checkpoint != "bundled" and not Path(cfg.fidelity.checkpoint).is_file():
        raise FileNotFoundError(f"fidelity.checkpoint={cfg.fidelity.checkpoint}: no such file; pass a checkpoint from "
                                "`rig2sketch train` or fidelity.checkpoint=bundled")
    plan_shards(cfg, full=False)
    prefect_api_ready()
    return stylize_flow(cfg)
