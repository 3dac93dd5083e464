"""Saved-search alerts on both engines: what an `index add` brings that each saved search matches.

On Whoosh each saved search is run over the new dispatches; on the cluster (real nodes) the new
dispatches are percolated against the saved searches stored as percolator queries. The same
saved searches, the same dispatches added, the same alerts.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cluster_fixtures import drop, unique_alias
from search import alerts, indexing
from search.cli import main
from search.engine import Engine
from search.opensearch import percolator, writer
from search.opensearch.engine import ClusterEngine
from corpus import SEARCH_RECORDS, write_corpus

ROOT = Path(__file__).resolve().parent.parent
EMBARGOED = ROOT / "tests" / "data" / "agency" / "newsml" / "embargo-future.xml"
BACKENDS = [pytest.param("whoosh"), pytest.param("opensearch", marks=pytest.mark.opensearch)]

NEW = [
    {"id": "n-muni", "title": "Nouvelles livraisons de munitions", "date": "2023-07-01", "source": "AFP",
     "chapo": "Des munitions d'artillerie partent vers l'Ukraine.", "body": "Les stocks de munitions baissent."},
    {"id": "n-autre", "title": "La BCE garde ses taux", "date": "2023-07-02", "source": "Reuters",
     "chapo": "La Banque centrale européenne ne bouge pas.", "body": "Christine Lagarde s'est exprimée."},
]
GREVES = [
    {"id": "g-paris", "title": "Grève du métro à Paris", "date": "2023-07-03", "source": "AFP", "places": ["Paris"],
     "chapo": "Une grève perturbe le métro.", "body": "La RATP prévoit un trafic perturbé."},
    {"id": "g-lyon", "title": "Grève des trams à Lyon", "date": "2023-07-04", "source": "AFP", "places": ["Lyon"],
     "chapo": "Une grève touche les trams.", "body": "Les TCL annoncent un service minimum."},
    {"id": "g-ats", "title": "Grève à Genève", "date": "2023-07-05", "source": "ATS", "places": ["Genève"],
     "chapo": "Une grève des transports publics.", "body": "Les TPG sont à l'arrêt."},
]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(params=BACKENDS)
def archive(request, tmp_path):
    """The search fixtures' corpus on one engine; ``root`` holds the saved searches (``--index``)."""
    root = tmp_path / "index"
    corpus = write_corpus(tmp_path / "corpus", SEARCH_RECORDS, seed=True)
    if request.param == "whoosh":
        indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
        yield SimpleNamespace(
            name="whoosh", root=root, engine=lambda: Engine(root), cli=["--index", str(root)], env={},
            add=lambda sources: indexing.add(sources, root, entities=False))
        return
    url = request.getfixturevalue("opensearch_url")
    client = writer.connect(url)
    alias = unique_alias("alerts")
    writer.rebuild([corpus], client, alias, entities=False, cache_dir=root)
    yield SimpleNamespace(
        name="opensearch", root=root, engine=lambda: ClusterEngine(url, alias), client=client, alias=alias,
        cli=["--backend", "opensearch", "--index", str(root)],
        env={"DEPECHE_OPENSEARCH_URL": url, "DEPECHE_OPENSEARCH_INDEX": alias},
        add=lambda sources: writer.add(sources, client, alias, entities=False, cache_dir=root))
    drop(client, alias)


def run(archive, ids):
    return alerts.run(archive.root, ids, spawn=False, engine=archive.engine())


def test_an_add_alerts_only_on_the_new_dispatches(archive, tmp_path):
    store = alerts.AlertStore(archive.root)
    store.create("munitions", {"q": "munitions"})  # dispatches already indexed have the word
    store.create("afp", {"source": ["AFP"]})
    store.create("rien", {"q": "pangolin"})
    report = archive.add([write_jsonl(tmp_path / "new.jsonl", NEW)])
    assert sorted(report.ids) == ["n-autre", "n-muni"]
    assert run(archive, report.ids) == {"afp": ["n-muni"], "munitions": ["n-muni"]}
    assert [d for d, _ in store.matches("munitions")] == ["n-muni"]
    # The same batch again: nothing new, nothing twice.
    assert run(archive, report.ids) == {}
    assert {a.name: a.matches for a in store.list()} == {"afp": 1, "munitions": 1, "rien": 0}


def test_a_saved_search_keeps_its_filters_and_exclusions(archive, tmp_path):
    store = alerts.AlertStore(archive.root)
    store.create("greves", {"q": "grève", "not_place": ["Paris"], "not_source": ["ATS"]})
    store.create("greves-api", {"q": "grève", "not_place": ["paris"]})
    store.create("lyon", {"place": ["lyon"], "from": "2023-07-04", "to": "2023-07-04"})
    store.create("juin", {"q": "grève", "from": "2023-06"})
    store.create("titre", {"q": 'titre:trams "service minimum"'})
    found = run(archive, archive.add([write_jsonl(tmp_path / "greves.jsonl", GREVES)]).ids)
    # Newest first, as a search feed.
    assert found == {"greves": ["g-lyon"], "greves-api": ["g-ats", "g-lyon"], "lyon": ["g-lyon"],
                     "juin": ["g-ats", "g-lyon", "g-paris"], "titre": ["g-lyon"]}


