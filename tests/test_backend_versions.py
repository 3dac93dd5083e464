"""Agency items' versions on both engines: a later version replaces the older one, the history is kept.

The same NewsML-G2 and ninjs files (tests/data/agency) go through `index add`, a watch batch or a
rebuild on the Whoosh index and on a real cluster; both engines then answer the same document,
the same history, the same earlier versions and the same withdrawn answer, and the JSON API
shows them alike.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from cluster_fixtures import drop, unique_alias
from corpus import write_corpus
from search import indexing, watch
from search.engine import Engine
from search.model import SearchRequest
from search.opensearch import writer
from search.opensearch.engine import ClusterEngine
from search.opensearch.watch_writer import ClusterWriter

DATA = Path(__file__).resolve().parent / "data" / "agency"
OTAN = "urn:newsml:depeche.example:20230614:otan-munitions"
LYON = "depeche.example:ninjs:2023:06:incendie-ecole-lyon"  # the id the ninjs reader makes of its uri
NEWSML = DATA / "newsml"
NINJS = DATA / "ninjs"
BACKENDS = [pytest.param("whoosh"), pytest.param("opensearch", marks=pytest.mark.opensearch)]
# Plain dispatches on other subjects: what the agency items are added to.
BASE = [
    {"id": "glacier", "title": "Le glacier du Rhône recule encore", "date": "2023-06-01", "source": "ATS",
     "chapo": "Le glacier du Rhône a perdu dix mètres cet été.", "body": "Les glaciologues mesurent sa fonte."},
    {"id": "train", "title": "Un train régional déraille près de Moutier", "date": "2023-06-02", "source": "ATS",
     "chapo": "Un train régional a déraillé près de Moutier.", "body": "Aucun voyageur n'a été blessé."},
]


@pytest.fixture(params=BACKENDS)
def archive(request, tmp_path, monkeypatch):
    """A few plain dispatches on one engine; ``root`` is the local index directory (version store, journal)."""
    root = tmp_path / "index"
    corpus = write_corpus(tmp_path / "corpus", BASE)
    if request.param == "whoosh":
        indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
        yield SimpleNamespace(
            name="whoosh", root=root, engine=lambda: Engine(root), watch_writer=lambda: None,
            add=lambda *paths: indexing.add(list(paths), root, entities=False),
            rebuild=lambda *paths: indexing.rebuild(list(paths), root, entities=False, procs=1, progress=False, force=True))
        return
    url = request.getfixturevalue("opensearch_url")
    client = writer.connect(url)
    alias = unique_alias("versions")
    writer.rebuild([corpus], client, alias, entities=False, cache_dir=root)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", url)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_INDEX", alias)
    yield SimpleNamespace(
        name="opensearch", root=root, engine=lambda: ClusterEngine(url, alias, root=root), watch_writer=lambda: ClusterWriter(root),
        add=lambda *paths: writer.add(list(paths), client, alias, entities=False, cache_dir=root),
        rebuild=lambda *paths: writer.rebuild(list(paths), client, alias, entities=False, cache_dir=root, force=True),
        client=client, alias=alias, url=url)
    drop(client, alias)


def found(engine, q: str) -> list[tuple[str, str]]:
    return [(h.id, h.title) for h in engine.search(SearchRequest(q=q, per_page=50, collapse="none")).hits]


def history(doc: dict) -> list[tuple]:
    return [(v["version"], v["pub_status"], v["title"], v["changed"]) for v in doc["versions"]]


OTAN_V1 = "L'Otan veut reconstituer ses stocks de munitions"
OTAN_V2 = "L'Otan commande des munitions pour deux milliards d'euros"
OTAN_V3 = "L'Otan commande des munitions pour 2,4 milliards d'euros"


def test_a_later_version_replaces_the_older_and_the_history_is_kept(archive):
    archive.add(NEWSML / "otan-v1.xml")
    archive.add(NEWSML / "otan-v2.xml")
    report = archive.add(NEWSML / "otan-v3-correction.xml")
    assert report.indexed == 1 and report.deleted == 1
    engine = archive.engine()
    assert found(engine, "Otan munitions milliards") == [(OTAN, OTAN_V3)]  # one dispatch: the newest version
    doc = engine.document(OTAN)
    assert doc["title"] == OTAN_V3 and doc["shown_version"] == 3 and doc["status"] == "usable"
    assert [(v, s, t) for v, s, t, _ in history(doc)] == [(1, "usable", OTAN_V1), (2, "usable", OTAN_V2), (3, "usable", OTAN_V3)]
    assert history(doc)[0][3] == "première version" and "titre modifié" in history(doc)[1][3]
    # An earlier version, as received, with the live version's history.
    old = engine.document(OTAN, q="munitions", version=1)
    assert old["title"] == OTAN_V1 and old["shown_version"] == 1 and old["versions"] == doc["versions"]
    assert set(old) == set(doc)
    assert any(s.mark for s in old["title_segments"])
    assert engine.document(OTAN, version=7) is None


def test_a_late_older_version_is_only_recorded(archive):
    archive.add(NEWSML / "otan-v3-correction.xml")
    report = archive.add(NEWSML / "otan-v1.xml")
    assert report.indexed == 0 and report.stale == 1
    doc = archive.engine().document(OTAN)
    assert doc["title"] == OTAN_V3 and [v["version"] for v in doc["versions"]] == [1, 3]


def test_a_kill_takes_the_item_out_of_search_and_keeps_its_history(archive):
    archive.add(NEWSML / "otan-v1.xml", NEWSML / "otan-v2.xml")
    archive.add(NEWSML / "otan-v4-kill.xml")
    engine = archive.engine()
    assert found(engine, "Otan munitions") == []
    gone = engine.document(OTAN)
    assert gone["status"] == "withdrawn" and gone["pub_status"] == "canceled" and gone["title"] == OTAN_V2
    assert [(v["version"], v["changed"]) for v in gone["versions"]][-1] == (4, "retirée par l'agence")
    assert engine.document(OTAN, version=1)["status"] == "withdrawn"  # a kill removes every version from view
    # ninjs: a canceled second version.
    archive.add(NINJS / "ninjs1-v1.json")
    assert [i for i, _ in found(archive.engine(), "école Lyon incendie")] == [LYON]
    archive.add(NINJS / "ninjs1-v2-canceled.json")
    assert found(archive.engine(), "école Lyon incendie") == []
    assert archive.engine().document(LYON)["status"] == "withdrawn"


def test_a_watch_batch_brings_a_new_version(archive, tmp_path):
    archive.add(NEWSML / "otan-v1.xml")
    inbox = tmp_path / "arrivee"
    inbox.mkdir()
    shutil.copy(NEWSML / "otan-v2.xml", inbox / "otan-v2.xml")
    batches = watch.Watcher(inbox, archive.root, entities=False, say=lambda m: None, writer=archive.watch_writer()).run(once=True)
    assert [b.indexed for b in batches] == [1]
    engine = archive.engine()
    assert found(engine, "Otan munitions") == [(OTAN, OTAN_V2)]
    assert [v["version"] for v in engine.document(OTAN)["versions"]] == [1, 2]


def test_a_rebuild_keeps_the_newest_version_received(archive, tmp_path):
    archive.add(NEWSML / "otan-v1.xml")
    archive.add(NEWSML / "otan-v3-correction.xml")
    # The sources of the rebuild only have version 1: version 3, received before, stays live.
    src = tmp_path / "sources"
    src.mkdir()
    shutil.copy(NEWSML / "otan-v1.xml", src / "otan-v1.xml")
    write_corpus(src, BASE)
    archive.rebuild(src)
    engine = archive.engine()
    assert found(engine, "Otan munitions") == [(OTAN, OTAN_V3)]
    assert [v["version"] for v in engine.document(OTAN)["versions"]] == [1, 3]


@pytest.mark.opensearch
def test_both_engines_and_the_api_show_the_same_versions(opensearch_url, tmp_path, monkeypatch):
    from web import create_app

    whoosh_root, cluster_root = tmp_path / "whoosh", tmp_path / "cluster"
    corpus = write_corpus(tmp_path / "corpus", BASE)
    indexing.rebuild([corpus], whoosh_root, entities=False, procs=1, progress=False)
    client = writer.connect(opensearch_url)
    alias = unique_alias("versions-api")
    try:
        writer.rebuild([corpus], client, alias, entities=False, cache_dir=cluster_root)
        for name in ("otan-v1.xml", "otan-v2.xml", "otan-v3-correction.xml"):
            indexing.add([NEWSML / name], whoosh_root, entities=False)
            writer.add([NEWSML / name], client, alias, entities=False, cache_dir=cluster_root)
        apps = {
            "whoosh": create_app({"TESTING": True, "INDEX": str(whoosh_root)}).test_client(),
            "opensearch": create_app({"TESTING": True, "INDEX": str(cluster_root), "BACKEND": "opensearch",
                                      "OPENSEARCH_URL": opensearch_url, "OPENSEARCH_INDEX": alias}).test_client(),
        }
        live = {k: c.get(f"/api/documents/{OTAN}").json for k, c in apps.items()}
        assert live["whoosh"]["versions"] == live["opensearch"]["versions"]
        assert [v["version"] for v in live["opensearch"]["versions"]] == [1, 2, 3]
        assert live["opensearch"]["shown_version"] == 3
        old = {k: c.get(f"/api/documents/{OTAN}?version=2").json for k, c in apps.items()}
        for key in ("title", "lead", "body_html", "shown_version", "versions", "status"):
            assert old["whoosh"][key] == old["opensearch"][key], key
        assert old["opensearch"]["title"] == OTAN_V2
        page = apps["opensearch"].get(f"/doc/{OTAN}?version=1")
        assert page.status_code == 200 and "ce n'est pas la dernière version" in page.get_data(as_text=True)
    finally:
        drop(client, alias)
