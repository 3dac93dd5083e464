"""The numpy helpers of the engine's hot paths (arrays.py)."""
from __future__ import annotations

import numpy as np
import pytest

from search import arrays


def test_sorted_unique_is_numpys_unique():
    assert arrays.sorted_unique(np.array([5, 1, 5, 3, 1], dtype=np.int32)).tolist() == [1, 3, 5]
    assert arrays.sorted_unique(np.array([], dtype=np.int32)).tolist() == []
    assert arrays.sorted_unique(np.array([7])).tolist() == [7]
    rng = np.random.default_rng(7)
    for _ in range(200):
        a = rng.integers(0, 40, rng.integers(0, 60))
        assert np.array_equal(arrays.sorted_unique(a), np.unique(a))


def test_sorted_unique_merges_sorted_parts():
    parts = [np.array([2, 4, 9], np.int32), np.array([1, 4, 10], np.int32), np.array([9], np.int32)]
    got = arrays.sorted_unique(np.concatenate(parts))
    assert got.tolist() == [1, 2, 4, 9, 10] and got.dtype == np.int32


def test_sorted_intersect_is_numpys_intersect1d():
    assert arrays.sorted_intersect(np.array([1, 3, 5, 7]), np.array([3, 4, 7, 9])).tolist() == [3, 7]
    assert arrays.sorted_intersect(np.array([], np.int32), np.array([1, 2])).tolist() == []
    assert arrays.sorted_intersect(np.array([9]), np.array([1, 2])).tolist() == []
    rng = np.random.default_rng(11)
    for _ in range(200):
        a = np.unique(rng.integers(0, 50, rng.integers(0, 30)))
        b = np.unique(rng.integers(0, 50, rng.integers(0, 30)))
        assert np.array_equal(arrays.sorted_intersect(a, b), np.intersect1d(a, b))


@pytest.mark.parametrize("n", [10, arrays.LOCATE_FROM, 50_000])
def test_locate_is_numpys_searchsorted_below_and_above_the_kernels_size(n):
    rng = np.random.default_rng(3)
    docs = np.sort(rng.choice(10 * n, size=n, replace=False)).astype(np.int32)
    keys = rng.integers(-1, 10 * n + 2, 500)
    assert arrays.locate(docs, keys).tolist() == np.searchsorted(docs, keys).tolist()
    assert arrays.locate(docs, keys.astype(np.uint32)).tolist() == np.searchsorted(docs, keys.astype(np.uint32)).tolist()


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.intp])
def test_scatter_is_fancy_assignment(dtype):
    rng = np.random.default_rng(3)
    ids = rng.choice(500, 120, replace=False).astype(dtype)  # in no order
    for values in (True, rng.random(120).astype(np.float32)):
        dtype_of = bool if values is True else np.float32
        got, want = np.zeros(500, dtype_of), np.zeros(500, dtype_of)
        arrays.scatter(got, ids, values)
        want[ids] = values
        assert np.array_equal(got, want) and got.any()
    empty = np.zeros(5, bool)
    arrays.scatter(empty, np.zeros(0, dtype), True)
    assert not empty.any()


def test_scatter_add_is_fancy_add_for_distinct_ids():
    rng = np.random.default_rng(7)
    target = rng.random(1000).astype(np.float32)
    ids = np.sort(rng.choice(1000, 300, replace=False)).astype(np.int32)
    values = rng.random(300).astype(np.float32)
    want = target.copy()
    want[ids] += values
    arrays.scatter_add(target, ids, values)
    assert target.dtype == np.float32 and np.array_equal(target, want)


def test_masked_is_boolean_indexing():
    rng = np.random.default_rng(11)
    a = rng.integers(0, 1000, 5000).astype(np.int32)
    mask = rng.random(5000) < 0.3
    got = arrays.masked(a, mask)
    assert got.dtype == np.int32 and np.array_equal(got, a[mask])
    assert len(arrays.masked(a, np.zeros(5000, dtype=bool))) == 0


def test_sorted_union_gives_the_distinct_values_and_where_each_part_lands():
    title = np.array([3, 9, 40], dtype=np.int32)
    lead = np.array([1, 3, 41], dtype=np.int32)
    body = np.array([0, 1, 3, 9, 12, 41, 70], dtype=np.int32)
    union, (at_title, at_lead, at_body) = arrays.sorted_union([title, lead, body])
    assert union.tolist() == [0, 1, 3, 9, 12, 40, 41, 70]
    assert union[at_title].tolist() == title.tolist() and union[at_lead].tolist() == lead.tolist()
    assert union[at_body].tolist() == body.tolist()
    alone, (at,) = arrays.sorted_union([body])
    assert alone.tolist() == body.tolist() and at.tolist() == list(range(len(body)))


@pytest.mark.parametrize("index_type", [np.int32, np.intp])
def test_gather_is_fancy_indexing(index_type):
    rng = np.random.default_rng(7)
    for a in (rng.random(1000).astype(np.float32), rng.random(1000) < 0.3, rng.integers(0, 9, 1000, dtype=np.int64)):
        idx = np.sort(rng.choice(1000, 300, replace=False)).astype(index_type)
        assert np.array_equal(arrays.gather(a, idx), a[idx]) and arrays.gather(a, idx).dtype == a.dtype
        assert len(arrays.gather(a, idx[:0])) == 0
