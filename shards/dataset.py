"""ShardDataset: a streaming torch dataset over rig2sketch shards (imports torch)."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset

from shards import schema
from shards.reader import PathsLike, count_rows, iter_samples, list_shards


class ShardDataset(IterableDataset):
    """Streaming torch dataset over shards; memory does not grow with dataset size.

    Yields dicts: ``image`` float32 tensor ``3, H, W`` in [0, 1]; ``keypoints`` ``17, 3``;
    ``joints`` ``53, 3``; ``bbox`` ``4``; plus the string/int columns as they are.
    ``transform`` (optional) receives and returns the numpy sample (image ``H, W, 3`` uint8)
    before conversion, e.g. an augmentation. Shards are split across DataLoader workers.
    With ``shuffle_buffer > 0`` rows are shuffled within a buffer using ``seed`` (+ epoch).
    """

    def __init__(
        self,
        paths: PathsLike,
        *,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        columns: list[str] | None = None,
        shuffle_buffer: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.files = list_shards(paths)
        self.transform = transform
        self.columns = columns
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return count_rows(self.files)

    def _rows(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        files = self.files if info is None else self.files[info.id :: info.num_workers]
        if not files:
            return
        yield from iter_samples(files, columns=self.columns, decode_images=True)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rows = self._rows()
        if self.shuffle_buffer > 0:
            rows = _shuffled(rows, self.shuffle_buffer, np.random.default_rng((self.seed, self.epoch)))
        for sample in rows:
            if self.transform is not None:
                sample = self.transform(sample)
            image = torch.from_numpy(np.ascontiguousarray(sample["image"])).permute(2, 0, 1).float() / 255.0
            out = {k: v for k, v in sample.items() if k not in schema.EXTRA_IMAGE_COLUMNS}
            out["image"] = image
            for name in schema.ARRAY_SHAPES:
                if name in out:
                    out[name] = torch.from_numpy(np.asarray(out[name], dtype=np.float32))
            yield out


def _shuffled(rows: Iterator[dict], size: int, rng: np.random.Generator) -> Iterator[dict]:
    buffer: list[dict] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= size:
            yield buffer.pop(int(rng.integers(len(buffer))))
    rng.shuffle(buffer)
    yield from buffer
