"""The torch PBR shader and texture optimisation on analytic G-buffers (a UV sphere; no Blender):
gradients are right, the style loss falls, DeepDream changes only the albedo, texture sets round-trip,
and bad input fails with one clear line. The match to Cycles is tests/test_pbr_blender.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rig2sketch.texture_set import TextureSet, read_material, read_texture_set, write_texture_set
from stylizers.pbr_optim import TextureStylizeConfig, bundled_encoder, deepdream_albedo, gram_vgg_judge, stylize_material
from stylizers.pbr_shading import CHANNELS, GBuffers, sample_material, shade
from stylizers.pbr_texture import from_texture_set, initial_material, to_texture_set

torch.set_num_threads(1)


def sphere_gbuffers(px: int, views: int = 2, dtype=torch.float32) -> GBuffers:
    """A unit sphere seen orthographically from ``views`` azimuths: UV = (longitude, latitude)."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, px, dtype=dtype), torch.linspace(-1, 1, px, dtype=dtype), indexing="ij")
    r2 = xs**2 + ys**2
    mask = (r2 < 0.95).to(dtype)
    z = (1 - r2.clamp(max=0.95)).sqrt()
    out = {k: [] for k in ("uv", "normal", "tangent", "bitangent", "view", "mask", "part")}
    for i in range(views):
        az = 2 * math.pi * i / views
        # camera looks along -y_cam; world normal of the visible point (x right, -ys up, z towards camera)
        local = torch.stack([xs, -ys, z], -1)
        c, s = math.cos(az), math.sin(az)
        n = torch.stack([c * local[..., 0] + s * local[..., 2], -s * local[..., 0] + c * local[..., 2], local[..., 1]], -1)
        lon = torch.atan2(n[..., 1], n[..., 0])
        lat = torch.asin(n[..., 2].clamp(-1, 1))
        uv = torch.stack([(lon / (2 * math.pi)) % 1.0, lat / math.pi + 0.5], -1)
        t = torch.nn.functional.normalize(torch.stack([-torch.sin(lon), torch.cos(lon), torch.zeros_like(lon)], -1), dim=-1)
        b = torch.cross(n, t, dim=-1)
        v = torch.tensor([s, c, 0.0], dtype=dtype).expand(px, px, 3)
        for key, value in (("uv", uv), ("normal", n), ("tangent", t), ("bitangent", b), ("view", v), ("mask", mask),
                           ("part", mask.long())):
            out[key].append(value)
    return GBuffers(**{k: torch.stack(v) for k, v in out.items()}, parts=["ball"])


def test_shade_is_lambert_for_a_flat_white_diffuse_material():
    gb = sphere_gbuffers(16, 1)
    material = torch.zeros(1, 8, 4, 4)
    material[:, :3] = 1.0
    material[:, 3:6] = torch.tensor([0.5, 0.5, 1.0])[:, None, None]
    material[:, 6] = 1.0
    light = torch.tensor([[0.0, 1.0, 0.0]])
    out = shade(material, gb, light, torch.full((1, 3), math.pi), 0.0, specular_level=0.0)
    n_l = (gb.normal[0] @ light[0]).clamp_min(0) * gb.mask[0]
    assert torch.allclose(out[0, 0], n_l, atol=1e-5)


def test_shader_gradients_match_finite_differences_on_a_tiny_texture():
    gb = sphere_gbuffers(6, 2, dtype=torch.float64)
    material = initial_material(np.array([[0.5, 0.3, 0.2]]), 4, np.random.default_rng(0), variation=0.3).double()
    material[:, 3:6] += 0.1 * torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    material[:, 6] = 0.5
    material[:, 7] = 0.3
    material.requires_grad_(True)
    light = torch.nn.functional.normalize(torch.tensor([[0.3, 0.8, 0.5], [0.5, -0.2, 0.8]], dtype=torch.float64), dim=1)
    irradiance = torch.full((2, 3), 3.0, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda m: shade(m, gb, light, irradiance, 0.1), (material,), eps=1e-6, atol=1e-4)


@pytest.mark.slow
def test_style_loss_falls_over_20_steps_for_both_parametrisations():
    gb = sphere_gbuffers(48, 4)
    start = initial_material(np.array([[0.6, 0.4, 0.3]]), 32, np.random.default_rng(0))
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 64), indexing="ij")
    stripes = (torch.sin(xx * 40) > 0).float()
    style = torch.stack([stripes, stripes * 0.2, 1 - stripes])[None]
    encoder = bundled_encoder()
    judge = gram_vgg_judge(style, encoder)
    for parametrisation, lr in (("direct", 0.05), ("dip", 0.01)):
        cfg = TextureStylizeConfig(parametrisation=parametrisation, size=32, steps=20, views_per_step=2, lr=lr)
        material, history = stylize_material(start, gb, judge, cfg, seed=0)
        assert len(history) == 20 and material.shape == start.shape
        assert 0.0 <= float(material.min()) and float(material.max()) <= 1.0
        first, last = np.mean(history[:3]), np.mean(history[-3:])
        assert last < 0.8 * first, (parametrisation, history)


