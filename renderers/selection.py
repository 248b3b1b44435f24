"""Which characters and motions a run uses, parsed from config strings (bpy-free), and the
worker-side loader that turns a character choice into a :class:`LoadedCharacter`.

Config values (``configs/motion/*.yaml``, or ``character=...`` / ``motion=...`` overrides):
- character: a bundled catalogue name (``ada``) or a path to a Mixamo ``.fbx`` / ``.blend``;
- motion: a clip name (``walk``), a path to an animation ``.fbx`` or a mocap ``.bvh``, or
  ``random_poses`` (``random_poses:32`` for 32 poses); each may be a list.
Everything is checked when parsed, so a typo fails before any Blender process starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from renderers.rigging import LoadedCharacter

CHARACTER_SUFFIXES = (".fbx", ".blend")
MOTION_SUFFIXES = (".fbx", ".bvh")
RANDOM_POSES = "random_poses"
MAX_RANDOM_POSES = 10_000


def catalogue_names() -> list[str]:
    """Names of the bundled characters (``renderers.characters.CATALOGUE``)."""
    from renderers.characters.catalogue import CATALOGUE

    return sorted(c.name for c in CATALOGUE)


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or Path(text).suffix != ""


def _existing_file(text: str, suffixes: tuple[str, ...], what: str) -> str:
    path = Path(text).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{what} {text!r}: a {what} file must end in {' or '.join(suffixes)}")
    if not path.is_file():
        raise ValueError(f"{what} file {str(path)!r} does not exist; check the path")
    return str(path.resolve())


@dataclass(frozen=True)
class CharacterSpec:
    """A character choice: ``kind`` "bundled" (``name`` is a catalogue name) or "file"
    (``name`` is an absolute path to a .fbx or .blend)."""

    kind: str
    name: str

    @classmethod
    def parse(cls, text: str) -> "CharacterSpec":
        text = str(text).strip()
        if _looks_like_path(text):
            return cls("file", _existing_file(text, CHARACTER_SUFFIXES, "character"))
        names = catalogue_names()
        if text not in names:
            raise ValueError(f"unknown character {text!r}; choose a bundled character ({', '.join(names)}) "
                             f"or give a path to a Mixamo {' or '.join(CHARACTER_SUFFIXES)} file")
        return cls("bundled", text)

    @property
    def label(self) -> str:
        """Short name for shard rows: the catalogue name or the file's stem."""
        return self.name if self.kind == "bundled" else Path(self.name).stem


@dataclass(frozen=True)
class MotionSpec:
    """A motion choice: ``kind`` "clip" (``name`` a clip), "fbx" / "bvh" (``name`` an absolute
    path; every ``frame_step``-th frame is used) or "random_poses" (``count`` poses)."""

    kind: str
    name: str
    count: int = 0
    frame_step: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("clip", "fbx", "bvh", RANDOM_POSES):
            raise ValueError(f"motion kind {self.kind!r} must be clip, fbx, bvh or {RANDOM_POSES}")
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
        return Path(self.name).stem if self.kind in ("fbx", "bvh") else self.name

    @classmethod
    def parse(cls, text: str, random_pose_count: int = 16, frame_step: int = 1) -> "MotionSpec":
        from renderers.motions import clip_names

        text = str(text).strip()
        if text == RANDOM_POSES or text.startswith(RANDOM_POSES + ":"):
            count_text = text[len(RANDOM_POSES) + 1:] or str(random_pose_count)
            if not count_text.isdigit():
                raise ValueError(f"motion {text!r}: write {RANDOM_POSES} or {RANDOM_POSES}:N with N a positive integer")
            return cls(RANDOM_POSES, RANDOM_POSES, count=int(count_text))
        if _looks_like_path(text):
            path = _existing_file(text, MOTION_SUFFIXES, "motion")
            return cls(Path(path).suffix.lower()[1:], path, frame_step=frame_step)
        names = clip_names()
        if text not in names:
            raise ValueError(f"unknown motion {text!r}; choose a clip ({', '.join(names)}), {RANDOM_POSES}[:N], "
                             f"or a path to a {' or '.join(MOTION_SUFFIXES)} file")
        return cls("clip", text)


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
    if spec.kind == "bundled":
        from renderers.characters.build import build_bundled_character

        return build_bundled_character(spec.name)
    if spec.kind == "file":
        from renderers.fbx import import_character

        return import_character(spec.name)
    raise ValueError(f"unknown character kind {spec.kind!r}")
