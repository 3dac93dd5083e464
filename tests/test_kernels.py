"""The C scoring loops (search/_kernels.c) against the numpy code they stand for: the same
float32 scores to the last bit, whatever the widths of the frequencies and doc numbers."""
import numpy as np
import pytest

from search import _kernels, arrays, ranking

N = 5_000
WEIGHTS = {"title": 1.2, "lead": 5.0, "body": 1.0}


def _postings(rng, share: float, tf_dtype) -> tuple[np.ndarray, np.ndarray]:
    ids = np.flatnonzero(rng.random(N) < share).astype(np.int32)
    tf = rng.integers(1, 40, len(ids)).astype(tf_dtype)
    return ids, tf


def _normalised(field: str, tf, ids, norms, has_lead, weights) -> np.ndarray:
    # Snapshot.normalised's operations: float32 division, a title without a lead weighed as a lead.
    x = np.divide(tf, norms[field][ids], dtype=np.float32)
    if field == "title" and weights["title"]:
        x = x * np.where(has_lead[ids], 1.0, weights["lead"] / weights["title"])
    return x


def _term(seed: int, tf_dtype=np.uint16, shares=(0.05, 0.2, 0.6)):
    rng = np.random.default_rng(seed)
    fields = dict(zip(ranking.TEXT_FIELDS, (_postings(rng, s, tf_dtype) for s in shares)))
    norms = {f: (0.3 + rng.random(N) * 2).astype(np.float32) for f in ranking.TEXT_FIELDS}
    has_lead = rng.random(N) < 0.7
    return fields, norms, has_lead


@pytest.mark.parametrize("tf_dtype", [np.uint8, np.uint16, np.uint32])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_frequent_terms_dense_tf_is_numpys_to_the_bit(tf_dtype, seed):
    fields, norms, has_lead = _term(seed, tf_dtype)
    ids = {f: i for f, (i, _) in fields.items()}
    xs = {f: _normalised(f, tf, i, norms, has_lead, WEIGHTS) for f, (i, tf) in fields.items()}
    want = ranking._dense_sum(ids, xs, WEIGHTS, N, list(ranking.TEXT_FIELDS))
    got = ranking.dense_tf(ids, {f: tf for f, (_, tf) in fields.items()}, norms, has_lead, WEIGHTS, N)
    assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    # A title without a lead weighs as a lead: some documents have only a title and no lead.
    assert (~has_lead[ids["title"]]).any()


@pytest.mark.parametrize("weights", [WEIGHTS, {"title": 0.0, "lead": 2.0, "body": 0.5}, {"title": 3.0, "lead": 0.4, "body": 2.5}])
@pytest.mark.parametrize("shares", [(0.05, 0.2, 0.6), (0.0, 0.3, 0.0), (0.4, 0.0, 0.01), (0.0, 0.0, 0.0)])
def test_a_terms_merged_fields_give_numpys_ids_and_tf(weights, shares):
    fields, norms, has_lead = _term(7, np.uint16, shares)
    present = {f: v for f, v in fields.items() if len(v[0])}
    ids = {f: i for f, (i, _) in present.items()}
    xs = {f: _normalised(f, tf, i, norms, has_lead, weights) for f, (i, tf) in present.items()}
    want_ids, want_tf = ranking.combine_fields(ids, xs, weights)  # the sorted union, in numpy
    got_ids, got_tf = ranking.merged_tf(ids, {f: tf for f, (_, tf) in present.items()}, norms, has_lead, weights)
    assert got_ids.dtype == np.int32 and got_tf.dtype == np.float32
    assert np.array_equal(got_ids, want_ids)
    assert np.array_equal(got_tf.view(np.uint32), np.asarray(want_tf, np.float32).view(np.uint32))
    assert len(got_ids) == len(np.unique(np.concatenate([i for i, _ in fields.values()])))


def test_dense_and_merged_tf_agree_on_every_document():
    fields, norms, has_lead = _term(5)
    ids, tfs = {f: i for f, (i, _) in fields.items()}, {f: tf for f, (_, tf) in fields.items()}
    dense = ranking.dense_tf(ids, tfs, norms, has_lead, WEIGHTS, N)
    got_ids, got_tf = ranking.merged_tf(ids, tfs, norms, has_lead, WEIGHTS)
    assert np.array_equal(np.flatnonzero(dense), got_ids) and np.array_equal(dense[got_ids], got_tf)


