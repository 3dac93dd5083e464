"""The search page says what the search did: partial matches, corrections and their undo, cut-short stages."""
from __future__ import annotations

import html as html_module
import re

import pytest

from search.model import Correction, Hit, SearchResponse, Segment
from web_helpers import make_app, page

NO_FACETS = {"people": [], "places": [], "sources": [], "dates": []}


def hit(ident: str, missing: list[str] | None = None) -> Hit:
    return Hit(id=ident, title=f"Titre {ident}", title_segments=[Segment(f"Titre {ident}")], date="2023-06-14", source="AFP",
               url=None, snippet_segments=[Segment("Un extrait.")], score=1.0, missing=missing or [])


def response(**fields) -> SearchResponse:
    base = dict(query="", total=1, page=1, per_page=10, took_ms=2.0, hits=[hit("a")], facets=NO_FACETS)
    return SearchResponse(**{**base, **fields})


@pytest.fixture
def stub(web_index, monkeypatch):
    """An app whose engine answers the response given to the returned function; records requests."""
    from web import ENGINE_KEY

    app = make_app(web_index)
    seen = []
    canned: list[SearchResponse] = []
    monkeypatch.setattr(app.extensions[ENGINE_KEY], "search", lambda req: seen.append(req) or canned[0])

    def get(url: str, resp: SearchResponse, status: int = 200) -> str:
        canned[:] = [resp]
        return page(app.test_client(), url, status)

    get.seen = seen
    return get


def text(html: str) -> str:
    """The page's text, tags dropped and white space collapsed."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())  # no-break spaces too


def test_partial_match_is_said_and_each_hit_says_what_it_lacks(stub):
    resp = response(query="ours pangolin", total=2, match="some", hits=[hit("a", ["ours"]), hit("b", ["pangolin"])])
    html = stub("/?q=ours+pangolin", resp)
    words = text(html)
    assert "Aucune dépêche ne contient tous les mots ; résultats partiels" in words
    assert "2 dépêches avec une partie des mots de « ours pangolin »" in words
    assert "Manque : ours" in words and "Manque : pangolin" in words
    full = text(stub("/?q=ours", response(query="ours", match="all")))
    assert "résultats partiels" not in full and "Manque" not in full and "1 dépêche pour « ours »" in full


def test_an_applied_correction_is_one_click_from_undone(stub):
    notice = "« pangolni » n'apparaît dans aucune dépêche : cherché comme « pangolin »."
    resp = response(query="pangolni", corrections=[Correction("pangolni", "pangolin", True)], notice=notice,
                    corrected_query=None)
    html = stub("/?q=pangolni&source=AFP", resp)
    link = re.search(r'<a class="exact-search" href="([^"]+)">Rechercher exactement «&nbsp;pangolni&nbsp;»</a>', html)
    assert link and link.group(1).replace("&amp;", "&") == "/?q=pangolni&source=AFP&correct=0"
    assert text(html).count("cherché comme « pangolin »") == 1  # the engine's notice is not repeated
    assert "1 dépêche pour « pangolin »" in text(html)  # the count is of what was searched
    assert "cherché comme «\u00a0pangolin\u00a0»." in html_module.unescape(html)  # never a line break inside « »
    assert stub.seen[-1].correct is True
    exact = stub(link.group(1).replace("&amp;", "&"), response(query="pangolni", total=0, hits=[], match="none"))
    assert stub.seen[-1].correct is False
    assert "exact-search" not in exact  # nothing applied: nothing to undo
    assert "correct=0" in re.search(r'<a class="chip" href="([^"]*)"', exact).group(1)  # the filters keep it


def test_suggestion_already_applied_is_not_offered_again(stub):
    applied = Correction("pangolni", "pangolin", True)
    html = stub("/?q=pangolni", response(query="pangolni", corrections=[applied], corrected_query="pangolin"))
    assert "Vouliez-vous dire" not in html and "cherché comme « pangolin »" in text(html)
    both = stub("/?q=pangolni+ourss", response(query="pangolni ourss", corrected_query="pangolin ours",
                                                corrections=[applied, Correction("ourss", "ours", False)]))
    assert "Vouliez-vous dire « pangolin ours » ?" in text(both)


@pytest.mark.parametrize("stages, said", [
    (["snippets"], "a dû écourter les extraits"),
    (["scoring", "facets", "corrections"], "a dû écourter le classement, le décompte des filtres et la correction orthographique"),
    ([], "les résultats peuvent être incomplets"),
])
def test_stages_cut_short_are_named_in_french(stub, stages, said):
    assert said in text(stub("/?q=ours", response(query="ours", partial=True, timed_out=stages)))


def test_unknown_http_status_message_is_french(web_index):
    from werkzeug.exceptions import ImATeapot

    app = make_app(web_index)

    def teapot():
        raise ImATeapot()

    app.add_url_rule("/api/teapot", "teapot", teapot)
    body = app.test_client().get("/api/teapot").json
    assert body["error"] == {"code": "http_error", "message": "Erreur HTTP 418."}
