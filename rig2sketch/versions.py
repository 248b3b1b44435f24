"""Versions of the packages that shape rig2sketch's outputs (stored in every shard)."""

from __future__ import annotations

from functools import cache
from importlib import metadata

_PACKAGES = ("rig2sketch", "bpy", "numpy", "torch", "pyarrow", "opencv-python-headless", "prefect", "anny")


@cache
def package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out
