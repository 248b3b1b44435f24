"""``rig2sketch evaluate experiment=thesis_table``: the thesis experiment as a Prefect flow.

Datasets named by the experiment that do not exist yet are made first: ``raw`` with the render
flow, every ``stylize`` step from ``raw`` with the stylize flow, every ``textured`` step (PBR
maps stylized per character, ``flows/textures.py``) with the render flow on those textures. Then one task per variant
trains HRNet, one task per model scores it on every held-out set, BlazePose is scored as the
zero-shot row, and the table, chart and cross-validation matrix are written (evaluation.experiments).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from evaluation import experiments
from flows.prefect_server import prefect_api_ready
from flows.runners.registry import runner_config
from evaluation.config import ExperimentConfig, HoldoutConfig, TrainConfig, VariantConfig
from flows.textures import StylizeTexturesCommand
from renderers.config import RenderConfig
from stylizers.step import StylizeStep


@dataclass
class TexturedStep:
    """A dataset ``name`` rendered like ``raw`` (same renderer, cameras, frames) but with each
    character's PBR maps stylized (issue 15): characters with no set in ``library`` (default
    ``<out_dir>/data/<name>_textures``) are stylized first with ``texture`` settings, then the
    render uses ``renderer.textures=library`` and ``contour`` (``hed``: contours of the
    stylized shading)."""

    name: str = "pbr"
    library: str = ""
    contour: str = "hed"
    texture: StylizeTexturesCommand = field(default_factory=StylizeTexturesCommand)


@dataclass
class EvaluateCommand:
    """``experiment``: what to train and score. ``renderer`` / ``stylize``: how to make the
    datasets ``raw`` and ``<step name>`` under ``<experiment.out_dir>/data`` when
    ``experiment.datasets`` does not point at existing ones."""

    experiment: ExperimentConfig = field(default_factory=lambda: ExperimentConfig(
        variants=[VariantConfig(name="plain contours", datasets=["raw"])]))
    renderer: RenderConfig = field(default_factory=RenderConfig)
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})  # configs/runner/<kind>.yaml
    stylize: list[StylizeStep] = field(default_factory=list)
    textured: list[TexturedStep] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self.renderer.in_run(self.experiment.out_dir, self.seed)  # refuses renderer.out_dir / renderer.seed
        runner_config(self.runner)  # an unknown kind or setting fails before any work


@task(name="make-raw", cache_policy=NO_CACHE)
def make_raw(renderer: RenderConfig, runner: dict[str, Any], out: str, seed: int) -> str:
    from flows.render import render_flow

    return str(render_flow(renderer.in_run(out, seed), runner_config(runner)))


@task(name="make-stylized", cache_policy=NO_CACHE)
def make_stylized(step: StylizeStep, raw: str, out: str, seed: int) -> str:
    from flows.stylize import stylize_flow
    from stylizers.config import StylizeConfig

    # metrics=False: the stylization report is the stylize stage's own deliverable; the
    # experiment only needs the shards (and the report fails for a one-style bank).
    return str(stylize_flow(StylizeConfig(dataset=raw, out=out, stylizer=step.stylizer, style=step.style, seed=seed,
                                          metrics=False, fidelity=step.fidelity)))


@task(name="make-textured", cache_policy=NO_CACHE)
def make_textured(step: TexturedStep, renderer: RenderConfig, runner: dict[str, Any], out: str, seed: int) -> str:
    from flows.render import render_flow
    from renderers.characters.catalogue import CHARACTER_NAMES
    from rig2sketch.texture_set import texture_set_for

    library = Path(step.library or Path(out).parent / f"{step.name}_textures")
    for character in renderer.characters or list(CHARACTER_NAMES):
        if texture_set_for(library, character) is None:
            from flows.textures import stylize_textures_command

            stylize_textures_command(replace(step.texture, character=character, characters=[],
                                             out=str(library / character), seed=seed))
    textured = replace(renderer, textures=str(library), contour=step.contour)
    return str(render_flow(textured.in_run(out, seed), runner_config(runner)))


@task(name="train-variant", cache_policy=NO_CACHE, log_prints=False)
def train_variant_task(variant: VariantConfig, cfg: ExperimentConfig, holdout: HoldoutConfig) -> dict:
    return experiments.train_variant(variant, cfg, holdout)


@task(name="score-model", cache_policy=NO_CACHE, log_prints=False)
def score_task(model_path: str, sets: dict, device: str, batch_size: int) -> dict:
    return experiments.score_model(model_path, sets, device, batch_size)


@task(name="score-blazepose", cache_policy=NO_CACHE, log_prints=False)
def blazepose_task(sets: dict) -> dict:
    return experiments.score_blazepose(sets)


@task(name="label-fidelity", cache_policy=NO_CACHE, log_prints=False)
def fidelity_task(exp: ExperimentConfig, holdout: HoldoutConfig) -> dict:
    return experiments.training_data_fidelity(exp, holdout)


def _has_shards(path: str) -> bool:
    from shards import has_shards

    return has_shards(path)


def ensure_datasets(cmd: EvaluateCommand) -> ExperimentConfig:
    """Make the missing ``raw`` / stylized datasets; returns the experiment with every name mapped."""
    exp = cmd.experiment
    data = Path(exp.out_dir) / "data"
    steps = {s.name: s for s in cmd.stylize}
    textured = {t.name: t for t in cmd.textured}
    needed = {d for v in exp.variants for d in v.datasets} | set(exp.test_on)
    datasets = dict(exp.datasets)
    for name in sorted(needed):
        if name in datasets and _has_shards(datasets[name]):
            continue
        if name != "raw" and name not in steps and name not in textured and _has_shards(name):
            datasets[name] = name
            continue
        if name != "raw" and name not in steps and name not in textured:
            raise ValueError(f"dataset {name!r} is neither a directory of shards, nor 'raw', nor a stylize step "
                             f"({', '.join(steps) or 'none configured'}), nor a textured step "
                             f"({', '.join(textured) or 'none configured'}); add it to experiment.datasets, "
                             "stylize or textured")
    if any(n == "raw" or n in steps for n in needed) and not _has_shards(datasets.get("raw", "")):
        datasets["raw"] = make_raw(cmd.renderer, cmd.runner, str(data / "raw"), cmd.seed)
    for name in sorted(needed & set(steps)):
        if not _has_shards(datasets.get(name, "")):
            datasets[name] = make_stylized(steps[name], datasets["raw"], str(data / name), cmd.seed)
    for name in sorted(needed & set(textured)):
        if not _has_shards(datasets.get(name, "")):
            datasets[name] = make_textured(textured[name], cmd.renderer, cmd.runner, str(data / name), cmd.seed)
    return replace(exp, datasets=datasets)


@flow(name="evaluate-experiment", log_prints=True)
def experiment_flow(cmd: EvaluateCommand) -> Path:
    """Make data, train every variant, score everything; returns the path of table.md."""
    logger = get_run_logger()
    exp = ensure_datasets(cmd)
    holdout = experiments.effective_holdout(exp)
    logger.info("held out for validation: %s", holdout)
    sets = experiments.eval_records(exp, holdout)
    results, trained = {}, {}
    if exp.blazepose:
        results[experiments.BLAZEPOSE_ROW] = blazepose_task(sets)
    for name, path in exp.pretrained.items():
        results[name] = score_task(experiments.pretrained_path(path), sets, exp.train.device, exp.train.batch_size)
    # Variants train one after another: each uses every core (torch threads), so running
    # them side by side would only contend.
    for variant in exp.variants:
        trained[variant.name] = train_variant_task(variant, exp, holdout)
        logger.info("trained %s: %s", variant.name, {k: trained[variant.name][k] for k in ("steps", "best_AP")})
        results[variant.name] = score_task(trained[variant.name]["model"], sets, exp.train.device,
                                           exp.train.batch_size)
    fidelity = fidelity_task(exp, holdout)
    table = experiments.write_results(exp, results, trained, holdout, {k: len(v) for k, v in sets.items()}, fidelity)
    create_markdown_artifact(key="thesis-table", markdown=table.read_text()[:20000],
                             description=f"{exp.name} results")
    return table


def evaluate_command(cmd: EvaluateCommand) -> Path:
    """CLI entry of ``rig2sketch evaluate``: a writable ``experiment.out_dir`` and the renderer's
    characters and motions are checked before Prefect starts."""
    from renderers.plan import plan_jobs
    from rig2sketch.atomic import writable_dir

    writable_dir(cmd.experiment.out_dir, "experiment.out_dir")
    plan_jobs(cmd.renderer.in_run(str(Path(cmd.experiment.out_dir) / "data" / "raw"), cmd.seed))
    prefect_api_ready()
    return experiment_flow(cmd)


def run_variants(datasets: dict[str, str]) -> list[VariantConfig]:
    """Thesis rows for a pipeline run's datasets: each dataset as is, plus raw with the seed's
    augmentations."""
    variants = [VariantConfig(name="plain contours" if n == "raw" else n, datasets=[n]) for n in datasets]
    if "raw" in datasets:
        variants.append(VariantConfig(name="plain contours + augmentations", datasets=["raw"], augment="seed"))
    return variants


def evaluate_run_flow(datasets: dict[str, str], out_dir: str, seed: int, train: TrainConfig) -> str:
    """The pipeline's evaluate step: every variant of a run's datasets trained with ``train``
    (seeded with the run's ``seed``) and scored; returns table.md's path."""
    exp = ExperimentConfig(
        name="thesis_table", out_dir=out_dir, datasets=dict(datasets), variants=run_variants(datasets),
        test_on=list(datasets), train=replace(train, seed=seed))
    return str(experiment_flow(EvaluateCommand(experiment=exp, seed=seed)))


__all__ = ["EvaluateCommand", "experiment_flow", "evaluate_command", "evaluate_run_flow"]
