"""Export of a whole result set: search.export (lazy rows) and /api/export.csv, /api/export.jsonl."""
from __future__ import annotations

import csv
import io
import json

import pytest

from search import export
from search.engine import Engine
from search.model import InvalidRequest, SearchRequest, Segment
from search.stories import story_id
from corpus import MUNITIONS_IDS, WEB_DISPATCHES, build_index
from servers import BROWSER_MARKS, serve_app, shot
from web_helpers import make_app, page, tags

BY_ID = {d["id"]: d for d in WEB_DISPATCHES}


def read_csv(body: bytes, sep: str = ";", bom: bool = True) -> list[dict]:
    assert body.startswith(b"\xef\xbb\xbf") == bom
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sep))


# ---------------------------------------------------------------- library


def test_rows_follow_the_search_order_and_are_lazy(web_index, monkeypatch):
    engine = Engine(str(web_index))
    req = SearchRequest(q="munitions", per_page=100)
    built = []
    real_hit = engine._hit
    monkeypatch.setattr(engine, "_hit", lambda *a, **k: built.append(a[1]) or real_hit(*a, **k))
    resp, rows = export.rows(engine, req)
    assert resp.total == len(MUNITIONS_IDS) and resp.hits == []
    assert built == []  # nothing read before the first row is asked for
    first = next(rows)
    assert len(built) == 1
    ids = [first["id"]] + [r["id"] for r in rows]
    assert ids == [h.id for h in engine.search(req).hits]
    assert list(first) == list(export.COLUMNS)
    assert first["story"] == story_id(first["id"])  # a dispatch of the fixture corpus is a story of its own
    for sort in ("newest", "oldest"):
        r2 = SearchRequest(q="munitions", sort=sort, per_page=100)
        assert [r["id"] for r in export.rows(engine, r2)[1]] == [h.id for h in engine.search(r2).hits]


def test_rows_stop_at_the_limit(web_index):
    engine = Engine(str(web_index))
    resp, rows = export.rows(engine, SearchRequest(), limit=3)
    assert resp.total == len(WEB_DISPATCHES)
    assert len(list(rows)) == 3
    with pytest.raises(InvalidRequest):
        export.rows(engine, SearchRequest(), limit=export.MAX_EXPORT_ROWS + 1)


def test_plain_snippet_and_cells():
    segments = [Segment("Un "), Segment("texte", True), Segment(" <b> &amp;\n  deux")]
    assert export.plain(segments) == "Un texte <b> &amp; deux"  # the text as written, on one line
    assert export.plain([]) == export.plain(None) == ""
    chunks = list(export.csv_chunks([{"id": "a", "date": None, "title": "=HYPERLINK(1)", "source": "@x", "url": "-1",
                                      "people": ["A", "B"], "places": [], "story": None, "snippet": "s;t"}]))
    rows = read_csv("".join(chunks).encode())
    assert rows == [{"id": "a", "date": "", "title": "'=HYPERLINK(1)", "source": "'@x", "url": "'-1",
                     "people": "A | B", "places": "", "story": "", "snippet": "s;t"}]


def test_story_column_takes_the_hits_story_when_there_is_one():
    from search.model import Hit

    hit = Hit(id="a", title="T", title_segments=[Segment("T")], date="2023-06-14", source="AFP", url=None,
              snippet_segments=[Segment("s", True)], score=1.0)
    assert export.row(hit)["story"] is None  # no grouping into stories on this branch yet
    hit.story = "story-42"  # what a hit grouped into a story will carry
    assert export.row(hit)["story"] == "story-42" and export.row(hit)["snippet"] == "s"


def test_slug():
    assert export.slug(SearchRequest(q="Contre-offensive ukrainienne", places=("Kiev",))) == "contre-offensive-ukrainienne-kiev"
    assert export.slug(SearchRequest()) == "recherche"
    assert export.slug(SearchRequest(q="«»")) == "recherche"


# ---------------------------------------------------------------- web


