"""How closely the torch PBR shader (``stylizers.pbr_shading``) reproduces Cycles (issue 15).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/pbr_match.py --px 128 --out /tmp/pbr_match

For each material case (diffuse with a flat normal map; diffuse with a wavy normal map; a
dielectric specular layer; half metallic) it writes a texture set for ``ada``, renders G-buffers
and Cycles' image of it in one Blender job (one sun, shadows off, no bounces, no world light,
1 sample at each pixel centre), shades the same maps in torch, and prints the absolute error of
linear radiance over covered pixels (mean, 99th percentile, max) next to Cycles' mean. Writes
``results.json`` and, per case, ``<case>.png`` (torch | Cycles | |error| x 4).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from renderers.cameras import ViewSpec
from renderers.gbuffer import GBufferJob, SunLight, run_gbuffer_job
from rig2sketch.texture_set import read_texture_set, write_texture_set
from stylizers.pbr_shading import GBuffers, shade
from stylizers.pbr_texture import from_texture_set, initial_material, to_texture_set

LIGHT = SunLight((0.4, -1.0, 0.5), (1.0, 0.9, 0.8), 3.0)
CASES = {  # name -> (specular IOR level, wavy normal map, metallic)
    "diffuse_flat": (0.0, False, 0.0),
    "diffuse_normal_map": (0.0, True, 0.0),
    "specular_dielectric": (0.5, False, 0.0),
    "specular_metal_0.5": (0.5, True, 0.5),
}


def case_maps(base_rgb: np.ndarray, wavy: bool, metallic: float, size: int = 64) -> torch.Tensor:
    material = initial_material(base_rgb, size, np.random.default_rng(0), variation=0.4)
    if wavy:
        yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
        material[:, 3] = 0.5 + 0.25 * torch.sin(xx * 12)
        material[:, 4] = 0.5 + 0.25 * torch.cos(yy * 9)
    material[:, 7] = metallic
    return material


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--px", type=int, default=128)
    parser.add_argument("--out", default="runs/bench/pbr_match")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    views = (ViewSpec("front", 20.0, 10.0), ViewSpec("back_left", 210.0, 25.0))
    parts = ["body", "tshirt", "skirt", "long_hair", "eyes"]
    base = np.array([[0.6, 0.4, 0.3], [0.7, 0.2, 0.2], [0.2, 0.3, 0.6], [0.3, 0.2, 0.1], [0.8, 0.8, 0.8]])
    results = {}
    for name, (level, wavy, metallic) in CASES.items():
        folder = out / name
        write_texture_set(to_texture_set(case_maps(base, wavy, metallic), parts, "ada", level), folder)
        job = GBufferJob("ada", views, args.px, args.px, textures=str(folder), light=LIGHT)
        arrays = run_gbuffer_job(job, out / f"{name}.npz")
        gb = GBuffers.from_arrays(arrays)
        material = from_texture_set(read_texture_set(folder), gb.parts)
        n = gb.views
        ours = shade(material, gb, torch.tensor(LIGHT.unit_direction).expand(n, 3),
                     torch.tensor(LIGHT.irradiance).expand(n, 3), 0.0, level).permute(0, 2, 3, 1).numpy()
        cycles = arrays["image"][..., :3]
        covered = arrays["mask"] > 0
        err = np.abs(ours - cycles)[covered]
        results[name] = {"pixels": int(covered.sum()), "cycles_mean": float(cycles[covered].mean()),
                         "abs_err_mean": float(err.mean()), "abs_err_p99": float(np.percentile(err, 99)),
                         "abs_err_max": float(err.max())}
        print(name, {k: round(v, 4) for k, v in results[name].items()})
        tile = lambda x: (np.clip(x, 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)  # noqa: E731
        rows = [np.concatenate([tile(ours[v]), tile(cycles[v]), tile(4 * np.abs(ours[v] - cycles[v]))], 1)
                for v in range(n)]
        Image.fromarray(np.concatenate(rows, 0)).save(out / f"{name}.png")
    (out / "results.json").write_text(json.dumps({"px": args.px, "light": LIGHT.__dict__, "cases": results}, indent=1))


if __name__ == "__main__":
    main()
