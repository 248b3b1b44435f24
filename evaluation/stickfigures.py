"""Drawn stick figures with exact COCO-17 labels, written as rig2sketch shards.

For tests, smoke runs and the training benchmark only: a figure of known pose drawn with
OpenCV in seconds, so the evaluation stage can be exercised without Blender. It is not
training data for a real model (the bundled checkpoint is trained on renders).

The figure faces the viewer: the character's left limbs are on the image's right.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rig2sketch.skeleton import COCO_KEYPOINTS, COCO_SKELETON
from shards import ShardWriter, encode_png

_I = {n: i for i, n in enumerate(COCO_KEYPOINTS)}


def random_pose(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """COCO-17 keypoints ``17, 3`` (v=2) of a random upright figure inside an image (w, h)."""
    W, H = size
    unit = rng.uniform(0.16, 0.22) * H  # torso length
    hip = np.array([rng.uniform(0.4, 0.6) * W, rng.uniform(0.5, 0.58) * H])
    lean = rng.normal(0, 0.15)
    up = np.array([np.sin(lean), -np.cos(lean)])
    side = np.array([-up[1], up[0]])  # image-right
    neck = hip + up * unit
    kp = np.zeros((17, 3), dtype=np.float32)

    def limb(start: np.ndarray, base_deg: float, length: float) -> np.ndarray:
        a = np.deg2rad(base_deg + rng.normal(0, 35))
        return start + length * np.array([np.sin(a), np.cos(a)])

    for sign, s in ((+1, "left"), (-1, "right")):  # the character's left is on the image right
        shoulder = neck + side * sign * 0.35 * unit
        elbow = limb(shoulder, sign * 30, 0.55 * unit)
        wrist = limb(elbow, sign * 20, 0.5 * unit)
        h = hip + side * sign * 0.22 * unit
        knee = limb(h, sign * 8, 0.75 * unit)
        ankle = limb(knee, sign * 4, 0.7 * unit)
        for name, p in (("shoulder", shoulder), ("elbow", elbow), ("wrist", wrist), ("hip", h),
                        ("knee", knee), ("ankle", ankle)):
            kp[_I[f"{s}_{name}"], :2] = p
    head = neck + up * 0.35 * unit
    kp[_I["nose"], :2] = head
    for sign, s in ((+1, "left"), (-1, "right")):
        kp[_I[f"{s}_eye"], :2] = head + side * sign * 0.07 * unit - up * 0.0 + up * 0.06 * unit
        kp[_I[f"{s}_ear"], :2] = head + side * sign * 0.16 * unit + up * 0.02 * unit
    kp[:, 2] = 2
    return kp


def draw(kp: np.ndarray, size: tuple[int, int], thickness: int, ink: int) -> np.ndarray:
    """Black-on-white line drawing ``H, W, 3`` uint8 of a figure; the left side gets a small
    circle at the hand and the foot so left and right are distinguishable."""
    W, H = size
    img = np.full((H, W, 3), 255, np.uint8)
    color = (ink, ink, ink)
    for a, b in COCO_SKELETON:
        if a <= 4 or b <= 4:
            continue
        cv2.line(img, tuple(np.round(kp[a, :2]).astype(int)), tuple(np.round(kp[b, :2]).astype(int)), color,
                 thickness, cv2.LINE_AA)
    neck = 0.5 * (kp[_I["left_shoulder"], :2] + kp[_I["right_shoulder"], :2])
    r = int(max(2, 0.6 * np.linalg.norm(kp[_I["left_ear"], :2] - kp[_I["right_ear"], :2])))
    cv2.line(img, tuple(np.round(neck).astype(int)), tuple(np.round(kp[0, :2]).astype(int)), color, thickness)
    cv2.circle(img, tuple(np.round(kp[0, :2]).astype(int)), r, color, thickness, cv2.LINE_AA)
    for name in ("left_wrist", "left_ankle"):
        cv2.circle(img, tuple(np.round(kp[_I[name], :2]).astype(int)), max(2, r // 3), color, -1)
    for name in ("left_eye", "right_eye"):
        cv2.circle(img, tuple(np.round(kp[_I[name], :2]).astype(int)), 1, color, -1)
    return img


def write_dataset(out_dir: str | Path, n: int, size: tuple[int, int], rng: np.random.Generator,
                  characters: tuple[str, ...] = ("stick_a", "stick_b"), styles: tuple[str, ...] = ("",),
                  shard_rows: int = 64) -> list[Path]:
    """Write ``n`` stick figures as shards under ``out_dir``; returns the shard paths.

    ``character`` cycles through characters (sets line thickness), ``style`` through styles
    (sets the ink grey), so holdout splits can be tested."""
    out_dir = Path(out_dir)
    paths = []
    for start in range(0, n, shard_rows):
        path = out_dir / f"stick-{start // shard_rows:04d}.parquet"
        with ShardWriter(path, metadata={"seed": int(rng.integers(2**31)), "generator": "stickfigures"}) as w:
            for i in range(start, min(n, start + shard_rows)):
                character, style = characters[i % len(characters)], styles[(i // len(characters)) % len(styles)]
                kp = random_pose(size, rng)
                thickness = 1 + characters.index(character) % 3
                ink = 40 * (styles.index(style) % 4)
                img = draw(kp, size, thickness, ink)
                inside = (kp[:, 0] >= 0) & (kp[:, 0] < size[0]) & (kp[:, 1] >= 0) & (kp[:, 1] < size[1])
                kp[~inside, 2] = 0
                lo = kp[inside, :2].min(0) - 3
                hi = kp[inside, :2].max(0) + 3
                lo, hi = np.clip(lo, 0, size), np.clip(hi, 0, size)
                w.write({
                    "sample_id": f"stick-{i:06d}", "image": encode_png(img), "width": size[0], "height": size[1],
                    "keypoints": kp, "joints": np.zeros((53, 3), np.float32),
                    "bbox": np.r_[lo, hi - lo], "area": float(np.prod(hi - lo)),
                    "character": character, "motion": "random", "frame": i, "camera": "front",
                    "intrinsics": np.eye(3), "extrinsics": np.eye(4), "split": "train" if i % 5 else "val",
                    "stylizer": "none" if not style else "ink", "style": style, "source_id": "",
                    "seed": 0,
                })
        paths.append(path)
    return paths
