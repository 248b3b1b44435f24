"""Every config composes; typos and bad values fail before work starts; validate's exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import COMMANDS, ConfigError, compose, main
from rig2sketch.paths import CONFIG_DIR

from tests.test_shards import make_row, write_shard

# Mandatory keys (??? in YAML) each command needs on the command line.
REQUIRED = {
    "validate": ["dataset=some/dir"],
    "export": ["dataset=some/dir", "out=some/out"],
    "predict": ["images=some/dir"],
    "score": ["checkpoint=blazepose"],
    "stylize": ["dataset=some/dir", "out=some/out"],
}


def group_options() -> list[tuple[str, str, str]]:
    """(command, group, option) for every YAML option of every group a command's config names."""
    out = []
    for name in COMMANDS:
        text = (CONFIG_DIR / f"{name}.yaml").read_text()
        for group_dir in sorted(p for p in CONFIG_DIR.iterdir() if p.is_dir()):
            if f"- {group_dir.name}:" in text or f"- override {group_dir.name}:" in text:
                for option in sorted(group_dir.glob("*.yaml")):
                    out.append((name, group_dir.name, option.stem))
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_config_composes_to_its_dataclass(name):
    from app.cli import _load

    cfg = compose(name, REQUIRED.get(name, []))
    assert isinstance(cfg, _load(COMMANDS[name].schema))


@pytest.mark.parametrize("name,group,option", group_options())
def test_every_group_option_composes(name, group, option):
    compose(name, REQUIRED.get(name, []) + [f"{group}={option}"])


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


def test_out_of_range_value_fails_naming_key_and_range():
    with pytest.raises(ConfigError, match="renderer.width=3 is not allowed; use 16..8192"):
        compose("pipeline", ["renderer.width=3"])


def test_subcommand_help_lists_config_presets(capsys):
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and "renderer=<dask|default|demo|sampled|seed>" in out and "motion=<" in out
