"""The Atom feed of a search: ``/feed.atom`` with the parameters of ``/api/search``.

The newest dispatches first (``sort`` and ``page`` are read, checked and ignored), at most
FEED_ENTRIES, written by feedgen; only dispatches having every word (never the partial matches the
page falls back to). Dispatches without a date are left out: a feed is read by date
and Atom wants one for every entry. A bad parameter is the same 400 as on the search page (its
French HTML error page); withdrawn and embargoed dispatches never appear, as in any search.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, request, url_for

from search import export

from .api import engine
from .params import EXCLUDES, FILTERS, query_string, search_request, state
from .present import CHIP_LABELS, french_date

bp = Blueprint("feeds", __name__)

FEED_ENTRIES = 50
ATOM_TYPE = "application/atom+xml"
# Characters XML 1.0 cannot carry (lxml refuses them): never in a feed, whatever the data holds.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text: str | None) -> str:
    """Text fit for an XML document."""
    return _NOT_XML.sub("", text or "")


def feed_pairs(req) -> list[tuple[str, str]]:
    """The query-string pairs that name a feed: the search's, without its sort (always newest)."""
    return [p for p in state(req) if p[0] != "sort"]


def feed_url(req, external: bool = False) -> str:
    """The feed of a search (as a path, or absolute)."""
    return url_for("feeds.feed", _external=external) + query_string(feed_pairs(req))


def describe(req) -> str:
    """A search in a few French words: its query, then its filters (« Lieu : Lyon »)."""
    parts = [f"« {req.q} »"] if req.q else []
    for param, field in FILTERS.items():
        parts.extend(f"{CHIP_LABELS[param]} : {v}" for v in getattr(req, field))
    for param, field in EXCLUDES.items():
        parts.extend(f"{CHIP_LABELS[param[4:]]} : sauf {v}" for v in getattr(req, field))
    if req.date_from or req.date_to:
        if req.date_from and req.date_to:
            parts.append(f"du {french_date(req.date_from)} au {french_date(req.date_to)}")
        elif req.date_from:
            parts.append(f"depuis {french_date(req.date_from)}")
        else:
            parts.append(f"jusqu'à {french_date(req.date_to)}")
    return ", ".join(parts) or "toutes les dépêches"


def moment(date: str | None) -> datetime | None:
    """A dispatch date (YYYY, YYYY-MM or YYYY-MM-DD) as midnight UTC of its first day; None if undated."""
    if not date:
        return None
    try:
        return datetime.fromisoformat((date + "-01-01")[:10]).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@bp.get("/feed.atom")
def feed():
    """The newest dispatches of a search as an Atom 1.0 feed."""
    req = search_request(request.args, current_app.config)
    req = replace(req, sort="newest", page=1)
    resp, hits = engine().results(req, FEED_ENTRIES)
    home = url_for("pages.search_page", _external=True)
    if resp.match == "some":
        # No dispatch has every word: the page shows partial matches, a feed must not (a subscriber
        # would read them as matches). It fills as soon as one has them all, as an alert would.
        hits = iter(())
        subtitle = "Aucune dépêche ne contient encore tous les mots de cette recherche : elles apparaîtront ici."
    else:
        subtitle = f"Les {FEED_ENTRIES} dépêches les plus récentes de cette recherche."
    return atom_response(
        title=f"Dépêche — {describe(req)}",
        subtitle=subtitle,
        self_url=feed_url(req, external=True),
        alternate=home + query_string(feed_pairs(req) + [("sort", "newest")]),
        entries=((hit, None) for hit in hits), q=req.q)


def atom_response(title: str, subtitle: str, self_url: str, alternate: str, entries, q: str = "") -> Response:
    """An Atom 1.0 feed of hits, in the order given: ``entries`` are (hit, updated) pairs, updated
    None for the dispatch's date; an entry with neither is left out (Atom needs a date)."""
    home = url_for("pages.search_page", _external=True)
    fg = FeedGenerator()
    fg.id(self_url)  # the feed's own canonical address: the same search always has the same id
    fg.title(xml_text(title))
    fg.subtitle(xml_text(subtitle))
    fg.author({"name": "Dépêche"})
    fg.link(href=self_url, rel="self", type=ATOM_TYPE)
    fg.link(href=alternate, rel="alternate", type="text/html")
    fg.language("fr")
    fg.generator("Dépêche")
    newest = None
    for hit, updated in entries:
        when = moment(hit.date)
        updated = updated or when
        if updated is None:
            continue  # undated: sorted last, and Atom needs a date
        newest = max(newest, updated) if newest else updated
        doc_url = url_for("pages.document_page", doc_id=hit.id, _external=True)
        entry = fg.add_entry(order="append")
        entry.id(doc_url)
        entry.title(xml_text(hit.title) or "(sans titre)")
        entry.link(href=doc_url + query_string([("q", q)] if q else []), rel="alternate", type="text/html")
        if when is not None:
            entry.published(when)
        entry.updated(updated)
        entry.summary(xml_text(export.plain(hit.snippet_segments)))
        if hit.source:
            entry.author({"name": xml_text(hit.source)})
        for param, values in (("person", hit.people), ("place", hit.places)):
            for value in values:
                entry.category(term=xml_text(value), label=xml_text(value), scheme=f"{home}?{param}=")
    # With no entry, the feed is as new as the index generation answering.
    fg.updated(newest or _generation_time())
    body = fg.atom_str(pretty=True)
    return Response(body, mimetype=ATOM_TYPE, headers={"Cache-Control": "max-age=60"})


def _generation_time() -> datetime:
    meta = engine().snapshot().meta
    try:
        when = datetime.strptime(str(meta.get("updated_at") or meta.get("built_at")), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    return when
