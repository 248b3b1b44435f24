"""The style bank: a folder of style images plus ``index.json`` (id, file, source, licence, tags).

The bundled bank is ``data/styles`` (Open Peeps figures + generated line styles, see its README). A user
folder of sketches without an index is indexed on first use: every readable image under it becomes an
entry (id = relative path without suffix, source = the folder, licence ``unknown (user supplied)``), and
the index is written atomically into the folder (kept in memory when the folder is read-only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from rig2sketch.atomic import write_json_atomic
from rig2sketch.images import ImageError, image_size, load_image
from rig2sketch.safe_paths import UnsafePathError, contained
from stylizers.config import BUNDLED

BUNDLED_BANK = Path(__file__).resolve().parents[1] / "data" / "styles"
INDEX_NAME = "index.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


MIN_SIDE = 16  # smaller images carry no texture to transfer


class StyleBankError(ValueError):
    """A style bank that cannot be used (missing, empty, unreadable, bad index)."""


@dataclass(frozen=True)
class StyleEntry:
    id: str
    file: str
    source: str
    licence: str
    tags: tuple[str, ...] = ()


@dataclass
class StyleBank:
    root: Path
    entries: list[StyleEntry]
    _by_id: dict[str, StyleEntry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.entries}
        if len(self._by_id) != len(self.entries):
            raise StyleBankError(f"{self.root / INDEX_NAME}: style ids are not unique")
        for entry in self.entries:  # refuse an index naming files outside the bank before any run
            self.path_of(entry.id)

    @classmethod
    def open(cls, bank: str | Path = BUNDLED) -> "StyleBank":
        """Open ``bundled`` or a folder; index the folder on first use. Raises ``StyleBankError``."""
        root = BUNDLED_BANK if str(bank) == BUNDLED else Path(bank).expanduser()
        if not root.exists():
            raise StyleBankError(f"style bank {root} does not exist; set style.bank=bundled or to a folder of "
                                 "style images (png/jpg)")
        if not root.is_dir():
            raise StyleBankError(f"style bank {root} is not a folder; set style.bank to a folder of style images")
        index = root / INDEX_NAME
        if index.is_file():
            try:
                data = json.loads(index.read_text())
                entries = [StyleEntry(e["id"], e["file"], e.get("source", ""), e.get("licence", "unknown"),
                                      tuple(e.get("tags", ()))) for e in data["images"]]
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise StyleBankError(f"{index} is not a valid style index ({err}); delete it to re-index "
                                     "the folder") from err
        else:
            entries = index_folder(root)
        if not entries:
            raise StyleBankError(f"style bank {root} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                                 "add style images or set style.bank=bundled")
        return cls(root, entries)

    def path_of(self, style_id: str) -> Path:
        """The file of ``style_id``, resolved; ``StyleBankError`` if the index names one outside the bank."""
        try:
            return contained(self.root, self._by_id[style_id].file, f"{self.root / INDEX_NAME}: style "
                             f"{style_id!r} file", fix=f"name a file inside the bank or delete {INDEX_NAME} to re-index")
        except UnsafePathError as err:
            raise StyleBankError(str(err)) from None

    def __len__(self) -> int:
        return len(self.entries)

    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def select(self, ids: list[str] | tuple[str, ...] = (), tags: list[str] | tuple[str, ...] = ()) -> "StyleBank":
        """The sub-bank of the given ids (all if empty) having any of ``tags`` (any if empty)."""
        unknown = [i for i in ids if i not in self._by_id]
        if unknown:
            raise StyleBankError(f"style ids {unknown} are not in {self.root}; known: {', '.join(self.ids())}")
        chosen = [self._by_id[i] for i in ids] if ids else list(self.entries)
        if tags:
            chosen = [e for e in chosen if set(tags) & set(e.tags)]
        if not chosen:
            raise StyleBankError(f"no style in {self.root} matches ids={list(ids)} tags={list(tags)}")
        return StyleBank(self.root, chosen)

    def load(self, style_id: str, max_side: int = 256) -> np.ndarray:
        """The style image as ``H, W, 3`` float32 RGB in [0, 1], longer side resized to ``max_side``."""
        path = self.path_of(style_id)
        try:
            width, height = image_size(path, min_side=1)
            if min(width, height) < MIN_SIDE:
                raise StyleBankError(f"style image {path} (id {style_id!r}) is {width}x{height} px: style "
                                     f"images need at least {MIN_SIDE} px per side; replace or remove it")
            im = Image.fromarray(load_image(path))
            scale = max_side / max(im.size)
            size = (max(8, round(im.width * scale)), max(8, round(im.height * scale)))
            im = im.resize(size, Image.Resampling.LANCZOS)
            return np.asarray(im, np.float32) / 255.0
        except ImageError as err:
            raise StyleBankError(f"style image {path} (id {style_id!r}) cannot be read ({err}); fix or remove "
                                 f"it and delete {self.root / INDEX_NAME} to re-index") from err


def index_folder(root: Path) -> list[StyleEntry]:
    """Index every readable image under ``root``; write ``index.json`` atomically when the folder allows."""
    entries, bad = [], []
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
        rel = path.relative_to(root).as_posix()
        try:
            with Image.open(path) as im:
                im.verify()
        except (OSError, UnidentifiedImageError):
            bad.append(rel)
            continue
        entries.append(StyleEntry(rel.rsplit(".", 1)[0], rel, f"user folder {root}", "unknown (user supplied)",
                                  ("user",)))
    if bad and not entries:
        raise StyleBankError(f"style bank {root}: none of its {len(bad)} image files can be read "
                             f"(e.g. {bad[0]}); they may be corrupt or not images")
    if entries:
        data = {"version": 1, "generator": "stylizers.style_bank.index_folder", "unreadable": bad,
                "images": [{"id": e.id, "file": e.file, "source": e.source, "licence": e.licence,
                            "tags": list(e.tags)} for e in entries]}
        try:
            write_json_atomic(root / INDEX_NAME, data)
        except OSError:
            pass  # read-only folder: the in-memory index serves this run
    return entries


