"""What a contour method is, and the passes the one Cycles render
(``renderers.blender.passes.PassRender``, in the Blender wing) hands every method as numpy
arrays (rows top to bottom).

Pass arrays (``H, W`` the image size):
- ``image``: ``H, W, 4`` float32 linear RGBA (the Combined pass: shaded figure, transparent
  background)
- ``alpha``: ``H, W`` float32 coverage in [0, 1]; when ``depth`` is rendered too, the 0/1
  coverage of each pixel's depth sample (``depth < renderers.blender.passes.EMPTY_DEPTH``) instead of a file of its own —
  exact for sharp renders (one sample at the pixel centre), first-sample coverage otherwise
- ``depth``: ``H, W`` float32 distance along the view axis in metres, huge where empty
- ``normal``: ``H, W, 3`` float32 world-space unit normals
- ``index``: ``H, W`` float32 object pass index (one per mesh)
- ``part``: ``H, W`` float32 body-part id (``renderers.parts.PARTS``; needs its AOV set up)
- ``freestyle``: ``H, W, 4`` float32 Freestyle strokes (RGBA, premultiplied)
- ``pbr_uv``, ``pbr_tangent``, ``pbr_normal``: ``H, W, 4`` float32 UV (u, v, 0), world tangent
  and smooth world normal (before normal maps) AOVs,
  ``pbr_sign``: ``H, W`` the bitangent sign (``renderers.blender.pbr`` sets them up)
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from dataclasses import dataclass

import numpy as np

# pass name -> (Render Layers socket, File Output item type, view-layer flag or None)
PASSES: dict[str, tuple[str, str, str | None]] = {
    "image": ("Image", "RGBA", None),
    "alpha": ("Alpha", "FLOAT", None),
    "depth": ("Depth", "FLOAT", "use_pass_z"),
    "normal": ("Normal", "VECTOR", "use_pass_normal"),
    "index": ("Object Index", "FLOAT", "use_pass_object_index"),
    "part": ("part", "FLOAT", None),  # the body-part AOV of renderers.parts
    "freestyle": ("Freestyle", "RGBA", None),
    # the G-buffer AOVs of renderers.blender.pbr (UV, tangent frame for normal maps)
    "pbr_uv": ("pbr_uv", "RGBA", None),
    "pbr_tangent": ("pbr_tangent", "RGBA", None),
    "pbr_normal": ("pbr_normal", "RGBA", None),
    "pbr_sign": ("pbr_sign", "FLOAT", None),
}


@dataclass(frozen=True)
class LineSettings:
    """Per-run settings a contour method reads: line thickness in pixels, Cycles samples for
    pass renders and for shaded renders."""

    line_px: float = 1.5
    samples: int = 1
    shaded_samples: int = 8


class ContourMethod(ABC):
    """A way to draw the figure as dark lines on white.

    ``passes``: the pass names (see :data:`PASSES`) :meth:`draw` reads. ``shaded``: the method
    needs a lit, skin-shaded Combined pass. ``freestyle``: the method needs Freestyle strokes.
    """

    name: str = ""
    passes: frozenset[str] = frozenset()
    shaded: bool = False
    freestyle: bool = False

    def prepare(self, settings: LineSettings) -> None:
        """Load whatever the method needs once per worker (e.g. network weights)."""

    @abstractmethod
    def draw(self, passes: dict[str, np.ndarray], settings: LineSettings) -> np.ndarray:
        """``H, W`` uint8 line image: 255 paper, 0 ink."""


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """The sRGB transfer function on linear values in [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def over_white(rgba: np.ndarray) -> np.ndarray:
    """``H, W, 3`` uint8 sRGB: premultiplied linear RGBA composited over white paper."""
    rgb = rgba[..., :3] + (1.0 - rgba[..., 3:4])
    return np.round(linear_to_srgb(rgb) * 255.0).astype(np.uint8)