def test_csv_export(client):
    r = client.get("/api/export.csv?q=munitions")
    assert r.status_code == 200 and r.is_streamed
    assert r.mimetype == "text/csv" and r.mimetype_params["charset"] == "utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="depeche-munitions.csv"'
    assert r.headers["X-Total-Count"] == r.headers["X-Export-Rows"] == str(len(MUNITIONS_IDS))
    rows = read_csv(r.get_data())
    assert [row["id"] for row in rows] == [h["id"] for h in client.get("/api/search?q=munitions&per_page=100").json["hits"]]
    one = next(row for row in rows if row["id"] == "afp-001")
    assert one == {"id": "afp-001", "date": "2023-06-14", "title": BY_ID["afp-001"]["title"], "source": "AFP",
                   "url": "https://example.org/otan", "people": "Jens Stoltenberg", "places": "Bruxelles | Ukraine",
                   "story": story_id("afp-001"), "snippet": one["snippet"]}
    assert one["snippet"].startswith("Le secrétaire général de l'Otan") and "<mark>" not in one["snippet"]
    hostile = next(row for row in rows if row["id"] == "xss-008")
    assert hostile["title"] == BY_ID["xss-008"]["title"]  # text as it is: a CSV is not HTML


def test_csv_options(client):
    r = client.get("/api/export.csv?q=munitions&sep=,&bom=0&limit=2&place=Ukraine")
    rows = read_csv(r.get_data(), sep=",", bom=False)
    assert len(rows) == 2 and r.headers["X-Export-Rows"] == "2"
    assert all("Ukraine" in row["places"].split(" | ") for row in rows)
    assert r.headers["Content-Disposition"] == 'attachment; filename="depeche-munitions-ukraine.csv"'
    rows = read_csv(client.get("/api/export.csv?source=Reuters&sep=tab").get_data(), sep="\t")
    assert [row["id"] for row in rows] == ["reu-004"]


def test_jsonl_export(client):
    r = client.get("/api/export.jsonl?place=Suisse&sort=newest")
    assert r.status_code == 200 and r.is_streamed
    assert r.mimetype == "application/jsonl"
    assert r.headers["Content-Disposition"] == 'attachment; filename="depeche-suisse.jsonl"'
    lines = r.get_data(as_text=True).splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["id"] for row in rows] == ["ats-003", "ats-006"]
    assert rows[0]["people"] == ["Alain Berset"] and rows[0]["story"] == story_id("ats-003") and rows[0]["url"] is None
    assert "é" in lines[0]  # UTF-8, not \\u escapes


def test_empty_result_set_is_a_header_only_file(client):
    r = client.get("/api/export.csv?q=zzzzqqqq&correct=0")
    assert read_csv(r.get_data()) == [] and r.headers["X-Total-Count"] == "0"
    assert client.get("/api/export.jsonl?q=zzzzqqqq&correct=0").get_data() == b""


@pytest.mark.parametrize("path", ["/api/export.csv", "/api/export.jsonl"])
@pytest.mark.parametrize("query,code", [
    ("from=2023-02-30", "bad_date"), ("limit=0", "bad_limit"), ("limit=10001", "bad_limit"), ("sort=x", "bad_sort"),
    ("q=%ff", "bad_encoding"), ("per_page=1000", "bad_per_page"), ("q=a&q=b", "repeated_parameter"),
])
def test_bad_parameters_are_json_400(client, path, query, code):
    r = client.get(f"{path}?{query}")
    assert r.status_code == 400 and r.json["error"]["code"] == code


@pytest.mark.parametrize("query,code", [("sep=|", "bad_sep"), ("bom=2", "bad_bom")])
def test_bad_csv_options(client, query, code):
    r = client.get(f"/api/export.csv?{query}")
    assert r.status_code == 400 and r.json["error"]["code"] == code


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """An index of 130 dispatches about one subject: more than 100 pages at one per page."""
    records = [{"id": f"m{i:03d}", "title": f"Marché du lait numéro {i}", "date": f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "source": "AFP", "chapo": f"Le prix du lait, épisode {i}.", "body": "Les éleveurs manifestent."}
               for i in range(130)]
    return make_app(build_index(tmp_path_factory.mktemp("export-big") / "index", records)).test_client()


