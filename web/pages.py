"""The HTML pages: the search page and the dispatch page. They work without JavaScript."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, send_from_directory, url_for

from search.model import SORTS

from .api import WITHDRAWN, engine
from .errors import error_response
from .params import query_string, query_text, replaced, search_request, single, state, valid_doc_id, version_number
from .present import (
    chips,
    date_inputs,
    document_dict,
    explanation,
    facets_with_urls,
    histogram,
    is_withdrawn,
    page_links,
    page_url,
    shown_version,
    story_versions,
)

bp = Blueprint("pages", __name__)

SORT_LABELS = {"relevance": "Pertinence", "newest": "Plus récentes", "oldest": "Plus anciennes"}
TIPS = [
    "Vérifiez l'orthographe des mots ; les accents et les majuscules sont facultatifs.",
    "Essayez des mots plus généraux, ou moins de mots.",
    "Mettez une expression entre guillemets pour la chercher telle quelle : \"contre-offensive ukrainienne\".",
    "Retirez un filtre (personne, lieu, source ou période).",
]


@bp.get("/favicon.ico")
def favicon():
    """The icon, for what asks for it by the old fixed name (a browser showing the Atom feed)."""
    resp = send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)
    return resp


@bp.get("/")
def search_page():
    """The search page: box, results, facets, date inputs and histogram, sort, pagination."""
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
        dates=date_inputs(req),
        sorts=[
            {"value": s, "label": SORT_LABELS[s], "url": base + query_string(replaced(pairs, "sort", None if s == "relevance" else s)), "current": s == resp.sort}
            for s in SORTS
        ],
        pages=page_links(resp.page, resp.pages, pairs, base) if resp.total else [],
        prev_url=page_url(base, pairs, resp.page - 1) if resp.page > 1 else None,
        next_url=page_url(base, pairs, resp.page + 1) if resp.page < resp.pages and resp.shown_total > resp.page * resp.per_page else None,
        story_versions=story_versions(engine(), resp.hits),
        collapse_url=base + query_string(replaced(pairs, "collapse", "none" if req.collapse == "story" else None)),
        said=explanation(resp, req, base),
        tips=TIPS,
        searched=bool(pairs),
        # A new query from the box keeps the filters and sort shown in the chips.
        hidden_fields=[p for p in pairs if p[0] != "q"],
    )


@bp.get("/doc/<doc_id>")
def document_page(doc_id: str):
    """A whole dispatch, query words highlighted, with its people, places and related dispatches;
    ``version`` shows an earlier version of an agency item, said so in a banner."""
    q = query_text(single(request.args, "q"))
    version = version_number(request.args)
    doc = engine().document(doc_id, q, version=version) if valid_doc_id(doc_id) else None
    if doc is None:
        if version is not None:
            return error_response(404, "document_not_found", f"Cette dépêche n'a pas de version {version} consultable, "
                                  "ou aucune dépêche ne porte cet identifiant.")
        return error_response(404, "document_not_found", "Aucune dépêche ne porte cet identifiant. Elle a peut-être été retirée de l'index.")
    if is_withdrawn(doc):
        # Gone for good: the page says so, with the history of what the agency sent (410, not 404).
        code, message = WITHDRAWN
        html = render_template("withdrawn.html", doc=document_dict(doc), code=code, message=message)
        return html, 410
    related = engine().related(doc_id, current_app.config["RELATED"])
    base = url_for("pages.search_page")
    doc = document_dict(doc)
    current = shown_version(doc["versions"])
    shown = doc.get("shown_version") or current
    keep_q = {"q": q} if q else {}

    def version_url(n: int) -> str:
        """This page at version n (the plain page for the current one), the highlighted words kept."""
        if n == current:
            return url_for("pages.document_page", doc_id=doc_id, **keep_q)
        return url_for("pages.document_page", doc_id=doc_id, version=n, **keep_q)

    earlier = None
    if version is not None and current is not None and shown != current:
        created = next((v.get("version_created") for v in doc["versions"] if v.get("version") == shown), None)
        earlier = {"version": shown, "created": created, "current": current, "current_url": version_url(current)}
    return render_template(
        "document.html",
        doc=doc,
        shown_version=shown,
        earlier=earlier,
        version_url=version_url,
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
