"""``characters: [path/to/Y Bot.fbx]``: a Mixamo character file (.fbx "With Skin" or .blend)."""

from __future__ import annotations

from renderers.characters.sources.base import CharacterSource
from renderers.characters.sources.registry import CHARACTER_SOURCES
from renderers.blender.fbx import header_problem, import_character
from renderers.rigging import LoadedCharacter
from renderers.selection import CharacterSpec
from renderers.sources import FileSource


@CHARACTER_SOURCES.register("file")
class MixamoFileSource(FileSource, CharacterSource):
    kind = "file"
    suffixes = (".fbx", ".blend")

    def header_problem(self, path: str) -> str | None:
        return header_problem(path)

    def load(self, spec: CharacterSpec) -> LoadedCharacter:
        return import_character(spec.name)