def test_page_links_and_the_navigation_cap(big):
    html = page(big, "/?q=lait&per_page=1")
    links = {a.get("class"): a["href"] for t, a in tags(html) if t == "a" and a.get("class") in ("export-csv", "export-jsonl")}
    assert links == {"export-csv": "/api/export.csv?q=lait", "export-jsonl": "/api/export.jsonl?q=lait"}
    assert "Exporter" in html
    assert "La navigation s'arrête à 100" in html and 'id="capped"' in html
    rows = read_csv(big.get(links["export-csv"]).get_data())
    assert len(rows) == 130  # past the 100 pages a person can browse
    # Under the cap the page does not say it.
    assert 'id="capped"' not in page(big, "/?q=lait")
    # No result: no export link (the feed link stays).
    html = page(big, "/?q=zzzzqqqq&correct=0")
    assert "export-csv" not in html and "feed-link" in html


def test_export_limit_stops_the_stream(big, monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORT_ROWS", 40)
    r = big.get("/api/export.jsonl?q=lait")
    assert r.headers["X-Total-Count"] == "130" and r.headers["X-Export-Rows"] == "40"
    assert len(r.get_data(as_text=True).splitlines()) == 40


# ---------------------------------------------------------------- browser


def browser_test(test):
    """The marks of tests/test_browser.py (browser; skipped without Debian's Chromium)."""
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@browser_test
def test_browser_downloads_the_csv(browser, web_server, tmp_path):
    base = web_server
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    try:
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.goto(base + "/?q=munitions&place=Ukraine")
        link = pg.locator(".export-links a.export-csv")
        assert link.inner_text() == "CSV"
        assert pg.locator(".export-links a.feed-link").inner_text() == "Suivre cette recherche (Atom)"
        shot(pg, "search-export-links", full_page=False)
        with pg.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "depeche-munitions-ukraine.csv"
        path = tmp_path / download.suggested_filename
        download.save_as(str(path))
        rows = read_csv(path.read_bytes())
        shown = int(pg.locator("#result-count").get_attribute("data-total"))
        assert len(rows) == shown > 0
        assert all("Ukraine" in row["places"].split(" | ") and row["id"] in MUNITIONS_IDS for row in rows)
        assert not problems, problems
    finally:
        context.close()


@browser_test
def test_browser_gets_past_the_navigation_cap_by_export(browser, big, tmp_path):
    """130 dispatches at one a page: the page says its navigation stops at 100 pages, and its JSON Lines
    link (with the search's « sauf ») downloads every dispatch in the page's order."""
    with serve_app(big.application) as base:
        context = browser.new_context(accept_downloads=True, locale="fr-FR")
        try:
            pg = context.new_page()
            pg.goto(base + "/?q=lait&not_source=Reuters&sort=oldest&per_page=1")
            capped = pg.locator("#capped")
            assert capped.is_visible()
            assert " ".join(capped.inner_text().split()).startswith("La navigation s'arrête à 100 pages : pour obtenir toutes les dépêches")
            assert pg.locator(".pagination a", has_text="100").count() == 1
            assert pg.locator(".pagination a", has_text="101").count() == 0
            first = pg.locator(".result-title a").first.get_attribute("href").split("/doc/", 1)[1].split("?")[0]
            with pg.expect_download() as info:
                capped.locator("a", has_text="en JSON Lines").click()
            download = info.value
            assert download.suggested_filename == "depeche-lait.jsonl"
            path = tmp_path / download.suggested_filename
            download.save_as(str(path))
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
            assert len(rows) == 130 and len({r["id"] for r in rows}) == 130
            assert list(rows[0]) == list(export.COLUMNS) and rows[0]["id"] == first
            assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)  # the page's order: oldest first
        finally:
            context.close()
