"""The ``Stylizer`` interface every stylizer implements, its registry, device choice, batching and padding.

A stylizer maps content images ``B, 3, H, W`` (float, RGB in [0, 1]) and a per-image choice of styles to
images of the same shape. Styles are referenced in two steps, so that one interface fits AdaIN
(statistics of VGG features), a multi-style FiLM generator with a style encoder (seed 004: an embedding
z_s), transformer stylizers (StyTr²: style tokens) and GANs trained on one domain (CycleGAN/CUT/UGATIT:
an empty code):

1. ``codes = stylizer.embed_styles(style_images)``: ``S, 3, Hs, Ws`` -> a tensor whose first dim is S
   (the style's code: AdaIN ``S, 2C`` mean+std, an encoder's ``S, D`` z_s, tokens ``S, N, D``). Codes can
   be cached and stored; a user may pass codes directly instead of images.
2. ``stylizer.stylize(content, codes, weights)`` with ``weights`` ``B, S``: row b mixes the S styles
   for image b (one-hot rows select one style per image; several non-zero entries interpolate between
   styles, for stylizers where ``supports_mixing`` is true).

``StylizerRunner`` adds what is the same for every stylizer: device and dtype (CUDA + bf16 when present,
CPU + fp32 otherwise), chunking into batches, reflect-padding odd sizes to the network's multiple and
cropping back (so pixel coordinates, hence labels, are untouched), ``torch.inference_mode``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from rig2sketch.registry import Registry

# name -> factory(config dataclass) -> Stylizer. Register with @STYLIZERS.register("name") in a module of
# this package; ``build_stylizer`` imports the package's modules first, so a new stylizer is one new file.
STYLIZERS: Registry[Callable[..., "Stylizer"]] = Registry("stylizer")
MIN_STYLE_SIDE = 16  # smaller style images carry no texture and break the encoders' strided layers


def build_stylizer(cfg: Any) -> "Stylizer":
    """The stylizer named ``cfg.name``, built from its config dataclass."""
    from stylizers.config import import_stylizer_modules

    import_stylizer_modules()
    return STYLIZERS.get(cfg.name)(cfg)


class Stylizer(ABC):
    """A loaded stylization model. Subclasses are thin: weights + ``embed_styles`` + ``stylize``."""

    name: str = "?"
    size_multiple: int = 1  # H and W given to ``stylize`` are padded to a multiple of this
    supports_mixing: bool = False  # True: ``weights`` rows may mix several styles
    alpha: float | None = None  # content/style blend in [0, 1] where the config's capabilities say alpha

    @abstractmethod
    def embed_styles(self, style_images: torch.Tensor) -> torch.Tensor:
        """``S, 3, Hs, Ws`` in [0, 1] -> style codes ``S, ...`` (first dim S)."""

    @abstractmethod
    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``B, 3, H, W`` in [0, 1], codes ``S, ...``, weights ``B, S`` (rows sum to 1) -> ``B, 3, H, W`` in [0, 1].

        ``H`` and ``W`` are multiples of ``size_multiple`` (the runner pads)."""

    def networks(self) -> list[torch.nn.Module]:
        """The torch modules holding the weights (moved by ``to``)."""
        return []

    def to(self, device: torch.device, dtype: torch.dtype,
           memory_format: torch.memory_format = torch.contiguous_format) -> "Stylizer":
        """Move the weights (to ``memory_format`` for conv weights); return self."""
        for net in self.networks():
            net.to(device=device, dtype=dtype, memory_format=memory_format)
        return self

    def params(self) -> dict[str, Any]:
        """The settings that shaped the output (stored as the ``params`` JSON of each stylized row)."""
        return {}


