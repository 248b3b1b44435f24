"""``rig2sketch``: one command-line entry point, a subcommand per stage, Hydra overrides.

    rig2sketch render renderer.cameras=8 out=runs/demo
    rig2sketch render --cfg            # print the resolved config and exit
    rig2sketch validate dataset=runs/demo/dataset

Each subcommand composes ``configs/<name>.yaml`` on top of a structured-config schema (a
dataclass owned by its stage), so a misspelled key or an out-of-range value fails before any
work starts. The stage entry receives the typed dataclass, never a DictConfig.

A failure is one line on stderr: bad input (a ``ValueError`` or ``OSError``: a value, a path, a
file that is not what it claims, a full or read-only disk) exits 2, anything else (a bug, a
crash) exits 1; ``--debug`` adds the traceback and Prefect's own report of a failed run. A
program run starts ``rig2sketch.watchdog`` beside itself, so the helpers it starts (Prefect's
temporary server, render workers) stop when it is killed. A program run of a command that runs a
Prefect flow (``Command.prefect``) with no Prefect API configured starts Prefect's temporary server
itself, first thing when a core is free, and waits for it only right before its flow
(``flows.prefect_server``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rig2sketch.registry import resolve_ref


@dataclass(frozen=True)
class Command:
    help: str
    schema: str  # "module:Dataclass"
    entry: str  # "module:function" taking the dataclass; returns an exit code or a path to print
    prefect: bool = False  # runs a Prefect flow: Prefect's temporary server starts with the command


COMMANDS: dict[str, Command] = {
    "pipeline": Command(
        "the main job: render -> stylize -> validate -> export -> (evaluate) into one run folder with a dataset card",
        "flows.pipeline:PipelineConfig",
        "flows.pipeline:pipeline_command",
        prefect=True,
    ),
    "render": Command(
        "render characters x motions from many cameras as line art with COCO keypoints into Parquet shards",
        "app.commands:RenderCommand",
        "app.commands:render_command",
        prefect=True,
    ),
    "characters": Command(
        "draw a contact sheet: every bundled character in T-pose and three motions, keypoints drawn",
        "renderers.characters.config:CharacterSheetConfig",
        "renderers.characters.sheet:characters_command",
    ),
    "stylize": Command(
        "stylize render shards (AdaIN, multistyle, StyTr², CycleGAN, CUT, U-GAT-IT; the bundled StyTr² and CycleGAN "
        "weights are experimental) into new shards with the same labels plus lineage; before/after sheet; "
        "fidelity.mode=flag|drop judges each image with the pose model",
        "stylizers.config:StylizeConfig",
        "flows.stylize:stylize_command",
        prefect=True,
    ),
    "stylize-textures": Command(
        "stylize a character's PBR maps (albedo, normal, roughness, metallic) through differentiable shading; sheet",
        "flows.textures:StylizeTexturesCommand",
        "flows.textures:stylize_textures_command",
    ),
    "train-stylizer": Command(
        "train a stylizer (AdaIN decoder; multistyle injection=film|add|concat|patch; stytr2; cyclegan|cut|ugatit) "
        "on renders + the style bank",
        "app.commands:TrainStylizerCommand",
        "app.commands:train_stylizer_command",
    ),
    "evaluate": Command(
        "the thesis experiment: train HRNet on each dataset variant, score on held-out sets, write table + chart",
        "flows.evaluate:EvaluateCommand",
        "flows.evaluate:evaluate_command",
        prefect=True,
    ),
    "train": Command(
        "train an HRNet pose model on rig2sketch datasets (from scratch or a checkpoint)",
        "evaluation.config:TrainConfig",
        "evaluation.train:train_command",
    ),
    "score": Command(
        "score one checkpoint (or checkpoint=blazepose) on COCO keypoint sets or held-out shard sets",
        "evaluation.config:EvaluateConfig",
        "evaluation.experiments:score_command",
    ),
    "predict": Command(
        "COCO-format keypoint predictions for a folder of images (bundled model unless checkpoint=...)",
        "evaluation.config:PredictConfig",
        "evaluation.predict:predict",
    ),
    "export": Command(
        "export a dataset as COCO person keypoints (images + JSON) or Ultralytics YOLO pose",
        "evaluation.config:ExportConfig",
        "evaluation.export:export_dataset",
    ),
    "validate": Command(
        "check every shard of a dataset (schema, images, keypoints, unique ids); exit 0 only when clean",
        "shards.validate:ValidateConfig",
        "shards.validate:validate_command",
    ),
    "view": Command(
        "look at a dataset in the browser: a filterable grid with skeletons, every channel and lineage per sample",
        "app.viewer:ViewConfig",
        "app.viewer:view_command",
    ),
    "serve": Command(
        "register the pipeline as Prefect deployments with cron schedules from config, then serve them",
        "flows.serve:ServeConfig",
        "app.scheduled:serve_command",
    ),
}


class ConfigError(ValueError):
    """A config that does not compose or fails its checks; the message names key and allowed values."""


def compose(name: str, overrides: Sequence[str] = ()) -> Any:
    """Compose ``configs/<name>.yaml`` with ``overrides`` and return the typed dataclass."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from rig2sketch.paths import CONFIG_DIR

    ConfigStore.instance().store(name=f"{name}_schema", node=resolve_ref(COMMANDS[name].schema))
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name=name, overrides=list(overrides))
        return OmegaConf.to_object(cfg)
    except (OmegaConfBaseException, ValueError, TypeError) as err:
        raise ConfigError(_explain(err, name)) from err
    except Exception as err:  # hydra's ConfigCompositionException and friends
        if type(err).__module__.startswith(("hydra", "omegaconf")):
            raise ConfigError(_explain(err, name)) from err
        raise


