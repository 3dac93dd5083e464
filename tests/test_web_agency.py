"""Agency items on the web (issue 13): urgency, slugline and language on hits, agency facets and
filters, the version history, and 410 for a withdrawn item. Against a stub engine that answers by
the engine's contract; tests/test_browser.py checks the same pages in Chromium."""
from __future__ import annotations

import html as html_module
import re

import pytest

from search.model import FacetItem
from web_helpers import agency_response, agency_stub, make_app, page, tags

WITHDRAWN = {"error": {"code": "document_withdrawn", "message": "Cette dépêche a été retirée par l'agence."}}


@pytest.fixture
def agency(web_index):
    """(test client, requests the engine saw, the canned responses list) of an app on a stub engine."""
    app = make_app(web_index)
    responses = [agency_response()]
    seen = agency_stub(app, responses)
    return app.test_client(), seen, responses


def text(html: str) -> str:
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def result_blocks(html: str) -> list[str]:
    return re.findall(r'<li class="result">(.*?)</li>\s*(?=<li class="result">|</ol>)', html, re.S)


def test_each_hit_shows_urgency_slugline_and_a_foreign_language(agency):
    client, _, _ = agency
    html = page(client, "/?q=kiev")
    flash, urgent, english, plain = result_blocks(html)
    assert re.search(r'<h2 class="result-title"[^>]*><span class="urgency urgency-1 is-high">FLASH</span> <a ', flash)
    assert re.search(r'<span class="urgency urgency-2 is-high">Urgence 2</span> <a ', urgent)
    assert "UKRAINE-CONFLIT" in text(flash) and "SUISSE-VOTE" in text(urgent)
    # Urgency 3-9 is said quietly in the meta line, not before the title.
    assert '<span class="urgency urgency-4">Urgence 4</span>' in english and "is-high" not in english
    assert "NATO-SUMMIT" in text(english)
    # Not French: labelled, and title and snippet carry lang so screen readers switch voice.
    assert re.search(r'<abbr class="lang-badge" title="anglais">EN</abbr>', english)
    langs = {(t, a.get("class")): a.get("lang") for t, a in tags(english) if a.get("lang")}
    assert langs == {("a", None): "en", ("p", "snippet"): "en"}
    assert "lang-badge" not in flash and 'lang="' not in flash  # French items: no label
    assert "urgency" not in plain and "slugline" not in plain and "lang-badge" not in plain


def test_agency_facets_have_french_labels_and_toggle(agency):
    client, seen, _ = agency
    html = page(client, "/?q=kiev")
    for name, label in (("urgency", "Urgence"), ("genre", "Genre"), ("subjects", "Sujets"), ("language", "Langue"),
                        ("slugline", "Slugline")):
        assert re.search(rf'<section class="facet" aria-labelledby="facet-{name}" data-facet="{name}">\s*<h3 id="facet-{name}">{label}</h3>', html)
    links = {(a.get("data-value"), a["href"]) for t, a in tags(html) if "facet-item" in (a.get("class") or "")}
    assert ("en", "/?q=kiev&language=en") in links
    assert ("1", "/?q=kiev&urgency=1") in links
    assert ("conflit armé", "/?q=kiev&subject=conflit+arm%C3%A9") in links
    assert ("UKRAINE-CONFLIT", "/?q=kiev&slugline=UKRAINE-CONFLIT") in links
    assert ("Actualité", "/?q=kiev&genre=Actualit%C3%A9") in links
    assert "anglais (en)" in text(html) and "1 · flash" in text(html)


def test_agency_filters_reach_the_request_and_show_as_removable_chips(agency):
    client, seen, responses = agency
    facets = agency_response().facets
    facets["language"] = [FacetItem("en", 1, selected=True)]
    facets["urgency"] = [FacetItem("1", 1, selected=True)]
    responses[0] = agency_response(facets=facets)
    html = page(client, "/?q=kiev&language=en&urgency=1&urgency=2&subject=conflit+armé&genre=Actualité&slugline=NATO-SUMMIT")
    req = seen[-1]
    assert (req.languages, req.urgencies, req.subjects, req.genres, req.sluglines) == (
        ("en",), ("1", "2"), ("conflit armé",), ("Actualité",), ("NATO-SUMMIT",))
    words = text(html)
    for chip in ("Langue : anglais (en)", "Urgence : 1 · flash", "Sujet : conflit armé", "Genre : Actualité", "Slugline : NATO-SUMMIT"):
        assert chip in words, chip
    links = {a.get("data-value"): html_module.unescape(a["href"]) for t, a in tags(html) if "facet-item" in (a.get("class") or "")}
    assert links["en"] == "/?q=kiev&urgency=1&urgency=2&genre=Actualité&subject=conflit+armé&slugline=NATO-SUMMIT".replace(
        "é", "%C3%A9")  # deselecting en keeps every other filter
    # The box keeps the filters for the next query.
    hidden = [(a["name"], a["value"]) for t, a in tags(html) if t == "input" and a.get("type") == "hidden"]
    assert ("language", "en") in hidden and ("urgency", "2") in hidden and ("slugline", "NATO-SUMMIT") in hidden


