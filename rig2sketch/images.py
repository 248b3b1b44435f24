"""One loader for any image a user hands in (predict, score/eval sets, style banks).

``load_image(source)`` returns ``H, W, 3`` uint8 RGB, whatever the file holds:
- transparency (RGBA, LA, palette or grey with a transparent colour) is composited onto white
  paper, so transparent line art reads as dark lines on white, not on black;
- grey, 1-bit, CMYK, YCbCr, LAB and 16-/32-bit grey are converted (16-bit scaled, not clipped);
- the EXIF orientation is applied, so a phone photo of a drawing stands upright;
- files larger than ``MAX_PIXELS`` (decompression bombs, absurd scans) and images smaller than
  ``MIN_SIDE`` pixels on a side are refused with one line naming the file and the fix.

Ground floor: imports only numpy and PIL.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # 40 MP: a 300-dpi A3 scan is ~17 MP
MIN_SIDE = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif")
PAPER = 255


class ImageError(ValueError):
    """An image that cannot be used; the message names the file and the fix."""


def _open(source: str | Path | bytes) -> tuple[Image.Image, str]:
    name = "<image bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        im = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except FileNotFoundError as err:
        raise ImageError(f"{name}: no such file; check the path") from err
    except Image.DecompressionBombError as err:  # PIL's own limit (2 x 89 MP) refuses in open()
        raise ImageError(f"{name}: over the {MAX_PIXELS:,}-pixel limit ({err}); a decompression bomb or an "
                         "oversized scan: downscale it first") from err
    except (UnidentifiedImageError, OSError) as err:
        raise ImageError(f"{name}: not an image PIL can read ({err}); save it as PNG or JPEG") from err
    return im, name


def _check_size(width: int, height: int, name: str, min_side: int = MIN_SIDE) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: {width}x{height} pixels is over the {MAX_PIXELS:,}-pixel limit (a decompression "
                         "bomb or an oversized scan); downscale it first")
    if min(width, height) < min_side:
        raise ImageError(f"{name}: {width}x{height} pixels is too small to hold a figure (under {min_side} px a "
                         "side); give the full-size image")


def _to_8bit_grey(im: Image.Image) -> Image.Image:
    """16-bit / 32-bit integer or float grey -> 8-bit grey, scaled by the mode's range."""
    a = np.asarray(im)
    if im.mode.startswith("I;16") or (im.mode == "I" and a.max(initial=0) <= 65535):
        a = a.astype(np.float64) / 257.0
    elif im.mode == "F":
        a = a.astype(np.float64) * (255.0 if a.max(initial=0) <= 1.0 else 1.0)
    return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8), "L")


def _composite(rgba: np.ndarray, background: int) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + background * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def load_image(source: str | Path | bytes, background: int = PAPER) -> np.ndarray:
    """``H, W, 3`` uint8 RGB of an image file or encoded bytes; transparency over ``background``
    (white paper). Raises :class:`ImageError` (a ValueError) with a one-line reason."""
    im, name = _open(source)
    with im:
        _check_size(im.width, im.height, name)
        try:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
                im = _to_8bit_grey(im)
            if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
                return _composite(np.asarray(im.convert("RGBA")), background)
            return np.ascontiguousarray(np.asarray(im.convert("RGB")))
        except (OSError, ValueError, SyntaxError) as err:
            raise ImageError(f"{name}: the image data is damaged or truncated ({err}); re-export the file") from err


def image_size(source: str | Path | bytes, min_side: int = MIN_SIDE) -> tuple[int, int]:
    """(width, height) as ``load_image`` returns it (EXIF rotation applied), read from the header;
    ``min_side=1`` leaves the small-image check to the caller."""
    im, name = _open(source)
    with im:
        _check_size(im.width, im.height, name, min_side)
        orientation = im.getexif().get(0x0112, 1)
        return (im.height, im.width) if orientation in (5, 6, 7, 8) else (im.width, im.height)
