"""The character family of sources: config side (bpy-free) makes a :class:`CharacterSpec`; the
worker side puts the character into the current Blender scene."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from renderers.rigging import LoadedCharacter
from renderers.selection import CharacterSpec
from renderers.sources import Source


class CharacterSource(Source):
    what = "character"

    def spec(self, name: str, **options: Any) -> CharacterSpec:
        return CharacterSpec(self.kind, name)

    @abstractmethod
    def load(self, spec: CharacterSpec) -> LoadedCharacter:
        """Put the character into the current Blender scene (worker only)."""
