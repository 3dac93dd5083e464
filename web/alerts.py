"""Saved searches (alerts) over HTTP: ``/api/alerts`` to create, list, read and delete them, and
``/alerts/<name>/feed.atom``, the Atom feed of what each one matched (search/alerts.py does the work).

A body must be JSON (``Content-Type: application/json``), which a cross-site form cannot send
without a CORS preflight this app never grants; the app's MAX_CONTENT_LENGTH (64 KiB) bounds it.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from search import alerts
from search.model import SearchRequest

from .api import engine
from .errors import error_response
from .feeds import FEED_ENTRIES, atom_response
from .params import DATE_PATTERN, query_string

bp = Blueprint("alerts", __name__)

BODY_KEYS = ("name", *alerts.REQUEST_KEYS, "webhook")


def store() -> alerts.AlertStore:
    return alerts.AlertStore(current_app.config["INDEX"])


def alert_dict(alert: alerts.Alert) -> dict:
    """The alert as JSON, with the address of its feed."""
    return {**alert.to_dict(), "feed_url": url_for("alerts.alert_feed", name=alert.name, _external=True)}


def _error(e: alerts.AlertError):
    return error_response(e.status, e.code, e.message)


@bp.route("/api/alerts", methods=["GET", "POST"])
def collection():
    """GET: every saved search; POST: save one. (One rule, so OPTIONS lists both methods.)"""
    return create() if request.method == "POST" else listing()


def create():
    """Save a search: 201 with the alert; 400 for a bad body, 409 when the name is taken."""
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return error_response(400, "bad_json", "le corps de la requête doit être un objet JSON "
                                               "(Content-Type: application/json)")
    unknown = sorted(set(body) - set(BODY_KEYS))
    if unknown:
        return error_response(400, "bad_alert", f"champ inconnu : {unknown[0][:40]!r} (permis : {', '.join(BODY_KEYS)})")
    for key in ("from", "to"):  # the exact dates the OpenAPI pattern describes (1000-2999, real days)
        if isinstance(body.get(key), str) and not re.search(DATE_PATTERN, body[key]):
            return error_response(400, "bad_date", f"« {key} » doit être une date réelle AAAA, AAAA-MM ou AAAA-MM-JJ")
    with store() as s:
        try:
            alert = s.create(body.get("name"), {k: body[k] for k in alerts.REQUEST_KEYS if k in body}, body.get("webhook"))
        except alerts.AlertError as e:
            return _error(e)
    resp = jsonify(alert_dict(alert))
    resp.status_code = 201
    resp.headers["Location"] = url_for("alerts.one", name=alert.name)
    return resp


def listing():
    """Every saved search, by name."""
    with store() as s:
        return jsonify(alerts=[alert_dict(a) for a in s.list()])


@bp.route("/api/alerts/<name>", methods=["GET", "DELETE"])
def one(name: str):
    """GET: one saved search; DELETE: delete it."""
    return delete(name) if request.method == "DELETE" else read(name)


def read(name: str):
    """One saved search."""
    with store() as s:
        try:
            return jsonify(alert_dict(s.get(name)))
        except alerts.AlertError as e:
            return _error(e)


def delete(name: str):
    """Delete a saved search and what it matched: 204."""
    with store() as s:
        try:
            s.delete(name)
        except alerts.AlertError as e:
            return _error(e)
    return Response(status=204)


@bp.get("/alerts/<name>/feed.atom")
def alert_feed(name: str):
    """What a saved search matched, the latest matches first, as Atom 1.0 (withdrawn dispatches left out)."""
    with store() as s:
        try:
            alert = s.get(name)
            matched = s.matches(name, FEED_ENTRIES)
        except alerts.AlertError as e:
            return _error(e)
    ids = [doc for doc, _ in matched]
    hits = {}
    if ids:  # the dispatches themselves: only those still visible (a kill since leaves the feed)
        _resp, found = engine().results(SearchRequest(sort="newest", highlight=False, time_budget_ms=None),
                                        len(ids), within=ids)
        hits = {h.id: h for h in found}
    def when(stamp: str):
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    pairs = [(k, v) for k in alerts.REQUEST_KEYS if k != "q" for v in alert.request.get(k) or []
             if isinstance(alert.request.get(k), list)]
    pairs = ([("q", alert.request["q"])] if alert.request.get("q") else []) + pairs + [
        (k, alert.request[k]) for k in ("from", "to") if alert.request.get(k)] + [("sort", "newest")]
    return atom_response(
        title=f"Dépêche — alerte « {alert.name} »",
        subtitle=f"Les {FEED_ENTRIES} dernières dépêches trouvées par cette recherche enregistrée, à leur arrivée.",
        self_url=url_for("alerts.alert_feed", name=alert.name, _external=True),
        alternate=url_for("pages.search_page", _external=True) + query_string(pairs),
        entries=((hits[doc], when(at)) for doc, at in matched if doc in hits),
        q=alert.request.get("q") or "")
