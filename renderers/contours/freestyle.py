"""``freestyle``: the seed's look — Cycles + Freestyle strokes, nothing but the lines.

Freestyle is rendered as its own pass (``as_render_pass``), so the strokes are exactly those of
a holdout-fill render (Freestyle computes line visibility from the geometry, not the shading)
while the Combined pass stays free for the optional shaded output. Strokes are black, of
``line_px`` thickness, composited over white paper.
"""

from __future__ import annotations

import numpy as np

from renderers.contours.registry import CONTOURS
from renderers.contours.base import ContourMethod, LineSettings, over_white


@CONTOURS.register("freestyle")
class FreestyleContours(ContourMethod):
    name = "freestyle"
    passes = frozenset({"freestyle"})
    freestyle = True

    def draw(self, passes: dict[str, np.ndarray], settings: LineSettings) -> np.ndarray:
        return over_white(passes["freestyle"])[..., 0]
