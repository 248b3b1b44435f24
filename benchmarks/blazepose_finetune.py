"""Data value: zero-shot BlazePose vs BlazePose fine-tuned on rig2sketch renders, on sets the
fine-tune never saw (issue 11).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/blazepose_finetune.py \
        --model runs/bp/ft/model.safetensors \
        --renderer-set runs/bp/test_freestyle --poses-set runs/bp/test_poses --out runs/bp/bench

Sets (the held-out characters are whatever the shards hold; the recipe used lena, milo, nora):
- ``renderer``: shards of a contour method not trained on (freestyle), exported to a COCO
  folder as *transparent* line art (RGBA: black ink, alpha = darkness), the way Freestyle
  saves with a transparent film; both models read the files through
  ``rig2sketch.images.load_image`` (composited onto white);
- ``poses``: shards of unseen random poses;
- ``--shards NAME=DIR`` (optional): more held-out shard sets, e.g. the renderer set stylized;
- ``drawings`` (optional): a COCO folder of real drawings (``images/`` + ``person_keypoints.json``),
  e.g. the bundled hand-labelled Open Peeps set ``data/drawings/open_peeps``.

``--model`` may be given several times as ``NAME=PATH`` (e.g. ``freeze=... distill=...``) to
compare fine-tunes on the same images; a bare path is named ``fine_tuned``.

Zero-shot is ``evaluation.blazepose.BlazePose`` (MediaPipe's TFLite landmark model on the box
crop grown x1.25, as in the thesis table); fine-tuned is the torch model through
``evaluation.train.predict_records`` (same box, flip test). Prints COCO AP (pycocotools),
PCK@0.1 and PCK@0.2 (torso diameter), writes ``results.json`` and side-by-side overlays.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from evaluation import blazepose
from evaluation.checkpoints import load_model
from evaluation.coco_eval import score
from evaluation.config import ExportConfig, HoldoutConfig
from evaluation.data import PoseRecord, load_coco_records, load_shard_records, read_image
from evaluation.augment import swap_left_right
from evaluation.export import export
from evaluation.predict import draw_prediction
from evaluation.train import predict_records
from rig2sketch.images import load_image
from rig2sketch.skeleton import COCO_FLIP_PAIRS


def transparent_coco(shards: str, out: Path) -> tuple[str, str]:
    """Export ``shards`` as COCO with every PNG rewritten as RGBA line art on a transparent
    background; returns (images folder, annotations JSON)."""
    if not out.exists():
        export(ExportConfig(dataset=shards, out=str(out)))
        for png in (out / "images").glob("*.png"):
            grey = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
            rgba = np.zeros((*grey.shape, 4), np.uint8)
            rgba[..., 3] = 255 - grey  # ink opaque, paper transparent
            cv2.imwrite(str(png), rgba)
    annotations = sorted((out / "annotations").glob("person_keypoints_*.json"))
    return str(out / "images"), str(annotations[0])


def sides_free(records: list[PoseRecord], keypoints: np.ndarray) -> np.ndarray:
    """Each prediction or its left/right swap, whichever is nearer the labels: a diagnostic of how
    much of the error is the figure's sides taken the wrong way round (back views of line art)."""
    out = keypoints.copy()
    for i, rec in enumerate(records):
        m = rec.keypoints[:, 2] > 0
        swapped = swap_left_right(keypoints[i], COCO_FLIP_PAIRS)
        err = [np.linalg.norm(k[m, :2] - rec.keypoints[m, :2], axis=1).mean() for k in (keypoints[i], swapped)]
        if err[1] < err[0]:
            out[i] = swapped
    return out


def metrics(records: list[PoseRecord], keypoints: np.ndarray) -> dict[str, float]:
    m = score(records, keypoints)
    free = score(records, sides_free(records, keypoints))
    return ({k: m[k] for k in ("AP", "AP50", "AP75", "AR", "PCK@0.1")} | {"PCK@0.2": m["PCK"]}
            | {"AP sides free": free["AP"], "PCK@0.1 sides free": free["PCK@0.1"]})


def overlays(records: list[PoseRecord], predictions: list[np.ndarray], out: Path, count: int) -> None:
    """``count`` images spread over the set: zero-shot left, then each fine-tune."""
    out.mkdir(parents=True, exist_ok=True)
    for i in np.linspace(0, len(records) - 1, count).round().astype(int):
        image = read_image(records[i])
        sheet = np.hstack([draw_prediction(image, p[i]) for p in predictions])
        cv2.imwrite(str(out / f"{i:04d}.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, action="append", help="PATH or NAME=PATH; repeatable")
    ap.add_argument("--renderer-set", required=True)
    ap.add_argument("--poses-set", required=True)
    ap.add_argument("--drawings", default="", help="COCO folder: images/ + person_keypoints.json")
    ap.add_argument("--shards", action="append", default=[], help="NAME=DIR: more held-out shard sets "
                    "(e.g. stylized=DIR, the renderer set stylized); repeatable")
    ap.add_argument("--out", default="runs/bp/bench")
    ap.add_argument("--draw", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-samples", type=int, default=0, help="per set, spread evenly (0 = all)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    folder, annotations = transparent_coco(args.renderer_set, out / "renderer_rgba")
    assert load_image(next(Path(folder).glob("*.png"))).shape[2] == 3
    sets = {"renderer": load_coco_records(folder, annotations, args.max_samples),
            "poses": load_shard_records([args.poses_set], None, HoldoutConfig(), args.max_samples)}
    for spec in args.shards:
        name, _, path = spec.partition("=")
        sets[name] = load_shard_records([path], None, HoldoutConfig(), args.max_samples)
    if args.drawings:
        drawings = Path(args.drawings)
        sets["drawings"] = load_coco_records(str(drawings / "images"), str(drawings / "person_keypoints.json"))
    zero_model = blazepose.BlazePose(threads=args.threads)
    models = {}
    for spec in args.model:
        name, _, path = spec.rpartition("=")
        models[name or "fine_tuned"] = load_model(path)
    results = {}
    for name, records in sets.items():
        t0 = time.perf_counter()
        predictions = {"zero_shot": blazepose.predict_records(records, zero_model)}
        seconds = {"zero_shot": time.perf_counter() - t0}
        for model_name, (model, mcfg) in models.items():
            t0 = time.perf_counter()
            predictions[model_name] = predict_records(model, records, mcfg, torch.device("cpu"), batch_size=16)
            seconds[model_name] = time.perf_counter() - t0
        results[name] = {"samples": len(records), "characters": sorted({r.character for r in records} - {""}),
                         **{k: metrics(records, p) for k, p in predictions.items()}, "seconds": seconds}
        overlays(records, list(predictions.values()), out / f"overlays_{name}", args.draw)
        for model_name in predictions:
            m = results[name][model_name]
            print(f"{name:9s} n={len(records):4d} {model_name:12s} AP {m['AP']:.3f}  AP50 {m['AP50']:.3f}  "
                  f"PCK@0.1 {m['PCK@0.1']:.3f}  PCK@0.2 {m['PCK@0.2']:.3f}  | sides free: AP {m['AP sides free']:.3f}  "
                  f"PCK@0.1 {m['PCK@0.1 sides free']:.3f}", flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