def _schema_fields(schema: type) -> dict[str, list[str]]:
    """Class name -> field names for the schema dataclass and every dataclass nested in it."""
    import dataclasses
    import typing

    out: dict[str, list[str]] = {}
    todo = [schema]
    while todo:
        cls = todo.pop()
        if cls.__name__ in out:
            continue
        out[cls.__name__] = [f.name for f in dataclasses.fields(cls)]
        for hint in typing.get_type_hints(cls).values():
            for arg in (hint, *typing.get_args(hint)):
                if dataclasses.is_dataclass(arg):
                    todo.append(arg)
    return out


def _explain(err: BaseException, name: str) -> str:
    """One line: the error and its causes (without OmegaConf's ``full_key``/``object_type`` detail
    lines and Hydra's advice to append a misspelled key with ``+``), and a hint for a typo."""
    import difflib
    import re

    parts: list[str] = []
    cause: BaseException | None = err
    while cause is not None and len(parts) < 4:
        # Hydra lists choices on tab-indented lines after a colon: one comma-separated list instead.
        folded = re.sub(r":\s*\n((?:\t[^\n]*\n?)+)", lambda m: ": " + ", ".join(m.group(1).split()), str(cause))
        for line in folded.strip().splitlines():
            line = line.strip()
            if (line and line != "None" and not re.match(r"(full_key|reference_type|object_type)\b", line)
                    and not line.startswith("To append to your config use +") and line not in parts):
                parts.append(line)
        cause = cause.__cause__ or cause.__context__
    text = "; ".join(part.rstrip(".") for part in parts)
    if "no viable alternative at input" in text and re.search(r"[\[,]\s*[\w.]+=", text):
        text += "; an item holding '=' inside [...] or {...} must be quoted: overrides: [\"out=runs/x\"]"
    typo = re.search(r"Key '([^']+)' not in '([^']+)'", text)
    if typo:
        fields = _schema_fields(resolve_ref(COMMANDS[name].schema)).get(typo.group(2), [])
        close = difflib.get_close_matches(typo.group(1), fields, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        text += f"; {hint}Allowed keys of {typo.group(2)}: {', '.join(fields)}"
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rig2sketch",
        description="Synthetic pose data for drawings: render, stylize, validate, export, evaluate.",
        epilog="Each subcommand takes Hydra overrides (key=value). 'rig2sketch CMD --help' lists its config presets; "
        "'rig2sketch CMD --cfg [overrides]' prints the resolved config.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help, epilog=_config_help(name),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="Hydra overrides, e.g. out=runs/demo")
        p.add_argument("--cfg", action="store_true", help="print the resolved config and exit")
        p.add_argument("--debug", action="store_true",
                       help="on failure, print the traceback (and Prefect's report of it) after the one-line message")
    return parser


def _config_help(name: str) -> str:
    """Where a command's config lives and which presets its groups offer."""
    import re

    from rig2sketch.paths import CONFIG_DIR

    lines = [f"config: configs/{name}.yaml (print it resolved with --cfg)"]
    text = (CONFIG_DIR / f"{name}.yaml").read_text() if (CONFIG_DIR / f"{name}.yaml").exists() else ""
    for group, default in re.findall(r"^\s*-\s*([a-z_]+)(?:@[\w.]+)?:\s*(\S+)", text, flags=re.M):
        options = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        if options:
            lines.append(f"  {group}=<{'|'.join(options)}>  (default: {default})")
    return "\n".join(lines)


def _set_process_defaults(debug: bool = False) -> None:
    # The entry point is the one place environment is set: Prefect's temporary server must not
    # phone home (no network here), and its logs should not drown the progress display.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("HYDRA_FULL_ERROR", "1" if debug else "0")
    # Prefect gives its temporary server 20 s to start and each API call 60 s; on a loaded machine
    # (a training run on every core) both take longer, and a run should not fail for that.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_API_REQUEST_TIMEOUT", "300")


# Errors that mean bad input (a value, a path, a file that is not what it claims, a full or
# read-only disk): one line and exit code 2. Anything else is a bug or a crash: one line naming
# its type and exit code 1. ``--debug`` adds the traceback to either.
INPUT_ERRORS = (ValueError, OSError)


class _QuietFailures(logging.Filter):
    """Keeps Prefect's report of a failed flow or task run (a traceback, 'Finished in state
    Failed') off the console, where the command prints the failure as one line; the report still
    reaches the run's logs on the Prefect server (its own handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno >= logging.ERROR and record.name.startswith(("prefect.flow_runs", "prefect.task_runs")))


class _QuietConsoleOnFirstRunLog(logging.Filter):
    """Prefect builds its console handler when it is first imported, which may be after the
    command starts; the first flow- or task-run record puts :class:`_QuietFailures` on it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, _QuietFailures) for f in handler.filters):
                handler.addFilter(_QuietFailures())
        return True


