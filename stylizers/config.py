"""Config dataclasses of the stylize stage (mirrored by ``configs/stylizer/*.yaml`` and ``configs/style/*.yaml``).

Each stylizer declares its own schema, a subclass of ``StylizerConfig`` registered in ``STYLIZER_CONFIGS``
next to the stylizer (``stylizers/<name>.py``); ``stylizer_config`` turns the composed ``stylizer`` mapping
into the schema its ``name`` selects, so a new stylizer is one module plus ``configs/stylizer/<name>.yaml``.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from rig2sketch.registry import Registry

BUNDLED = "bundled"


@dataclass(frozen=True)
class Capabilities:
    """What a stylizer offers and needs. ``style_images``: takes style images (False: a GAN trained on one
    domain); ``alpha``: has a content/style blend ``alpha`` in [0, 1]; ``trainable``: ``train-stylizer``
    has a trainer for it; ``data``: what its training needs (``none``, ``unpaired``: content + style sets,
    ``paired``: aligned pairs)."""

    style_images: bool = True
    alpha: bool = False
    trainable: bool = False
    data: str = "unpaired"


@dataclass
class StylizerConfig:
    """Fields every stylizer has. ``capabilities`` is a class constant of each schema, not a setting."""

    capabilities: ClassVar[Capabilities] = Capabilities()
    name: str = ""
    device: str = "auto"
    batch_size: int = 8
    style_size: int = 256  # style images are resized so the longer side is this many pixels

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"stylizer.device={self.device!r}: choose auto, cpu or cuda")
        if self.batch_size < 1:
            raise ValueError(f"stylizer.batch_size={self.batch_size}: must be >= 1")
        if not 32 <= self.style_size <= 2048:
            raise ValueError(f"stylizer.style_size={self.style_size}: must be in [32, 2048]")
        alpha = getattr(self, "alpha", None)
        if self.capabilities.alpha and not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
            raise ValueError(f"stylizer.alpha={alpha}: must be in [0, 1] (0 = the content, 1 = full style)")


# name -> schema dataclass. Register with @STYLIZER_CONFIGS.register("name") beside the stylizer.
STYLIZER_CONFIGS: Registry[type[StylizerConfig]] = Registry("stylizer")


def import_stylizer_modules() -> None:
    """Import every module of the ``stylizers`` package, so their registrations run (no work at import)."""
    import stylizers

    for mod in pkgutil.iter_modules(stylizers.__path__):
        importlib.import_module(f"stylizers.{mod.name}")


_SCALARS = {"int": int, "float": (int, float), "bool": bool, "str": str}


def stylizer_config(node: StylizerConfig | Mapping[str, Any]) -> StylizerConfig:
    """The typed schema of a composed ``stylizer`` mapping (its ``name`` picks the schema)."""
    if isinstance(node, StylizerConfig):
        return node
    name = dict(node).get("name")
    if name not in STYLIZER_CONFIGS:
        import_stylizer_modules()
    if name not in STYLIZER_CONFIGS:
        raise ValueError(f"stylizer={name!r} is not a registered stylizer; choose one of: "
                         f"{', '.join(STYLIZER_CONFIGS.names())}")
    return typed_config(STYLIZER_CONFIGS.get(name), node, "stylizer")


def typed_config(schema: type, node: Any, prefix: str) -> Any:
    """``schema(**node)`` for a mapping ``node`` (an instance passes through). Unknown keys and scalars of the
    wrong type fail with one line naming ``prefix.key`` and the allowed keys or type."""
    if isinstance(node, schema):
        return node
    values = dict(node)
    hints = typing.get_type_hints(schema)
    names = [f.name for f in dataclasses.fields(schema)]
    for key, value in values.items():
        if key not in names:
            raise ValueError(f"{prefix}.{key}: not a setting of {schema.__name__}; allowed: {', '.join(names)}")
        expected = _SCALARS.get(getattr(hints[key], "__name__", ""))
        if expected and value is not None and (not isinstance(value, expected) or
                                               (expected is not bool and isinstance(value, bool))):
            raise ValueError(f"{prefix}.{key}={value!r}: must be {hints[key].__name__}")
    return schema(**values)

@dataclass(frozen=True)
class StylizerTrainer:
    """How ``train-stylizer stylizer=<name>`` trains: its recipe schema (``configs/train_stylizer/<name>.yaml``)
    and the entry ``"module:function"`` taking that recipe and returning the output folder."""

    schema: type
    entry: str


# stylizer name -> its trainer. Register beside the training code.
STYLIZER_TRAINERS: Registry[StylizerTrainer] = Registry("stylizer trainer")


def stylizer_trainer(name: str) -> StylizerTrainer:
    """The trainer of stylizer ``name``; fails with the list of trainable stylizers."""
    import_stylizer_modules()
    if name not in STYLIZER_TRAINERS:
        raise ValueError(f"stylizer={name!r} has no trainer; train-stylizer supports: "
                         f"{', '.join(STYLIZER_TRAINERS.names())}")
    return STYLIZER_TRAINERS.get(name)

@dataclass
class StyleConfig:
    """Which style images to use. ``bank``: ``bundled`` (``data/styles``) or a folder of images (indexed on
    first use). ``ids``/``tags`` narrow the bank (empty = all); ``per_image``: stylized copies of each
    render, each with a different style (1, or 12 for the thesis's 12-style set). ``mix`` > 1 interpolates
    that many styles per copy (AdaIN feature-statistics interpolation) with random Dirichlet weights."""

    bank: str = BUNDLED
    ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    per_image: int = 1
    mix: int = 1

    def __post_init__(self) -> None:
        if self.per_image < 1:
            raise ValueError(f"style.per_image={self.per_image}: must be >= 1 (1, or 12 for the 12-style set)")
        if self.mix < 1:
            raise ValueError(f"style.mix={self.mix}: must be >= 1 (1 = one style per image, no interpolation)")


@dataclass
class FidelityGate:
    """Does the pose model still find the labelled pose on each stylized image (label fidelity)?

    ``mode``: ``off``; ``flag`` keeps every row and stores its OKS as ``label_oks`` (and ``label_kept``) in the
    row's ``params`` JSON; ``drop`` writes only rows with OKS >= ``threshold`` (rows without a labelled keypoint
    are kept). ``checkpoint``: the judge, ``bundled`` (rig2sketch's fine-tuned BlazePose) or a checkpoint file
    from ``rig2sketch train``. The judge predicts in the row's labelled box; OKS is the COCO formula."""

    mode: str = "off"
    threshold: float = 0.5
    checkpoint: str = BUNDLED
    device: str = "auto"
    batch_size: int = 16

    def __post_init__(self) -> None:
        if self.mode not in ("off", "flag", "drop"):
            raise ValueError(f"fidelity.mode={self.mode!r}: choose off, flag (store each row's OKS) or drop "
                             "(write only rows the pose model still reads)")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"fidelity.threshold={self.threshold}: must be in (0, 1) (0.5 = COCO's AP50 match)")
        if self.device not in ("auto", "cpu", "cuda") or self.batch_size < 1:
            raise ValueError("fidelity.device must be auto, cpu or cuda and fidelity.batch_size >= 1")


