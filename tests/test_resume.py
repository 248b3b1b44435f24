"""Resume keyed on content (issue 17): a render shard is kept on a re-run only when its config
hash, job seed, input fingerprints and checksum match the run; otherwise the run refuses with one
line naming the shard, what differs and the fix (``overwrite=true``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from renderers.config import CameraConfig, FrameConfig, RenderConfig
from renderers.job import shard_metadata as job_metadata
from renderers.plan import plan_jobs
from renderers.resume import ResumeConflict, plan_resume
from rig2sketch.paths import REPO_ROOT
from shards import ShardWriter
from tests.test_shards import make_row

LOADER = "tests.render_scene:mannequin_scene"


def _cfg(out: Path, characters, **kw) -> RenderConfig:
    return RenderConfig(out_dir=str(out), characters=[str(c) for c in characters], width=64, height=64,
                        scene_loader=LOADER, frames=FrameConfig(step=10, max_frames=1),
                        camera=CameraConfig(count=1), **kw)


def _write_as(job, out: Path) -> Path:
    """The shard ``job`` would leave (its metadata, three tiny rows, in its split folder), without Blender."""
    path = out / "train" / f"{job.job_id}.parquet"
    with ShardWriter(path, metadata=job_metadata(job)) as writer:
        for i in range(3):
            writer.write({**make_row(i), "sample_id": f"{job.job_id}/{i}"})
    return path


@pytest.fixture
def run(tmp_path):
    """A run of two jobs, one reading a character file, with both shards in place."""
    character = tmp_path / "inputs" / "hero.fbx"
    character.parent.mkdir()
    character.write_bytes(b"Kaydara FBX Binary  \x00 version 1")
    cfg = _cfg(tmp_path / "raw", ["ada", character])
    for job in plan_jobs(cfg):
        _write_as(job, tmp_path / "raw")
    return cfg, character


def test_matching_shards_are_kept(run):
    cfg, _ = run
    checks, others = plan_resume(plan_jobs(cfg), cfg.out_dir, overwrite=False)
    assert [(c.job_id, c.status, c.rows) for c in checks] == [("ada__default", "keep", 3), ("hero__default", "keep", 3)]
    assert others == []


@pytest.mark.parametrize("change,expect", [
    ("seed", "ada__default.parquet (job seed"),
    ("config", "ada__default.parquet (renderer settings width 64 -> 96)"),
    ("input", "hero__default.parquet (character input name=sha256="),
    ("damage", "ada__default.parquet (cannot read rows from here on ("),
    ("legacy", "no content checksum"),
])
def test_a_shard_of_another_run_is_refused_with_one_line_and_overwrite_replaces_it(run, change, expect):
    cfg, character = run
    out = Path(cfg.out_dir)
    if change == "seed":
        cfg = replace(cfg, seed=1)
    elif change == "config":
        cfg = replace(cfg, width=96)
    elif change == "input":
        character.write_bytes(character.read_bytes() + b" edited")
    elif change == "damage":  # one bit inside the image column's data page of ada's shard
        import pyarrow.parquet as pq

        path = out / "train" / "ada__default.parquet"
        column = pq.ParquetFile(path).metadata.row_group(0).column(1)
        data = bytearray(path.read_bytes())
        data[column.data_page_offset + column.total_compressed_size - 8] ^= 0x10
        path.write_bytes(bytes(data))
    elif change == "legacy":  # rewritten by another tool: the checksum is gone
        import pyarrow.parquet as pq

        path = out / "train" / "ada__default.parquet"
        table = pq.read_table(path)
        pq.write_table(table.replace_schema_metadata({k: v for k, v in table.schema.metadata.items()
                                                      if k != b"rig2sketch.integrity"}), path)
    jobs = plan_jobs(cfg)
    with pytest.raises(ResumeConflict) as refused:
        plan_resume(jobs, out, overwrite=False)
    message = str(refused.value)
    assert "\n" not in message and expect in message and "made by another run" in message
    assert "overwrite=true" in message and "fresh out=" in message
    checks, _ = plan_resume(jobs, out, overwrite=True)
    assert "differs" in {c.status for c in checks}


def test_shards_of_another_config_not_in_this_run_are_refused_then_removed_with_overwrite(run, tmp_path):
    cfg, _ = run
    other = replace(_cfg(tmp_path / "raw", ["zed"]), width=96)
    stray = _write_as(plan_jobs(other)[0], tmp_path / "raw")
    same = _write_as(plan_jobs(_cfg(tmp_path / "raw", ["kim"]))[0], tmp_path / "raw")
    with pytest.raises(ResumeConflict, match=r"zed__default.parquet \(not written by this run: config_hash"):
        plan_resume(plan_jobs(cfg), cfg.out_dir, overwrite=False)
    checks, others = plan_resume(plan_jobs(cfg), cfg.out_dir, overwrite=True)
    assert not stray.exists() and others == [same]  # same config: part of the dataset, kept


def test_cli_refuses_before_prefect_starts(run, tmp_path):
    """The command checks the shards already in out= before the flow (no Prefect server, no
    traceback): one line naming the shard and the fix, exit code 2."""
    cfg, character = run
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "render", f"out={cfg.out_dir}", "seed=5",
         f"renderer.characters=[ada,{character}]", f"renderer.scene_loader={LOADER}", "renderer.width=64",
         "renderer.height=64", "renderer.camera.count=1", "renderer.frames.max_frames=1"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ada__default.parquet (job seed" in lines[0] and "overwrite=true" in lines[0], lines


@pytest.mark.blender
def test_manifest_lists_every_shard_and_a_refused_input_is_one_line(tmp_path, prefect_harness):
    """One job renders, one refuses its input (exit 2 of the worker, no retry): the run ends with
    that job's one line, and the manifest lists both jobs and the stray shard of the same config."""
    from flows.render import render_flow

    cfg = replace(_cfg(tmp_path / "raw", ["a", "broken"]), scene_loader="tests.render_scene:mannequin_or_refusal")
    _write_as(plan_jobs(replace(_cfg(tmp_path / "raw", ["kim"]), scene_loader=cfg.scene_loader))[0], tmp_path / "raw")
    with pytest.raises(ValueError) as refused:
        render_flow(cfg, {"kind": "local", "retries": 2})
    assert str(refused.value) == ("render job broken__default: character 'broken' is not a character file; "
                                  "use a Mixamo .fbx")
    manifest = json.loads((tmp_path / "_reports" / "raw" / "manifest.json").read_text())
    status = {tuple(e["shards"]): e["status"] for e in manifest["jobs"]}
    assert status == {("train/a__default.parquet",): "rendered", ("train/broken__default.parquet",): "failed"}
    assert manifest["other_shards"] == ["train/kim__default.parquet"]
    assert next(e for e in manifest["jobs"] if e["status"] == "failed").get("attempts") is None
