"""Shard schema v1: one Parquet row per image. The only place the Arrow schema is built.

Columns (see docs/shards.md for the full contract):
    sample_id   string   unique across a dataset, stable across re-runs
    image       binary   PNG bytes, 8-bit RGB or grey
    width       int32    image width in pixels
    height      int32    image height in pixels
    keypoints   list<float32>[51]   COCO-17 in COCO order, flattened (x, y, v)
    joints      list<float32>[159]  the 53 JOINTS of rig2sketch.skeleton, flattened (x, y, v)
    bbox        list<float32>[4]    (x, y, w, h) of the silhouette, pixels
    area        float32  silhouette area in pixels
    character, motion    string
    frame       int32
    camera      string
    intrinsics  list<float32>[9]    3x3 row-major K (OpenCV: x right, y down, z forward)
    extrinsics  list<float32>[16]   4x4 row-major world->camera
    split       string   train / val / test
    stylizer    string   "none" for raw renders
    style       string   style id ("" when none)
    source_id   string   for a stylized image, the raw sample it came from ("" for raw)
    seed        int64    the job seed that produced the row
    params      string   JSON of stage parameters (nullable)
    shaded, mask, depth, normal, parts   binary PNG, nullable extra outputs

Pixel convention: origin at the top-left corner of the top-left pixel (pixel centres at
+0.5), x right, y down. v = 0 not in the image, 1 occluded, 2 visible. COCO "left" is the
character's left.
"""

from __future__ import annotations

import json

import pyarrow as pa

from rig2sketch import skeleton

SCHEMA_VERSION = "1"

N_KEYPOINTS = len(skeleton.COCO_KEYPOINTS)
N_JOINTS = len(skeleton.JOINTS)

EXTRA_IMAGE_COLUMNS = ("shaded", "mask", "depth", "normal", "parts")

# (name, type, nullable, fixed length of a list column or None)
_COLUMNS: tuple[tuple[str, pa.DataType, bool, int | None], ...] = (
    ("sample_id", pa.string(), False, None),
    ("image", pa.binary(), False, None),
    ("width", pa.int32(), False, None),
    ("height", pa.int32(), False, None),
    ("keypoints", pa.list_(pa.float32(), N_KEYPOINTS * 3), False, N_KEYPOINTS * 3),
    ("joints", pa.list_(pa.float32(), N_JOINTS * 3), False, N_JOINTS * 3),
    ("bbox", pa.list_(pa.float32(), 4), False, 4),
    ("area", pa.float32(), False, None),
    ("character", pa.string(), False, None),
    ("motion", pa.string(), False, None),
    ("frame", pa.int32(), False, None),
    ("camera", pa.string(), False, None),
    ("intrinsics", pa.list_(pa.float32(), 9), False, 9),
    ("extrinsics", pa.list_(pa.float32(), 16), False, 16),
    ("split", pa.string(), False, None),
    ("stylizer", pa.string(), False, None),
    ("style", pa.string(), False, None),
    ("source_id", pa.string(), False, None),
    ("seed", pa.int64(), False, None),
    ("params", pa.string(), True, None),
    *((name, pa.binary(), True, None) for name in EXTRA_IMAGE_COLUMNS),
)

COLUMNS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c[0] for c in _COLUMNS if not c[2])
LIST_LENGTHS: dict[str, int] = {c[0]: c[3] for c in _COLUMNS if c[3] is not None}
# How list columns reshape when read back into numpy.
ARRAY_SHAPES: dict[str, tuple[int, ...]] = {
    "keypoints": (N_KEYPOINTS, 3),
    "joints": (N_JOINTS, 3),
    "bbox": (4,),
    "intrinsics": (3, 3),
    "extrinsics": (4, 4),
}


def base_metadata() -> dict[str, str]:
    """Key-value metadata every shard carries: schema version and the label definitions."""
    return {
        "rig2sketch.schema_version": SCHEMA_VERSION,
        "rig2sketch.keypoint_names": json.dumps(list(skeleton.COCO_KEYPOINTS)),
        "rig2sketch.skeleton": json.dumps([list(e) for e in skeleton.COCO_SKELETON]),
        "rig2sketch.flip_pairs": json.dumps([list(p) for p in skeleton.COCO_FLIP_PAIRS]),
        "rig2sketch.joint_names": json.dumps(list(skeleton.JOINTS)),
        "rig2sketch.joint_edges": json.dumps([list(e) for e in skeleton.JOINT_EDGES]),
    }


def arrow_schema(metadata: dict[str, str] | None = None) -> pa.Schema:
    """The v1 Arrow schema with ``base_metadata()`` plus ``metadata`` (keys prefixed ``rig2sketch.``)."""
    fields = [pa.field(name, typ, nullable=nullable) for name, typ, nullable, _ in _COLUMNS]
    meta = base_metadata()
    for key, value in (metadata or {}).items():
        meta[key if key.startswith("rig2sketch.") else f"rig2sketch.{key}"] = str(value)
    return pa.schema(fields, metadata=meta)


SCHEMA = arrow_schema()


def schema_problems(actual: pa.Schema, columns: list[str] | None = None) -> list[str]:
    """What makes ``actual`` not a v1 shard schema (empty: fine), one phrase each: missing
    columns, wrong types, a missing or other schema version. ``columns``: only check these."""
    out = []
    for field in SCHEMA:
        if columns is not None and field.name not in columns:
            continue
        if field.name not in actual.names:
            out.append(f"missing column {field.name!r} ({field.type})")
        elif not actual.field(field.name).type.equals(field.type):
            out.append(f"column {field.name!r} has type {actual.field(field.name).type}, expected {field.type}")
    version = (actual.metadata or {}).get(b"rig2sketch.schema_version", b"").decode(errors="replace")
    if version != SCHEMA_VERSION:
        out.append(f"schema version {version or 'missing'!r}, expected {SCHEMA_VERSION!r}")
    return out
