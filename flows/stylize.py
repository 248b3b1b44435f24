"""Stylize flow: render shards -> stylized shards (same labels + lineage), a contact sheet and metrics.

    <out>/                                         shards only (shards.layout)
      <split>/<same names as the input shards>.parquet   one stylized shard per render shard
    <out's parent>/_reports/<out's name>/
      contact_sheet.png      render | style | stylized copies | labels on stylized
      metrics.json           content/style loss + Fréchet distance, alpha vs alpha=0 (``metrics: false``: skipped)
      stylize.json           config, config hash, counts

Progress: a ``0/N`` line before the first shard, lines as images are written, and the metrics
step's own line (it runs the stylizer twice more on ``metrics_samples`` renders).

Resumable: a shard already in ``out`` (shards are written atomically, so present = complete) with the
same config hash is skipped; one made with another config is an error (choose a fresh ``out``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rig2sketch.atomic import write_json_atomic
from rig2sketch.progress import StageProgress
from shards import list_shards, reports_dir, shard_metadata
from stylizers.base import StylizerRunner
from stylizers.config import StylizeConfig
from stylizers.report import write_reports
from stylizers.stage import LoadedStyles, config_hash, load_stage, stylize_shard


@task(name="stylize-shard", cache_policy=NO_CACHE)
def stylize_shard_task(src: Path, dst: Path, cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles,
                       progress: StageProgress) -> int:
    return stylize_shard(src, dst, cfg, runner, styles, on_rows=lambda n: progress.update(images=n))


@task(name="stylize-report", cache_policy=NO_CACHE)
def report_task(cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles) -> dict:
    return write_reports(cfg, runner, styles)


@flow(name="stylize", log_prints=True)
def stylize_flow(cfg: StylizeConfig) -> Path:
    """Stylize every shard of ``cfg.dataset`` into ``cfg.out``; return ``cfg.out``."""
    logger = get_run_logger()
    sources = list_shards(cfg.dataset)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    record = reports_dir(out) / "stylize.json"
    digest = config_hash(cfg)
    todo = []
    for src in sources:
        dst = out / src.relative_to(cfg.dataset)  # the same split folder and name
        if dst.exists():
            made_with = shard_metadata(dst).get("config_hash")
            if str(made_with) != digest:
                raise ValueError(f"{dst} was made with another stylize config ({made_with} != {digest}); "
                                 "use a fresh out= folder or delete the old shards")
            continue
        todo.append((src, dst))
    logger.info("stylize: %d shards, %d already done, %d to do", len(sources), len(sources) - len(todo), len(todo))
    if not todo and record.exists():
        return out  # everything was done by an earlier run, reports included
    progress = StageProgress(stage="stylize", total_jobs=len(todo), unit="shards")
    progress.update(force=True)  # the 0/N line, before the stylizer loads and the first shard ends
    runner, styles = load_stage(cfg)
    logger.info("stylizer %s on %s (%s), %d styles", runner.stylizer.name, runner.device, runner.dtype, len(styles.ids))
    total = 0
    for src, dst in todo:
        total += stylize_shard_task(src, dst, cfg, runner, styles, progress)
        progress.update(jobs=1, force=True)
    report = report_task(cfg, runner, styles)
    write_json_atomic(record, {"config": asdict(cfg), "config_hash": digest, "shards": len(sources),
                               "rows_written_this_run": total, "metrics": report})
    if report:
        logger.info("metrics: %s", json.dumps(report["by_alpha"]))
    return out
