"""Train/val/test splits of a render run, decided before any job runs (bpy-free).

``by`` names what is held out: ``character``, ``motion`` or ``camera`` (a camera slot: ``ring03``
is one viewpoint in every job of a ring run; ``cam03`` of a sampled run is a different random
view in each job, so holding it out holds out images, not a viewpoint). Every row of a held-out
name gets that name's split, so no character (motion, camera) is seen in two splits. ``none``:
every row gets ``fixed``.

Which names are held out: the ones listed in ``val`` / ``test``, or, when both lists are empty,
``val_fraction`` / ``test_fraction`` of the run's names (at least one each when the fraction is
above 0), chosen by ranking the names by a hash of the name alone: the same names always give the
same split, whatever the seed, and a name added to a run moves at most the names ranked after it.
List the names to keep a held-out set fixed across runs with different name sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from rig2sketch.seeding import stable_hash
from shards.schema import SPLITS

SPLIT_BY = ("none", "character", "motion", "camera")


def _check(ok: bool, key: str, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{key}={value!r} is not allowed; use {allowed}")


@dataclass
class SplitConfig:
    """How rows are split (``configs/split/*.yaml``; the module docstring says how names are held out)."""

    by: str = "none"
    fixed: str = "train"  # by=none: the split of every row
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    val: list[str] = field(default_factory=list)  # names held out for val (then the fractions are unused)
    test: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.val, self.test = list(self.val), list(self.test)
        _check(self.by in SPLIT_BY, "renderer.split.by", " | ".join(SPLIT_BY), self.by)
        _check(self.fixed in SPLITS, "renderer.split.fixed", " | ".join(SPLITS), self.fixed)
        for key in ("val_fraction", "test_fraction"):
            _check(0.0 <= getattr(self, key) < 1.0, f"renderer.split.{key}", "a fraction in [0, 1)", getattr(self, key))
        _check(self.val_fraction + self.test_fraction < 1.0, "renderer.split.val_fraction + test_fraction",
               "a sum below 1 (something must stay for training)", self.val_fraction + self.test_fraction)
        both = sorted(set(self.val) & set(self.test))
        _check(not both, "renderer.split.val/test", "disjoint lists (a name is held out for one split)", both)
        _check(self.by != "none" or not (self.val or self.test), "renderer.split.val/test",
               "empty lists with split.by=none (choose by=character, motion or camera)", self.val + self.test)


def _count(fraction: float, n: int) -> int:
    return 0 if fraction <= 0 else max(1, round(fraction * n))


def assign_splits(names: Iterable[str], cfg: SplitConfig) -> dict[str, str]:
    """``name -> split`` for the run's distinct ``names`` (characters, motions or cameras, per ``cfg.by``).

    Raises ValueError when a listed name is not among ``names`` or when the fractions leave no name
    for training."""
    names = sorted(set(names))
    if cfg.by == "none":
        return {n: cfg.fixed for n in names}
    if cfg.val or cfg.test:
        unknown = sorted(set(cfg.val + cfg.test) - set(names))
        if unknown:
            raise ValueError(f"renderer.split.val/test name {unknown}, which are not {cfg.by}s of this run "
                             f"({', '.join(names)})")
        return {n: "val" if n in cfg.val else "test" if n in cfg.test else "train" for n in names}
    n_test, n_val = _count(cfg.test_fraction, len(names)), _count(cfg.val_fraction, len(names))
    if n_test + n_val >= len(names):
        raise ValueError(f"renderer.split.by={cfg.by} holds out {n_val} val and {n_test} test {cfg.by}(s), but the run has "
                         f"only {len(names)} ({', '.join(names)}): add {cfg.by}s, lower the fractions or use split=none")
    ranked = sorted(names, key=lambda n: (stable_hash(["split", n]), n))
    out = {n: "test" for n in ranked[:n_test]}
    out.update({n: "val" for n in ranked[n_test:n_test + n_val]})
    out.update({n: "train" for n in ranked[n_test + n_val:]})
    return out
