"""Config dataclasses of the stylize stage (mirrored by ``configs/stylizer/*.yaml`` and ``configs/style/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass, field

BUNDLED = "bundled"


@dataclass
class AdaINConfig:
    """AdaIN (Huang & Belongie 2017). ``weights``: ``bundled`` (rig2sketch's VGG-16/HED encoder + trained
    decoder in ``data/weights/adain``), ``official`` (pytorch-AdaIN ``vgg_normalised.pth`` + ``decoder.pth``
    given by ``vgg_path``/``decoder_path``, or a folder holding both in ``official_dir``), or a folder of
    rig2sketch safetensors written by ``train_stylizer``."""

    name: str = "adain"
    weights: str = BUNDLED
    vgg_path: str | None = None
    decoder_path: str | None = None
    official_dir: str | None = None
    alpha: float = 1.0
    preserve_color: bool = False
    device: str = "auto"
    batch_size: int = 8
    style_size: int = 256  # style images are resized so the longer side is this many pixels

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"stylizer.alpha={self.alpha}: must be in [0, 1] (0 = content, 1 = full style)")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"stylizer.device={self.device!r}: choose auto, cpu or cuda")
        if self.batch_size < 1:
            raise ValueError(f"stylizer.batch_size={self.batch_size}: must be >= 1")
        if not 32 <= self.style_size <= 2048:
            raise ValueError(f"stylizer.style_size={self.style_size}: must be in [32, 2048]")
        if self.weights == "official" and not (self.official_dir or (self.vgg_path and self.decoder_path)):
            raise ValueError("stylizer.weights=official needs stylizer.official_dir=DIR (holding vgg_normalised.pth "
                             "and decoder.pth) or both stylizer.vgg_path=... and stylizer.decoder_path=...")


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
class StylizeConfig:
    """``stylize_flow``: ``dataset`` (render shards dir) -> ``out`` (stylized shards dir, one shard per input
    shard, ``per_image`` rows per input row). ``metrics_samples`` renders are scored at the run's alpha
    and at alpha=0 (``_metrics.json``)."""

    dataset: str = ""
    out: str = ""
    stylizer: AdaINConfig = field(default_factory=AdaINConfig)
    style: StyleConfig = field(default_factory=StyleConfig)
    seed: int = 0
    contact_sheet: int = 8  # renders shown in the before/after sheet (0 = none)
    metrics: bool = True  # content/style loss and Frechet distance on a sample of the output
    metrics_samples: int = 32

    def __post_init__(self) -> None:
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
