"""Config of the ``rig2sketch characters`` command (contact sheet); mirrors
``configs/character/sheet.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CharacterSheetConfig:
    """out: PNG path. characters: catalogue names or Mixamo .fbx/.blend paths ([] = the whole
    catalogue). motions: clip names, .fbx/.bvh paths or random_poses ([] = T-pose only).
    size: panel side in pixels. seed: for random_poses. workers: rows rendered at once, one
    Blender process each."""

    out: str = "runs/characters/sheet.png"
    characters: list[str] = field(default_factory=list)
    motions: list[str] = field(default_factory=lambda: ["walk", "wave", "kick"])
    size: int = 256
    seed: int = 0
    workers: int = 2

    def __post_init__(self) -> None:
        if not 64 <= self.size <= 1024:
            raise ValueError(f"character sheet: size={self.size!r} is not allowed; use 64..1024 pixels")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"character sheet: workers={self.workers!r} is not allowed; use 1..64")
        if not str(self.out).lower().endswith(".png"):
            raise ValueError(f"character sheet: out={self.out!r} must be a .png path")