@dataclass
class StylizeConfig:
    """``stylize_flow``: ``dataset`` (render shards dir) -> ``out`` (stylized shards dir, one shard per input
    shard, ``per_image`` rows per input row). ``metrics_samples`` renders are scored at the run's alpha
    and at alpha=0 (``metrics.json`` in the reports folder). ``overwrite``: re-stylize shards in ``out`` made by another
    run (another config or source shard, or damaged) instead of refusing them."""

    dataset: str = ""
    out: str = ""
    stylizer: Any = field(default_factory=lambda: {"name": "adain"})  # a StylizerConfig or its mapping
    style: StyleConfig = field(default_factory=StyleConfig)
    seed: int = 0
    contact_sheet: int = 8  # renders shown in the before/after sheet (0 = none)
    metrics: bool = True  # content/style loss and Frechet distance on a sample of the output
    metrics_samples: int = 32
    overwrite: bool = False
    fidelity: FidelityGate = field(default_factory=FidelityGate)  # flag or drop rows that lose their pose

    def __post_init__(self) -> None:
        self.stylizer = stylizer_config(self.stylizer)
        if not isinstance(self.fidelity, FidelityGate):
            self.fidelity = typed_config(FidelityGate, self.fidelity, "fidelity")
        if not self.stylizer.capabilities.style_images and (self.style.per_image != 1 or self.style.mix != 1):
            raise ValueError(f"stylizer={self.stylizer.name} takes no style images, so style.per_image and style.mix "
                             "must be 1; use a style-image stylizer (adain, multistyle) for several styles per render")
        if not self.dataset:
            raise ValueError("dataset= is required: the folder of render shards to stylize")
        if not self.out:
            raise ValueError("out= is required: the folder for the stylized shards")
        if self.contact_sheet < 0 or self.metrics_samples < 2:
            raise ValueError("contact_sheet must be >= 0 and metrics_samples >= 2")


