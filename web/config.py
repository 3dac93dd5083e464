"""Web settings: defaults, then ``DEPECHE_*`` environment variables, then the mapping given to create_app."""
from __future__ import annotations

import os
from typing import Mapping

from search.model import DEFAULT_TIME_BUDGET_MS, MAX_FACET_SIZE

DEFAULTS = {
    "INDEX": "index",  # index directory, as for the `depeche` CLI
    "PER_PAGE": 10,  # results per page when the request does not say
    "FACET_SIZE": 10,  # facet values shown before "plus"
    "FACET_MORE": 50,  # facet values behind "plus" (HTML page)
    "TIME_BUDGET_MS": DEFAULT_TIME_BUDGET_MS,  # past this a search returns partial results rather than hang a worker
    "SUGGEST_LIMIT": 8,
    "RELATED": 5,
    "STATIC_MAX_AGE": 86400,  # static URLs carry a content hash, so they can be cached
}

ENV_PREFIX = "DEPECHE_"


def _coerce(key: str, raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{key} must be an integer, got {raw!r}") from None
    return raw


def load(overrides: Mapping | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """The effective settings: DEFAULTS < environment < overrides."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if ENV_PREFIX + key in environ:
            settings[key] = _coerce(key, environ[ENV_PREFIX + key], default)
    settings.update(overrides or {})
    settings["FACET_MORE"] = max(1, min(int(settings["FACET_MORE"]), MAX_FACET_SIZE))
    settings["FACET_SIZE"] = max(1, min(int(settings["FACET_SIZE"]), settings["FACET_MORE"]))
    return settings
