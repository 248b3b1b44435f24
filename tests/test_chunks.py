"""renderer.chunks: one (character, motion) job cut into consecutive parts, one process and shard each,
with exactly the rows one process writes (issue 18: every core busy on one long motion)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from renderers.config import CameraConfig, FrameConfig, RenderConfig
from renderers.plan import chunk_count, config_hash, plan_jobs
from renderers.shots import frame_chunk


def test_frame_chunks_are_consecutive_and_cover_every_frame():
    frames = list(range(0, 70, 10))
    for chunks in (1, 2, 3, 7, 9):
        parts = [frame_chunk(frames, i, chunks) for i in range(chunks)]
        assert sum(parts, []) == frames
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError, match="chunk 2 of 2"):
        frame_chunk(frames, 2, 2)


def cfg(tmp_path, **kw) -> RenderConfig:
    return RenderConfig(out_dir=str(tmp_path), characters=["ada"], motions=["walk"], width=64, height=64,
                        threads=1, frames=FrameConfig(step=8, max_frames=4), camera=CameraConfig(count=2), **kw)


def test_auto_chunks_only_a_run_with_fewer_jobs_than_workers(tmp_path):
    one = plan_jobs(cfg(tmp_path), workers=2)
    assert [j.job_id for j in one] == ["ada__walk.part01of02", "ada__walk.part02of02"]
    assert {j.seed for j in one} == {plan_jobs(cfg(tmp_path))[0].seed}  # the seed of the whole job
    assert {j.sample_prefix for j in one} == {"ada__walk"} and [j.chunk for j in one] == [0, 1]
    assert [j.job_id for j in plan_jobs(cfg(tmp_path), workers=1)] == ["ada__walk"]
    assert len(plan_jobs(replace(cfg(tmp_path), motions=["walk", "idle"]), workers=2)) == 2  # no cut
    assert chunk_count(cfg(tmp_path), 1, 8) == 2  # at most half the 4-frame cap: no part of one frame
    assert chunk_count(replace(cfg(tmp_path), frames=FrameConfig(max_frames=1)), 1, 8) == 1
    assert len(plan_jobs(replace(cfg(tmp_path), chunks=3), workers=1)) == 3  # explicit
    assert config_hash(cfg(tmp_path)) == config_hash(replace(cfg(tmp_path), chunks=3))  # same rows
    with pytest.raises(ValueError, match="renderer.chunks"):
        replace(cfg(tmp_path), chunks=-1)


@pytest.mark.blender
@pytest.mark.slow
def test_chunked_render_writes_the_rows_of_one_process_and_resume_sees_the_layout(tmp_path):
    from renderers.job import write_shards
    from renderers.resume import ResumeConflict, plan_resume
    from shards import iter_samples, list_shards, validate_dataset

    def rows(folder):
        return {r["sample_id"]: r for r in iter_samples(list_shards(folder), decode_images=False)}

    single = plan_jobs(cfg(tmp_path / "one", chunks=1))
    parts = plan_jobs(cfg(tmp_path / "parts", chunks=2))
    for job in single:
        write_shards(job, tmp_path / "one")
    for job in parts:
        write_shards(job, tmp_path / "parts")
    one, cut = rows(tmp_path / "one"), rows(tmp_path / "parts")
    assert len(one) == 8 and sorted(one) == sorted(cut)  # 4 frames x 2 cameras, the same sample ids
    for sample_id, row in one.items():
        for key, value in row.items():
            other = cut[sample_id][key]
            assert (value == other).all() if hasattr(value, "all") else value == other, (sample_id, key)
    assert [len(list(iter_samples(p, decode_images=False))) for p in list_shards(tmp_path / "parts")] == [4, 4]
    assert validate_dataset(tmp_path / "parts") == []
    # The same run cut another way would repeat rows: refused, and overwrite removes the other layout.
    with pytest.raises(ResumeConflict, match="renderer.chunks"):
        plan_resume(plan_jobs(cfg(tmp_path / "parts", chunks=1)), tmp_path / "parts", overwrite=False)
    plan_resume(plan_jobs(cfg(tmp_path / "parts", chunks=1)), tmp_path / "parts", overwrite=True)
    assert not list((tmp_path / "parts").rglob("*.parquet"))