@dataclass
class TrainStylizerConfig:
    """``train_stylizer``: trains the AdaIN decoder for a fixed encoder on content renders + the style bank.

    ``content``: folders of render shards and/or images, and/or ``peeps`` (the bundled Open Peeps figures as
    flat ink and as outlines); empty = ``peeps``. ``out``: where ``decoder.safetensors`` + the encoder copy +
    ``MODEL_CARD.md`` go."""

    out: str = "runs/train_stylizer"
    content: list[str] = field(default_factory=list)
    style_bank: str = BUNDLED
    encoder: str = "vgg16_hed"
    steps: int = 2000
    batch_size: int = 8
    crop: int = 64
    lr: float = 5e-4
    lr_decay: float = 2e-4
    style_weight: float = 1.0  # HED's Caffe-scale features: the style term is ~100x the content term at 1
    content_weight: float = 1.0
    identity_weight: float = 0.0  # > 0: + weight * L1(g(f(x)), x) for content and style (short CPU runs)
    threads: int = 1  # on a shared CPU one thread wastes less time in OpenMP barriers than two
    device: str = "auto"
    seed: int = 0
    log_every: int = 50
    init_decoder: str | None = None  # resume from a decoder.safetensors
    crop_scale: list[float] = field(default_factory=lambda: [0.25, 0.6])  # crop side / image's shorter side
    max_minutes: float = 0.0  # > 0: stop after this much training time (card records the steps done)
    # adain: the paper's objective; reconstruction: the decoder learns to invert the encoder (WCT's decoder
    # objective, Li et al. 2017: pixel L1 x identity_weight + feature loss, on content and style crops) —
    # a cheap first stage for short CPU runs, continued with objective=adain through init_decoder.
    objective: str = "adain"

    def __post_init__(self) -> None:
        if self.encoder not in ("vgg16_hed",):
            raise ValueError(f"encoder={self.encoder!r}: choose vgg16_hed")
        if self.steps < 1 or self.batch_size < 1 or self.threads < 1 or self.log_every < 1:
            raise ValueError("steps, batch_size, threads and log_every must be >= 1")
        if self.crop < 32 or self.crop % 8:
            raise ValueError(f"crop={self.crop}: must be a multiple of 8 and >= 32")
        if len(self.crop_scale) != 2 or not 0.05 <= self.crop_scale[0] <= self.crop_scale[1] <= 1.0:
            raise ValueError(f"crop_scale={self.crop_scale}: need 0.05 <= min <= max <= 1")
        if self.lr <= 0:
            raise ValueError(f"lr={self.lr}: must be > 0")
        if self.objective not in ("adain", "reconstruction"):
            raise ValueError(f"objective={self.objective!r}: choose adain or reconstruction")
        if self.objective == "reconstruction" and self.identity_weight <= 0:
            raise ValueError("objective=reconstruction needs identity_weight > 0 (the pixel L1 weight, e.g. 1000)")
