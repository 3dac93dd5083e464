"""Shared fixtures: a small French corpus written by the tests, and an index built from it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search import indexing

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_46166f39458f7f75.txt"

# Small dispatches in the seed's format: date line + lead, paragraphs, sub-heads, credit.
DISPATCHES = {
    "ats_otan": (
        "date 2023-06-14 L'Alliance atlantique veut reconstituer ses stocks de munitions, a indiqué "
        "mercredi Jens Stoltenberg à Bruxelles.\n\n"
        "Les ministres de la Défense discuteront des armements fournis à l'Ukraine.\n\n"
        "Un sommet à Vilnius\n\n"
        "Le sommet de Vilnius aura lieu en juillet, avec les États-Unis et les Pays-Bas.\n\n/ATS\n"
    ),
    "afp_ecole": (
        "date 2023-05 Une école de Lyon ferme ses portes après un incendie.\n\n"
        "Les élèves seront accueillis dans un autre établissement dès lundi, selon la mairie.\n\n/AFP\n"
    ),
    "ats_est": (
        "date 2022-11-03 Les pays d'Europe de l'Est renforcent leur défense aérienne.\n\n"
        "Varsovie a commandé des obus de 155mm et des systèmes sol-air.\n\n/ATS\n"
    ),
    "reuters_coeur": (
        "date 2021-02-10 Le cœur du réacteur a été inspecté par l'O.N.U. jusqu'où les experts ont pu aller.\n\n"
        "Les inspecteurs de l'Onu ont rendu leur rapport aujourd'hui.\n\n/Reuters\n"
    ),
}


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A folder of plain-text dispatches plus one JSON Lines file."""
    d = tmp_path / "corpus"
    d.mkdir()
    for ident, text in DISPATCHES.items():
        (d / f"{ident}.txt").write_text(text, encoding="utf-8")
    shutil.copy(SEED, d / SEED.name)
    records = [
        {"id": "j1", "title": "Contre-offensive ukrainienne dans le Donbass", "date": "2023-06-20",
         "chapo": "La contre-offensive se poursuit.", "body": "Les forces ukrainiennes progressent près de Bakhmout.",
         "source": "AFP", "people": ["Volodymyr Zelensky"], "places": ["Ukraine", "Bakhmout"]},
        {"id": "j2", "title": None, "date": "2020-03-01",
         "chapo": "Les Pays-Bas annoncent un plan de relance. Il sera présenté demain.",
         "body": "Le gouvernement néerlandais a détaillé ses mesures.", "source": "AFP", "places": ["Pays-Bas"]},
    ]
    (d / "extra.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return d


@pytest.fixture
def built_index(tmp_path: Path, corpus_dir: Path) -> Path:
    """An index (entities off) built from ``corpus_dir``; returns the index directory."""
    root = tmp_path / "index"
    indexing.rebuild([corpus_dir], root, entities=False, procs=1, progress=False)
    return root


# ---------------------------------------------------------------- web fixtures (helpers in web_fixtures.py)


@pytest.fixture(scope="session")
def web_index(tmp_path_factory) -> Path:
    """The web fixture corpus indexed once per test session (read-only for tests)."""
    from web_fixtures import build_index

    return build_index(tmp_path_factory.mktemp("web") / "index")


@pytest.fixture(scope="session")
def web_app(web_index):
    """One app on web_index, shared like a gunicorn worker's."""
    from web_fixtures import make_app

    return make_app(web_index)


@pytest.fixture
def client(web_app):
    """A test client of web_app."""
    return web_app.test_client()


@pytest.fixture(scope="session")
def story_web_index(tmp_path_factory) -> Path:
    """The running-story corpus (search_fixtures.STORY_RECORDS) indexed once per session (read-only)."""
    from search_fixtures import STORY_RECORDS
    from web_fixtures import build_index

    return build_index(tmp_path_factory.mktemp("stories") / "index", STORY_RECORDS)


@pytest.fixture(scope="session")
def story_app(story_web_index):
    """An app on story_web_index."""
    from web_fixtures import make_app

    return make_app(story_web_index)


@pytest.fixture
def story_client(story_app):
    """A test client of story_app."""
    return story_app.test_client()


@pytest.fixture(scope="module")
def browser():
    """Chromium from Debian, headless."""
    from web_fixtures import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page_and_problems(browser):
    """A fresh desktop page, and the console errors (CSP violations included) and script errors it reports."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page, problems
    context.close()


# ---------------------------------------------------------------- people and places pages (entity_fixtures.py)


@pytest.fixture(scope="session")
def entity_index(tmp_path_factory) -> Path:
    """The people-and-places fixture archive, indexed once per session (read-only for tests)."""
    from entity_fixtures import build_entity_index

    return build_entity_index(tmp_path_factory.mktemp("entities") / "index")


@pytest.fixture(scope="session")
def entity_app(entity_index):
    """An app on entity_index; a generous time budget, so a loaded test machine cuts no facet short."""
    from web_fixtures import make_app

    return make_app(entity_index, TIME_BUDGET_MS=60_000)


@pytest.fixture
def entity_client(entity_app):
    """A test client of entity_app."""
    return entity_app.test_client()


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
