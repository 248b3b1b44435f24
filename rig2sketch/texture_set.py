"""The PBR texture-set contract: what a folder of material maps holds, written and read in one
place (the torch optimiser writes it, the Blender wing reads it into Principled BSDF materials).

A texture set is a folder with ``material.json`` and, for every part (one per mesh of the
character: ``body``, ``top``, ``bottom``, ``hair``, ``eyes``...), four square PNG maps of one
size ``S``:

- ``<part>_albedo.png``: ``S, S, 3`` uint8, sRGB-encoded base colour (Blender: sRGB colour space)
- ``<part>_normal.png``: ``S, S, 3`` uint8, tangent-space normal, ``(n + 1) / 2`` with +Z out of
  the surface, OpenGL convention (+Y along the UV map's +v), as Blender's Normal Map node reads it
- ``<part>_roughness.png``, ``<part>_metallic.png``: ``S, S`` uint8 linear values (Non-Color)

A *texture library* is a folder of texture sets by character (:func:`texture_set_for`).
Row 0 of every PNG is the top of the image, i.e. UV ``v = 1`` (Blender's image convention).
``material.json``: ``{"format", "character", "size", "parts", "maps": {part: {map: file}},
"specular_ior_level", "params"}``. Arrays in memory are float32 in [0, 1], ``S, S, C``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from rig2sketch.atomic import write_bytes_atomic, write_json_atomic
from rig2sketch.safe_paths import check_name

FORMAT = "rig2sketch.pbr/1"
MAPS: dict[str, int] = {"albedo": 3, "normal": 3, "roughness": 1, "metallic": 1}  # map -> channels
MATERIAL_FILE = "material.json"


@dataclass
class TextureSet:
    """Maps per part: ``maps[part][name]`` is ``S, S, C`` float32 in [0, 1] (C from :data:`MAPS`)."""

    character: str
    maps: dict[str, dict[str, np.ndarray]]
    specular_ior_level: float = 0.5
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def parts(self) -> list[str]:
        return list(self.maps)

    @property
    def size(self) -> int:
        first = next(iter(self.maps.values()))
        return int(first["albedo"].shape[0])

    def check(self) -> None:
        """Raise ValueError naming the first part or map that is missing or misshapen."""
        if not self.maps:
            raise ValueError("texture set has no parts; give at least one part's four maps")
        size = self.size
        for part, maps in self.maps.items():
            check_name(part, "texture part name")
            for name, channels in MAPS.items():
                if name not in maps:
                    raise ValueError(f"texture set part {part!r} lacks its {name} map; give all of {list(MAPS)}")
                shape = maps[name].shape
                want = (size, size, channels)
                if shape != want:
                    raise ValueError(f"texture set map {part}/{name} is {shape}, expected {want} (square, one size)")


def _png(array: np.ndarray) -> bytes:
    data = np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    image = Image.fromarray(data[..., 0] if data.shape[-1] == 1 else data)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_texture_set(textures: TextureSet, folder: str | Path) -> Path:
    """Write ``textures`` into ``folder`` (each file atomically, ``material.json`` last, so a
    folder with a ``material.json`` is complete). Returns the ``material.json`` path."""
    textures.check()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    for part, maps in textures.maps.items():
        files[part] = {}
        for name in MAPS:
            file = f"{part}_{name}.png"
            write_bytes_atomic(folder / file, _png(maps[name]))
            files[part][name] = file
    meta = {"format": FORMAT, "character": textures.character, "size": textures.size,
            "parts": textures.parts, "maps": files, "specular_ior_level": textures.specular_ior_level,
            "params": textures.params}
    return write_json_atomic(folder / MATERIAL_FILE, meta)


def read_material(folder: str | Path) -> dict[str, Any]:
    """``material.json`` of a texture-set folder, checked; map file names resolved to paths inside
    ``folder``. Raises ValueError naming the folder and what is wrong."""
    folder = Path(folder)
    path = folder / MATERIAL_FILE
    if not path.is_file():
        raise ValueError(f"{folder} is not a texture set: it has no {MATERIAL_FILE}; "
                         "make one with 'rig2sketch stylize-textures'")
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not {FORMAT!r}")
    paths: dict[str, dict[str, Path]] = {}
    for part in meta["parts"]:
        check_name(part, "texture part name")
        paths[part] = {}
        for name in MAPS:
            file = meta["maps"].get(part, {}).get(name)
            if file is None:
                raise ValueError(f"{path}: part {part!r} has no {name} map; a texture set needs {list(MAPS)}")
            check_name(file, f"{part} {name} map file name")
            full = folder / file
            if not full.is_file():
                raise ValueError(f"{path}: the {part} {name} map {file} is missing from {folder}")
            paths[part][name] = full
    meta["paths"] = paths
    return meta


def texture_set_for(library: str | Path, character: str) -> Path | None:
    """The texture-set folder for ``character`` in ``library``: ``library`` itself when it is a
    texture set made for that character, else ``library/<character>/textures`` or
    ``library/<character>`` (the layout ``rig2sketch stylize-textures out=library/<character>``
    writes); None when there is none."""
    library = Path(library)
    check_name(character, "character name")
    if (library / MATERIAL_FILE).is_file():
        return library if read_material(library)["character"] == character else None
    for folder in (library / character / "textures", library / character):
        if (folder / MATERIAL_FILE).is_file():
            return folder
    return None


def read_texture_set(folder: str | Path) -> TextureSet:
    """Load a texture-set folder back into a :class:`TextureSet` (the PNGs' 8-bit values)."""
    meta = read_material(folder)
    maps = {}
    for part, files in meta["paths"].items():
        maps[part] = {}
        for name, path in files.items():
            data = np.asarray(Image.open(path), dtype=np.float32) / 255.0
            maps[part][name] = data[..., None] if data.ndim == 2 else data[..., : MAPS[name]]
    textures = TextureSet(meta["character"], maps, float(meta.get("specular_ior_level", 0.5)),
                          dict(meta.get("params", {})))
    textures.check()
    return textures
