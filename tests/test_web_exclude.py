"""Excluding facet values (not_person, not_place, not_source; « sauf » on the page), and the
phone drawer's markup. The browser side is in test_browser.py."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from corpus import WEB_DISPATCHES
from web_helpers import page

UKRAINE = {d["id"] for d in WEB_DISPATCHES if "Ukraine" in d.get("places", [])}


def pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def item(body: dict, facet: str, value: str) -> dict:
    return next(it for it in body["facets"][facet] if it["value"] == value)


def test_params_reach_the_request_and_state():
    from werkzeug.datastructures import MultiDict

    from web.params import search_request, state

    settings = {"PER_PAGE": 10, "FACET_SIZE": 10, "TIME_BUDGET_MS": 1000}
    req = search_request(MultiDict([("not_place", "Ukraine"), ("not_place", " Kiev "), ("not_place", "Ukraine"),
                                    ("not_person", "Alain Berset"), ("not_source", "AFP"), ("place", "France")]), settings)
    assert req.exclude_places == ("Ukraine", "Kiev") and req.exclude_people == ("Alain Berset",)
    assert req.exclude_sources == ("AFP",) and req.places == ("France",)
    assert state(req) == [("place", "France"), ("not_person", "Alain Berset"), ("not_place", "Ukraine"),
                          ("not_place", "Kiev"), ("not_source", "AFP")]


def test_api_excludes_and_marks_the_excluded_value(client):
    everything = client.get("/api/search?per_page=100").get_json()
    r = client.get("/api/search?not_place=ukraine&per_page=100")
    assert r.status_code == 200
    body = r.get_json()
    ids = {h["id"] for h in body["hits"]}
    assert body["total"] == everything["total"] - len(UKRAINE) and not ids & UKRAINE
    ukraine = item(body, "places", "Ukraine")
    assert ukraine["excluded"] is True and ukraine["selected"] is False and ukraine["count"] == 0
    # Its toggle_url selects it instead; its exclude_url lifts the exclusion.
    assert pairs(ukraine["toggle_url"]) == [("per_page", "100"), ("place", "Ukraine")]
    assert pairs(ukraine["exclude_url"]) == [("per_page", "100")]
    # Counts are over what is left: Kiev's and Berne's dispatches all name Ukraine.
    assert "Alain Berset" not in {it["value"] for it in body["facets"]["people"]}
    # Any other value: exclude_url adds not_place; other facets have none.
    france = item(body, "places", "France")
    assert france["excluded"] is False and pairs(france["exclude_url"]) == [("not_place", "ukraine"), ("per_page", "100"), ("not_place", "France")]
    assert all(it["exclude_url"] is None for it in body["facets"]["dates"])
    afp = item(body, "sources", "AFP")
    assert urlsplit(afp["exclude_url"]).path == "/api/search" and ("not_source", "AFP") in pairs(afp["exclude_url"])


def test_api_selected_value_switches_to_excluded(client):
    body = client.get("/api/search?place=Ukraine").get_json()
    assert body["total"] == len(UKRAINE)
    ukraine = item(body, "places", "Ukraine")
    assert ukraine["selected"] and not ukraine["excluded"]
    assert pairs(ukraine["exclude_url"]) == [("not_place", "Ukraine")]
    switched = client.get(ukraine["exclude_url"]).get_json()
    assert switched["total"] == client.get("/api/search").get_json()["total"] - len(UKRAINE)


def test_or_within_and_across_through_the_api(client):
    either = client.get("/api/search?place=Kiev&place=Bourges&per_page=100").get_json()
    assert {h["id"] for h in either["hits"]} == {"afp-002", "afp-007"}
    both = client.get("/api/search?place=Kiev&place=Bourges&person=Emmanuel+Macron").get_json()
    assert [h["id"] for h in both["hits"]] == ["afp-007"]
    minus = client.get("/api/search?place=Ukraine&not_source=AFP&per_page=100").get_json()
    assert {h["id"] for h in minus["hits"]} == {"ats-003", "ats-006"}
    # The query language says the same.
    by_query = client.get("/api/search?q=-lieu:Ukraine&per_page=100").get_json()
    by_param = client.get("/api/search?not_place=Ukraine&per_page=100").get_json()
    assert {h["id"] for h in by_query["hits"]} == {h["id"] for h in by_param["hits"]}
    # ... however the minus is typed (a word processor's en dash, a minus sign), or with SAUF; with words too.
    from urllib.parse import quote

    munitions = client.get("/api/search?q=munitions&not_place=Ukraine&per_page=100").get_json()
    assert munitions["total"] >= 1
    for q in ("munitions -lieu:Ukraine", "munitions –lieu:Ukraine", "munitions −lieu:ukraine", "munitions SAUF lieu:Ukraine"):
        got = client.get(f"/api/search?q={quote(q)}&per_page=100").get_json()
        assert got["notice"] is None and [h["id"] for h in got["hits"]] == [h["id"] for h in munitions["hits"]], q
    html = page(client, "/?q=" + quote("munitions SAUF lieu:Ukraine"))
    assert f'data-total="{munitions["total"]}"' in html


def test_bad_exclusions_are_400(client):
    for url in ("/api/search?not_place=" + "x" * 201, "/api/search?" + "&".join(f"not_person=p{i}" for i in range(21)),
                "/api/search?not_source=%FF"):
        r = client.get(url)
        assert r.status_code == 400, url
        assert r.get_json()["error"]["code"] in ("bad_filter", "bad_encoding")
    page(client, "/?not_place=" + "x" * 201, 400)


def test_page_chips_and_sauf_toggles(client):
    html = page(client, "/?place=Ukraine&not_source=AFP")
    # The selected place: a chip with a « sauf » switch to exclude it instead.
    assert 'class="chip-group"' in html and 'class="chip-group is-excluded"' in html
    assert '<span class="chip-label">Source :</span> <span class="chip-sauf">sauf</span> AFP' in html
    assert 'href="/?not_source=AFP&amp;not_place=Ukraine"' in html  # Lieu : Ukraine → sauf Ukraine
    assert 'href="/?place=Ukraine&amp;source=AFP"' in html  # sauf AFP → AFP
    assert "exclure « Ukraine » au lieu de le choisir" in html and "choisir « AFP » au lieu de l&#39;exclure" in html
    # Facet items: a « sauf » link each (people, places, sources), the excluded one marked.
    assert 'class="facet-item is-excluded"' in html and "(exclu : activer pour le choisir)" in html
    # No « 0 » beside the excluded value (it would read as « sauf » changing nothing).
    excluded = html[html.index('class="facet-item is-excluded"'):]
    assert excluded[:excluded.index("</a>")].count('<span class="facet-count"><span aria-hidden="true">–</span></span>') == 1
    assert html.count('class="facet-exclude') >= 3 and 'class="facet-exclude is-on"' in html
    assert "ne plus exclure « AFP »" in html


def test_feed_title_says_what_is_excluded(client):
    r = client.get("/feed.atom?not_place=Ukraine")
    assert r.status_code == 200 and "Lieu : sauf Ukraine" in r.get_data(as_text=True)


def test_page_has_the_drawer_controls_hidden_without_script(client):
    html = page(client, "/?place=Ukraine&not_source=AFP")
    assert '<button type="button" class="filters-toggle" aria-controls="filtres" aria-expanded="false" hidden>Filtres (2)</button>' in html
    assert '<button type="button" class="drawer-close" hidden>' in html
    # Without JS the filters still follow the results, reached by the « Filtres ↓ » link.
    assert html.index('id="filtres"') > html.index('class="results"')
    assert 'class="jump-filters" href="#filtres"' in html
