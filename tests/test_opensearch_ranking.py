"""The cluster's relevance order: the Whoosh ranking applied to its best hits (search/opensearch/rerank.py).

The re-ranking itself is pure (hits and statistics in, an order out) and is tested without a
cluster; on real nodes, the cluster engine must order a small French corpus as the Whoosh engine
does, including where the cluster's own BM25F cannot tell the dispatches apart.
"""
from __future__ import annotations

import pytest

from cluster_fixtures import records_in_cluster
from search import ranking
from search.budget import Budget
from search.model import DEFAULT_TIME_BUDGET_MS
from search.engine import Engine
from search.model import SearchRequest
from search.opensearch import rerank
from search.opensearch.engine import ClusterEngine
from search.query import parse
from corpus import DEEP_RECORDS, build_index

FILL = "Les discussions se poursuivent cette semaine au ministère avec les représentants du secteur."

# Each pair has the same words as many times in texts of the same length (titles differ: a
# shared headline would make one story); the newer dispatch of each pair is the one the
# re-ranking must put second.
RECORDS = [
    {"id": "greve-loin", "title": "Journée agitée sur les quais", "date": "2023-03-09",
     "chapo": "Une grève touche depuis lundi plusieurs secteurs, dont celui des dockers.", "body": FILL},
    {"id": "greve-pres", "title": "Matinée tendue dans les ports", "date": "2023-03-08",
     "chapo": "Depuis lundi plusieurs secteurs sont touchés par la grève des dockers.", "body": FILL},
    {"id": "munition-seule", "title": "Livraison attendue avant l'hiver", "date": "2023-05-02",
     "chapo": "La munition promise par le fournisseur arrivera avant la fin du mois.", "body": FILL},
    {"id": "munitions-pluriel", "title": "Commande honorée avant janvier", "date": "2023-05-01",
     "chapo": "Les munitions promises par le fournisseur arriveront avant la fin du mois.", "body": FILL},
    {"id": "sans-chapo", "title": "Le vignoble bordelais face au gel", "date": "2023-04-01",
     "body": "Les viticulteurs ont allumé des bougies toute la nuit dans les rangs. " + FILL},
    {"id": "avec-chapo", "title": "Nuit blanche dans les vignes", "date": "2023-04-02",
     "chapo": "Les viticulteurs ont allumé des bougies toute la nuit dans les rangs.", "body": FILL},
    {"id": "port-marseille", "title": "Le port de Marseille à l'arrêt", "date": "2023-03-10",
     "chapo": "Les dockers de Marseille cessent le travail pour la troisième journée.", "body": FILL},
]


def hit(doc_id: str, lead: str, body: str = FILL, title: str = "", day: int = 20230101, score: float = 1.0) -> dict:
    return {"_id": doc_id, "_score": score,
            "_source": {"title": title, "lead": lead, "body": body, "day": day, "display": {"lead": lead}}}


def stats(**df) -> rerank.Stats:
    return rerank.Stats(n=1000, avg={"title": 8.0, "lead": 12.0, "body": 60.0}, df=df)


def order_of(hits, q, st) -> list[str]:
    order, _ = rerank.rerank(hits, rerank.query_terms(parse(q)), st)
    return [hits[j]["_id"] for j in order]


def test_words_next_to_each_other_come_first():
    far = hit("loin", "Une grève touche depuis lundi plusieurs secteurs, dont celui des dockers.", day=20230309)
    near = hit("pres", "Depuis lundi plusieurs secteurs sont touchés par la grève des dockers.", day=20230308)
    st = stats(grev=20, docker=10)
    assert order_of([far, near], "grève dockers", st) == ["pres", "loin"]
    # Without proximity the two are tied, and the newer comes first.
    flat = ranking.RankingParams(proximity_weights={"lead": 0.0, "body": 0.0}, exact_weight=0.0)
    order, _ = rerank.rerank([far, near], rerank.query_terms(parse("grève dockers")), st, flat)
    assert order == [0, 1]


def test_the_words_as_typed_come_first():
    one = hit("seule", "La munition promise arrivera avant la fin du mois.", day=20230502)
    many = hit("pluriel", "Les munitions promises arriveront avant la fin du mois.", day=20230501)
    assert order_of([one, many], "munitions", stats(munit=30)) == ["pluriel", "seule"]
    assert order_of([one, many], "munition", stats(munit=30)) == ["seule", "pluriel"]


