"""Sources: the kinds of character and motion a run's config can name (bpy-free config side).

A source is a class registered under its ``kind`` (``renderers.characters.sources``,
``renderers.motions.sources``). :func:`parse_spec` asks every registered source in turn whether
it claims a config string, so a new kind is one new module. Worker-side methods (``load`` for
characters, ``apply`` for motions) are defined by each family's base class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from rig2sketch.registry import Registry


def looks_like_path(text: str) -> bool:
    """Whether a config string names a file (has a directory separator or a suffix)."""
    return "/" in text or "\\" in text or Path(text).suffix != ""


def existing_file(text: str, suffixes: tuple[str, ...], what: str) -> str:
    """The absolute path ``text`` names; ValueError unless it has one of ``suffixes`` and exists."""
    path = Path(text).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{what} {text!r}: a {what} file must end in {' or '.join(suffixes)}")
    if not path.is_file():
        raise ValueError(f"{what} file {str(path)!r} does not exist; check the path")
    return str(path.resolve())


class Source(ABC):
    """``kind``: the name a spec stores. ``suffixes``: the file suffixes (lower case) a file source
    reads; ``hint``: how a config names a source that is not a file (for error messages)."""

    kind: str = ""
    what: str = ""  # "character" or "motion", set by each family's base class
    suffixes: tuple[str, ...] = ()
    hint: str = ""

    @abstractmethod
    def parse(self, text: str, **options: Any) -> Any:
        """The spec for config string ``text`` (stripped) when it names this source, else None;
        ValueError when it names this source wrongly (a bad count, a missing file)."""

    @abstractmethod
    def spec(self, name: str, **options: Any) -> Any:
        """The spec this source makes for ``name`` (a family's base class says which type)."""

    def label(self, spec: Any) -> str:
        """Short name for shard rows: a file's stem, else the spec's name."""
        return Path(spec.name).stem if self.suffixes else spec.name


class NamedSource(Source):
    """A source whose config strings are names from a list (bundled characters, clips);
    ``title`` says what they are in error messages (``a clip``)."""

    title: str = ""

    @abstractmethod
    def names(self) -> list[str]:
        """The names a config may use."""

    @property
    def hint(self) -> str:
        return f"{self.title} ({', '.join(self.names())})"

    def parse(self, text: str, **options: Any) -> Any:
        return self.spec(text) if not looks_like_path(text) and text in self.names() else None


class FileSource(Source):
    """A source whose config strings are paths to files with one of ``suffixes``; the file must
    exist and its first bytes must pass :meth:`header_problem` (checked when the config is parsed,
    before any worker starts)."""

    def parse(self, text: str, **options: Any) -> Any:
        if not looks_like_path(text) or Path(text).suffix.lower() not in self.suffixes:
            return None
        path = existing_file(text, self.suffixes, self.what)
        if problem := self.header_problem(path):
            raise ValueError(f"{self.what} file {path!r} {problem}")
        return self.spec(path, **options)

    def header_problem(self, path: str) -> str | None:
        """Why the file's first bytes say it is not this kind of file (None: plausible)."""
        return None


def parse_spec(registry: Registry, what: str, text: str, **options: Any) -> Any:
    """The spec of the first source in ``registry`` (name order) that claims ``text``;
    ValueError naming what a config may write otherwise."""
    text = str(text).strip()
    sources = [registry.get(name)() for name in registry.names()]
    for source in sources:
        spec = source.parse(text, **options)
        if spec is not None:
            return spec
    suffixes = " or ".join(s for source in sources for s in source.suffixes)
    if looks_like_path(text):
        raise ValueError(f"{what} {text!r}: a {what} file must end in {suffixes}")
    hints = ", ".join(s.hint for s in sources if s.hint)
    raise ValueError(f"unknown {what} {text!r}; choose {hints}, or a path to a {suffixes} file")
