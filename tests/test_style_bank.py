"""Style bank: the bundled bank, user folders indexed on first use, and clear errors for bad banks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from stylizers.style_bank import INDEX_NAME, StyleBank, StyleBankError


def test_bundled_bank_has_peeps_and_twelve_line_styles_with_provenance():
    bank = StyleBank.open("bundled")
    lines = [e for e in bank.entries if "line-style" in e.tags]
    peeps = [e for e in bank.entries if "open-peeps" in e.tags]
    assert len(lines) >= 12 and len(peeps) >= 12
    for e in bank.entries:
        assert e.source and e.licence.startswith("CC0"), e
        assert (bank.root / e.file).is_file(), e.file
    img = bank.load("charcoal", max_side=128)
    assert img.shape == (128, 128, 3) and img.dtype == np.float32
    assert 0.0 <= img.min() < 0.3 and img.max() > 0.7  # real ink on paper, not a blank image


def test_selection_by_ids_and_tags():
    bank = StyleBank.open("bundled")
    assert bank.select(ids=["pencil_hb", "ink_wash"]).ids() == ["pencil_hb", "ink_wash"]
    assert set(bank.select(tags=["pencil"]).ids()) >= {"pencil_hb", "pencil_soft", "rough_sketch"}
    with pytest.raises(StyleBankError, match="nope"):
        bank.select(ids=["nope"])


def _write_images(folder, n, rng):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        arr = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"sketch_{i}.png")


def test_user_folder_is_indexed_on_first_use(tmp_path):
    _write_images(tmp_path / "mine" / "sub", 3, np.random.default_rng(0))
    (tmp_path / "mine" / "notes.txt").write_text("not an image")
    bank = StyleBank.open(tmp_path / "mine")
    assert bank.ids() == ["sub/sketch_0", "sub/sketch_1", "sub/sketch_2"]
    index = json.loads((tmp_path / "mine" / INDEX_NAME).read_text())
    assert [e["file"] for e in index["images"]] == ["sub/sketch_0.png", "sub/sketch_1.png", "sub/sketch_2.png"]
    assert not list((tmp_path / "mine").glob("*.tmp"))  # atomic write left no temp file
    # Second open reads the index (a new image is not picked up until the index is deleted).
    _write_images(tmp_path / "mine" / "later", 1, np.random.default_rng(1))
    assert len(StyleBank.open(tmp_path / "mine")) == 3
    assert StyleBank.open(tmp_path / "mine").load("sub/sketch_1", 64).shape == (64, 48, 3)


def test_missing_bank_is_a_clear_error(tmp_path):
    with pytest.raises(StyleBankError, match=r"does not exist.*style.bank"):
        StyleBank.open(tmp_path / "absent")


def test_empty_bank_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(StyleBankError, match="holds no images"):
        StyleBank.open(tmp_path / "empty")


def test_unreadable_bank_is_a_clear_error(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG not really")
    (folder / "b.jpg").write_bytes(b"garbage")
    with pytest.raises(StyleBankError, match="none of its 2 image files can be read"):
        StyleBank.open(folder)


def test_corrupt_index_and_vanished_image_are_clear_errors(tmp_path):
    folder = tmp_path / "bank"
    _write_images(folder, 2, np.random.default_rng(2))
    StyleBank.open(folder)
    (folder / "sketch_1.png").write_bytes(b"truncated")
    with pytest.raises(StyleBankError, match=r"sketch_1.*cannot be read"):
        StyleBank.open(folder).load("sketch_1")
    (folder / INDEX_NAME).write_text("{not json")
    with pytest.raises(StyleBankError, match="not a valid style index"):
        StyleBank.open(folder)


def test_a_file_instead_of_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "style.png").write_bytes(b"x")
    with pytest.raises(StyleBankError, match="not a folder"):
        StyleBank.open(tmp_path / "style.png")
