"""Agency metadata in search: facets, filters, query fields, hits' fields, non-French items (neutral analysis)."""
from __future__ import annotations

import pytest

from search import indexing
from search.documents import AgencyMeta, Dispatch
from search.engine import Engine
from search.model import AGENCY_FACETS, FACETS, PARAGRAPH, SearchRequest, plain_text

from corpus import SEARCH_RECORDS, build_index

POLITICS = ("medtop:11000000", "politique")
ECONOMY = ("medtop:04000000", "économie, affaires et finances")


def agency(guid, title, lead, body, *, language="fr", urgency=3, genre="Actualité", slugline=None, subjects=(POLITICS,), version=1):
    return Dispatch(id=guid, title=title, lead=lead, body=body, date="2024-03-01", source="ATS", origin=f"test:{guid}",
                    agency=AgencyMeta(guid=guid, version=version, language=language, urgency=urgency, genre=genre,
                                      slugline=slugline, subjects=list(subjects)))


DOCS = [
    agency("fr-elections", "Les élections fédérales approchent", "Les Suisses éliront leur parlement en octobre.",
           "Les partis présentent leurs listes. Les sondages annoncent une participation en hausse.",
           urgency=3, slugline="Suisse-Élections"),
    agency("en-elections", "Federal elections draw near", "The Swiss will elect their parliament in October, the government said.",
           "The parties are presenting their lists of candidates for the elections.",
           language="en-GB", urgency=1, genre="Breaking news", slugline="Swiss-Elections"),
    agency("fr-bourse", "La Bourse suisse termine en hausse", "Le SMI a gagné 1,2 % vendredi.",
           "Les valeurs bancaires ont mené la hausse.", urgency=4, genre="Marchés", slugline="Bourse-Clôture",
           subjects=(ECONOMY,)),
]


