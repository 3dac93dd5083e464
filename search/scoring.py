"""Scoring a plan's candidates: BM25F over every candidate, the best re-ranked (body opening,
proximity, the words as typed) while the budget lasts, dates breaking ties, stories collapsed.

Functions of (snapshot, plan, candidates); the formulas themselves are the small pure functions
of ``ranking``. The order is exact: the top ``k`` is the top of the full ranking.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from . import _kernels, analysis, arrays, highlight, ranking
from .budget import MATCH_SHARE, Budget
from .plan import Plan
from .snapshot import EMPTY, Snapshot, TermPostings

# Query words whose positions the re-ranking reads (proximity, opening): the rarest first.
MAX_RERANK_TERMS = 32
# A scoring group with at least one posting per this many documents is summed densely.
DENSE_GROUP_RATIO = 16
# Re-ranking starts only with this share of the budget left unspent.
RERANK_SHARE = 0.7
# Story leaders are looked for among this many times as many of the best, deeper if need be.
LEADER_DEPTH = 4


def ranked(snap: Snapshot, plan: Plan, sort: str, cand: np.ndarray, k: int, budget: Budget,
            collapse: bool = False):
    """(order of the first ``k`` candidates, their scores): BM25F over every candidate, the
    best re-ranked while the budget lasts; a date order breaks its ties by score. ``collapse``:
    only the first version of each story in that order (by BM25F) is ranked."""
    p = snap.params
    total = len(cand)
    scores = np.zeros(total, dtype=np.float32)
    idfs = {}
    if plan.groups and total:
        dense = np.zeros(snap.n, dtype=np.float32)
        for i, g in enumerate(plan.groups):
            # A query of many common words past its budget is ranked by the words scored so
            # far (the first always), in the order typed, and not re-ranked.
            if i and budget.spent("scoring", MATCH_SHARE):
                break
            tp = _group_postings(snap, g, plan)
            w = _group_weight(snap, plan, g, tp.df)
            tp.add_to(dense, w, p.k1, cand)  # only the candidates' scores are read
            idfs[tuple(g)] = w
        scores = arrays.gather(dense, cand)
    if collapse:
        # The rest ranks only each story's leader; the order maps back to ``cand``.
        if sort == "relevance":
            lead = _top_leaders(snap, cand, scores, max(k, p.rerank_depth) if plan.groups else k)
        else:
            lead = _story_leaders(snap, cand, scores, sort)
        sub_order, sub_scores = _ordered(snap, plan, sort, cand[lead], scores[lead], k, budget, idfs)
        scores[lead] = sub_scores
        return lead[sub_order], scores
    return _ordered(snap, plan, sort, cand, scores, k, budget, idfs)

def _group_weight(snap: Snapshot, plan: Plan, group: list[str], df: int) -> float:
    """A scoring group's weight: its idf, boosted for a name typed with a capital."""
    p = snap.params
    w = ranking.idf(df, snap.n_live, p.idf_power)
    if p.name_boost and len(group) == 1 and group[0] in plan.names:
        w *= p.name_boost
    return w

def _ordered(snap: Snapshot, plan: Plan, sort: str, cand: np.ndarray, scores: np.ndarray, k: int,
             budget: Budget, idfs: dict):
    """(order of the first ``k`` of ``cand`` scored ``scores``, the scores after re-ranking)."""
    p = snap.params
    total = len(cand)
    if sort != "relevance":
        return ranking.date_order(scores, arrays.gather(snap.day, cand), cand, k, newest=sort == "newest"), scores
    depth = max(k, p.rerank_depth) if plan.groups else k
    order = ranking.top_order(scores, arrays.gather(snap.day, cand), cand, min(depth, total))
    # Scoring cut short (its share spent) cuts the re-ranking too, which reads every group.
    share = RERANK_SHARE if all(tuple(g) in idfs for g in plan.groups) else MATCH_SHARE
    if plan.groups and len(order) and not budget.spent("reranking", share):
        order, scores = _rerank(snap, plan, cand, order, scores, idfs, budget)
    return order[:k], scores

# -- stories

