"""The JSON API: shapes, filters, errors in one shape, and never a 500 for any input."""
from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import SCHEMA_VERSION
from search.model import MAX_PER_PAGE
from corpus import MUNITIONS_IDS, WEB_DISPATCHES
from web_helpers import make_app

HIT_KEYS = {"id", "title", "title_html", "title_segments", "date", "source", "url", "snippet_html", "snippet_segments",
            "score", "people", "places"}


def rendered(segments: list[dict]) -> str:
    """What a client would write for segments: text escaped, marks in <mark>."""
    return "".join(f"<mark>{html.escape(s['text'])}</mark>" if s["mark"] else html.escape(s["text"]) for s in segments)
TOP_KEYS = {"query", "total", "page", "per_page", "took_ms", "corrected_query", "hits", "facets", "notice", "partial"}


def api(client, url: str, status: int = 200) -> dict:
    """GET a JSON endpoint, check status and content type; returns the body."""
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "application/json"
    return r.json


def assert_error(body: dict, code: str | None = None) -> None:
    """The one error shape."""
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def facet(body: dict, name: str, value: str) -> dict:
    """A facet item by value (case-insensitive)."""
    return next(it for it in body["facets"][name] if it["value"].casefold() == value.casefold())


def relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# ---------------------------------------------------------------- /api/search


def test_search_shape(client):
    body = api(client, "/api/search?q=munitions")
    assert TOP_KEYS <= set(body)
    assert body["query"] == "munitions" and body["page"] == 1 and body["per_page"] == 10
    assert body["total"] == len(MUNITIONS_IDS)
    assert {h["id"] for h in body["hits"]} == MUNITIONS_IDS
    for hit in body["hits"]:
        assert HIT_KEYS <= set(hit)
        assert isinstance(hit["people"], list) and isinstance(hit["places"], list)
    assert any("<mark>" in h["snippet_html"] or "<mark>" in h["title_html"] for h in body["hits"])
    for hit in body["hits"]:  # the same text twice: as HTML (for pages) and as data (for any other client)
        assert hit["title_html"] == rendered(hit["title_segments"])
        assert "".join(s["text"] for s in hit["title_segments"]) == hit["title"]
        assert hit["snippet_html"] == rendered(hit["snippet_segments"])
    assert any(s["mark"] and s["text"].lower() == "munitions" for h in body["hits"] for s in h["snippet_segments"])
    assert set(body["facets"]) >= {"people", "places", "sources", "dates"}
    for items in body["facets"].values():
        for it in items:
            assert {"value", "count", "selected", "toggle_url"} <= set(it)
            assert it["toggle_url"].startswith("/api/search?")
    assert isinstance(body["took_ms"], (int, float)) and body["partial"] is False


def test_unicode_is_not_escaped_in_json(client):
    r = client.get("/api/search?q=munitions")
    assert "é" in r.get_data(as_text=True)


def test_toggle_url_selects_then_deselects(client):
    body = api(client, "/api/search?q=munitions")
    ukraine = facet(body, "places", "Ukraine")
    selected = api(client, ukraine["toggle_url"])
    assert selected["total"] == ukraine["count"]
    again = facet(selected, "places", "Ukraine")
    assert again["selected"] is True
    assert all("ukraine" in [p.casefold() for p in h["places"]] for h in selected["hits"])
    back = api(client, again["toggle_url"])
    assert back["total"] == body["total"]
    assert dict(parse_qsl(urlsplit(again["toggle_url"]).query)) == {"q": "munitions"}


def test_multi_select_people(client):
    one = api(client, "/api/search?person=Alain+Berset")
    assert {h["id"] for h in one["hits"]} == {"ats-003", "ats-006"}
    both = api(client, "/api/search?person=Alain+Berset&place=Berne")
    assert {h["id"] for h in both["hits"]} == {"ats-003"}


def test_source_filter_is_case_and_accent_insensitive(client):
    a = api(client, "/api/search?q=munitions&source=ATS")
    b = api(client, "/api/search?q=munitions&source=ats")
    assert a["total"] == b["total"] >= 1
    assert all(h["source"] == "ATS" for h in a["hits"])


