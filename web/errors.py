"""One error shape: ``{"error": {"code", "message"}}`` under /api and /healthz, a French HTML page elsewhere."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from search.indexing import IndexError_, IndexMissing, IndexVersionMismatch
from search.model import InvalidRequest

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: ("bad_request", "Requête invalide."),
    404: ("not_found", "Cette page n'existe pas."),
    405: ("method_not_allowed", "Méthode HTTP non autorisée ici."),
    413: ("payload_too_large", "Requête trop volumineuse."),
    500: ("internal_error", "Erreur interne du serveur."),
    503: ("index_unavailable", "L'index de recherche n'est pas disponible."),
}

INDEX_MESSAGES = {
    IndexMissing: "Aucun index n'est encore disponible (l'administrateur doit lancer « depeche index rebuild »). Réessayez plus tard.",
    IndexVersionMismatch: "L'index a été construit par une autre version de Dépêche et doit être reconstruit. Réessayez plus tard.",
    IndexError_: "L'index de recherche n'est pas disponible pour le moment. Réessayez dans quelques instants.",
}

TITLES = {
    400: "Requête invalide",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    410: "Dépêche retirée",
    413: "Requête trop volumineuse",
    500: "Erreur interne",
    503: "Recherche indisponible",
}


def wants_json() -> bool:
    """Whether the current request is an API request (JSON errors) rather than a page."""
    path = request.path
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


def error_response(status: int, code: str, message: str, headers: dict | None = None, back: dict | None = None):
    """The error in the shape the client expects (JSON for the API, HTML for pages); ``back``: the
    page's way back ({"label", "url", "q"}) when it can do better than the empty search page."""
    if wants_json():
        resp = jsonify(error={"code": code, "message": message})
    else:
        resp = make_response(render_template("error.html", status=status, title=TITLES.get(status, "Erreur"), code=code,
                                             message=message, back=back))
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _search_without_dates(exc: InvalidRequest) -> dict | None:
    """After bad « Du »/« Au » dates on the search page: the same search without them, its words kept
    in the box, rather than an empty page (the other parameters are what the form sent before)."""
    if exc.code != "bad_date" or request.endpoint != "pages.search_page":
        return None
    from .params import query_string

    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("from", "to", "page")]
    return {"label": "Revenir à la recherche, sans ces dates", "url": request.path + query_string(pairs),
            "q": request.args.get("q", "")}


def index_error_code(exc: IndexError_) -> str:
    """Machine-readable code of an index problem."""
    if isinstance(exc, IndexMissing):
        return "index_missing"
    if isinstance(exc, IndexVersionMismatch):
        return "index_version_mismatch"
    return "index_unavailable"


def register(app: Flask) -> None:
    """Install the handlers for invalid requests, index problems and HTTP errors."""

    @app.errorhandler(InvalidRequest)
    def invalid_request(exc: InvalidRequest):
        return error_response(400, exc.code, exc.message, back=_search_without_dates(exc))

    @app.errorhandler(IndexError_)
    def index_unavailable(exc: IndexError_):
        # The library's message names the index directory: it goes to the log for whoever runs
        # the server, not to the client.
        log.warning("index unavailable: %s", exc)
        message = INDEX_MESSAGES.get(type(exc), INDEX_MESSAGES[IndexError_])
        return error_response(503, index_error_code(exc), message, {"Retry-After": "30"})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", f"Erreur HTTP {status}."))
        headers = {}
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return error_response(status, code, message, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        code, message = HTTP_CODES[500]
        return error_response(500, code, message)
