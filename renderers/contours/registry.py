"""The contour-method registry (its own module, so the methods that register here do not import
the package ``__init__`` that imports them)."""

from __future__ import annotations

from rig2sketch.registry import Registry

CONTOURS: Registry = Registry("contour method")
