"""Resume keyed on content (bpy-free): which shards already in a render run's folder are kept.

A shard is kept on a re-run only when its stored config hash, job seed and input fingerprints
(the character and motion choices; a file's SHA-256 where the choice is a file) equal the run's,
and its content checksum and values validate. Any other shard there is refused with one line
naming it, what differs and the fix (``overwrite=true`` re-renders it); with ``overwrite`` the
shards that differ are re-rendered and shards of another config that this run would not write
are removed, so the folder holds one run.

Shards lie in split folders (``shards.layout``): a job writes one shard per split its cameras
get, all of which must match for the job to be kept. Jobs' own hashes include their splits; the
run's hash (``renderers.plan.config_hash``, stored as ``run_config_hash``) decides whether a shard
no job of this run writes belongs to the same dataset.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from renderers.job import RenderJob

OVERWRITE_FIX = "re-run with overwrite=true to re-render it, or choose a fresh out="


class ResumeConflict(ValueError):
    """Shards in the output folder that this run may not keep; one line naming them and the fix."""


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_fingerprint(spec: Any) -> str:
    """What a character or motion choice renders from, as text: its fields with a file's path
    replaced by ``sha256=<hex>`` of its bytes (a moved file with the same bytes is the same input,
    an edited one is not)."""
    fields = asdict(spec) if is_dataclass(spec) else {"name": str(spec)}
    name = Path(str(fields.get("name", "")))
    if name.is_absolute() and name.is_file():
        fields["name"] = f"sha256={file_sha256(name)}"
    return " ".join(f"{k}={v}" for k, v in fields.items())


@dataclass(frozen=True)
class ShardCheck:
    """One planned job's shards (``path``: the first that differs, else the first): ``status`` "missing" (render it), "keep" (``rows`` rows) or "differs"
    (``differences`` say how)."""

    job_id: str
    path: Path
    status: str
    rows: int = 0
    differences: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # the job's shards, one per split it writes


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    return {prefix[:-1]: value}


def settings_changes(stored: Any, job: RenderJob) -> str:
    """The renderer settings a shard was made with (its ``renderer`` metadata) that differ from
    ``job``'s, as ``key old -> new`` (at most three; "" when the shard does not say)."""
    if not isinstance(stored, dict):
        return ""
    old = _flat(stored)
    new = _flat(json.loads(json.dumps(job.settings.record(), default=str)))
    keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            and k.split(".")[0] not in ("out_dir", "characters", "motions")]
    shown = [f"{'run seed' if k == 'seed' else k} {_short(old.get(k))} -> {_short(new.get(k))}" for k in keys[:3]]
    return ", ".join(shown) + (f" (+{len(keys) - 3} more)" if len(keys) > 3 else "")


