"""Training pose models (HRNet, BlazePose; ``evaluation.pose_models``) on rig2sketch datasets:
loop, validation, checkpoints, resume, curves.

``train(cfg)`` writes under ``cfg.out_dir``: ``last.pt`` (resumable state), ``model.safetensors``
(final weights + model config), ``best.safetensors`` (best validation AP), ``history.json``
and ``curves.png`` (loss and validation AP).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.utils.data import DataLoader

from rig2sketch.atomic import atomic_path, write_text_atomic
from evaluation.checkpoints import load_state, save_model
from evaluation.coco_eval import score
from evaluation.config import ModelConfig, TrainConfig
from evaluation.data import PoseRecord, TopDownDataset, crop_to_image, load_shard_records
from evaluation.pose_models import pose_model


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device=cuda but no CUDA device is visible; use device=cpu or auto")
    return torch.device("cuda" if name == "auto" and torch.cuda.is_available() else "cpu" if name == "auto" else name)


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up then cosine decay to 1% of ``cfg.lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def freeze_first(model: torch.nn.Module, layers: int) -> int:
    """Keep the first ``layers`` modules that own weights (in definition order, which is graph
    order for both HRNet and BlazePose) fixed; returns the number of frozen tensors."""
    owners = [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]
    frozen = 0
    for module in owners[:layers]:
        for p in module.parameters(recurse=False):
            p.requires_grad_(False)
            frozen += 1
    return frozen


@torch.no_grad()
def predict_records(model: torch.nn.Module, records: list[PoseRecord], cfg: ModelConfig, device: torch.device,
                    batch_size: int = 32, workers: int = 0) -> np.ndarray:
    """Keypoints ``N, K, 3`` (x, y, score) in image pixels for each record's box."""
    model.eval()
    family = pose_model(cfg.arch)
    loader = DataLoader(TopDownDataset(records, cfg), batch_size=batch_size, shuffle=False, num_workers=workers)
    out = []
    for batch in loader:
        xy, conf = family.predict(model, batch["image"].to(device), cfg)
        xy = crop_to_image(xy, batch["matrix"].numpy())
        out.append(np.concatenate([xy, conf[..., None]], -1))
    return np.concatenate(out).astype(np.float32)


def evaluate_model(model: torch.nn.Module, records: list[PoseRecord], cfg: ModelConfig, device: torch.device,
                   batch_size: int = 32) -> dict[str, float]:
    return score(records, predict_records(model, records, cfg, device, batch_size))


