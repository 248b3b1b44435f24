"""Motions for Mixamo-skeleton characters: the clip library, a random pose sampler, and
(in worker processes) applying a motion to a character. Bone-axis conventions:
``renderers.motions.clip``.
"""

from __future__ import annotations

from renderers.motions.clip import CLIPS, Clip, Key
from renderers.motions.pose import Pose

_built = False


def _library() -> None:
    global _built
    if not _built:
        from renderers.motions.library import build_library

        build_library()
        _built = True


def clip_names() -> list[str]:
    """Names of the bundled clips, sorted."""
    _library()
    return CLIPS.names()


def get_clip(name: str) -> Clip:
    """The bundled clip called ``name``; KeyError listing the clip names otherwise."""
    _library()
    return CLIPS.get(name)


__all__ = ["Clip", "Key", "Pose", "clip_names", "get_clip"]
