"""Texture stylization stage: a character's PBR maps stylized through differentiable shading
(``rig2sketch stylize-textures character=ada style=peep_03 out=runs/textures/ada``).

    <out>/
      original/      the starting texture set (maps from each part's colour; material.json)
      textures/      the stylized texture set: <part>_{albedo,normal,roughness,metallic}.png + material.json
      sheet.png      original vs stylized maps; the character from held-out cameras (never used in
                     the optimisation): original shading, stylized shading, HED contours of it
      stylize_textures.json   config, style, per-step judge loss, timings, parts, cameras
      _work/         G-buffers (.npz) of the optimisation and held-out cameras

Steps: Blender renders the G-buffers of ``views`` sampled cameras once; torch optimises the maps
(``stylizers.pbr_optim``); Blender renders both texture sets from the held-out cameras with
Cycles (shadows and a grey world on), and HED draws contours of the stylized shading. The
stylized set then renders in any job with ``renderers.blender.pbr.apply_texture_set``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from renderers.cameras import ViewSpec, sample_views
from renderers.config import CameraConfig
from renderers.contours.base import LineSettings, over_white
from renderers.gbuffer import GBufferJob, SunLight, run_gbuffer_job
from rig2sketch.atomic import atomic_path, write_json_atomic
from rig2sketch.drawing import grid
from rig2sketch.texture_set import write_texture_set
from stylizers.base import select_device
from stylizers.pbr_optim import RENDER_LOSSES, TextureStylizeConfig, bundled_encoder, style_image_tensor, stylize_material
from stylizers.pbr_shading import GBuffers
from stylizers.pbr_texture import initial_material, to_texture_set
from stylizers.style_bank import StyleBank

HELDOUT_AZIMUTHS = (30.0, 125.0, 215.0, 300.0)
SHEET_LIGHT = SunLight((0.5, -0.8, 0.9), (1.0, 0.97, 0.92), 3.0)


@dataclass
class StylizeTexturesCommand:
    """``character``: a bundled character; ``characters``: several, each into ``out/<name>`` (a
    texture library for ``renderer.textures=out``). ``style``: a style id of ``style_bank`` (``bundled`` or
    a folder) or a path to an image. ``views``: sampled optimisation cameras (G-buffers at
    ``view_px``); the ``heldout`` cameras (fixed azimuths) are rendered at ``sheet_px`` for the
    sheet only. ``device``: auto (CUDA when present) | cpu | cuda. ``texture``: the optimisation."""

    character: str = "ada"
    characters: list[str] = field(default_factory=list)
    style: str = "peep_03"
    style_bank: str = "bundled"
    out: str = "runs/textures/ada"
    views: int = 8
    view_px: int = 128
    heldout: int = 4
    sheet_px: int = 256
    sheet_samples: int = 16
    seed: int = 0
    threads: int = 1
    device: str = "auto"
    texture: TextureStylizeConfig = field(default_factory=TextureStylizeConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.views <= 256 or not 1 <= self.heldout <= len(HELDOUT_AZIMUTHS):
            raise ValueError(f"stylize-textures: views must be 1..256 and heldout 1..{len(HELDOUT_AZIMUTHS)}")
        if not 32 <= self.view_px <= 1024 or not 32 <= self.sheet_px <= 1024:
            raise ValueError("stylize-textures: view_px and sheet_px must be 32..1024 pixels")


def training_views(count: int, seed: int) -> tuple[ViewSpec, ...]:
    """``count`` sampled cameras all round the character (fill 0.8-0.95, mild elevation)."""
    cfg = CameraConfig(mode="sampled", count=count, elevation_deg_range=(-5.0, 35.0), roll_deg_range=(0.0, 0.0),
                       fill_range=(0.8, 0.95), focal_mm_range=(35.0, 70.0), look_at_jitter_m=0.0)
    return tuple(sample_views(cfg, np.random.default_rng(seed)))


def heldout_views(count: int) -> tuple[ViewSpec, ...]:
    return tuple(ViewSpec(f"held{i}", az, 12.0, fill=0.9) for i, az in enumerate(HELDOUT_AZIMUTHS[:count]))


def load_style(cmd: StylizeTexturesCommand) -> np.ndarray:
    """The style image ``H, W, 3`` float in [0, 1]: a file path, or an id in the style bank."""
    path = Path(cmd.style)
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") and path.is_file():
        from rig2sketch.images import load_image

        return load_image(path).astype(np.float32) / 255.0
    return StyleBank.open(cmd.style_bank).load(cmd.style, max_side=256)


def _maps_strip(material: torch.Tensor) -> np.ndarray:
    """Rows albedo, normal, roughness, metallic; a column per part; ``4 S, P S, 3`` uint8."""
    m = material.detach().cpu().clamp(0, 1)
    rows = [m[:, 0:3], m[:, 3:6], m[:, 6:7].expand(-1, 3, -1, -1), m[:, 7:8].expand(-1, 3, -1, -1)]
    sheet = torch.cat([torch.cat(list(row), dim=2) for row in rows], dim=1)
    return (sheet.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _shaded(arrays: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [over_white(image) for image in arrays["image"]]


def stylize_textures_command(cmd: StylizeTexturesCommand) -> Path:
    """Run the stage; returns the stylized texture set's folder (with ``characters``: the
    library folder ``out``, one ``<name>/textures`` set per character)."""
    if cmd.characters:
        from dataclasses import replace

        from rig2sketch.safe_paths import check_name

        for name in cmd.characters:
            check_name(name, "character name")
            stylize_textures_command(replace(cmd, character=name, characters=[], out=str(Path(cmd.out) / name)))
        return Path(cmd.out)
    torch.set_num_threads(cmd.threads)
    out = Path(cmd.out)
    work = out / "_work"
    started = time.perf_counter()
    device, _ = select_device(cmd.device)
    style = load_style(cmd)
    train = run_gbuffer_job(GBufferJob(cmd.character, training_views(cmd.views, cmd.seed), cmd.view_px, cmd.view_px,
                                       threads=cmd.threads), work / "train.npz")
    gbuffer_s = time.perf_counter() - started
    gb = GBuffers.from_arrays(train, device)
    start = initial_material(train["base_rgb"], cmd.texture.size, np.random.default_rng(cmd.seed)).to(device)
    write_texture_set(to_texture_set(start, gb.parts, cmd.character, cmd.texture.specular_ior_level,
                                     {"stage": "original"}), out / "original")
    encoder = bundled_encoder(device)
    judge = RENDER_LOSSES.get(cmd.texture.judge)(style_image_tensor(style, cmd.view_px).to(device), encoder)
    t0 = time.perf_counter()
    material, history = stylize_material(start, gb, judge, cmd.texture, cmd.seed, encoder)
    optimise_s = time.perf_counter() - t0
    params = {"style": cmd.style, "seed": cmd.seed, **asdict(cmd.texture)}
    write_texture_set(to_texture_set(material, gb.parts, cmd.character, cmd.texture.specular_ior_level, params),
                      out / "textures")
    held = heldout_views(cmd.heldout)
    renders = {}
    for name in ("original", "textures"):
        job = GBufferJob(cmd.character, held, cmd.sheet_px, cmd.sheet_px, textures=str(out / name), light=SHEET_LIGHT,
                         ambient=0.35, shadows=True, bounces=2, samples=cmd.sheet_samples, threads=cmd.threads)
        renders[name] = _shaded(run_gbuffer_job(job, work / f"heldout_{name}.npz"))
    contours = _contours(renders["textures"])
    write_sheet(out / "sheet.png", start, material, style, renders, contours, [v.name for v in held],
                "style" if cmd.texture.mode == "style" else "style (unused by deepdream)")
    write_json_atomic(out / "stylize_textures.json", {
        "config": asdict(cmd), "parts": gb.parts, "device": str(device), "judge_loss": history,
        "seconds": {"gbuffers": round(gbuffer_s, 2), "optimise": round(optimise_s, 2),
                    "total": round(time.perf_counter() - started, 2)},
        "train_cameras": [asdict(v) for v in training_views(cmd.views, cmd.seed)],
        "heldout_cameras": [asdict(v) for v in held]})
    return out / "textures"


def _contours(images: list[np.ndarray]) -> list[np.ndarray]:
    """HED contours (``renderers.contours.hed``) of sRGB renders over white, ``H, W, 3`` uint8."""
    from renderers.contours.registry import CONTOURS

    method = CONTOURS.get("hed")()
    method.prepare(LineSettings())
    out = []
    for image in images:
        linear = torch.as_tensor(image.astype(np.float32) / 255.0)
        linear = torch.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4).numpy()
        rgba = np.dstack([linear, np.ones(image.shape[:2], np.float32)])
        out.append(np.repeat(method.draw({"image": rgba}, LineSettings())[..., None], 3, axis=2))
    return out


def write_sheet(path: Path, start: torch.Tensor, material: torch.Tensor, style: np.ndarray,
                renders: dict[str, list[np.ndarray]], contours: list[np.ndarray], names: list[str],
                style_label: str = "style") -> Path:
    """The acceptance sheet: original | stylized maps (rows albedo, normal, roughness, metallic;
    a column per part), then the held-out cameras: original renders, stylized renders, contours
    of the stylized shading, and the style image."""
    from PIL import Image

    cell = renders["textures"][0].shape[0]
    columns = len(names)
    top = grid([_maps_strip(start), _maps_strip(material)], 2, cell=max(cell, columns * cell // 2),
               labels=["original maps: albedo / normal / roughness / metallic", "stylized maps"])
    images, labels = [], []
    for row, title in ((renders["original"], "original"), (renders["textures"], "stylized"), (contours, "contours")):
        images += row
        labels += [f"{title} {name}" for name in names]
    images.append((np.clip(style, 0, 1) * 255).astype(np.uint8))
    labels.append(style_label)
    bottom = grid(images, columns, cell=cell, labels=labels)
    width = max(top.shape[1], bottom.shape[1])
    pad = lambda x: np.pad(x, ((0, 0), (0, width - x.shape[1]), (0, 0)), constant_values=255)  # noqa: E731
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate([pad(top), pad(bottom)], axis=0)).save(tmp)
    return path


__all__ = ["StylizeTexturesCommand", "stylize_textures_command", "write_sheet"]
