"""Partitioning UEs into exactly M prompt groups from their embeddings.

Spherical k-means fits the quantity the schemes are judged by: it maximises
the summed cosine between each prompt and its group's centre, and a public
prompt written near that centre maximises the group's mean phi (eq. 10). When
M is not given, it is the M in 2..min(10, N-1) with the highest mean
silhouette (cosine distance), the usual criterion for "how many clusters are
really there".
"""

from __future__ import annotations

import numpy as np

from hybridnet.errors import HybridnetError

AUTO = "auto"
MAX_AUTO_GROUPS = 10
"""Largest M the "auto" criterion considers."""

SILHOUETTE_SAMPLE = 1500
"""Prompts the silhouette is computed on; a seeded sample keeps it O(1) in N."""

_RESTARTS = 4
_MAX_ITER = 50


def check_num_groups(num_groups: int | str, num_items: int) -> int | str:
    """Validate M against N; "auto" passes through."""
    if num_groups == AUTO:
        return AUTO
    if isinstance(num_groups, bool) or not isinstance(num_groups, int | np.integer):
        raise HybridnetError(f"num_groups must be a positive integer or 'auto', not {num_groups!r}")
    if not 1 <= num_groups <= num_items:
        raise HybridnetError(
            f"num_groups = {num_groups} must lie in 1..{num_items} (the number of prompts)"
        )
    return int(num_groups)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on cosine distance: spread-out starting centres."""
    centres = [x[rng.integers(len(x))]]
    dist = 1.0 - x @ centres[0]
    for _ in range(1, k):
        weights = np.clip(dist, 0.0, None)
        total = weights.sum()
        i = rng.choice(len(x), p=weights / total) if total > 0 else rng.integers(len(x))
        centres.append(x[i])
        dist = np.minimum(dist, 1.0 - x @ x[i])
    return np.array(centres)


def _fill_empty(labels: np.ndarray, k: int, sims: np.ndarray) -> np.ndarray:
    """Give every empty group the member of the largest group that fits its own group worst.

    Needed when N prompts hold fewer than M distinct texts (drawn with
    replacement): identical prompts must then be split for M groups to exist.
    """
    labels = labels.copy()
    for g in range(k):
        if np.any(labels == g):
            continue
        counts = np.bincount(labels, minlength=k)
        donor = int(np.argmax(counts))
        members = np.flatnonzero(labels == donor)
        labels[members[np.argmin(sims[members, donor])]] = g
    return labels


def spherical_kmeans(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Labels 0..k-1 (every group non-empty) maximising the summed cosine to group centres."""
    x = _unit(np.asarray(x, dtype=np.float32))  # float32 halves the matmuls; plenty for argmax
    n = len(x)
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    if k == n:
        return np.arange(n, dtype=np.int64)
    best_labels, best_score = np.zeros(n, dtype=np.int64), -np.inf
    for _ in range(_RESTARTS):
        centres = _plus_plus(x, k, rng)
        labels = np.full(n, -1)
        for _ in range(_MAX_ITER):
            sims = x @ centres.T
            new = _fill_empty(np.argmax(sims, axis=1), k, sims)
            if np.array_equal(new, labels):
                break
            labels = new
            onehot = np.zeros((n, k), dtype=np.float32)
            onehot[np.arange(n), labels] = 1.0
            centres = _unit(onehot.T @ x)
        score = float(np.einsum("ij,ij->", x, centres[labels]))
        if score > best_score:
            best_labels, best_score = labels, score
    return _canonical(best_labels)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Number groups by first appearance, so equal partitions print equally."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(np.argsort(first))
    return order[labels].astype(np.int64)


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient under cosine distance (singletons count 0)."""
    x = _unit(np.asarray(x, dtype=np.float64))
    dist = 1.0 - x @ x.T
    k = int(labels.max()) + 1
    onehot = np.eye(k)[labels]
    counts = onehot.sum(axis=0)
    sums = dist @ onehot
    own = counts[labels] - 1
    a = np.where(own > 0, sums[np.arange(len(x)), labels] / np.maximum(own, 1), 0.0)
    mean_other = sums / np.maximum(counts, 1)
    mean_other[np.arange(len(x)), labels] = np.inf
    b = mean_other.min(axis=1)
    s = np.where(own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def group_embeddings(
    x: np.ndarray, num_groups: int | str, rng: np.random.Generator
) -> np.ndarray:
    """Group labels for the rows of ``x``: exactly ``num_groups`` groups, or chosen by silhouette.

    For "auto" each candidate M is clustered on all prompts and scored on a
    seeded sample of at most :data:`SILHOUETTE_SAMPLE`, the same sample for
    every M so the scores compare.
    """
    n = len(x)
    num_groups = check_num_groups(num_groups, n)
    if num_groups != AUTO:
        return spherical_kmeans(x, int(num_groups), rng)
    if n <= 2:
        return np.zeros(n, dtype=np.int64)
    sample = np.sort(rng.choice(n, size=min(n, SILHOUETTE_SAMPLE), replace=False))
    best, best_score = np.zeros(n, dtype=np.int64), -np.inf
    for k in range(2, min(MAX_AUTO_GROUPS, n - 1) + 1):
        labels = spherical_kmeans(x, k, rng)
        sub = labels[sample]
        if len(np.unique(sub)) < 2:
            continue
        score = silhouette(x[sample], _canonical(sub))
        if score > best_score:
            best, best_score = labels, score
    return best