def _quiet_prefect_console() -> None:
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _QuietConsoleOnFirstRunLog) for f in logger.filters):
            logger.addFilter(_QuietConsoleOnFirstRunLog())


def _report(command: str, err: BaseException, debug: bool) -> int:
    """Print ``err`` as one line (``--debug``: and its traceback); returns the exit code."""
    lines = str(err).strip().splitlines() or [""]
    text = lines[0] or type(err).__name__
    if isinstance(err, INPUT_ERRORS):
        code = 2
        if len(lines) > 1 and not debug:
            text += " (run with --debug for the rest)"
    else:
        code = 1
        text = f"{type(err).__name__}: {text}" + ("" if debug else " (a bug or a crash: run again with --debug for "
                                                                     "the traceback)")
    if debug:
        traceback.print_exception(err)
    print(f"rig2sketch {command}: {text}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _set_process_defaults(args.debug)
    if argv is None:  # a program run (not a call from Python): its helpers stop when it is killed
        from rig2sketch.watchdog import start_watchdog

        start_watchdog()
    # Not for calls from Python: those run under the caller's Prefect settings (a test harness).
    early = argv is None and COMMANDS[args.command].prefect and not args.cfg
    if early:
        # Prefect's temporary server starts now, beside config, imports and input checks, when a core
        # is free, else right before the flow; unless an API is configured (flows.prefect_server).
        from flows.prefect_server import core_to_spare, start_early_server

        start_early_server(os.environ, Path.cwd(), float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]),
                           now=core_to_spare())
    try:
        return _run(args)
    finally:
        if early:
            from flows.prefect_server import stop_early_server

            stop_early_server()  # a refused command kills it at once; a finished flow's logs go first


def _run(args: argparse.Namespace) -> int:
    try:
        cfg = compose(args.command, args.overrides)
    except ConfigError as err:
        if args.debug:
            traceback.print_exception(err)
        print(f"rig2sketch {args.command}: bad config: {err}", file=sys.stderr)
        return 2
    if args.cfg:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(OmegaConf.structured(cfg)), end="")
        return 0
    from rig2sketch.versions import record_command_line

    record_command_line(["rig2sketch", args.command, *args.overrides])
    try:
        entry = resolve_ref(COMMANDS[args.command].entry)
        if not args.debug:
            _quiet_prefect_console()
        result = entry(cfg)
    except KeyboardInterrupt:
        print(f"rig2sketch {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        return _report(args.command, err, args.debug)
    if isinstance(result, int):
        return result
    if result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
