"""The bundled character catalogue: named CC0 MakeHuman bodies with outfits (bpy-free).

Each entry is a :class:`CharacterDesign`: a :class:`BodyShape` (MakeHuman macro sliders), the
garments it wears (see ``renderers.characters.garments.GARMENTS``) and flat colours for shaded
renders. The set spans child to old adult, slim to heavy, female to male, and body heights
from about 1.2 m to 1.9 m (``tests/test_characters.py`` checks the span).
"""

from __future__ import annotations

from dataclasses import dataclass

from renderers.characters.garments import GARMENTS
from renderers.characters.makehuman import BodyShape

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class CharacterDesign:
    """A bundled character's design: body shape, garments (kinds from ``GARMENTS``, at most one
    per slot) and flat colours. (A run's *choice* of character is ``renderers.selection.CharacterSpec``.)"""

    name: str
    shape: BodyShape
    garments: tuple[str, ...]
    skin_rgb: RGB = (0.8, 0.62, 0.5)
    colours: tuple[RGB, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        slots = []
        for kind in self.garments:
            if kind not in GARMENTS:
                raise ValueError(
                    f"character {self.name!r}: unknown garment {kind!r}; choose from {sorted(GARMENTS)}"
                )
            slots.append(GARMENTS[kind][1])
        if len(set(slots)) != len(slots):
            raise ValueError(f"character {self.name!r}: two garments in one slot: {self.garments}")
        if self.colours and len(self.colours) != len(self.garments):
            raise ValueError(f"character {self.name!r}: give one colour per garment or none")


LIGHT, MEDIUM, TAN, DARK = (0.87, 0.72, 0.62), (0.76, 0.57, 0.45), (0.6, 0.42, 0.3), (0.36, 0.24, 0.17)

CATALOGUE: tuple[CharacterDesign, ...] = (
    CharacterDesign(
        "ada",
        BodyShape(gender=0.0, age_years=28, african=0.1, asian=0.1, caucasian=0.8),
        ("tshirt", "skirt", "long_hair"),
        skin_rgb=LIGHT,
        colours=((0.8, 0.2, 0.2), (0.15, 0.2, 0.45), (0.35, 0.2, 0.1)),
        description="adult woman, average build",
    ),
    CharacterDesign(
        "ben",
        BodyShape(gender=1.0, age_years=32, height=0.55),
        ("longsleeve", "trousers", "short_hair"),
        skin_rgb=MEDIUM,
        colours=((0.2, 0.45, 0.7), (0.25, 0.25, 0.28), (0.1, 0.08, 0.06)),
        description="adult man, average build",
    ),
    CharacterDesign(
        "chloe",
        BodyShape(gender=0.0, age_years=9.5, weight=0.35, height=0.45, african=0.1, asian=0.7, caucasian=0.2),
        ("tshirt", "shorts", "bob"),
        skin_rgb=LIGHT,
        colours=((0.95, 0.75, 0.2), (0.3, 0.5, 0.8), (0.08, 0.06, 0.05)),
        description="girl of nine, slim",
    ),
    CharacterDesign(
        "dev",
        BodyShape(gender=1.0, age_years=11, weight=0.45, height=0.45, african=0.2, asian=0.4, caucasian=0.4),
        ("tshirt", "shorts", "short_hair"),
        skin_rgb=TAN,
        colours=((0.2, 0.6, 0.3), (0.4, 0.35, 0.3), (0.05, 0.04, 0.03)),
        description="boy of eleven",
    ),
    CharacterDesign(
        "eli",
        BodyShape(gender=1.0, age_years=15, muscle=0.4, weight=0.25, height=0.6),
        ("longsleeve", "trousers", "bob"),
        skin_rgb=LIGHT,
        colours=((0.6, 0.6, 0.62), (0.12, 0.16, 0.3), (0.6, 0.45, 0.2)),
        description="teenage boy, slim and tall for his age",
    ),
    CharacterDesign(
        "fay",
        BodyShape(gender=0.0, age_years=40, muscle=0.4, weight=0.95, african=0.7, asian=0.15, caucasian=0.15),
        ("tshirt", "long_skirt", "short_hair"),
        skin_rgb=DARK,
        colours=((0.55, 0.2, 0.6), (0.9, 0.85, 0.7), (0.05, 0.04, 0.04)),
        description="heavy adult woman",
    ),
    CharacterDesign(
        "gus",
        BodyShape(gender=1.0, age_years=62, muscle=0.35, weight=0.95, height=0.45),
        ("tshirt", "trousers", "short_hair"),
        skin_rgb=MEDIUM,
        colours=((0.85, 0.85, 0.8), (0.3, 0.22, 0.15), (0.7, 0.7, 0.7)),
        description="heavy older man",
    ),
    CharacterDesign(
        "hana",
        BodyShape(gender=0.0, age_years=24, muscle=0.45, weight=0.15, height=0.68, african=0.1, asian=0.8, caucasian=0.1),
        ("tank", "trousers", "long_hair"),
        skin_rgb=LIGHT,
        colours=((0.1, 0.1, 0.1), (0.7, 0.6, 0.45), (0.05, 0.04, 0.03)),
        description="tall slim woman",
    ),
    CharacterDesign(
        "ivan",
        BodyShape(gender=1.0, age_years=27, muscle=0.95, weight=0.6, height=0.62, african=0.05, asian=0.05, caucasian=0.9),
        ("tank", "shorts", "short_hair"),
        skin_rgb=LIGHT,
        colours=((0.9, 0.9, 0.9), (0.15, 0.15, 0.5), (0.45, 0.3, 0.15)),
        description="tall muscular man",
    ),
    CharacterDesign(
        "june",
        BodyShape(gender=0.0, age_years=75, muscle=0.3, weight=0.55, height=0.4),
        ("longsleeve", "long_skirt", "bob"),
        skin_rgb=MEDIUM,
        colours=((0.45, 0.55, 0.4), (0.3, 0.3, 0.35), (0.85, 0.85, 0.85)),
        description="older woman, small",
    ),
    CharacterDesign(
        "kofi",
        BodyShape(gender=1.0, age_years=21, muscle=0.6, weight=0.2, height=0.58, african=0.9, asian=0.05, caucasian=0.05),
        ("tshirt", "trousers", "short_hair"),
        skin_rgb=DARK,
        colours=((0.95, 0.5, 0.1), (0.2, 0.2, 0.22), (0.03, 0.03, 0.03)),
        description="slim young man",
    ),
    CharacterDesign(
        "lena",
        BodyShape(gender=0.0, age_years=14, weight=0.4, height=0.6, african=0.2, asian=0.2, caucasian=0.6),
        ("longsleeve", "skirt", "long_hair"),
        skin_rgb=LIGHT,
        colours=((0.6, 0.8, 0.9), (0.25, 0.25, 0.25), (0.75, 0.55, 0.25)),
        description="teenage girl",
    ),
    CharacterDesign(
        "milo",
        BodyShape(gender=0.9, age_years=10, weight=0.55, african=0.5, asian=0.2, caucasian=0.3),
        ("tank", "trousers", "short_hair"),
        skin_rgb=TAN,
        colours=((0.85, 0.2, 0.3), (0.3, 0.45, 0.3), (0.04, 0.03, 0.03)),
        description="small boy of ten",
    ),
    CharacterDesign(
        "nora",
        BodyShape(gender=0.0, age_years=30, muscle=0.85, weight=0.4, height=0.6, african=0.4, asian=0.2, caucasian=0.4),
        ("tank", "shorts", "bob"),
        skin_rgb=TAN,
        colours=((0.2, 0.7, 0.7), (0.1, 0.1, 0.12), (0.2, 0.12, 0.06)),
        description="athletic woman",
    ),
)

CHARACTER_NAMES: tuple[str, ...] = tuple(c.name for c in CATALOGUE)


def character_design(name: str) -> CharacterDesign:
    """The catalogue entry called ``name`` (raises ValueError listing the names otherwise)."""
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown bundled character {name!r}; choose one of {', '.join(CHARACTER_NAMES)}")
