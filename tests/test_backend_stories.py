"""Stories on both engines: grouped at index time, collapsed in results, listed by /api/story.

The running-story corpus (corpus.STORY_RECORDS): three versions of a fire days apart,
the first text again four years earlier (another story), the same subject written otherwise,
an unrelated dispatch; STORY_UPDATE, a fourth version, arrives by `index add`. The Whoosh engine
and the OpenSearch cluster (real nodes) must give the same stories and the same responses.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from cluster_fixtures import drop, unique_alias
from search import indexing, stories
from search.engine import Engine
from search.model import InvalidRequest, SearchRequest
from search.opensearch import writer
from search.opensearch.engine import ClusterEngine
from corpus import STORY_RECORDS, STORY_UPDATE, build_index, write_corpus

MAURES = '"massif des Maures"'  # the running story's versions and the 2019 dispatch have it
FEU = stories.story_id("feu-v1")
BACKENDS = [pytest.param("whoosh"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


def _whoosh(tmp_path) -> SimpleNamespace:
    root = build_index(tmp_path / "index", STORY_RECORDS)

    def add(records):
        indexing.add([write_corpus(tmp_path / f"add-{records[0]['id']}", records)], root, entities=False)

    return SimpleNamespace(engine=lambda: Engine(root), add=add, delete=lambda ids: indexing.delete(ids, root),
                           app_config={"INDEX": str(root)})


def _cluster(url, tmp_path) -> SimpleNamespace:
    client = writer.connect(url)
    alias = unique_alias("stories")
    writer.rebuild([write_corpus(tmp_path / "corpus", STORY_RECORDS)], client, alias, entities=False, cache_dir=tmp_path)

    def add(records):
        writer.add([write_corpus(tmp_path / f"add-{records[0]['id']}", records)], client, alias,
                   entities=False, cache_dir=tmp_path)

    return SimpleNamespace(engine=lambda: ClusterEngine(url, alias), add=add,
                           delete=lambda ids: writer.delete(ids, client, alias),
                           app_config={"BACKEND": "opensearch", "OPENSEARCH_URL": url, "OPENSEARCH_INDEX": alias},
                           cleanup=lambda: drop(client, alias))


def _make(request, tmp_path) -> SimpleNamespace:
    if request.param == "whoosh":
        return _whoosh(tmp_path)
    return _cluster(request.getfixturevalue("opensearch_url"), tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, tmp_path_factory):
    """The running-story corpus on one engine, read-only."""
    got = _make(request, tmp_path_factory.mktemp(f"stories-{request.param}"))
    yield got
    if hasattr(got, "cleanup"):
        got.cleanup()


@pytest.fixture(params=BACKENDS)
def writable(request, tmp_path):
    """The running-story corpus on one engine, for a test that writes to it."""
    got = _make(request, tmp_path)
    yield got
    if hasattr(got, "cleanup"):
        got.cleanup()


def story_of(engine, doc_id: str) -> str:
    return next(h.story for h in engine.search(SearchRequest(q="", per_page=100, collapse="none")).hits if h.id == doc_id)


# ---------------------------------------------------------------- grouping


def test_versions_days_apart_share_a_story_and_others_stand_alone(corpus):
    engine = corpus.engine()
    got = {r["id"]: story_of(engine, r["id"]) for r in STORY_RECORDS}
    assert got["feu-v1"] == got["feu-v2"] == got["feu-v3"] == FEU
    for alone in ("feu-2019", "feu-autre", "bce-taux"):
        assert got[alone] == stories.story_id(alone)


def test_index_add_joins_an_existing_story(writable):
    writable.add([STORY_UPDATE])
    engine = writable.engine()
    assert story_of(engine, "feu-v4") == FEU
    first = next(h for h in engine.search(SearchRequest(q=MAURES)).hits if h.story == FEU)
    assert first.other_versions == 3
    assert engine.story(FEU)["total"] == 4


def test_index_add_replacing_a_version_keeps_it_in_its_story(writable):
    writable.add([dict(STORY_RECORDS[1], title="Incendie dans le massif des Maures : campings évacués")])
    engine = writable.engine()
    assert story_of(engine, "feu-v2") == FEU
    assert engine.story(FEU)["total"] == 3


def test_delete_takes_the_dispatch_out_of_its_story(writable):
    writable.delete(["feu-v3"])
    engine = writable.engine()
    assert next(h for h in engine.search(SearchRequest(q=MAURES)).hits if h.story == FEU).other_versions == 1
    assert [v["id"] for v in engine.story(FEU)["versions"]] == ["feu-v2", "feu-v1"]


# ---------------------------------------------------------------- results


def test_results_collapse_each_story_to_its_best_version_and_count_both(corpus):
    engine = corpus.engine()
    resp = engine.search(SearchRequest(q=MAURES))
    assert resp.collapse == "story" and resp.total == 4 and resp.stories == 2 and len(resp.hits) == 2
    by_story = {h.story: h for h in resp.hits}
    assert by_story[FEU].other_versions == 2
    assert by_story[stories.story_id("feu-2019")].other_versions == 0
    flat = engine.search(SearchRequest(q=MAURES, collapse="none"))
    assert flat.collapse == "none" and flat.total == 4 and flat.stories == 2
    assert {h.id for h in flat.hits} == {"feu-v1", "feu-v2", "feu-v3", "feu-2019"}
    # The version shown is the one that ranks first among the story's versions.
    assert by_story[FEU].id == next(h.id for h in flat.hits if h.story == FEU)


def test_date_orders_show_the_newest_or_oldest_version(corpus):
    engine = corpus.engine()
    assert [h.id for h in engine.search(SearchRequest(q=MAURES, sort="newest")).hits] == ["feu-v3", "feu-2019"]
    assert [h.id for h in engine.search(SearchRequest(q=MAURES, sort="oldest")).hits] == ["feu-2019", "feu-v1"]


def test_pages_count_stories_when_collapsed(corpus):
    engine = corpus.engine()
    resp = engine.search(SearchRequest(q=MAURES, per_page=1, page=2, sort="newest"))
    assert resp.pages == 2 and [h.id for h in resp.hits] == ["feu-2019"]
    assert engine.search(SearchRequest(q=MAURES, per_page=1, page=3)).hits == []
    assert engine.search(SearchRequest(q=MAURES, per_page=1, collapse="none")).pages == 4


def test_export_results_collapse_too_and_carry_the_story(corpus):
    engine = corpus.engine()
    resp, hits = engine.results(SearchRequest(q=MAURES, sort="oldest"), 100)
    assert resp.total == 4 and resp.stories == 2
    assert [(h.id, h.story) for h in hits] == [("feu-2019", stories.story_id("feu-2019")), ("feu-v1", FEU)]
    _, every = engine.results(SearchRequest(q=MAURES, sort="oldest", collapse="none"), 100)
    assert [h.id for h in every] == ["feu-2019", "feu-v1", "feu-v2", "feu-v3"]


def test_bad_collapse_is_refused(corpus):
    with pytest.raises(InvalidRequest) as e:
        corpus.engine().search(SearchRequest(q="incendie", collapse="histoire"))
    assert e.value.code == "bad_collapse"


# ---------------------------------------------------------------- a story's versions


def test_story_lists_versions_newest_first_with_what_changed(corpus):
    got = corpus.engine().story(FEU)
    assert got["id"] == FEU and got["total"] == 3
    assert [v["id"] for v in got["versions"]] == ["feu-v3", "feu-v2", "feu-v1"]
    v3, v2, v1 = got["versions"]
    assert v1["changed"] == "première version" and v1["added"] == [] and v1["removed"] == []
    assert v2["changed"] == "titre modifié, 1 paragraphe ajouté"
    assert v3["changed"] == "titre modifié, 1 paragraphe modifié"
    assert v3["date"] == "2023-08-13" and v3["source"] == "AFP" and v3["title"] == STORY_RECORDS[2]["title"]
    assert corpus.engine().story("inconnue") is None
    assert corpus.engine().story("0" * 15 + "1") is None


def test_story_is_capped_to_its_newest_versions(corpus):
    got = corpus.engine().story(FEU, limit=2)
    assert got["total"] == 3 and [v["id"] for v in got["versions"]] == ["feu-v3", "feu-v2"]
    assert got["versions"][1]["changed"] == "titre modifié, 1 paragraphe ajouté"  # still against v1


def test_api_story_answers_the_same_on_both_engines(corpus, request, tmp_path):
    from web import create_app

    client = create_app({**corpus.app_config, "TESTING": True}).test_client()
    got = client.get(f"/api/story/{FEU}")
    assert got.status_code == 200
    reference = create_app({"INDEX": str(build_index(tmp_path / "index", STORY_RECORDS)), "TESTING": True}).test_client()
    assert got.get_json() == reference.get(f"/api/story/{FEU}").get_json()
    missing = client.get("/api/story/inconnue")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "story_not_found"
    page = client.get("/api/search?q=%22massif+des+Maures%22")
    body = page.get_json()
    assert body["total"] == 4 and body["stories"] == 2 and body["collapse"] == "story"
    assert {h["story"]: h["other_versions"] for h in body["hits"]} == {FEU: 2, stories.story_id("feu-2019"): 0}


def test_a_place_page_lists_every_version_not_one_per_story(corpus):
    page = corpus.engine().entity_page("places", "Var")
    assert page.total == 5
    assert {h.id for h in page.latest} == {"feu-v1", "feu-v2", "feu-v3", "feu-2019", "feu-autre"}
    assert page.latest[0].id == "feu-v3"
