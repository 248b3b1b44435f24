"""The bundled character catalogue: named CC0 MakeHuman bodies with outfits (bpy-free).

Each entry is a :class:`CharacterSpec`: a :class:`BodyShape` (MakeHuman macro sliders), the
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
class CharacterSpec:
    """A bundled character. garments: kinds from ``GARMENTS`` (at most one per slot)."""

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


def _spec(name, description, shape, garments, skin, colours) -> CharacterSpec:
    return CharacterSpec(name, shape, garments, skin, colours, description)


LIGHT, MEDIUM, TAN, DARK = (0.87, 0.72, 0.62), (0.76, 0.57, 0.45), (0.6, 0.42, 0.3), (0.36, 0.24, 0.17)

CATALOGUE: tuple[CharacterSpec, ...] = (
    _spec("ada", "adult woman, average build", BodyShape(gender=0.0, age_years=28, caucasian=0.8, african=0.1, asian=0.1),
          ("tshirt", "skirt", "long_hair"), LIGHT, ((0.8, 0.2, 0.2), (0.15, 0.2, 0.45), (0.35, 0.2, 0.1))),
    _spec("ben", "adult man, average build", BodyShape(gender=1.0, age_years=32, height=0.55),
          ("longsleeve", "trousers", "short_hair"), MEDIUM, ((0.2, 0.45, 0.7), (0.25, 0.25, 0.28), (0.1, 0.08, 0.06))),
    _spec("chloe", "girl of nine, slim", BodyShape(gender=0.0, age_years=9.5, weight=0.35, height=0.45, asian=0.7, caucasian=0.2, african=0.1),
          ("tshirt", "shorts", "bob"), LIGHT, ((0.95, 0.75, 0.2), (0.3, 0.5, 0.8), (0.08, 0.06, 0.05))),
    _spec("dev", "boy of eleven", BodyShape(gender=1.0, age_years=11, weight=0.45, height=0.45, asian=0.4, african=0.2, caucasian=0.4),
          ("tshirt", "shorts", "short_hair"), TAN, ((0.2, 0.6, 0.3), (0.4, 0.35, 0.3), (0.05, 0.04, 0.03))),
    _spec("eli", "teenage boy, slim and tall for his age", BodyShape(gender=1.0, age_years=15, weight=0.25, muscle=0.4, height=0.6),
          ("longsleeve", "trousers", "bob"), LIGHT, ((0.6, 0.6, 0.62), (0.12, 0.16, 0.3), (0.6, 0.45, 0.2))),
    _spec("fay", "heavy adult woman", BodyShape(gender=0.0, age_years=40, weight=0.95, muscle=0.4, african=0.7, caucasian=0.15, asian=0.15),
          ("tshirt", "long_skirt", "short_hair"), DARK, ((0.55, 0.2, 0.6), (0.9, 0.85, 0.7), (0.05, 0.04, 0.04))),
    _spec("gus", "heavy older man", BodyShape(gender=1.0, age_years=62, weight=0.95, muscle=0.35, height=0.45),
          ("tshirt", "trousers", "short_hair"), MEDIUM, ((0.85, 0.85, 0.8), (0.3, 0.22, 0.15), (0.7, 0.7, 0.7))),
    _spec("hana", "tall slim woman", BodyShape(gender=0.0, age_years=24, weight=0.15, muscle=0.45, height=0.68, asian=0.8, caucasian=0.1, african=0.1),
          ("tank", "trousers", "long_hair"), LIGHT, ((0.1, 0.1, 0.1), (0.7, 0.6, 0.45), (0.05, 0.04, 0.03))),
    _spec("ivan", "tall muscular man", BodyShape(gender=1.0, age_years=27, weight=0.6, muscle=0.95, height=0.62, caucasian=0.9, african=0.05, asian=0.05),
          ("tank", "shorts", "short_hair"), LIGHT, ((0.9, 0.9, 0.9), (0.15, 0.15, 0.5), (0.45, 0.3, 0.15))),
    _spec("june", "older woman, small", BodyShape(gender=0.0, age_years=75, weight=0.55, muscle=0.3, height=0.4),
          ("longsleeve", "long_skirt", "bob"), MEDIUM, ((0.45, 0.55, 0.4), (0.3, 0.3, 0.35), (0.85, 0.85, 0.85))),
    _spec("kofi", "slim young man", BodyShape(gender=1.0, age_years=21, weight=0.2, muscle=0.6, height=0.58, african=0.9, asian=0.05, caucasian=0.05),
          ("tshirt", "trousers", "short_hair"), DARK, ((0.95, 0.5, 0.1), (0.2, 0.2, 0.22), (0.03, 0.03, 0.03))),
    _spec("lena", "teenage girl", BodyShape(gender=0.0, age_years=14, weight=0.4, height=0.6, caucasian=0.6, asian=0.2, african=0.2),
          ("longsleeve", "skirt", "long_hair"), LIGHT, ((0.6, 0.8, 0.9), (0.25, 0.25, 0.25), (0.75, 0.55, 0.25))),
    _spec("milo", "small boy of ten", BodyShape(gender=0.9, age_years=10, weight=0.55, height=0.5, african=0.5, caucasian=0.3, asian=0.2),
          ("tank", "trousers", "short_hair"), TAN, ((0.85, 0.2, 0.3), (0.3, 0.45, 0.3), (0.04, 0.03, 0.03))),
    _spec("nora", "athletic woman", BodyShape(gender=0.0, age_years=30, weight=0.4, muscle=0.85, height=0.6, african=0.4, caucasian=0.4, asian=0.2),
          ("tank", "shorts", "bob"), TAN, ((0.2, 0.7, 0.7), (0.1, 0.1, 0.12), (0.2, 0.12, 0.06))),
)

CHARACTER_NAMES: tuple[str, ...] = tuple(c.name for c in CATALOGUE)


def character_spec(name: str) -> CharacterSpec:
    """The catalogue entry called ``name`` (raises ValueError listing the names otherwise)."""
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown bundled character {name!r}; choose one of {', '.join(CHARACTER_NAMES)}")
