"""Scoring a plan's candidates (scoring.py): story leaders and story counts on synthetic snapshots."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np

import pytest

from search import ranking, scoring, snapshot
from search.engine import Engine
from search.model import SearchRequest

from corpus import build_index, many_records


def _snapshot(rng, n: int, stories: int):
    """Documents in ``stories`` shared stories (some alone), with tied days."""
    story_of = rng.integers(0, stories + n, n)  # numbers past ``stories`` are mostly alone
    story_size = np.bincount(story_of, minlength=stories + n).astype(np.int32)
    return SimpleNamespace(n=n, day=rng.integers(20200101, 20200105, n).astype(np.int32), story_of=story_of,
                           story_size=story_size, in_multi_story=story_size[story_of] > 1)


def test_the_best_leaders_are_the_head_of_every_leader_ranked():
    rng = np.random.default_rng(5)
    for trial in range(60):
        n = int(rng.choice([50, 2_000, 30_000]))
        snap = _snapshot(rng, n, int(rng.choice([3, n // 10 + 1, n])))
        cand = np.flatnonzero(rng.random(n) < rng.choice([0.1, 0.6, 1.0]))
        scores = (rng.integers(0, 30, len(cand)) / 3).astype(np.float32)  # many ties
        all_leaders = scoring._story_leaders(snap, cand, scores, "relevance")
        for want in (0, 1, 10, 100, len(cand)):
            ranked = all_leaders[ranking.top_order(scores[all_leaders], snap.day[cand[all_leaders]],
                                                    cand[all_leaders], want)]
            got = scoring._top_leaders(snap, cand, scores, want)
            assert got.tolist() == sorted(ranked.tolist()), (trial, want)


def test_story_count_is_the_distinct_stories_of_the_matches():
    rng = np.random.default_rng(9)
    for trial in range(40):
        n = int(rng.choice([100, 5_000]))
        snap = _snapshot(rng, n, int(rng.choice([2, n // 20 + 1])))
        cand = np.flatnonzero(rng.random(n) < rng.choice([0.001, 0.05, 0.9]))
        assert scoring.story_count(snap, cand) == len(set(snap.story_of[cand].tolist())), trial


QUERIES = ["munitions", "munitions livrées Kiev", "Kiev OU Moscou", "livr*", "\"livraison de munitions\"",
           "Stoltenberg OTAN sommet", "la France et l'Allemagne", "élection présidentielle -Macron"]


def _answers(root, engine: Engine | None = None, start: int = 0) -> list:
    """What the engine answers to QUERIES (asked from the ``start``-th on, in a circle, answers
    in QUERIES' order), and a dispatch's related ones."""
    engine = engine or Engine(root)
    out = {}
    for i in range(len(QUERIES)):
        q = QUERIES[(start + i) % len(QUERIES)]
        resp = engine.search(SearchRequest(q=q, per_page=20, time_budget_ms=60_000))
        out[q] = (resp.total, resp.stories, resp.match, [(h.id, h.score) for h in resp.hits],
                  {k: [(i.value, i.count) for i in v] for k, v in resp.facets.items()})
    hits = engine.search(SearchRequest(q="munitions")).hits
    related = [(h.id, h.score) for h in engine.related(hits[0].id, budget_ms=None)] if hits else []
    return [out[q] for q in QUERIES] + [related]


@pytest.mark.parametrize("at_share", [2, 10**9])
def test_frequent_terms_held_as_every_documents_tf_answer_as_when_held_as_postings(search_index, monkeypatch, at_share):
    monkeypatch.setattr(snapshot, "DENSE_AT_SHARE", at_share)  # scores added at the candidates, or everywhere
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", 0)  # no term is frequent
    sparse = _answers(search_index)
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", 10**9)  # every term is
    dense = _answers(search_index)
    assert dense == sparse
    assert sum(a[0] for a in sparse[:-1]) > 10 and sparse[-1]


@pytest.mark.parametrize("at_few_share", [0, 10**9])
def test_terms_read_deferred_answer_as_when_read_whole(search_index, monkeypatch, at_few_share):
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 10**12)  # every term's tf~ computed as it is read
    whole = _answers(search_index)
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 0)  # every term deferred
    monkeypatch.setattr(snapshot, "AT_FEW_SHARE", at_few_share)  # read at the candidates, or whole
    assert _answers(search_index) == whole


def test_terms_read_deferred_by_several_searches_at_once_answer_as_one_at_a_time(search_index, monkeypatch):
    # Each term's mask and whole tf~ are found once, by whichever search asks first.
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 0)
    want = _answers(search_index)
    engine = Engine(search_index)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda start: _answers(search_index, engine, start), range(0, 8, 2)))
    assert got == [want] * 4


def test_a_term_held_densely_gives_its_documents_and_tf_as_its_postings():
    rng = np.random.default_rng(11)
    n = 200
    ids = np.sort(rng.choice(n, 60, replace=False)).astype(np.int32)
    tfw = (rng.random(60) + 0.2).astype(np.float32)
    full = np.zeros(n, np.float32)
    full[ids] = tfw
    sparse, dense = snapshot.TermPostings("t", {}, ids, tfw), snapshot.TermPostings("t", {}, dense=full)
    assert np.array_equal(dense.ids, ids) and np.array_equal(dense.tfw, tfw) and dense.df == sparse.df == 60
    assert np.array_equal(dense.mask(n), sparse.mask(n))
    docs = np.arange(0, n, 3)
    for a, b in zip(dense.at(docs), sparse.at(docs)):
        assert np.array_equal(a, b)
    for docs in (None, np.arange(0, n, 7)):
        got, want = np.ones(n, np.float32), np.ones(n, np.float32)
        dense.add_to(got, 1.7, 1.2, docs)
        sparse.add_to(want, 1.7, 1.2, docs)
        at = slice(None) if docs is None else docs
        assert np.array_equal(got[at], want[at])
    m = np.zeros(n, dtype=bool)
    dense.mark(m)
    assert np.flatnonzero(m).tolist() == ids.tolist()


def test_scoring_past_its_budget_ranks_by_the_words_scored_and_says_so(search_index, monkeypatch):
    from search import plan as plan_module, query
    from search.budget import Budget

    snap = Engine(search_index).snapshot()
    plan = plan_module.plan_query(snap, query.parse("livraison convoi munitions"), Budget(None))
    assert len(plan.groups) == 3
    cand = np.flatnonzero(plan.mask & snap.live)
    spent = Budget(1)
    spent.start -= 1.0  # a second gone of a millisecond
    order, scores = scoring.ranked(snap, plan, "relevance", cand, 5, spent)
    assert spent.cut == ["scoring", "reranking"]
    # The rarest word alone scored (it always is), as BM25F, and nothing re-ranked.
    weights = [scoring._group_weight(snap, plan, g, snap.term(g[0]).df) for g in plan.groups]
    rarest = plan.groups[int(np.argmax(weights))]
    assert weights.count(max(weights)) == 1 and rarest != plan.groups[0]
    tp = snap.term(rarest[0])
    dense = np.zeros(snap.n, np.float32)
    tp.add_to(dense, max(weights), snap.params.k1, cand)
    assert scores.dtype == np.float32 and np.array_equal(scores, dense[cand])
    assert len(order) == min(5, len(cand)) and scores[order[0]] == scores.max() > 0
    whole = scoring.ranked(snap, plan, "relevance", cand, 5, Budget(None))[1]
    assert not np.array_equal(np.asarray(whole, np.float32), scores)


def _counting_pruned(monkeypatch) -> list:
    """For each call of scoring.bm25f from now on: whether its bounds left candidates unscored."""
    calls = []
    real = scoring.bm25f

    def counting(*args, **kwargs):
        got = real(*args, **kwargs)
        calls.append(got[1] is not None)
        return got

    monkeypatch.setattr(scoring, "bm25f", counting)
    return calls


def _ranked_pages(root, queries, collapse: str, per_page: int) -> list:
    """Totals, stories and hits (ids, scores) of two pages of each query, re-ranking the best two."""
    engine = Engine(root, dataclasses.replace(ranking.DEFAULT_PARAMS, rerank_depth=2))
    out = []
    for q in queries:
        for page in (1, 2):
            r = engine.search(SearchRequest(q=q, page=page, per_page=per_page, collapse=collapse, time_budget_ms=60_000))
            out.append((q, page, r.total, r.stories, [(h.id, h.score) for h in r.hits]))
    return out


@pytest.fixture(scope="module")
def many_index(tmp_path_factory) -> Path:
    """corpus.many_records indexed once for this module."""
    return build_index(tmp_path_factory.mktemp("many") / "index", many_records())


MANY_QUERIES = ["Stoltenberg sommet gouvernement annonce", "Vilnius Kiev munitions président réforme ministre",
                "Lagarde budget France", "grève tribunal", "Draguignan incendie Marignane France gouvernement",
                "gouvernement annonce France président", "Perpignan Nanterre élection réforme", "Kiev"]


@pytest.mark.parametrize("collapse", ["story", "none"])
@pytest.mark.parametrize("deferred", [False, True])
def test_bounds_leave_unscored_only_candidates_that_cannot_reach_the_best(many_index, monkeypatch, collapse, deferred):
    if deferred:
        monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 40)  # common words read at the few that can reach
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", 1)  # only the commonest words held densely
    monkeypatch.setattr(scoring, "PRUNE_FROM", 10**12)
    whole = _ranked_pages(many_index, MANY_QUERIES, collapse, 3)
    monkeypatch.setattr(scoring, "PRUNE_FROM", 0)
    monkeypatch.setattr(scoring, "APART_SHARE", 1)
    pruned = _counting_pruned(monkeypatch)
    assert _ranked_pages(many_index, MANY_QUERIES, collapse, 3) == whole
    assert sum(pruned) >= len(MANY_QUERIES), pruned  # the bounds did leave candidates out
    assert sum(len(r[4]) for r in whole) == 2 * 3 * len(MANY_QUERIES)


def test_bounds_ask_nothing_of_an_export_of_no_rows_without_re_ranking(many_index, monkeypatch):
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", 1)
    monkeypatch.setattr(scoring, "PRUNE_FROM", 0)
    monkeypatch.setattr(scoring, "APART_SHARE", 0)
    engine = Engine(many_index, dataclasses.replace(ranking.DEFAULT_PARAMS, rerank_depth=0))
    for collapse in ("story", "none"):
        resp, hits = engine.results(SearchRequest(q=MANY_QUERIES[1], collapse=collapse), 0)
        assert resp.total > 100 and list(hits) == []
        one, hits = engine.results(SearchRequest(q=MANY_QUERIES[1], collapse=collapse), 1)
        assert len(list(hits)) == 1


def test_bounds_read_deeper_when_a_story_fills_the_best(many_index, monkeypatch):
    # The best two are versions of one story: the second story's leader lies deeper than the
    # bounds first kept exact, and the scoring is done again, deeper.
    queries = ["Stoltenberg Lagarde Vilnius président"]
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", 1)
    monkeypatch.setattr(scoring, "PRUNE_FROM", 10**12)
    whole = _ranked_pages(many_index, queries, "story", 2)
    monkeypatch.setattr(scoring, "PRUNE_FROM", 0)
    monkeypatch.setattr(scoring, "APART_SHARE", 1)
    monkeypatch.setattr(scoring, "PRUNED_LEADER_DEPTH", 1)
    pruned = _counting_pruned(monkeypatch)
    assert _ranked_pages(many_index, queries, "story", 2) == whole
    # Each page scored twice: first the best as deep as the hits asked, all four versions.
    assert pruned == [True] * 4 and whole[0][4][0][0].startswith("vilnius-v")


def test_the_bound_cut_keeps_every_sum_that_can_reach_the_best():
    rng = np.random.default_rng(3)
    for _ in range(2_000):
        theta, rest = float(rng.random() * 30), float(rng.random() * 10)
        cut = scoring._cut(theta, rest)
        assert cut.dtype == np.float32
        sums = (np.float32(theta - rest) + rng.normal(0, 1e-4, 50)).astype(np.float32)
        reach = (sums.astype(np.float64) + rest) * scoring.BOUND_SLACK >= theta
        assert not (reach & (sums < cut)).any()
