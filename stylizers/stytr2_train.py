"""Train StyTr² with the reference's objective: ``rig2sketch train-stylizer stylizer=stytr2``.

loss = λc · Σ_{last two taps} ||norm(φ(Ics)) - norm(φ(c))||²
       + λs · Σ_l (||μ(φ_l(Ics)) - μ(φ_l(s))||² + ||σ(φ_l(Ics)) - σ(φ_l(s))||²)
       + λid1 · (||Icc - c||² + ||Iss - s||²) + λid2 · Σ_l (||φ_l(Icc) - φ_l(c)||² + ||φ_l(Iss) - φ_l(s)||²)
with Ics = StyTr²(c, s), Icc = StyTr²(c, c), Iss = StyTr²(s, s), norm = per-channel mean/std normalisation and
φ_l the VGG taps. Reference weights λc, λs, λid1, λid2 = 7, 10, 70, 1 (diyiiyiii/StyTR-2 ``train.py``, VGG-19
relu1_1..relu5_1, content at relu4_1 + relu5_1). By default φ is the bundled VGG-16 (HED) of AdaIN, relu1_1..relu4_1
(content at relu3_1 + relu4_1); ``vgg=<vgg_normalised.pth>`` uses the reference's VGG-19 to relu5_1. The three
transformer passes run as one batch of 3B. Learning rate: the reference's warm-up then inverse-time decay.

Resumable (``checkpoint.pt``: network, optimiser, step, losses). Writes ``stytr2.safetensors`` (fp16, its
architecture in the metadata: ``stylizer.weights=<out>``), ``losses.json``, ``losses.png``, ``samples.png`` every
``sample_every`` steps, and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rig2sketch.atomic import atomic_path, write_bytes_atomic, write_json_atomic
from stylizers.adain import mean_std
from stylizers.config import BUNDLED, STYLIZER_TRAINERS, StylizerTrainer
from stylizers.style_bank import StyleBank
from stylizers.stytr2 import WEIGHTS_FILE, save_weights
from stylizers.stytr2_nets import StyTr2, StyTr2Arch
from stylizers.train import batch, load_content
from stylizers.training import plot_losses, write_sample_grid
from stylizers.vgg import OFFICIAL_VGG19_TAPS, VGGEncoder, load_strict, official_vgg19

CHECKPOINT = "checkpoint.pt"
INITS = ("scratch", "adain_decoder")


@dataclass
class StyTr2TrainConfig:
    """``configs/train_stylizer/stytr2.yaml``. Architecture defaults = the released model; ``init``: ``scratch``,
    ``adain_decoder`` (every CNN decoder layer whose shape matches copied from the bundled AdaIN decoder) or a
    folder holding ``stytr2.safetensors`` of the same architecture."""

    out: str = "runs/train_stytr2"
    content: list[str] = field(default_factory=list)  # render shards / image folders / peeps; empty = peeps
    style_bank: str = BUNDLED
    d_model: int = 512
    nhead: int = 8
    enc_layers: int = 3
    dec_layers: int = 3
    ffn: int = 2048
    init: str = "scratch"
    vgg: str = BUNDLED  # bundled (AdaIN's VGG-16/HED, relu1_1..relu4_1) | path to the reference's vgg_normalised.pth
    steps: int = 200
    batch_size: int = 4
    crop: int = 64
    crop_scale: list[float] = field(default_factory=lambda: [0.5, 1.0])
    lr: float = 5e-4
    warmup_steps: int = 10000
    lr_decay: float = 1e-5
    content_weight: float = 7.0
    style_weight: float = 10.0
    identity1_weight: float = 70.0
    identity2_weight: float = 1.0
    # > 0: + weight · pixel MSE between Ics and the bundled AdaIN's stylization of the same pair (not in the paper:
    # distillation, a dense target that short CPU runs learn from far faster than from the perceptual terms)
    teacher_weight: float = 0.0
    threads: int = 1
    device: str = "auto"
    seed: int = 0
    log_every: int = 10
    sample_every: int = 100
    max_minutes: float = 0.0  # > 0: stop after this much training time (re-run with the same out to resume)

    def __post_init__(self) -> None:
        StyTr2Arch(self.d_model, self.nhead, self.enc_layers, self.dec_layers, self.ffn)  # validates the sizes
        if self.init not in INITS and not (Path(self.init) / WEIGHTS_FILE).is_file():
            raise ValueError(f"train.init={self.init!r}: choose scratch, adain_decoder or a folder holding {WEIGHTS_FILE}")
        if min(self.steps, self.batch_size, self.threads, self.log_every, self.sample_every) < 1:
            raise ValueError("train.steps, batch_size, threads, log_every and sample_every must be >= 1")
        if self.crop < 32 or self.crop % 8:
            raise ValueError(f"train.crop={self.crop}: must be a multiple of 8 and >= 32")
        if self.lr <= 0 or self.warmup_steps < 0 or self.lr_decay < 0:
            raise ValueError("train.lr must be > 0, warmup_steps and lr_decay >= 0")
        if min(self.content_weight, self.style_weight, self.identity1_weight, self.identity2_weight,
               self.teacher_weight) < 0:
            raise ValueError("train.*_weight must be >= 0")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"train.device={self.device!r}: choose auto, cpu or cuda")

    @property
    def arch(self) -> StyTr2Arch:
        return StyTr2Arch(self.d_model, self.nhead, self.enc_layers, self.dec_layers, self.ffn)


STYLIZER_TRAINERS.register("stytr2")(StylizerTrainer(StyTr2TrainConfig, "stylizers.stytr2_train:train_stytr2"))


# ---------------------------------------------------------------- losses
def normalise(feat: torch.Tensor) -> torch.Tensor:
    """Per-channel mean/std normalisation over space (the reference's ``normal``), ``B, C, H, W``."""
    m, s = mean_std(feat)
    return (feat - m) / s


def stytr2_losses(net: StyTr2, encoder: VGGEncoder, content: torch.Tensor, style: torch.Tensor,
                  autocast: bool = False, teacher: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The four reference losses for content ``B, 3, H, W`` and style ``B, 3, H, W`` in [0, 1] (same size), plus
    ``teacher`` (pixel MSE of Ics vs ``teacher`` ``B, 3, H, W``) when a teacher's images are given."""
    b = content.shape[0]
    with torch.no_grad():
        c_feats, s_feats = encoder(content), encoder(style)
    with torch.autocast(content.device.type, dtype=torch.bfloat16, enabled=autocast):
        # One pass for (c, s), (c, c), (s, s): queries from the first, memory from the second image.
        out = net(torch.cat([content, content, style]), torch.cat([style, content, style]))
    out = out.float()
    feats = encoder(out)
    ics = [f[:b] for f in feats]
    loss_c = sum(F.mse_loss(normalise(ics[i]), normalise(c_feats[i])) for i in (-2, -1))
    loss_s = out.new_zeros(())
    for o, s in zip(ics, s_feats):
        (om, osd), (sm, ssd) = mean_std(o), mean_std(s)
        loss_s = loss_s + F.mse_loss(om, sm) + F.mse_loss(osd, ssd)
    loss_id1 = F.mse_loss(out[b:2 * b], content) + F.mse_loss(out[2 * b:], style)
    loss_id2 = sum(F.mse_loss(f[b:2 * b], c) + F.mse_loss(f[2 * b:], s) for f, c, s in zip(feats, c_feats, s_feats))
    losses = {"content": loss_c, "style": loss_s, "identity1": loss_id1, "identity2": loss_id2}
    if teacher is not None:
        losses["teacher"] = F.mse_loss(out[:b], teacher)
    return losses


def total_loss(cfg: StyTr2TrainConfig, losses: dict[str, torch.Tensor]) -> torch.Tensor:
    total = (cfg.content_weight * losses["content"] + cfg.style_weight * losses["style"]
             + cfg.identity1_weight * losses["identity1"] + cfg.identity2_weight * losses["identity2"])
    return total + cfg.teacher_weight * losses["teacher"] if "teacher" in losses else total


class AdaINTeacher:
    """The bundled AdaIN stylizing each (content, style) pair of a batch: the distillation target."""

    def __init__(self, device: torch.device) -> None:
        from stylizers.adain import load_bundled

        self.stylizer = load_bundled().to(device, torch.float32)

    @torch.no_grad()
    def __call__(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        codes = self.stylizer.embed_styles(style)
        eye = torch.eye(len(style), device=style.device)
        return self.stylizer.stylize(content, codes, eye).clamp(0, 1)


def learning_rate(cfg: StyTr2TrainConfig, step: int) -> float:
    """The reference's schedule: ``0.1·lr·(1 + 3·step/warmup)`` while warming up, then ``0.4·lr / (1 + decay·t)``."""
    if step < cfg.warmup_steps:
        return cfg.lr * 0.1 * (1.0 + 3.0 * step / cfg.warmup_steps)
    return cfg.lr * 0.4 / (1.0 + cfg.lr_decay * (step - cfg.warmup_steps))


# ---------------------------------------------------------------- setup
def loss_encoder(vgg: str) -> VGGEncoder:
    """AdaIN's bundled VGG-16 (HED) to relu4_1, or the reference's VGG-19 ``vgg_normalised.pth`` to relu5_1."""
    from rig2sketch.weights import read_safetensors, read_torch
    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16

    if vgg == BUNDLED:
        return encoder_vgg16(read_safetensors(BUNDLED_DIR / ENCODER_FILE, "AdaIN encoder", "reinstall rig2sketch"))
    net = official_vgg19()
    load_strict(net, read_torch(vgg, "VGG-19", "pass the reference's vgg_normalised.pth"), f"{vgg} (vgg_normalised.pth)")
    return VGGEncoder(net, (*OFFICIAL_VGG19_TAPS, 44), "vgg19_normalised_relu5_1")


def build_network(cfg: StyTr2TrainConfig) -> tuple[StyTr2, str]:
    """A fresh network initialised as ``cfg.init`` says; returns it and a sentence for the model card."""
    from rig2sketch.weights import read_safetensors

    torch.manual_seed(cfg.seed)
    net = StyTr2(cfg.arch)
    if cfg.init == "adain_decoder":
        from stylizers.adain import BUNDLED_DIR, DECODER_FILE

        adain = read_safetensors(BUNDLED_DIR / DECODER_FILE, "AdaIN decoder", "reinstall rig2sketch")
        own = net.decode.state_dict()
        copied = {k: v.float() for k, v in adain.items() if k in own and own[k].shape == v.shape}
        net.decode.load_state_dict({**own, **copied})
        return net, (f"CNN decoder: {len(copied)} of {len(own)} tensors from the bundled AdaIN decoder "
                     f"(data/weights/adain), the rest random (seed {cfg.seed})")
    if cfg.init != "scratch":
        from stylizers.stytr2 import load_weights

        other = load_weights(Path(cfg.init)).net
        if other.arch != cfg.arch:
            raise ValueError(f"train.init={cfg.init}: architecture {other.arch} differs from the recipe's {cfg.arch}")
        net.load_state_dict(other.state_dict())
        return net, f"continued from `{cfg.init}`"
    return net, f"random (seed {cfg.seed}, xavier-uniform as the reference)"


# ---------------------------------------------------------------- loop
def train_stytr2(cfg: StyTr2TrainConfig) -> Path:
    """Train (or resume) into ``cfg.out``; return that folder."""
    torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    bank = StyleBank.open(cfg.style_bank)
    content_images, style_images = load_content(cfg.content, bank), [bank.load(i, 256) for i in bank.ids()]
    encoder = loss_encoder(cfg.vgg).to(device)
    net, init_text = build_network(cfg)
    net = net.to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    step, log, seconds_before = 0, [], 0.0
    if (out / CHECKPOINT).is_file():
        state = torch.load(out / CHECKPOINT, map_location=device, weights_only=True)
        if state["arch"] != cfg.arch.to_json():
            raise ValueError(f"{out / CHECKPOINT} trains architecture {state['arch']}, not {cfg.arch.to_json()}; "
                             "use another train.out or the same sizes")
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["optimizer"])
        step, log, init_text = int(state["step"]), json.loads(state["log"]), state["init"]
        seconds_before = float(state.get("seconds", 0.0))
    rng = np.random.default_rng([cfg.seed, step])  # a resumed run draws fresh crops, reproducibly
    fixed = np.random.default_rng(cfg.seed + 1)
    probe = (batch(content_images, 4, cfg.crop, fixed, cfg.crop_scale).to(device),
             batch(style_images, 4, cfg.crop, fixed, cfg.crop_scale).to(device))
    autocast = device.type == "cuda"
    teacher = AdaINTeacher(device) if cfg.teacher_weight > 0 else None
    if teacher is not None:
        probe = (*probe, teacher(*probe))
    if step == 0:
        log.append({"step": 0, "probe": probe_loss(net, encoder, cfg, probe, autocast), "seconds": 0.0})
    start = time.perf_counter()
    while step < cfg.steps:
        step += 1
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        c = batch(content_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        s = batch(style_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        losses = stytr2_losses(net, encoder, c, s, autocast, teacher(c, s) if teacher is not None else None)
        loss = total_loss(cfg, losses)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seconds = seconds_before + time.perf_counter() - start
        stop = cfg.max_minutes > 0 and time.perf_counter() - start > 60 * cfg.max_minutes
        last = step == cfg.steps or stop
        if step % cfg.log_every == 0 or last:
            log.append({"step": step, "loss": loss.item(), **{k: v.item() for k, v in losses.items()},
                        "probe": probe_loss(net, encoder, cfg, probe, autocast), "seconds": round(seconds, 1)})
            print(json.dumps(log[-1]), flush=True)
        if step % cfg.sample_every == 0 or last:
            save(out, cfg, net, opt, step, log, probe, init_text, seconds)
        if stop:
            break
    write_model_card(out, cfg, log, device, init_text, len(content_images), len(style_images))
    return out


@torch.no_grad()
def probe_loss(net: StyTr2, encoder: VGGEncoder, cfg: StyTr2TrainConfig, probe: tuple[torch.Tensor, ...],
               autocast: bool = False) -> float:
    """The weighted loss on one fixed batch ``(content, style[, teacher images])``, the same every time; dropout off."""
    was_training = net.training
    net.eval()
    value = float(total_loss(cfg, stytr2_losses(net, encoder, probe[0], probe[1], autocast, *probe[2:])))
    net.train(was_training)
    return value


def save(out: Path, cfg: StyTr2TrainConfig, net: StyTr2, opt: torch.optim.Optimizer, step: int, log: list[dict],
         probe: tuple[torch.Tensor, ...], init_text: str, seconds: float) -> None:
    """Checkpoint (atomic), fp16 weights, losses (json + curve) and the sample grid."""
    with atomic_path(out / CHECKPOINT) as tmp:
        torch.save({"net": net.state_dict(), "optimizer": opt.state_dict(), "step": step, "arch": cfg.arch.to_json(),
                    "log": json.dumps(log), "init": init_text, "seconds": seconds}, tmp)
    save_weights(net, out / WEIGHTS_FILE, {"step": str(step), "config": json.dumps(asdict(cfg))})
    write_json_atomic(out / "losses.json", log)
    plot_losses(log, out / "losses.png", f"StyTr² d={cfg.d_model}",
                f"{cfg.content_weight:g}c + {cfg.style_weight:g}s + {cfg.identity1_weight:g}id1 + {cfg.identity2_weight:g}id2")
    was_training = net.training
    net.eval()
    write_sample_grid(net, probe[0], probe[1], out / "samples.png")
    net.train(was_training)


def write_model_card(out: Path, cfg: StyTr2TrainConfig, log: list[dict], device: torch.device, init_text: str,
                     n_content: int, n_style: int) -> None:
    first, last = log[0], log[-1]
    hw = torch.cuda.get_device_name() if device.type == "cuda" else (
        f"CPU ({platform.processor() or platform.machine()}), {cfg.threads} torch thread(s)")
    n_params = sum(p.numel() for p in StyTr2(cfg.arch).parameters())
    parts = ", ".join(f"{k} {last[k]:.4g}" for k in ("content", "style", "identity1", "identity2", "teacher") if k in last)
    teacher = (f" + {cfg.teacher_weight:g}·teacher (pixel MSE of Ics vs the bundled AdaIN's output; distillation, "
               "not in the paper)" if cfg.teacher_weight else "")
    vgg = "the bundled VGG-16/HED of AdaIN, relu1_1..relu4_1" if cfg.vgg == BUNDLED else cfg.vgg
    text = f"""# StyTr² (rig2sketch-trained), d_model={cfg.d_model} — model card

- Files: `{WEIGHTS_FILE}` (fp16; architecture in the metadata; `stylizer=stytr2 stylizer.weights={out}`),
  `{CHECKPOINT}` (resume: re-run with the same `train.out`), `losses.json`, `losses.png`, `samples.png`.
- Architecture: StyTr² (Deng et al., CVPR 2022; module names of diyiiyiii/StyTR-2): 8x8 patch embedding, content
  and style encoders ({cfg.enc_layers} layer(s) each), decoder ({cfg.dec_layers} layer(s)), d_model {cfg.d_model},
  {cfg.nhead} heads, FFN {cfg.ffn}, CAPE (18x18 pool + 1x1 conv), AdaIN-layout CNN decoder; {n_params / 1e6:.2f}M
  parameters (the release: 512/8/3/3/2048, 35.4M).
- Init: {init_text}.
- Data: content {cfg.content or ["peeps"]} ({n_content} images), styles from `{cfg.style_bank}` ({n_style} images);
  random {cfg.crop} px crops ({cfg.crop_scale[0]:.0%}-{cfg.crop_scale[1]:.0%} of the short side), flips; batch {cfg.batch_size}.
- Loss: {cfg.content_weight:g}·content (mean/std-normalised, last two VGG taps) + {cfg.style_weight:g}·style (mean/std,
  all taps) + {cfg.identity1_weight:g}·identity1 (pixel MSE of Icc, Iss) + {cfg.identity2_weight:g}·identity2 (features
  of Icc, Iss){teacher};
  VGG: {vgg}.
- Optimiser: Adam, lr {cfg.lr:g} with the reference's warm-up ({cfg.warmup_steps} steps) and decay {cfg.lr_decay:g}; seed {cfg.seed}.
- Steps: {last['step']} (of {cfg.steps} planned); hardware: {hw}; training time {last['seconds'] / 60:.1f} min.
- Fixed probe batch loss: step {first['step']}: {first['probe']:.4g} -> step {last['step']}: {last['probe']:.4g}
  (last batch: {parts}).
- Licence: weights MIT (rig2sketch); training data CC0 (see `data/styles/README.md`).
"""
    write_bytes_atomic(out / "MODEL_CARD.md", text.encode())
