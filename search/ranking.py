"""Scoring: BM25F over title, lead and body, then a re-ranking of the top with proximity.

Small pure functions on numpy arrays (bm25s style), so that the engine can score the
candidate set itself, exactly, instead of Whoosh's pure-Python collectors.

Stage 1 (every matching document), per query term ``t``::

    x_f   = tf_f / (1 - b_f + b_f * len_f / avglen_f)            length-normalised tf per field
    tf~   = max(w_title * x_title, w_lead * x_lead) + w_body * x_body
    score = sum_t idf(t) * tf~ / (k1 + tf~)

Title and lead are both summaries of the story: a word found in both counts once, at the
better of the two weights (a plain BM25F sum lets a headline that merely repeats the lead
outrank a dispatch that has no headline at all, as wire dispatches often do not). A document
without a lead has its title as only summary, and the title then weighs as a lead (``w_lead``);
a dispatch with neither has its opening sentence indexed as its lead (``Dispatch.summary``).

Query words typed with a capital inside the query (names: ``Stoltenberg``, ``Vilnius``) have
their idf multiplied by ``name_boost``.

Stage 2 (the ``rerank_depth`` best of stage 1), position features:

* the opening of the body (first ``opening`` words) restates the story: occurrences there
  count ``opening_weight`` extra times in ``tf~`` (``opening_weight_no_lead`` for documents
  without a lead, whose opening is not a summary: a paragraph taken from a longer text);
* proximity (BM25TP, Rasolofo & Savoy): each pair of distinct query words found within
  ``window`` words of each other in the lead or body adds ``min(idf) * acc / (k + acc)``
  with ``acc = sum 1 / distance**2``;
* then, among the ``exact_depth`` best, the words as typed: for each word, ``idf x`` the
  share of its stem's occurrences in the document that have exactly the typed (folded)
  form, times ``exact_weight`` (Snowball conflates ``France`` and ``français``).

The ranking is a total order (ties: newest first, then index order), and the re-ranked depth
does not depend on the page asked for, so the top-k of any page size is the top of the full
ranking.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import _kernels, arrays

TEXT_FIELDS = ("title", "lead", "body")


@dataclass(frozen=True)
class RankingParams:
    """Ranking constants, tuned on the dev sets with ``depeche eval`` (one set for both corpora)."""

    k1: float = 1.5
    weights: dict = field(default_factory=lambda: {"title": 1.2, "lead": 5.0, "body": 1.0})
    b: dict = field(default_factory=lambda: {"title": 0.3, "lead": 0.4, "body": 0.6})
    idf_power: float = 1.0
    # Words typed with a capital inside the query (names) weigh this much more.
    name_boost: float = 1.3
    rerank_depth: int = 100
    opening: int = 40
    opening_weight: float = 2.0
    opening_weight_no_lead: float = 0.0
    window: int = 5
    proximity_k: float = 1.0
    proximity_weights: dict = field(default_factory=lambda: {"lead": 0.2, "body": 0.2})
    # Re-ranking of the best ``exact_depth``: documents using the typed forms of the words.
    exact_weight: float = 0.2
    exact_depth: int = 10
    # Plain words: all words required when at least this many documents have them all,
    # otherwise ranked partial matches.
    and_min_results: int = 10
    # A word absent from the index is searched as its spelling correction (as if typed so).
    correct_unknown: bool = True
    # A third-person plural (``perdent``, which Snowball leaves whole) is also searched as its
    # singular's stem when that stem is this many times more frequent (nouns in -ent are not).
    verb_plurals: float = 2.0


DEFAULT_PARAMS = RankingParams()


# A term with at least one posting per this many documents merges its fields densely.
DENSE_MERGE_RATIO = 16


def idf(df: int, n: int, power: float = 1.0) -> float:
    """BM25 inverse document frequency (always positive)."""
    if df <= 0 or n <= 0:
        return 0.0
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5)) ** power


def norm_tf(tf: np.ndarray, length: np.ndarray, avglen: float, b: float) -> np.ndarray:
    """Length-normalised term frequency of one field."""
    return tf / length_norm(length, avglen, b)


def length_norm(length: np.ndarray, avglen: float, b: float) -> np.ndarray:
    """What ``norm_tf`` divides a field's term frequency by, for each document."""
    return 1.0 - b + b * length / max(avglen, 1e-9)


def saturate(tf: np.ndarray, k1: float) -> np.ndarray:
    """BM25 saturation tf / (k1 + tf)."""
    return tf / (k1 + tf)