@pytest.mark.parametrize("doc_dtype", [np.int32, np.int64])
def test_saturated_scores_are_added_as_numpy_adds_them(doc_dtype):
    rng = np.random.default_rng(3)
    base = rng.random(N).astype(np.float32)
    dense = np.where(rng.random(N) < 0.4, rng.random(N) * 6, 0).astype(np.float32)
    docs = np.flatnonzero(rng.random(N) < 0.3).astype(doc_dtype)
    values = (rng.random(len(docs)) * 5).astype(np.float32)
    cases = [
        (lambda s: ranking.add_weighted_saturated(s, docs, values, 1.7, 1.2),
         lambda s: arrays.scatter_add(s, docs, ranking.weighted_saturate(values, 1.7, 1.2))),
        (lambda s: ranking.add_weighted_saturated(s, None, dense, 0.9, 1.2),
         lambda s: np.add(s, ranking.weighted_saturate(dense, 0.9, 1.2), out=s)),
        (lambda s: ranking.add_weighted_saturated_at(s, docs, dense, 2.3, 0.8),
         lambda s: arrays.scatter_add(s, docs, ranking.weighted_saturate(dense[docs], 2.3, 0.8))),
    ]
    for kernel, numpy_way in cases:
        got, want = base.copy(), base.copy()
        kernel(got)
        numpy_way(want)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
        assert not np.array_equal(got, base)


@pytest.mark.parametrize("doc_dtype", [np.int32, np.int64])
def test_marking_documents_sets_exactly_those(doc_dtype):
    ids = np.array([0, 3, 4, 4, N - 1], dtype=doc_dtype)  # a repeat marks once
    m = np.zeros(N, dtype=bool)
    arrays.mark(m, ids)
    assert np.flatnonzero(m).tolist() == [0, 3, 4, N - 1]
    arrays.mark(m, np.zeros(0, np.int32))
    assert np.count_nonzero(m) == 4