def test_api_search_takes_the_agency_filters(agency):
    client, seen, _ = agency
    r = client.get("/api/search?q=kiev&urgency=1&genre=Actualit%C3%A9&subject=%C3%A9lection&subject=conflit&language=en&slugline=X")
    assert r.status_code == 200
    req = seen[-1]
    assert req.urgencies == ("1",) and req.genres == ("Actualité",) and req.subjects == ("élection", "conflit")
    assert req.languages == ("en",) and req.sluglines == ("X",)
    body = r.json
    assert set(body["facets"]) >= {"urgency", "genre", "subjects", "language", "slugline"}
    toggles = {it["value"]: it["toggle_url"] for it in body["facets"]["subjects"]}
    assert toggles["conflit armé"].startswith("/api/search?q=kiev&urgency=1&") and toggles["conflit armé"].endswith("&subject=conflit+arm%C3%A9")
    hit = body["hits"][0]
    assert (hit["urgency"], hit["slugline"], hit["language"], hit["version"]) == (1, "UKRAINE-CONFLIT", "fr", 3)


@pytest.mark.parametrize("query", ["urgency=0", "urgency=10", "urgency=flash", "urgency=1&urgency=x"])
def test_bad_urgency_is_a_400(agency, query):
    client, _, _ = agency
    r = client.get("/api/search?" + query)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_filter"
    assert "urgency" in r.json["error"]["message"]


def test_api_document_has_agency_fields_and_withdrawn_is_410(agency, web_index):
    client, _, _ = agency
    doc = client.get("/api/documents/flash-1").json
    assert doc["status"] == "usable" and doc["urgency"] == 1 and doc["subjects"] == ["conflit armé", "catastrophe"]
    assert [v["version"] for v in doc["versions"]] == [1, 3, 2]  # as the engine gives them
    r = client.get("/api/documents/killed-9")
    assert r.status_code == 410 and r.json == WITHDRAWN
    assert client.get("/api/documents/unknown").status_code == 404  # embargoed items are unknown until release
    # A plain dispatch (real engine) says the same fields, empty.
    plain = make_app(web_index).test_client().get("/api/documents/afp-001").json
    assert plain["status"] == "usable" and plain["versions"] == [] and plain["urgency"] is None and plain["subjects"] == []


def test_document_page_shows_agency_metadata_and_history_newest_first(agency):
    client, _, _ = agency
    html = page(client, "/doc/flash-1")
    words = text(html)
    assert '<span class="urgency is-high" lang="fr">FLASH</span>' in html
    meta = re.search(r'<section class="agency-meta".*?</section>', html, re.S).group(0)
    assert "Informations de l'agence" in text(meta)
    for said in ("Urgence Flash (urgence 1)", "Genre Actualité", "Slugline UKRAINE-CONFLIT", "Langue français"):
        assert said in text(meta), said
    assert 'href="/?subject=conflit+arm%C3%A9"' in meta and 'href="/?urgency=1"' in meta
    history = re.search(r'<section class="versions".*?</section>', html, re.S).group(0)
    assert [int(v) for v in re.findall(r'data-version="(\d+)"', history)] == [3, 2, 1]
    # French date-times, in Paris time: 09:45 UTC is 11:45 in June.
    assert "Version 3 · 14 juin 2023 à 11:45 (affichée)" in text(history)
    assert "Titre modifié, 1 paragraphe modifié, urgence 2 → 1" in text(history)
    assert "Titre modifié, 1 paragraphe ajouté" in text(history)
    assert text(history).endswith("Version 1 · 14 juin 2023 à 10:02 Première version Explosion à Kiev")
    assert "Dans cette dépêche" in words


def test_document_page_of_an_english_item(agency):
    client, _, _ = agency
    html = page(client, "/doc/en-4")
    article = [a for t, a in tags(html) if t == "article"][0]
    assert article.get("lang") == "en"
    assert re.search(r'<p class="result-meta" lang="fr">', html)  # the French labels stay French
    assert "Langue anglais" in text(html) and "Urgence 4" in text(html)
    assert "Embargo jusqu'au 11 juillet 2023 à 06:00" in text(html)
    assert "Version 1 · 11 juillet 2023 à 06:00" in text(html)
    assert 'lang="en"' in re.search(r'<section class="related".*?</section>', html, re.S).group(0)


