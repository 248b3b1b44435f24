"""``characters: [ada]``: a bundled CC0 character from the catalogue, built in the worker."""

from __future__ import annotations

from renderers.characters.sources.base import CharacterSource
from renderers.characters.sources.registry import CHARACTER_SOURCES
from renderers.rigging import LoadedCharacter
from renderers.selection import CharacterSpec, catalogue_names
from renderers.sources import NamedSource


@CHARACTER_SOURCES.register("bundled")
class BundledCharacterSource(NamedSource, CharacterSource):
    kind, title, names = "bundled", "a bundled character", staticmethod(catalogue_names)

    def load(self, spec: CharacterSpec) -> LoadedCharacter:
        # Imported here: building loads the MakeHuman data, which config parsing never needs.
        from renderers.blender.characters import build_bundled_character

        return build_bundled_character(spec.name)
