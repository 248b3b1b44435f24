"""Benchmark: the injection study on CPU — the same multistyle generator with z_s injected by film (fine-tuned
from Magenta's weights), add, concat and patch (from scratch), each trained for the same wall time.

Training: ``train_multistyle`` on the bundled Open Peeps (flat + outlines) and the style bank, ``--crop`` px
crops, batch ``--batch``, research loss weights (λc=1, λs=5, λTV=1e-5), Adam 5e-4, ``--minutes`` each.
Evaluation, on render shards (``--renders``, not seen in training) at ``--size`` px under ``--styles``:
content loss and Gram style loss (``stylizers.metrics``, bundled VGG-16), label fidelity (OKS >= 0.5 under
``--pose-model``, see ``benchmarks/stylize.py``), images/s. Row ``film (pretrained, 0 steps)`` = Magenta as is.
Prints a markdown table; runs go to ``--out/<injection>`` (their ``samples.png``/``losses.png``).

Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/injection.py --renders runs/r512 [--minutes 3]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.stylize import load_renders, losses, pose_model, resized
from evaluation.fidelity import label_fidelity
from stylizers.base import StylizerRunner, build_stylizer, one_hot_weights
from stylizers.config import stylizer_config
from stylizers.multistyle_train import MultiStyleTrainConfig, train_multistyle
from stylizers.style_bank import StyleBank


def evaluate(weights: str, rows: list[dict], styles: list[torch.Tensor], encoder, model, batch: int) -> dict:
    runner = StylizerRunner.create(build_stylizer(stylizer_config({"name": "multistyle", "weights": weights})),
                                   "cpu", batch_size=batch)
    content = torch.from_numpy(np.stack([r["image"] for r in rows]).transpose(0, 3, 1, 2).copy()).float() / 255
    picks = torch.arange(len(rows)) % len(styles)
    codes = runner.embed_styles(styles)
    start = time.perf_counter()
    out = runner.stylize(content, codes, one_hot_weights(picks, len(styles)))
    img_s = len(rows) / (time.perf_counter() - start)
    u8 = (out.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    labels = ([r["keypoints"] for r in rows], [r["bbox"] for r in rows], [r["area"] for r in rows])
    return {"img_s": img_s, **losses(encoder, out, content, styles, picks), **label_fidelity(model, list(u8), *labels)}


def main() -> None:
    from safetensors.torch import load_file

    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16

    ap = argparse.ArgumentParser()
    ap.add_argument("--renders", required=True)
    ap.add_argument("--out", default="runs/injection_study")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--styles", default="pencil_hb,charcoal,ballpoint,ink_wash,peep_10,scribble")
    ap.add_argument("--pose-model", default="blazepose")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--injections", nargs="+", default=["film", "add", "concat", "patch"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bank = StyleBank.open("bundled")
    styles = [torch.from_numpy(bank.load(s, 256).transpose(2, 0, 1).copy()) for s in args.styles.split(",")]
    rows = [resized(r, args.size) for r in load_renders(args.renders, args.n)]
    encoder = encoder_vgg16(load_file(BUNDLED_DIR / ENCODER_FILE))
    model = pose_model(args.pose_model)
    results = {"film (pretrained, 0 steps)": {"steps": 0, **evaluate("pretrained", rows, styles, encoder, model, args.batch)}}
    for injection in args.injections:
        init = "pretrained" if injection == "film" else "scratch"
        cfg = MultiStyleTrainConfig(out=str(Path(args.out) / injection), injection=injection, init=init, steps=100000,
                                    crop=args.crop, batch_size=args.batch, threads=args.threads, device="cpu",
                                    log_every=25, max_minutes=args.minutes)
        run = train_multistyle(cfg)
        log = json.loads((run / "losses.json").read_text())
        results[f"{injection} ({init})"] = {"steps": log[-1]["step"], "probe_start": log[0]["probe"],
                                            "probe_end": log[-1]["probe"],
                                            **evaluate(str(run), rows, styles, encoder, model, args.batch)}
        print(injection, json.dumps(results[f"{injection} ({init})"]), flush=True)
    print(json.dumps(results, indent=1))
    print("\n| variant | steps | probe loss start -> end | content loss | style loss | label fidelity | mean OKS | img/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        probe = f"{r['probe_start']:.0f} -> {r['probe_end']:.0f}" if "probe_start" in r else "-"
        print(f"| {name} | {r['steps']} | {probe} | {r['content_loss']:.3f} | {r['style_loss']:.1f} | "
              f"{r['fidelity']:.2f} | {r['mean_oks']:.3f} | {r['img_s']:.1f} |")


if __name__ == "__main__":
    main()
