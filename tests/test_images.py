"""rig2sketch.images.load_image: every kind of file a user hands in becomes upright RGB on white."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from rig2sketch.images import MAX_PIXELS, ImageError, image_size, load_image


def _line_art(h: int = 40, w: int = 30) -> np.ndarray:
    """A black cross (the 'lines') as a boolean mask."""
    lines = np.zeros((h, w), bool)
    lines[h // 2, :] = True
    lines[:, w // 3] = True
    return lines


def _save(im: Image.Image, path, **kw) -> str:
    im.save(path, **kw)
    return str(path)


def test_transparent_rgba_line_art_reads_as_black_on_white(tmp_path) -> None:
    lines = _line_art()
    rgba = np.zeros((*lines.shape, 4), np.uint8)  # transparent black everywhere...
    rgba[lines, 3] = 255  # ...except opaque black lines
    out = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    assert out.shape == (40, 30, 3) and out.dtype == np.uint8
    assert (out[lines] == 0).all() and (out[~lines] == 255).all()


def test_half_transparent_pixels_blend_with_paper(tmp_path) -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 3] = 128
    out = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "half.png"))
    assert np.allclose(out, 127, atol=1)


def test_grey_with_alpha(tmp_path) -> None:
    lines = _line_art()
    la = np.zeros((*lines.shape, 2), np.uint8)
    la[lines, 1] = 255
    out = load_image(_save(Image.fromarray(la, "LA"), tmp_path / "la.png"))
    assert (out[lines] == 0).all() and (out[~lines] == 255).all()


def test_palette_transparency(tmp_path) -> None:
    lines = _line_art()
    im = Image.fromarray(lines.astype(np.uint8), "P")
    im.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)  # index 0 black (transparent), 1 red lines
    path = _save(im, tmp_path / "p.png", transparency=0)
    out = load_image(path)
    assert (out[lines] == [200, 30, 30]).all() and (out[~lines] == 255).all()


def test_grey_and_one_bit(tmp_path) -> None:
    grey = np.where(_line_art(), 0, 230).astype(np.uint8)
    out = load_image(_save(Image.fromarray(grey, "L"), tmp_path / "g.png"))
    assert out.shape == (40, 30, 3) and (out[..., 0] == grey).all() and (out[..., 2] == grey).all()
    one = Image.fromarray(~_line_art()).convert("1")
    out1 = load_image(_save(one, tmp_path / "one.png"))
    assert (out1[_line_art()] == 0).all() and (out1[~_line_art()] == 255).all()


def test_cmyk_jpeg(tmp_path) -> None:
    cmyk = np.zeros((40, 30, 4), np.uint8)
    cmyk[_line_art(), 3] = 255  # K ink on the lines, white paper elsewhere
    out = load_image(_save(Image.fromarray(cmyk, "CMYK"), tmp_path / "c.tif"))
    assert out.shape == (40, 30, 3)
    assert out[_line_art()].max() < 40 and out[~_line_art()].min() > 215


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path) -> None:
    a = np.where(_line_art(), 0, 50000).astype(np.uint16)
    path = _save(Image.fromarray(a), tmp_path / "g16.png")
    assert Image.open(path).mode.startswith("I")  # really stored as 16-bit grey
    out = load_image(path)
    assert (out[_line_art()] == 0).all() and (out[~_line_art()] == round(50000 / 257)).all()


def test_exif_orientation_is_applied(tmp_path) -> None:
    a = np.full((40, 30, 3), 255, np.uint8)
    a[:5, :, :] = 0  # a dark band along the top of the stored pixels
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # stored rotated: display turns it 90 degrees clockwise
    path = _save(im, tmp_path / "rot.jpg", exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (30, 40, 3) and image_size(path) == (40, 30)
    assert out[:, -5:].mean() < 40 and out[:, :-8].mean() > 215  # the band is now on the right


def test_bytes_source_and_plain_rgb(tmp_path) -> None:
    a = np.random.default_rng(0).integers(0, 255, (20, 16, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    assert (load_image(buf.getvalue()) == a).all()


def test_refuses_a_decompression_bomb_before_decoding(tmp_path) -> None:
    side = int(MAX_PIXELS**0.5) + 100
    path = _save(Image.new("1", (side, side), 1), tmp_path / "bomb.png")
    with pytest.raises(ImageError, match="pixel limit.*downscale"):
        load_image(path)
    with pytest.raises(ImageError, match="pixel limit"):
        image_size(path)


def test_refuses_a_header_beyond_pils_own_limit(tmp_path) -> None:
    """A 40000x40000 header (1.6 G pixels): PIL refuses it in ``open`` with its own error type,
    which is named as the pixel limit too (the fault sweep's bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))
    (tmp_path / "bomb.png").write_bytes(png)
    for read in (load_image, image_size):
        with pytest.raises(ImageError, match=r"bomb\.png: over the 40,000,000-pixel limit .*downscale it first"):
            read(tmp_path / "bomb.png")


def test_refuses_tiny_broken_and_missing_files(tmp_path) -> None:
    with pytest.raises(ImageError, match="too small"):
        load_image(_save(Image.new("RGB", (4, 30)), tmp_path / "tiny.png"))
    (tmp_path / "text.png").write_text("not a picture")
    with pytest.raises(ImageError, match="not an image"):
        load_image(tmp_path / "text.png")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buf, format="PNG")
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(buf.getvalue()[:60])
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.png")