@pytest.fixture(scope="module")
def agency_engine(tmp_path_factory):
    """The search set and three agency items (an election in French and English, a market report)."""
    root = build_index(tmp_path_factory.mktemp("agency") / "index", SEARCH_RECORDS, seed=True)
    src = tmp_path_factory.mktemp("agency_src")
    # Through index add, as items arrive.
    import json

    records = []
    for d in DOCS:
        a = d.agency
        records.append({"id": d.id, "title": d.title, "chapo": d.lead, "body": d.body, "date": d.date, "source": d.source,
                        "agency": {"version": a.version, "language": a.language, "urgency": a.urgency, "genre": a.genre,
                                   "slugline": a.slugline, "subjects": [list(s) for s in a.subjects]}})
    (src / "items.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    indexing.add([src / "items.jsonl"], root, entities=False)
    return Engine(root)


def ids(engine, q="", **kw):
    return {h.id for h in engine.search(SearchRequest(q=q, per_page=100, **kw)).hits}


def test_no_agency_facets_without_agency_items(tmp_path):
    resp = Engine(build_index(tmp_path / "index", SEARCH_RECORDS, seed=True)).search(SearchRequest(q="munitions"))
    assert tuple(resp.facets) == FACETS


def test_agency_facets_in_the_response(agency_engine):
    resp = agency_engine.search(SearchRequest(q="", per_page=1))
    assert tuple(resp.facets) == FACETS + AGENCY_FACETS
    values = {name: {f.value: f.count for f in resp.facets[name]} for name in AGENCY_FACETS}
    assert values["urgency"] == {"1": 1, "3": 1, "4": 1}
    assert [f.value for f in resp.facets["urgency"]] == ["1", "3", "4"]
    assert values["language"] == {"fr": 2, "en": 1}
    assert values["genre"] == {"Actualité": 1, "Breaking news": 1, "Marchés": 1}
    assert values["subjects"] == {"politique": 2, "économie, affaires et finances": 1}
    assert values["slugline"] == {"Suisse-Élections": 1, "Swiss-Elections": 1, "Bourse-Clôture": 1}


def test_filters_or_within_and_across(agency_engine):
    assert ids(agency_engine, urgencies=("1", "4")) == {"en-elections", "fr-bourse"}
    assert ids(agency_engine, urgencies=("1", "4"), languages=("EN",)) == {"en-elections"}
    assert ids(agency_engine, subjects=("Politique",)) == {"fr-elections", "en-elections"}
    assert ids(agency_engine, genres=("marches",)) == {"fr-bourse"}
    assert ids(agency_engine, sluglines=("suisse-elections",)) == {"fr-elections"}
    resp = agency_engine.search(SearchRequest(q="", languages=("en",)))
    # The chosen language's facet still offers the others (any of several languages).
    assert sorted((f.value, f.count, f.selected) for f in resp.facets["language"]) == [("en", 1, True), ("fr", 2, False)]


def test_query_fields(agency_engine):
    assert ids(agency_engine, "langue:en") == {"en-elections"}
    assert ids(agency_engine, "language:fr") == {"fr-elections", "fr-bourse"}
    assert ids(agency_engine, "sujet:économie") == {"fr-bourse"}
    assert ids(agency_engine, "subject:politique -langue:en") == {"fr-elections"}
    assert ids(agency_engine, "urgence:1") == {"en-elections"}
    assert ids(agency_engine, "urgence:1..3") == {"en-elections", "fr-elections"}
    assert ids(agency_engine, 'genre:"breaking news"') == {"en-elections"}
    assert ids(agency_engine, "slugline:bourse") == {"fr-bourse"}
    assert ids(agency_engine, "hausse urgence:4") == {"fr-bourse"}


def test_hits_carry_agency_fields(agency_engine):
    (hit,) = agency_engine.search(SearchRequest(q="langue:en")).hits
    assert (hit.urgency, hit.slugline, hit.language, hit.version) == (1, "Swiss-Elections", "en", 1)
    other = agency_engine.search(SearchRequest(q="munitions")).hits[0]
    assert (other.urgency, other.slugline, other.language, other.version) == (None, None, None, None)


def test_english_item_found_by_its_unstemmed_word_and_labelled(agency_engine):
    assert {"fr-elections", "en-elections"} <= ids(agency_engine, "elections")
    assert "en-elections" in ids(agency_engine, "parliament")
    assert "en-elections" in ids(agency_engine, '"their parliament"')  # a phrase with a French stop-list-free text
    assert "en-elections" not in ids(agency_engine, "parliaments")  # no English stemming either
    doc = agency_engine.document("en-elections")
    first = doc["body_blocks"][0]  # stored without its mark
    assert doc["language"] == "en" and first.kind == PARAGRAPH and plain_text(first.segments).startswith("The parties")
    assert doc["status"] == "usable" and doc["subjects"] == ["politique"] and doc["urgency"] == 1
    assert [v["version"] for v in doc["versions"]] == [1]


def test_french_stemming_unchanged_for_french_items(agency_engine):
    assert "fr-elections" in ids(agency_engine, "élection")
    assert "fr-bourse" in ids(agency_engine, "bancaire")


def test_plain_dispatch_document_keys(agency_engine):
    doc = agency_engine.document("otan-munitions")
    assert doc["status"] == "usable" and doc["versions"] == [] and doc["subjects"] == []
    assert all(doc[k] is None for k in ("urgency", "genre", "slugline", "language", "embargo"))


def test_index_built_before_agency_fields_gains_them(tmp_path, monkeypatch):
    full = indexing.make_schema

    def old_schema():
        schema = full()
        for name in ("urgency", "genre", "subjects", "language", "slugline", "release"):
            schema.remove(name)
        return schema

    monkeypatch.setattr(indexing, "make_schema", old_schema)
    root = build_index(tmp_path / "index", SEARCH_RECORDS, seed=True)
    monkeypatch.setattr(indexing, "make_schema", full)
    src = tmp_path / "item.jsonl"
    src.write_text('{"id": "g", "chapo": "Les Suisses éliront leur parlement.", "body": "The parties are ready.", '
                   '"agency": {"language": "en", "urgency": 2, "embargo": "2000-01-01T00:00:00Z"}}\n', encoding="utf-8")
    indexing.add([src], root, entities=False)
    ix, _, _ = indexing.open_generation(root)
    assert {"urgency", "genre", "subjects", "language", "slugline", "release"} <= set(ix.schema.names())
    engine = Engine(root)
    assert ids(engine, "urgence:2") == {"g"} and ids(engine, "langue:en parties") == {"g"}
