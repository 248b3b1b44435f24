"""The export-format registry (its own module, so format modules do not import the package
``__init__``); filled from the modules of ``evaluation.exporters`` on first lookup."""

from __future__ import annotations

from rig2sketch.registry import Registry

EXPORT_FORMATS: Registry = Registry("export format", discover="evaluation.exporters")
