"""Model files: rig2sketch weights as safetensors with the model config in the metadata, and
foreign checkpoints (official HRNet .pth, mmpose .pth) converted on load."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import save_file

from rig2sketch.atomic import atomic_path
from rig2sketch.weights import WeightsError, read_safetensors, read_torch, safetensors_metadata
from evaluation.config import BLAZEPOSE_ARCHS, ModelConfig
from evaluation.pose_models import pose_model

WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "weights"
# The default model of `predict`: MediaPipe's BlazePose full fine-tuned on rig2sketch's own renders of
# 11 bundled characters (data/weights/blazepose_r2s/MODEL_CARD.md; held-out scores in benchmarks/RESULTS.md,
# "Data value"), stored as an fp16 delta of the bundled .tflite. `checkpoint=blazepose_full` is the
# pretrained network as MediaPipe ships it; the small HRNet stays available by path.
DEFAULT_CHECKPOINT = WEIGHTS / "blazepose_r2s" / "rig2sketch_blazepose_full.safetensors"
HRNET_CHECKPOINT = WEIGHTS / "hrnet" / "rig2sketch_hrnet.safetensors"


def save_model(model: torch.nn.Module, cfg: ModelConfig, path: str | Path, extra: dict | None = None,
               half: bool = False) -> Path:
    """Write weights + ``ModelConfig`` (and ``extra`` notes) to a safetensors file atomically;
    ``half`` stores fp16 (loading converts back to the model's dtype)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to(dtype).contiguous().cpu() for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    meta = {"rig2sketch.model": json.dumps(asdict(cfg)), "format": "pt"}
    meta.update({f"rig2sketch.{k}": json.dumps(v) for k, v in (extra or {}).items()})
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)
    return path


CHECKPOINT_FIX = ("give a .safetensors file written by 'rig2sketch train', a .pth/.pt checkpoint, or "
                  "blazepose_lite|full|heavy")


def save_delta(path_in: str | Path, path_out: str | Path, extra: dict | None = None, blend: float = 1.0) -> Path:
    """Repack a trained BlazePose file as a *delta* of MediaPipe's pretrained network: only the
    tensors training changed, in fp16, with ``rig2sketch.base`` naming the pretrained arch. The
    unchanged tensors come from the bundled ``.tflite`` at load time (not stored twice); the
    BlazePose weights are fp16 in the ``.tflite`` already.

    ``blend`` < 1 stores ``pretrained + blend * (trained - pretrained)``: a weight-space ensemble
    of the fine-tune with the network it started from (WiSE-FT, Wortsman et al. 2022), which
    gives back some of the pretrained network's skill off the training domain (real drawings)."""
    if not 0.0 < blend <= 1.0:
        raise ValueError(f"blend must be in (0, 1] (1 = the fine-tune as trained), got {blend}")
    meta = dict(_metadata(path_in)) if Path(path_in).suffix == ".safetensors" else {}
    cfg = _config(meta)
    if cfg is None or cfg.arch not in BLAZEPOSE_ARCHS:
        raise ValueError(f"{path_in} is not a rig2sketch BlazePose file; only fine-tuned BlazePose packs as a delta")
    base = pose_model(cfg.arch).build(cfg).state_dict()
    state = load_state(path_in)
    changed = {k: (base[k] + blend * (v.to(base[k].dtype) - base[k])).to(torch.float16).contiguous()
               for k, v in state.items() if k in base and not torch.equal(v.to(base[k].dtype), base[k])}
    if blend != 1.0:
        meta["rig2sketch.blend"] = json.dumps(blend)
    meta.update({"rig2sketch.base": json.dumps(cfg.arch), "format": "pt"})
    meta.update({f"rig2sketch.{k}": json.dumps(v) for k, v in (extra or {}).items()})
    path_out = Path(path_out)
    path_out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path_out) as tmp:
        save_file(changed, str(tmp), metadata=meta)
    return path_out


def _metadata(path: str | Path) -> dict[str, str]:
    """The safetensors metadata; ``WeightsError`` (one line) for a file that is not one."""
    return safetensors_metadata(path, "checkpoint", CHECKPOINT_FIX)


def read_model_config(path: str | Path) -> ModelConfig | None:
    """The ModelConfig stored in a rig2sketch safetensors file (None for other files).
    ``WeightsError`` (one line) for a .safetensors path that is not one."""
    return _config(_metadata(path)) if Path(path).suffix == ".safetensors" else None


def _config(meta: dict[str, str]) -> ModelConfig | None:
    return ModelConfig(**json.loads(meta["rig2sketch.model"])) if "rig2sketch.model" in meta else None


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """State dict from .safetensors or a torch checkpoint (.pth/.pt/.ckpt; official, mmpose or
    a rig2sketch training checkpoint with a ``model`` entry). FileNotFoundError or
    ``WeightsError`` (one line naming the file) when it is missing or not a checkpoint."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return read_safetensors(path, "checkpoint", CHECKPOINT_FIX)
    state = read_torch(path, "checkpoint", CHECKPOINT_FIX)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict):
        raise WeightsError(f"checkpoint {path} holds a {type(state).__name__}, not a state dict; {CHECKPOINT_FIX}")
    return state


def load_model(path: str | Path, cfg: ModelConfig | None = None) -> tuple[torch.nn.Module, ModelConfig]:
    """Build the pose model a checkpoint needs (``evaluation.pose_models``) and load it strictly.
    A rig2sketch file brings its own config; a foreign one uses ``cfg`` (its arch must match).
    ``blazepose_lite|full|heavy`` instead of a path: MediaPipe's pretrained network as it is."""
    if str(path) in BLAZEPOSE_ARCHS:
        mcfg = ModelConfig(arch=str(path), input_width=256, input_height=256)
        return pose_model(mcfg.arch).build(mcfg).eval(), mcfg
    meta = _metadata(path) if Path(path).suffix == ".safetensors" else {}
    cfg = _config(meta) or cfg
    if cfg is None:
        raise ValueError(f"{path} carries no rig2sketch model config; pass evaluation.model (arch, input size)")
    family = pose_model(cfg.arch)
    model = family.build(cfg)
    state = load_state(path)
    if "rig2sketch.base" in meta:
        # A delta (``save_delta``): every stored tensor must fit; the rest is the pretrained base.
        state = {**model.state_dict(), **state}
    family.load(model, state)
    return model.eval(), cfg
