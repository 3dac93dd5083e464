"""The Dépêche web front end: an app factory, one HTML blueprint and one JSON blueprint.

The web layer is thin on purpose: it turns a request into a SearchRequest, asks the library,
and renders the one response object as HTML or JSON. It never imports search.entities, so the
spaCy model is never loaded in a web worker.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

from flask import Flask, request, url_for

from search import backend

from . import config as config_module
from . import errors, security
from .params import require_utf8

ENGINE_KEY = "depeche.engine"


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: settings (defaults, DEPECHE_* environment, ``config``), one Engine, routes."""
    app = Flask(__name__)
    settings = config_module.load(config)
    app.config.update(settings)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = settings["STATIC_MAX_AGE"]
    # Debug mode would serve the Werkzeug debugger (remote code execution) on any error.
    app.debug = False
    app.config["DEBUG"] = False
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # only POST /api/alerts has a body: a small JSON object
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # One engine per app, so one per gunicorn worker: it opens the index lazily on the first
    # request and follows new generations by itself. BACKEND (whoosh|opensearch) chooses it.
    app.extensions[ENGINE_KEY] = backend.open_engine(settings)

    from . import alerts, api, coverage, export, feeds, pages, present

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(alerts.bp)
    coverage.register(app)
    app.register_blueprint(coverage.bp)
    errors.register(app)
    app.make_default_options_response = api.options_response  # type: ignore[method-assign]
    # Before any view reads request.args, so every route answers broken UTF-8 the same way.
    app.before_request(lambda: require_utf8(request.query_string))
    security.register(app)
    present.register(app)
    _register_static_versions(app)
    return app


def _register_static_versions(app: Flask) -> None:
    """``static_url(name)``: a static URL with a content hash, so it can be cached for long."""
    hashes: dict[str, str] = {}
    folder = Path(app.static_folder or "")

    def static_url(filename: str) -> str:
        if filename not in hashes:
            try:
                hashes[filename] = hashlib.sha256((folder / filename).read_bytes()).hexdigest()[:10]
            except OSError:
                hashes[filename] = "0"
        return url_for("static", filename=filename, v=hashes[filename])

    app.jinja_env.globals["static_url"] = static_url
