"""PBR G-buffers and textured renders through real bpy (64x64): the torch shader reproduces
Cycles' render of the same maps under the same sun, and a mesh without UVs is refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderers.cameras import ViewSpec
from renderers.gbuffer import GBufferJob, SunLight, run_gbuffer_job
from rig2sketch.texture_set import read_texture_set, write_texture_set
from stylizers.pbr_shading import GBuffers, shade
from stylizers.pbr_texture import from_texture_set, initial_material, to_texture_set

torch.set_num_threads(1)
LIGHT = SunLight((0.4, -1.0, 0.5), (1.0, 0.9, 0.8), 3.0)
PARTS = ["body", "tshirt", "skirt", "long_hair", "eyes"]  # ada's meshes


def _maps(size: int) -> torch.Tensor:
    """ada-shaped maps: noisy albedo everywhere, a flat normal map on the body, wavy on the rest."""
    material = initial_material(np.full((len(PARTS), 3), 0.4), size, np.random.default_rng(0), variation=0.4)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    material[1:, 3] = 0.5 + 0.25 * torch.sin(xx * 12)
    material[1:, 4] = 0.5 + 0.25 * torch.cos(yy * 9)
    return material


@pytest.mark.blender
@pytest.mark.slow
def test_torch_shader_matches_cycles_on_a_test_view(tmp_path):
    write_texture_set(to_texture_set(_maps(64), PARTS, "ada", specular_ior_level=0.0), tmp_path / "maps")
    job = GBufferJob("ada", (ViewSpec("front", 20.0, 10.0),), 64, 64, textures=str(tmp_path / "maps"), light=LIGHT)
    arrays = run_gbuffer_job(job, tmp_path / "g.npz")
    assert list(arrays["parts"]) == PARTS and arrays["uv"].shape == (1, 64, 64, 2)
    gb = GBuffers.from_arrays(arrays)
    material = from_texture_set(read_texture_set(tmp_path / "maps"), gb.parts)  # the PNGs' 8-bit values
    ours = shade(material, gb, torch.tensor(LIGHT.unit_direction)[None], torch.tensor(LIGHT.irradiance)[None],
                 0.0, specular_level=0.0)[0].permute(1, 2, 0).numpy()
    cycles = arrays["image"][0, ..., :3]
    err = np.abs(ours - cycles).max(-1)
    part = arrays["part"][0]
    flat = part == 1
    assert flat.sum() > 100
    # Diffuse, flat normal map: per-pixel agreement (measured max 0.005 in linear radiance, mean 0.3).
    assert err[flat].max() < 0.012, err[flat].max()
    # Normal-mapped parts: Cycles also bends normals near the terminator (valid-reflection fix);
    # away from it they agree (measured mean 0.007).
    facing = (arrays["normal"][0] @ LIGHT.unit_direction) > 0.2
    bumpy = (part > 1) & facing
    assert bumpy.sum() > 100
    assert err[bumpy].mean() < 0.02, err[bumpy].mean()
    assert 0.2 < cycles[part > 0].mean() < 0.5  # lit, not black or blown out


@pytest.mark.blender
def test_a_mesh_without_uvs_is_refused_with_one_line(tmp_path):
    job = GBufferJob("mannequin", (ViewSpec("front", 0.0, 0.0),), 32, 32)
    with pytest.raises(ValueError, match="has no UV map, so material maps cannot be placed on it; unwrap it"):
        run_gbuffer_job(job, tmp_path / "g.npz")
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.blender
def test_texture_character_puts_the_maps_on_its_own_character_only(tmp_path):
    from renderers.blender import reset_blender
    from renderers.blender.pbr import UNWRAPPED_UV, load_character, texture_character

    write_texture_set(to_texture_set(_maps(8), PARTS, "ada"), tmp_path / "ada")
    write_texture_set(to_texture_set(_maps(8), PARTS, "bob"), tmp_path / "bob")
    bpy = reset_blender()
    character = load_character(bpy, "ada")
    assert not texture_character(bpy, character, tmp_path / "bob")
    assert texture_character(bpy, character, tmp_path / "ada")
    for obj in character.meshes:
        nodes = obj.data.materials[0].node_tree.nodes
        images = sorted(n.image.filepath.rsplit("/", 1)[-1] for n in nodes if n.type == "TEX_IMAGE")
        part = obj.name.split(".", 1)[1]
        assert images == sorted(f"{part}_{m}.png" for m in ("albedo", "metallic", "normal", "roughness"))
    # The garments' squeezed MakeHuman UVs get their own unwrap; the body keeps its UV map.
    assert UNWRAPPED_UV not in character.meshes[0].data.uv_layers
    assert UNWRAPPED_UV in character.meshes[1].data.uv_layers


@pytest.mark.blender
@pytest.mark.slow
def test_stylize_textures_command_writes_texture_set_sheet_and_report(tmp_path):
    import json

    from flows.textures import StylizeTexturesCommand, stylize_textures_command
    from stylizers.pbr_optim import TextureStylizeConfig

    cmd = StylizeTexturesCommand(out=str(tmp_path / "run"), views=2, view_px=48, heldout=2, sheet_px=48,
                                 sheet_samples=1, device="cpu",
                                 texture=TextureStylizeConfig(size=16, steps=3, views_per_step=1))
    folder = stylize_textures_command(cmd)
    assert sorted(read_texture_set(folder).parts) == sorted(PARTS)
    report = json.loads((tmp_path / "run" / "stylize_textures.json").read_text())
    assert len(report["judge_loss"]) == 3 and report["parts"] == PARTS
    assert {v["name"] for v in report["heldout_cameras"]}.isdisjoint(v["name"] for v in report["train_cameras"])
    from PIL import Image

    sheet = np.asarray(Image.open(tmp_path / "run" / "sheet.png"))
    assert sheet.shape[1] >= 2 * 48 and sheet.std() > 10


def test_texture_library_finds_each_characters_set(tmp_path):
    from rig2sketch.texture_set import texture_set_for

    write_texture_set(to_texture_set(_maps(4), PARTS, "ada"), tmp_path / "lib" / "ada" / "textures")
    write_texture_set(to_texture_set(_maps(4), PARTS, "bob"), tmp_path / "lib" / "bob")
    assert texture_set_for(tmp_path / "lib", "ada") == tmp_path / "lib" / "ada" / "textures"
    assert texture_set_for(tmp_path / "lib", "bob") == tmp_path / "lib" / "bob"
    assert texture_set_for(tmp_path / "lib", "cy") is None
    assert texture_set_for(tmp_path / "lib" / "bob", "bob") == tmp_path / "lib" / "bob"
    assert texture_set_for(tmp_path / "lib" / "bob", "ada") is None
    with pytest.raises(ValueError, match="character name"):
        texture_set_for(tmp_path / "lib", "../ada")