def test_date_range(client):
    body = api(client, "/api/search?q=munitions&from=2023-01&to=2023-03")
    assert {h["id"] for h in body["hits"]} == {"ats-003", "ats-006"}
    month = api(client, "/api/search?q=munitions&from=2023-05&to=2023-05")
    assert {h["id"] for h in month["hits"]} == {"afp-002"}
    dates = {it["value"]: it for it in api(client, "/api/search?q=munitions")["facets"]["dates"]}
    assert dates["2023-05"]["count"] == 1
    assert "from=2023-05" in dates["2023-05"]["toggle_url"] and "to=2023-05" in dates["2023-05"]["toggle_url"]


def test_sorts(client):
    newest = [h["date"] for h in api(client, "/api/search?q=munitions&sort=newest")["hits"]]
    oldest = [h["date"] for h in api(client, "/api/search?q=munitions&sort=oldest")["hits"]]
    assert newest[0] == "2023-06-14" and newest == list(reversed(oldest))
    assert api(client, "/api/search?q=munitions&sort=newest")["sort"] == "newest"


def test_pagination(client):
    pages = [api(client, f"/api/search?q=munitions&per_page=2&page={n}") for n in (1, 2, 3, 4)]
    ids = [h["id"] for p in pages for h in p["hits"]]
    assert len(ids) == len(set(ids)) == len(MUNITIONS_IDS)
    assert all(p["per_page"] == 2 and p["total"] == len(MUNITIONS_IDS) for p in pages)
    assert pages[0]["pages"] == -(-len(MUNITIONS_IDS) // 2)
    beyond = api(client, "/api/search?q=munitions&page=50")
    assert beyond["hits"] == [] and beyond["total"] == len(MUNITIONS_IDS)
    assert "per_page=2" in facet(pages[0], "places", "Ukraine")["toggle_url"]


def test_browse_without_query(client):
    body = api(client, "/api/search")
    assert body["total"] == len(WEB_DISPATCHES)


@pytest.mark.parametrize(
    "query, code",
    [
        ("page=0", "bad_page"),
        ("page=-1", "bad_page"),
        ("page=abc", "bad_page"),
        ("page=1.5", "bad_page"),
        ("page=101", "bad_page"),
        ("per_page=0", "bad_per_page"),
        (f"per_page={MAX_PER_PAGE + 1}", "bad_per_page"),
        ("per_page=10000", "bad_per_page"),
        ("per_page=99999999999999999999999", "bad_per_page"),
        ("facet_size=0", "bad_facet_size"),
        ("from=2023-13", "bad_date"),
        ("from=2023-02-30", "bad_date"),
        ("to=hier", "bad_date"),
        ("from=23-01", "bad_date"),
        ("from=2023-06&to=2023-01", "bad_date"),
        ("sort=pertinence", "bad_sort"),
        ("sort=", "bad_sort"),
        ("page=", "bad_page"),
        ("page=+1", "bad_page"),
        ("page=1_0", "bad_page"),
        ("page=%201", "bad_page"),
        ("from=2023%0A", "bad_date"),
        ("from=0000", "bad_date"),
        ("from=&to=", None),
        ("page=1&page=2", "repeated_parameter"),
        ("q=a&q=b", "repeated_parameter"),
        ("q=" + "a" * 1001, "query_too_long"),
    ],
)
def test_invalid_parameters_are_400(client, query, code):
    r = client.get("/api/search?" + query)
    if code is None:
        assert r.status_code == 200
        return
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert_error(r.json, code)


def test_huge_query_is_400_not_500(client):
    r = client.get("/api/search?" + urlencode({"q": "munitions " * 20000}))
    assert r.status_code == 400
    assert_error(r.json, "query_too_long")


@pytest.mark.parametrize(
    "raw",
    [
        b"q=%00",
        b"q=munitions%00%00",
        b"q=%ED%A0%80",  # an encoded lone surrogate
        b"q=%FF%FE",  # not UTF-8
        b"q=%C3",  # truncated UTF-8
        b"person=%00&place=%ED%B0%80",
        b"q=%22munitions",  # unbalanced quote
        b"q=munitions+AND+OR+NOT",
        b"q=(((",
        b"q=*",
        b"q=title:munitions",
        b"q=%5B1+TO+",
        b"q=%E2%80%AE%F0%9F%92%A3",
        b"source=" + b"x" * 300,
        b"q&page&per_page",
        b"from=&to=",
        b"page=%EF%BC%91",  # a full-width digit one
    ],
)
def test_hostile_input_is_200_or_400(client, raw):
    r = client.get("/api/search?" + raw.decode("ascii"))
    assert r.status_code in (200, 400), r.get_data(as_text=True)[:300]
    if r.status_code == 400:
        assert_error(r.json)
    else:
        assert TOP_KEYS <= set(r.json)


_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=60)  # surrogates and controls included
_params = st.lists(
    st.tuples(st.sampled_from(["q", "person", "place", "source", "from", "to", "sort", "page", "per_page", "facet_size", "x"]), _text),
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=_params)
def test_fuzzed_parameters_never_500(client, params):
    # surrogatepass: lone surrogates go over the wire as the bytes a broken client would send.
    query = urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in params])
    for path in ("/api/search", "/api/suggest", "/"):
        r = client.get(path, query_string=query)
        assert r.status_code in (200, 400), (path, query, r.status_code, r.get_data(as_text=True)[:300])


