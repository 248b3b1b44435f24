"""Every config composes; typos and bad values fail before work starts; validate's exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import COMMANDS, ConfigError, compose, main
from rig2sketch.registry import resolve_ref
from rig2sketch.paths import CONFIG_DIR

from tests.test_shards import make_row, write_shard

# Mandatory keys (??? in YAML) each command needs on the command line.
REQUIRED = {
    "validate": ["dataset=some/dir"],
    "export": ["dataset=some/dir", "out=some/out"],
    "predict": ["images=some/dir"],
    "score": ["checkpoint=blazepose"],
    "stylize": ["dataset=some/dir", "out=some/out"],
    "view": ["dataset=some/dir"],
}


DEFAULT_ENTRY = re.compile(r"^\s*-\s*(?:override\s+)?/?([a-z_]+)(?:@([\w.]+))?:\s*(\S+)", re.M)
# ``- optional train_stylizer: ${stylizer}``: the group option named after another group's choice.
FOLLOWING_ENTRY = re.compile(r"^\s*-\s*optional\s+([a-z_]+):\s*\$\{([a-z_]+)\}", re.M)


def defaults_entries(path: Path) -> list[tuple[str, str, str]]:
    """(group, package, option) for each group entry of a config's defaults list."""
    return [(g, package, option) for g, package, option in DEFAULT_ENTRY.findall(path.read_text())
            if (CONFIG_DIR / g).is_dir()]


def group_options() -> list[tuple[str, str, str]]:
    """(command, group, option) for every YAML option of every group a command's config names.

    A group placed with ``@_here_`` holds one command's own keys (``evaluation/export.yaml`` is
    the export command's): the command's own test composes it, not its siblings."""
    out = []
    for name in COMMANDS:
        for group, package, _ in defaults_entries(CONFIG_DIR / f"{name}.yaml"):
            if package != "_here_":
                key = f"{group}@{package}" if package else group
                out += [(name, key, p.stem) for p in sorted((CONFIG_DIR / group).glob("*.yaml"))]
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_config_composes_to_its_dataclass(name):
    cfg = compose(name, REQUIRED.get(name, []))
    assert isinstance(cfg, resolve_ref(COMMANDS[name].schema))


@pytest.mark.parametrize("name,group,option", group_options())
def test_every_group_option_composes(name, group, option):
    cfg = compose(name, REQUIRED.get(name, []) + [f"{group}={option}"])
    assert isinstance(cfg, resolve_ref(COMMANDS[name].schema))


# Recipes that replace a command's own keys (README: ``rig2sketch train evaluation@_global_=train_blazepose``):
# (command, override, a key the recipe sets, its value).
RECIPES = [("train", "evaluation@_global_=train_blazepose", "model.arch", "blazepose_full")]


@pytest.mark.parametrize("name,override,key,value", RECIPES)
def test_recipe_presets_compose(name, override, key, value):
    cfg = compose(name, REQUIRED.get(name, []) + [override])
    assert isinstance(cfg, resolve_ref(COMMANDS[name].schema))
    node = cfg
    for part in key.split("."):
        node = getattr(node, part)
    assert node == value


def test_every_yaml_under_configs_is_composed_by_some_test():
    """A preset nobody composes can rot: every file is a command's config, an option composed
    above, or named from another config's defaults list (and composed through it)."""
    covered = {CONFIG_DIR / f"{name}.yaml" for name in COMMANDS}
    covered |= {CONFIG_DIR / group.split("@")[0] / f"{option}.yaml" for _, group, option in group_options()}
    covered |= {CONFIG_DIR / o.split("@")[0] / f"{o.split('=')[1]}.yaml" for _, o, _, _ in RECIPES}
    for path in list(covered):
        covered |= {CONFIG_DIR / g / f"{o}.yaml" for g, _, o in defaults_entries(path)}
        covered |= {path.parent / f"{o}.yaml" for o in re.findall(r"^\s*-\s*([a-z_]+)\s*$", path.read_text(), re.M)}
        # composed above with each option of the group it follows (test_every_group_option_composes)
        covered |= {CONFIG_DIR / g / p.name for g, follows in FOLLOWING_ENTRY.findall(path.read_text())
                    for p in (CONFIG_DIR / follows).glob("*.yaml")}
    assert sorted(str(p.relative_to(CONFIG_DIR)) for p in set(CONFIG_DIR.rglob("*.yaml")) - covered) == []


