"""People and places pages and their JSON (web/coverage.py), and the links that lead to them."""
from __future__ import annotations

import re
from urllib.parse import quote

from web_helpers import page, tags


def test_api_person_page(entity_client):
    r = entity_client.get("/api/personne/Emmanuel%20Macron")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.json
    assert data["kind"] == "people" and data["name"] == "Emmanuel Macron" and data["total"] == 4
    assert data["also_named"] == ["Macron"]
    assert data["page_url"] == "/personne/Emmanuel%20Macron"
    assert data["search_url"] == "/?person=Emmanuel+Macron"
    assert [(d["value"], d["count"]) for d in data["dates"]] == [("2019-01", 1), ("2019-03", 1), ("2019-06", 1), ("2019-09", 1)]
    assert data["dates"][0]["search_url"] == "/?person=Emmanuel+Macron&from=2019-01&to=2019-01"
    assert [(p["value"], p["count"]) for p in data["people"]] == [("Édouard Philippe", 2), ("Angela Merkel", 1)]
    assert data["people"][0]["page_url"] == "/personne/%C3%89douard%20Philippe"
    assert data["people"][0]["search_url"] == "/?person=Emmanuel+Macron&person=%C3%89douard+Philippe"
    assert [(p["value"], p["count"]) for p in data["places"]] == [("Paris", 3), ("Berlin", 1), ("Lyon", 1)]
    assert data["places"][0]["page_url"] == "/lieu/Paris"
    assert [h["id"] for h in data["latest"]] == ["macron-seul", "macron-3", "macron-2", "macron-1"]
    assert data["partial"] is False and data["timed_out"] == []


def test_api_place_page_and_parameters(entity_client):
    data = entity_client.get("/api/lieu/PARIS?size=1&latest=1").json
    assert data["name"] == "Paris" and data["total"] == 4
    assert [(p["value"], p["count"]) for p in data["people"]] == [("Emmanuel Macron", 3)]
    assert [h["id"] for h in data["latest"]] == ["macron-seul"]
    r = entity_client.get("/api/lieu/Paris?latest=51")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_latest"


def test_unknown_names_are_404_in_french(entity_client):
    r = entity_client.get("/api/personne/Personne%20Inconnue")
    assert r.status_code == 404
    assert r.json == {"error": {"code": "person_not_found", "message": "Aucune dépêche ne cite cette personne."}}
    r = entity_client.get("/api/lieu/Atlantide")
    assert r.status_code == 404 and r.json["error"]["code"] == "place_not_found"
    html = page(entity_client, "/personne/Personne%20Inconnue", 404)
    assert "Aucune dépêche ne cite cette personne." in html and "Page introuvable" in html
    html = page(entity_client, "/lieu/Atlantide", 404)
    assert "Aucune dépêche ne cite ce lieu." in html
    r = entity_client.get("/api/personne/" + "x" * 201)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_name"


def test_person_page_html(entity_client):
    html = page(entity_client, "/personne/Emmanuel%20Macron")
    assert '<h1 class="entity-name">Emmanuel Macron</h1>' in html
    assert 'data-total="4"' in html and "Citée dans" in html and "«&nbsp;Macron&nbsp;»" in html
    # The histogram: the search page's, each bar opening the search for him in that month.
    bars = [a for t, a in tags(html) if t == "a" and "histogram-link" in (a.get("class") or "")]
    assert [(b["data-value"], b["data-count"]) for b in bars] == [("2019-01", "1"), ("2019-03", "1"), ("2019-06", "1"), ("2019-09", "1")]
    assert bars[0]["href"] == "/?person=Emmanuel+Macron&from=2019-01&to=2019-01"
    # Names alongside: their page, and the count opens the dispatches naming both.
    assert re.search(r'href="/personne/%C3%89douard%20Philippe">Édouard Philippe</a>\s*<a class="alongside-count" '
                     r'href="/\?person=Emmanuel\+Macron&amp;person=%C3%89douard\+Philippe" data-count="2"', html)
    assert 'href="/lieu/Paris">Paris</a>' in html
    # Latest dispatches, newest first.
    latest = re.findall(r'href="/doc/([^"?]+)"', html[html.index("Dernières dépêches"):])
    assert latest == ["macron-seul", "macron-3", "macron-2", "macron-1"]


def test_one_person_one_page_redirects(entity_client):
    r = entity_client.get("/personne/Macron")
    assert r.status_code == 302 and r.headers["Location"] == "/personne/Emmanuel%20Macron"
    r = entity_client.get("/lieu/paris?size=3")
    assert r.status_code == 302 and r.headers["Location"] == "/lieu/Paris?size=3"
    # « Le Pen » is two people: its own page, which names them.
    html = page(entity_client, "/personne/Le%20Pen")
    assert 'data-total="1"' in html
    assert ('«&nbsp;Le Pen&nbsp;» seul peut désigner plusieurs personnes&nbsp;: <a href="/personne/Jean-Marie%20Le%20Pen" '
            'data-count="1">Jean-Marie Le Pen</a> (1), <a href="/personne/Marine%20Le%20Pen" data-count="1">Marine Le Pen</a> (1).') in html
    assert entity_client.get("/api/personne/le%20pen").json["namesakes"] == [
        {"value": "Jean-Marie Le Pen", "count": 1, "page_url": "/personne/Jean-Marie%20Le%20Pen"},
        {"value": "Marine Le Pen", "count": 1, "page_url": "/personne/Marine%20Le%20Pen"}]
    assert entity_client.get("/api/personne/Emmanuel%20Macron").json["namesakes"] == []


def test_facet_items_and_chips_link_to_the_pages(entity_client):
    html = page(entity_client, "/?q=r%C3%A9forme&person=Emmanuel+Macron")
    links = [a for t, a in tags(html) if t == "a"]
    chip_pages = [a["href"] for a in links if a.get("class") == "chip-page"]
    assert chip_pages == ["/personne/Emmanuel%20Macron"]
    facet_pages = {a["href"] for a in links if a.get("class") == "facet-page"}
    assert "/personne/%C3%89douard%20Philippe" in facet_pages and "/lieu/Paris" in facet_pages


def test_document_page_links_to_its_people_and_places(entity_client):
    html = page(entity_client, "/doc/macron-2")
    pages = [a["href"] for t, a in tags(html) if t == "a" and a.get("class") == "chip-page"]
    assert pages == ["/personne/Emmanuel%20Macron", "/personne/%C3%89douard%20Philippe", "/lieu/Paris", "/lieu/Lyon"]
    # A surname alone is shown, and linked, as the person the archive reads it as.
    html = page(entity_client, "/doc/macron-seul")
    assert "/personne/Emmanuel%20Macron" in html and ">Macron<" not in html


def test_autocomplete_gives_each_name_its_page(entity_client):
    data = entity_client.get("/api/suggest?q=philip").json
    assert data["people"] == ["Édouard Philippe"]
    assert data["pages"] == {"people": ["/personne/" + quote("Édouard Philippe")], "places": []}
    data = entity_client.get("/api/suggest?q=ly").json
    assert data["pages"]["places"] == ["/lieu/Lyon"]
    assert entity_client.get("/api/suggest?q=").json["pages"] == {"people": [], "places": []}
