"""``freestyle``: the seed's look — Cycles + Freestyle strokes, nothing but the lines.

Freestyle is rendered as its own pass (``as_render_pass``), so the strokes are exactly those of
a holdout-fill render (Freestyle computes line visibility from the geometry, not the shading)
while the Combined pass stays free for the optional shaded output. Strokes are black, of
``line_px`` thickness, composited over white paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from renderers.contours.registry import CONTOURS
from renderers.contours.base import ContourMethod, LineSettings, over_white


def setup_freestyle(bpy: Any, scene: Any, line_px: float, as_render_pass: bool) -> None:
    """Enable Freestyle on the first view layer with one black lineset: silhouettes, borders,
    creases and external contours of visible edges, ``line_px`` thick."""
    scene.render.use_freestyle = True
    scene.render.line_thickness_mode = "ABSOLUTE"
    scene.render.line_thickness = line_px
    view_layer = scene.view_layers[0]
    view_layer.use_freestyle = True
    settings = view_layer.freestyle_settings
    settings.as_render_pass = as_render_pass
    settings.crease_angle = np.deg2rad(134.0)
    lineset = settings.linesets[0] if len(settings.linesets) else settings.linesets.new("lines")
    lineset.select_by_visibility = True
    lineset.visibility = "VISIBLE"
    lineset.select_by_edge_types = True
    lineset.select_silhouette = True
    lineset.select_border = True
    lineset.select_crease = True
    lineset.select_external_contour = True
    # Blender 5.0 makes no line style by default: a lineset without one draws nothing.
    style = bpy.data.linestyles.new("rig2sketch_ink")
    style.color = (0.0, 0.0, 0.0)
    style.thickness = line_px
    lineset.linestyle = style


@CONTOURS.register("freestyle")
class FreestyleContours(ContourMethod):
    name = "freestyle"
    passes = frozenset({"freestyle"})
    freestyle = True

    def draw(self, passes: dict[str, np.ndarray], settings: LineSettings) -> np.ndarray:
        return over_white(passes["freestyle"])[..., 0]
