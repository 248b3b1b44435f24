"""PNG encoding for shard image columns (RGB order in, RGB order out)."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_png(image: np.ndarray) -> bytes:
    """Encode ``H, W`` (grey), ``H, W, 3`` (RGB) or ``H, W, 4`` (RGBA) uint8/uint16 to PNG bytes.

    Deterministic: the same array always gives the same bytes.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"encode_png takes uint8 or uint16 images, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    elif image.ndim != 2:
        raise ValueError(f"encode_png takes H,W or H,W,3 or H,W,4 arrays, got shape {image.shape}")
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def decode_png(data: bytes, *, mode: str = "rgb") -> np.ndarray:
    """Decode PNG bytes. ``mode="rgb"``: ``H, W, 3`` uint8 RGB; ``"unchanged"``: as stored.

    Raises ValueError when the bytes are not a decodable image.
    """
    if problem := png_problem(data):
        raise ValueError(f"image bytes do not decode as PNG ({problem})")
    buf = np.frombuffer(data, dtype=np.uint8)
    flag = cv2.IMREAD_COLOR if mode == "rgb" else cv2.IMREAD_UNCHANGED
    image = cv2.imdecode(buf, flag) if buf.size else None
    if image is None:
        raise ValueError("image bytes do not decode as PNG")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return image


def png_problem(data: bytes) -> str | None:
    """What is wrong with a PNG's container (None: signature, chunk lengths and CRCs are intact, up
    to IEND). Checked before OpenCV sees the bytes, so damage is one ValueError, not libpng noise."""
    if not data.startswith(PNG_SIGNATURE):
        return "no PNG signature"
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return f"chunk {kind!r} runs past the end"
        if zlib.crc32(data[pos + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"chunk {kind!r} fails its CRC"
        if kind == b"IEND":
            return None
        pos = end
    return "no IEND chunk (truncated)"