@pytest.mark.parametrize("name, override, top", [
    ("render", "renderer.seed=5", "seed"),
    ("pipeline", "renderer.seed=5", "seed"),
    ("evaluate", "renderer.out_dir=elsewhere", "out"),
    ("pipeline", "evaluate_train.seed=5", "seed"),
])
def test_run_keys_have_one_source(name, override, top):
    with pytest.raises(ConfigError, match=f"top-level '{top}'"):
        compose(name, [override])


def test_top_level_seed_and_out_reach_the_render_jobs(tmp_path):
    from renderers.plan import plan_jobs

    cmd = compose("render", [f"out={tmp_path}", "seed=5", "renderer.characters=[ada]", "renderer.motions=[walk]"])
    renderer = cmd.renderer.in_run(cmd.out, cmd.seed)
    assert (renderer.out_dir, renderer.seed) == (str(tmp_path), 5)
    seed0 = compose("render", [f"out={tmp_path}", "renderer.characters=[ada]", "renderer.motions=[walk]"])
    assert plan_jobs(renderer)[0].seed != plan_jobs(seed0.renderer.in_run(seed0.out, seed0.seed))[0].seed


def test_misspelled_key_fails_naming_the_key():
    with pytest.raises(ConfigError, match="datset"):
        compose("validate", ["datset=x"])


def test_missing_mandatory_value_fails_naming_the_key():
    with pytest.raises(ConfigError, match="dataset"):
        compose("validate", [])


def test_cfg_prints_resolved_config(capsys):
    assert main(["validate", "--cfg", "dataset=abc"]) == 0
    assert "dataset: abc" in capsys.readouterr().out


def test_validate_exit_codes(tmp_path, capsys):
    write_shard(tmp_path / "good" / "a.parquet", [make_row(0), make_row(1)])
    assert main(["validate", f"dataset={tmp_path / 'good'}"]) == 0
    assert "OK: 2 rows" in capsys.readouterr().out
    write_shard(tmp_path / "bad" / "a.parquet", [make_row(0), {**make_row(1), "image": b"junk"}])
    assert main(["validate", f"dataset={tmp_path / 'bad'}"]) == 1
    out = capsys.readouterr().out
    assert "a.parquet row 1" in out and "INVALID" in out


def test_console_script_entry_point_runs():
    """The ``rig2sketch`` script pyproject.toml declares, run the way the installed script runs it."""
    import tomllib

    target = tomllib.loads((CONFIG_DIR.parent / "pyproject.toml").read_text())["project"]["scripts"]["rig2sketch"]
    module, _, function = target.partition(":")
    code = f"import sys; from {module} import {function}; sys.exit({function}())"
    result = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=120,
                            cwd=CONFIG_DIR.parent)
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in COMMANDS)


def test_misspelled_nested_key_suggests_the_right_one():
    with pytest.raises(ConfigError, match="did you mean 'width'\\?.*Allowed keys of RenderConfig"):
        compose("pipeline", ["renderer.widht=3"])


def test_runner_is_chosen_and_checked_at_the_top_level():
    from flows.runners.dask import DaskRunner
    from flows.runners.registry import runner_config

    cmd = compose("render", ["runner=dask", "runner.workers=4", "out=x"])
    runner = runner_config(cmd.runner)
    assert isinstance(runner, DaskRunner) and runner.workers == 4 and runner.timeout_s == 1800.0
    with pytest.raises(ConfigError, match="runner.address is not a setting of runner 'local'"):
        compose("render", ["+runner.address=tcp://h:8786"])
    with pytest.raises(ConfigError, match="runner.workers=0 is not allowed"):
        compose("pipeline", ["runner.workers=0"])


def test_out_of_range_value_fails_naming_key_and_range():
    with pytest.raises(ConfigError, match="renderer.width=3 is not allowed; use 16..8192"):
        compose("pipeline", ["renderer.width=3"])


def test_subcommand_help_lists_config_presets(capsys):
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "renderer=<default|demo|sampled|seed>" in out and "motion=<" in out
    assert "runner=<dask|local>  (default: local)" in out
