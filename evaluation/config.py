"""Config dataclasses of the evaluation stage (mirrored by ``configs/evaluation/`` and
``configs/experiment/``). Every range is checked in ``__post_init__``."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.exporters.registry import EXPORT_FORMATS

HRNET_ARCHS = ("w32", "w48", "w18_small", "small", "tiny")
BLAZEPOSE_ARCHS = ("blazepose_lite", "blazepose_full", "blazepose_heavy")
ARCHS = HRNET_ARCHS + BLAZEPOSE_ARCHS
REFINES = ("dark", "quarter", "none")
AUGMENT_PRESETS = ("none", "standard", "seed", "strong", "drawing")
DEVICES = ("auto", "cpu", "cuda")


def _check(ok: bool, key: str, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"{key}={value!r} is not allowed; expected {allowed}")


@dataclass
class ModelConfig:
    """Top-down pose model: input (width x height) crops. HRNet: heatmaps at 1/4 of that,
    Gaussian sigma in heatmap cells (2 for 64x48 maps). BlazePose (``blazepose_*``, regression
    of landmarks from MediaPipe's pretrained network): 256 x 256 square crops; sigma and refine
    are unused."""

    arch: str = "w32"
    num_joints: int = 17
    input_width: int = 192
    input_height: int = 256
    sigma: float = 2.0
    padding: float = 1.25
    refine: str = "dark"
    flip_test: bool = True

    def __post_init__(self) -> None:
        _check(self.arch in ARCHS, "model.arch", f"one of {ARCHS}", self.arch)
        _check(self.num_joints >= 1, "model.num_joints", ">= 1", self.num_joints)
        for key in ("input_width", "input_height"):
            v = getattr(self, key)
            _check(v >= 32 and v % 32 == 0, f"model.{key}", "a multiple of 32, >= 32", v)
        _check(0.5 <= self.sigma <= 10, "model.sigma", "0.5..10 heatmap cells", self.sigma)
        _check(1.0 <= self.padding <= 2.0, "model.padding", "1.0..2.0", self.padding)
        _check(self.refine in REFINES, "model.refine", f"one of {REFINES}", self.refine)
        if self.arch in BLAZEPOSE_ARCHS:
            _check(self.input_size == (256, 256), "model.input_width/input_height",
                   "256 x 256 for BlazePose (set model.input_width=256 model.input_height=256)", self.input_size)
            _check(self.num_joints == 17, "model.num_joints", "17 (COCO) for BlazePose", self.num_joints)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.input_width, self.input_height

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.input_width // 4, self.input_height // 4


@dataclass
class AugmentConfig:
    """Training augmentation. The crop itself is jittered (scale, rotation, flip with
    left/right swap) in every preset but "none"; "seed" adds the thesis's Albumentations set
    (affine, blurs, multiplicative and Gaussian noise); "strong" adds photometric and
    occlusion transforms on top; "drawing" adds hand-drawn line and paper effects
    (``evaluation.drawing_augment``) before the seed's blurs and noise."""

    preset: str = "standard"
    scale_factor: float = 0.35
    rotation_deg: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    partial_prob: float = 0.0  # crop to the upper or lower part of the body (the rest falls outside)

    def __post_init__(self) -> None:
        _check(self.preset in AUGMENT_PRESETS, "augment.preset", f"one of {AUGMENT_PRESETS}", self.preset)
        _check(0 <= self.scale_factor < 1, "augment.scale_factor", "0 <= x < 1", self.scale_factor)
        _check(0 <= self.rotation_deg <= 180, "augment.rotation_deg", "0..180", self.rotation_deg)
        for key in ("rotation_prob", "flip_prob", "partial_prob"):
            _check(0 <= getattr(self, key) <= 1, f"augment.{key}", "0..1", getattr(self, key))


@dataclass
class HoldoutConfig:
    """Which samples may be trained on and which validated on, so nothing seen in training leaks.

    A sample is for training when its character is not in ``characters`` and its style not in
    ``styles``; for validation when its character is held out (or none are) and its style is
    held out (or none are). Samples mixing a seen and an unseen factor are in neither.
    With both lists empty the shards' ``split`` column decides (train vs val/test).
    """

    characters: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)


