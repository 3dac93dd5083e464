"""The JSON API: search, documents, suggestions, health, and the OpenAPI description of them all."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from . import openapi
from .errors import error_response
from .params import MAX_SUGGEST_LIMIT, integer, query_text, search_request, single, valid_doc_id, version_number
from .present import document_json, entity_url, facets_with_urls, is_withdrawn, response_dict

bp = Blueprint("api", __name__)

# A killed (canceled) or withheld agency item: gone for good, and said so (410, not 404).
WITHDRAWN = ("document_withdrawn", "Cette dépêche a été retirée par l'agence.")


def engine():
    """The app's one Engine."""
    from . import ENGINE_KEY

    return current_app.extensions[ENGINE_KEY]


@bp.get("/api/search")
def search():
    """Search dispatches: the SearchResponse as JSON, facet items with their toggle_url."""
    req = search_request(request.args, current_app.config)
    resp = engine().search(req)
    facets = facets_with_urls(resp, req, url_for("api.search"), keep_per_page="per_page" in request.args)
    return jsonify(response_dict(resp, facets))


@bp.get("/api/documents/<doc_id>")
def document(doc_id: str):
    """One whole dispatch; ``q`` highlights its words, ``version`` asks for an earlier version of an agency item."""
    q = query_text(single(request.args, "q"))
    version = version_number(request.args)
    doc = engine().document(doc_id, q, version=version) if valid_doc_id(doc_id) else None
    if doc is None:
        if version is not None:
            return error_response(404, "document_not_found", f"Cette dépêche n'a pas de version {version} consultable, ou aucune dépêche ne porte cet identifiant.")
        return error_response(404, "document_not_found", "Aucune dépêche ne porte cet identifiant.")
    if is_withdrawn(doc):
        return error_response(410, *WITHDRAWN)
    return jsonify(document_json(doc))


@bp.get("/api/story/<story_id>")
def story(story_id: str):
    """The versions of one story, newest first, with what each changed."""
    got = engine().story(story_id) if valid_doc_id(story_id) else None
    if got is None:
        return error_response(404, "story_not_found", "Aucune histoire ne porte cet identifiant.")
    return jsonify(got)


@bp.get("/api/suggest")
def suggest():
    """Completions for what is being typed: terms, people, places."""
    prefix = query_text(single(request.args, "q"))
    limit = integer(request.args, "limit", current_app.config["SUGGEST_LIMIT"], 1, MAX_SUGGEST_LIMIT)
    got = engine().suggest(prefix, limit) if prefix else {"terms": [], "people": [], "places": []}
    # Each person or place suggested is one click from its page.
    got["pages"] = {kind: [entity_url(kind, name) for name in got[kind]] for kind in ("people", "places")}
    return jsonify(got)


@bp.get("/healthz")
def healthz():
    """Index generation, document count and analyzer version; 503 when there is no usable index."""
    return jsonify(engine().health())


@bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 description of every endpoint and error."""
    return jsonify(openapi.spec())



def options_response() -> Response:
    """OPTIONS on any route: 204 with the methods it allows in ``Allow``, and no body."""
    methods = request.url_rule.methods if request.url_rule else {"GET", "HEAD", "OPTIONS"}
    resp = Response(status=204)
    resp.allow.update(methods)
    del resp.headers["Content-Type"]  # no body, so no type
    return resp
