"""Session-wide test setup: one Prefect test harness, no network, Prefect quiet."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Hugging Face datasets reads local folders only (tests/test_hub.py): never the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def prefect_harness():
    """Run flows against one temporary Prefect server for the whole session (started on first use)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def stick_figure_shards(tmp_path_factory):
    """``size (w, h) -> folder`` of a 3-row stick-figure shard (seed 1), made once per size."""
    import numpy as np

    from evaluation import stickfigures

    made: dict[tuple[int, int], str] = {}

    def make(size: tuple[int, int]) -> str:
        if size not in made:
            out = tmp_path_factory.mktemp("figures")
            stickfigures.write_dataset(out, 3, size, np.random.default_rng(1))
            made[size] = str(out)
        return made[size]

    return make
