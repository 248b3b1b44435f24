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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
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