def test_withdrawn_page_is_410_with_its_history(agency):
    client, _, _ = agency
    html = page(client, "/doc/killed-9", 410)
    assert 'data-error-code="document_withdrawn"' in html
    words = text(html)
    assert "Dépêche retirée" in words and "Cette dépêche a été retirée par l'agence." in words
    history = re.search(r'<section class="versions".*?</section>', html, re.S).group(0)
    assert [int(v) for v in re.findall(r'data-version="(\d+)"', history)] == [2, 1]
    assert "Version 2 · 15 juin 2023 à 13:30 Retirée par l'agence" in text(history)
    assert "L'agence a annulé cette dépêche (killed-9) le 15 juin 2023 à 13:30" in words
    assert "dispatch-body" not in html and "related" not in html


def test_plain_index_shows_no_agency_markup(client):
    html = page(client, "/?q=munitions")
    assert "urgency" not in html and "slugline" not in html and "lang-badge" not in html
    assert 'data-facet="urgency"' not in html
    doc = page(client, "/doc/afp-001")
    assert "agency-meta" not in doc and 'class="versions"' not in doc


# ---------------------------------------------------------------- end to end: the real engine on agency items


def test_real_engine_hits_facets_and_filters(agency_client):
    body = agency_client.get("/api/search?q=kiev").json
    top = body["hits"][0]
    assert (top["id"], top["urgency"], top["slugline"], top["language"], top["version"]) == (
        "urn:newsml:afp:kiev", 1, "UKRAINE-EXPLOSION", "fr", 3)
    assert body["facets"]["urgency"][0]["toggle_url"] == "/api/search?q=kiev&urgency=1"
    english = agency_client.get("/api/search?language=en").json
    assert [h["id"] for h in english["hits"]] == ["urn:newsml:reu:nato"]
    assert [it for it in english["facets"]["language"] if it["selected"]][0]["toggle_url"] == "/api/search"
    html = page(agency_client, "/?q=ministers")
    assert '<abbr class="lang-badge" title="anglais">EN</abbr>' in html and "NATO-DEFENCE" in html
    assert page(agency_client, "/?q=kiev").count('<span class="urgency urgency-1 is-high">FLASH</span>') == 1
    assert 'data-facet="slugline"' in page(agency_client, "/")


def test_real_engine_history_kill_and_embargo(agency_client):
    doc = agency_client.get("/api/documents/urn:newsml:afp:kiev").json
    assert doc["status"] == "usable" and [v["version"] for v in doc["versions"]] == [1, 2, 3]
    html = page(agency_client, "/doc/urn:newsml:afp:kiev")
    history = re.search(r'<section class="versions".*?</section>', html, re.S).group(0)
    assert [int(v) for v in re.findall(r'data-version="(\d+)"', history)] == [3, 2, 1]
    assert "Version 3 · 1er mars 2024 à 10:45 (affichée)" in text(history)
    killed = agency_client.get("/api/documents/urn:newsml:afp:rumeur")
    assert killed.status_code == 410 and killed.json == WITHDRAWN
    gone = page(agency_client, "/doc/urn:newsml:afp:rumeur", 410)
    assert "Dépêche retirée" in text(gone) and "Retirée par l'agence" in text(gone)
    assert "urn:newsml:afp:rumeur" not in agency_client.get("/api/search?q=maire+lyon").get_data(as_text=True)
    # Under embargo: unknown, on the page and in the API alike.
    assert agency_client.get("/api/documents/urn:newsml:afp:embargo").status_code == 404
    page(agency_client, "/doc/urn:newsml:afp:embargo", 404)
    assert agency_client.get("/api/search?q=nobel").json["total"] == 0


# ---------------------------------------------------------------- earlier versions (?version=N)


def test_api_document_at_an_earlier_version(agency):
    client, _, _ = agency
    live = client.get("/api/documents/flash-1").json
    assert live["shown_version"] == 3
    r = client.get("/api/documents/flash-1?version=1")
    assert r.status_code == 200
    old = r.json
    assert old["shown_version"] == 1 and old["title"] == "Explosion à Kiev" and old["body_html"] == "<p>Premières informations.</p>"
    assert set(old) == set(live) and old["versions"] == live["versions"]
    assert client.get("/api/documents/flash-1?version=3").json == live
    for bad in ("0", "-1", "x", "1.5", "", "%EF%BC%91", "1234567890"):
        r = client.get(f"/api/documents/flash-1?version={bad}")
        assert r.status_code == 400 and r.json["error"]["code"] == "bad_version", bad
        assert "« version » doit être un nombre entier positif" in r.json["error"]["message"]
    r = client.get("/api/documents/flash-1?version=1&version=2")
    assert r.status_code == 400 and r.json["error"]["code"] == "repeated_parameter"
    r = client.get("/api/documents/flash-1?version=7")
    assert r.status_code == 404 and r.json["error"]["code"] == "document_not_found"
    assert "version 7" in r.json["error"]["message"]
    assert client.get("/api/documents/unknown?version=1").status_code == 404
    r = client.get("/api/documents/killed-9?version=1")  # a kill removes every version from view
    assert r.status_code == 410 and r.json == WITHDRAWN


