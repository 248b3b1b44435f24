"""Stylization metrics of seed 004: content loss, Gram-matrix style loss, and a Fréchet distance.

Network: all three use rig2sketch's bundled VGG-16 encoder (HED backbone, ``data/weights/adain``), taps
relu1_1, relu2_1, relu3_1, relu4_1, whatever weights the stylizer ran with, so numbers are comparable
across runs.

- content loss: mean squared difference of relu4_1 features of stylized vs content image, divided by
  the mean square of the content's relu4_1 (a relative error: 0 = same features, 1 = an error as large as
  the features themselves);
- style loss: Σ over the four taps of the MSE between Gram matrices (``F Fᵀ / (C·H·W)``) of the stylized
  image and of its style image;
- Fréchet distance: between Gaussians fitted to features of the stylized images and of the style-bank
  images (FID formula). Default features: global-average-pooled relu4_1 (512-D) of the same VGG-16. With
  a few dozen images per side the covariance is low-rank and the value is biased upwards; compare runs
  at equal sample counts.

ArtFID (Wright & Ommer 2022) uses Inception-v3 (pytorch-fid ``pt_inception-2015-12-05``) features; those
weights cannot be downloaded here. Hook: pass ``feature_model=PATH`` to ``frechet_features`` /
``stylization_report`` with a TorchScript file mapping ``B, 3, H, W`` RGB in [0, 1] to ``B, D`` features
(e.g. pytorch-fid's ``InceptionV3([3])`` with those weights, scripted); its features replace the VGG ones
in the Fréchet distance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from stylizers.vgg import VGGEncoder

FeatureFn = Callable[[torch.Tensor], torch.Tensor]


def gram(feat: torch.Tensor) -> torch.Tensor:
    """``B, C, H, W`` -> Gram matrices ``B, C, C`` normalised by ``C·H·W``."""
    b, c, h, w = feat.shape
    f = feat.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


@torch.inference_mode()
def content_loss(encoder: VGGEncoder, stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Relative relu4_1 error per image ``B`` (see module docstring)."""
    fs, fc = encoder.encode(stylized), encoder.encode(content)
    return ((fs - fc) ** 2).flatten(1).mean(1) / (fc ** 2).flatten(1).mean(1).clamp_min(1e-8)


@torch.inference_mode()
def style_loss(encoder: VGGEncoder, stylized: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Gram style loss per image ``B``; ``style`` is ``B, 3, Hs, Ws`` (each image's own style image)."""
    total = stylized.new_zeros(stylized.shape[0])
    for fo, fs in zip(encoder(stylized), encoder(style)):
        total += ((gram(fo) - gram(fs)) ** 2).flatten(1).mean(1)
    return total


def vgg_pooled_features(encoder: VGGEncoder) -> FeatureFn:
    return lambda x: encoder.encode(x).mean((2, 3))


def load_feature_model(path: str | Path) -> FeatureFn:
    """A user's TorchScript feature network (e.g. ArtFID's Inception-v3) as a feature function."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feature model {path} not found; pass a TorchScript file (B,3,H,W in [0,1] -> B,D)")
    model = torch.jit.load(str(path), map_location="cpu").eval()
    return lambda x: model(x).flatten(1)


@torch.inference_mode()
def frechet_features(images: list[torch.Tensor], feature_fn: FeatureFn) -> np.ndarray:
    """Images (each ``3, H, W`` in [0, 1], sizes may differ) -> ``N, D`` float64 features."""
    return np.concatenate([feature_fn(img[None].float()).double().numpy() for img in images])


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||μa − μb||² + Tr(Σa) + Tr(Σb) − 2 Tr((Σa Σb)^½) of two ``N, D`` feature sets.

    Tr((Σa Σb)^½) is computed exactly from the small ``Na, Na`` matrix ``(A Bᵀ)(A Bᵀ)ᵀ`` (A, B the centred
    features): its eigenvalues are the non-zero eigenvalues of Σa Σb, so a few dozen images in 512-D need
    no ``sqrtm`` of a singular 512x512 product."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs at least 2 images on each side")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = a - mu_a, b - mu_b
    cross = ca @ cb.T / np.sqrt((len(a) - 1) * (len(b) - 1))
    eig = np.linalg.eigvalsh(cross @ cross.T)
    tr_sqrt = np.sqrt(np.clip(eig, 0, None)).sum()
    tr_a = (ca ** 2).sum() / (len(a) - 1)
    tr_b = (cb ** 2).sum() / (len(b) - 1)
    return float(((mu_a - mu_b) ** 2).sum() + tr_a + tr_b - 2 * tr_sqrt)
