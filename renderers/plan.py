"""Planning a render run (bpy-free): one :class:`RenderJob` per (character, motion), each with a
seed derived from the run seed and the job's identity, the split of each of its cameras
(``renderers.splits``), and the config hash stored in its shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from renderers.cameras import camera_names
from renderers.config import RenderConfig
from renderers.job import RenderJob
from renderers.resume import input_fingerprint
from renderers.splits import assign_splits
from rig2sketch.safe_paths import check_name
from rig2sketch.seeding import derive_seed, stable_hash


def config_hash(cfg: RenderConfig) -> str:
    """Hash of everything that shapes the images and labels (not where or how jobs run). The split
    settings are left out: each job's hash adds the splits its own cameras get (:func:`plan_jobs`),
    so a changed split assignment re-renders only the jobs whose rows change split."""
    shaping = cfg.record()  # proportions only when on
    for key in ("out_dir", "characters", "motions", "split", "chunks"):
        shaping.pop(key)
    # Runs without textures keep the hashes they had before the setting existed; with them, the
    # maps' bytes count (new maps at the same path re-render).
    textures = shaping.pop("textures")
    if textures:
        shaping["textures"] = _folder_digest(Path(textures))
    return stable_hash(shaping)


def _folder_digest(folder: Path) -> str:
    """sha256 over the names and bytes of the texture files (``*.json``, ``*.png``) under ``folder``."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".png") and p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _safe(name: str) -> str:
    """A file-name-safe job id part: an FBX path's stem, other characters than [A-Za-z0-9-_.] -> '-',
    no leading "." "_" "-" (shard readers skip hidden names) and no trailing ".": a safe_paths name."""
    if name.lower().endswith((".fbx", ".blend")):
        name = Path(name).stem
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).lstrip("._-").rstrip(".") or "x"


def job_specs(cfg: RenderConfig) -> list[tuple[str, Any, str, Any]]:
    """(character name, character spec, motion name, motion spec) for every job.

    With the default scene loader, names resolve through ``renderers.selection`` (empty
    ``characters``: every bundled character; empty ``motions``: the default clips); a custom
    loader receives the names themselves as specs.
    """
    if cfg.scene_loader != "renderers.job:selected_scene":
        # The loader gets the values as given; the names stored in shards are labels (a path's stem),
        # since a character or motion column may become a folder name on export.
        motions = cfg.motions or ["default"]
        return [(_safe(c), c, _safe(m), m) for c in cfg.characters for m in motions]
    from renderers.selection import CharacterSpec, MotionSpec, SelectionConfig, catalogue_names

    characters = [CharacterSpec.parse(c) for c in (cfg.characters or catalogue_names())]
    motions = [MotionSpec.parse(m) for m in (cfg.motions or SelectionConfig().motions)]
    return [(c.label, c, m.label, m) for c in characters for m in motions]


def camera_splits(cfg: RenderConfig, specs: list[tuple[str, Any, str, Any]]) -> list[tuple[tuple[str, str], ...]]:
    """For each job of ``specs`` (``job_specs``), ``(camera, split)`` for each of its cameras."""
    cameras = camera_names(cfg.camera)
    by = cfg.split.by
    if by == "camera":
        of_camera = assign_splits(cameras, cfg.split)
        return [tuple((c, of_camera[c]) for c in cameras) for _ in specs]
    names = [character if by == "character" else motion for character, _, motion, _ in specs]
    of_name = assign_splits(names, cfg.split)
    return [tuple((c, of_name[name]) for c in cameras) for name in names]


def chunk_count(cfg: RenderConfig, n_jobs: int, workers: int) -> int:
    """Parts per (character, motion) job: ``cfg.chunks``, or with 0 (auto) enough parts that ``n_jobs``
    jobs give each of ``workers`` workers one (1 when there are at least as many jobs as workers), and no
    more than half the frame cap (``frames.max_frames`` / ``frames.random``) so no part is a process that
    loads a character for a frame or none."""
    if cfg.chunks:
        return cfg.chunks
    parts = -(-workers // n_jobs) if 0 < n_jobs < workers else 1
    caps = [c for c in (cfg.frames.max_frames, cfg.frames.random) if c]
    return max(1, min([parts, *(c // 2 for c in caps)]))


def plan_jobs(cfg: RenderConfig, workers: int = 1) -> list[RenderJob]:
    """One :class:`RenderJob` per (character, motion), or per part of it (``chunk_count``; ``workers``:
    how many jobs the runner runs at once); job seeds from the run seed and the (character, motion) id,
    so every part draws what one process would draw and renders its own consecutive frames.

    A job's config hash covers the render settings and its cameras' splits (which depend on the
    run's set of names, not in ``config_hash``), so a shard of another split assignment is re-rendered."""
    digest = config_hash(cfg)
    specs = job_specs(cfg)
    chunks = chunk_count(cfg, len(specs), workers)
    jobs, seen = [], set()
    for (character_name, character, motion_name, motion), splits in zip(specs, camera_splits(cfg, specs)):
        job_id = check_name(f"{_safe(character_name)}__{_safe(motion_name)}", "render job id",
                            fix="rename the character or motion")  # it names the shard file
        if job_id in seen:
            raise ValueError(f"two jobs are both called {job_id!r}: give characters/motions distinct names")
        seen.add(job_id)
        inputs = {"character": input_fingerprint(character), "motion": input_fingerprint(motion)}
        for chunk in range(chunks):
            part = job_id if chunks == 1 else f"{job_id}.part{chunk + 1:02d}of{chunks:02d}"
            jobs.append(RenderJob(part, character, motion, character_name, motion_name, cfg,
                                  derive_seed(cfg.seed, job_id), stable_hash([digest, splits]), inputs=inputs,
                                  splits=splits, run_config_hash=digest, chunk=chunk, chunks=chunks,
                                  base_id=job_id if chunks > 1 else ""))
    if not jobs:
        raise ValueError("no render jobs: renderer.characters (or renderer.motions) is empty")
    return jobs