@dataclass
class TrainConfig:
    datasets: list[str] = field(default_factory=list)
    out_dir: str = "runs/train"
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    holdout: HoldoutConfig = field(default_factory=HoldoutConfig)
    val_datasets: list[str] = field(default_factory=list)
    init: str = ""
    init_strict: bool = True
    freeze_layers: int = 0
    swap_tolerant: bool = False
    distill_weight: float = 0.0
    epochs: int = 10
    max_steps: int = 0
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    workers: int = 0
    device: str = "auto"
    bf16: bool = True
    seed: int = 0
    val_every_epochs: int = 1
    max_train_samples: int = 0
    max_val_samples: int = 0
    resume: bool = True
    log_every_steps: int = 10

    def __post_init__(self) -> None:
        _check(self.epochs >= 1, "train.epochs", ">= 1", self.epochs)
        _check(self.freeze_layers >= 0, "train.freeze_layers", ">= 0 (the first N layers with weights kept fixed)",
               self.freeze_layers)
        _check(self.distill_weight >= 0, "train.distill_weight", ">= 0 (0 = off)", self.distill_weight)
        _check(self.max_steps >= 0, "train.max_steps", ">= 0 (0 = no limit)", self.max_steps)
        _check(self.batch_size >= 1, "train.batch_size", ">= 1", self.batch_size)
        _check(0 < self.lr < 1, "train.lr", "0 < lr < 1", self.lr)
        _check(self.weight_decay >= 0, "train.weight_decay", ">= 0", self.weight_decay)
        _check(self.workers >= 0, "train.workers", ">= 0", self.workers)
        _check(self.device in DEVICES, "train.device", f"one of {DEVICES}", self.device)
        _check(self.val_every_epochs >= 1, "train.val_every_epochs", ">= 1", self.val_every_epochs)
        _check(self.log_every_steps >= 1, "train.log_every_steps", ">= 1", self.log_every_steps)
        _check(self.max_train_samples >= 0, "train.max_train_samples", ">= 0 (0 = all)", self.max_train_samples)
        _check(self.max_val_samples >= 0, "train.max_val_samples", ">= 0 (0 = all)", self.max_val_samples)


@dataclass
class EvalSet:
    """A validation set: ``kind="shards"`` (a rig2sketch dataset directory, filtered by the
    holdout rules) or ``kind="coco"`` (``path`` = image folder, ``annotations`` = person
    keypoints JSON)."""

    name: str = ""
    kind: str = "shards"
    path: str = ""
    annotations: str = ""

    def __post_init__(self) -> None:
        _check(self.kind in ("shards", "coco"), "eval_set.kind", "'shards' or 'coco'", self.kind)
        _check(bool(self.name), "eval_set.name", "a non-empty name", self.name)
        _check(bool(self.path), f"eval_set[{self.name}].path", "a directory", self.path)
        _check(self.kind == "shards" or bool(self.annotations), f"eval_set[{self.name}].annotations",
               "a COCO person-keypoints JSON path for kind=coco", self.annotations)


@dataclass
class EvaluateConfig:
    """Score a checkpoint (or BlazePose with ``checkpoint="blazepose"``) on sets."""

    checkpoint: str = ""
    sets: list[EvalSet] = field(default_factory=list)
    model: ModelConfig = field(default_factory=ModelConfig)
    holdout: HoldoutConfig = field(default_factory=HoldoutConfig)
    out_dir: str = "runs/evaluate"
    batch_size: int = 32
    device: str = "auto"
    max_samples: int = 0

    def __post_init__(self) -> None:
        _check(bool(self.checkpoint), "evaluate.checkpoint", "a checkpoint path or 'blazepose'", self.checkpoint)
        _check(self.device in DEVICES, "evaluate.device", f"one of {DEVICES}", self.device)


