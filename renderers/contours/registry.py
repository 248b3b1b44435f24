"""The contour-method registry (its own module, so the methods that register here do not import
the package ``__init__``); filled from the modules of ``renderers.contours`` on first lookup."""

from __future__ import annotations

from rig2sketch.registry import Registry

CONTOURS: Registry = Registry("contour method", discover="renderers.contours")
