"""Top-down pose samples from rig2sketch shards and COCO sets, for training and scoring.

Records are kept in memory with their images still PNG-encoded (line art compresses to a few
kB), so the dataset is map-style: random access, reproducible per-sample randomness with any
number of DataLoader workers, and no re-reading of Parquet every epoch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from evaluation import heatmaps, topdown
from evaluation.augment import PhotometricAugment, part_box, sample_jitter, swap_left_right
from evaluation.config import AugmentConfig, HoldoutConfig, ModelConfig
from rig2sketch.images import load_image
from rig2sketch.safe_paths import contained
from rig2sketch.skeleton import COCO_FLIP_PAIRS
from shards import decode_png, iter_samples

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
META_COLUMNS = ["sample_id", "image", "width", "height", "keypoints", "bbox", "area", "character",
                "style", "stylizer", "split"]


@dataclass
class PoseRecord:
    """One person: ``image`` PNG bytes (or a file path), ``keypoints`` ``K, 3`` and ``bbox``
    (x, y, w, h) in image pixels."""

    sample_id: str
    image: bytes | str
    width: int
    height: int
    keypoints: np.ndarray
    bbox: np.ndarray
    area: float
    character: str = ""
    style: str = ""
    image_id: int = 0


def holdout_role(character: str, style: str, split: str, holdout: HoldoutConfig) -> str | None:
    """"train", "val" or None (neither) for one sample; see ``HoldoutConfig``."""
    if not holdout.characters and not holdout.styles:
        return "train" if split == "train" else "val"
    char_out = character in holdout.characters
    style_out = style in holdout.styles
    if not char_out and not style_out:
        return "train"
    if (char_out or not holdout.characters) and (style_out or not holdout.styles):
        return "val"
    return None


def load_shard_records(paths: list[str], role: str | None, holdout: HoldoutConfig,
                       max_samples: int = 0) -> list[PoseRecord]:
    """Records from shard directories whose holdout role is ``role`` (None: all rows).

    Rows without a labelled keypoint or with an empty box are dropped (nothing to learn)."""
    records: list[PoseRecord] = []
    for row in iter_samples(paths, columns=META_COLUMNS, decode_images=False):
        if role is not None and holdout_role(row["character"], row["style"], row["split"], holdout) != role:
            continue
        kp = np.asarray(row["keypoints"], dtype=np.float32)
        bbox = np.asarray(row["bbox"], dtype=np.float32)
        if not (kp[:, 2] > 0).any() or bbox[2] <= 1 or bbox[3] <= 1:
            continue
        records.append(PoseRecord(row["sample_id"], row["image"], int(row["width"]), int(row["height"]), kp, bbox,
                                  float(row["area"]), row["character"], row["style"], len(records) + 1))
    if not records:
        raise ValueError(f"no usable {role or ''} samples in {paths} with holdout {holdout}; check the "
                         "dataset paths and evaluation.holdout (characters/styles)")
    return subsample(records, max_samples)


def subsample(records: list[PoseRecord], max_samples: int) -> list[PoseRecord]:
    """At most ``max_samples`` records spread evenly over the list (shards are ordered by
    character and motion, so a prefix would see only the first characters); 0 = all."""
    if not max_samples or len(records) <= max_samples:
        return records
    keep = np.linspace(0, len(records) - 1, max_samples).round().astype(int)
    return [records[i] for i in keep]


def load_coco_records(images_dir: str, annotations: str, max_samples: int = 0) -> list[PoseRecord]:
    """Person annotations with at least one labelled keypoint from a COCO keypoints JSON."""
    data = json.loads(Path(annotations).read_text())
    images = {im["id"]: im for im in data["images"]}
    records = []
    for ann in data["annotations"]:
        if ann.get("iscrowd", 0) or ann.get("num_keypoints", 1) == 0 or ann.get("category_id", 1) != 1:
            continue
        kp = np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1, 3)
        if not (kp[:, 2] > 0).any():
            continue
        im = images[ann["image_id"]]
        path = contained(images_dir, im["file_name"], f"{annotations}: image {im['id']} file_name",
                         fix="COCO file names are relative to the images folder")
        records.append(PoseRecord(str(ann["id"]), str(path), int(im["width"]), int(im["height"]), kp,
                                  np.asarray(ann["bbox"], dtype=np.float32), float(ann.get("area", 0.0)),
                                  image_id=int(im["id"])))
    if not records:
        raise ValueError(f"{annotations} has no person annotations with labelled keypoints")
    return subsample(records, max_samples)


def read_image(record: PoseRecord) -> np.ndarray:
    """``H, W, 3`` uint8 RGB of a record: shard PNG bytes, or a user's file through
    ``rig2sketch.images.load_image`` (transparency onto white, EXIF orientation, any mode)."""
    if isinstance(record.image, bytes):
        return topdown.to_rgb(decode_png(record.image))
    return load_image(record.image)


def normalize(crop: np.ndarray) -> torch.Tensor:
    """``H, W, 3`` uint8 RGB -> ``3, H, W`` float32, ImageNet-normalised."""
    x = (crop.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


class TopDownDataset(Dataset):
    """Crops of records for the model. Items: ``image`` ``3, H, W``; ``keypoints`` ``K, 3`` in
    crop pixels (after augmentation); ``matrix`` ``2, 3`` (image -> crop); ``index``.

    With ``augment`` set, each item draws its jitter from ``np.random.default_rng((seed,
    epoch, index))`` (call ``set_epoch``), so runs repeat exactly with any worker count.
    Heatmap targets are made per batch on the training device (``heatmaps.encode_batch``).
    """

    def __init__(self, records: list[PoseRecord], model: ModelConfig, augment: AugmentConfig | None = None,
                 seed: int = 0) -> None:
        self.records = records
        self.model = model
        self.augment = augment
        self.photometric = PhotometricAugment(augment.preset) if augment else None
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rec = self.records[index]
        image = read_image(rec)
        aspect = self.model.input_width / self.model.input_height
        kp = rec.keypoints.copy()
        flip = False
        if self.augment is not None:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            jitter = sample_jitter(self.augment, rng)
            # A partial crop covers part of the box; the joints outside it drop out of the loss.
            center, size = topdown.box_to_center_size(part_box(rec.bbox, jitter.part), aspect, self.model.padding)
            flip = jitter.flip
            M = topdown.crop_matrix(center, size * jitter.scale, self.model.input_size, jitter.rotation_deg, flip)
        else:
            center, size = topdown.box_to_center_size(rec.bbox, aspect, self.model.padding)
            M = topdown.crop_matrix(center, size, self.model.input_size)
        crop = topdown.warp_image(image, M, self.model.input_size)
        kp[:, :2] = topdown.transform_points(M, kp[:, :2])
        if flip:
            kp = swap_left_right(kp, COCO_FLIP_PAIRS)
        if self.photometric is not None:
            crop, kp = self.photometric(crop, kp, rng)
        return {
            "image": normalize(crop),
            "keypoints": torch.from_numpy(kp.astype(np.float32)),
            "matrix": torch.from_numpy(M.astype(np.float32)),
            "index": torch.tensor(index),
        }


def crop_to_image(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Crop-pixel points ``N, K, 2`` back to image pixels with each crop's ``2, 3`` matrix."""
    return np.stack([topdown.transform_points(topdown.invert(M), p) for p, M in zip(points, matrices)])


def make_targets(keypoints: torch.Tensor, model: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch heatmap targets ``B, K, h, w`` and weights ``B, K`` from crop keypoints ``B, K, 3``."""
    return heatmaps.encode_batch(keypoints, model.input_size, model.heatmap_size, model.sigma)
