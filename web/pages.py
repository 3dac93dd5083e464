"""The HTML pages: the search page and the dispatch page. They work without JavaScript."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, url_for

from search.model import SORTS

from .api import WITHDRAWN, engine
from .errors import error_response
from .params import query_string, query_text, replaced, search_request, single, state, valid_doc_id
from .present import chips, document_dict, shown_version, explanation, facets_with_urls, histogram, is_withdrawn, page_links, page_url

bp = Blueprint("pages", __name__)

SORT_LABELS = {"relevance": "Pertinence", "newest": "Plus récentes", "oldest": "Plus anciennes"}
TIPS = [
    "Vérifiez l'orthographe des mots ; les accents et les majuscules sont facultatifs.",
    "Essayez des mots plus généraux, ou moins de mots.",
    "Mettez une expression entre guillemets pour la chercher telle quelle : \"contre-offensive ukrainienne\".",
    "Retirez un filtre (personne, lieu, source ou période).",
]


@bp.get("/")
def search_page():
    """The search page: box, results, facets, month histogram, sort, pagination."""
    settings = current_app.config
    # One search gives the facets' first values and those behind "plus": no second round trip.
    req = search_request(request.args, settings, facet_size=settings["FACET_MORE"])
    resp = engine().search(req)
    base = url_for("pages.search_page")
    pairs = state(req)
    facets = facets_with_urls(resp, req, base)
    return render_template(
        "search.html",
        req=req,
        resp=resp,
        facets={k: v for k, v in facets.items() if k != "dates"},
        facet_size=settings["FACET_SIZE"],
        chips=chips(req, base),
        clear_url=base + query_string([("q", req.q)] if req.q else []),
        histogram=histogram(resp, req, base),
        sorts=[
            {"value": s, "label": SORT_LABELS[s], "url": base + query_string(replaced(pairs, "sort", None if s == "relevance" else s)), "current": s == resp.sort}
            for s in SORTS
        ],
        pages=page_links(resp.page, resp.pages, pairs, base) if resp.total else [],
        prev_url=page_url(base, pairs, resp.page - 1) if resp.page > 1 else None,
        next_url=page_url(base, pairs, resp.page + 1) if resp.page < resp.pages and resp.total > resp.page * resp.per_page else None,
        said=explanation(resp, req, base),
        tips=TIPS,
        searched=bool(pairs),
        # A new query from the box keeps the filters and sort shown in the chips.
        hidden_fields=[p for p in pairs if p[0] != "q"],
    )


@bp.get("/doc/<doc_id>")
def document_page(doc_id: str):
    """A whole dispatch, query words highlighted, with its people, places and related dispatches."""
    q = query_text(single(request.args, "q"))
    doc = engine().document(doc_id, q) if valid_doc_id(doc_id) else None
    if doc is None:
        return error_response(404, "document_not_found", "Aucune dépêche ne porte cet identifiant. Elle a peut-être été retirée de l'index.")
    if is_withdrawn(doc):
        # Gone for good: the page says so, with the history of what the agency sent (410, not 404).
        code, message = WITHDRAWN
        html = render_template("withdrawn.html", doc=document_dict(doc), code=code, message=message)
        return html, 410
    related = engine().related(doc_id, current_app.config["RELATED"])
    base = url_for("pages.search_page")
    doc = document_dict(doc)
    return render_template(
        "document.html",
        doc=doc,
        shown_version=doc.get("version") or shown_version(doc["versions"]),
        q=q,
        source_url=doc.get("url") if _is_web_url(doc.get("url")) else None,
        person_url=lambda v: base + query_string([("person", v)]),
        place_url=lambda v: base + query_string([("place", v)]),
        filter_url=lambda name, v: base + query_string([(name, str(v))]),
        back_url=base + query_string([("q", q)]) if q else None,
        related=related,
    )


def _is_web_url(url: str | None) -> bool:
    """Only http(s) links are shown: a ``javascript:`` URL in the data must never become a link."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