def story_count(snap: Snapshot, cand: np.ndarray) -> int:
    """Stories among the candidates: a document alone in its story counts one, the stories of
    the others (found in one pass, search/_kernels.c) are counted once each: sorted when few,
    else marked in one array of stories, so it costs no more than the matches themselves."""
    out = np.empty(len(cand), np.int64)  # only as much as there are such documents is written
    multi = out[: _kernels.multi_stories(cand, snap.story_of, snap.in_multi_story, out)]
    if len(multi) * DENSE_GROUP_RATIO < len(snap.story_size):
        return int(len(cand) - len(multi) + len(arrays.sorted_unique(multi)))
    seen = np.zeros(len(snap.story_size), dtype=bool)
    arrays.mark(seen, multi)
    return int(len(cand) - len(multi) + np.count_nonzero(seen))

def _story_leaders(snap: Snapshot, cand: np.ndarray, scores: np.ndarray, sort: str) -> np.ndarray:
    """Indices (ascending) of the candidates that come first in their story, in the request's
    order: best BM25F (ties newest, then index order), or newest / oldest (ties best score)."""
    story = arrays.gather(snap.story_of, cand)
    multi = np.flatnonzero(snap.story_size[story] > 1)
    if not len(multi):
        return np.arange(len(cand))
    docs, sc, day, st = cand[multi], scores[multi], snap.day[cand[multi]].astype(np.int64), story[multi]
    if sort == "relevance":
        keys = (docs, -day, -sc, st)
    else:
        when = np.where(day == 0, np.iinfo(np.int64).max, -day if sort == "newest" else day)  # undated last
        keys = (docs, -sc, when, st)
    o = np.lexsort(keys)
    first = np.ones(len(o), dtype=bool)
    first[1:] = st[o][1:] != st[o][:-1]
    keep = np.ones(len(cand), dtype=bool)
    keep[multi] = False
    keep[multi[o[first]]] = True
    return np.flatnonzero(keep)

def _top_leaders(snap: Snapshot, cand: np.ndarray, scores: np.ndarray, want: int) -> np.ndarray:
    """Indices (ascending) of the ``want`` best story leaders by BM25F (ties newest, then index
    order): the first of each story down the ranking, read only as deep as they need."""
    total = len(cand)
    depth = want * LEADER_DEPTH
    while True:
        order = ranking.top_order(scores, arrays.gather(snap.day, cand), cand, min(depth, total))
        _, first = np.unique(snap.story_of[cand[order]], return_index=True)
        leaders = order[np.sort(first)]
        if len(leaders) >= want or depth >= total:
            return np.sort(leaders[:want])
        depth *= LEADER_DEPTH


def _group_postings(snap: Snapshot, group: list[str], plan: Plan) -> TermPostings:
    """A scoring group as one term's postings: the term's own (dense when frequent), or the
    expansions of a prefix summed (once per query: scoring and re-ranking both read it)."""
    if len(group) == 1:
        return snap.term(group[0])
    key = tuple(group)
    got = plan.summed.get(key)
    if got is None:
        ids, tfw, _ = _sum_group(snap, group)
        got = plan.summed[key] = TermPostings(" ".join(group), {}, ids, tfw)
    return got

def _sum_group(snap: Snapshot, group: list[str]):
    """(ids, summed tf~, df) of several terms read as one."""
    parts = [snap.term(t) for t in group]
    ids = np.concatenate([tp.ids for tp in parts]) if parts else np.zeros(0, np.int32)
    tfw = np.concatenate([tp.tfw for tp in parts]) if parts else np.zeros(0, np.float32)
    if len(ids) * DENSE_GROUP_RATIO >= snap.n:
        # Many postings (a short prefix): summing into a document-sized array is linear,
        # where sorting them is not.
        summed = np.bincount(ids, weights=tfw, minlength=snap.n)
        uniq = np.flatnonzero(np.bincount(ids, minlength=snap.n) != 0)  # a bool array: ranking._combine_dense
        return uniq.astype(np.int32), summed[uniq].astype(np.float32), len(uniq)
    uniq, inv = np.unique(ids, return_inverse=True)
    summed = np.bincount(inv, weights=tfw, minlength=len(uniq)).astype(np.float32)
    return uniq.astype(np.int32), summed, len(uniq)

# -- plan

# -- re-ranking

