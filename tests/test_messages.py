"""Messages (issue 17): bad input is one line naming the input, the problem and the fix, exit code
2, checked before Prefect starts where it can be; the traceback only with ``--debug``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rig2sketch.paths import REPO_ROOT
from rig2sketch.weights import WeightsError

# A Prefect API nobody serves: a command that reaches Prefect fails loudly instead of passing.
NO_PREFECT = "http://127.0.0.1:9/api"


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PREFECT_API_URL": NO_PREFECT}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_line(done: subprocess.CompletedProcess, *expected: str) -> str:
    """The single stderr line of a refused command (exit 2), holding every ``expected`` piece."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for piece in expected:
        assert piece in lines[0], lines[0]
    return lines[0]


def test_unknown_names_and_bad_files_are_refused_before_prefect(tmp_path):
    text = tmp_path / "hero.fbx"
    text.write_text("this is not an FBX\n")
    mocap = tmp_path / "take.bvh"
    mocap.write_text("MOTION\nFrames: 1\n")
    small = ["renderer.width=64", "renderer.height=64", "renderer.camera.count=1", f"out={tmp_path / 'out'}"]
    one_line(cli("render", "renderer.characters=[zed]", *small), "unknown character 'zed'", "choose", "ada")
    one_line(cli("render", f"renderer.characters=[{text}]", *small), str(text), "is not an FBX file", "download it again")
    one_line(cli("render", "renderer.characters=[ada]", f"renderer.motions=[{mocap}]", *small),
             "is not a BVH file", "export the mocap as BVH")
    one_line(cli("render", "renderer.characters=[ada]", f"renderer.motions=[{tmp_path / 'gone.bvh'}]", *small),
             "gone.bvh' does not exist", "check the path")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unwritable_out_is_named_before_any_work(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should go")
    one_line(cli("render", "renderer.characters=[ada]", f"out={blocker / 'run'}"),
             f"out={blocker / 'run'} is not a writable folder", "choose another out=")


def test_a_text_file_is_not_a_checkpoint(tmp_path):
    from evaluation.checkpoints import load_state, read_model_config

    for name in ("notes.pth", "notes.safetensors"):
        (tmp_path / name).write_text("hello, these are my notes\n")
    with pytest.raises(WeightsError, match=r"notes\.pth is not a PyTorch checkpoint \(it starts like text\)"):
        load_state(tmp_path / "notes.pth")
    with pytest.raises(WeightsError, match=r"notes\.safetensors is not a safetensors file"):
        read_model_config(tmp_path / "notes.safetensors")
    with pytest.raises(WeightsError, match=r"is not a safetensors file"):
        load_state(tmp_path / "notes.safetensors")
    (tmp_path / "images").mkdir()
    one_line(cli("predict", f"images={tmp_path / 'images'}", f"checkpoint={tmp_path / 'notes.pth'}"),
             "checkpoint", "notes.pth is not a PyTorch checkpoint", "give a .safetensors file")


def test_a_foreign_parquet_is_named_not_a_key_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"sample_id": ["a"], "label": [1]}), data / "foreign.parquet")
    line = one_line(cli("export", f"dataset={data}", f"out={tmp_path / 'coco'}"),
                    str(data / "foreign.parquet"), "not a rig2sketch v2 shard", "missing column 'image'", "re-render")
    assert "KeyError" not in line and not (tmp_path / "coco").exists()


def test_debug_adds_the_traceback(tmp_path):
    one_line(cli("validate", f"dataset={tmp_path / 'nowhere'}"), "no dataset at", "nowhere")
    done = cli("export", f"dataset={tmp_path / 'nowhere'}", f"out={tmp_path / 'x'}", "--debug")
    assert done.returncode == 2 and "Traceback (most recent call last)" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("rig2sketch export: no dataset at")


@pytest.mark.blender
@pytest.mark.slow
def test_a_flow_that_fails_on_bad_input_prints_one_line_not_prefects_traceback(tmp_path):
    """The render flow starts Prefect's temporary server, the one job refuses its input in the
    worker: the user sees that one line, not Prefect's traceback and 'Finished in state Failed'."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "render", f"out={tmp_path / 'raw'}", "renderer.characters=[broken]",
         "renderer.scene_loader=tests.render_scene:mannequin_or_refusal", "renderer.width=64", "renderer.height=64",
         "renderer.camera.count=1", "renderer.frames.max_frames=1"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("[render]")]  # progress
    assert done.returncode == 2 and "Traceback" not in done.stderr and "Finished in state" not in done.stderr
    assert lines == ["rig2sketch render: render job broken__default: character 'broken' is not a character file; "
                     "use a Mixamo .fbx"], done.stderr
