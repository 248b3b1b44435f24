"""The evaluation stage: what a pose model trained on rig2sketch data scores on drawings.

- ``hrnet``: HRNet W32/W48 (official module names; official and mmpose checkpoints load) and
  small CPU variants. ``heatmaps``: Gaussian targets, DARK decoding, flip test.
  ``topdown``: box -> crop geometry. ``augment``: keypoint-aware presets. ``data``: records
  from shards / COCO sets and the top-down dataset.
- ``train``: training loop with resume, curves and validation. ``coco_eval``: COCOeval AP/AR
  and per-joint PCK. ``blazepose``: the zero-shot baseline.
- ``experiments``: the thesis table. ``predict``: COCO results for a folder of images.
  ``export``: COCO and YOLO-pose exports.

No Prefect and no Hydra here; ``flows/evaluate.py`` orchestrates, ``config`` holds the
dataclasses the CLI fills.
"""
