"""People and places pages (``/personne/<nom>``, ``/lieu/<nom>``) and their JSON (``/api/personne/<nom>``,
``/api/lieu/<nom>``): the library's Coverage rendered, with the links that make each name one
click away (facets, chips, documents and autocomplete link to them with present.entity_url)."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.routing import PathConverter

from search.model import SearchRequest, SearchResponse

from .api import engine
from .errors import error_response
from .params import MAX_ENTITY_SIZE, MAX_VALUE_LENGTH, clean_text, integer, query_string
from .present import ENTITY_SEGMENTS as SEGMENT, entity_url, histogram, hit_dict

bp = Blueprint("coverage", __name__)


class NameConverter(PathConverter):
    """A name in a URL: anything, slashes (« AC/DC ») and control characters included, so that every
    name reaches the page and gets its answer (a 404 for a name no dispatch gives, never no route)."""

    regex = "[^/](?s:.*?)"


def register(app: Flask) -> None:
    """The ``name`` converter of the routes below (before the blueprint is registered)."""
    app.url_map.converters["name"] = NameConverter

# URL segment -> (library kind, search parameter, request field)
KINDS = {"personne": ("people", "person", "people"), "lieu": ("places", "place", "places")}
NOT_FOUND = {
    "people": ("person_not_found", "Aucune dépêche ne cite cette personne."),
    "places": ("place_not_found", "Aucune dépêche ne cite ce lieu."),
}
LABELS = {"people": "Personne", "places": "Lieu"}


def search_url(filters: list[tuple[str, str]], month: str | None = None) -> str:
    """The search page filtered by these (parameter, value) pairs, and a period when given."""
    pairs = list(filters) + ([("from", month), ("to", month)] if month else [])
    return url_for("pages.search_page") + query_string(pairs)


def _coverage(segment: str, name: str):
    """(kind, Coverage) or an error response: 404 for an unknown kind or name, 400 for a bad parameter."""
    if segment not in KINDS:
        return None, error_response(404, "not_found", "Cette page n'existe pas.")
    kind = KINDS[segment][0]
    name = clean_text(name).strip()
    if len(name) > MAX_VALUE_LENGTH:
        return None, error_response(400, "bad_name", f"Le nom ne doit pas dépasser {MAX_VALUE_LENGTH} caractères.")
    size = integer(request.args, "size", current_app.config["FACET_SIZE"], 1, MAX_ENTITY_SIZE)
    latest = integer(request.args, "latest", current_app.config["PER_PAGE"], 1, MAX_ENTITY_SIZE)
    cov = engine().entity_page(kind, name, size=size, latest=latest,
                               budget_ms=current_app.config["TIME_BUDGET_MS"]) if name else None
    if cov is None:
        return None, error_response(404, *NOT_FOUND[kind])
    return (kind, cov), None


def coverage_dict(kind: str, cov) -> dict:
    """The Coverage as JSON: each name alongside with its page and the search of both, each bar with its search."""
    param = KINDS[SEGMENT[kind]][1]
    mine = [(param, cov.name)]

    def alongside(other: str, items) -> list[dict]:
        other_param = KINDS[SEGMENT[other]][1]
        return [{"value": it.value, "count": it.count, "page_url": entity_url(other, it.value),
                 "search_url": search_url(mine + [(other_param, it.value)])} for it in items]

    return {
        "kind": kind,
        "name": cov.name,
        "total": cov.total,
        "page_url": entity_url(kind, cov.name),
        "search_url": search_url(mine),
        "also_named": cov.also_named,
        "namesakes": [{"value": it.value, "count": it.count, "page_url": entity_url(kind, it.value)} for it in cov.namesakes],
        "date_grain": cov.date_grain,
        "dates": [{"value": it.value, "count": it.count, "search_url": search_url(mine, it.value)} for it in cov.dates],
        "people": alongside("people", cov.people),
        "places": alongside("places", cov.places),
        "latest": [hit_dict(h) for h in cov.latest],
        "partial": cov.partial,
        "timed_out": cov.timed_out,
    }


def _histogram(kind: str, cov):
    """The search page's histogram of these mentions: each bar opens the search for this name in that period."""
    req = SearchRequest(**{KINDS[SEGMENT[kind]][2]: (cov.name,)})
    resp = SearchResponse(query="", total=cov.total, page=1, per_page=10, took_ms=0.0, hits=[],
                          facets={"dates": cov.dates}, date_grain=cov.date_grain)
    return histogram(resp, req, url_for("pages.search_page"))


@bp.get("/api/personne/<name:name>", defaults={"segment": "personne"})
@bp.get("/api/lieu/<name:name>", defaults={"segment": "lieu"})
def api_entity(segment: str, name: str):
    """A person's or place's mentions over time, names alongside, latest dispatches (JSON)."""
    got, error = _coverage(segment, name)
    if error is not None:
        return error
    return jsonify(coverage_dict(*got))


@bp.get("/personne/<name:name>", defaults={"segment": "personne"})
@bp.get("/lieu/<name:name>", defaults={"segment": "lieu"})
def entity_page(segment: str, name: str):
    """A person's or place's page; a variant spelling or a joined surname redirects to the name's own page."""
    got, error = _coverage(segment, name)
    if error is not None:
        return error
    kind, cov = got
    if name != cov.name:
        keep = [(k, v) for k, v in request.args.items(multi=True)]
        return redirect(entity_url(kind, cov.name) + query_string(keep), 302)
    data = coverage_dict(kind, cov)
    return render_template("entity.html", kind=kind, label=LABELS[kind], cov=cov, data=data,
                           histogram=_histogram(kind, cov), search_q="", hidden_fields=[])

