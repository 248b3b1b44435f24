"""A stylize step of a run: one named stylized copy of the raw renders (used by the pipeline and
the evaluate flows, which both make stylized datasets from ``raw``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stylizers.config import FidelityGate, StyleConfig, stylizer_config, typed_config


@dataclass
class StylizeStep:
    """One stylized copy of the raw renders, written to ``<out>/<name>/``. ``metrics``: also score the
    stylization (content/style loss, Fréchet distance at the step's alpha and at alpha=0; the stylizer
    runs twice more on ``StylizeConfig.metrics_samples`` renders, minutes on a CPU); false skips it.
    ``fidelity``: flag or drop stylized rows on which the pose model no longer finds the labelled pose."""

    name: str = "adain_1"
    stylizer: Any = field(default_factory=lambda: {"name": "adain"})  # a StylizerConfig or its mapping
    style: StyleConfig = field(default_factory=StyleConfig)
    metrics: bool = True
    fidelity: FidelityGate = field(default_factory=FidelityGate)

    def __post_init__(self) -> None:
        self.stylizer = stylizer_config(self.stylizer)
        if not isinstance(self.fidelity, FidelityGate):
            self.fidelity = typed_config(FidelityGate, self.fidelity, "fidelity")