def test_a_title_weighs_as_a_lead_when_there_is_no_lead():
    titled = hit("titre", "", body="Les viticulteurs allument des bougies. " + FILL, title="Le gel menace le vignoble", day=20230401)
    other = hit("corps", "Les viticulteurs allument des bougies.", body="Le gel menace. " + FILL, title="Nuit blanche", day=20230402)
    assert order_of([other, titled], "gel vignoble", stats(gel=40, vignobl=15)) == ["titre", "corps"]


def test_rarer_words_weigh_more_and_scores_follow_the_order():
    a = hit("a", "Le budget de la commune est voté.", day=20230101)
    b = hit("b", "Le tramway de la commune est voté.", day=20230102)
    hits = [a, b]
    order, scores = rerank.rerank(hits, rerank.query_terms(parse("budget tramway")), stats(budget=500, tramway=5))
    assert [hits[j]["_id"] for j in order] == ["b", "a"]
    assert scores[1] > scores[0] > 0


def test_texts_are_read_while_the_budget_lasts(monkeypatch):
    far = hit("loin", "Une grève touche depuis lundi plusieurs secteurs, dont celui des dockers.", day=20230309)
    near = hit("pres", "Depuis lundi plusieurs secteurs sont touchés par la grève des dockers.", day=20230308)
    best = [hit(f"mieux-{i}", "La grève des dockers : les dockers en grève, grève et dockers.", day=20230301 + i) for i in (1, 2)]
    # The budget's clock stands still but for the time the test makes pass.
    clock, read = [0.0], []
    monkeypatch.setattr(Budget, "_clock", staticmethod(lambda: clock[0]))
    monkeypatch.setattr(rerank, "READ_STEP", 1)
    budget = Budget(1000)
    positions = rerank.analysis.positions_by_term

    def slow(text):
        read.append(text)
        if len(read) == 6:  # the two first hits' title, lead and body: the budget is gone
            clock[0] += 2.0
        return positions(text)

    monkeypatch.setattr(rerank.analysis, "positions_by_term", slow)
    hits = [far, near, *best]
    order, _ = rerank.rerank(hits, rerank.query_terms(parse("grève dockers")), stats(grev=20, docker=10), budget=budget)
    # The two read are ranked; the two not read stay after them, as the cluster put them.
    assert [hits[j]["_id"] for j in order] == ["pres", "loin", "mieux-1", "mieux-2"]
    assert budget.cut == ["reranking"] and len(read) == 6
    read.clear()
    order, _ = rerank.rerank(hits, rerank.query_terms(parse("grève dockers")), stats(grev=20, docker=10))
    assert [hits[j]["_id"] for j in order][:2] == ["mieux-2", "mieux-1"]

def test_names_typed_with_a_capital_weigh_more():
    terms = rerank.query_terms(parse("sommet Vilnius"))
    assert terms.groups == ["sommet", "vilnius"] and terms.names == {"vilnius"}
    assert rerank.query_terms(parse("Vilnius sommet")).names == set()  # the first word may be capitalised anyway


def test_or_groups_and_phrases_are_scored_but_only_plain_words_are_typed_forms():
    terms = rerank.query_terms(parse('"grève des dockers" (Marseille OU Toulon) -Lyon'))
    assert terms.groups == ["grev", "docker", "marseil", "toulon"]
    assert terms.surface == []


def test_statistics_give_each_python_term_the_clusters_document_frequency():
    body, text = rerank.stats_request(["Pays-Bas", "munitions", "Pays-Bas", "l'église"])
    assert text == "Pays-Bas\nmunitions\nl'église" and body["doc"]["ranked"] == text
    resp = {"term_vectors": {
        "ranked": {"field_statistics": {"doc_count": 200, "sum_ttf": 9000}, "terms": {
            "pay": {"doc_freq": 12, "tokens": [{"start_offset": 0, "end_offset": 4}]},
            "bas": {"doc_freq": 30, "tokens": [{"start_offset": 5, "end_offset": 8}]},
            "munit": {"doc_freq": 7, "tokens": [{"start_offset": 9, "end_offset": 18}]},
            # The cluster's elision keeps the article inside the word's offsets.
            "eglis": {"doc_freq": 25, "tokens": [{"start_offset": 19, "end_offset": 27}]}}},
        "title": {"field_statistics": {"doc_count": 150, "sum_ttf": 1000}},
        "lead": {"field_statistics": {"doc_count": 100, "sum_ttf": 2000}},
        "body": {"field_statistics": {"doc_count": 200, "sum_ttf": 6000}},
    }}
    st = rerank.read_stats(resp, text)
    assert st.n == 200 and st.avg == {"title": 5.0, "lead": 10.0, "body": 30.0}
    assert st.df == {"pay": 12, "bas": 30, "munit": 7, "eglis": 25}


