"""Test-wide settings: a private cache directory and a headless plotting backend."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep embeddings and cached checkpoints of the tests out of the user's cache."""
    os.environ["HYBRIDNET_CACHE"] = str(tmp_path_factory.mktemp("hybridnet-cache"))
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def one_torch_thread():
    """Tiny networks gain nothing from threads, and a busy machine makes them slow."""
    from hybridnet.threads import torch_threads

    with torch_threads(1):
        yield