def test_document_page_at_an_earlier_version_says_so(agency):
    client, _, _ = agency
    html = page(client, "/doc/flash-1?version=1&q=kiev")
    banner = re.search(r'<p class="notice version-banner"[^>]*>.*?</p>', html, re.S).group(0)
    assert text(banner) == ("Version 1 du 14 juin 2023 à 10:02 — ce n'est pas la dernière version. "
                            "Lire la version actuelle (version 3)")
    assert 'href="/doc/flash-1?q=kiev"' in banner  # the current one, the highlighted words kept
    assert "<title>Explosion à Kiev (version 1) — Dépêche</title>" in html
    assert "Premières informations." in text(html) and "Les secours sont sur place." not in text(html)
    history = re.search(r'<section class="versions".*?</section>', html, re.S).group(0)
    assert "Version 1 · 14 juin 2023 à 10:02 (affichée)" in text(history)
    assert "(affichée)" not in text(history).split("Version 1")[0]  # only the one shown
    links = {a["href"] for t, a in tags(history) if t == "a"}
    assert links == {"/doc/flash-1?q=kiev", "/doc/flash-1?version=2&q=kiev"}  # every version but the one shown
    assert re.search(r'<li class="version is-shown" data-version="1">', history)


def test_document_page_of_the_live_version_links_the_earlier_ones(agency):
    client, _, _ = agency
    for url in ("/doc/flash-1", "/doc/flash-1?version=3"):
        html = page(client, url)
        assert "version-banner" not in html and "ce n'est pas la dernière version" not in html
        history = re.search(r'<section class="versions".*?</section>', html, re.S).group(0)
        assert "Version 3 · 14 juin 2023 à 11:45 (affichée)" in text(history)
        assert {a["href"] for t, a in tags(history) if t == "a"} == {"/doc/flash-1?version=1", "/doc/flash-1?version=2"}


def test_document_page_bad_unknown_and_withdrawn_versions(agency):
    client, _, _ = agency
    bad = page(client, "/doc/flash-1?version=0", 400)
    assert 'data-error-code="bad_version"' in bad and "« version » doit être un nombre entier positif" in text(bad)
    missing = page(client, "/doc/flash-1?version=7", 404)
    assert "n'a pas de version 7" in text(missing)
    gone = page(client, "/doc/killed-9?version=1", 410)
    assert "Dépêche retirée" in text(gone) and "dispatch-body" not in gone
    # The withdrawn page's history links nothing: no text is left to show.
    history = re.search(r'<section class="versions".*?</section>', gone, re.S).group(0)
    assert "<a " not in history


def test_real_engine_earlier_versions(agency_client):
    kiev = "urn:newsml:afp:kiev"
    doc = agency_client.get(f"/api/documents/{kiev}?version=1&q=secours").json
    assert doc["shown_version"] == 1 and doc["title"] == "Explosion à Kiev"
    assert doc["lead"] == "Une forte explosion a retenti à Kiev."
    assert doc["body_html"] == "<p>Les <mark>secours</mark> se rendent sur place.</p>"
    assert agency_client.get(f"/api/documents/{kiev}").json["shown_version"] == 3
    assert agency_client.get(f"/api/documents/{kiev}?version=4").status_code == 404
    assert agency_client.get("/api/documents/urn:newsml:afp:rumeur?version=1").status_code == 410
    assert agency_client.get("/api/documents/urn:newsml:afp:embargo?version=1").status_code == 404
    assert agency_client.get("/api/documents/afp-001?version=1").status_code == 404  # not an agency item
    assert agency_client.get("/api/documents/afp-001").json["shown_version"] is None
    html = page(agency_client, f"/doc/{kiev}?version=2")
    assert "Version 2 du 1er mars 2024 à 09:30 — ce n'est pas la dernière version." in text(html)
    assert "Explosion à Kiev : des victimes" in text(html) and "trois morts" not in text(re.search(
        r'<article.*?</article>', html, re.S).group(0))
    gone = page(agency_client, "/doc/urn:newsml:afp:rumeur?version=1", 410)
    assert "La mairie ne confirme pas" not in gone
