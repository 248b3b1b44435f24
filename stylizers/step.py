"""A stylize step of a run: one named stylized copy of the raw renders (used by the pipeline and
the evaluate flows, which both make stylized datasets from ``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stylizers.config import StyleConfig, stylizer_config


@dataclass
class StylizeStep:
    """One stylized copy of the raw renders, written to ``<out>/<name>/``. ``metrics``: also score the
    stylization (content/style loss, Fréchet distance at the step's alpha and at alpha=0; the stylizer
    runs twice more on ``StylizeConfig.metrics_samples`` renders, minutes on a CPU); false skips it."""

    name: str = "adain_1"
    stylizer: Any = field(default_factory=lambda: {"name": "adain"})  # a StylizerConfig or its mapping
    style: StyleConfig = field(default_factory=StyleConfig)
    metrics: bool = True

    def __post_init__(self) -> None:
        self.stylizer = stylizer_config(self.stylizer)
