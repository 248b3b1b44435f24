"""A stylize step of a run: one named stylized copy of the raw renders (used by the pipeline and
the evaluate flows, which both make stylized datasets from ``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stylizers.config import StyleConfig, stylizer_config


@dataclass
class StylizeStep:
    """One stylized copy of the raw renders, written to ``<out>/<name>/``."""

    name: str = "adain_1"
    stylizer: Any = field(default_factory=lambda: {"name": "adain"})  # a StylizerConfig or its mapping
    style: StyleConfig = field(default_factory=StyleConfig)

    def __post_init__(self) -> None:
        self.stylizer = stylizer_config(self.stylizer)