def test_deepdream_changes_only_the_albedo_and_stays_in_range():
    start = initial_material(np.array([[0.5, 0.5, 0.5], [0.2, 0.3, 0.8]]), 32, np.random.default_rng(1))
    cfg = TextureStylizeConfig(mode="deepdream", steps=3, dream_step=0.05)
    out = deepdream_albedo(start, bundled_encoder(), cfg)
    assert torch.equal(out[:, 3:], start[:, 3:])
    changed = (out[:, :3] - start[:, :3]).abs().mean()
    assert 0.005 < float(changed) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_texture_set_round_trip_and_clear_errors(tmp_path):
    start = initial_material(np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.6]]), 8, np.random.default_rng(0))
    write_texture_set(to_texture_set(start, ["body", "top"], "ada"), tmp_path / "set")
    back = from_texture_set(read_texture_set(tmp_path / "set"), ["body", "top"])
    assert (back - start).abs().max() < 1 / 255 + 0.02  # 8-bit PNGs, normals renormalised
    (tmp_path / "set" / "top_metallic.png").unlink()
    with pytest.raises(ValueError, match="top metallic map top_metallic.png is missing"):
        read_material(tmp_path / "set")
    with pytest.raises(ValueError, match="has no material.json"):
        read_material(tmp_path)
    with pytest.raises(ValueError, match="lacks its roughness map"):
        TextureSet("ada", {"body": {"albedo": np.zeros((4, 4, 3)), "normal": np.zeros((4, 4, 3)),
                                    "metallic": np.zeros((4, 4, 1))}}).check()
    with pytest.raises(ValueError, match="no maps for parts \\['hair'\\]"):
        from_texture_set(read_texture_set_ok(tmp_path), ["body", "hair"])


def read_texture_set_ok(tmp_path):
    write_texture_set(to_texture_set(torch.rand(1, 8, 4, 4), ["body"], "ada"), tmp_path / "ok")
    return read_texture_set(tmp_path / "ok")


def test_sampling_reads_each_part_texture_and_refuses_too_few_parts():
    gb = sphere_gbuffers(8, 1)
    gb.part = gb.part * 2  # every seen pixel is part 2
    material = torch.zeros(2, 8, 4, 4)
    material[1, CHANNELS["roughness"]] = 0.75
    values = sample_material(material, gb)
    assert torch.allclose(values[0, 6][gb.mask[0] > 0], torch.tensor(0.75))
    with pytest.raises(ValueError, match="material has 1 parts"):
        sample_material(material[:1], gb)


def test_config_refuses_unknown_names():
    with pytest.raises(ValueError, match="parametrisation='pixels'"):
        TextureStylizeConfig(parametrisation="pixels")
    with pytest.raises(ValueError, match="judge='sds'"):
        TextureStylizeConfig(judge="sds")


def test_view_vectors_point_from_the_pixels_to_the_camera():
    from renderers.cameras import ViewSpec, frame_view, view_vectors

    points = np.random.default_rng(0).uniform(-0.3, 0.3, (50, 3)) + [0, 0, 1]
    camera = frame_view(ViewSpec("front", 30.0, 10.0), points, 32, 24)
    v = view_vectors(camera)
    assert v.shape == (24, 32, 3) and np.allclose(np.linalg.norm(v, axis=-1), 1, atol=1e-5)
    # The ray through a pixel centre, projected back, lands on that pixel.
    from renderers.projection import project_points

    hit = camera.location - 2.0 * v[5, 7]
    uv = project_points(camera.K, camera.world_to_cam, hit[None])[0]
    assert np.allclose(uv[:2], [7.5, 5.5], atol=1e-3)


def test_render_config_hash_ignores_unset_textures_and_follows_the_maps(tmp_path):
    from dataclasses import replace

    from renderers.config import RenderConfig
    from renderers.plan import config_hash

    base = RenderConfig()
    write_texture_set(to_texture_set(torch.zeros(1, 8, 4, 4), ["body"], "ada"), tmp_path / "lib" / "ada")
    textured = replace(base, textures=str(tmp_path / "lib"))
    first = config_hash(textured)
    assert first != config_hash(base)
    write_texture_set(to_texture_set(torch.ones(1, 8, 4, 4), ["body"], "ada"), tmp_path / "lib" / "ada")
    assert config_hash(textured) != first
    with pytest.raises(ValueError, match="renderer.textures=.* is not a folder"):
        RenderConfig(textures=str(tmp_path / "nowhere"))
