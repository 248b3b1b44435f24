"""The character-source registry (its own module, so sources do not import the package that
lists them); filled from the modules of ``renderers.characters.sources`` on first lookup."""

from __future__ import annotations

from rig2sketch.registry import Registry

CHARACTER_SOURCES: Registry = Registry("character source", discover="renderers.characters.sources")