def _rerank(snap: Snapshot, plan: Plan, cand, order, scores, idfs, budget: Budget):
    """Re-score the ``rerank_depth`` best with the body opening, proximity and the typed forms."""
    p = snap.params
    depth = min(p.rerank_depth, len(order))
    top = order[:depth]
    docs = cand[top]
    groups = plan.groups
    single = [g[0] for g in groups if len(g) == 1]
    uniq = list(dict.fromkeys(single))
    if len(uniq) > MAX_RERANK_TERMS:
        # Positions of the rarest words say the most; reading every word's would cost more
        # than a long query is worth.
        uniq = sorted(uniq, key=lambda t: -idfs.get((t,), 0.0))[:MAX_RERANK_TERMS]
    index_of = {t: i for i, t in enumerate(uniq)}
    # Positions of every single query term in lead and body of the re-ranked documents.
    needed = ["body"] + [f for f, w in p.proximity_weights.items() if w and f != "body"]
    pos = {f: [[None] * len(uniq) for _ in range(depth)] for f in needed}
    for f in needed:
        for ti, t in enumerate(uniq):
            if budget.spent("reranking"):
                return order, scores
            fp = snap.term(t).fields.get(f, EMPTY)
            if not len(fp):
                continue
            loc = arrays.locate(fp.ids, docs)
            ok = loc < len(fp.ids)
            ok[ok] = fp.ids[loc[ok]] == docs[ok]
            if not fp.has_positions:
                continue
            for j in np.flatnonzero(ok):
                pos[f][j][ti] = fp.positions_at(int(loc[j]))
    tf = np.zeros((depth, len(groups)), dtype=np.float64)
    opening = np.zeros((depth, len(groups)), dtype=np.float64)
    for gi, g in enumerate(groups):
        present, values = _group_postings(snap, g, plan).at(docs)
        tf[present, gi] = values
        if len(g) == 1 and g[0] in index_of:
            ti = index_of[g[0]]
            for j in range(depth):
                body = pos["body"][j][ti]
                if body:
                    opening[j, gi] = sum(1 for x in body if x < p.opening)
    events = {f: [[(x, ti) for ti, ps in enumerate(pos[f][j]) if ps for x in ps] for j in range(depth)]
              for f in p.proximity_weights if f in pos} if len(uniq) > 1 else {}
    new = ranking.position_scores(p, tf, opening, snap.has_lead[docs], [idfs[tuple(g)] for g in groups], events,
                                  [idfs[(t,)] for t in uniq])
    sub = ranking.top_order(new, snap.day[docs], docs, depth)
    if p.exact_weight and plan.surface and depth and not budget.spent("reranking", RERANK_SHARE):
        # The words as typed: among the best, documents using the same forms (not just the
        # same stems: "français" is not "France") move up.
        sub = ranking.exact_order(p, new, sub, _exact_bonus(snap, plan, docs[sub[: p.exact_depth]], idfs), snap.day[docs], docs)
    scores = scores.astype(np.float64, copy=True)
    scores[top] = new
    return np.concatenate([top[sub], order[depth:]]), scores

def _exact_bonus(snap: Snapshot, plan: Plan, docs, idfs) -> np.ndarray:
    """Per document: sum over typed words of idf x (share of its stem's matches in that exact form)."""
    words = list(dict.fromkeys(plan.surface))
    terms = frozenset(t for _, t in words)
    # A word's group is led by its own term (a verb form's group also holds its singular).
    idf_of = {g[0]: w for g, w in idfs.items() if g[0] in terms}
    # The words are looked for among the terms the snippets mark, so that the two share one
    # candidate regex (compiling one costs about a millisecond a query).
    among = frozenset(plan.highlight) | terms
    out = np.zeros(len(docs), dtype=np.float64)
    for j, d in enumerate(docs):
        sf = snap.stored(int(d))
        title = "" if (sf.get("meta") or {}).get("title_derived") else (sf.get("title") or "")
        # The lead and body as the snippet reads them: their words are found once for both.
        texts = (title, highlight.snippet_text(sf.get("lead"), sf.get("body")))
        out[j] = exact_share(texts, words, idf_of, among)
    return out


def exact_share(text: str | tuple[str, ...], words: list[tuple[str, str]], idf_of: dict[str, float],
                among: frozenset | None = None) -> float:
    """The typed-forms bonus of one text (or of several read as one): over the (folded word,
    term) pairs typed, idf x the share of the term's occurrences that have exactly that form
    (``among``: a superset of the typed terms to look for, the others skipped)."""
    terms = frozenset(t for _, t in words)
    forms: Counter = Counter()
    stems: Counter = Counter()
    for part in (text,) if isinstance(text, str) else text:
        for t, a, b in highlight._candidate_tokens(part, terms if among is None else among):
            if t not in terms:
                continue
            stems[t] += 1
            forms[(analysis.fold(part[a:b]), t)] += 1
    return sum(idf_of.get(t, 0.0) * forms[(w, t)] / stems[t] for w, t in words if stems[t])

# -- facets
