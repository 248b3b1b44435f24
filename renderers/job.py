"""One render job = one character x one motion -> one shard per split, run in its own process.

:class:`RenderJob` is a bpy-free, picklable spec. In the worker process the Blender wing's
``renderers.blender.render.iter_render`` resets Blender, loads the character, applies the
motion, and for every selected frame and every camera renders the contour image and labels it
(labels: ``renderers.shots``); :func:`render` stacks the results and
:func:`write_shards` streams them into ``<dataset>/<split>/<job_id>.parquet`` (one file per split
the job's cameras have: one unless the run splits by camera). ``python -m renderers.job JOB.pkl
DATASET_DIR`` is the process entry the flow launches.
"""

from __future__ import annotations

import json
import pickle
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from renderers.config import RenderConfig
from rig2sketch import leftovers

# (job, rng) -> (LoadedCharacter, frames, keypoints_fn(char, depsgraph) -> (coco 17x3, joints 53x3))
SceneLoader = Callable[["RenderJob", np.random.Generator], tuple[Any, list[int], Callable]]

@dataclass(frozen=True)
class RenderJob:
    """Everything one worker needs. ``character``/``motion`` are the bpy-free specs of
    ``renderers.selection`` (or whatever ``settings.scene_loader`` understands: the
    ``module:function`` that builds them into the Blender scene, a :data:`SceneLoader`).
    ``seed`` is the job seed (derived from the run seed and ``job_id``); ``config_hash``
    identifies the settings that shaped the images and labels; ``inputs`` fingerprints the
    character and motion choices (``renderers.resume.input_fingerprint``; all three stored in the
    shards; ``run_config_hash``: the run's, without the splits). ``splits``: ``(camera, split)`` per camera (``renderers.plan``); a camera not listed
    gets ``settings.split.fixed``."""

    job_id: str
    character: Any
    motion: Any
    character_name: str
    motion_name: str
    settings: RenderConfig
    seed: int
    config_hash: str
    inputs: dict[str, str] = field(default_factory=dict)
    splits: tuple[tuple[str, str], ...] = ()
    run_config_hash: str = ""  # the run's (``renderers.plan.config_hash``), the same for every job
    # Part ``chunk`` of ``chunks`` of the frames of the (character, motion) job ``base_id`` (``renderer.chunks``);
    # ``job_id`` names this part's process and shards, ``base_id`` its sample ids.
    chunk: int = 0
    chunks: int = 1
    base_id: str = ""

    @property
    def sample_prefix(self) -> str:
        """The first part of every sample id of this job: the (character, motion) job's id."""
        return self.base_id or self.job_id

    def split_of(self, camera: str) -> str:
        return dict(self.splits).get(camera, self.settings.split.fixed)

    def split_names(self) -> list[str]:
        """The splits this job writes a shard for."""
        return sorted({split for _, split in self.splits} or {self.settings.split.fixed})


def selected_scene(job: RenderJob, rng: np.random.Generator):
    """The default :data:`SceneLoader`: a bundled or imported character with a motion."""
    from renderers.blender.keying import apply_motion
    from renderers.blender.keypoints3d import world_keypoints
    from renderers.selection import load_character

    character = load_character(job.character)
    frames = apply_motion(character, job.motion, rng)
    return character, list(frames), world_keypoints


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A private folder for a worker's pass files: in RAM (``/dev/shm``) where the OS has one —
    each image's passes are written and read back once — else the system temp folder. Its name
    carries this process's id, so one left by a killed worker is removed by the next run
    (``rig2sketch.leftovers``)."""
    return leftovers.scratch_dir("render", in_ram=True)


def render(job: RenderJob) -> dict[str, np.ndarray]:
    """Render a whole job into stacked arrays (``N`` images): the keys of ``renderers.blender.render.iter_render``,
    each stacked along a new first axis (``image`` ``N, H, W`` uint8, ``keypoints`` ``N, 17, 3``,
    ``camera`` ``N`` str...; ``params`` a list of dicts). Keeps every image in memory: for
    shards use :func:`write_shard`."""
    from renderers.blender.render import iter_render

    with scratch_dir() as scratch:
        items = list(iter_render(job, Path(scratch)))
    if not items:
        raise ValueError(f"job {job.job_id!r} selected no frames; lower renderer.frames.step")
    out: dict[str, Any] = {}
    for key in items[0]:
        values = [item[key] for item in items]
        out[key] = values if key == "params" else np.stack([np.asarray(v) for v in values])
    return out


def character_licence(job: RenderJob) -> str:
    """The licence of the job's character: a bundled character is CC0-1.0 (MakeHuman/MPFB2 data);
    any other is the user's asset."""
    from renderers.selection import catalogue_names

    return "CC0-1.0" if job.character_name in catalogue_names() else "user-supplied (see the asset's terms)"


