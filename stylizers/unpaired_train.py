"""One unpaired training flow for CycleGAN, CUT and U-GAT-IT:
``rig2sketch train-stylizer stylizer=cyclegan|cut|ugatit``.

Domain A = renders (``content``: render shard folders, image folders and/or ``peeps``, the bundled Open Peeps as
flat ink and outlines; ``stylizers.train.load_content``), domain B = drawings (the images of ``style_bank``).
Each step: random crops of both, one generator step (its objective from ``unpaired_objectives``), one
discriminator step; Adam(lr, β1 0.5) for both, as the references. bf16 autocast on CUDA (``gpu_batch_size``
images per batch there).

Resumable: ``checkpoint.pt`` in ``out`` (all networks, both optimisers, step, log) is picked up by a re-run with
the same ``out``, which continues to ``steps``. Every ``log_every`` steps: every loss term on a fixed probe
batch (``losses.json``, ``losses.png``), the checkpoint and ``generator.safetensors`` (the A -> B generator,
fp16, loadable as ``stylizer.weights=<out>``); every ``sample_every`` steps ``samples.png``; at the end
``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from rig2sketch.atomic import atomic_path, write_bytes_atomic, write_json_atomic, write_text_atomic
from stylizers.config import BUNDLED, STYLIZER_TRAINERS, StylizerTrainer
from stylizers.resnet_gan import CUT_NCE_LAYERS
from stylizers.ugatit_nets import UGATITDiscriminator
from stylizers.unpaired import GENERATOR_FILE, save_generator
from stylizers.unpaired_objectives import UNPAIRED_OBJECTIVES, UnpairedObjective

CHECKPOINT = "checkpoint.pt"
ENTRY = "stylizers.unpaired_train:train_unpaired"


@dataclass
class UnpairedTrainConfig:
    """Settings every unpaired recipe has (``configs/train_stylizer/<model>.yaml``); ``model`` is the class's."""

    model: ClassVar[str] = ""
    out: str = "runs/train_unpaired"
    content: list[str] = field(default_factory=list)  # domain A: shards / image folders / peeps; empty = peeps
    style_bank: str = BUNDLED  # domain B
    style_tags: list[str] = field(default_factory=list)  # narrow domain B to these bank tags (empty = all)
    steps: int = 200
    batch_size: int = 1  # the references' batch size
    gpu_batch_size: int = 8  # used instead of batch_size on CUDA
    crop: int = 64
    crop_scale: list[float] = field(default_factory=lambda: [0.5, 1.0])
    lr: float = 2e-4
    beta1: float = 0.5
    ngf: int = 64
    n_blocks: int = 9
    ndf: int = 64
    threads: int = 1
    device: str = "auto"
    seed: int = 0
    log_every: int = 10
    sample_every: int = 50
    max_minutes: float = 0.0  # > 0: stop after this much training time (re-run with the same out to resume)

    def __post_init__(self) -> None:
        if min(self.steps, self.batch_size, self.gpu_batch_size, self.threads, self.log_every,
               self.sample_every, self.ngf, self.ndf) < 1 or self.n_blocks < 0:
            raise ValueError("train.steps, batch_size, gpu_batch_size, threads, log_every, sample_every, ngf and ndf "
                             "must be >= 1, n_blocks >= 0")
        if self.crop < 32 or self.crop % 4:
            raise ValueError(f"train.crop={self.crop}: must be a multiple of 4 and >= 32")
        if len(self.crop_scale) != 2 or not 0.05 <= self.crop_scale[0] <= self.crop_scale[1] <= 1.0:
            raise ValueError(f"train.crop_scale={self.crop_scale}: need 0.05 <= min <= max <= 1")
        if self.lr <= 0 or not 0 <= self.beta1 < 1:
            raise ValueError(f"train.lr={self.lr} must be > 0 and train.beta1={self.beta1} in [0, 1)")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"train.device={self.device!r}: choose auto, cpu or cuda")


