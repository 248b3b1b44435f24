"""What a contour method is, and the one Cycles render that feeds every method.

Inside a render worker, :class:`PassRender` configures the scene once (Cycles CPU, film
transparent, the view-layer passes asked for, a compositor File Output node writing each pass
as an uncompressed float EXR — Blender 5.0's multilayer EXR keeps only Combined, and the
Viewer image is never made in background mode), then each :meth:`PassRender.render` call
renders the current frame and returns the passes as numpy arrays (rows top to bottom).

Pass arrays (``H, W`` the image size):
- ``image``: ``H, W, 4`` float32 linear RGBA (the Combined pass: shaded figure, transparent
  background)
- ``alpha``: ``H, W`` float32 coverage in [0, 1]; when ``depth`` is rendered too, the 0/1
  coverage of each pixel's depth sample (``depth < EMPTY_DEPTH``) instead of a file of its own —
  exact for sharp renders (one sample at the pixel centre), first-sample coverage otherwise
- ``depth``: ``H, W`` float32 distance along the view axis in metres, huge where empty
- ``normal``: ``H, W, 3`` float32 world-space unit normals
- ``index``: ``H, W`` float32 object pass index (one per mesh)
- ``part``: ``H, W`` float32 body-part id (``renderers.parts.PARTS``; needs its AOV set up)
- ``freestyle``: ``H, W, 4`` float32 Freestyle strokes (RGBA, premultiplied)
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from renderers.contours.exr import read_exr

# pass name -> (Render Layers socket, File Output item type, view-layer flag or None)
PASSES: dict[str, tuple[str, str, str | None]] = {
    "image": ("Image", "RGBA", None),
    "alpha": ("Alpha", "FLOAT", None),
    "depth": ("Depth", "FLOAT", "use_pass_z"),
    "normal": ("Normal", "VECTOR", "use_pass_normal"),
    "index": ("Object Index", "FLOAT", "use_pass_object_index"),
    "part": ("part", "FLOAT", None),  # the body-part AOV of renderers.parts
    "freestyle": ("Freestyle", "RGBA", None),
}


EMPTY_DEPTH = 1e9  # Cycles writes ~1e10 as the depth of pixels that see no surface
# File Output item type -> the image format's colour mode, and the EXR channels Blender names for it
COLOR_MODES = {"FLOAT": "BW", "VECTOR": "RGB", "RGBA": "RGBA"}
CHANNELS = {"FLOAT": ("V",), "VECTOR": ("X", "Y", "Z"), "RGBA": ("R", "G", "B", "A")}


def _float_exr(image_format: Any, color_mode: str) -> None:
    """An uncompressed 32-bit float OpenEXR (what :func:`renderers.contours.exr.read_exr` reads)."""
    image_format.file_format = "OPEN_EXR"
    image_format.color_depth = "32"
    image_format.exr_codec = "NONE"
    image_format.color_mode = color_mode


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


class PassRender:
    """Renders the current frame of ``scene`` with Cycles and returns the requested passes.

    ``directory`` is a private scratch folder (one per worker); pass files are overwritten on
    every render.
    """

    def __init__(self, bpy: Any, scene: Any, passes: set[str], directory: Path) -> None:
        unknown = set(passes) - set(PASSES)
        if unknown:
            raise ValueError(f"unknown passes {sorted(unknown)}; known: {sorted(PASSES)}")
        self.bpy = bpy
        self.scene = scene
        self.passes = sorted(passes)
        # Coverage from the depth pass saves a pass file per image (a write and a read).
        self.alpha_from_depth = "alpha" in passes and "depth" in passes
        self.files = [name for name in self.passes if not (name == "alpha" and self.alpha_from_depth)]
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        scene.render.engine = "CYCLES"
        scene.cycles.device = "CPU"
        scene.cycles.use_adaptive_sampling = False
        scene.cycles.use_denoising = False
        scene.cycles.seed = 0
        scene.render.film_transparent = True
        scene.render.resolution_percentage = 100
        # Keep Cycles' scene (BVH, shaders) between renders: 8 cameras per frame then rebuild
        # the deformed geometry once per frame, not once per camera (~25% faster at 512 px).
        scene.render.use_persistent_data = True
        scene.view_settings.view_transform = "Standard"
        view_layer = scene.view_layers[0]
        for name in self.passes:
            flag = PASSES[name][2]
            if flag:
                setattr(view_layer, flag, True)
        tree = bpy.data.node_groups.new("rig2sketch_passes", "CompositorNodeTree")
        scene.compositing_node_group = tree
        layers = tree.nodes.new("CompositorNodeRLayers")
        out = tree.nodes.new("CompositorNodeOutputFile")
        out.directory = str(self.directory)
        out.file_name = ""
        out.format.media_type = "IMAGE"
        _float_exr(out.format, "RGBA")
        for name in self.files:
            socket, kind, _ = PASSES[name]
            item = out.file_output_items.new(kind, socket)
            # One channel per scalar pass, three per vector: the node format's RGBA would write
            # (and we would read) 4 floats a pixel for every pass.
            item.override_node_format = True
            _float_exr(item.format, COLOR_MODES[kind])
            tree.links.new(layers.outputs[socket], out.inputs[socket])

    def render(self, samples: int = 1, sharp: bool = True) -> dict[str, np.ndarray]:
        """Render the current frame. ``sharp``: one sample per pixel at the pixel centre (box
        filter of ~0 width), so depth and normal differences between neighbours are the
        surface's, not sampling jitter, and coverage is 0/1; otherwise Blender's default
        1.5 px Blackman-Harris filter with ``samples`` samples (anti-aliased, for shaded
        images). Depth in a non-sharp render comes from a pixel's first sample only."""
        bpy = self.bpy
        cycles = self.scene.cycles
        cycles.samples = 1 if sharp else samples
        cycles.pixel_filter_type = "BOX" if sharp else "BLACKMAN_HARRIS"
        cycles.filter_width = 0.01 if sharp else 1.5
        for name in self.files:
            path = self.directory / f"{PASSES[name][0]}.exr"
            if path.exists():
                os.remove(path)
        bpy.ops.render.render(write_still=False)
        result = {}
        for name in self.files:
            path = self.directory / f"{PASSES[name][0]}.exr"
            if not path.exists():
                raise RuntimeError(f"Blender did not write the {name!r} pass to {path}")
            channels = read_exr(path)
            names = CHANNELS[PASSES[name][1]]
            missing = [c for c in names if c not in channels]
            if missing:
                raise RuntimeError(f"{path} lacks channels {missing} (has {sorted(channels)})")
            result[name] = channels[names[0]] if len(names) == 1 else np.dstack([channels[c] for c in names])
        if self.alpha_from_depth:
            result["alpha"] = (result["depth"] < EMPTY_DEPTH).astype(np.float32)
        return result
