"""The Atom feed of a search (/feed.atom), read back with feedparser and checked as XML."""
from __future__ import annotations

from urllib.parse import quote

import pytest

feedparser = pytest.importorskip("feedparser")
from lxml import etree  # noqa: E402

from corpus import WEB_DISPATCHES  # noqa: E402
from web_helpers import page, tags  # noqa: E402

ATOM = "http://www.w3.org/2005/Atom"
BY_ID = {d["id"]: d for d in WEB_DISPATCHES}


def get_feed(client, url: str):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/atom+xml"
    assert r.mimetype_params.get("charset", "").lower() == "utf-8"
    body = r.get_data()
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, body


def doc_id(entry) -> str:
    from urllib.parse import unquote

    return unquote(entry.id.rsplit("/doc/", 1)[1])


def test_feed_is_valid_atom_newest_first(client):
    parsed, body = get_feed(client, "/feed.atom?q=munitions")
    root = etree.fromstring(body)
    assert root.tag == f"{{{ATOM}}}feed"
    # Atom 1.0 (RFC 4287): a feed has id, title, updated and an author (here at feed level);
    # every entry id, title, updated; a self link.
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{{{ATOM}}}{name}") is not None, name
    assert root.find(f"{{{ATOM}}}link[@rel='self']") is not None
    entries = root.findall(f"{{{ATOM}}}entry")
    assert entries
    for e in entries:
        for name in ("id", "title", "updated", "link", "summary"):
            assert e.find(f"{{{ATOM}}}{name}") is not None, name

    assert parsed.feed.title == "Dépêche — « munitions »"
    ids = [doc_id(e) for e in parsed.entries]
    dated = {d["id"] for d in WEB_DISPATCHES if "munitions" in str(d).lower() and d.get("date")}
    assert set(ids) == dated
    dates = [e.updated_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    assert ids[0] == "afp-001"  # 14 June 2023, the newest
    assert parsed.feed.updated == parsed.entries[0].updated


def test_entry_fields(client):
    parsed, _ = get_feed(client, "/feed.atom?q=munitions&person=Jens+Stoltenberg")
    [entry] = parsed.entries
    assert entry.id == "http://localhost/doc/afp-001"
    assert entry.link == "http://localhost/doc/afp-001?q=munitions"
    assert entry.title == BY_ID["afp-001"]["title"]
    assert entry.published.startswith("2023-06-14")
    assert entry.author == "AFP"
    assert entry.summary.startswith("Le secrétaire général de l'Otan")
    assert "<" not in entry.summary
    terms = {(t.term, t.scheme.rsplit("?", 1)[1]) for t in entry.tags}
    assert terms == {("Jens Stoltenberg", "person="), ("Bruxelles", "place="), ("Ukraine", "place=")}
    # The document link works.
    assert client.get("/doc/afp-001").status_code == 200


def test_filters_respected(client):
    parsed, _ = get_feed(client, "/feed.atom?place=Suisse&from=2023-02")
    assert [doc_id(e) for e in parsed.entries] == ["ats-003"]
    assert parsed.feed.title == "Dépêche — Lieu : Suisse, depuis février 2023"
    parsed, _ = get_feed(client, "/feed.atom?source=Reuters")
    assert [doc_id(e) for e in parsed.entries] == ["reu-004"]
    parsed, _ = get_feed(client, "/feed.atom?q=zzzzqqqq")
    assert parsed.entries == [] and parsed.feed.updated  # empty but valid, still dated


def test_feed_id_is_stable_and_ignores_sort(client):
    a, _ = get_feed(client, "/feed.atom?q=munitions&place=Ukraine")
    b, _ = get_feed(client, "/feed.atom?q=munitions&place=Ukraine&sort=oldest&page=2")
    assert a.feed.id == b.feed.id == "http://localhost/feed.atom?q=munitions&place=Ukraine"
    assert [e.id for e in a.entries] == [e.id for e in b.entries]


def test_all_dispatches_undated_left_out_hostile_escaped(client):
    parsed, body = get_feed(client, "/feed.atom")
    ids = [doc_id(e) for e in parsed.entries]
    assert "undated-011" not in ids
    assert set(ids) == {d["id"] for d in WEB_DISPATCHES if d.get("date")}
    assert "dépêche 9" in ids  # an id with a space and accents: its URL is encoded
    hostile = next(e for e in parsed.entries if doc_id(e) == "xss-008")
    assert hostile.title.startswith("<script>")  # text, escaped in the XML
    assert b"<script>" not in body


def test_partial_matches_never_feed(client):
    """The page falls back to dispatches with some of the words; a feed of the search holds none of them."""
    search = client.get("/api/search?q=munitions+pangolin&correct=0").get_json()
    assert search["match"] == "some" and search["total"] > 0
    parsed, _ = get_feed(client, "/feed.atom?q=munitions+pangolin&correct=0")
    assert parsed.entries == []
    assert parsed.feed.subtitle == "Aucune dépêche ne contient encore tous les mots de cette recherche : elles apparaîtront ici."
    assert get_feed(client, "/feed.atom?q=munitions")[0].entries


@pytest.mark.parametrize("query", ["from=2023-02-30", "page=0", "sort=bad", "q=" + "x" * 1001, "q=%ff", "urgency=12"])
def test_bad_parameters_are_400_never_500(client, query):
    r = client.get("/feed.atom?" + query)
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert "data-error-code" in r.get_data(as_text=True)


def test_search_page_links_to_its_feed(client):
    html = page(client, "/?q=munitions&place=Ukraine&sort=oldest")
    alternates = [a for t, a in tags(html) if t == "link" and a.get("rel") == "alternate"]
    assert alternates == [{"rel": "alternate", "type": "application/atom+xml",
                           "title": "Dépêche — suivre cette recherche (Atom)", "href": "/feed.atom?q=munitions&place=Ukraine"}]
    visible = [a for t, a in tags(html) if t == "a" and a.get("class") == "feed-link"]
    assert [a["href"] for a in visible] == ["/feed.atom?q=munitions&place=Ukraine"]
    assert "Suivre cette recherche (Atom)" in html
    parsed, _ = get_feed(client, visible[0]["href"])
    assert parsed.entries


def test_withdrawn_and_embargoed_never_in_the_feed(agency_client):
    parsed, _ = get_feed(agency_client, "/feed.atom")
    ids = [doc_id(e) for e in parsed.entries]
    assert "urn:newsml:afp:kiev" in ids and "urn:newsml:reu:nato" in ids
    assert "urn:newsml:afp:rumeur" not in ids  # killed
    assert "urn:newsml:afp:embargo" not in ids  # under embargo until 2999
    kiev = next(e for e in parsed.entries if doc_id(e) == "urn:newsml:afp:kiev")
    assert kiev.title == "Explosion à Kiev : au moins trois morts"  # the live version
    for q, hidden in (("démission maire Lyon", "urn:newsml:afp:rumeur"), ("Nobel", "urn:newsml:afp:embargo")):
        parsed, _ = get_feed(agency_client, "/feed.atom?q=" + quote(q))
        assert hidden not in [doc_id(e) for e in parsed.entries], q


# ---------------------------------------------------------------- browser


def _browser_marks(test):
    from servers import BROWSER_MARKS

    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


@_browser_marks
def test_browser_follows_the_feed_link_of_a_filtered_search(browser, web_server):
    """In Chromium: the page's head and its « Suivre cette recherche (Atom) » name the same feed, which
    arrives as Atom 1.0 and holds the search's dispatches (filters and « sauf » kept), newest first."""
    base = web_server
    context = browser.new_context(locale="fr-FR")
    try:
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.goto(base + "/?q=munitions&not_place=Bruxelles&sort=oldest")
        head = pg.locator('head link[rel="alternate"][type="application/atom+xml"]')
        assert head.count() == 1
        link = pg.locator(".export-links a.feed-link")
        assert link.is_visible() and link.inner_text() == "Suivre cette recherche (Atom)"
        assert link.get_attribute("href") == head.get_attribute("href") == "/feed.atom?q=munitions&not_place=Bruxelles"
        # The same search by date, newest first: what the feed must hold.
        pg.locator(".sort a", has_text="Plus récentes").click()
        pg.wait_for_url("**sort=newest*")
        shown = [a.split("/doc/", 1)[1].split("?")[0] for a in pg.locator(".result-title a").evaluate_all("els => els.map(e => e.getAttribute('href'))")]
        with pg.expect_response(lambda r: "/feed.atom" in r.url) as info:
            pg.locator(".export-links a.feed-link").click()
        response = info.value
        assert response.status == 200 and response.headers["content-type"].startswith("application/atom+xml")
        parsed = feedparser.parse(response.body())
        assert not parsed.bozo and parsed.version == "atom10"
        assert parsed.feed.title == "Dépêche — « munitions », Lieu : sauf Bruxelles"
        from urllib.parse import unquote

        dated = [unquote(i) for i in shown if BY_ID[unquote(i)].get("date")]
        assert [doc_id(e) for e in parsed.entries] == dated and dated
        assert not any("Bruxelles" in BY_ID[i].get("places", []) for i in dated)
        assert not problems, problems
    finally:
        context.close()
