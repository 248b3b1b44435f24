"""Read the uncompressed scanline OpenEXR files Blender's compositor writes, straight into numpy.

``bpy.data.images.load`` + ``pixels.foreach_get`` costs ~10 ms per 512² file and always
yields RGBA; parsing the file ourselves is a header walk and one strided view (~1 ms). Only
what :class:`renderers.blender.passes.PassRender` writes is supported: single-part scanline
files, ``NONE`` compression, HALF or FLOAT channels; anything else is a clear error.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = 20000630
_PIXEL = {1: np.dtype("<f2"), 2: np.dtype("<f4")}  # OpenEXR pixel types HALF, FLOAT (UINT unsupported)


def _header(data: bytes) -> tuple[dict[str, tuple[str, bytes]], int]:
    """Attributes name -> (type, raw value) and the offset just past the header."""
    if len(data) < 8 or struct.unpack_from("<i", data, 0)[0] != MAGIC:
        raise ValueError("not an OpenEXR file (bad magic number)")
    if struct.unpack_from("<i", data, 4)[0] & 0x1E00:  # tiled, long names, deep, multi-part bits
        raise ValueError("only single-part scanline OpenEXR files are supported")
    attrs, pos = {}, 8
    while data[pos] != 0:
        name_end = data.index(b"\0", pos)
        type_end = data.index(b"\0", name_end + 1)
        size = struct.unpack_from("<i", data, type_end + 1)[0]
        start = type_end + 5
        attrs[data[pos:name_end].decode()] = (data[name_end + 1:type_end].decode(), data[start:start + size])
        pos = start + size
    return attrs, pos + 1


def _channels(raw: bytes) -> list[tuple[str, np.dtype]]:
    out, pos = [], 0
    while raw[pos] != 0:
        end = raw.index(b"\0", pos)
        pixel_type, _, x_sampling, y_sampling = struct.unpack_from("<iB3xii", raw, end + 1)
        if pixel_type not in _PIXEL or (x_sampling, y_sampling) != (1, 1):
            raise ValueError(f"EXR channel {raw[pos:end].decode()!r}: unsupported pixel type or sampling")
        out.append((raw[pos:end].decode(), _PIXEL[pixel_type]))
        pos = end + 1 + 16
    return out


def read_exr(path: str | Path) -> dict[str, np.ndarray]:
    """Channel name -> ``H, W`` float32 array (rows top to bottom, as the file stores them)."""
    data = Path(path).read_bytes()
    attrs, pos = _header(data)
    if attrs["compression"][1][0] != 0:
        raise ValueError(f"{path}: compressed EXR (codec {attrs['compression'][1][0]}); write with exr_codec='NONE'")
    x0, y0, x1, y1 = struct.unpack("<4i", attrs["dataWindow"][1])
    width, height = x1 - x0 + 1, y1 - y0 + 1
    channels = _channels(attrs["channels"][1])
    offsets = np.frombuffer(data, "<u8", count=height, offset=pos)
    line = sum(dtype.itemsize for _, dtype in channels) * width
    block = 8 + line  # int32 y + int32 byte count + the line's channels, one after another
    if np.any(np.diff(offsets) != block) or offsets[0] + block * height > len(data):
        raise ValueError(f"{path}: scanline blocks are not stored in order (truncated or unusual file)")
    rows = np.frombuffer(data, np.uint8, count=block * height, offset=int(offsets[0])).reshape(height, block)
    out, start = {}, 8
    for name, dtype in channels:
        size = dtype.itemsize * width
        values = np.ascontiguousarray(rows[:, start:start + size]).view(dtype).reshape(height, width)
        out[name] = values.astype(np.float32, copy=False)
        start += size
    return out
