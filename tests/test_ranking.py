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


def _top_by_sorting(scores, day, docnums, k):
    """The reference: every candidate sorted by score desc, newest, docnum."""
    return np.lexsort((docnums, -day.astype(np.int64), -scores))[:k]


def test_top_order_is_the_head_of_the_full_sort_with_ties_and_many_candidates():
    rng = np.random.default_rng(3)
    for trial in range(120):
        n = int(rng.choice([3, 200, ranking.SAMPLE_FROM + 5_000, 80_000]))
        scores = (rng.integers(0, 40, n) / 7).astype(np.float32) if trial % 2 else rng.random(n).astype(np.float32)
        if trial % 3 == 0:
            scores = np.sort(scores)  # the best all at the end: a strided sample sees few of them
        day = rng.integers(0, 4, n).astype(np.int32)
        docnums = np.arange(n)
        k = int(rng.choice([1, 10, 100, n]))
        got = ranking.top_order(scores, day, docnums, k)
        assert np.array_equal(got, _top_by_sorting(scores, day, docnums, k)), (n, k, trial)


def test_top_order_among_scores_all_equal_is_the_newest_then_the_first():
    rng = np.random.default_rng(5)
    for n, k in [(300_000, 10), (300_000, 100), (50, 7), (50, 3)]:
        scores = np.full(n, 0.5, dtype=np.float32)
        day = rng.integers(0, 90, n).astype(np.int32)  # many on one day; 0: undated, last
        docnums = np.sort(rng.choice(10 * n, n, replace=False))
        assert np.array_equal(ranking.top_order(scores, day, docnums, k), _top_by_sorting(scores, day, docnums, k))


def test_kth_largest_among_many_scores():
    scores = np.arange(100_000, dtype=np.float32)[::-1].copy()
    assert ranking.kth_largest(scores, 1) == 99_999 and ranking.kth_largest(scores, 100) == 99_900
    ties = np.concatenate([np.full(50_000, 2.0), np.full(50_000, 1.0)]).astype(np.float32)
    assert ranking.kth_largest(ties, 10) == 2.0 and ranking.kth_largest(ties, 60_000) == 1.0


def test_a_frequent_terms_fields_combine_in_document_arrays_as_a_rare_ones_do():
    rng = np.random.default_rng(2)
    n = 5000
    for trial in range(100):
        ids = {f: np.unique(rng.integers(0, n, int(rng.integers(0, 3000)))).astype(np.int32) for f in ranking.TEXT_FIELDS}
        xs = {f: (rng.random(len(ids[f])) * 3 + 1e-3).astype(np.float32) for f in ids}
        weights = {"title": 0.0 if trial % 3 == 0 else 2.0, "lead": 1.5, "body": 1.0}  # a zero weight too
        sparse = ranking.combine_fields(ids, xs, weights)  # no document count: the sorted union
        dense = ranking.combine_fields(ids, xs, weights, n)  # most of these are frequent enough for it
        assert np.array_equal(sparse[0], dense[0]) and np.array_equal(sparse[1], dense[1]), trial
        assert sparse[0].tolist() == sorted(set().union(*(ids[f].tolist() for f in ids)))


def test_fields_combined_densely_or_not_give_the_same_postings():
    """A frequent term's fields are merged in document-sized arrays: the same doc numbers and
    sums as the merge over the postings themselves."""
    rng = np.random.default_rng(3)
    n = 5000
    ids = {f: np.sort(rng.choice(n, k, replace=False)).astype(np.int32) for f, k in (("title", 300), ("lead", 900), ("body", 2500))}
    xs = {f: rng.random(len(v)).astype(np.float32) + 0.01 for f, v in ids.items()}
    weights = {"title": 2.5, "lead": 1.5, "body": 1.0}
    sparse = ranking.combine_fields(ids, xs, weights)
    dense = ranking.combine_fields(ids, xs, weights, n)
    assert np.array_equal(sparse[0], dense[0]) and np.allclose(sparse[1], dense[1], rtol=1e-6)
    assert dense[0].dtype == np.int32 and len(dense[0]) == len(np.union1d(np.union1d(ids["title"], ids["lead"]), ids["body"]))


def test_weighted_saturation_is_the_formula_bit_for_bit_in_either_precision():
    rng = np.random.default_rng(7)
    for dtype in (np.float32, np.float64):
        tf = (rng.random(1000) * 5).astype(dtype)
        tf[::7] = 0
        got = ranking.weighted_saturate(tf, 2.718281828, 1.2)
        want = 2.718281828 * ranking.saturate(tf, 1.2)
        assert got.dtype == want.dtype == dtype and np.array_equal(got, want)