def test_no_words_keeps_the_clusters_order():
    hits = [hit("x", "Un texte.", score=2.0), hit("y", "Un autre.", score=1.0)]
    order, scores = rerank.rerank(hits, rerank.query_terms(parse("personne:Stoltenberg")), stats())
    assert order == [0, 1] and list(scores) == [2.0, 1.0]


# -- on real nodes, beside the Whoosh engine


@pytest.fixture(scope="module")
def engines(request, tmp_path_factory):
    url = request.getfixturevalue("opensearch_url")
    with records_in_cluster(url, "ranking", RECORDS, tmp_path_factory) as alias:
        yield Engine(build_index(tmp_path_factory.mktemp("rank-whoosh") / "index", RECORDS)), ClusterEngine(url, alias)


def ranked(engine, q, **kw) -> list[str]:
    # The whole ranking, as `depeche eval` measures it: the Whoosh engine would show these
    # near-identical dispatches as versions of one story, the cluster keeps no stories.
    return [h.id for h in engine.search(SearchRequest(q=q, per_page=10, collapse="none", **kw)).hits]


@pytest.mark.opensearch
@pytest.mark.parametrize("q, first", [
    ("grève dockers", "greve-pres"),
    ("munitions", "munitions-pluriel"),
    ("munition", "munition-seule"),
])
def test_cluster_puts_first_what_the_whoosh_ranking_puts_first(engines, q, first):
    whoosh, cluster = engines
    assert ranked(whoosh, q)[0] == first
    assert ranked(cluster, q)[0] == first


@pytest.mark.opensearch
@pytest.mark.parametrize("q", ["grève dockers", "munitions", "vignoble gel bougies", "dockers Marseille", "journée quais",
                               "viticulteurs nuit", "livraison hiver fournisseur"])
def test_cluster_order_is_the_whoosh_order(engines, q):
    whoosh, cluster = engines
    assert ranked(cluster, q) == ranked(whoosh, q)


@pytest.mark.opensearch
def test_pages_and_dates_orders_after_the_reranking(engines):
    _, cluster = engines
    whole = ranked(cluster, "journée dockers")
    pages = [h.id for p in (1, 2, 3) for h in cluster.search(SearchRequest(q="journée dockers", per_page=1, page=p, collapse="none")).hits]
    assert pages == whole[:3]
    # A date order is the cluster's own: newest first, untouched by the re-ranking.
    assert ranked(cluster, "grève dockers", sort="newest") == ["port-marseille", "greve-loin", "greve-pres"]


@pytest.mark.opensearch
def test_reranked_hits_keep_their_snippets(engines):
    _, cluster = engines
    resp = cluster.search(SearchRequest(q="grève dockers", per_page=2, collapse="none"))
    assert resp.hits[0].id == "greve-pres"
    marked = [s.text for s in resp.hits[0].snippet_segments if s.mark]
    assert marked == ["grève", "dockers"]
    assert "la grève des dockers" in "".join(s.text for s in resp.hits[0].snippet_segments)


# -- the time budget: partial only once it has run out


@pytest.fixture
def slow_cluster(monkeypatch):
    """``slow(cluster, share)``: the cluster's first search request lasts ``share`` of the
    default budget on the budget's clock (a cold or loaded cluster: the first search after its
    start took 1.4 s on the shared machine)."""
    # The budget's clock stands still but for the time the test makes pass.
    clock = [0.0]
    monkeypatch.setattr(Budget, "_clock", staticmethod(lambda: clock[0]))

    def slow(cluster, share):
        real, calls = cluster._search, []

        def first_slow(body, **kw):
            resp = real(body, **kw)
            if not calls:
                clock[0] += share * DEFAULT_TIME_BUDGET_MS / 1000
            calls.append(body)
            return resp

        monkeypatch.setattr(cluster, "_search", first_slow)
        return cluster

    return slow


def answer(engine, q):
    resp = engine.search(SearchRequest(q=q, per_page=10, collapse="none"))
    return [h.id for h in resp.hits], resp.partial, resp.timed_out