def weighted_saturate(tf: np.ndarray, weight: float, k1: float) -> np.ndarray:
    """``weight * saturate(tf, k1)`` by the same operations, in one new buffer: over every
    document, each temporary is four megabytes a million dispatches to fault in."""
    out = np.add(tf, float(k1))  # Python floats, as in saturate: the array's precision
    np.divide(tf, out, out=out)
    return np.multiply(out, float(weight), out=out)


def add_weighted_saturated(scores: np.ndarray, docs: np.ndarray | None, tf: np.ndarray, weight: float, k1: float) -> None:
    """``scores[docs] += weighted_saturate(tf, weight, k1)`` (float32, ``docs`` distinct), each
    value read once (search/_kernels.c); ``docs`` None: ``tf`` has a value a document of
    ``scores``, 0 where the term is absent."""
    _kernels.add_saturated(scores, docs, tf, float(weight), float(k1), False)


def add_weighted_saturated_at(scores: np.ndarray, docs: np.ndarray, dense: np.ndarray, weight: float, k1: float) -> None:
    """``add_weighted_saturated(scores, docs, dense[docs], weight, k1)`` without gathering first."""
    _kernels.add_saturated(scores, docs, dense, float(weight), float(k1), True)


def combine_fields(ids_by_field: dict, xs_by_field: dict, weights: dict, n: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(ids, tf~) of one term: max of weighted title/lead, plus weighted body.

    ``ids_by_field[f]`` are sorted doc numbers, ``xs_by_field[f]`` their normalised tf; ``n``
    (the number of documents, if known) lets a frequent term merge its fields in linear time.
    """
    present = [f for f in TEXT_FIELDS if len(ids_by_field.get(f, ()))]
    if not present:
        return np.zeros(0, np.int32), np.zeros(0, np.float32)
    if is_dense(ids_by_field, n):
        return _combine_dense(ids_by_field, xs_by_field, weights, n)
    ids, locs = arrays.sorted_union([ids_by_field[f] for f in present])
    return ids.astype(np.int32, copy=False), combine_at(dict(zip(present, locs)), xs_by_field, weights, False, len(ids))


def is_dense(ids_by_field: dict, n: int) -> bool:
    """Whether a term has enough postings to be combined in a document-sized array."""
    return is_dense_count(sum(len(ids_by_field.get(f, ())) for f in TEXT_FIELDS), n)


def is_dense_count(postings: int, n: int) -> bool:
    """``is_dense`` for a term of ``postings`` postings over the text fields."""
    return bool(n) and postings * DENSE_MERGE_RATIO >= n


# How each text field enters the dense tf~ (search/_kernels.c): the title's maximum taken in
# float64 after weighing a title without a lead as a lead, the lead's in float32, the body added.
_FIELD_HOW = {"title": 0, "lead": 1, "body": 2}


def dense_tf(ids_by_field: dict, tf_by_field: dict, norms: dict, has_lead: np.ndarray, weights: dict,
             n: int) -> np.ndarray | None:
    """``combine_fields``' tf~ of every document (0 where the term is absent), in one
    document-sized array, from each field's raw frequencies and length divisors (``norms[f]``,
    ``length_norm``'s, float32): ``Snapshot.normalised`` then ``_dense_sum``, the same float
    operations, each posting read once (search/_kernels.c). None when some weight is not
    positive, as a 0 would then not say that the term is absent."""
    present = [f for f in TEXT_FIELDS if len(ids_by_field.get(f, ()))]
    if not all(weights[f] > 0 for f in present):
        return None
    summary = np.zeros(n, np.float32)
    ratio = _lead_ratio(weights)
    for f in present:
        _kernels.field_into(summary, ids_by_field[f], tf_by_field[f], norms[f], float(weights[f]), _FIELD_HOW[f],
                            has_lead, ratio)
    return summary


_NO_POSTINGS = (np.zeros(0, np.int32), np.zeros(0, np.uint16))


def merged_tf(ids_by_field: dict, tf_by_field: dict, norms: dict, has_lead: np.ndarray,
              weights: dict) -> tuple[np.ndarray, np.ndarray]:
    """``combine_fields``' (ids, tf~) from each field's raw frequencies and length divisors
    (``norms``: every text field's, float32; ``has_lead``: a bool a document), the fields' postings merged in
    one pass (search/_kernels.c): the same float operations as ``Snapshot.normalised`` then
    ``combine_fields``."""
    args = []
    for f in TEXT_FIELDS:
        ids, tf = (ids_by_field[f], tf_by_field[f]) if f in ids_by_field else _NO_POSTINGS
        args += [ids, tf]
    size = sum(len(ids_by_field.get(f, ())) for f in TEXT_FIELDS)
    out_ids, out_tf = np.empty(size, np.int32), np.empty(size, np.float32)
    got = _kernels.merged_fields(*args, *[norms[f] for f in TEXT_FIELDS], has_lead,
                                 float(weights["title"]), float(weights["lead"]), float(weights["body"]),
                                 _lead_ratio(weights), out_ids, out_tf)
    return out_ids[:got].copy(), out_tf[:got].copy()


def tf_at(docs: np.ndarray, ids_by_field: dict, tf_by_field: dict, norms: dict, has_lead: np.ndarray,
          weights: dict) -> tuple[np.ndarray, np.ndarray]:
    """(which of ``docs`` have the term, their tf~): ``merged_tf``'s values at them, each found
    in its fields' postings from where the one before fell (search/_kernels.c; ascending
    documents cost least)."""
    args = []
    for f in TEXT_FIELDS:
        ids, tf = (ids_by_field[f], tf_by_field[f]) if f in ids_by_field else _NO_POSTINGS
        args += [ids, tf]
    present, values = np.empty(len(docs), dtype=bool), np.empty(len(docs), np.float32)
    _kernels.fields_at(np.ascontiguousarray(docs), *args, *[norms[f] for f in TEXT_FIELDS], has_lead,
                       float(weights["title"]), float(weights["lead"]), float(weights["body"]), _lead_ratio(weights),
                       present, values)
    return present, arrays.masked(values, present)


def _lead_ratio(weights: dict) -> float:
    # A title without a lead weighs as a lead; with no title weight, nothing to scale.
    return weights["lead"] / weights["title"] if weights["title"] else 1.0


def _dense_sum(ids_by_field: dict, xs_by_field: dict, weights: dict, n: int, present: list[str]) -> np.ndarray:
    summary = np.zeros(n, np.float32)
    for f in present:
        fi = ids_by_field[f]
        if f == "body":
            arrays.scatter_add(summary, fi, weights[f] * xs_by_field[f])
        else:
            arrays.scatter(summary, fi, np.maximum(arrays.gather(summary, fi), weights[f] * xs_by_field[f]))
    return summary


def combine_at(at_by_field: dict, xs_by_field: dict, weights: dict, dense: bool, count: int) -> np.ndarray:
    """The tf~ of ``count`` documents, from where each field's postings fall among them
    (``at_by_field[f]``: distinct positions) and their normalised tf: max of weighted title and
    lead, plus weighted body, by the float32 operations ``combine_fields`` (or, ``dense``,
    ``dense_tf``) does: a term read at a few documents scores them as read whole."""
    summary = np.zeros(count, np.float32)
    for f in ("title", "lead"):
        if f in at_by_field:
            # A field's postings are distinct: a plain gather/scatter takes the maximum.
            at = at_by_field[f]
            summary[at] = np.maximum(summary[at], weights[f] * xs_by_field[f])
    if "body" in at_by_field:
        if dense:
            arrays.scatter_add(summary, at_by_field["body"], weights["body"] * xs_by_field["body"])
        else:
            total = np.zeros(count, np.float32)
            total[at_by_field["body"]] += weights["body"] * xs_by_field["body"]
            summary = summary + total
    return summary


def _combine_dense(ids_by_field: dict, xs_by_field: dict, weights: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``combine_fields`` for a frequent term: the same sums in document-sized arrays, linear in
    the documents where searching each field's postings in the union is not."""
    present = [f for f in TEXT_FIELDS if len(ids_by_field.get(f, ()))]
    # With positive weights, a document has the term exactly where its sum is positive.
    seen = None if all(weights[f] > 0 for f in present) else np.zeros(n, dtype=bool)
    summary = _dense_sum(ids_by_field, xs_by_field, weights, n, present)
    if seen is not None:
        for f in present:
            arrays.mark(seen, ids_by_field[f])
    # Compared first: numpy finds the non-zero entries of a bool array ten times faster than
    # those of a float array (13 ms against 1 ms over a million documents).
    ids = np.flatnonzero(summary != 0 if seen is None else seen).astype(np.int32)
    return ids, summary[ids]


def proximity(events: list[tuple[int, int]], idfs: list[float], window: int, k: float) -> float:
    """BM25TP proximity of one field: ``events`` are (position, query-term index) pairs."""
    if len(events) < 2:
        return 0.0
    events.sort()
    acc: dict[tuple[int, int], float] = {}
    prev_pos, prev_t = events[0]
    for pos, t in events[1:]:
        if t != prev_t:
            d = pos - prev_pos
            if 0 < d <= window:
                key = (prev_t, t) if prev_t < t else (t, prev_t)
                acc[key] = acc.get(key, 0.0) + 1.0 / (d * d)
        prev_pos, prev_t = pos, t
    return sum(min(idfs[a], idfs[b]) * v / (k + v) for (a, b), v in acc.items())


# kth_largest first looks for a bound in every SAMPLE_STRIDE-th score when there are this many.
SAMPLE_FROM = 20_000
SAMPLE_STRIDE = 16
# Candidates all scoring the same, more than this many times k, are ordered by a partition.
TIED_SORT = 8


def kth_largest(scores: np.ndarray, k: int):
    """The ``k``-th largest score (1 <= k <= len). Among many scores, a bound from a sample
    keeps only the scores above it to select from; exact whatever the sample holds."""
    n = len(scores)
    if n >= SAMPLE_FROM and k * SAMPLE_STRIDE * 4 < n:
        sample = scores[::SAMPLE_STRIDE]
        j = min(len(sample), 2 * (k // SAMPLE_STRIDE) + 8)
        bound = np.partition(sample, len(sample) - j)[len(sample) - j]
        above = scores[scores >= bound]
        if len(above) >= k:  # then the k best are all above the bound
            return np.partition(above, len(above) - k)[len(above) - k]
    return np.partition(scores, n - k)[n - k]


def top_order(scores: np.ndarray, day: np.ndarray, docnums: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best candidates: score desc, then newest, then docnum; exact with ties
    (``docnums`` distinct, from 0 to 2**32)."""
    n = len(scores)
    if n == 0 or k <= 0:
        return np.zeros(0, np.int64)
    if k * TIED_SORT < n and scores.min() == scores.max():
        return _newest_first(day, docnums, k)
    if k < n:
        sel = np.flatnonzero(scores >= kth_largest(scores, k))
    else:
        sel = np.arange(n)
    order = np.lexsort((docnums[sel], -day[sel].astype(np.int64), -scores[sel]))
    return sel[order][:k]


def _newest_first(day: np.ndarray, docnums: np.ndarray, k: int) -> np.ndarray:
    """``top_order`` of candidates all scoring the same (a search of no words scores a million
    dispatches 0): newest, then docnum, by one partition of a 64-bit key rather than a sort of all."""
    key = day.astype(np.int64)
    key *= -(1 << 32)  # the day above the doc number's 32 bits
    key += docnums
    sel = np.argpartition(key, k - 1)[:k]
    return sel[np.argsort(key[sel], kind="stable")]


def date_order(scores: np.ndarray, day: np.ndarray, docnums: np.ndarray, k: int, newest: bool) -> np.ndarray:
    """Indices of the ``k`` first candidates by date (undated last), then score, then docnum."""
    n = len(scores)
    if n == 0 or k <= 0:
        return np.zeros(0, np.int64)
    d = day.astype(np.int64)
    undated = d == 0
    key = np.where(undated, np.iinfo(np.int64).max, -d if newest else d)
    if k < n:
        part = np.argpartition(key, k - 1)[:k]
        threshold = key[part].max()
        sel = np.flatnonzero(key <= threshold)
    else:
        sel = np.arange(n)
    order = np.lexsort((docnums[sel], -scores[sel], key[sel]))
    return sel[order][:k]


def position_scores(p: RankingParams, tf: np.ndarray, opening: np.ndarray, has_lead: np.ndarray, group_idfs: list[float],
                    events: dict[str, list[list[tuple[int, int]]]], term_idfs: list[float]) -> np.ndarray:
    """Stage 2 of the re-ranked documents (rows): ``tf[j, g]`` is group g's tf~ in document j,
    ``opening[j, g]`` its occurrences among the body's first ``opening`` words; ``events[f][j]``
    the (position, term index) pairs of the single query terms in field f (term idfs
    ``term_idfs``) for proximity."""
    ow = np.where(np.asarray(has_lead, dtype=bool), p.opening_weight, p.opening_weight_no_lead)[:, None]
    x = tf + ow * opening
    new = np.zeros(len(tf), dtype=np.float64)
    for g, w in enumerate(group_idfs):
        new += w * x[:, g] / (p.k1 + x[:, g])
    for f, fw in p.proximity_weights.items():
        if not fw or f not in events:
            continue
        for j, ev in enumerate(events[f]):
            if len(ev) > 1:
                new[j] += fw * proximity(ev, term_idfs, p.window, p.proximity_k)
    return new


def exact_order(p: RankingParams, new: np.ndarray, sub: np.ndarray, bonus: np.ndarray, day: np.ndarray, docnums: np.ndarray) -> np.ndarray:
    """``sub`` (an order of the re-ranked documents by ``new``) with its first ``exact_depth``
    re-ordered once their typed-forms ``bonus`` is added (to ``new`` too, in place)."""
    head = sub[: p.exact_depth]
    new[head] += p.exact_weight * bonus
    head = head[top_order(new[head], day[head], docnums[head], len(head))]
    return np.concatenate([head, sub[p.exact_depth:]])
