"""Scoring functions (ranking.py)."""
from __future__ import annotations

import numpy as np

from search import ranking


def _field(rng, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.sort(rng.choice(n, size=k, replace=False)).astype(np.int32)
    return ids, rng.random(k).astype(np.float32) + 0.1


def test_a_frequent_term_merges_its_fields_densely_with_the_same_result():
    rng = np.random.default_rng(7)
    weights = ranking.DEFAULT_PARAMS.weights
    for n, sizes in ((50, (40, 30, 45)), (1000, (3, 0, 700)), (1000, (5, 2, 9)), (64, (0, 0, 64))):
        ids, xs = {}, {}
        for f, k in zip(ranking.TEXT_FIELDS, sizes):
            if k:
                ids[f], xs[f] = _field(rng, n, k)
        sparse = ranking.combine_fields(ids, xs, weights)
        dense = ranking.combine_fields(ids, xs, weights, n)
        assert np.array_equal(sparse[0], dense[0])
        assert np.array_equal(sparse[1], dense[1])
        # Title and lead: the better of the two; body added.
        for j, d in enumerate(dense[0][:20]):
            best = max((weights[f] * xs[f][ids[f] == d][0] for f in ("title", "lead") if f in ids and d in ids[f]), default=0.0)
            body = weights["body"] * xs["body"][ids["body"] == d][0] if "body" in ids and d in ids["body"] else 0.0
            assert dense[1][j] == np.float32(np.float32(best) + np.float32(body))
