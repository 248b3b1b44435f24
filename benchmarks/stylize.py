"""Benchmark: rig2sketch AdaIN vs a plain per-image loop in the style of pytorch-AdaIN ``test.py``.

Same weights (the bundled VGG-16/HED encoder + decoder), same 512x512 content images (Open Peeps outlines
from the style bank), same style images, one run, images/s for each:

- ``reference``: for each content image, ``torch.no_grad()``, batch of 1, encode content AND style, AdaIN,
  decode (what ``test.py`` does per content/style pair);
- ``cached-codes loop``: the same per-image loop but with the style codes computed once (isolates the
  batching/layout gains below from the style caching);
- ``rig2sketch``: ``StylizerRunner`` — style codes once, batches of ``--batch``, ``torch.inference_mode``,
  channels_last weights and inputs (``--no-channels-last`` to measure without).

The reference loops run first on contiguous (NCHW) weights; then the runner converts the same modules.

Prints the images/s, the ratios and the max abs difference of outputs (must be ~0: same maths). The
runner's style codes (4 styles) are timed apart: a run embeds its styles once for all its renders;
``speedup_vs_reference_counting_codes`` charges them to these few images anyway.
Usage: ``.venv/bin/python benchmarks/stylize.py [--n 8] [--batch 4] [--threads 2]``

``--compare RENDERS`` (a folder of render shards, e.g. from ``rig2sketch render``): multistyle vs AdaIN on
the same renders and styles, one run, at 512 and 128 px (renders resized, labels scaled with them):

- images/s of ``StylizerRunner.stylize`` (style codes made once beforehand and timed apart);
- label fidelity: the fraction of stylized images on which the pose model (``--pose-model``: ``blazepose``,
  the bundled zero-shot BlazePose, or ``module:factory`` returning an object with ``predict(image, bbox)``)
  finds the labelled pose, OKS >= 0.5 (``evaluation/fidelity.py``); the raw renders' fidelity as reference;
- contact sheets ``--sheets DIR/contact_<size>.png``: rows = renders, columns = render, then each style
  under AdaIN and under multistyle.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from stylizers.adain import adain, load_bundled, mean_std
from stylizers.base import StylizerRunner, one_hot_weights
from stylizers.style_bank import StyleBank
from stylizers.train import outline


def images(n: int, size: int) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    bank = StyleBank.open("bundled")
    peeps = [e.id for e in bank.entries if "open-peeps" in e.tags]
    lines = [e.id for e in bank.entries if "line-style" in e.tags]
    content = torch.stack([torch.from_numpy(outline(bank.load(peeps[i % len(peeps)], size)).transpose(2, 0, 1).copy())
                           for i in range(n)])
    styles = torch.stack([torch.from_numpy(bank.load(s, size).transpose(2, 0, 1).copy()) for s in lines[:4]])
    return content, styles, [i % len(styles) for i in range(n)]


def reference_loop(stylizer, content, styles, picks, cached_codes: torch.Tensor | None = None) -> torch.Tensor:
    outs = []
    enc, dec = stylizer.encoder, stylizer.decoder
    with torch.no_grad():
        for i in range(len(content)):
            c = content[i:i + 1]
            f = enc.encode(c)
            if cached_codes is None:
                s_mean, s_std = mean_std(enc.encode(styles[picks[i]:picks[i] + 1]))
            else:
                code = cached_codes[picks[i]:picks[i] + 1]
                s_mean, s_std = code[:, :512, None, None], code[:, 512:, None, None]
            outs.append(dec(adain(f, s_mean, s_std)).clamp(0, 1))
    return torch.cat(outs)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# ---------------------------------------------------------------- multistyle vs AdaIN
def load_renders(folder: str, n: int) -> list[dict]:
    """``n`` render rows spread over the shards: ``image`` ``H, W, 3`` uint8 + keypoints, bbox, area."""
    from shards import decode_png, iter_samples

    rows = list(iter_samples(folder, decode_images=False))
    picks = np.linspace(0, len(rows) - 1, min(n, len(rows))).round().astype(int)
    return [{"image": decode_png(rows[i]["image"])[..., :3], "keypoints": np.asarray(rows[i]["keypoints"], np.float32),
             "bbox": np.asarray(rows[i]["bbox"], np.float32), "area": float(rows[i]["area"])} for i in picks]


def resized(row: dict, size: int) -> dict:
    """The render scaled so its longer side is ``size``; labels scaled with it."""
    import cv2

    h, w = row["image"].shape[:2]
    s = size / max(h, w)
    img = cv2.resize(row["image"], (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    kp = row["keypoints"].copy()
    kp[:, :2] *= s
    return {"image": img, "keypoints": kp, "bbox": row["bbox"] * s, "area": row["area"] * s * s}


def pose_model(spec: str):
    if spec == "blazepose":
        from evaluation.blazepose import BlazePose

        return BlazePose()
    module, _, name = spec.partition(":")
    import importlib

    return getattr(importlib.import_module(module), name)()


def compare(args) -> dict:
    from stylizers.base import build_stylizer
    from stylizers.config import stylizer_config
    from evaluation.fidelity import label_fidelity

    from safetensors.torch import load_file

    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16

    encoder = encoder_vgg16(load_file(BUNDLED_DIR / ENCODER_FILE))
    bank = StyleBank.open("bundled")
    style_ids = args.styles.split(",")
    style_images = [torch.from_numpy(bank.load(s, 256).transpose(2, 0, 1).copy()) for s in style_ids]
    renders = load_renders(args.compare, args.n)
    model = pose_model(args.pose_model)
    result: dict = {"threads": args.threads, "renders": len(renders), "styles": style_ids, "pose_model": args.pose_model}
    sheets: dict[int, list] = {}
    for size in args.sizes:
        rows = [resized(r, size) for r in renders]
        labels = ([r["keypoints"] for r in rows], [r["bbox"] for r in rows], [r["area"] for r in rows])
        result[f"raw_{size}"] = label_fidelity(model, [r["image"] for r in rows], *labels)
        content = torch.from_numpy(np.stack([r["image"] for r in rows]).transpose(0, 3, 1, 2).copy()).float() / 255
        picks = torch.arange(len(rows)) % len(style_ids)
        sheets[size] = [np.stack([r["image"] for r in rows])]
        variants = [("adain", {"name": "adain"})] + [
            ("multistyle" + ("" if a == 1 else f"_a{a:g}"), {"name": "multistyle", "alpha": a}) for a in args.ms_alphas]
        for name, settings in variants:
            runner = StylizerRunner.create(build_stylizer(stylizer_config(settings)), "cpu", batch_size=args.batch)
            codes, t_codes = timed(lambda: runner.embed_styles(style_images))
            runner.stylize(content[:1], codes, one_hot_weights(picks[:1], len(style_ids)))  # warm-up
            out, t = timed(lambda: runner.stylize(content, codes, one_hot_weights(picks, len(style_ids))))
            images_u8 = (out.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
            result[f"{name}_{size}"] = {"img_s": len(rows) / t, "style_codes_s": t_codes,
                                        **label_fidelity(model, list(images_u8), *labels),
                                        **losses(encoder, out, content, style_images, picks)}
            if name not in ("adain", "multistyle"):
                print(name, size, json.dumps(result[f"{name}_{size}"]), flush=True)
                continue
            for k in range(min(len(style_ids), 4)):  # sheet: the first renders under each style
                one = runner.stylize(content[:args.sheet_rows], codes, one_hot_weights(torch.full((min(args.sheet_rows, len(rows)),), k), len(style_ids)))
                sheets[size].append((one.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy())
            print(name, size, json.dumps(result[f"{name}_{size}"]), flush=True)
        result[f"raw_{size}"].update(losses(encoder, content, content, style_images, picks))
        a, m = result[f"adain_{size}"], result[f"multistyle_{size}"]
        result[f"speedup_{size}"] = m["img_s"] / a["img_s"]
        result[f"fidelity_gain_{size}"] = m["fidelity"] - a["fidelity"]
    if args.sheets:
        write_sheets(sheets, args.sheets, args.sheet_rows)
    return result


def losses(encoder, out: torch.Tensor, content: torch.Tensor, styles: list[torch.Tensor], picks: torch.Tensor) -> dict:
    """Mean content loss and Gram style loss (``stylizers.metrics``) of ``out`` vs its content and style."""
    from stylizers.metrics import content_loss, style_loss

    c = float(content_loss(encoder, out, content).mean())
    s = float(np.mean([style_loss(encoder, out[i:i + 1], styles[int(picks[i])][None]).item() for i in range(len(out))]))
    return {"content_loss": c, "style_loss": s}


def write_sheets(sheets: dict[int, list], folder: str, n_rows: int) -> None:
    """One PNG per size: rows = renders; columns = render, AdaIN x 4 styles, multistyle x 4 styles."""
    from pathlib import Path

    from rig2sketch.atomic import write_bytes_atomic
    from shards import encode_png

    for size, columns in sheets.items():
        cols = [c[:n_rows] for c in columns]
        grid = np.concatenate([np.concatenate(list(c), 0) for c in cols], 1)
        write_bytes_atomic(Path(folder) / f"contact_{size}.png", encode_png(grid))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    ap.add_argument("--compare", default="", help="render shards folder: multistyle vs AdaIN (see docstring)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 128])
    ap.add_argument("--styles", default="pencil_hb,charcoal,ballpoint,ink_wash,peep_10,scribble")
    ap.add_argument("--pose-model", default="blazepose")
    ap.add_argument("--sheets", default="", help="folder for contact_<size>.png")
    ap.add_argument("--sheet-rows", type=int, default=4)
    ap.add_argument("--ms-alphas", type=float, nargs="+", default=[1.0], help="multistyle alphas to compare")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.compare:
        print(json.dumps(compare(args), indent=1))
        return
    content, styles, picks = images(args.n, args.size)
    stylizer = load_bundled()
    base = StylizerRunner.create(stylizer, "auto", batch_size=args.batch, channels_last=False)
    on_gpu = base.device.type == "cuda"
    content_dev = content.to(base.device, base.dtype)
    styles_dev = styles.to(base.device, base.dtype)

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    # Warm-up (one image each) so that allocator/kernels are ready for both.
    reference_loop(stylizer, content_dev[:1], styles_dev, picks[:1])
    codes = base.embed_styles(list(styles))
    sync()
    ref, t_ref = timed(lambda: (reference_loop(stylizer, content_dev, styles_dev, picks), sync())[0])
    cached, t_cached = timed(lambda: (reference_loop(stylizer, content_dev, styles_dev, picks,
                                                     codes.to(base.device, base.dtype)), sync())[0])

    runner = StylizerRunner.create(stylizer, "auto", batch_size=args.batch, channels_last=args.channels_last)
    runner.stylize(content[:1], runner.embed_styles(list(styles[:1])), torch.ones(1, 1))  # warm-up
    sync()

    # Style codes are made once per run (12 styles for thousands of renders): timed apart, reported both ways.
    run_codes, t_codes = timed(lambda: runner.embed_styles(list(styles)))
    out, t_ours = timed(lambda: runner.stylize(content, run_codes, one_hot_weights(torch.tensor(picks), len(styles))))
    result = {
        "device": str(runner.device), "dtype": str(runner.dtype), "threads": args.threads, "n": args.n,
        "size": args.size, "batch": args.batch, "channels_last": args.channels_last,
        "reference_img_s": args.n / t_ref, "cached_codes_loop_img_s": args.n / t_cached,
        "rig2sketch_img_s": args.n / t_ours, "style_codes_s": t_codes, "styles": len(styles),
        "speedup_vs_reference": t_ref / t_ours, "speedup_vs_cached_loop": t_cached / t_ours,
        "speedup_vs_reference_counting_codes": t_ref / (t_ours + t_codes),
        "max_abs_diff_vs_reference": float((out - ref.float().cpu()).abs().max()),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