def test_partial_matches_and_stop_words_do_not_alert(archive, tmp_path):
    store = alerts.AlertStore(archive.root)
    store.create("deux", {"q": "munitions pangolin"})
    store.create("vide", {"q": "le la les"})
    assert run(archive, archive.add([write_jsonl(tmp_path / "new.jsonl", NEW)]).ids) == {}


def test_a_misspelt_saved_word_alerts_as_its_correction(archive, tmp_path):
    # As a search: a word no dispatch has is read as the archive's word it stands for, and the
    # saved search then alerts on what has that word; a word the archive has stays as typed.
    store = alerts.AlertStore(archive.root)
    store.create("faute", {"q": "munitoins"})
    store.create("faute-filtre", {"q": "munitoins", "source": ["Reuters"]})
    store.create("juste", {"q": "munitions"})
    found = run(archive, archive.add([write_jsonl(tmp_path / "new.jsonl", NEW)]).ids)
    assert found == {"faute": ["n-muni"], "juste": ["n-muni"]}
    # Once a dispatch has the word as saved, it is a word of the archive: searched as typed.
    typo = [{"id": "n-typo", "title": "Dépôt de munitoins", "date": "2023-07-06", "source": "AFP",
             "chapo": "Un dépôt de munitoins a été découvert.", "body": "La police enquête."},
            {"id": "n-muni-2", "title": "Encore des munitions", "date": "2023-07-07", "source": "AFP",
             "chapo": "D'autres munitions sont livrées.", "body": "Les stocks remontent."}]
    found = run(archive, archive.add([write_jsonl(tmp_path / "typo.jsonl", typo)]).ids)
    assert found == {"faute": ["n-typo"], "juste": ["n-muni-2"]}


def test_an_embargoed_dispatch_never_alerts(archive, tmp_path):
    alerts.AlertStore(archive.root).create("voeux", {"q": "Conseil fédéral"})
    report = archive.add([EMBARGOED])
    assert report.indexed == 1
    assert run(archive, report.ids) == {}


def test_cli_index_add_reports_the_alerts(archive, tmp_path, monkeypatch):
    for k, v in archive.env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    r = runner.invoke(main, [*archive.cli, "alerte", "creer", "munitions", "munitions", "--source", "AFP"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, [*archive.cli, "index", "add", "--no-entities", str(write_jsonl(tmp_path / "new.jsonl", NEW))],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "alerte « munitions » : 1 nouvelle dépêche" in r.output
    assert [d for d, _ in alerts.AlertStore(archive.root).matches("munitions")] == ["n-muni"]


@pytest.mark.opensearch
def test_the_cluster_keeps_one_percolator_query_per_saved_search(opensearch_url, tmp_path):
    client = writer.connect(opensearch_url)
    alias = unique_alias("percolator")
    try:
        writer.rebuild([write_corpus(tmp_path / "corpus", SEARCH_RECORDS, seed=True)], client, alias, entities=False, cache_dir=tmp_path)
        engine = ClusterEngine(opensearch_url, alias)
        store = alerts.AlertStore(tmp_path / "ix")
        store.create("munitions", {"q": "munitions"})
        store.create("afp", {"source": ["AFP"]})
        name = percolator.sync(engine, store.list())
        assert client.count(index=name)["count"] == 2
        stored = {h["_source"]["alert_id"]: h["_source"]["alert_query"]
                  for h in client.search(index=name, body={"query": {"match_all": {}}})["hits"]["hits"]}
        assert set(stored) == {a.id for a in store.list()}
        assert all(q["bool"]["must"] for q in stored.values())
        # A deleted saved search leaves the cluster at the next percolation; a new one joins it.
        store.delete("afp")
        store.create("reuters", {"source": ["Reuters"]})
        percolator.sync(engine, store.list())
        assert client.count(index=name)["count"] == 2
        report = writer.add([write_jsonl(tmp_path / "new.jsonl", NEW)], client, alias, entities=False, cache_dir=tmp_path)
        assert {a: sorted(ids) for a, ids in percolator.percolate(engine, store.list(), report.ids).items()} == \
            {store.get("munitions").id: ["n-muni"], store.get("reuters").id: ["n-autre"]}
    finally:
        client.indices.delete(index=percolator.alerts_index(alias), ignore=[404])
        drop(client, alias)