# ---------------------------------------------------------------- /api/documents


def test_document(client):
    body = api(client, "/api/documents/afp-001?q=munitions")
    assert body["id"] == "afp-001"
    assert {"title", "title_html", "title_segments", "lead_html", "lead_segments", "body_html", "body_blocks", "date",
            "source", "url", "people", "places"} <= set(body)
    assert "<mark>" in body["lead_html"] + body["title_html"]
    assert body["title_html"] == rendered(body["title_segments"]) and body["lead_html"] == rendered(body["lead_segments"])
    tags = {"paragraph": ("<p>", "</p>"), "subhead": ('<h3 class="subhead">', "</h3>")}
    assert body["body_html"] == "\n".join(tags[b["kind"]][0] + rendered(b["segments"]) + tags[b["kind"]][1]
                                          for b in body["body_blocks"])
    assert body["people"] and body["places"]
    plain = api(client, "/api/documents/afp-001")
    assert "<mark>" not in plain["lead_html"] + plain["body_html"]
    assert not any(s["mark"] for s in plain["lead_segments"] + [s for b in plain["body_blocks"] for s in b["segments"]])


def test_document_with_escaped_id(client):
    assert api(client, "/api/documents/d%C3%A9p%C3%AAche%209")["id"] == "dépêche 9"


def test_hostile_document_is_escaped_in_html_fields(client):
    body = api(client, "/api/documents/xss-008")
    for field in ("title_html", "lead_html", "body_html"):
        assert "<script" not in body[field] and "<img" not in body[field] and "<a " not in body[field]
    # The data keeps the text as written: a client rendering it must escape it, as the spec says.
    assert "".join(s["text"] for s in body["title_segments"]) == body["title"]