@pytest.mark.opensearch
def test_one_hit_is_complete_however_slow_the_cluster(engines, slow_cluster):
    whoosh, cluster = engines
    assert answer(whoosh, "bordelais") == (["sans-chapo"], False, [])
    # Past the whole budget: the one hit has no order to change, nothing was cut short.
    assert answer(slow_cluster(cluster, 1.2), "bordelais") == (["sans-chapo"], False, [])


@pytest.mark.opensearch
def test_the_reranking_is_cut_only_once_the_budget_is_spent(engines, slow_cluster):
    whoosh, cluster = engines
    want = answer(whoosh, "grève dockers")
    assert want == (["greve-pres", "greve-loin", "port-marseille"], False, [])
    # 80 % of the budget gone: the facets are already counted, the re-ranking still runs.
    assert answer(slow_cluster(cluster, 0.8), "grève dockers") == want
    ids, partial, cut = answer(slow_cluster(cluster, 1.2), "grève dockers")
    assert sorted(ids) == sorted(want[0]) and partial and cut == ["reranking"]


# -- pages past the re-ranked best (DEEP_RECORDS: 110 dispatches with both words)

DEEP_Q = "grève dockers"
STAGE_ONE = ranking.RankingParams(proximity_weights={"lead": 0.0, "body": 0.0}, opening_weight=0.0, exact_weight=0.0)


@pytest.fixture(scope="module")
def deep(request, tmp_path_factory):
    url = request.getfixturevalue("opensearch_url")
    with records_in_cluster(url, "deep", DEEP_RECORDS, tmp_path_factory) as alias:
        yield build_index(tmp_path_factory.mktemp("deep-whoosh") / "index", DEEP_RECORDS), url, alias


def pages(engine, numbers, q=DEEP_Q, per_page=10) -> list[list[str]]:
    return [[h.id for h in engine.search(SearchRequest(q=q, page=n, per_page=per_page, collapse="none", time_budget_ms=None)).hits]
            for n in numbers]


@pytest.mark.opensearch
def test_page_eleven_is_the_whoosh_page_eleven(deep):
    root, url, alias = deep
    whoosh, cluster = Engine(root), ClusterEngine(url, alias)
    want = pages(whoosh, range(1, 12))
    assert sorted(sum(want, [])) == sorted(r["id"] for r in DEEP_RECORDS)
    # The re-ranking changes the order of these dispatches (the best 100 are ordered again by
    # the words' positions), and the cluster's own order is not the Whoosh BM25F's.
    assert pages(Engine(root, params=STAGE_ONE), range(1, 11)) != want[:10]
    assert pages(cluster, [11]) == want[10:11]
    assert pages(cluster, [11, 12]) == [want[10], []]
    assert pages(cluster, [3], per_page=50) == [want[10]]


@pytest.mark.opensearch
def test_a_tuned_rerank_depth_applies_to_both_engines(deep):
    root, url, alias = deep
    # Every dispatch re-ranked (past the default 100): the last page too has its positions read.
    params = ranking.RankingParams(rerank_depth=len(DEEP_RECORDS))
    want = pages(Engine(root, params=params), range(1, 12))
    assert want != pages(Engine(root), range(1, 12))
    assert pages(ClusterEngine(url, alias, params=params), range(1, 12)) == want


@pytest.mark.opensearch
def test_a_deep_page_reads_texts_only_while_the_budget_lasts(deep, monkeypatch):
    root, url, alias = deep
    cluster = ClusterEngine(url, alias)
    # The budget's clock stands still but for the time the test makes pass.
    clock, read = [0.0], []
    monkeypatch.setattr(Budget, "_clock", staticmethod(lambda: clock[0]))
    positions = rerank.analysis.positions_by_term

    def slow_positions(text):
        read.append(text)
        clock[0] += 0.01  # each field's text 10 ms: the budget is gone after 34 hits
        return positions(text)

    monkeypatch.setattr(rerank.analysis, "positions_by_term", slow_positions)
    resp = cluster.search(SearchRequest(q=DEEP_Q, page=11, per_page=10, collapse="none"))
    assert resp.partial and resp.timed_out == ["reranking"]
    # The budget is asked every READ_STEP hits: read up to the step after it ran out, not 110.
    assert len(resp.hits) == 10 and len(read) == 3 * 2 * rerank.READ_STEP
    # Without a budget (an export, `depeche eval`) every hit is read.
    read.clear()
    assert pages(cluster, [11]) == pages(Engine(root), [11])
    assert len(read) == 3 * len(DEEP_RECORDS)
