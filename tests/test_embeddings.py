"""Eq. (10) embeddings: the authors' matrix, no network, the disk cache."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from hybridnet.prompts import embeddings
from hybridnet.prompts.corpus import resolve_corpus, semct_similarity_matrix
from hybridnet.threads import torch_threads


def test_eq10_reproduces_the_authors_similarity_matrix():
    ours = embeddings.similarity_matrix(resolve_corpus("semct"))
    theirs = semct_similarity_matrix()
    assert ours.shape == theirs.shape == (22, 22)
    assert np.max(np.abs(ours - theirs)) <= 2e-3


def test_embedding_never_reaches_the_network(tmp_path, monkeypatch):
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)  # recorded, since a library might swallow the exception
        raise OSError("network access attempted")

    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))  # nothing cached: the model must run
    embeddings._load_model.cache_clear()  # load the model again, under the guard
    with monkeypatch.context() as guard:
        guard.setattr(socket, "socket", refuse)
        guard.setattr(socket, "create_connection", refuse)
        guard.setattr(socket, "getaddrinfo", refuse)
        vectors = embeddings.embed(["a cat on a windowsill", "a dog in the snow"])
    assert attempts == []
    assert vectors.shape == (2, embeddings.EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_second_run_is_served_from_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))
    texts = ["a red fox in fresh snow", "a lighthouse at dusk", "a red fox in fresh snow"]
    encoded: list[list[str]] = []
    real_encode = embeddings._encode

    def counting(batch):
        encoded.append(list(batch))
        return real_encode(batch)

    monkeypatch.setattr(embeddings, "_encode", counting)
    first = embeddings.embed(texts)
    assert encoded == [["a red fox in fresh snow", "a lighthouse at dusk"]]  # duplicates once
    assert len(list(embeddings.cache_dir().rglob("*"))) > 0
    assert str(tmp_path) in str(embeddings.cache_dir())

    def no_model(batch):
        raise AssertionError("the model ran although every text was cached")

    monkeypatch.setattr(embeddings, "_encode", no_model)
    second = embeddings.embed(texts)
    np.testing.assert_array_equal(first, second)


def test_a_damaged_cache_file_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))
    good = embeddings.embed(["a paper boat in a puddle"])
    (path,) = [p for p in embeddings.cache_dir().rglob("*") if p.is_file()]
    path.write_bytes(b"truncated")
    again = embeddings.embed(["a paper boat in a puddle"])
    np.testing.assert_allclose(again, good, atol=1e-6)
    assert path.stat().st_size == embeddings.EMBEDDING_DIM * 4


def test_cosine_is_scale_free():
    a = np.array([[3.0, 4.0], [1.0, 0.0]])
    b = np.array([[6.0, 8.0], [0.0, 2.0]])
    np.testing.assert_allclose(embeddings.cosine_matrix(a, b), [[1.0, 0.8], [0.6, 0.0]])
    np.testing.assert_allclose(embeddings.paired_cosine(a, b), [1.0, 0.0])


def test_the_model_runs_on_one_torch_thread_and_gives_the_count_back(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    seen: list[int] = []

    class Model:
        def encode(self, texts, **options):
            seen.append(torch.get_num_threads())
            return np.ones((len(texts), embeddings.EMBEDDING_DIM), dtype=np.float32)

    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))  # a miss: the model must run
    monkeypatch.setattr(embeddings, "_load_model", Model)
    with torch_threads(2):
        embeddings.embed(["a prompt never embedded before"])
        assert torch.get_num_threads() == 2
    assert seen == [1]
