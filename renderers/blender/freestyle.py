"""Freestyle line set-up for the ``freestyle`` contour method and the render benchmark (bpy,
worker only)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
