"""The PBR dataset variant of the thesis table (issue 15): a textured step renders the characters
with their texture sets from a library, through the ordinary render flow and shards."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from renderers.config import CameraConfig, FrameConfig, OutputConfig, RenderConfig
from rig2sketch.texture_set import write_texture_set
from stylizers.pbr_texture import initial_material, to_texture_set

PARTS = ["body", "tshirt", "skirt", "long_hair", "eyes"]


@pytest.mark.blender
@pytest.mark.slow
def test_textured_step_renders_the_library_textures_into_shards(tmp_path, prefect_harness):
    import pyarrow.parquet as pq

    from flows.evaluate import TexturedStep, make_textured

    material = initial_material(np.full((len(PARTS), 3), 0.5), 8, np.random.default_rng(0), variation=0.0)
    material[:, 0:3] = torch.tensor([0.05, 0.9, 0.05])[:, None, None]  # every part green
    write_texture_set(to_texture_set(material, PARTS, "ada"), tmp_path / "lib" / "ada" / "textures")
    renderer = RenderConfig(characters=["ada"], motions=["idle"], width=64, height=64, threads=1,
                            frames=FrameConfig(step=10, max_frames=1), camera=CameraConfig(count=1),
                            outputs=OutputConfig(shaded=True))
    step = TexturedStep(library=str(tmp_path / "lib"), contour="depth_normal")
    out = make_textured.fn(step, renderer, {"kind": "local"}, str(tmp_path / "data" / "pbr"), 0)
    shards = sorted(Path(out).rglob("*.parquet"))
    assert len(shards) == 1
    row = pq.read_table(shards[0]).to_pylist()[0]
    assert row["character"] == "ada" and len(row["keypoints"]) == 17 * 3
    shaded = np.asarray(Image.open(io.BytesIO(row["shaded"]["bytes"])).convert("RGB")).astype(float)
    figure = shaded.sum(-1) < 740  # not paper
    r, g, b = shaded[figure].mean(0)
    assert figure.sum() > 100 and g > r + 40 and g > b + 40, (r, g, b)
