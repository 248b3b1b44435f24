"""Benchmark: inference images/s of the unpaired GAN stylizers vs the bundled AdaIN, same process, same images.

512x512 content images (Open Peeps outlines from the style bank), ``StylizerRunner`` on the CPU (fp32,
channels_last, ``--batch`` per call), ``--threads`` torch threads (1 by default), one warm-up call each, then
``--n`` images timed. Stylizers:

- ``adain``: the bundled AdaIN (VGG-16/HED encoder + decoder), style codes made once beforehand (not timed);
- ``cyclegan_bundled``: the bundled rig2sketch CycleGAN generator (small: its arch is in its metadata);
- ``cyclegan_official_arch``: the official resnet_9blocks generator (ngf 64, 11.4M parameters);
- ``cut_official_arch``: CUT's default generator (the same, anti-aliased down/upsampling);
- ``ugatit_light_arch``: U-GAT-IT's light generator (ngf 64, 4 blocks) (the full model's FC takes the
  whole 64x64x256 bottleneck at 256 px: 268M weights, not timed here).

The ``*_arch`` rows time the official architectures with random weights (speed does not depend on the values;
no official checkpoint is bundled). Prints one JSON object: images/s per stylizer and the ratio to AdaIN.
Usage: ``PYTHONPATH=. .venv/bin/python benchmarks/unpaired.py [--n 4] [--batch 1] [--threads 1] [--size 512]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from stylizers.base import StylizerRunner, Stylizer, one_hot_weights
from stylizers.style_bank import StyleBank
from stylizers.train import outline


def content_images(n: int, size: int) -> torch.Tensor:
    bank = StyleBank.open("bundled")
    peeps = [e.id for e in bank.entries if "open-peeps" in e.tags]
    imgs = []
    for i in range(n):
        img = outline(bank.load(peeps[i % len(peeps)], size))
        canvas = torch.ones(3, size, size)
        t = torch.from_numpy(img.transpose(2, 0, 1).copy())
        canvas[:, :t.shape[1], :t.shape[2]] = t
        imgs.append(canvas)
    return torch.stack(imgs)


def stylizers() -> dict[str, Stylizer]:
    from stylizers.adain import AdaINConfig
    from stylizers.base import build_stylizer
    from stylizers.cyclegan import CycleGANConfig
    from stylizers.resnet_gan import ResnetGenerator
    from stylizers.ugatit_nets import UGATITGenerator
    from stylizers.unpaired import UnpairedStylizer

    torch.manual_seed(0)
    return {
        "adain": build_stylizer(AdaINConfig(device="cpu")),
        "cyclegan_bundled": build_stylizer(CycleGANConfig(device="cpu")),
        "cyclegan_official_arch": UnpairedStylizer("cyclegan", ResnetGenerator(64, 9), "random", {}),
        "cut_official_arch": UnpairedStylizer("cut", ResnetGenerator(64, 9, antialias=True), "random", {}),
        "ugatit_light_arch": UnpairedStylizer("ugatit", UGATITGenerator(64, 4, 256, light=True), "random", {}),
    }


def time_one(stylizer: Stylizer, content: torch.Tensor, batch: int) -> float:
    """Images/s of ``StylizerRunner.stylize`` over ``content`` after one warm-up batch."""
    runner = StylizerRunner.create(stylizer, "cpu", batch_size=batch)
    style = content_images(1, 256)[0] if stylizer.name == "adain" else torch.rand(3, 64, 64)
    codes = runner.embed_styles([style])
    weights = one_hot_weights(torch.zeros(len(content)), 1)
    runner.stylize(content[:batch], codes, weights[:batch])
    start = time.perf_counter()
    runner.stylize(content, codes, weights)
    return len(content) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    content = content_images(args.n, args.size)
    rates = {}
    for name, stylizer in stylizers().items():
        params = sum(p.numel() for net in stylizer.networks() for p in net.parameters())
        rates[name] = {"images_per_s": round(time_one(stylizer, content, args.batch), 3),
                       "params_M": round(params / 1e6, 2)}
    for row in rates.values():
        row["ratio_vs_adain"] = round(row["images_per_s"] / rates["adain"]["images_per_s"], 2)
    print(json.dumps({"size": args.size, "n": args.n, "batch": args.batch, "threads": args.threads,
                      "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
                      "stylizers": rates}, indent=1))


if __name__ == "__main__":
    main()
