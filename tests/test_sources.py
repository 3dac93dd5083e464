"""Sources normalised (search/sources.py): one agency per source whatever the portal's spelling; bylines apart."""
from __future__ import annotations

import pytest

from search.engine import Engine
from search.model import SearchRequest
from search.sources import normalize


@pytest.mark.parametrize("raw, source, byline", [
    ("Orange avec AFP", "AFP", None),
    ("Orange avec AFP-Services", "AFP", None),
    ("orange avec AFP", "AFP", None),
    ("Source : AFP", "AFP", None),
    ("AFP", "AFP", None),
    ("Source BFMTV.com", "BFMTV", None),
    ("BFM TV", "BFMTV", None),
    ("6Médias", "6 Médias", None),
    ("Source : Non Stop Zapping", "Non Stop Zapping", None),
    ("Orange avec Media Services", "Media Services", None),
    ("Philippe GRELARD", None, "Philippe Grelard"),
    ("Amélie BOTTOLLIER-DEPOIS", None, "Amélie Bottollier-Depois"),
    ("Ivan Couronne", None, "Ivan Couronne"),
    ("Michel MOUTOT, avec les bureaux de l'AFP dans le monde", "AFP", "Michel Moutot"),
    ("Joy POWELL avec Charlotte PLANTIVE à Washington", None, "Joy Powell et Charlotte Plantive"),
    # Outlets that look like names stay sources.
    ("Paris Match", "Paris Match", None),
    ("Public Sénat", "Public Sénat", None),
    ("Euronews FR", "Euronews FR", None),
    ("Europe 1", "Europe 1", None),
    ("Test & <b>Cie</b>", "Test & <b>Cie</b>", None),
    ("ATS", "ATS", None),
    (None, None, None),
    ("  ", None, None),
])
def test_normalize(raw, source, byline):
    assert normalize(raw) == (source, byline)


def test_one_agency_in_the_source_facet(tmp_path):
    from corpus import build_index

    records = [
        {"id": f"s{i}", "title": f"Dépêche {i} sur la grève", "date": "2020-01-0" + str(i + 1), "chapo": "La grève continue.",
         "body": "Les syndicats appellent à manifester.", "source": raw}
        for i, raw in enumerate(["Orange avec AFP", "Orange avec AFP-Services", "AFP", "Philippe GRELARD", "Reuters"])
    ]
    engine = Engine(build_index(tmp_path / "index", records))
    resp = engine.search(SearchRequest(q="grève"))
    assert [(f.value, f.count) for f in resp.facets["sources"]] == [("AFP", 3), ("Reuters", 1)]
    assert engine.search(SearchRequest(q="grève", sources=("AFP",))).total == 3
    doc = engine.document("s3")
    assert doc["source"] is None and doc["byline"] == "Philippe Grelard"
    assert engine.document("s1")["source"] == "AFP" and engine.document("s1")["byline"] is None


def test_document_page_shows_the_byline(tmp_path):
    from corpus import build_index
    from web_helpers import make_app, page

    records = [{"id": "signee", "title": "Une dépêche signée", "date": "2020-02-02", "chapo": "Un texte signé.",
                "body": "Par une journaliste.", "source": "Amélie BOTTOLLIER-DEPOIS"}]
    client = make_app(build_index(tmp_path / "index", records)).test_client()
    assert '<span class="byline">par Amélie Bottollier-Depois</span>' in page(client, "/doc/signee")
    assert client.get("/api/documents/signee").json["byline"] == "Amélie Bottollier-Depois"
