"""Benchmark: StyTr² vs the bundled AdaIN, CPU inference, one process, same content and style images.

Speed (always): images/s of ``StylizerRunner.stylize`` at ``--size`` (512) px on ``--threads`` (1) torch threads,
style codes made once beforehand and timed apart, for

- ``adain``: the bundled AdaIN (VGG-16/HED encoder + rig2sketch decoder);
- ``stytr2_bundled``: rig2sketch's small StyTr² (``data/weights/stytr2``);
- ``stytr2_release``: the released architecture (512-d, 3+3+3 layers, FFN 2048) with random weights: the same
  compute as ``weights=official`` (``--official DIR`` loads the real files instead).

Style images are resized to ``--style-size`` (256, the config default: (256/8)² = 1024 style tokens; the reference's
``test.py`` uses 512). Content: Open Peeps outlines from the style bank. Prints JSON with the ratios to AdaIN.

``--fidelity RENDERS`` (render shards): label fidelity (``evaluation/fidelity.py``, zero-shot BlazePose, OKS >= 0.5)
of the raw renders, AdaIN and the bundled StyTr² on ``--n-renders`` renders at ``--fidelity-size`` px, plus
``--sheet PATH``: rows = renders, columns = render, AdaIN, StyTr² (style i on render i).
Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/stytr2.py [--n 4] [--fidelity runs/r/raw --sheet out.png]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from stylizers.adain import load_bundled
from stylizers.base import StylizerRunner, one_hot_weights
from stylizers.style_bank import StyleBank
from stylizers.stytr2 import StyTr2Stylizer, load_official, load_weights, BUNDLED_DIR
from stylizers.stytr2_nets import StyTr2
from stylizers.train import outline


def content_and_styles(n: int, size: int, style_size: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    bank = StyleBank.open("bundled")
    peeps = [e.id for e in bank.entries if "open-peeps" in e.tags]
    lines = [e.id for e in bank.entries if "line-style" in e.tags][:4]
    content = torch.stack([torch.from_numpy(outline(bank.load(peeps[i % len(peeps)], size)).transpose(2, 0, 1).copy())
                           for i in range(n)]).float()
    return content, [torch.from_numpy(bank.load(s, style_size).transpose(2, 0, 1).copy()).float() for s in lines]


def stylizers(official: str | None) -> dict:
    torch.manual_seed(0)
    release = load_official(official) if official else StyTr2Stylizer(StyTr2(), source="random (release sizes)")
    return {"adain": load_bundled(), "stytr2_bundled": load_weights(BUNDLED_DIR), "stytr2_release": release}


def speed(args) -> dict:
    content, styles = content_and_styles(args.n, args.size, args.style_size)
    picks = one_hot_weights(torch.arange(args.n) % len(styles), len(styles))
    result: dict = {"threads": args.threads, "size": args.size, "style_size": args.style_size, "n": args.n}
    for name, stylizer in stylizers(args.official).items():
        runner = StylizerRunner.create(stylizer, "cpu", batch_size=args.batch)
        start = time.perf_counter()
        codes = runner.embed_styles(styles)
        t_codes = time.perf_counter() - start
        runner.stylize(content[:1], codes, picks[:1])  # warm-up
        start = time.perf_counter()
        runner.stylize(content, codes, picks)
        seconds = time.perf_counter() - start
        params = sum(p.numel() for net in stylizer.networks() for p in net.parameters())
        result[name] = {"img_s": args.n / seconds, "s_per_img": seconds / args.n, "style_codes_s": t_codes,
                        "params_M": params / 1e6}
        print(name, json.dumps(result[name]), flush=True)
    for name in ("stytr2_bundled", "stytr2_release"):
        result[f"{name}_vs_adain"] = result[name]["img_s"] / result["adain"]["img_s"]
    return result


def fidelity(args) -> dict:
    from benchmarks.stylize import load_renders, pose_model, resized
    from evaluation.fidelity import label_fidelity

    bank = StyleBank.open("bundled")
    lines = [e.id for e in bank.entries if "line-style" in e.tags][:4]
    styles = [torch.from_numpy(bank.load(s, args.style_size).transpose(2, 0, 1).copy()).float() for s in lines]
    rows = [resized(r, args.fidelity_size) for r in load_renders(args.fidelity, args.n_renders)]
    labels = ([r["keypoints"] for r in rows], [r["bbox"] for r in rows], [r["area"] for r in rows])
    model = pose_model("blazepose")
    result = {"renders": len(rows), "size": args.fidelity_size, "styles": lines,
              "raw": label_fidelity(model, [r["image"] for r in rows], *labels)}
    sheet = [np.concatenate([r["image"] for r in rows], 0)]
    for name, stylizer in (("adain", load_bundled()), ("stytr2_bundled", load_weights(BUNDLED_DIR))):
        runner = StylizerRunner.create(stylizer, "cpu", batch_size=1)
        codes = runner.embed_styles(styles)
        outs = []
        for i, r in enumerate(rows):  # one at a time: renders differ in size
            x = torch.from_numpy(r["image"].transpose(2, 0, 1).copy()).float()[None] / 255
            y = runner.stylize(x, codes, one_hot_weights(torch.tensor([i % len(styles)]), len(styles)))
            outs.append((y[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
        result[name] = label_fidelity(model, outs, *labels)
        sheet.append(np.concatenate(outs, 0))
        print(name, json.dumps(result[name]), flush=True)
    if args.sheet:
        from rig2sketch.atomic import write_bytes_atomic
        from shards import encode_png

        write_bytes_atomic(args.sheet, encode_png(np.concatenate(sheet, 1)))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4, help="content images for the speed test")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--style-size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--official", default=None, help="folder with the StyTR-2 release files (else random weights)")
    ap.add_argument("--fidelity", default=None, help="render shards folder: label fidelity of AdaIN vs StyTr²")
    ap.add_argument("--n-renders", type=int, default=24)
    ap.add_argument("--fidelity-size", type=int, default=256)
    ap.add_argument("--sheet", default=None, help="PNG path for the fidelity sheet")
    ap.add_argument("--no-speed", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    result = {}
    if not args.no_speed:
        result["speed"] = speed(args)
    if args.fidelity:
        result["fidelity"] = fidelity(args)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
