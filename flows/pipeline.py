"""The main job: render -> stylize -> validate -> export -> (evaluate), one run folder.

    runs/demo/
      README.md            dataset card (Hub front matter, counts, visibility, sample grid, config, licences,
                           the command line and commit that reproduce it)
      config.yaml          the resolved config
      raw/<split>/         render shards, one folder per split (shards.layout: nothing else in raw/)
      <stylize step>/      stylized shards, one folder per step (e.g. multistyle_1/), same split folders
      _reports/<dataset>/  manifest, summary, contact sheet, metrics of each dataset's stage
      export/<format>/<dataset>/
      sample_grid.png
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.concurrency.sync import concurrency
from prefect.tasks import exponential_backoff

from flows.prefect_server import prefect_api_ready
from flows.runners.registry import runner_config
from renderers.config import RenderConfig
from rig2sketch.atomic import write_json_atomic
from rig2sketch.seeding import stable_hash
from evaluation.config import TrainConfig
from evaluation.exporters.registry import EXPORT_FORMATS
from stylizers.step import StylizeStep

HEAVY_LIMIT = "rig2sketch-heavy"


@dataclass
class PipelineConfig:
    """``rig2sketch pipeline``: everything of one run under ``out``.

    ``export``: formats written for every dataset (``coco``, ``yolo``); ``evaluate``: also run the
    thesis-table experiment on the run's datasets (slow), training with ``evaluate_train``
    (``configs/train_recipe/*.yaml``; its seed is the run's ``seed``); ``heavy_concurrency``: how
    many heavy stage tasks (stylize, export) may run at once across all flow runs on the Prefect server.
    """

    out: str = "runs/demo"
    name: str = "demo"
    seed: int = 0
    renderer: RenderConfig = field(default_factory=RenderConfig)
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})  # configs/runner/<kind>.yaml
    stylize: list[StylizeStep] = field(default_factory=lambda: [StylizeStep()])
    export: list[str] = field(default_factory=lambda: ["coco"])
    evaluate: bool = False
    evaluate_train: TrainConfig = field(default_factory=TrainConfig)
    heavy_concurrency: int = 1
    sample_grid: int = 16
    overwrite: bool = False  # re-render / re-stylize shards in out made by another run instead of refusing

    def __post_init__(self) -> None:
        names = [s.name for s in self.stylize]
        if len(set(names)) != len(names) or "raw" in names or "export" in names:
            raise ValueError(f"stylize[].name must be unique and not 'raw'/'export', got {names}")
        bad = [f for f in self.export if f not in EXPORT_FORMATS]
        if bad:
            raise ValueError(f"export={self.export}: unknown format(s) {bad}; choose from {', '.join(EXPORT_FORMATS.names())}")
        if "yolo" in self.export and self.renderer.split.by == "none":  # fail before rendering, not at export
            raise ValueError("export=[..., yolo] needs val rows (Ultralytics validates on them), but split=none puts "
                             "every row in one split: choose split=character|motion|camera")
        if self.heavy_concurrency < 1:
            raise ValueError(f"heavy_concurrency={self.heavy_concurrency}: must be >= 1")
        self.renderer.in_run(self.out, self.seed)  # refuses renderer.out_dir / renderer.seed
        runner_config(self.runner)  # an unknown kind or setting fails before any work
        if self.evaluate_train.seed != 0:
            raise ValueError(f"evaluate_train.seed={self.evaluate_train.seed} is set, but the run's evaluation takes the "
                             f"top-level 'seed': write seed={self.evaluate_train.seed} instead")


def _dataset_fingerprint(path: str) -> str:
    """Paths (under the split folders), content ids (stored checksums) and sizes and times of a
    dataset's shards: another content, or a file touched since, is another dataset."""
    from shards import dataset_files, shard_content_id

    files = [f for f, _ in dataset_files(path)]
    return stable_hash([(f.relative_to(path).as_posix(), shard_content_id(f), f.stat().st_size, f.stat().st_mtime_ns)
                        for f in files])


def _validate_key(context, parameters) -> str:
    return f"validate-{_dataset_fingerprint(parameters['dataset'])}"


@task(
    name="validate",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    cache_key_fn=_validate_key,
    persist_result=True,
)
def validate_task(dataset: str) -> int:
    """Validate a dataset; raises when it has problems (so the run fails loudly). Returns rows."""
    from shards import count_rows, validate_dataset

    problems = validate_dataset(dataset)
    if problems:
        raise ValueError(f"{dataset} failed validation with {len(problems)} problem(s), the first: {problems[0]}; "
                         f"'rig2sketch validate dataset={dataset}' lists them all")
    rows = count_rows(dataset)
    get_run_logger().info("validated %s: %d rows", dataset, rows)
    return rows


@task(name="export", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2))
def export_task(dataset: str, fmt: str, out: str) -> str:
    """Export ``dataset`` to ``out``; skipped when ``out`` holds an export of these very shards.

    The export is written to a hidden sibling folder and renamed into place, so a crash never
    leaves a half export that looks complete.
    """
    from evaluation.config import ExportConfig
    from evaluation.export import export_dataset

    target = Path(out)
    marker = target / "_rig2sketch_export.json"
    fingerprint = _dataset_fingerprint(dataset)
    if marker.exists() and json.loads(marker.read_text()).get("dataset_fingerprint") == fingerprint:
        get_run_logger().info("export %s is up to date", target)
        return str(target)
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with concurrency(HEAVY_LIMIT, occupy=1, strict=False):
        export_dataset(ExportConfig(dataset=dataset, out=str(partial), format=fmt))
    write_json_atomic(partial / marker.name, {"dataset": dataset, "format": fmt, "dataset_fingerprint": fingerprint})
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return str(target)


def stylize_config(cfg: PipelineConfig, step: StylizeStep, raw: str) -> "StylizeConfig":
    """The stylize stage's config for one step of the run: ``raw`` into ``<out>/<step.name>``."""
    from stylizers.config import StylizeConfig

    return StylizeConfig(dataset=raw, out=str(Path(cfg.out) / step.name), stylizer=step.stylizer, style=step.style,
                         seed=cfg.seed, metrics=step.metrics, overwrite=cfg.overwrite, fidelity=step.fidelity)


@task(name="dataset-card", retries=1)
def card_task(cfg: PipelineConfig, datasets: dict[str, str], extra_sections: dict[str, str]) -> str:
    from flows.run_card import write_run_card

    return str(write_run_card(cfg, datasets, extra_sections))


def _run_name() -> str:
    from prefect.runtime import flow_run

    cfg = flow_run.parameters.get("cfg")
    name = getattr(cfg, "name", None) or (cfg or {}).get("name", "run")
    return f"pipeline-{name}"


@flow(name="rig2sketch-pipeline", flow_run_name=_run_name, log_prints=True)
def pipeline_flow(cfg: PipelineConfig) -> Path:
    """Run every stage into ``cfg.out``; returns the run folder. A re-run resumes: each stage
    skips work whose outputs exist and validate."""
    from flows.render import render_flow
    from flows.stylize import stylize_flow

    from prefect.client.orchestration import get_client

    logger = get_run_logger()
    run = Path(cfg.out)
    run.mkdir(parents=True, exist_ok=True)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(HEAVY_LIMIT, cfg.heavy_concurrency)

    raw = render_flow(cfg.renderer.in_run(str(run / "raw"), cfg.seed), runner_config(cfg.runner), cfg.overwrite)
    datasets: dict[str, str] = {"raw": str(raw)}
    validate_task(str(raw))

    for step in cfg.stylize:
        logger.info("stylize step %s", step.name)
        with concurrency(HEAVY_LIMIT, occupy=1, strict=False):
            out = stylize_flow(stylize_config(cfg, step, str(raw)))
        datasets[step.name] = str(out)
    validations = [validate_task.submit(d) for name, d in datasets.items() if name != "raw"]
    rows = {name: f.result() for name, f in zip([n for n in datasets if n != "raw"], validations)}

    exports = {
        (name, fmt): export_task.submit(path, fmt, str(run / "export" / fmt / name))
        for name, path in datasets.items()
        for fmt in cfg.export
    }
    export_paths = {f"{name} ({fmt})": f.result() for (name, fmt), f in exports.items()}

    extra: dict[str, str] = {}
    if export_paths:
        extra["Exports"] = "\n".join(f"- {k}: `{Path(v).relative_to(run)}`" for k, v in export_paths.items())
    if cfg.evaluate:
        from flows.evaluate import evaluate_run_flow

        table = evaluate_run_flow(datasets, str(run / "evaluation"), cfg.seed, cfg.evaluate_train)
        extra["Evaluation (HRNet, COCO OKS AP)"] = Path(table).read_text()

    card = Path(card_task(cfg, datasets, extra))
    create_markdown_artifact(
        key=f"rig2sketch-{stable_hash(cfg.name, 8)}",
        markdown=card.read_text()[:20000],
        description=f"dataset card of {run}",
    )
    from shards import reports_dir

    for name, path in datasets.items():
        sheet = reports_dir(path) / "contact_sheet.png"
        if sheet.exists():
            create_link_artifact(link=sheet.resolve().as_uri(), link_text=f"{name} contact sheet")
    logger.info("pipeline done: %s (%s)", run, json.dumps({"raw": "rendered", **rows}))
    return run


def pipeline_command(cfg: PipelineConfig) -> int:
    """``rig2sketch pipeline``: checks what it can before Prefect starts (a writable ``out``, every
    character and motion, render shards already there, the style banks), then runs the flow."""
    from renderers.plan import plan_jobs
    from renderers.resume import plan_resume
    from rig2sketch.atomic import writable_dir
    from stylizers.style_bank import StyleBank

    writable_dir(cfg.out, "out")
    raw = cfg.renderer.in_run(str(Path(cfg.out) / "raw"), cfg.seed)
    jobs = plan_jobs(raw, runner_config(cfg.runner).parallel_jobs)
    if not cfg.overwrite:
        plan_resume(jobs, raw.out_dir, overwrite=False, full=False)
    for step in cfg.stylize:
        StyleBank.open(step.style.bank).select(step.style.ids, step.style.tags)
    prefect_api_ready()
    print(pipeline_flow(cfg))
    return 0
