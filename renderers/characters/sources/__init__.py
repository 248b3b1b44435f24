"""Character sources: one module per kind of character a run can name (a bundled catalogue
character, a Mixamo file), each registering a
:class:`renderers.characters.sources.base.CharacterSource` in
:data:`renderers.characters.sources.registry.CHARACTER_SOURCES` under its ``kind``.

Adding a source is adding one module here (found on the registry's first lookup) and, to use it
in a run, one ``configs/motion/*.yaml`` naming its characters.
"""