@dataclass
class CycleGANTrainConfig(UnpairedTrainConfig):
    model: ClassVar[str] = "cyclegan"
    out: str = "runs/train_cyclegan"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5  # x lambda_cycle, as the reference
    pool_size: int = 50


@dataclass
class CUTTrainConfig(UnpairedTrainConfig):
    model: ClassVar[str] = "cut"
    out: str = "runs/train_cut"
    antialias: bool = True
    lambda_gan: float = 1.0
    lambda_nce: float = 1.0
    nce_idt: bool = True
    nce_layers: list[int] = field(default_factory=lambda: list(CUT_NCE_LAYERS))
    nce_T: float = 0.07
    num_patches: int = 256
    netF_nc: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        top = 10 + self.n_blocks + (2 if self.antialias else 0)  # index of the last residual block's output + 1
        if not self.nce_layers or any(not 0 <= i < top for i in self.nce_layers):
            raise ValueError(f"train.nce_layers={self.nce_layers}: indices of generator layers in [0, {top - 1}]")
        if self.num_patches < 2 or self.nce_T <= 0:
            raise ValueError("train.num_patches must be >= 2 and train.nce_T > 0")


@dataclass
class UGATITTrainConfig(UnpairedTrainConfig):
    model: ClassVar[str] = "ugatit"
    out: str = "runs/train_ugatit"
    n_blocks: int = 4
    light: bool = True  # the full model's FC takes the whole bottleneck: img_size-bound and huge
    d_layers: list[int] = field(default_factory=lambda: [7, 5])  # global and local discriminator depth
    lambda_gan: float = 1.0
    lambda_cycle: float = 10.0
    lambda_identity: float = 10.0
    lambda_cam: float = 1000.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.d_layers) != 2 or min(self.d_layers) < 4:
            raise ValueError(f"train.d_layers={self.d_layers}: two depths >= 4 (global, local)")
        need = UGATITDiscriminator.min_side(max(self.d_layers))
        if self.crop < need:
            raise ValueError(f"train.crop={self.crop} is too small for a {max(self.d_layers)}-layer discriminator "
                             f"(needs >= {need}); raise train.crop or lower train.d_layers (e.g. [5, 4] at 64 px)")


for _schema in (CycleGANTrainConfig, CUTTrainConfig, UGATITTrainConfig):
    STYLIZER_TRAINERS.register(_schema.model)(StylizerTrainer(_schema, ENTRY))


