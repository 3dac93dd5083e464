"""Scoring a plan's candidates: BM25F, the best re-ranked (body opening, proximity, the words as
typed) while the budget lasts, dates breaking ties, stories collapsed.

Functions of (snapshot, plan, candidates); the formulas themselves are the small pure functions
of ``ranking``. The order is exact: the top ``k`` is the top of the full ranking. Over many
candidates the rarest words are summed first, and once the weights of the words left cannot lift
a candidate to the best found (MaxScore), the commonest words are read only at the few that can.
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
# Re-ranking starts only with this share of the budget left unspent, and gives up (the first
# ranking kept) past this one: the snippets and the rest of the response need the remainder.
RERANK_SHARE = 0.7
RERANK_STOP = 0.85
# Story leaders are looked for among this many times as many of the best, deeper if need be.
LEADER_DEPTH = 4
# ... and first among half as many again when bounds leave most candidates unscored: the
# fewer the best, the fewer can still reach them (a story's versions rarely fill a third of
# the best: 1M, 500 dev queries, none did; with a fifth more, five).
PRUNED_LEADER_DEPTH = 1.5
# From this many candidates, bounds leave out of the scoring those that cannot reach the best.
PRUNE_FROM = 20_000
# Bounds widened by this factor: float32 sums round, the bounds must not.
BOUND_SLACK = 1 + 1e-5
# Those that can still reach the best are narrowed again when more than this many times as many.
SHRINK_FROM = 2
# The best are looked for among the documents of the rarest groups, until this many.
SAMPLE_DOCS = 8_192
# Those that can still reach the best are read apart once this many times fewer than the next
# group's postings (a document read apart costs as much as some forty postings read whole).
APART_SHARE = 16


def ranked(snap: Snapshot, plan: Plan, sort: str, cand: np.ndarray, k: int, budget: Budget,
            collapse: bool = False, mask: np.ndarray | None = None):
    """(order of the first ``k`` candidates, their scores): BM25F (``bm25f``), the best
    re-ranked while the budget lasts; a date order breaks its ties by score. ``collapse``:
    only the first version of each story in that order (by BM25F) is ranked. ``mask``: the
    candidates as a bool a document, when the caller has it (bounds then leave most unscored)."""
    p = snap.params
    total = len(cand)
    scores = np.zeros(total, dtype=np.float32)
    idfs = {}
    among = None  # positions of the candidates the best are among, when not every one is scored
    want = max(k, p.rerank_depth) if plan.groups else k
    if plan.groups and total:
        exact = None
        if sort == "relevance" and mask is not None:
            exact = int(want * PRUNED_LEADER_DEPTH) if collapse else want
        scores, among = bm25f(snap, plan, cand, budget, idfs, exact, mask)
        while among is not None and collapse:
            lead = _top_leaders(snap, cand[among], scores[among], want, exact)
            if lead is not None:
                sub = among[lead]
                sub_order, sub_scores = _ordered(snap, plan, sort, cand[sub], scores[sub], k, budget, idfs)
                scores[sub] = sub_scores
                return sub[sub_order], scores
            # Fewer stories among the best than asked: deeper than the bounds kept exact.
            exact *= LEADER_DEPTH
            idfs.clear()
            scores, among = bm25f(snap, plan, cand, budget, idfs, exact, mask)
        if among is not None:
            sub_order, sub_scores = _ordered(snap, plan, sort, cand[among], scores[among], k, budget, idfs)
            scores = scores.astype(sub_scores.dtype)
            scores[among] = sub_scores
            return among[sub_order], scores
    if collapse:
        # The rest ranks only each story's leader; the order maps back to ``cand``.
        if sort == "relevance":
            lead = _top_leaders(snap, cand, scores, want)
        else:
            lead = _story_leaders(snap, cand, scores, sort)
        sub_order, sub_scores = _ordered(snap, plan, sort, cand[lead], scores[lead], k, budget, idfs)
        scores[lead] = sub_scores
        return lead[sub_order], scores
    return _ordered(snap, plan, sort, cand, scores, k, budget, idfs)


def bm25f(snap: Snapshot, plan: Plan, cand: np.ndarray, budget: Budget, idfs: dict, exact: int | None = None,
          mask: np.ndarray | None = None):
    """(BM25F of each candidate, None), the plan's groups summed rarest first. With ``exact``
    and ``mask`` (``cand`` as a bool a document): (scores, positions of the candidates that
    the ``exact`` best are among) once bounds show that no other can reach them (MaxScore: a
    group adds less than its weight), the others left at 0 and the commonest groups read only
    at those few. ``idfs``: filled with the weight of each group scored (a query of many common
    words past its budget is ranked by the words scored so far, the rarest always)."""
    p = snap.params
    groups = plan.groups
    bound = [_weight_bound(snap, plan, g) for g in groups]
    # One order of summing for every path, so that pruning or not gives the same float32 sums.
    order = sorted(range(len(groups)), key=lambda i: (-bound[i], i))
    rest = float(sum(bound))
    summed = 0.0  # weight of the groups summed over every candidate: no sum reaches it
    # Nothing asked (an export of 0 rows without re-ranking): nothing to bound.
    prune = exact is not None and mask is not None and len(cand) >= PRUNE_FROM and 0 < exact < len(cand)
    dense = np.zeros(snap.n, dtype=np.float32)
    sample: np.ndarray | None = None  # candidates of the rarest groups summed: the best are looked for there
    alive = acc = None  # the candidates that can still reach the best, their sums so far
    for i, gi in enumerate(order):
        if i and budget.spent("scoring", MATCH_SHARE):
            break
        g = groups[gi]
        tp = _group_postings(snap, g, plan)
        w = _group_weight(snap, plan, g, tp.df)
        idfs[tuple(g)] = w
        rest -= bound[gi]
        if alive is not None:
            present, values = tp.at(alive)
            _kernels.add_saturated(acc, np.flatnonzero(present), values, w, p.k1, False)
            if len(alive) > exact * SHRINK_FROM:
                keep = acc >= _cut(ranking.kth_largest(acc, exact), rest)
                alive, acc = arrays.masked(alive, keep), arrays.masked(acc, keep)
            continue
        tp.add_to(dense, w, p.k1, cand)  # only the candidates' scores are read
        summed += w
        if not prune:
            continue
        ids = tp.held_ids
        if ids is not None and (sample is None or len(sample) < SAMPLE_DOCS):
            ids = arrays.masked(ids, arrays.gather(mask, ids))
            sample = ids if sample is None else arrays.sorted_unique(np.concatenate([sample, ids]))
        if rest * BOUND_SLACK >= summed or sample is None or len(sample) < exact:
            continue
        # The exact-th best of a sample is at most the exact-th best of all.
        theta = ranking.kth_largest(arrays.gather(dense, sample), exact)
        if rest * BOUND_SLACK >= theta:
            continue
        # One pass over the sums (vectorised) finds those that can still reach it; they are
        # read apart only when few beside the next group's postings (else it is summed whole).
        above = dense >= _cut(theta, rest)
        if i + 1 < len(order) and np.count_nonzero(above) * APART_SHARE > _postings(snap, groups[order[i + 1]]):
            continue
        alive = np.flatnonzero(above)
        alive = arrays.masked(alive, arrays.gather(mask, alive))
        acc = arrays.gather(dense, alive)
    if alive is None:
        return arrays.gather(dense, cand), None
    scores = np.zeros(len(cand), dtype=np.float32)
    at = arrays.locate(cand, alive)
    scores[at] = acc
    return scores, at


def _cut(theta: float, rest: float) -> np.float32:
    """The least float32 sum that ``rest`` more (bounds widened by BOUND_SLACK) could lift to ``theta``."""
    cut = theta / BOUND_SLACK - rest
    c = np.float32(cut)
    return np.nextafter(c, np.float32(-np.inf)) if c > cut else c


def _postings(snap: Snapshot, group: list[str]) -> int:
    """A group's postings over the text fields (its terms', summed)."""
    return sum(snap.term(t).postings for t in group)


def _weight_bound(snap: Snapshot, plan: Plan, group: list[str]) -> float:
    """A group's weight, or for several terms read as one a bound of it: their union is at
    least as frequent as the most frequent of them (summing them is left to scoring)."""
    if len(group) == 1:
        return _group_weight(snap, plan, group, snap.term(group[0]).df)
    return ranking.idf(max(snap.term(t).df for t in group), snap.n_live, snap.params.idf_power)

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

def _top_leaders(snap: Snapshot, cand: np.ndarray, scores: np.ndarray, want: int,
                 exact: int | None = None) -> np.ndarray | None:
    """Indices (ascending) of the ``want`` best story leaders by BM25F (ties newest, then index
    order): the first of each story down the ranking, read only as deep as they need; None
    when that is deeper than ``exact`` (the order is known only that deep)."""
    total = len(cand)
    depth = want * LEADER_DEPTH if exact is None else exact
    while True:
        order = ranking.top_order(scores, arrays.gather(snap.day, cand), cand, min(depth, total))
        _, first = np.unique(snap.story_of[cand[order]], return_index=True)
        leaders = order[np.sort(first)]
        if len(leaders) >= want:
            return np.sort(leaders[:want])
        if exact is not None and depth >= exact:
            return None
        if depth >= total:
            return np.sort(leaders)
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
            if budget.spent("reranking", RERANK_STOP):
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
        if budget.spent("reranking", RERANK_STOP):
            return order, scores
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
