"""Setup-time assets that come from package registries: ``python -m rig2sketch.assets``.

Runs during ``make setup`` (never at run time). Fetches the BlazePose landmark model that ships
inside the ``mediapipe==0.10.21`` wheel on PyPI (Apache-2.0) without installing mediapipe:
``pip download --no-deps`` the wheel and extract the ``.tflite`` files into ``.cache/models``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from rig2sketch.paths import REPO_ROOT

MODELS_DIR = REPO_ROOT / ".cache" / "models"
MEDIAPIPE = "mediapipe==0.10.21"
BLAZEPOSE_FILES = ("pose_landmark_full.tflite", "pose_landmark_lite.tflite", "pose_landmark_heavy.tflite")


def blazepose_model(name: str = "pose_landmark_full.tflite") -> Path:
    """Path of a fetched BlazePose model; FileNotFoundError says how to fetch it."""
    path = MODELS_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run 'make setup' (or 'python -m rig2sketch.assets') to fetch it")
    return path


def fetch_blazepose() -> list[Path]:
    wanted = [MODELS_DIR / n for n in BLAZEPOSE_FILES]
    if all(p.exists() for p in wanted[:1]):
        return [p for p in wanted if p.exists()]
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "-d", tmp, MEDIAPIPE],
            check=True,
        )
        wheel = next(Path(tmp).glob("mediapipe-*.whl"))
        out = []
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                name = member.rsplit("/", 1)[-1]
                if name in BLAZEPOSE_FILES:
                    target = MODELS_DIR / name
                    tmp_target = target.with_suffix(".tmp")
                    tmp_target.write_bytes(zf.read(member))
                    os.replace(tmp_target, target)
                    out.append(target)
    if not out:
        raise RuntimeError(f"no BlazePose .tflite files found in the {MEDIAPIPE} wheel")
    return out


if __name__ == "__main__":
    for path in fetch_blazepose():
        print(f"BlazePose model: {path} ({path.stat().st_size / 1e6:.1f} MB)")
