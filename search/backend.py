"""The engine interface the web layer and the CLI depend on, and the choice of its implementation.

Two implementations: ``search.engine.Engine`` (Whoosh, embedded, the default: `make run` needs
nothing else) and ``search.opensearch.engine.ClusterEngine`` (an OpenSearch cluster, for
archives that outgrow one machine). Chosen by ``DEPECHE_BACKEND=whoosh|opensearch``, the
cluster's address by ``DEPECHE_OPENSEARCH_URL`` and its index alias by ``DEPECHE_OPENSEARCH_INDEX``
(or the same keys in the mapping given to ``create_app``, or the CLI's ``--backend``).
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator, Mapping, Protocol, runtime_checkable

from .coverage import Coverage
from .model import Hit, InvalidRequest, SearchRequest, SearchResponse

BACKENDS = ("whoosh", "opensearch")
DEFAULT_BACKEND = "whoosh"
# The two nodes of the local cluster (`make opensearch`); a newsroom names its own, comma-separated.
DEFAULT_OPENSEARCH_URL = "http://127.0.0.1:9250,http://127.0.0.1:9251"
DEFAULT_OPENSEARCH_INDEX = "depeche"


@runtime_checkable
class SearchEngine(Protocol):
    """What answers searches: the web pages, the JSON API, the feeds, exports and `depeche eval` use only this."""

    def search(self, req: SearchRequest, within: Iterable[str] | None = None) -> SearchResponse:
        """One page of results with facets, snippets and corrections."""

    def results(self, req: SearchRequest, limit: int, within: Iterable[str] | None = None) -> tuple[SearchResponse, Iterator[Hit]]:
        """The first ``limit`` hits of a whole result set, built as the caller iterates."""

    def document(self, doc_id: str, q: str = "", version: int | None = None) -> dict | None:
        """A whole dispatch for display, query words marked; None when unknown.

        Text comes as data: ``title_segments`` and ``lead_segments`` (lists of ``Segment``),
        ``body_blocks`` (a list of ``Block``: paragraphs and sub-heads), never as HTML."""

    def related(self, doc_id: str, k: int = 5) -> list[Hit]:
        """Dispatches most like this one."""

    def suggest(self, prefix: str, limit: int = 10) -> dict:
        """Words, people and places starting with ``prefix``."""

    def health(self) -> dict:
        """Generation, live document count, analyzer version, status."""

    def story(self, story: str, limit: int = ...) -> dict | None:
        """The versions of one story, newest first; None when unknown."""

    def entity_page(self, kind: str, name: str, size: int = ..., latest: int = ..., budget_ms: int | None = ...) -> "Coverage | None":
        """A person's or place's page: mentions over time, names alongside, latest dispatches."""

    @staticmethod
    def validate(req: SearchRequest) -> tuple[int, int]:
        """Raise InvalidRequest for a bad parameter; returns the (low, high) date bounds."""


def settings(config: Mapping | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """BACKEND, OPENSEARCH_URL, OPENSEARCH_INDEX and INDEX: ``config`` over ``DEPECHE_*`` over defaults."""
    environ = os.environ if environ is None else environ
    config = config or {}
    out = {
        "BACKEND": environ.get("DEPECHE_BACKEND") or DEFAULT_BACKEND,
        "OPENSEARCH_URL": environ.get("DEPECHE_OPENSEARCH_URL") or DEFAULT_OPENSEARCH_URL,
        "OPENSEARCH_INDEX": environ.get("DEPECHE_OPENSEARCH_INDEX") or DEFAULT_OPENSEARCH_INDEX,
        "INDEX": environ.get("DEPECHE_INDEX") or "index",
    }
    out.update({k: v for k, v in config.items() if k in out and v})
    out["BACKEND"] = str(out["BACKEND"]).strip().lower()
    if out["BACKEND"] not in BACKENDS:
        raise InvalidRequest("bad_backend", f"moteur {out['BACKEND']!r} inconnu : {' ou '.join(BACKENDS)}")
    return out


def open_engine(config: Mapping | None = None, **kwargs) -> SearchEngine:
    """The engine the settings choose (nothing is contacted or opened before the first search)."""
    s = settings(config)
    if s["BACKEND"] == "opensearch":
        from .opensearch.engine import ClusterEngine

        # The local index directory keeps what the cluster does not: agency items' version history.
        return ClusterEngine(s["OPENSEARCH_URL"], s["OPENSEARCH_INDEX"], root=s["INDEX"], **kwargs)
    from .engine import Engine

    return Engine(str(s["INDEX"]), **kwargs)