# ---------------------------------------------------------------- data
def _domains(cfg: UnpairedTrainConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from stylizers.style_bank import StyleBank
    from stylizers.train import load_content

    bank = StyleBank.open(cfg.style_bank)
    drawings = [bank.load(i, 256) for i in bank.select(tags=cfg.style_tags).ids()]
    if not drawings:
        raise ValueError(f"style_bank={cfg.style_bank} has no images: domain B (drawings) needs some")
    return load_content(cfg.content, bank), drawings


def _crops(images: list[np.ndarray], n: int, cfg: UnpairedTrainConfig, rng: np.random.Generator,
           device: torch.device) -> torch.Tensor:
    """``n`` random crops ``n, 3, crop, crop`` in [-1, 1]."""
    from stylizers.train import batch

    return batch(images, n, cfg.crop, rng, cfg.crop_scale).to(device) * 2 - 1


# ---------------------------------------------------------------- loop
def train_unpaired(cfg: UnpairedTrainConfig) -> Path:
    """Train (or resume) ``cfg.model`` into ``cfg.out``; return that folder."""
    import cv2

    torch.set_num_threads(cfg.threads)
    cv2.setNumThreads(1)
    device = torch.device("cuda" if cfg.device != "cpu" and torch.cuda.is_available() else "cpu")
    if cfg.device == "cuda" and device.type != "cuda":
        raise ValueError("train.device=cuda but no CUDA device is visible; use train.device=auto or cpu")
    n = cfg.gpu_batch_size if device.type == "cuda" else cfg.batch_size
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    renders, drawings = _domains(cfg)
    torch.manual_seed(cfg.seed)
    objective = UNPAIRED_OBJECTIVES.get(cfg.model)(cfg).to(device)
    betas = (cfg.beta1, 0.999)
    opt_g = torch.optim.Adam(objective.g_parameters(), lr=cfg.lr, betas=betas)
    opt_d = torch.optim.Adam(objective.d_parameters(), lr=cfg.lr, betas=betas)
    step, log, seconds = 0, [], 0.0
    if (out / CHECKPOINT).is_file():
        step, log, seconds = resume(out / CHECKPOINT, cfg, objective, opt_g, opt_d)
    fixed = np.random.default_rng(cfg.seed + 1)
    probe = (_crops(renders, 4, cfg, fixed, device), _crops(drawings, 4, cfg, fixed, device))
    if step == 0:
        log.append({"step": 0, "seconds": 0.0, "probe": objective.probe(*probe)})
    rng = np.random.default_rng([cfg.seed, step])  # a resumed run draws fresh crops, reproducibly
    autocast = dict(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    began = time.perf_counter()  # max_minutes counts this invocation; the log's seconds count every run's
    start = began - seconds
    while step < cfg.steps:
        step += 1
        a, b = _crops(renders, n, cfg, rng, device), _crops(drawings, n, cfg, rng, device)
        with torch.autocast(**autocast):
            g_loss, g_terms = objective.g_loss(a, b)
        opt_g.zero_grad(set_to_none=True)
        g_loss.float().backward()
        opt_g.step()
        objective.after_g_step()
        with torch.autocast(**autocast):
            d_loss, d_terms = objective.d_loss(a, b, objective.last_fakes)
        opt_d.zero_grad(set_to_none=True)
        d_loss.float().backward()
        opt_d.step()
        stop = cfg.max_minutes > 0 and time.perf_counter() - began > 60 * cfg.max_minutes
        if step % cfg.log_every == 0 or step == cfg.steps or stop:
            with torch.autocast(**autocast):
                probed = objective.probe(*probe)
            log.append({"step": step, "seconds": round(time.perf_counter() - start, 1), "probe": probed,
                        "batch": {k: v.item() for k, v in {**g_terms, **d_terms}.items()}})
            print(json.dumps({"step": step, **{k: round(v, 4) for k, v in probed.items()}}), flush=True)
            save(out, cfg, objective, opt_g, opt_d, step, log)
        if step % cfg.sample_every == 0 or step == cfg.steps or stop:
            write_sample_grid(objective, *probe, out / "samples.png")
        if stop:
            break
    write_model_card(out, cfg, objective, log, device, n)
    return out


def resume(path: Path, cfg: UnpairedTrainConfig, objective: UnpairedObjective, opt_g: torch.optim.Optimizer,
           opt_d: torch.optim.Optimizer) -> tuple[int, list[dict], float]:
    """Load a checkpoint of the same model and architecture; (step, log, seconds trained)."""
    from rig2sketch.weights import read_torch

    state = read_torch(path, f"{cfg.model} training checkpoint", "delete it or choose another train.out")
    if state.get("model") != cfg.model or state.get("arch") != json.dumps(objective.arch(), sort_keys=True):
        raise ValueError(f"{path} trains {state.get('model')} {state.get('arch')}, not {cfg.model} "
                         f"{json.dumps(objective.arch(), sort_keys=True)}; use another train.out")
    objective.load_state_dict(state["nets"])
    opt_g.load_state_dict(state["opt_g"])
    opt_d.load_state_dict(state["opt_d"])
    log = json.loads(state["log"])
    return int(state["step"]), log, float(log[-1]["seconds"]) if log else 0.0


def save(out: Path, cfg: UnpairedTrainConfig, objective: UnpairedObjective, opt_g: torch.optim.Optimizer,
         opt_d: torch.optim.Optimizer, step: int, log: list[dict]) -> None:
    """Checkpoint (atomic), the A -> B generator, the losses (JSON + curves)."""
    arch = objective.arch()
    with atomic_path(out / CHECKPOINT) as tmp:
        torch.save({"model": cfg.model, "arch": json.dumps(arch, sort_keys=True), "step": step,
                    "nets": objective.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                    "log": json.dumps(log)}, tmp)
    save_generator(out / GENERATOR_FILE, objective.generator(), cfg.model, arch, {**asdict(cfg), "step": step})
    write_json_atomic(out / "losses.json", log)
    plot_losses(log, out / "losses.png", cfg.model)


def plot_losses(log: list[dict], path: Path, title: str) -> None:
    """Each probe loss term against the step (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    steps = [e["step"] for e in log]
    for key in log[0]["probe"]:
        ax.plot(steps, [max(e["probe"][key], 1e-6) for e in log], "o-", ms=2, lw=1, label=key)
    ax.set(xlabel="step", ylabel="loss on the fixed probe batch", yscale="log", title=title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


@torch.no_grad()
def write_sample_grid(objective: UnpairedObjective, a: torch.Tensor, b: torch.Tensor, path: Path) -> None:
    """Row 1: probe renders (A); row 2: the generator's drawings of them (A -> B); row 3: probe drawings (B)."""
    from shards import encode_png

    g = objective.generator()
    fake = g(a)
    fake = fake[0] if isinstance(fake, tuple) else fake
    rows = [torch.cat(list(x.float()), 2) for x in (a, fake, b)]
    grid = ((torch.cat(rows, 1).clamp(-1, 1) + 1) / 2).permute(1, 2, 0).cpu().numpy()
    write_bytes_atomic(path, encode_png((grid * 255 + 0.5).astype(np.uint8)))


def write_model_card(out: Path, cfg: UnpairedTrainConfig, objective: UnpairedObjective, log: list[dict],
                     device: torch.device, n: int) -> None:
    """``MODEL_CARD.md``: files, architecture, data, recipe, hardware, time and the probe losses first -> last."""
    hw = (torch.cuda.get_device_name() if device.type == "cuda"
          else f"CPU {platform.processor() or platform.machine()}, {cfg.threads} torch thread(s)")
    first, last = log[0], log[-1]
    params = sum(p.numel() for p in objective.generator().parameters())
    losses = "\n".join(f"  - {k}: {first['probe'][k]:.4g} -> {last['probe'][k]:.4g}" for k in first["probe"])
    recipe = {k: v for k, v in asdict(cfg).items() if k not in ("out", "content", "style_bank")}
    peeps = (" (peeps = the bundled Open Peeps as flat ink + outlines, CC0)"
             if "peeps" in (cfg.content or ["peeps"]) else "")
    text = f"""# {cfg.model} A -> B generator (renders -> drawings), trained by rig2sketch — model card

- Files: `{GENERATOR_FILE}` (A -> B generator, fp16, {params / 1e6:.2f}M parameters; load with
  `stylizer={cfg.model} stylizer.weights=<this folder>`), `losses.json`, `losses.png`, `samples.png`
  (rows: probe renders, their translations, probe drawings); `{CHECKPOINT}` resumes training (not bundled).
- Architecture: {cfg.model} generator {json.dumps(objective.arch(), sort_keys=True)} (stylizers/{cfg.model}.py).
- Data: domain A (renders) = {cfg.content or ["peeps"]}{peeps}; domain B (drawings) = style bank
  `{cfg.style_bank}` (tags {cfg.style_tags or "any"}); random {cfg.crop} px crops
  ({cfg.crop_scale[0]:.0%}-{cfg.crop_scale[1]:.0%} of the shorter side), flips; batch {n}.
- Recipe: {json.dumps(recipe)}.
- Steps: {last['step']} of {cfg.steps}; hardware: {hw}; training time {last['seconds'] / 60:.1f} min.
- Losses on the fixed probe batch (4 renders + 4 drawings), step {first['step']} -> step {last['step']}:
{losses}
- Licence: weights MIT (rig2sketch); training data CC0.
"""
    write_text_atomic(out / "MODEL_CARD.md", text)