@pytest.mark.parametrize("path", ["nope", "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 500, "a%5Cb", "%ED%A0%80"])
def test_unknown_document_is_404(client, path):
    r = client.get("/api/documents/" + path)
    assert r.status_code == 404
    assert_error(r.json)


# ---------------------------------------------------------------- /api/suggest


def test_suggest(client):
    body = api(client, "/api/suggest?q=mun")
    assert set(body) >= {"terms", "people", "places"}
    assert any("munition" in (t if isinstance(t, str) else str(t)).lower() for t in body["terms"])
    assert api(client, "/api/suggest?q=")["terms"] == []
    people = api(client, "/api/suggest?q=stol")["people"]
    assert any("stoltenberg" in (p if isinstance(p, str) else str(p)).lower() for p in people)


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=1000", "q=" + "a" * 1001, "q=a&q=b"])
def test_suggest_invalid(client, query):
    r = client.get("/api/suggest?" + query)
    assert r.status_code == 400
    assert_error(r.json)


# ---------------------------------------------------------------- health, errors


def test_healthz(client):
    body = api(client, "/healthz")
    assert body["documents"] == len(WEB_DISPATCHES)
    assert body["schema_version"] == SCHEMA_VERSION
    assert isinstance(body["generation"], int) and body["generation"] >= 1


def test_api_404_405_are_json(client):
    assert_error(api(client, "/api/nope", 404), "not_found")
    r = client.post("/api/search?q=x")
    assert r.status_code == 405 and r.mimetype == "application/json"
    assert_error(r.json, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    r = client.delete("/api/documents/afp-001")
    assert r.status_code == 405 and r.mimetype == "application/json"
    r = client.post("/healthz")
    assert r.status_code == 405 and r.mimetype == "application/json"


def test_head_requests(client):
    assert client.head("/api/search?q=munitions").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_500_is_json_on_api_and_html_elsewhere(web_index):
    app = make_app(web_index)

    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/api/boom", "api_boom", boom)
    app.add_url_rule("/boom", "boom", boom)
    client = app.test_client()
    r = client.get("/api/boom")
    assert r.status_code == 500 and r.mimetype == "application/json"
    assert_error(r.json, "internal_error")
    assert "secret detail" not in r.get_data(as_text=True)
    r = client.get("/boom")
    assert r.status_code == 500 and r.mimetype == "text/html"
    assert "secret detail" not in r.get_data(as_text=True)
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_engine_invalid_request_is_400(web_index, monkeypatch):
    from search.model import InvalidRequest
    from web import ENGINE_KEY

    app = make_app(web_index)

    def refuse(req):
        raise InvalidRequest("bad_query", "requête refusée")

    monkeypatch.setattr(app.extensions[ENGINE_KEY], "search", refuse)
    r = app.test_client().get("/api/search?q=x")
    assert r.status_code == 400 and r.json == {"error": {"code": "bad_query", "message": "requête refusée"}}


def test_search_json_matches_the_library_response(web_index):
    """The API body is the library's SearchResponse.to_dict(), plus pages, toggle_urls, exclude_urls and
    each hit's title and snippet rendered as HTML."""
    from search.model import SearchRequest
    from web import ENGINE_KEY

    app = make_app(web_index)
    body = api(app.test_client(), "/api/search?q=munitions&per_page=3")
    expected = app.extensions[ENGINE_KEY].search(SearchRequest(q="munitions", per_page=3)).to_dict()
    for key in ("took_ms",):
        body.pop(key), expected.pop(key)
    for items in body["facets"].values():
        for it in items:
            it.pop("toggle_url"), it.pop("exclude_url")
    assert body.pop("pages") == 3
    for hit in body["hits"]:
        assert hit.pop("title_html") == rendered(hit["title_segments"])
        assert hit.pop("snippet_html") == rendered(hit["snippet_segments"])
    assert body == expected


# ---------------------------------------------------------------- correct=0/1


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("0", False), ("false", False), (None, True)])
def test_correct_switch_reaches_the_engine_and_stays_in_links(web_index, monkeypatch, value, expected):
    from web import ENGINE_KEY

    app = make_app(web_index)
    engine = app.extensions[ENGINE_KEY]
    seen = []
    real = engine.search
    monkeypatch.setattr(engine, "search", lambda req: seen.append(req) or real(req))
    url = "/api/search?q=munitions" + (f"&correct={value}" if value is not None else "")
    body = api(app.test_client(), url)
    assert seen[0].correct is expected
    toggle = facet(body, "places", "Ukraine")["toggle_url"]
    assert ("correct=0" in toggle) is (not expected)


@pytest.mark.parametrize("value", ["2", "oui", "True", "", "1 ", "on"])
def test_correct_is_strict(client, value):
    assert_error(api(client, "/api/search?q=munitions&correct=" + value, 400), "bad_correct")
