"""A tiny name -> factory registry for sibling implementations chosen by config, and the
``module:name`` references config uses to name code directly."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories; ``@registry.register("name")`` refuses duplicate names.

    ``discover``: a package whose modules register themselves here; they are imported on the
    first lookup (never at import time), so adding an entry is adding one module to it.
    """

    def __init__(self, kind: str, discover: str = "") -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._discover = discover

    def _discovered(self) -> dict[str, T]:
        if self._discover:
            package, self._discover = importlib.import_module(self._discover), ""
            for info in pkgutil.iter_modules(package.__path__):
                importlib.import_module(f"{package.__name__}.{info.name}")
        return self._items

    def register(self, name: str) -> Callable[[T], T]:
        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return add

    def get(self, name: str) -> T:
        items = self._discovered()
        if name not in items:
            raise KeyError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(sorted(items))}")
        return items[name]

    def names(self) -> list[str]:
        return sorted(self._discovered())

    def __contains__(self, name: object) -> bool:
        return name in self._discovered()


def resolve_ref(ref: str) -> Any:
    """The object a ``"package.module:name"`` reference names (importing the module)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)
