"""The shard contract: schema v1, writer, reader, validator and the torch dataset.

Every stage reads and writes datasets through this package. ``ShardDataset`` imports torch
and is loaded on first use.
"""

from shards.images import decode_png, encode_png
from shards.checksum import ShardError
from shards.reader import count_rows, iter_samples, list_shards, shard_content_id, shard_metadata
from shards.schema import COLUMNS, SCHEMA, SCHEMA_VERSION
from shards.validate import Problem, validate_dataset
from shards.writer import ShardStats, ShardWriter

__all__ = [
    "COLUMNS", "SCHEMA", "SCHEMA_VERSION", "Problem", "ShardDataset", "ShardError", "ShardStats", "ShardWriter",
    "count_rows", "decode_png", "encode_png", "iter_samples", "list_shards", "shard_content_id", "shard_metadata",
    "validate_dataset",
]


def __getattr__(name: str):
    if name == "ShardDataset":
        from shards.dataset import ShardDataset

        return ShardDataset
    raise AttributeError(f"module 'shards' has no attribute {name!r}")
