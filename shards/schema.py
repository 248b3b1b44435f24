"""Shard schema v2: one Parquet row per image. The only place the Arrow schema is built.

Columns (see docs/shards.md for the full contract):
    sample_id   string   unique across a dataset, stable across re-runs
    image       struct<bytes: binary, path: string>   PNG bytes (path null), 8-bit RGB or grey
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
    shaded, mask, depth, normal, parts   like ``image``, nullable extra outputs

Image columns are Hugging Face ``datasets``' ``Image`` storage (``struct<bytes, path>``, nullable) and
the schema metadata holds the key ``huggingface`` with those columns' features, so
``datasets.load_dataset`` decodes them to PIL images straight from the files. (``datasets`` uses a
feature from the metadata only when its Arrow type, nullability included, equals the column's: a
plain ``binary`` column stays bytes.) ``shards.reader`` hands image columns to Python as PNG bytes.

Pixel convention: origin at the top-left corner of the top-left pixel (pixel centres at
+0.5), x right, y down. v = 0 not in the image, 1 occluded, 2 visible. COCO "left" is the
character's left.
"""

from __future__ import annotations

import json

import pyarrow as pa

from rig2sketch import skeleton

SCHEMA_VERSION = "2"

N_KEYPOINTS = len(skeleton.COCO_KEYPOINTS)
N_JOINTS = len(skeleton.JOINTS)

SPLITS = ("train", "val", "test")

EXTRA_IMAGE_COLUMNS = ("shaded", "mask", "depth", "normal", "parts")
IMAGE_COLUMNS = ("image", *EXTRA_IMAGE_COLUMNS)
# Hugging Face datasets' Image storage: PNG bytes and an optional path (always null here).
IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

# (name, type, required, fixed length of a list column or None). Arrow nullability follows
# ``required``, except for image columns, which are nullable like datasets' Image storage (the
# writer and the validator still require ``image``).
_COLUMNS: tuple[tuple[str, pa.DataType, bool, int | None], ...] = (
    ("sample_id", pa.string(), True, None),
    ("image", IMAGE_TYPE, True, None),
    ("width", pa.int32(), True, None),
    ("height", pa.int32(), True, None),
    ("keypoints", pa.list_(pa.float32(), N_KEYPOINTS * 3), True, N_KEYPOINTS * 3),
    ("joints", pa.list_(pa.float32(), N_JOINTS * 3), True, N_JOINTS * 3),
    ("bbox", pa.list_(pa.float32(), 4), True, 4),
    ("area", pa.float32(), True, None),
    ("character", pa.string(), True, None),
    ("motion", pa.string(), True, None),
    ("frame", pa.int32(), True, None),
    ("camera", pa.string(), True, None),
    ("intrinsics", pa.list_(pa.float32(), 9), True, 9),
    ("extrinsics", pa.list_(pa.float32(), 16), True, 16),
    ("split", pa.string(), True, None),
    ("stylizer", pa.string(), True, None),
    ("style", pa.string(), True, None),
    ("source_id", pa.string(), True, None),
    ("seed", pa.int64(), True, None),
    ("params", pa.string(), False, None),
    *((name, IMAGE_TYPE, False, None) for name in EXTRA_IMAGE_COLUMNS),
)

COLUMNS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c[0] for c in _COLUMNS if c[2])
# Columns whose values may become file or folder names on export (True: sub-folders with '/' allowed);
# the writer refuses and ``validate`` flags values ``rig2sketch.safe_paths.name_problem`` rejects.
NAME_COLUMNS = {"split": False, "character": True, "motion": True, "style": True}
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
        # Read by datasets.Features.from_arrow_schema: the image columns decode as Image features.
        "huggingface": json.dumps({"info": {"features": {name: {"_type": "Image"} for name in IMAGE_COLUMNS}}}),
    }


def arrow_schema(metadata: dict[str, str] | None = None) -> pa.Schema:
    """The v2 Arrow schema with ``base_metadata()`` plus ``metadata`` (keys prefixed ``rig2sketch.``)."""
    fields = [pa.field(name, typ, nullable=not required or name in IMAGE_COLUMNS) for name, typ, required, _ in _COLUMNS]
    meta = base_metadata()
    for key, value in (metadata or {}).items():
        meta[key if key.startswith("rig2sketch.") else f"rig2sketch.{key}"] = str(value)
    return pa.schema(fields, metadata=meta)


SCHEMA = arrow_schema()


def schema_problems(actual: pa.Schema, columns: list[str] | None = None, *, old_ok: bool = False) -> list[str]:
    """What makes ``actual`` not a v2 shard schema (empty: fine), one phrase each: missing
    columns, wrong types, a missing or other schema version. ``columns``: only check these.
    ``old_ok`` (readers): a v1 shard (image columns as plain ``binary``) is fine too."""
    out = []
    version = (actual.metadata or {}).get(b"rig2sketch.schema_version", b"").decode(errors="replace")
    old = old_ok and version == "1"
    for field in SCHEMA:
        if columns is not None and field.name not in columns:
            continue
        expected = pa.binary() if old and field.name in IMAGE_COLUMNS else field.type
        if field.name not in actual.names:
            out.append(f"missing column {field.name!r} ({expected})")
        elif not actual.field(field.name).type.equals(expected):
            out.append(f"column {field.name!r} has type {actual.field(field.name).type}, expected {expected}")
    if version != SCHEMA_VERSION and not old:
        out.append(f"schema version {version or 'missing'!r}, expected {SCHEMA_VERSION!r}")
    return out
