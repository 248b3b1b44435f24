"""Every stylizer on the same renders and styles (issue 13): a contact sheet and one table of speed,
label fidelity, content and style loss.

    PYTHONPATH=. .venv/bin/python benchmarks/stylizer_compare.py --renders DIR [--n 12] [--size 256]
        [--styles pencil_hb,charcoal,ink_wash,scribble] [--stylizer NAME[:key=value,...]]... [--out DIR]

- ``--stylizer``: a registered stylizer and its config keys (``adain``, ``multistyle:alpha=0.7``,
  ``cut:weights=/path/latest_net_G.pth``); default: every stylizer whose default weights ship.
- Renders: the first ``--n`` rows of the render shards, resized to ``--size`` px with their labels. Render
  ``i`` gets style ``i mod S`` (stylizers that take style images); GANs trained on one domain have one.
- img/s: the stylize call over all renders (batch 4, CPU, ``--threads`` torch threads), style codes made
  apart; ``--speed-size`` times ``--speed-n`` renders again at that size (512 for the issue's figure).
- label fidelity: the share of stylized images on which a pose model (``evaluation.fidelity.CheckpointJudge``;
  ``--judge``, repeatable: ``bundled`` = predict's default, ``blazepose_full`` = MediaPipe's, or a file; the first
  is the table's main column) still finds the labelled pose (OKS >= 0.5), with the raw renders' as reference;
  content loss (relu4_1) and Gram style loss vs each image's style (``stylizers.metrics``, VGG-16/HED).
Prints a markdown table and writes ``compare.json`` and ``contact_sheet.png`` (rows = renders; columns =
render, each stylizer) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse_spec(text: str) -> tuple[str, dict]:
    """``name[:key=value,...]`` -> (name, settings); numbers and true/false parsed."""
    name, _, rest = text.partition(":")
    settings = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        settings[key] = {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value
    return name, settings


def load_renders(folder: str, n: int, size: int) -> list[dict]:
    """The first ``n`` labelled rows, resized (longer side ``size``) with their keypoints, box and area."""
    from shards import decode_png, encode_png, iter_samples

    rows = []
    for row in iter_samples(folder, decode_images=False):
        if not (row["keypoints"][:, 2] > 0).any():
            continue
        rgb = decode_png(row["image"])
        rgb = rgb if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, 2)
        scale = size / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        kp = row["keypoints"].copy()
        kp[:, :2] *= scale
        rows.append({**row, "rgb": rgb, "image": encode_png(rgb), "width": rgb.shape[1], "height": rgb.shape[0],
                     "keypoints": kp, "bbox": np.asarray(row["bbox"]) * scale, "area": float(row["area"]) * scale ** 2})
        if len(rows) == n:
            break
    return rows


def run_one(name: str, settings: dict, rows: list[dict], style_images: list[np.ndarray], judges: dict, encoder,
            speed: tuple[int, int]) -> tuple[dict, list[np.ndarray]]:
    from shards import encode_png
    from stylizers.base import StylizerRunner, build_stylizer
    from stylizers.config import stylizer_config
    from stylizers.metrics import content_loss, style_loss
    from stylizers.stage import to_tensor, to_uint8
    from evaluation.fidelity import fidelity_of

    cfg = stylizer_config({"name": name, "device": "cpu", "batch_size": 4, **settings})
    runner = StylizerRunner.create(build_stylizer(cfg), "cpu", 4)
    takes_styles = cfg.capabilities.style_images
    used = style_images if takes_styles else style_images[:1]
    codes = runner.embed_styles([torch.from_numpy(s.transpose(2, 0, 1).copy()) for s in used])
    pick = [i % len(used) for i in range(len(rows))]
    weights = torch.nn.functional.one_hot(torch.tensor(pick), len(used)).float()
    content = to_tensor([r["rgb"] for r in rows])
    start = time.perf_counter()
    out = runner.stylize(content, codes, weights)
    seconds = time.perf_counter() - start
    images = list(to_uint8(out))
    judged = [{**r, "image": encode_png(img)} for r, img in zip(rows, images)]
    fids = {j: fidelity_of(judge(judged)) for j, judge in judges.items()}
    fid = next(iter(fids.values()))
    styles_t = torch.stack([torch.from_numpy(cv2.resize(style_images[i % len(style_images)], content.shape[-1:-3:-1])
                                              .transpose(2, 0, 1).copy()) for i in range(len(rows))])
    with torch.no_grad():  # 4 images at a time: VGG features of 48 images at 512 px need ~18 GB
        c = float(torch.cat([content_loss(encoder, out[i:i + 4], content[i:i + 4]) for i in range(0, len(out), 4)]).mean())
        s = float(torch.cat([style_loss(encoder, out[i:i + 4], styles_t[i:i + 4]) for i in range(0, len(out), 4)]).mean())
    result = {"stylizer": name, "settings": settings, "img_per_s": len(rows) / seconds,
              "label_fidelity": fid["fidelity"], "mean_oks": fid["mean_oks"], "content_loss": c, "style_loss": s,
              "judges": fids}
    size, n = speed
    if size and n:
        big = torch.nn.functional.interpolate(content[:n], size=(size, size), mode="bilinear", align_corners=False)
        start = time.perf_counter()
        runner.stylize(big, codes, weights[:n])
        result[f"img_per_s_{size}"] = n / (time.perf_counter() - start)
    return result, images


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--renders", required=True)
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--styles", default="pencil_hb,charcoal,ink_wash,scribble")
    ap.add_argument("--stylizer", action="append", default=[])
    ap.add_argument("--speed-size", type=int, default=512)
    ap.add_argument("--speed-n", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sheet-rows", type=int, default=4)
    ap.add_argument("--judge", action="append", default=[])
    ap.add_argument("--out", default="runs/stylizer_compare")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from evaluation.fidelity import CheckpointJudge, fidelity_of
    from rig2sketch.drawing import grid
    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.style_bank import StyleBank
    from stylizers.vgg import encoder_vgg16
    from safetensors.torch import load_file

    rows = load_renders(args.renders, args.n, args.size)
    bank = StyleBank.open("bundled")
    style_images = [bank.load(s, 256) for s in args.styles.split(",")]
    judges = {j: CheckpointJudge(j, "cpu") for j in args.judge or ["bundled"]}
    encoder = encoder_vgg16(load_file(str(BUNDLED_DIR / ENCODER_FILE))).eval()
    specs = [parse_spec(s) for s in args.stylizer] or [("adain", {}), ("multistyle", {}), ("stytr2", {}),
                                                         ("cyclegan", {})]
    raws = {j: fidelity_of(judge(rows)) for j, judge in judges.items()}
    raw = next(iter(raws.values()))
    results, columns = [], [[r["rgb"] for r in rows]]
    for name, settings in specs:
        try:
            result, images = run_one(name, settings, rows, style_images, judges, encoder,
                                     (args.speed_size, args.speed_n))
        except (ValueError, FileNotFoundError) as err:  # e.g. a stylizer whose weights are not given
            print(f"{name}: skipped ({err})", file=sys.stderr)
            continue
        results.append(result)
        columns.append(images)
        print(json.dumps(result), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    k = min(args.sheet_rows, len(rows))
    labels = ["render"] + [r["stylizer"] + "".join(f" {Path(str(v)).name}" for v in r["settings"].values())
                           for r in results]
    tiles = [columns[c][i] for i in range(k) for c in range(len(columns))]
    sheet = grid(tiles, len(columns), cell=256, labels=[labels[c] for _ in range(k) for c in range(len(columns))])
    cv2.imwrite(str(out / "contact_sheet.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    (out / "compare.json").write_text(json.dumps({"renders": len(rows), "size": args.size, "styles": args.styles,
                                                  "raw_label_fidelity": raws, "results": results}, indent=1))
    others = list(judges)[1:]
    extra = "".join(f" fidelity ({j}) |" for j in others)
    print(f"\n| stylizer | img/s at {args.size} | img/s at {args.speed_size} | label fidelity | mean OKS |{extra} "
          f"content loss | style loss |\n|---|---:|---:|---:|---:|{'---:|' * len(others)}---:|---:|")
    cells = "".join(f" {raws[j]['fidelity']:.2f} |" for j in others)
    print(f"| raw renders | – | – | {raw['fidelity']:.2f} | {raw['mean_oks']:.3f} |{cells} – | – |")
    for label, r in zip(labels[1:], results):
        cells = "".join(f" {r['judges'][j]['fidelity']:.2f} |" for j in others)
        print(f"| {label} | {r['img_per_s']:.2f} | {r.get(f'img_per_s_{args.speed_size}', 0):.3f} | "
              f"{r['label_fidelity']:.2f} | {r['mean_oks']:.3f} |{cells} {r['content_loss']:.3f} | {r['style_loss']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
