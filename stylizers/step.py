"""A stylize step of a run: one named stylized copy of the raw renders (used by the pipeline and
the evaluate flows, which both make stylized datasets from ``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from stylizers.config import AdaINConfig, StyleConfig


@dataclass
class StylizeStep:
    """One stylized copy of the raw renders, written to ``<out>/<name>/``."""

    name: str = "adain_1"
    stylizer: AdaINConfig = field(default_factory=AdaINConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