@dataclass
class PredictConfig:
    """COCO-format predictions for a folder of images; one person per image, box = the whole
    image unless ``boxes`` (a COCO JSON with images + annotations bboxes) is given.
    ``checkpoint=""`` uses the bundled default model; ``model`` describes a foreign (official /
    mmpose) checkpoint, rig2sketch files carry their own. ``draw``: a folder for overlays."""

    images: str = ""
    out: str = "preds.json"
    checkpoint: str = ""
    boxes: str = ""
    device: str = "auto"
    batch_size: int = 16
    draw: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        _check(bool(self.images), "predict.images", "a folder of images", self.images)
        _check(self.device in DEVICES, "predict.device", f"one of {DEVICES}", self.device)


@dataclass
class ExportConfig:
    dataset: str = ""
    out: str = ""
    format: str = "coco"
    splits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check(self.format in EXPORT_FORMATS, "export.format", " or ".join(map(repr, EXPORT_FORMATS.names())), self.format)
        _check(bool(self.dataset), "export.dataset", "a dataset directory of shards", self.dataset)
        _check(bool(self.out), "export.out", "an output directory", self.out)


@dataclass
class VariantConfig:
    """One row of the thesis table: train on ``datasets`` (names of the experiment's datasets,
    or directories) with augmentation preset ``augment``; ``init`` overrides the experiment's
    initialisation (a checkpoint path)."""

    name: str = ""
    datasets: list[str] = field(default_factory=list)
    augment: str = "standard"
    init: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.name), "variant.name", "a non-empty name", self.name)
        _check(bool(self.datasets), f"variant[{self.name}].datasets", "one or more dataset names", self.datasets)
        _check(self.augment in AUGMENT_PRESETS, f"variant[{self.name}].augment", f"one of {AUGMENT_PRESETS}",
               self.augment)


@dataclass
class ExperimentConfig:
    """The thesis experiment: train each variant, score each on the held-out split of every
    dataset in ``test_on`` and on every extra ``eval_sets`` entry (e.g. real sketches in COCO
    format), plus the BlazePose zero-shot row; the cross-validation matrix is train on row,
    test on column over ``test_on``.

    ``datasets`` maps names to dataset directories. ``holdout``: characters (and styles)
    never trained on; with ``holdout.characters`` empty, ``auto_holdout`` characters (the
    last names in sorted order) are held out. ``pretrained`` maps row names to model files
    scored as they are, without training (``bundled`` = the default ``predict`` model, the
    BlazePose fine-tuned on rig2sketch's own renders of other characters). ``label_fidelity``: a judge
    checkpoint (``bundled``) that scores each variant's training data — the share of its images on which
    the judge still finds the labelled pose (OKS >= 0.5), i.e. how much of the figure a stylizer kept;
    empty = no such column.
    """

    name: str = "thesis_table"
    out_dir: str = "runs/experiments/thesis_table"
    datasets: dict[str, str] = field(default_factory=dict)
    variants: list[VariantConfig] = field(default_factory=list)
    test_on: list[str] = field(default_factory=list)
    eval_sets: list[EvalSet] = field(default_factory=list)
    holdout: HoldoutConfig = field(default_factory=HoldoutConfig)
    auto_holdout: int = 1
    train: TrainConfig = field(default_factory=TrainConfig)
    blazepose: bool = True
    pretrained: dict[str, str] = field(default_factory=dict)
    max_eval_samples: int = 0
    label_fidelity: str = "bundled"

    def __post_init__(self) -> None:
        _check(len(self.variants) >= 1, "experiment.variants", "at least one variant", self.variants)
        names = [v.name for v in self.variants]
        _check(len(set(names)) == len(names), "experiment.variants", "unique names", names)
        _check(self.auto_holdout >= 1, "experiment.auto_holdout", ">= 1", self.auto_holdout)
        _check(self.max_eval_samples >= 0, "experiment.max_eval_samples", ">= 0 (0 = all)", self.max_eval_samples)