def select_device(preference: str = "auto") -> tuple[torch.device, torch.dtype]:
    """``auto``: CUDA with bf16 when a GPU is present (fp16 if it lacks bf16), else CPU with fp32."""
    if preference not in ("auto", "cpu", "cuda"):
        raise ValueError(f"stylizer.device={preference!r}: choose auto, cpu or cuda")
    if preference == "cuda" and not torch.cuda.is_available():
        raise ValueError("stylizer.device=cuda but no CUDA device is visible; use stylizer.device=auto or cpu")
    if preference != "cpu" and torch.cuda.is_available():
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def one_hot_weights(indices: torch.Tensor, num_styles: int) -> torch.Tensor:
    """Style index per image ``B`` -> selection weights ``B, S``."""
    return F.one_hot(indices.long(), num_styles).float()


def pad_to_multiple(images: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad the bottom and right of ``B, C, H, W`` to multiples of ``multiple``.

    Padding only at the bottom/right keeps pixel (x, y) where it was, so cropping ``[:H, :W]`` restores
    the original frame exactly. Returns the padded batch and the original ``(H, W)``."""
    h, w = images.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"  # reflect needs pad < size
        images = F.pad(images, (0, pw, 0, ph), mode=mode)
    return images, (h, w)


@dataclass
class StylizerRunner:
    """Runs a ``Stylizer`` over any number of images on the chosen device, in batches."""

    stylizer: Stylizer
    device: torch.device
    dtype: torch.dtype
    batch_size: int = 8
    channels_last: bool = True  # NHWC conv kernels: ~1.5x faster on this CPU (benchmarks/RESULTS.md)

    @classmethod
    def create(cls, stylizer: Stylizer, device: str = "auto", batch_size: int = 8,
               channels_last: bool = True) -> "StylizerRunner":
        if batch_size < 1:
            raise ValueError(f"stylizer.batch_size={batch_size}: must be >= 1")
        dev, dtype = select_device(device)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        return cls(stylizer.to(dev, dtype, fmt), dev, dtype, batch_size, channels_last)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, self.dtype)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    @torch.inference_mode()
    def embed_styles(self, style_images: list[torch.Tensor]) -> torch.Tensor:
        """Style images (each ``3, Hs, Ws``, sizes may differ) -> codes ``S, ...`` (float32, on CPU)."""
        codes = []
        for i, img in enumerate(style_images):
            if img.ndim != 3 or img.shape[0] != 3 or min(img.shape[1:]) < MIN_STYLE_SIDE:
                raise ValueError(f"style image {i} has shape {tuple(img.shape)}: style images must be 3, H, W RGB with "
                                 f"at least {MIN_STYLE_SIDE} px per side; use a larger image")
            x, _ = pad_to_multiple(self._prepare(img[None]), self.stylizer.size_multiple)
            codes.append(self.stylizer.embed_styles(x).float().cpu())
        return torch.cat(codes)

    @torch.inference_mode()
    def stylize(self, content: torch.Tensor, codes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``N, 3, H, W`` in [0, 1] + codes ``S, ...`` + weights ``N, S`` -> ``N, 3, H, W`` float32 on CPU."""
        if content.ndim != 4 or content.shape[1] != 3:
            raise ValueError(f"content must be N, 3, H, W; got {tuple(content.shape)}")
        if weights.shape != (content.shape[0], codes.shape[0]):
            raise ValueError(f"weights must be N, S = {(content.shape[0], codes.shape[0])}; got {tuple(weights.shape)}")
        if not self.stylizer.supports_mixing and bool(((weights > 0).sum(1) > 1).any()):
            raise ValueError(f"stylizer {self.stylizer.name!r} cannot mix styles; give one style per image")
        codes = codes.to(self.device, self.dtype)
        out = []
        for i in range(0, content.shape[0], self.batch_size):
            x, (h, w) = pad_to_multiple(self._prepare(content[i:i + self.batch_size]), self.stylizer.size_multiple)
            w_b = weights[i:i + self.batch_size].to(self.device, self.dtype)
            y = self.stylizer.stylize(x, codes, w_b)[..., :h, :w]
            out.append(y.float().clamp_(0, 1).cpu())
        return torch.cat(out)
