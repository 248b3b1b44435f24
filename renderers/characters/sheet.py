"""Contact sheet: every bundled character in T-pose and in a few motions, keypoints drawn on.

:func:`draw_character_sheet` draws it; :func:`characters_command` is the ``rig2sketch
characters`` entry (takes a ``renderers.characters.config.CharacterSheetConfig``).

Each character row is one job in its own Python process (``python -m
renderers.characters.sheet row ...``): reset Blender, load the character and motions through
``renderers.selection`` and ``renderers.blender.keying`` (so Mixamo files work too), render
with Workbench, project the COCO keypoints with Blender's
``bpy_extras.object_utils.world_to_camera_view`` and draw them. The parent pastes the rows.

Colours (``rig2sketch.drawing.draw_pose``): the character's left blue, right orange, centre
green. Seen from the front (the T-pose column) the character's left is on the image's right;
motion columns are seen from 30 degrees to the character's left-front.
"""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from renderers.process import run_worker
from rig2sketch.atomic import atomic_path


DEFAULT_MOTIONS = ("walk", "wave", "kick")
def draw_character_sheet(out_png: Path, characters: list[str], motions: list[str] | None, size: int,
                         seed: int = 0, workers: int = 2) -> Path:
    """Write a contact sheet PNG: one row per character (T-pose, then ``motions``).

    characters: catalogue names or Mixamo ``.fbx``/``.blend`` paths (empty list = the whole
    catalogue). motions: clip names, ``.fbx``/``.bvh`` paths or ``random_poses``; ``None`` = the
    default three (walk, wave, kick), ``[]`` = T-pose only. size: panel side in pixels
    (64..1024). seed: for ``random_poses``. Each row renders in its own process, ``workers``
    at a time; the sheet is written atomically. Returns ``out_png``.
    """
    from PIL import Image

    from renderers.characters.catalogue import CHARACTER_NAMES
    from renderers.selection import CharacterSpec, MotionSpec
    from rig2sketch.drawing import grid

    if not 64 <= size <= 1024:
        raise ValueError(f"size={size} must be in 64..1024 pixels")
    names = list(characters) or list(CHARACTER_NAMES)
    labels_by_row = [CharacterSpec.parse(c).label for c in names]  # errors before any process
    motions = list(DEFAULT_MOTIONS) if motions is None else list(motions)
    motion_labels = [MotionSpec.parse(m).label for m in motions]
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [Path(tmp) / f"row{k}.png" for k in range(len(names))]

        def job(k: int) -> None:
            run_worker("renderers.blender.sheet", ["row", names[k], json.dumps(motions), str(size), str(seed),
                                                       str(rows[k])], f"rendering character {names[k]!r}")

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(job, range(len(names))))
        columns = 1 + len(motions)
        panels, labels = [], []
        for label, row_png in zip(labels_by_row, rows):
            strip = np.asarray(Image.open(row_png).convert("RGB"))
            panels += np.split(strip, columns, axis=1)
            labels += [f"{label} {m}" for m in ("T-pose", *motion_labels)]
        sheet = grid(panels, columns, cell=size, labels=labels)
        with atomic_path(out_png) as partial:
            Image.fromarray(sheet).save(partial)
    return out_png


def characters_command(cfg) -> Path:
    """``rig2sketch characters``: draw the sheet described by a ``CharacterSheetConfig``."""
    return draw_character_sheet(Path(cfg.out), list(cfg.characters), list(cfg.motions), cfg.size,
                                seed=cfg.seed, workers=cfg.workers)