def _sorted_docs(rng, shape: str, n: int) -> np.ndarray:
    if shape == "even":
        return np.sort(rng.choice(1_000_000, size=n, replace=False))
    if shape == "repeated":
        return np.sort(rng.integers(0, 50, size=n))
    if shape == "skewed":  # half at each end: the first guess is far from the answer
        return np.sort(np.concatenate([rng.integers(0, 100, n // 2), rng.integers(900_000, 1_000_000, n - n // 2)]))
    return np.sort(rng.integers(-5, 5, size=n))


@pytest.mark.parametrize("shape", ["even", "repeated", "skewed", "tiny range"])
@pytest.mark.parametrize("widths", [(np.int32, np.int32), (np.int32, np.int64), (np.int64, np.int32), (np.int64, np.int64)])
def test_locating_keys_in_sorted_documents_is_numpys_searchsorted(shape, widths):
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 17, 3000):
        docs = _sorted_docs(rng, shape, n).astype(widths[0])
        top = 60 if shape in ("repeated", "tiny range") else 1_000_010
        keys = np.concatenate([rng.integers(-10, top, 300), docs[rng.integers(0, len(docs), 50)] if n else []])
        for ordered in (keys, np.sort(keys)):  # re-ranked documents come in any order
            k = ordered.astype(widths[1])
            out = np.empty(len(k), np.int64)
            _kernels.locate(docs, k, out)
            assert out.tolist() == np.searchsorted(docs, k).tolist()


def test_bad_arrays_are_refused_with_a_clear_error_not_read_out_of_bounds():
    m = np.zeros(10, dtype=bool)
    with pytest.raises(IndexError, match="document 10 out of range"):
        _kernels.mark(m, np.array([1, 10], np.int32))
    with pytest.raises(IndexError, match="out of range"):
        _kernels.mark(m, np.array([-1], np.int64))
    with pytest.raises(TypeError, match="ids"):
        _kernels.mark(m, np.array([1.0]))
    with pytest.raises(TypeError, match="mask"):
        _kernels.mark(np.zeros(10, np.int8), np.array([1], np.int32))
    with pytest.raises(ValueError, match="contiguous"):
        _kernels.mark(np.zeros(10, dtype=bool)[::2], np.array([1], np.int32))  # not contiguous
    s = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="differ in length"):
        _kernels.add_saturated(s, np.array([1, 2], np.int32), np.ones(3, np.float32), 1.0, 1.2, False)
    with pytest.raises(ValueError, match="differ in length"):
        _kernels.add_saturated(s, np.array([1, 2], np.int32), np.ones(2, np.float32), 1.0, 1.2, True)
    with pytest.raises(IndexError):
        _kernels.add_saturated(s, np.array([11], np.int32), np.ones(10, np.float32), 1.0, 1.2, True)
    with pytest.raises(TypeError, match="tf"):
        _kernels.field_into(s, np.array([1], np.int32), np.array([1.5]), np.ones(10, np.float32), 1.0, 2, None, 1.0)
    with pytest.raises(ValueError, match="how"):
        _kernels.field_into(s, np.array([1], np.int32), np.array([1], np.uint16), np.ones(10, np.float32), 1.0, 5, None, 1.0)
    one = np.ones(10, np.float32)
    empty_ids, empty_tf = np.zeros(0, np.int32), np.zeros(0, np.uint16)
    out_ids, out_tf = np.empty(4, np.int32), np.empty(4, np.float32)
    with pytest.raises(ValueError, match="ascending"):
        _kernels.merged_fields(empty_ids, empty_tf, empty_ids, empty_tf, np.array([3, 1], np.int32),
                               np.array([1, 1], np.uint16), one, one, one, np.ones(10, bool), 1.0, 1.0, 1.0, 1.0,
                               out_ids, out_tf)
    with pytest.raises(ValueError, match="as long as"):
        _kernels.merged_fields(empty_ids, empty_tf, empty_ids, empty_tf, np.arange(5, dtype=np.int32),
                               np.ones(5, np.uint16), one, one, one, np.ones(10, bool), 1.0, 1.0, 1.0, 1.0,
                               out_ids, out_tf)


def test_locating_refuses_an_output_of_another_length_or_type():
    docs, keys = np.arange(10, dtype=np.int32), np.array([3, 4], np.int32)
    with pytest.raises(ValueError, match="one a key"):
        _kernels.locate(docs, keys, np.empty(3, np.int64))
    with pytest.raises(TypeError, match="out"):
        _kernels.locate(docs, keys, np.empty(2, np.int32))
    with pytest.raises(TypeError, match="keys"):
        _kernels.locate(docs, keys.astype(float), np.empty(2, np.int64))


def test_facet_counting_refuses_values_and_pairs_out_of_range():
    counts, mask = np.zeros(3, np.int64), np.ones(10, bool)
    with pytest.raises(IndexError, match="out of range"):
        _kernels.count_masked(counts, mask, np.array([1, 2], np.int32), np.array([0, 3], np.int32))
    with pytest.raises(IndexError, match="out of range"):
        _kernels.count_docs(counts, np.array([1], np.int32), np.array([0, 1, 5], np.int64), np.array([0, 1], np.int32))
    with pytest.raises(TypeError, match="counts"):
        _kernels.count_masked(np.zeros(3, np.int32), mask, np.array([1], np.int32), np.array([0], np.int32))
    counts = np.zeros(3, np.int64)
    _kernels.count_docs(counts, np.array([0, 1], np.int64), np.array([0, 1, 3], np.int64), np.array([2, 0, 2], np.int32))
    assert counts.tolist() == [1, 0, 2]


@pytest.mark.parametrize("doc_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("day_dtype", [np.int32, np.int64])
def test_the_dated_documents_years_and_span_are_numpys(doc_dtype, day_dtype):
    rng = np.random.default_rng(7)
    day = rng.integers(19_900_101, 20_251_231, size=5_000).astype(day_dtype)
    day[rng.random(5_000) < 0.2] = 0  # undated
    docs = np.flatnonzero(rng.random(5_000) < 0.4).astype(doc_dtype)
    per_year = np.zeros(10_000, np.int64)
    first, last = _kernels.dated_years(day, docs, per_year)
    dated = day[docs][day[docs] > 0]
    assert (first, last) == (int(dated.min()), int(dated.max()))
    assert per_year.tolist() == np.bincount(dated // 10_000, minlength=10_000).tolist()
    assert _kernels.dated_years(day, np.zeros(0, doc_dtype), np.zeros(10_000, np.int64)) == (0, 0)


def test_dated_years_refuse_a_document_or_a_year_out_of_range():
    day = np.array([20230614, 0, 20240101], np.int32)
    with pytest.raises(IndexError, match="out of range"):
        _kernels.dated_years(day, np.array([0, 3], np.int32), np.zeros(10_000, np.int64))
    with pytest.raises(IndexError, match="past the 2024 years"):
        _kernels.dated_years(day, np.array([0, 2], np.int32), np.zeros(2024, np.int64))
    with pytest.raises(TypeError, match="per_year"):
        _kernels.dated_years(day, np.array([0], np.int32), np.zeros(10_000, np.int32))


@pytest.mark.parametrize("doc_dtype", [np.int32, np.int64])
def test_the_stories_of_documents_sharing_theirs_are_numpys(doc_dtype):
    rng = np.random.default_rng(3)
    story_of = rng.integers(0, 3_000, size=4_000).astype(np.int64)
    in_multi = np.bincount(story_of, minlength=3_000)[story_of] > 1
    docs = np.flatnonzero(rng.random(4_000) < 0.5).astype(doc_dtype)
    out = np.full(len(docs) + 3, -1, np.int64)
    k = _kernels.multi_stories(docs, story_of, in_multi, out)
    assert out[:k].tolist() == story_of[docs[in_multi[docs]]].tolist()
    assert 0 < k < len(docs) and (out[k:] == -1).all()
    with pytest.raises(IndexError, match="out of range"):
        _kernels.multi_stories(np.array([4_000], doc_dtype), story_of, in_multi, out)
    with pytest.raises(ValueError, match="shorter"):
        _kernels.multi_stories(docs, story_of, in_multi, np.zeros(len(docs) - 1, np.int64))
    with pytest.raises(TypeError, match="story_of"):
        _kernels.multi_stories(docs, story_of.astype(np.int32), in_multi, out)


@pytest.mark.parametrize("weights", [WEIGHTS, {"title": 3.0, "lead": 0.4, "body": 2.5}])
@pytest.mark.parametrize("tf_dtype", [np.uint8, np.uint16, np.uint32])
@pytest.mark.parametrize("doc_dtype", [np.int32, np.int64])
def test_a_terms_tf_at_some_documents_is_its_merged_tf_there(weights, tf_dtype, doc_dtype):
    fields, norms, has_lead = _term(11, tf_dtype, (0.05, 0.2, 0.3))
    ids = {f: i for f, (i, _) in fields.items()}
    tfs = {f: tf for f, (_, tf) in fields.items()}
    all_ids, all_tf = ranking.merged_tf(ids, tfs, norms, has_lead, weights)
    rng = np.random.default_rng(4)
    for docs in (np.sort(rng.choice(N, 700, replace=False)), np.arange(N), rng.permutation(N)[:300],  # any order
                 np.array([N - 1, 0, 17, 17]), np.zeros(0, np.int64)):
        docs = docs.astype(doc_dtype)
        present, values = ranking.tf_at(docs, ids, tfs, norms, has_lead, weights)
        loc = np.minimum(np.searchsorted(all_ids, docs), len(all_ids) - 1)
        want = all_ids[loc] == docs
        assert np.array_equal(present, want)
        assert values.dtype == np.float32 and np.array_equal(values.view(np.uint32), all_tf[loc[want]].view(np.uint32))


def test_tf_at_refuses_documents_out_of_range_and_outputs_of_another_length():
    one, lead = np.ones(10, np.float32), np.ones(10, bool)
    ids, tf = np.array([2, 5], np.int32), np.array([1, 3], np.uint16)
    empty_ids, empty_tf = np.zeros(0, np.int32), np.zeros(0, np.uint16)
    args = (ids, tf, empty_ids, empty_tf, ids, tf, one, one, one, lead, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(IndexError, match="document 10 out of range"):
        _kernels.fields_at(np.array([2, 10], np.int64), *args, np.empty(2, bool), np.empty(2, np.float32))
    with pytest.raises(ValueError, match="one a document"):
        _kernels.fields_at(np.array([2, 5], np.int32), *args, np.empty(3, bool), np.empty(2, np.float32))
    with pytest.raises(TypeError, match="docs"):
        _kernels.fields_at(np.array([2.0]), *args, np.empty(1, bool), np.empty(1, np.float32))
    with pytest.raises(ValueError, match="differ in length"):
        _kernels.fields_at(np.array([2], np.int32), ids, tf[:1], *args[2:], np.empty(1, bool), np.empty(1, np.float32))
