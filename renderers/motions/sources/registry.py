"""The motion-source registry (its own module, so sources do not import the package that lists
them); filled from the modules of ``renderers.motions.sources`` on first lookup."""

from __future__ import annotations

from rig2sketch.registry import Registry

MOTION_SOURCES: Registry = Registry("motion source", discover="renderers.motions.sources")
