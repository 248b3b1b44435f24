"""G-buffer jobs (bpy-free spec and maths; the worker's Blender side is ``renderers.blender.pbr``).

A :class:`GBufferJob` asks one Blender process to render a character (rest pose) from fixed
cameras once and hand back, per view, what a differentiable shader needs to re-shade it in
torch with any material maps: UVs, normals, tangent frame, coverage, depth, part ids and view
vectors. With a texture set (``rig2sketch.texture_set``) the same render also gives Cycles' shaded
image of those maps under the job's sun light (the reference the torch shader is checked against,
and the stylized character's renders).

Run it with :func:`run_gbuffer_job` (a fresh ``python -m renderers.gbuffer_worker`` process, like every
render job); the arrays come back from an ``.npz`` file (keys in :func:`run_gbuffer_job`).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from renderers.cameras import ViewSpec
from rig2sketch import leftovers


@dataclass(frozen=True)
class SunLight:
    """A directional light: ``direction`` (world, towards the light; normalised on use), linear
    ``rgb`` colour and ``strength`` (irradiance in W/m², Blender's sun strength)."""

    direction: tuple[float, float, float]
    rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    strength: float = 3.0

    @property
    def irradiance(self) -> np.ndarray:
        """``3`` linear RGB irradiance (``strength * rgb``)."""
        return np.asarray(self.rgb, dtype=np.float32) * np.float32(self.strength)

    @property
    def unit_direction(self) -> np.ndarray:
        d = np.asarray(self.direction, dtype=np.float64)
        norm = np.linalg.norm(d)
        if not np.isfinite(norm) or norm == 0:
            raise ValueError(f"sun light direction {self.direction} is not a direction; give a non-zero vector")
        return (d / norm).astype(np.float32)


@dataclass(frozen=True)
class GBufferJob:
    """One G-buffer render: ``character`` (a bundled name, or ``mannequin`` — the UV-less test
    rig) in rest pose from ``views`` at ``width`` x ``height``.

    ``textures``: a texture-set folder; when given, its maps go onto Principled BSDF materials and
    the Combined pass is returned as ``image`` (lit by ``light`` and a uniform grey world of
    radiance ``ambient``; ``shadows`` off makes Cycles' light match the torch shader, which
    casts none; ``bounces`` 0 is direct light only). Every pixel's ``samples`` samples sit at its
    centre (a box filter of ~0 width), so G-buffers and image are exact per-pixel values.
    """

    character: str
    views: tuple[ViewSpec, ...]
    width: int = 64
    height: int = 64
    textures: str | None = None
    light: SunLight = SunLight((0.3, -1.0, 0.6))
    ambient: float = 0.0
    shadows: bool = False
    bounces: int = 0
    samples: int = 1
    threads: int = 1

    def __post_init__(self) -> None:
        if not self.views:
            raise ValueError("a G-buffer job needs at least one camera view")
        if min(self.width, self.height) < 8:
            raise ValueError(f"G-buffer size {self.width}x{self.height} is too small; use at least 8x8")
        if self.samples < 1 or self.bounces < 0 or self.ambient < 0:
            raise ValueError("G-buffer job: samples must be >= 1, bounces and ambient >= 0")


def run_gbuffer_job(job: GBufferJob, out: str | Path, timeout_s: float | None = 600.0) -> dict[str, np.ndarray]:
    """Render ``job`` in a fresh Blender process into ``out`` (``.npz``, written atomically) and
    load it. Keys (``V`` views, ``H, W`` the size): ``uv`` ``V, H, W, 2`` (Blender UV, v up),
    ``normal``/``tangent``/``bitangent`` ``V, H, W, 3`` world-space (normal unit; tangent frame
    as Blender's Normal Map node uses it), ``view`` ``V, H, W, 3`` unit vectors towards the camera,
    ``mask`` ``V, H, W`` 0/1, ``depth`` ``V, H, W`` metres (huge where empty), ``part``
    ``V, H, W`` int16 (0 nothing, i + 1 part ``parts[i]``), ``K`` ``V, 3, 3``, ``world_to_cam``
    ``V, 4, 4``, ``parts`` ``P`` str, ``base_rgb`` ``P, 3`` each part's linear Base Color before
    any texture set, and with textures ``image`` ``V, H, W, 4`` linear RGBA.

    Raises ValueError (one line, from the worker) for bad input such as a mesh without UVs."""
    from renderers.process import run_worker

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with leftovers.scratch_dir("gbuffer") as tmp:
        spec = Path(tmp) / "gbuffer.pkl"
        spec.write_bytes(pickle.dumps(job))
        run_worker("renderers.gbuffer_worker", [str(spec), str(out)], f"G-buffer job {job.character}", timeout_s)
    return load_gbuffers(out)


def load_gbuffers(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a G-buffer ``.npz`` (see :func:`run_gbuffer_job`)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
