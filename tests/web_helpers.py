"""The web tests' helpers: an app on an index, HTML checks, a stub engine's agency answers.

Fixtures built on these live in conftest.py; servers in servers.py; test modules import helpers
from here, never from each other.
"""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from search.model import PARAGRAPH, Block, Segment


def make_app(index: Path, **extra):
    """An app on the given index directory, in testing mode."""
    from web import create_app

    return create_app({"INDEX": str(index), "TESTING": True, **extra})


class _Tags(HTMLParser):
    """Collects (tag, attrs) of an HTML page, to check markup rules."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags(html: str) -> list[tuple[str, dict]]:
    """The start tags of a page with their attributes."""
    p = _Tags()
    p.feed(html)
    return p.tags


def assert_no_inline_code(html: str) -> None:
    """No inline scripts, handlers, styles or javascript: URLs: what the CSP would refuse anyway."""
    for tag, attrs in tags(html):
        assert tag != "style", "inline <style>"
        if tag == "script":
            assert attrs.get("src"), "inline <script>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name != "style", f"style attribute on <{tag}>"
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith("javascript:"), f"javascript: URL on <{tag}>"


def page(client, url: str, status: int = 200) -> str:
    """GET an HTML page, check status and content type; returns its text."""
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert_no_inline_code(html)
    return html


# ---------------------------------------------------------------- agency items (issue 13), for a stub engine
# What the engine gives for NewsML-G2 / ninjs items, by its contract: hits with urgency, slugline,
# language and version; agency facets; documents with status, versions and agency metadata, or
# {"status": "withdrawn"} for a killed or withheld item.


def agency_hit(ident: str, *, urgency=None, slugline=None, language=None, version=None, title=None):
    from search.model import Hit

    title = title or f"Titre {ident}"
    return Hit(id=ident, title=title, title_segments=[Segment(title)], date="2023-06-14", source="AFP", url=None,
               snippet_segments=[Segment(f"Extrait de {ident}.")], score=1.0, urgency=urgency, slugline=slugline, language=language,
               version=version)


def agency_response(hits=None, facets=None, **fields):
    """A SearchResponse over an index holding agency items: all nine facets."""
    from search.model import FacetItem, SearchResponse

    if hits is None:
        hits = [
            agency_hit("flash-1", urgency=1, slugline="UKRAINE-CONFLIT", language="fr", version=3,
                       title="Explosion à Kiev"),
            agency_hit("urgent-2", urgency=2, slugline="SUISSE-VOTE", language="fr", version=1),
            agency_hit("en-4", urgency=4, slugline="NATO-SUMMIT", language="en", version=2,
                       title="Nato leaders meet in Vilnius"),
            agency_hit("plain", title="Une dépêche ordinaire"),
        ]
    if facets is None:
        facets = {
            "people": [], "places": [FacetItem("Ukraine", 2)], "sources": [FacetItem("AFP", 4)], "dates": [FacetItem("2023-06", 4)],
            "urgency": [FacetItem("1", 1), FacetItem("2", 1), FacetItem("4", 1)],
            "genre": [FacetItem("Actualité", 3)],
            "subjects": [FacetItem("conflit armé", 2), FacetItem("élection", 1)],
            "language": [FacetItem("fr", 2), FacetItem("en", 1)],
            "slugline": [FacetItem("UKRAINE-CONFLIT", 1), FacetItem("NATO-SUMMIT", 1)],
        }
    base = dict(query="", total=len(hits), page=1, per_page=10, took_ms=2.0, hits=hits, facets=facets)
    return SearchResponse(**{**base, **fields})


AGENCY_VERSIONS = [
    {"version": 1, "version_created": "2023-06-14T08:02:00+00:00", "pub_status": "usable",
     "title": "Explosion à Kiev", "changed": "première version"},
    {"version": 3, "version_created": "2023-06-14T09:45:00Z", "pub_status": "usable",
     "title": "Explosion à Kiev : au moins trois morts", "changed": "titre modifié, 1 paragraphe modifié, urgence 2 → 1"},
    {"version": 2, "version_created": "2023-06-14T08:30:00+00:00", "pub_status": "usable",
     "title": "Explosion à Kiev : des victimes", "changed": "titre modifié, 1 paragraphe ajouté"},
]

AGENCY_DOCUMENTS = {
    "flash-1": {
        "id": "flash-1", "title": "Explosion à Kiev : au moins trois morts", "title_segments": [Segment("Explosion à Kiev : au moins trois morts")],
        "title_derived": False, "lead": "Une explosion a secoué le centre de Kiev.", "lead_segments": [Segment("Une explosion a secoué le centre de Kiev.")],
        "body_blocks": [Block(PARAGRAPH, [Segment("Les secours sont sur place.")])], "date": "2023-06-14", "source": "AFP", "section": None, "url": None,
        "people": [], "places": ["Kiev"], "generation": 1,
        "status": "usable", "versions": AGENCY_VERSIONS, "urgency": 1, "genre": "Actualité", "slugline": "UKRAINE-CONFLIT",
        "subjects": ["conflit armé", "catastrophe"], "language": "fr", "embargo": None, "shown_version": 3,
    },
    "en-4": {
        "id": "en-4", "title": "Nato leaders meet in Vilnius", "title_segments": [Segment("Nato leaders meet in Vilnius")],
        "title_derived": False, "lead": "Leaders gathered on Tuesday.", "lead_segments": [Segment("Leaders gathered on Tuesday.")],
        "body_blocks": [Block(PARAGRAPH, [Segment("The summit opens.")])], "date": "2023-07-11", "source": "Reuters", "section": None, "url": None,
        "people": [], "places": [], "generation": 1,
        "status": "usable", "versions": [{"version": 1, "version_created": "2023-07-11T06:00:00+02:00", "pub_status": "usable",
                                          "title": "Nato leaders meet in Vilnius", "changed": "première version"}],
        "urgency": 4, "genre": None, "slugline": "NATO-SUMMIT", "subjects": [], "language": "en",
        "embargo": "2023-07-11T04:00:00Z", "shown_version": 1,
    },
    "killed-9": {
        "id": "killed-9", "status": "withdrawn", "pub_status": "canceled", "title": "Rumeur démentie",
        "withdrawn_at": "2023-06-15T11:30:00+00:00",
        "versions": [
            {"version": 1, "version_created": "2023-06-15T10:00:00+00:00", "pub_status": "usable", "title": "Rumeur démentie",
             "changed": "première version"},
            {"version": 2, "version_created": "2023-06-15T11:30:00+00:00", "pub_status": "canceled", "title": "Rumeur démentie",
             "changed": "retirée par l'agence"},
        ],
    },
}


# Earlier versions of flash-1 (?version=N), as the engine gives them from the version store.
AGENCY_EARLIER = {
    ("flash-1", 1): {**AGENCY_DOCUMENTS["flash-1"], "title": "Explosion à Kiev", "title_segments": [Segment("Explosion à Kiev")],
                     "lead": "Une explosion a été entendue à Kiev.", "lead_segments": [Segment("Une explosion a été entendue à Kiev.")],
                     "body_blocks": [Block(PARAGRAPH, [Segment("Premières informations.")])], "urgency": 2, "shown_version": 1},
    ("flash-1", 2): {**AGENCY_DOCUMENTS["flash-1"], "title": "Explosion à Kiev : des victimes",
                     "title_segments": [Segment("Explosion à Kiev : des victimes")],
                     "body_blocks": [Block(PARAGRAPH, [Segment("Les secours arrivent.")])],
                     "urgency": 2, "shown_version": 2},
}


def agency_document(doc_id: str, q: str = "", version: int | None = None) -> dict | None:
    """The stub engine's document(): by the engine's contract, a withdrawn item whatever the version."""
    doc = AGENCY_DOCUMENTS.get(doc_id)
    if doc is None or version is None or doc.get("status") == "withdrawn" or version == doc.get("shown_version"):
        return doc
    return AGENCY_EARLIER.get((doc_id, version))


def agency_stub(app, responses: list, seen: list | None = None):
    """Make the app's engine answer ``responses[0]`` to searches and AGENCY_DOCUMENTS to documents."""
    from web import ENGINE_KEY

    eng = app.extensions[ENGINE_KEY]
    seen = [] if seen is None else seen
    eng.search = lambda req: seen.append(req) or responses[0]
    eng.document = agency_document
    eng.related = lambda doc_id, k=5, **kw: [] if doc_id == "killed-9" else [agency_hit("en-4", language="en", title="Nato leaders meet in Vilnius")]
    return seen
