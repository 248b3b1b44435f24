"""Training throughput: rig2sketch's HRNet loop vs a plain reference-style loop.

Same model, batch size, data and crop geometry; only the loop differs.

- reference (as in deep-high-resolution-net.pytorch): a streaming dataset re-reading Parquet
  rows each epoch, per-sample crop + per-joint windowed Gaussian target in numpy inside the
  dataset, NCHW tensors, JointsMSELoss as a Python loop over joints, Adam.
- rig2sketch (evaluation/train.py): map-style dataset holding PNG bytes in memory, crops only
  in the dataset, heatmap targets for the whole batch on the device (one vectorised op),
  channels-last model and inputs, one fused weighted MSE, AdamW.

    .venv/bin/python benchmarks/hrnet.py [--data DIR] [--arch small] [--steps 20] [--batch 16]

Prints samples/s of each and the ratio. Without --data, draws stick figures into a temp dir.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from evaluation import stickfigures, topdown
from evaluation.config import HoldoutConfig, ModelConfig
from evaluation.data import TopDownDataset, load_shard_records, make_targets, normalize
from evaluation.hrnet import build_hrnet
from evaluation.hrnet_model import joints_mse
from shards import ShardDataset


def reference_target(kp: np.ndarray, cfg: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """The official generate_target: per joint, a (6 sigma + 1)^2 window pasted into the map."""
    (W, H), (w, h) = cfg.input_size, cfg.heatmap_size
    sigma = cfg.sigma
    target = np.zeros((len(kp), h, w), np.float32)
    weight = (kp[:, 2] > 0).astype(np.float32)
    radius = sigma * 3
    for j in range(len(kp)):
        mu_x = int(kp[j, 0] / (W / w) + 0.5)
        mu_y = int(kp[j, 1] / (H / h) + 0.5)
        ul = [int(mu_x - radius), int(mu_y - radius)]
        br = [int(mu_x + radius + 1), int(mu_y + radius + 1)]
        if ul[0] >= w or ul[1] >= h or br[0] < 0 or br[1] < 0:
            weight[j] = 0
            continue
        size = 2 * radius + 1
        x = np.arange(0, size, 1, np.float32)
        y = x[:, None]
        x0 = y0 = size // 2
        g = np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma**2))
        g_x = max(0, -ul[0]), min(br[0], w) - ul[0]
        g_y = max(0, -ul[1]), min(br[1], h) - ul[1]
        img_x = max(0, ul[0]), min(br[0], w)
        img_y = max(0, ul[1]), min(br[1], h)
        if weight[j] > 0:
            target[j][img_y[0]:img_y[1], img_x[0]:img_x[1]] = g[int(g_y[0]):int(g_y[1]), int(g_x[0]):int(g_x[1])]
    return target, weight


class ReferenceTransform:
    def __init__(self, cfg: ModelConfig) -> None:
        self.cfg = cfg

    def __call__(self, sample: dict) -> dict:
        center, size = topdown.box_to_center_size(sample["bbox"], self.cfg.input_width / self.cfg.input_height,
                                                  self.cfg.padding)
        M = topdown.crop_matrix(center, size, self.cfg.input_size)
        crop = topdown.warp_image(topdown.to_rgb(sample["image"]), M, self.cfg.input_size)
        kp = sample["keypoints"].copy()
        kp[:, :2] = topdown.transform_points(M, kp[:, :2])
        target, weight = reference_target(kp, self.cfg)
        x = normalize(crop).permute(1, 2, 0).numpy() * 255.0  # ShardDataset divides by 255 again
        return {"image": x, "target": target, "weight": weight}


def reference_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    B, K = pred.shape[:2]
    p = pred.reshape(B, K, -1).split(1, 1)
    t = target.reshape(B, K, -1).split(1, 1)
    loss = 0.0
    for j in range(K):
        w = weight[:, j:j + 1]
        loss = loss + 0.5 * torch.nn.functional.mse_loss(p[j].squeeze(1) * w, t[j].squeeze(1) * w)
    return loss / K


def run_reference(data: str, cfg: ModelConfig, arch: str, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    model = build_hrnet(arch).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ds = ShardDataset(data, transform=ReferenceTransform(cfg), columns=["image", "keypoints", "bbox"])
    done, t0 = 0, None
    while done < steps:
        for b in DataLoader(ds, batch_size=batch, drop_last=True):
            if done == 2:
                t0 = time.perf_counter()
            pred = model(b["image"])
            loss = reference_loss(pred, b["target"], b["weight"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done >= steps:
                break
    return (steps - 2) * batch / (time.perf_counter() - t0)


def run_rig2sketch(data: str, cfg: ModelConfig, arch: str, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    model = build_hrnet(arch).train().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ds = TopDownDataset(load_shard_records([data], None, HoldoutConfig()), cfg)
    done, t0 = 0, None
    while done < steps:
        for b in DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True):
            if done == 2:
                t0 = time.perf_counter()
            images = b["image"].contiguous(memory_format=torch.channels_last)
            target, weight = make_targets(b["keypoints"], cfg)
            loss = joints_mse(model(images), target, weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
            if done >= steps:
                break
    return (steps - 2) * batch / (time.perf_counter() - t0)


def input_pipeline_rates(data: str, cfg: ModelConfig, batch: int, batches: int) -> tuple[float, float]:
    """Samples/s of each loop's input side alone (dataset, collate, heatmap targets), no model."""
    ref_ds = ShardDataset(data, transform=ReferenceTransform(cfg), columns=["image", "keypoints", "bbox"])
    t0, n = time.perf_counter(), 0
    for b in DataLoader(ref_ds, batch_size=batch, drop_last=True):
        n += 1
        if n >= batches:
            break
    ref = n * batch / (time.perf_counter() - t0)
    ds = TopDownDataset(load_shard_records([data], None, HoldoutConfig()), cfg)
    t0, n = time.perf_counter(), 0
    for b in DataLoader(ds, batch_size=batch, shuffle=True, drop_last=True):
        make_targets(b["keypoints"], cfg)
        n += 1
        if n >= batches:
            break
    return ref, n * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="")
    ap.add_argument("--arch", default="small")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    cfg = ModelConfig(arch=args.arch, input_width=96, input_height=128, sigma=1.5)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if not data:
            data = tmp
            stickfigures.write_dataset(tmp, args.batch * 8, (192, 256), np.random.default_rng(0))
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, arch {args.arch} "
              f"{cfg.input_width}x{cfg.input_height}, batch {args.batch}, {args.steps} steps (2 warm-up), data {data}")
        ref, ours = [], []
        for _ in range(args.repeats):  # interleaved, so load changes on a shared machine hit both
            ref.append(run_reference(data, cfg, args.arch, args.batch, args.steps))
            ours.append(run_rig2sketch(data, cfg, args.arch, args.batch, args.steps))
        r, o = max(ref), max(ours)
        print(f"reference loop : {r:7.2f} samples/s  (runs: {', '.join(f'{x:.2f}' for x in ref)})")
        print(f"rig2sketch loop: {o:7.2f} samples/s  (runs: {', '.join(f'{x:.2f}' for x in ours)})")
        print(f"ratio rig2sketch / reference: {o / r:.2f}x")
        ri, oi = input_pipeline_rates(data, cfg, args.batch, 10)
        print(f"input side only: reference {ri:.1f} samples/s, rig2sketch {oi:.1f} samples/s, ratio {oi / ri:.2f}x")


if __name__ == "__main__":
    main()
