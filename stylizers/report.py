"""Run reports of the stylize stage: the before/after contact sheet and the metrics on a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rig2sketch.atomic import write_bytes_atomic, write_json_atomic
from rig2sketch.drawing import draw_pose, grid
from rig2sketch.progress import StageProgress
from shards import decode_png, encode_png, iter_samples, reports_dir
from stylizers import metrics
from stylizers.base import StylizerRunner
from stylizers.config import StylizeConfig
from stylizers.stage import LoadedStyles, assign_styles, to_tensor


def write_reports(cfg: StylizeConfig, runner: StylizerRunner, styles: LoadedStyles) -> dict:
    """Write ``contact_sheet.png`` (``cfg.contact_sheet`` renders) into the output's reports folder
    (``shards.reports_dir``) and, when ``cfg.metrics`` is on and the stylizer has an alpha, ``metrics.json``
    (content/style loss and Fréchet distance at the run's alpha vs alpha=0 on ``cfg.metrics_samples``
    renders, bundled VGG-16 features), with a progress line per scored image. Returns the metrics ({} when none)."""
    from safetensors.torch import load_file

    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16

    out, reports = Path(cfg.out), reports_dir(cfg.out)
    if cfg.contact_sheet:
        src, stylized = collect_rows(Path(cfg.dataset), out, cfg.contact_sheet)
        write_bytes_atomic(reports / "contact_sheet.png", encode_png(contact_sheet(src, stylized, styles)))
    if not cfg.metrics or not cfg.stylizer.capabilities.alpha:
        return {}
    rows = metric_sample(Path(cfg.dataset), cfg.metrics_samples)
    if len(rows) < 2:
        return {}
    alphas = len({0.0, float(runner.stylizer.alpha)})
    progress = StageProgress("stylize metrics", total_jobs=alphas * len(rows), unit="scored")
    progress.update(force=True)
    encoder = encoder_vgg16(load_file(BUNDLED_DIR / ENCODER_FILE))
    report = stylization_report(runner, styles, rows, cfg.seed, cfg.style.per_image, cfg.style.mix, encoder,
                                on_image=lambda: progress.update(jobs=1, images=1))
    write_json_atomic(reports / "metrics.json", report)
    return report


def contact_sheet(src_rows: list[dict], out_rows: dict[str, list[dict]], styles: LoadedStyles,
                  cell: int = 192) -> np.ndarray:
    """One line per render: render | style image(s) | stylized copies (up to 3) | last copy with its keypoints.

    ``src_rows``: source rows (``image`` PNG bytes, ``keypoints``); ``out_rows``: source id -> its stylized
    rows. Returns an RGB uint8 sheet."""
    tiles, labels = [], []
    copies = min(3, max(len(v) for v in out_rows.values()))
    for row in src_rows:
        outs = out_rows.get(row["sample_id"], [])[:copies]
        tiles.append(decode_png(row["image"]))
        labels.append("render")
        first_style = outs[0]["style"].split("+")[0] if outs else ""
        style_img = styles.images[styles.ids.index(first_style)] if first_style in styles.ids else None
        tiles.append((style_img * 255).astype(np.uint8) if style_img is not None else np.full((8, 8, 3), 255, np.uint8))
        labels.append(f"style {first_style}")
        for o in outs:
            tiles.append(decode_png(o["image"]))
            labels.append(o["style"])
        tiles += [np.full((8, 8, 3), 255, np.uint8)] * (copies - len(outs))
        labels += [""] * (copies - len(outs))
        last = decode_png(outs[-1]["image"]) if outs else decode_png(row["image"])
        tiles.append(draw_pose(last, np.asarray(row["keypoints"], np.float32).reshape(17, 3)))
        labels.append("stylized + labels")
    return grid(tiles, columns=copies + 3, cell=cell, labels=labels)


def collect_rows(src_dir: Path, out_dir: Path, n: int) -> tuple[list[dict], dict[str, list[dict]]]:
    """The first ``n`` source rows and their stylized rows (images as PNG bytes)."""
    src = []
    for row in iter_samples(src_dir, decode_images=False):
        src.append(row)
        if len(src) >= n:
            break
    wanted = {r["sample_id"] for r in src}
    out: dict[str, list[dict]] = {}
    for row in iter_samples(out_dir, decode_images=False, columns=["sample_id", "image", "style", "source_id"]):
        if row["source_id"] in wanted:
            out.setdefault(row["source_id"], []).append(row)
    return src, out


def metric_sample(src_dir: Path, n: int) -> list[dict]:
    rows = []
    for row in iter_samples(src_dir, decode_images=False, columns=["sample_id", "image"]):
        rows.append({"sample_id": row["sample_id"], "rgb": decode_png(row["image"])})
        if len(rows) >= n:
            break
    return rows


def _frechet_or_none(a: np.ndarray, b: np.ndarray) -> float | None:
    """The Fréchet distance, or None when a side has fewer than 2 images (e.g. a one-style bank)."""
    return metrics.frechet_distance(a, b) if min(len(a), len(b)) >= 2 else None


def stylization_report(runner: StylizerRunner, styles: LoadedStyles, rows: list[dict], run_seed: int,
                       per_image: int, mix: int, encoder: metrics.VGGEncoder,
                       feature_model: str | None = None, on_image: Callable[[], None] | None = None) -> dict:
    """Content loss, Gram style loss and Fréchet distance on ``rows`` at the run's alpha and at alpha=0.

    Each render gets its first assigned style (as in the shards). ``on_image()`` is called after each
    stylized and scored image (progress). Returns a JSON-able dict with per-alpha means, the stated
    content bound and whether it holds."""
    weights = torch.from_numpy(np.stack([assign_styles(r["sample_id"], len(styles.ids), per_image, mix, run_seed)[0]
                                         for r in rows]))
    lead = weights.argmax(1).tolist()
    feature_fn = metrics.load_feature_model(feature_model) if feature_model else metrics.vgg_pooled_features(encoder)
    bank_imgs = [torch.from_numpy(im.transpose(2, 0, 1).copy()) for im in styles.images]
    bank_feats = metrics.frechet_features(bank_imgs, feature_fn)
    by_alpha = {}
    if runner.stylizer.alpha is None:
        raise ValueError(f"stylizer {runner.stylizer.name!r} has no alpha: the alpha=0 comparison does not apply")
    run_alpha = float(runner.stylizer.alpha)
    for alpha in sorted({0.0, run_alpha}):
        old = runner.stylizer.alpha
        runner.stylizer.alpha = alpha
        try:
            c_losses, s_losses, outs = [], [], []
            for r, idx, w in zip(rows, lead, weights):
                content = to_tensor([r["rgb"]])
                out = runner.stylize(content, styles.codes, w[None])
                style = torch.from_numpy(styles.images[idx].transpose(2, 0, 1).copy())[None]
                c_losses.append(float(metrics.content_loss(encoder, out, content)[0]))
                s_losses.append(float(metrics.style_loss(encoder, out, style)[0]))
                outs.append(out[0])
                if on_image is not None:
                    on_image()
        finally:
            runner.stylizer.alpha = old
        fd = _frechet_or_none(metrics.frechet_features(outs, feature_fn), bank_feats)
        by_alpha[f"{alpha:g}"] = {"content_loss": float(np.mean(c_losses)), "style_loss": float(np.mean(s_losses)),
                                  "frechet_distance": fd}
    content_feats = metrics.frechet_features([to_tensor([r["rgb"]])[0] for r in rows], feature_fn)
    report = {
        "network": "VGG-16 (HED backbone, data/weights/adain) relu1_1..relu4_1" if not feature_model
        else f"Fréchet features from {feature_model}; losses on VGG-16 (HED)",
        "samples": len(rows), "style_images": len(styles.ids), "by_alpha": by_alpha,
        "frechet_distance_renders_vs_bank": _frechet_or_none(content_feats, bank_feats),
        "content_bound": CONTENT_BOUND,
    }
    run = by_alpha[f"{run_alpha:g}"]
    report["style_loss_ratio_vs_alpha0"] = run["style_loss"] / max(by_alpha["0"]["style_loss"], 1e-12)
    report["content_within_bound"] = bool(run["content_loss"] <= CONTENT_BOUND)
    return report


# Relative relu4_1 error allowed at full style (see metrics.content_loss): the stylized image keeps
# features closer to the render than the render's own feature energy.
CONTENT_BOUND = 1.0
