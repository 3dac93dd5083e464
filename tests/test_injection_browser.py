"""Injection: markup in documents, facets and queries is shown as text and never runs (Chromium)."""
from __future__ import annotations

import urllib.parse

import pytest

from corpus import build_index
from servers import BROWSER_MARKS, serve_app
from web_helpers import make_app

pytestmark = BROWSER_MARKS

# Each payload sets a flag if it ever runs; CSP would also block them, but escaping must hold alone.
P = "window.__pwned=(window.__pwned||0)+1"
PAYLOADS = [
    f"<script>{P}</script>",
    f"<img src=x onerror=\"{P}\">",
    f"<svg onload=\"{P}\">",
    f"\"><img src=x onerror={P}>",
    f"javascript:{P}",
    f"'; {P}; '",
    f"</mark><script>{P}</script><mark>",
]
HOSTILE = [
    {"id": f"evil-{i}", "title": f"Zorglub {p} titre", "date": "2023-06-%02d" % (i + 1), "source": f"Src {p}",
     "chapo": f"Le chapo zorglub contient {p} et continue.", "body": f"Premier paragraphe {p}.\n\nSous-titre {p}\n\nFin zorglub.",
     "people": [f"Zorglub {p}"], "places": [f"Zorgland {p}"], "url": f"javascript:{P}"}
    for i, p in enumerate(PAYLOADS)
]
INJECTED = "script:not([src]), img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript']"


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory):
    root = build_index(tmp_path_factory.mktemp("evil") / "index", HOSTILE)
    with serve_app(make_app(root)) as base:
        yield base


SEEN_TEXT: dict[str, str] = {}


def visit(browser, url: str) -> tuple[int, int, list[str]]:
    """Open url; return (times a payload ran, injected elements found, dialogs opened)."""
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    ran = page.evaluate("window.__pwned || 0")
    injected = page.locator(INJECTED).count()
    SEEN_TEXT[url] = page.inner_text("body")
    context.close()
    return ran, injected, dialogs


@pytest.mark.parametrize("query", ["zorglub"] + PAYLOADS + [f"zorglub {p}" for p in PAYLOADS[:3]])
def test_hostile_results_facets_and_queries_never_run(browser, evil_server, query):
    url = evil_server + "/?" + urllib.parse.urlencode({"q": query})
    ran, injected, dialogs = visit(browser, url)
    assert (ran, injected, dialogs) == (0, 0, [])
    if query == "zorglub":  # the payloads are on the page, as text
        assert "7 dépêches" in SEEN_TEXT[url]
        for p in PAYLOADS[:3]:
            assert p in SEEN_TEXT[url]


def test_hostile_facet_selection_and_misspelling(browser, evil_server):
    for params in ({"q": "zorglub", "place": HOSTILE[1]["places"][0]},
                   {"q": "zorglub", "person": HOSTILE[0]["people"][0], "source": HOSTILE[2]["source"]},
                   {"q": "zorglubb"}):  # the "did you mean" link
        ran, injected, dialogs = visit(browser, evil_server + "/?" + urllib.parse.urlencode(params))
        assert (ran, injected, dialogs) == (0, 0, []), params


@pytest.mark.parametrize("doc", [d["id"] for d in HOSTILE])
def test_hostile_document_pages(browser, evil_server, doc):
    ran, injected, dialogs = visit(browser, f"{evil_server}/doc/{doc}?q=zorglub")
    assert (ran, injected, dialogs) == (0, 0, [])


def test_hostile_suggestions_are_text(browser, evil_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(evil_server + "/")
    page.locator("#q").type("zorg")
    page.wait_for_timeout(600)  # debounce + fetch
    assert page.evaluate("window.__pwned || 0") == 0
    assert page.locator(INJECTED).count() == 0
    context.close()
