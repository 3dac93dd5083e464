"""The engine interface's behaviours, on both engines: Whoosh (embedded) and an OpenSearch cluster (real nodes).

The same small French corpus (corpus.SEARCH_RECORDS and the seed), the same requests, the same answers: French
matching, the query language, facets, snippets, errors and hostile queries.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster_fixtures import records_in_cluster
from search import backend
from search.model import (
    MAX_PAGE, MAX_QUERY_LENGTH, PARAGRAPH, SUBHEAD, Block, InvalidRequest, SearchRequest, Segment, plain_text,
)
from search.opensearch.engine import ClusterEngine
from corpus import SEARCH_RECORDS

SEED_ID = "000_46166f39458f7f75"
BACKENDS = [pytest.param("whoosh"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


@pytest.fixture(scope="module")
def cluster_alias(request, tmp_path_factory):
    """The fixture corpus in the cluster, under an alias of its own (deleted at the end)."""
    url = request.getfixturevalue("opensearch_url")
    with records_in_cluster(url, "backends", SEARCH_RECORDS, tmp_path_factory, seed=True) as alias:
        yield url, alias


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, engine):
    """The shared Whoosh engine (conftest.py), then the same corpus in a cluster: each test runs on both."""
    if request.param == "whoosh":
        return engine
    url, alias = request.getfixturevalue("cluster_alias")
    return ClusterEngine(url, alias)


def ids(engine, q, **kw):
    return [h.id for h in engine.search(SearchRequest(q=q, per_page=100, **kw)).hits]


def test_both_engines_satisfy_the_interface(engine):
    assert isinstance(engine, backend.SearchEngine)


# ---------------------------------------------------------------- French matching


def test_elision_and_case(engine):
    assert "otan-munitions" in ids(engine, "alliance")
    assert "otan-munitions" in ids(engine, "ALLIANCE")
    assert "otan-munitions" in ids(engine, "l’Alliance")


def test_accents_both_ways(engine):
    assert set(ids(engine, "États-Unis")) == set(ids(engine, "etats-unis"))
    assert {"otan-munitions", "otan-obus"} <= set(ids(engine, "etats-unis"))


def test_plural_and_singular(engine):
    assert {"otan-munitions", "otan-obus", SEED_ID} <= set(ids(engine, "munition"))


def test_all_words_first_then_partial(engine):
    res = engine.search(SearchRequest(q="Stoltenberg munitions", per_page=100))
    assert set(h.id for h in res.hits[:3]) == {"otan-munitions", "otan-obus", SEED_ID}
    assert res.match == "some" and all(h.missing == [] for h in res.hits[:3])


def test_a_partial_match_names_what_each_hit_lacks(engine):
    res = engine.search(SearchRequest(q="Macron pangolin", per_page=100))
    assert res.match == "some" and res.total >= 3
    by_id = {h.id: h.missing for h in res.hits}
    assert by_id["long-dispatch"] == ["Macron"]
    assert by_id["macron-hollande"] == ["pangolin"]


def test_partial_or_and_phrase_clauses_are_named_as_typed(engine):
    res = engine.search(SearchRequest(q='pangolin "défense aérienne" OR Vilnius', per_page=100))
    assert res.match == "some"
    assert {h.id: h.missing for h in res.hits}["long-dispatch"] == ["« défense aérienne » OU Vilnius"]


def test_phrase_absent_everywhere_falls_back_to_words_with_notice(engine):
    res = engine.search(SearchRequest(q='"munitions de Genève"'))
    assert res.notice and "expression exacte" in res.notice
    assert res.total > 0


def test_et_requires_every_word(engine):
    res = engine.search(SearchRequest(q="Macron ET pangolin"))
    assert res.match == "none" and res.total == 0
    assert engine.search(SearchRequest(q="Macron ET Hollande")).match == "all"
    assert engine.search(SearchRequest(q="le la les")).total == 0


# ---------------------------------------------------------------- the query language


def test_phrase_needs_adjacent_words(engine):
    phrase = set(ids(engine, '"Pays-Bas"'))
    assert "otan-munitions" in phrase and "prix-bas" not in phrase
    assert "prix-bas" in ids(engine, "pays bas")


def test_exclusion(engine):
    got = ids(engine, "munitions -Vilnius")
    assert "otan-obus" in got and "otan-munitions" not in got and SEED_ID not in got
    assert "otan-munitions" not in ids(engine, 'munitions -"Pays-Bas"')


def test_or_ou_and_et(engine):
    assert set(ids(engine, "Lyon OU Marseille")) == {"lyon-ecole", "marseille-port"}
    assert set(ids(engine, "Lyon OR Marseille")) == {"lyon-ecole", "marseille-port"}
    got = ids(engine, "école OU dockers incendie")
    assert got[0] == "lyon-ecole" and set(got) == {"lyon-ecole", "marseille-port"}
    assert ids(engine, "école OU dockers ET incendie") == ["lyon-ecole"]
    assert ids(engine, "Lyon ET Marseille") == []


def test_prefix(engine):
    got = set(ids(engine, "munit*"))
    assert {"otan-munitions", "otan-obus", SEED_ID, "html-dispatch"} <= got and "lyon-ecole" not in got
    assert "otan-munitions" in ids(engine, "muniti*")


def test_fields(engine):
    assert set(ids(engine, "personne:Stoltenberg")) == {"otan-munitions", "otan-obus"} or \
        set(ids(engine, 'personne:"jens stoltenberg"')) == {"otan-munitions", "otan-obus"}
    assert set(ids(engine, 'personne:"jens stoltenberg"')) == {"otan-munitions", "otan-obus"}
    assert ids(engine, "lieu:geneve") == ["geneve-sommet"]
    assert set(ids(engine, "source:afp")) == {"otan-obus", "prix-bas", "lyon-ecole", "macron-hollande"}
    assert set(ids(engine, "munitions source:ATS")) == {"otan-munitions", "html-dispatch", SEED_ID}
    assert ids(engine, "titre:obus") == ["otan-obus"]


def test_dates_in_query_and_request(engine):
    assert set(ids(engine, "date:2023-06")) == {"otan-munitions", "otan-obus", SEED_ID}
    assert set(ids(engine, "date:2023-01..2023-05")) == {"prix-bas", "lyon-ecole", "macron-hollande"}
    assert set(ids(engine, "date:2022")) == {"geneve-sommet", "marseille-port"}
    assert set(ids(engine, "", date_from="2023-06-15", date_to="2023-06-30")) == {"otan-obus"}
    assert set(ids(engine, "munitions", date_from="2023")) == {"otan-munitions", "otan-obus", SEED_ID}


def test_malformed_query_is_searched_as_words(engine):
    res = engine.search(SearchRequest(q='"munitions Vilnius'))
    assert res.notice and "mal formée" in res.notice
    assert res.hits and res.hits[0].id in ("otan-munitions", SEED_ID)


def test_empty_query_lists_everything_newest_first(engine):
    res = engine.search(SearchRequest(q="", per_page=100))
    assert res.total == len(SEARCH_RECORDS) + 1
    assert [h.date for h in res.hits if h.date][0] == "2023-06-20"
    assert res.hits[-1].date is None


def test_sort_by_date(engine):
    newest = [h.date for h in engine.search(SearchRequest(q="munitions", sort="newest", per_page=100)).hits]
    oldest = [h.date for h in engine.search(SearchRequest(q="munitions", sort="oldest", per_page=100)).hits]
    assert newest == ["2023-06-20", "2023-06-14", "2023-06", "2021-03-02"]
    assert oldest == ["2021-03-02", "2023-06", "2023-06-14", "2023-06-20"]


# ---------------------------------------------------------------- facets and snippets


def test_facets_count_the_matches(engine):
    res = engine.search(SearchRequest(q="munitions"))
    people = {f.value: f.count for f in res.facets["people"]}
    assert people["Jens Stoltenberg"] == 2
    sources = {f.value: f.count for f in res.facets["sources"]}
    assert sources == {"ATS": 3, "AFP": 1}
    assert set(res.facets) >= {"people", "places", "sources", "dates"}


def test_facet_selection_and_exclusion(engine):
    res = engine.search(SearchRequest(q="munitions", sources=("afp",)))
    assert [h.id for h in res.hits] == ["otan-obus"]
    assert any(f.selected for f in res.facets["sources"])
    assert "otan-obus" not in ids(engine, "munitions", exclude_sources=("AFP",))
    assert set(ids(engine, "", people=("Jens Stoltenberg",))) == {"otan-munitions", "otan-obus"}


def test_dates_facet_grain(engine):
    res = engine.search(SearchRequest(q="munitions"))
    assert res.date_grain == "month"
    months = {f.value: f.count for f in res.facets["dates"]}
    assert months.get("2023-06") == 3
    res = engine.search(SearchRequest(q="", date_from="2023-06"))
    assert res.date_grain == "day"
    assert {f.value: f.count for f in res.facets["dates"]} == {"2023-06-14": 1, "2023-06-20": 1, "2023-06": 1}


def marked(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments if s.mark]


def assert_segments(segments, text: str | None = None) -> None:
    """Text as data, the same shape from both engines: Segments, none empty, no two unmarked side by side."""
    assert isinstance(segments, list) and all(type(s) is Segment and isinstance(s.text, str) and s.text for s in segments)
    assert all(a.mark or b.mark for a, b in zip(segments, segments[1:]))
    if text is not None:
        assert plain_text(segments) == text


def test_snippets_mark_the_words(engine):
    hit = engine.search(SearchRequest(q="Genève")).hits[0]
    assert hit.id == "geneve-sommet" and hit.source == "Reuters" and hit.date == "2022-11"
    assert hit.title_segments == [Segment("Sommet de la paix à "), Segment("Genève", True)]
    assert hit.people == ["Emmanuel Macron", "Olaf Scholz"] and hit.places == ["Genève"]
    res = engine.search(SearchRequest(q="munitions"))
    for h in res.hits:
        assert any(w.lower().startswith("munition") for w in marked(h.snippet_segments)), h.id
        assert_segments(h.title_segments, h.title)
        assert_segments(h.snippet_segments)


def test_snippets_give_html_in_the_text_back_as_text(engine):
    hit = next(h for h in engine.search(SearchRequest(q="pirates")).hits if h.id == "html-dispatch")
    assert_segments(hit.title_segments, "Un site piraté affiche <script>alert(1)</script>")
    assert_segments(hit.snippet_segments)
    text = plain_text(hit.snippet_segments)
    assert "<script>alert('munitions')</script>" in text and "&lt;" not in text and "&amp;" not in text
    assert "pirates" in marked(hit.snippet_segments)


# ---------------------------------------------------------------- errors and hostile queries


@pytest.mark.parametrize("kw,code", [
    ({"page": 0}, "bad_page"), ({"page": MAX_PAGE + 1}, "bad_page"), ({"per_page": 0}, "bad_per_page"),
    ({"sort": "score"}, "bad_sort"), ({"date_from": "2023-13"}, "bad_date"),
    ({"q": "x" * (MAX_QUERY_LENGTH + 1)}, "query_too_long"), ({"facet_size": 0}, "bad_facet_size"),
])
def test_invalid_requests(engine, kw, code):
    with pytest.raises(InvalidRequest) as e:
        engine.search(SearchRequest(**kw))
    assert e.value.code == code and e.value.message


HOSTILE = ['"', "-", "*", "a*", "OR", "OU ET", "personne:", "date:..", "date:2023-99", 'titre:"', "((((", "\\",
           "l'", "’’’", "«»", "-munitions", "munitions -munitions", "z" * 300 + "*", "🦆 " * 200, "\x00\x1f",
           "date:0000..9999", "urgence:1..x", "source:" + "a" * 900, " OR ".join(["zu"] * 100), "*" * 50,
           "langue:zz sujet:?", "a" * 1000]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_or_refuse_cleanly(engine, q):
    try:
        resp = engine.search(SearchRequest(q=q))
    except InvalidRequest as e:
        assert e.code and e.message
        return
    assert resp.total >= 0 and len(resp.hits) <= resp.per_page
    json.dumps(resp.to_dict())


PIECES = ['"', "-", "*", "OR", "OU", "ET", ":", "personne:", "lieu:", "source:", "date:", "date:2023-01..", "titre:",
          "urgence:", "\\", "'", "’", "«", "»", "munitions", "l'Alliance", "États-Unis", "155mm", "O.N.U.", "zu", "a"]


@given(st.one_of(st.text(max_size=120), st.lists(st.sampled_from(PIECES), max_size=20).map(" ".join),
                 st.lists(st.sampled_from(PIECES + [" "]), max_size=30).map("".join)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_queries_answer_or_refuse_cleanly(engine, q):
    try:
        resp = engine.search(SearchRequest(q=q))
    except InvalidRequest as e:
        assert e.code and e.message
        return
    assert resp.total >= 0 and len(resp.hits) <= resp.per_page
    for h in resp.hits:
        assert_segments(h.title_segments, h.title)
        assert_segments(h.snippet_segments)


def test_deep_page_is_empty_not_an_error(engine):
    res = engine.search(SearchRequest(q="munitions", page=MAX_PAGE))
    assert res.hits == [] and res.total == 4


# ---------------------------------------------------------------- documents, related, suggest, exports


def test_document_view(engine):
    doc = engine.document(SEED_ID, "munitions alliance")
    assert doc["id"] == SEED_ID and doc["source"] == "ATS" and doc["date"] == "2023-06"
    assert_segments(doc["lead_segments"], doc["lead"])
    assert_segments(doc["title_segments"], doc["title"])
    lead = doc["lead_segments"]
    assert any(a.text.endswith("l'") and b == Segment("Alliance", True) for a, b in zip(lead, lead[1:]))
    assert Block(SUBHEAD, [Segment("Nouvelles annonces")]) in doc["body_blocks"]
    assert all(type(b) is Block and b.kind in (PARAGRAPH, SUBHEAD) for b in doc["body_blocks"])
    assert Segment("munitions", True) in [s for b in doc["body_blocks"] for s in b.segments]
    assert engine.document("nope") is None
    assert engine.document("macron-hollande")["people"] == ["François Hollande", "Emmanuel Macron"]


def test_related(engine):
    rel = engine.related("otan-munitions", k=3)
    assert rel and rel[0].id in ("otan-obus", SEED_ID)
    assert "otan-munitions" not in [h.id for h in rel]
    assert engine.related("nope") == []


def test_suggest(engine):
    out = engine.suggest("munit")
    assert "munitions" in [t.lower() for t in out["terms"]]
    assert engine.suggest("stolt")["people"] == ["Jens Stoltenberg"]
    assert engine.suggest("gen")["places"] == ["Genève"]


def test_results_for_an_export(engine):
    resp, hits = engine.results(SearchRequest(q="munitions"), 2)
    got = list(hits)
    assert resp.total == 4 and len(got) == 2 and not any(marked(h.snippet_segments + h.title_segments) for h in got)


def test_health(engine):
    h = engine.health()
    assert h["documents"] == len(SEARCH_RECORDS) + 1 and h["status"] == "ok" and h["generation"] == 1


def test_an_unknown_word_is_searched_as_its_correction(engine):
    res = engine.search(SearchRequest(q="Stoltenbreg", per_page=100))
    assert [(c.word, c.replacement.lower(), c.applied) for c in res.corrections] == [("Stoltenbreg", "stoltenberg", True)]
    assert {"otan-munitions", "otan-obus"} <= {h.id for h in res.hits}
    exact = engine.search(SearchRequest(q="Stoltenbreg", correct=False))
    assert exact.total == 0 and (exact.corrected_query or "").lower() == "stoltenberg"


def test_values_chosen_in_one_facet_are_alternatives(engine):
    both = set(ids(engine, "", places=("Genève", "Vilnius")))
    assert both == set(ids(engine, "", places=("Genève",))) | set(ids(engine, "", places=("Vilnius",)))
    res = engine.search(SearchRequest(q="", places=("Genève",), facet_size=100))
    # Counted without its own choice: what choosing another place too would add.
    counts = {f.value: f.count for f in res.facets["places"]}
    assert counts["Vilnius"] == len(ids(engine, "", places=("Vilnius",)))
    assert res.total == len(ids(engine, "", places=("Genève",)))


def test_entity_page(engine):
    page = engine.entity_page("people", "jens stoltenberg")
    assert page.name == "Jens Stoltenberg" and page.total == 2
    assert [h.id for h in page.latest] == ["otan-obus", "otan-munitions"]
    assert {f.value: f.count for f in page.people} == {"Lloyd Austin": 1}
    assert {f.value: f.count for f in page.places}["États-Unis"] == 2
    assert engine.entity_page("places", "Atlantide") is None


def test_unknown_story(engine):
    assert engine.story("nope") is None
