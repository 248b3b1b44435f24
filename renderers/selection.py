"""Which characters and motions a run uses, parsed from config strings (bpy-free), and the
worker-side loader that turns a character choice into a :class:`LoadedCharacter`.

Each kind of character and motion is a source module registered in
``renderers.characters.sources`` / ``renderers.motions.sources``; parsing asks every source in
turn whether it claims the string, so a new kind is one new module.

Config values (``configs/motion/*.yaml``, or ``character=...`` / ``motion=...`` overrides):
- character: a bundled catalogue name (``ada``) or a path to a Mixamo ``.fbx`` / ``.blend``;
- motion: a clip name (``walk``), a path to an animation ``.fbx`` or a mocap ``.bvh``, or
  ``random_poses`` (``random_poses:32`` for 32 poses); each may be a list.
Everything is checked when parsed, so a typo fails before any Blender process starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from renderers.characters.sources.registry import CHARACTER_SOURCES
from renderers.motions.sources.registry import MOTION_SOURCES
from renderers.rigging import LoadedCharacter
from renderers.sources import parse_spec

RANDOM_POSES = "random_poses"
MAX_RANDOM_POSES = 10_000


def catalogue_names() -> list[str]:
    """Names of the bundled characters (``renderers.characters.CATALOGUE``)."""
    from renderers.characters.catalogue import CATALOGUE

    return sorted(c.name for c in CATALOGUE)


@dataclass(frozen=True)
class CharacterSpec:
    """A character choice: ``kind`` "bundled" (``name`` is a catalogue name) or "file"
    (``name`` is an absolute path to a .fbx or .blend)."""

    kind: str
    name: str

    @classmethod
    def parse(cls, text: str) -> "CharacterSpec":
        return parse_spec(CHARACTER_SOURCES, "character", text)

    @property
    def label(self) -> str:
        """Short name for shard rows: the catalogue name or the file's stem."""
        return CHARACTER_SOURCES.get(self.kind)().label(self)


@dataclass(frozen=True)
class MotionSpec:
    """A motion choice: ``kind`` "clip" (``name`` a clip), "fbx" / "bvh" (``name`` an absolute
    path; every ``frame_step``-th frame is used) or "random_poses" (``count`` poses)."""

    kind: str
    name: str
    count: int = 0
    frame_step: int = 1

    def __post_init__(self) -> None:
        if self.kind not in MOTION_SOURCES:
            raise ValueError(f"motion kind {self.kind!r} must be {', '.join(MOTION_SOURCES.names())}")
        if self.kind == RANDOM_POSES and not 1 <= self.count <= MAX_RANDOM_POSES:
            raise ValueError(f"{RANDOM_POSES} count {self.count} must be 1..{MAX_RANDOM_POSES}")
        if self.frame_step < 1:
            raise ValueError(f"motion frame_step {self.frame_step} must be >= 1")

    @property
    def path(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """Short name for shard rows: the clip name, the file's stem, or ``random_poses``."""
        return MOTION_SOURCES.get(self.kind)().label(self)

    @classmethod
    def parse(cls, text: str, random_pose_count: int = 16, frame_step: int = 1) -> "MotionSpec":
        return parse_spec(MOTION_SOURCES, "motion", text, random_pose_count=random_pose_count, frame_step=frame_step)


def _as_list(value: str | Sequence[str], key: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items:
        raise ValueError(f"{key} is empty; give at least one")
    return [str(v) for v in items]


@dataclass
class SelectionConfig:
    """``configs/motion/*.yaml``: the characters and motions of a run (every pair is rendered).

    characters, motions: one string or a list (see the module doc for the forms).
    random_pose_count: poses for a bare ``random_poses``. frame_step: keep every n-th frame of
    FBX/BVH animations (mocap is often 120 fps).
    """

    characters: list[str] = field(default_factory=lambda: ["ada", "ben", "chloe"])
    motions: list[str] = field(default_factory=lambda: ["idle", "walk", "wave"])
    random_pose_count: int = 16
    frame_step: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.random_pose_count <= MAX_RANDOM_POSES:
            raise ValueError(f"motion.random_pose_count={self.random_pose_count!r} is not allowed; use 1..{MAX_RANDOM_POSES}")
        if not 1 <= self.frame_step <= 1000:
            raise ValueError(f"motion.frame_step={self.frame_step!r} is not allowed; use 1..1000")
        self.characters = _as_list(self.characters, "motion.characters")
        self.motions = _as_list(self.motions, "motion.motions")
        self.character_specs()
        self.motion_specs()

    def character_specs(self) -> list[CharacterSpec]:
        return [CharacterSpec.parse(c) for c in self.characters]

    def motion_specs(self) -> list[MotionSpec]:
        return [MotionSpec.parse(m, self.random_pose_count, self.frame_step) for m in self.motions]


def load_character(spec: CharacterSpec) -> LoadedCharacter:
    """Put the character into the current Blender scene (worker only; imports bpy lazily)."""
    if spec.kind not in CHARACTER_SOURCES:
        raise ValueError(f"unknown character kind {spec.kind!r}; choose one of: {', '.join(CHARACTER_SOURCES.names())}")
    return CHARACTER_SOURCES.get(spec.kind)().load(spec)
