"""The shard contract: schema v2, file layout, writer, reader, validator and the torch dataset.

Every stage reads and writes datasets through this package. ``ShardDataset`` imports torch
and is loaded on first use.
"""

from shards.images import decode_png, encode_png
from shards.checksum import ShardError
from shards.layout import dataset_files, has_shards, reports_dir, shard_path
from shards.reader import count_rows, iter_samples, list_shards, shard_content_id, shard_metadata
from shards.schema import COLUMNS, SCHEMA, SCHEMA_VERSION, SPLITS
from shards.validate import Problem, validate_dataset
from shards.writer import ShardStats, ShardWriter

__all__ = [
    "COLUMNS", "SCHEMA", "SCHEMA_VERSION", "SPLITS", "Problem", "ShardDataset", "ShardError", "ShardStats",
    "ShardWriter", "count_rows", "dataset_files", "decode_png", "encode_png", "has_shards", "iter_samples",
    "list_shards", "reports_dir", "shard_content_id", "shard_metadata", "shard_path", "validate_dataset",
]


def __getattr__(name: str):
    if name == "ShardDataset":
        from shards.dataset import ShardDataset

        return ShardDataset
    raise AttributeError(f"module 'shards' has no attribute {name!r}")
