"""Render-stage configuration: plain dataclasses that check their own ranges.

Mirrors ``configs/renderer/*.yaml``. Every range error names the key and what is allowed, so a
typo or an impossible value fails before any Blender process starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from renderers.proportions import ProportionsConfig
from renderers.splits import SplitConfig

PROJECTIONS = ("perspective", "orthographic")
CAMERA_MODES = ("ring", "sampled")
# RenderConfig keys a command fills from its own top-level keys (never set in renderer config).
RUN_KEYS = {"out_dir": "out", "seed": "seed"}


def _check_renderer(ok: bool, key: str, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"renderer config: {key}={value!r} is not allowed; use {allowed}")


def _check_range(key: str, pair: tuple[float, float], lo: float, hi: float) -> None:
    _check_renderer(
        len(pair) == 2 and lo <= pair[0] <= pair[1] <= hi,
        key,
        f"a [min, max] pair with {lo} <= min <= max <= {hi}",
        pair,
    )


@dataclass
class CameraConfig:
    """Where the cameras go.

    ``ring``: ``count`` views evenly spaced in azimuth (the seed's 8 views), at ``elevation_deg``,
    starting from the character's front (azimuth 0 looks at the character's face, the camera on
    the character's -Y side). ``sampled``: ``count`` cameras drawn per job from the ranges.
    Distance is set by auto-framing: the figure's projected extent fills ``fill`` of the image's
    larger side (a sampled camera draws its fill from ``fill_range``).
    """

    mode: str = "ring"
    count: int = 8
    projection: str = "perspective"
    elevation_deg: float = 10.0
    focal_mm: float = 50.0
    sensor_mm: float = 36.0
    fill: float = 0.85
    azimuth_deg_range: tuple[float, float] = (0.0, 360.0)
    elevation_deg_range: tuple[float, float] = (-10.0, 45.0)
    focal_mm_range: tuple[float, float] = (28.0, 85.0)
    roll_deg_range: tuple[float, float] = (-10.0, 10.0)
    fill_range: tuple[float, float] = (0.5, 0.9)
    look_at_jitter_m: float = 0.1

    def __post_init__(self) -> None:
        _check_renderer(self.mode in CAMERA_MODES, "renderer.camera.mode", " or ".join(CAMERA_MODES), self.mode)
        _check_renderer(1 <= self.count <= 360, "renderer.camera.count", "an integer in 1..360", self.count)
        _check_renderer(self.projection in PROJECTIONS, "renderer.camera.projection", " or ".join(PROJECTIONS),
               self.projection)
        _check_renderer(-89.0 <= self.elevation_deg <= 89.0, "renderer.camera.elevation_deg", "-89..89", self.elevation_deg)
        _check_renderer(1.0 <= self.focal_mm <= 1000.0, "renderer.camera.focal_mm", "1..1000 (mm)", self.focal_mm)
        _check_renderer(1.0 <= self.sensor_mm <= 100.0, "renderer.camera.sensor_mm", "1..100 (mm)", self.sensor_mm)
        _check_renderer(0.05 <= self.fill <= 1.0, "renderer.camera.fill", "a fraction in 0.05..1", self.fill)
        self.azimuth_deg_range = tuple(self.azimuth_deg_range)
        self.elevation_deg_range = tuple(self.elevation_deg_range)
        self.focal_mm_range = tuple(self.focal_mm_range)
        self.roll_deg_range = tuple(self.roll_deg_range)
        self.fill_range = tuple(self.fill_range)
        _check_range("renderer.camera.azimuth_deg_range", self.azimuth_deg_range, -360.0, 720.0)
        _check_range("renderer.camera.elevation_deg_range", self.elevation_deg_range, -89.0, 89.0)
        _check_range("renderer.camera.focal_mm_range", self.focal_mm_range, 1.0, 1000.0)
        _check_range("renderer.camera.roll_deg_range", self.roll_deg_range, -180.0, 180.0)
        _check_range("renderer.camera.fill_range", self.fill_range, 0.05, 1.0)
        _check_renderer(0.0 <= self.look_at_jitter_m <= 2.0, "renderer.camera.look_at_jitter_m", "0..2 (m)",
               self.look_at_jitter_m)


@dataclass
class FrameConfig:
    """Which animation frames are rendered: every ``step``-th (the seed's 10), or ``random``
    frames drawn without replacement when ``random`` > 0; at most ``max_frames`` per motion
    (0 = no cap)."""

    step: int = 10
    random: int = 0
    max_frames: int = 0

    def __post_init__(self) -> None:
        _check_renderer(self.step >= 1, "renderer.frames.step", "an integer >= 1", self.step)
        _check_renderer(self.random >= 0, "renderer.frames.random", "0 (use step) or a count >= 1", self.random)
        _check_renderer(self.max_frames >= 0, "renderer.frames.max_frames", "0 (no cap) or a count >= 1",
               self.max_frames)


@dataclass
class OutputConfig:
    """Extra per-image outputs stored beside the line image (each a nullable PNG column)."""

    shaded: bool = False
    mask: bool = False
    depth: bool = False
    normal: bool = False
    parts: bool = False


@dataclass
class RenderConfig:
    """One render run: characters x motions -> one shard per (character, motion) job.

    ``characters``: bundled character names or paths to Mixamo FBX files; ``motions``: motion
    names (see ``renderers.motions``), empty = each character's default motions.
    ``contour``: a name from ``renderers.contours.CONTOURS`` (freestyle, depth_normal, hed).
    ``line_px``: line thickness in pixels at this resolution.
    ``visibility_radius_m``: a joint counts as visible when the first surface the camera ray
    meets lies within this distance in front of the joint (the joint sits inside its limb).
    ``split``: which rows are train, val and test (``renderers.splits``; ``configs/split/*.yaml``).
    ``threads``: CPU threads per render process (Cycles and torch); 0 = all cores.
    ``chunks``: each (character, motion) job's frames split into this many consecutive parts, each its
    own process and shard (``<job>.partNNofMM``) with the same sample ids, seeds and bytes as one
    process would write; 0 = auto: only when a run has fewer jobs than the runner has workers (one
    long motion of one character), enough parts to give every worker one. Not in the config hash.
    Where and how the jobs run is the run's ``runner`` (``flows.runners``), not render config.
    ``scene_loader``: ``module:function`` building a job's character and motion in the worker
    (see ``renderers.job.SceneLoader``); the default loads ``characters`` x ``motions``.
    ``textures``: a texture-set folder (``rig2sketch stylize-textures``) or a folder of them by
    character (``<dir>/<character>/textures``); a character with a set renders with those PBR
    maps (shaded output, ``hed`` contours of the stylized shading), others as before.
    ``proportions``: per-frame body proportions (chibi, elongated, heroic by bone scaling; labels from
    the scaled skeleton), ``renderers.proportions``; off by default.
    ``out_dir``, ``seed``: where the shards go and the run seed. A command fills both from its
    top-level ``out`` and ``seed`` (their one source) through :meth:`in_run`; they are not in
    ``configs/renderer/*.yaml``.
    """

    out_dir: str = "runs/render"
    characters: list[str] = field(default_factory=list)
    motions: list[str] = field(default_factory=list)
    width: int = 256
    height: int = 256
    contour: str = "depth_normal"
    line_px: float = 1.5
    samples: int = 1
    shaded_samples: int = 8
    visibility_radius_m: float = 0.12
    seed: int = 0
    split: SplitConfig = field(default_factory=SplitConfig)
    threads: int = 0
    chunks: int = 0
    scene_loader: str = "renderers.job:selected_scene"
    camera: CameraConfig = field(default_factory=CameraConfig)
    frames: FrameConfig = field(default_factory=FrameConfig)
    outputs: OutputConfig = field(default_factory=OutputConfig)
    textures: str = ""
    proportions: ProportionsConfig = field(default_factory=ProportionsConfig)

    def __post_init__(self) -> None:
        if isinstance(self.camera, dict):
            self.camera = CameraConfig(**self.camera)
        if isinstance(self.frames, dict):
            self.frames = FrameConfig(**self.frames)
        if isinstance(self.outputs, dict):
            self.outputs = OutputConfig(**self.outputs)
        if isinstance(self.split, dict):
            self.split = SplitConfig(**self.split)
        if isinstance(self.proportions, dict):
            self.proportions = ProportionsConfig(**self.proportions)
        self.characters = list(self.characters)
        self.motions = list(self.motions)
        _check_renderer(16 <= self.width <= 8192, "renderer.width", "16..8192 pixels", self.width)
        _check_renderer(16 <= self.height <= 8192, "renderer.height", "16..8192 pixels", self.height)
        _check_renderer(0.25 <= self.line_px <= 32, "renderer.line_px", "0.25..32 pixels", self.line_px)
        _check_renderer(1 <= self.samples <= 4096, "renderer.samples", "1..4096", self.samples)
        _check_renderer(1 <= self.shaded_samples <= 4096, "renderer.shaded_samples", "1..4096", self.shaded_samples)
        _check_renderer(0.0 < self.visibility_radius_m <= 1.0, "renderer.visibility_radius_m", "0..1 (m)",
               self.visibility_radius_m)
        _check_renderer(0 <= self.threads <= 256, "renderer.threads", "0 (all cores) or a count", self.threads)
        _check_renderer(0 <= self.chunks <= 256, "renderer.chunks", "0 (auto) or a count of parts per job",
                        self.chunks)
        _check_renderer(":" in self.scene_loader, "renderer.scene_loader", "'module:function'", self.scene_loader)
        _check_renderer(self.seed >= 0, "renderer.seed", "an integer >= 0", self.seed)
        if self.textures and not Path(self.textures).is_dir():
            raise ValueError(f"renderer.textures={self.textures!r} is not a folder; give a texture set or a folder "
                             "of them by character (rig2sketch stylize-textures out=DIR/<character>)")
        # Checked lazily against the registry so this module stays import-light.
        from renderers.contours import CONTOURS

        _check_renderer(self.contour in CONTOURS, "renderer.contour", ", ".join(CONTOURS.names()), self.contour)

    def record(self) -> dict[str, Any]:
        """The settings as a plain dict for hashes and shard metadata: ``asdict`` without
        ``proportions`` while they are off, so runs from before the setting keep their hashes
        and their shards' bytes."""
        out = asdict(self)
        if not self.proportions.enabled:
            out.pop("proportions")
        return out

    def in_run(self, out_dir: str, seed: int) -> "RenderConfig":
        """This render placed in a run: shards into ``out_dir``, job seeds from ``seed``.

        Raises ValueError when ``renderer.out_dir`` or ``renderer.seed`` was set in the config:
        a command's top-level ``out`` and ``seed`` are their one source, so a value set here
        would otherwise be replaced without a word.
        """
        defaults = {f.name: f.default for f in fields(self)}
        for key, top in RUN_KEYS.items():
            value = getattr(self, key)
            if value != defaults[key]:
                raise ValueError(f"renderer.{key}={value!r} is set, but a run takes it from the top-level '{top}': "
                                 f"write {top}={value} instead (renderer.{key} is filled from it)")
        return replace(self, out_dir=str(out_dir), seed=int(seed))
