"""Shared fixtures: the French test corpus (corpus.py) indexed, engines, apps, servers, a browser, a cluster.

Indexes a test only reads are built once per session (per xdist worker) under tmp_path_factory;
a test that writes (rebuild, add, delete, rollback) takes a per-test index under tmp_path.
Test modules define fixtures only for what no other module uses, and never import each other.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from corpus import (ENTITY_RECORDS, SEARCH_RECORDS, STORY_RECORDS, WEB_DISPATCHES, build_agency_index, build_index,
                    write_fake_shared, write_plain_corpus)
from search import indexing
from search.engine import Engine

# ---------------------------------------------------------------- per test: indexes a test may write into


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A folder of plain-text dispatches, the seed dispatch and a JSON Lines file (corpus.write_plain_corpus)."""
    return write_plain_corpus(tmp_path / "corpus")


@pytest.fixture
def built_index(tmp_path: Path, corpus_dir: Path) -> Path:
    """An index (entities off) built from ``corpus_dir``; returns the index directory."""
    root = tmp_path / "index"
    indexing.rebuild([corpus_dir], root, entities=False, procs=1, progress=False)
    return root


@pytest.fixture
def story_index(tmp_path: Path) -> Path:
    """The running-story corpus (corpus.STORY_RECORDS) indexed (entities off), without the seed dispatch."""
    return build_index(tmp_path / "index", STORY_RECORDS)


@pytest.fixture
def fake_shared(tmp_path: Path) -> Path:
    """A small stand-in for ../shared (corpus.write_fake_shared): the search set as OrangeSum, four queries."""
    return write_fake_shared(tmp_path / "shared")


# ---------------------------------------------------------------- per session, read-only: the search set


@pytest.fixture(scope="session")
def search_index(tmp_path_factory) -> Path:
    """corpus.SEARCH_RECORDS and the seed dispatch, indexed once per session (read-only for tests)."""
    return build_index(tmp_path_factory.mktemp("search") / "index", SEARCH_RECORDS, seed=True)


@pytest.fixture(scope="session")
def engine(search_index) -> Engine:
    """The Engine on search_index, shared by the library tests (engine, facets, highlight, suggest, backends)."""
    return Engine(search_index)


# ---------------------------------------------------------------- web fixtures (helpers in web_helpers.py, servers.py)


@pytest.fixture(scope="session")
def web_index(tmp_path_factory) -> Path:
    """The web set (corpus.WEB_DISPATCHES) indexed once per test session (read-only for tests)."""
    return build_index(tmp_path_factory.mktemp("web") / "index", WEB_DISPATCHES)


@pytest.fixture(scope="session")
def web_app(web_index):
    """One app on web_index, shared like a gunicorn worker's."""
    from web_helpers import make_app

    return make_app(web_index)


@pytest.fixture
def client(web_app):
    """A test client of web_app."""
    return web_app.test_client()


@pytest.fixture(scope="session")
def web_server(web_index):
    """Base URL of an app of its own on web_index, served on a loopback port (for the browser tests)."""
    from servers import serve_app
    from web_helpers import make_app

    with serve_app(make_app(web_index)) as base:
        yield base


@pytest.fixture(scope="session")
def story_web_index(tmp_path_factory) -> Path:
    """The running-story corpus (corpus.STORY_RECORDS) indexed once per session (read-only)."""
    return build_index(tmp_path_factory.mktemp("stories") / "index", STORY_RECORDS)


@pytest.fixture(scope="session")
def story_app(story_web_index):
    """An app on story_web_index."""
    from web_helpers import make_app

    return make_app(story_web_index)


@pytest.fixture
def story_client(story_app):
    """A test client of story_app."""
    return story_app.test_client()


@pytest.fixture(scope="session")
def story_server(story_web_index):
    """Base URL of an app on story_web_index, served on a loopback port."""
    from servers import serve_app
    from web_helpers import make_app

    with serve_app(make_app(story_web_index)) as base:
        yield base


# ---------------------------------------------------------------- agency items (corpus.AGENCY_BATCHES)


@pytest.fixture(scope="session")
def agency_index(tmp_path_factory) -> Path:
    """The web set, then the agency items added batch by batch; once per session (read-only for tests)."""
    return build_agency_index(tmp_path_factory.mktemp("agency") / "index")


@pytest.fixture(scope="session")
def agency_app(agency_index):
    """An app on agency_index."""
    from web_helpers import make_app

    return make_app(agency_index)


@pytest.fixture
def agency_client(agency_app):
    """A test client of agency_app."""
    return agency_app.test_client()


@pytest.fixture(scope="session")
def agency_server(agency_index):
    """Base URL of an app of its own on agency_index, served on a loopback port (with a budget no
    loaded test machine runs out of: its pages are checked for what they show, not for speed)."""
    from servers import serve_app
    from web_helpers import make_app

    with serve_app(make_app(agency_index, TIME_BUDGET_MS=30_000)) as base:
        yield base


# ---------------------------------------------------------------- people and places pages (corpus.ENTITY_RECORDS)


@pytest.fixture(scope="session")
def entity_index(tmp_path_factory) -> Path:
    """The people-and-places fixture archive, indexed once per session (read-only for tests)."""
    return build_index(tmp_path_factory.mktemp("entities") / "index", ENTITY_RECORDS)


@pytest.fixture(scope="session")
def entity_engine(entity_index) -> Engine:
    """The Engine on entity_index."""
    return Engine(entity_index)


@pytest.fixture(scope="session")
def entity_app(entity_index):
    """An app on entity_index; a generous time budget, so a loaded test machine cuts no facet short."""
    from web_helpers import make_app

    return make_app(entity_index, TIME_BUDGET_MS=60_000)


@pytest.fixture
def entity_client(entity_app):
    """A test client of entity_app."""
    return entity_app.test_client()


@pytest.fixture(scope="session")
def entity_server(entity_index):
    """Base URL of an app of its own on entity_index (the same generous budget), on a loopback port."""
    from servers import serve_app
    from web_helpers import make_app

    with serve_app(make_app(entity_index, TIME_BUDGET_MS=60_000)) as base:
        yield base


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser():
    """Chromium from Debian, headless."""
    from servers import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _page_watched(browser, **context):
    """A fresh page in a context of its own, and the list its console and script errors go to."""
    ctx = browser.new_context(locale="fr-FR", **context)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return ctx, page, problems


@pytest.fixture
def page_and_problems(browser):
    """A fresh desktop page, and the console errors (CSP violations included) and script errors it reports."""
    ctx, page, problems = _page_watched(browser, viewport={"width": 1280, "height": 900})
    yield page, problems
    ctx.close()


@pytest.fixture
def phone(browser):
    """The same at phone width, touch enabled."""
    ctx, page, problems = _page_watched(browser, viewport={"width": 390, "height": 844}, has_touch=True)
    yield page, problems
    ctx.close()


# ---------------------------------------------------------------- the OpenSearch cluster (helpers in cluster_fixtures.py)


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    """A real local OpenSearch cluster: DEPECHE_OPENSEARCH_URL, or the repository's, started once."""
    from cluster_fixtures import cluster_url

    url, why = cluster_url()
    if url is None:
        pytest.skip(why)
    return url


def pytest_sessionfinish(session, exitstatus):
    # The controller (not an xdist worker) stops a cluster the tests started, once every worker is done.
    if not hasattr(session.config, "workerinput"):
        from cluster_fixtures import stop_if_started

        stop_if_started()