def shard_metadata(job: RenderJob) -> dict[str, Any]:
    """The shard metadata of ``job``: ``config_hash`` is the job's (its splits included),
    ``run_config_hash`` the run's (``renderers.plan.config_hash``: one for every shard of a run)."""
    return {"config_hash": job.config_hash, "run_config_hash": job.run_config_hash or job.config_hash, "seed": job.seed,
            "job_id": job.job_id, "inputs": job.inputs,
            **({"job": job.sample_prefix, "chunk": [job.chunk, job.chunks]} if job.chunks > 1 else {}),
            "character": job.character_name, "motion": job.motion_name, "stage": "render",
            "licence": character_licence(job), "renderer": json.dumps(job.settings.record(), default=str)}


def shard_paths(job: RenderJob, dataset: Path) -> dict[str, Path]:
    """split -> the job's shard of that split under ``dataset``."""
    from shards import shard_path

    return {split: shard_path(dataset, split, job.job_id) for split in job.split_names()}


def write_shards(job: RenderJob, dataset: Path) -> tuple[dict[str, int], float]:
    """Render ``job`` into its shards under ``dataset`` (:func:`shard_paths`; each atomic: complete or
    absent, and all of them renamed into place only after the last image). Returns (rows per split, seconds)."""
    from renderers.blender.render import iter_render
    from shards import ShardWriter, encode_png

    started = time.perf_counter()
    paths = shard_paths(job, Path(dataset))
    rows = {split: 0 for split in paths}
    with scratch_dir() as scratch, ExitStack() as stack:
        writers = {split: stack.enter_context(ShardWriter(path, metadata=shard_metadata(job)))
                   for split, path in paths.items()}
        for item in iter_render(job, Path(scratch)):
            split = job.split_of(item["camera"])
            row = {
                "sample_id": f"{job.sample_prefix}/{item['frame']:05d}/{item['camera']}",
                "image": encode_png(item["image"]),
                "width": job.settings.width,
                "height": job.settings.height,
                "character": job.character_name,
                "motion": job.motion_name,
                "split": split,
                "stylizer": "none",
                "style": "",
                "source_id": "",
                "seed": job.seed,
                "params": json.dumps(item["params"], sort_keys=True),
            }
            for key in ("keypoints", "joints", "bbox", "area", "frame", "camera", "intrinsics",
                        "extrinsics"):
                row[key] = item[key]
            for key in ("shaded", "mask", "depth", "normal", "parts"):
                if key in item:
                    row[key] = encode_png(item[key])
            writers[split].write(row)
            rows[split] += 1
    return rows, time.perf_counter() - started


INPUT_ERROR_EXIT = 2  # the worker's exit code for an error a retry cannot fix (one line on stderr)


def main(argv: list[str] | None = None) -> int:
    """Process entry: ``python -m renderers.job JOB.pkl DATASET_DIR``; prints a JSON receipt.
    Bad input (``ValueError``) or an ``OSError`` exits :data:`INPUT_ERROR_EXIT` with one line on
    stderr naming the job and the problem; other errors keep their traceback."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m renderers.job JOB.pkl DATASET_DIR", file=sys.stderr)
        return 2
    # SIGTERM (a watchdog stopping the orphans of a killed run) unwinds like an exception, so the
    # shard's temp file and the scratch folder are removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with open(argv[0], "rb") as handle:
        job = pickle.load(handle)
    try:
        rows, seconds = write_shards(job, Path(argv[1]))
    except (ValueError, OSError) as err:  # bad input (a corrupt file, a wrong skeleton) or a full disk
        text = " ".join(str(err).split()) or type(err).__name__
        print(f"render job {job.job_id}: {text}", file=sys.stderr)
        return INPUT_ERROR_EXIT
    print(json.dumps({"job_id": job.job_id, "rows": sum(rows.values()), "rows_by_split": rows,
                      "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