def _shard_differences(job: RenderJob, path: Path, full: bool) -> list[str]:
    """How the existing shard at ``path`` differs from what ``job`` writes there (empty: it matches)."""
    from shards import shard_metadata, validate_dataset
    from shards.checksum import ShardError

    try:
        meta = shard_metadata(path)
    except ShardError as err:
        return [err.problem]
    diffs = []
    if meta.get("seed") != job.seed:
        diffs.append(f"job seed {meta.get('seed')} != {job.seed} (the run's seed changed)")
    if meta.get("config_hash") != job.config_hash:
        changed = settings_changes(meta.get("renderer"), job)
        if changed or meta.get("seed") == job.seed:
            diffs.append(f"renderer settings {changed}" if changed else
                         f"config_hash {_short(meta.get('config_hash'))} != {job.config_hash}")
    stored = meta.get("inputs") if isinstance(meta.get("inputs"), dict) else {}
    for key, want in job.inputs.items():
        if stored.get(key) != want:
            diffs.append(f"{key} input {_short(stored.get(key))} != {_short(want)}")
    if not diffs and full:
        problems = validate_dataset([path])
        if problems:
            first = problems[0].message.removesuffix("; re-render this shard")
            diffs.append(first + (f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    return diffs


def _name(path: Path, out_dir: Path) -> str:
    """A shard's name in messages: its path under the dataset folder (``train/a__walk.parquet``)."""
    try:
        return str(path.relative_to(out_dir))
    except ValueError:
        return path.name


def check_shard(job: RenderJob, out_dir: Path, full: bool = True) -> ShardCheck:
    """Whether the shards already under ``out_dir`` may stand for ``job``'s output: one per split
    the job writes (``renderers.job.shard_paths``, split folders; see the module doc). "keep" only
    when every one is there and matches; "differs" when one there does not; else "missing".
    ``full=False`` checks the footers only (metadata, checksum of the schema and row counts), not
    the values: the quick check a command runs before it starts the flow."""
    from renderers.job import shard_paths
    from shards import count_rows

    out_dir = Path(out_dir)
    paths = list(shard_paths(job, out_dir).values())
    present = [p for p in paths if p.exists()]
    found = {p: d for p in present if (d := _shard_differences(job, p, full))}
    diffs = [f"{_name(p, out_dir)}: {d}" if len(paths) > 1 else d for p, ds in found.items() for d in ds]
    path = next(iter(found), present[0] if present else paths[0])
    if diffs:
        return ShardCheck(job.job_id, path, "differs", differences=diffs, paths=paths)
    if len(present) < len(paths):
        return ShardCheck(job.job_id, path, "missing", paths=paths)
    return ShardCheck(job.job_id, path, "keep", rows=count_rows(paths), paths=paths)


def other_shards(jobs: list[RenderJob], out_dir: Path) -> list[Path]:
    """Shards under ``out_dir`` (its split folders, and the folder itself: the layout before
    split folders) that no job of this run writes."""
    from renderers.job import shard_paths
    from shards import dataset_files

    if not out_dir.is_dir():
        return []
    planned = {p for job in jobs for p in shard_paths(job, out_dir).values()}
    return sorted(p for p, _ in dataset_files(out_dir) if p not in planned)


def foreign_config(path: Path, run_hash: str, job_ids: set[str] | None = None) -> str | None:
    """How an unplanned shard differs from this run (None: same run config, it may stay). A shard
    of one of this run's (character, motion) jobs (``job_ids``: their ids) that this run does not
    write — outside the split folders the job now writes (the split assignment changed, or the
    layout before split folders), or cut into other parts (``renderer.chunks``) — is never part of
    this run: its rows would repeat."""
    from shards import shard_metadata
    from shards.checksum import ShardError

    moved = "a job of this run now writes its rows to other shards (the split or renderer.chunks changed)"
    if job_ids and path.stem in job_ids:
        return moved
    try:
        meta = shard_metadata(path)
    except ShardError as err:
        return err.problem
    if job_ids and (meta.get("job") or meta.get("job_id")) in job_ids:
        return moved
    made_with = meta.get("run_config_hash", meta.get("config_hash"))
    return None if made_with == run_hash else f"config_hash {_short(made_with)} != {run_hash}"


def plan_resume(jobs: list[RenderJob], out_dir: str | Path, overwrite: bool,
                full: bool = True) -> tuple[list[ShardCheck], list[Path]]:
    """Check every planned shard already in ``out_dir`` and every other shard there.

    Returns (one :class:`ShardCheck` per job, in job order; the other shards that stay: same
    config). Without ``overwrite`` raises :class:`ResumeConflict` when a planned shard differs or
    another shard there was made with another config (or is a job's shard in a split folder it
    no longer writes); with it, differing shards are marked for re-rendering and those others are
    deleted."""
    out = Path(out_dir)
    checks = [check_shard(job, out, full) for job in jobs]
    others = other_shards(jobs, out)
    run_hash = jobs[0].run_config_hash or jobs[0].config_hash
    job_ids = {job.sample_prefix for job in jobs}
    foreign = {p: why for p in others if (why := foreign_config(p, run_hash, job_ids)) is not None}
    differing = [c for c in checks if c.status == "differs"]
    if not overwrite and (differing or foreign):
        named = [f"{_name(c.path, out)} ({'; '.join(c.differences)})" for c in differing]
        named += [f"{_name(p, out)} (not written by this run: {why})" for p, why in foreign.items()]
        what = f"shard {named[0]}" if len(named) == 1 else f"{len(named)} shards: {', '.join(named[:3])}" + (
            ", ..." if len(named) > 3 else "")
        raise ResumeConflict(f"out={out} holds {what} made by another run; "
                             f"{OVERWRITE_FIX.replace(' it,', ' them,') if len(named) > 1 else OVERWRITE_FIX}")
    for path in foreign:
        path.unlink(missing_ok=True)
    return checks, [p for p in others if p not in foreign]
