"""The one Cycles render that feeds every contour method (bpy, worker only).

:class:`PassRender` configures the scene once (Cycles CPU, film transparent, the view-layer
passes asked for, a compositor File Output node writing each pass as an uncompressed float
EXR — the Viewer image is never made in background mode, and a ``write_still`` multilayer EXR,
which keeps every pass only with compositing off, measured no faster: it also writes Combined),
then each :meth:`PassRender.render` call renders the current frame and
returns the passes as numpy arrays (rows top to bottom; the pass contract is
``renderers.contours.base``, the EXR parsing ``renderers.contours.exr``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from renderers.contours.base import PASSES
from renderers.contours.exr import read_exr

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
        """Render the current frame. ``sharp``: ``samples`` samples per pixel, all at the pixel
        centre (box filter of ~0 width), so depth and normal differences between neighbours are the
        surface's, not sampling jitter, and coverage is 0/1; otherwise Blender's default
        1.5 px Blackman-Harris filter with ``samples`` samples (anti-aliased, for shaded
        images). Depth in a non-sharp render comes from a pixel's first sample only."""
        bpy = self.bpy
        cycles = self.scene.cycles
        cycles.samples = samples
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