def plot_curves(history: dict, path: Path) -> Path:
    """Training loss per step and validation AP per epoch, side by side."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps, losses = zip(*history["loss"]) if history["loss"] else ((), ())
    a.plot(steps, losses, lw=0.8, color="tab:blue", alpha=0.5, label="batch")
    if len(losses) >= 5:
        k = max(2, len(losses) // 20)
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        a.plot(steps[k - 1:], smooth, color="tab:blue", label=f"mean of {k}")
    a.set(xlabel="step", ylabel="loss", title="training loss", yscale="log")
    a.legend()
    if history["val"]:
        epochs = [v["epoch"] for v in history["val"]]
        for key, color in (("AP", "tab:red"), ("AP50", "tab:orange"), ("PCK", "tab:green")):
            b.plot(epochs, [v[key] for v in history["val"]], "o-", color=color, label=key)
        b.set(ylim=(0, 1.02), xlabel="epoch", title="validation (held-out split)")
        b.legend()
    else:
        b.set_axis_off()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def train(cfg: TrainConfig, train_records: list[PoseRecord] | None = None,
          val_records: list[PoseRecord] | None = None) -> dict:
    """Train (or resume) and return the summary: final/best validation metrics and paths.

    Records default to the holdout "train" / "val" roles of ``cfg.datasets`` (+ the "val"
    role of ``cfg.val_datasets``)."""
    if train_records is None:
        if not cfg.datasets:
            raise ValueError("train.datasets is empty; give one or more rig2sketch dataset directories")
        train_records = load_shard_records(cfg.datasets, "train", cfg.holdout, cfg.max_train_samples)
    if val_records is None:
        try:
            val_records = load_shard_records(cfg.datasets + cfg.val_datasets, "val", cfg.holdout, cfg.max_val_samples)
        except ValueError:
            val_records = []
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    family = pose_model(cfg.model.arch)
    model = family.build(cfg.model)
    if cfg.init:
        family.load(model, load_state(cfg.init), strict=cfg.init_strict)
    freeze_first(model, cfg.freeze_layers)
    model.to(device).to(memory_format=torch.channels_last)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                              weight_decay=cfg.weight_decay)
    dataset = TopDownDataset(train_records, cfg.model, cfg.augment, seed=cfg.seed)
    steps_per_epoch = max(1, len(dataset) // cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        total = min(total, cfg.max_steps)
    history: dict = {"loss": [], "val": [], "samples_per_s": []}
    start_epoch, step, best = 0, 0, -1.0
    state_path = out / "last.pt"
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        start_epoch, step, history, best = state["epoch"], state["step"], state["history"], state["best"]
    generator = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(start_epoch, cfg.epochs):
        if step >= total:
            break
        model.train()
        dataset.set_epoch(epoch)
        generator.manual_seed(cfg.seed * 1000 + epoch)
        loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, drop_last=len(dataset) >= cfg.batch_size,
                            num_workers=cfg.workers, generator=generator, persistent_workers=False,
                            pin_memory=device.type == "cuda")
        t0, seen = time.perf_counter(), 0
        for batch in loader:
            if step >= total:
                break
            for group in optim.param_groups:
                group["lr"] = lr_at(step, total, cfg)
            images = batch["image"].to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            loss = family.loss(model, images, batch["keypoints"].to(device), cfg)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            history["loss"].append((step, loss.item()))
            step += 1
            seen += images.shape[0]
            if step % cfg.log_every_steps == 0 or step == total:
                rate = seen / max(1e-9, time.perf_counter() - t0)
                print(f"[train] step {step}/{total} | loss {loss.item():.4f} | {rate:.1f} samples/s", flush=True)
        history["samples_per_s"].append(seen / max(1e-9, time.perf_counter() - t0))
        last_epoch = epoch + 1 == cfg.epochs or step >= total
        if val_records and ((epoch + 1) % cfg.val_every_epochs == 0 or last_epoch):
            metrics = evaluate_model(model, val_records, cfg.model, device, cfg.batch_size)
            history["val"].append({"epoch": epoch + 1, "step": step, **metrics})
            if metrics["AP"] > best:
                best = metrics["AP"]
                save_model(model, cfg.model, out / "best.safetensors", {"epoch": epoch + 1, "val": metrics})
        with atomic_path(state_path) as tmp:
            torch.save({"model": model.state_dict(), "optim": optim.state_dict(), "epoch": epoch + 1,
                        "step": step, "history": history, "best": best, "config": asdict(cfg)}, tmp)
        plot_curves(history, out / "curves.png")
    final = save_model(model, cfg.model, out / "model.safetensors",
                       {"steps": step, "datasets": cfg.datasets, "train_samples": len(train_records)})
    summary = {"steps": step, "train_samples": len(train_records), "val_samples": len(val_records),
               "final_loss": history["loss"][-1][1] if history["loss"] else float("nan"),
               "val": history["val"][-1] if history["val"] else {}, "best_AP": best,
               "samples_per_s": float(np.mean(history["samples_per_s"])) if history["samples_per_s"] else 0.0,
               "model": str(final), "curves": str(out / "curves.png")}
    write_text_atomic(out / "history.json", json.dumps({"summary": summary, **history}, indent=1, default=float))
    return summary


def train_command(cfg: TrainConfig) -> Path:
    """CLI entry of ``rig2sketch train``: prints the summary, returns the final model's path."""
    summary = train(cfg)
    print(json.dumps(summary, indent=1, default=float))
    return Path(summary["model"])
