"""Bundled CC0 characters: MakeHuman bodies on the Mixamo skeleton (see data/characters/README.md).

bpy-free: ``catalogue`` (named specs), ``makehuman`` (data loading, morph targets), ``body``
(shaped T-posed body, joints, weights, face regressor), ``garments`` (clothes and hair shells).
Render workers only (the Blender wing): ``renderers.blender.characters.build_bundled_character``;
``sheet.draw_character_sheet`` runs its rows there.
"""

from renderers.characters.catalogue import CATALOGUE, CHARACTER_NAMES, CharacterDesign, character_design

__all__ = ["CATALOGUE", "CHARACTER_NAMES", "CharacterDesign", "character_design"]
