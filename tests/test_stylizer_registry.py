"""Adding a stylizer is one module + one YAML: a toy stylizer from a temporary module, discovered like the
bundled ones, composed by Hydra from its own YAML and schema, run by ``rig2sketch stylize``; and the
trainer registry dispatches ``train-stylizer`` by name."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest

import stylizers
from app.cli import compose, main
from shards import ShardWriter, decode_png
from stylizers.base import STYLIZERS
from stylizers.config import STYLIZER_CONFIGS, STYLIZER_TRAINERS, import_stylizer_modules
from tests.test_stylizers_flow import render_rows

TOY_MODULE = '''
"""A toy stylizer: the render's ink takes the mean colour of the style image, scaled by ``strength``."""
from dataclasses import dataclass
from typing import ClassVar

import torch

from stylizers.base import STYLIZERS, Stylizer
from stylizers.config import STYLIZER_CONFIGS, Capabilities, StylizerConfig


@STYLIZER_CONFIGS.register("toy_tint")
@dataclass
class ToyTintConfig(StylizerConfig):
    name: str = "toy_tint"
    strength: float = 1.0
    capabilities: ClassVar[Capabilities] = Capabilities(style_images=True, alpha=False, trainable=False, data="none")


class ToyTint(Stylizer):
    name = "toy_tint"

    def __init__(self, strength: float) -> None:
        self.strength = strength

    def embed_styles(self, style_images):
        return style_images.mean((2, 3))

    def stylize(self, content, codes, weights):
        tint = (weights @ codes)[..., None, None]
        return content + (1 - content) * tint * self.strength  # white stays white, ink -> tint * strength

    def to(self, device, dtype, memory_format=torch.contiguous_format):
        return self

    def params(self):
        return {"strength": self.strength}


@STYLIZERS.register("toy_tint")
def build_toy(cfg: ToyTintConfig) -> ToyTint:
    return ToyTint(cfg.strength)
'''


@pytest.fixture()
def toy(tmp_path, monkeypatch):
    """``stylizers.toy_tint`` in a temporary folder on the package path + ``configs/stylizer/toy_tint.yaml``
    in a temporary config folder; registries and modules restored afterwards."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "toy_tint.py").write_text(TOY_MODULE)
    (tmp_path / "conf" / "stylizer").mkdir(parents=True)
    (tmp_path / "conf" / "stylizer" / "toy_tint.yaml").write_text(textwrap.dedent("""\
        name: toy_tint
        strength: 0.5
        device: cpu
        batch_size: 2
        style_size: 64
    """))
    # Every real stylizer registers first: a module first imported while the copies below are in place
    # would register into them only and be missing once they are restored (and never re-register).
    import_stylizer_modules()
    monkeypatch.setattr(stylizers, "__path__", [*stylizers.__path__, str(tmp_path / "pkg")])
    for registry in (STYLIZERS, STYLIZER_CONFIGS):
        monkeypatch.setattr(registry, "_items", dict(registry._items))
    yield f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    sys.modules.pop("stylizers.toy_tint", None)


def test_a_toy_stylizer_from_a_temporary_module_and_yaml_runs(prefect_harness, toy, tmp_path):
    raw = tmp_path / "raw"
    with ShardWriter(raw / "job-0000.parquet", metadata={"config_hash": "abc", "seed": 1}) as w:
        for row in render_rows([(64, 64), (61, 67)]):
            w.write(row)
    cfg = compose("stylize", [toy, "stylizer=toy_tint", f"dataset={raw}", "out=x"])
    assert type(cfg.stylizer).__name__ == "ToyTintConfig" and cfg.stylizer.strength == 0.5
    assert not cfg.stylizer.capabilities.alpha
    out = tmp_path / "toy"
    code = main(["stylize", toy, "stylizer=toy_tint", "stylizer.strength=1.0", f"dataset={raw}", f"out={out}",
                 "style.ids=[ink_wash]", "contact_sheet=0"])
    assert code == 0
    src = pq.read_table(raw / "job-0000.parquet").to_pylist()
    dst = pq.read_table(out / "job-0000.parquet").to_pylist()
    assert [r["stylizer"] for r in dst] == ["toy_tint", "toy_tint"] and '"strength": 1.0' in dst[0]["params"]
    # Schema v2 image columns are {bytes, path} structs in plain pyarrow.
    before, after = (decode_png(rows[1]["image"]["bytes"]).astype(float) for rows in (src, dst))
    assert after.shape == before.shape
    white = before.min(2) == 255
    assert np.abs(after[white] - 255).max() <= 1  # paper stays white
    ink = before.max(2) == 0
    assert ink.any() and after[ink].mean() > 100  # ink took the (light) mean colour of the style image


def test_a_typo_in_the_toy_stylizer_settings_fails_with_one_line(toy, tmp_path, capsys):
    assert main(["stylize", toy, "stylizer=toy_tint", "+stylizer.strenght=2", "dataset=a", "out=b"]) == 2
    err = capsys.readouterr().err
    assert "stylizer.strenght: not a setting of ToyTintConfig; allowed: name, device, batch_size, style_size, strength" in err


def test_train_stylizer_dispatches_through_the_trainer_registry(toy):
    cfg = compose("train-stylizer", ["train.steps=3"])
    assert type(cfg.train).__name__ == "TrainStylizerConfig" and cfg.train.steps == 3
    assert "adain" in STYLIZER_TRAINERS
    with pytest.raises(Exception, match="stylizer='toy_tint' has no trainer; train-stylizer supports: adain"):
        compose("train-stylizer", [toy, "stylizer=toy_tint"])
    cfg = compose("train-stylizer", ["stylizer=multistyle", "injection=concat"])
    assert type(cfg.train).__name__ == "MultiStyleTrainConfig" and (cfg.train.injection, cfg.train.init) == ("concat", "scratch")
    with pytest.raises(Exception, match="injection=concat: stylizer=adain has no injection choice"):
        compose("train-stylizer", ["injection=concat"])
