"""Writing to the cluster (search/opensearch/writer.py): rebuild by alias switch, refusals, add, delete, per-document errors."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cluster_fixtures import drop, unique_alias
from search import cli
from search.indexing import RebuildRefused, StrictFailure
from search.model import SearchRequest
from search.opensearch import writer
from search.opensearch.engine import ClusterEngine

pytestmark = pytest.mark.opensearch


def records(n: int, prefix: str = "d", word: str = "munitions") -> list[dict]:
    return [{"id": f"{prefix}{i}", "title": f"Dépêche {i} sur les {word}", "date": f"2023-06-{1 + i % 28:02d}",
             "chapo": f"L'Alliance parle de {word} à Vilnius.", "body": "Les États-Unis et les Pays-Bas.",
             "source": "AFP", "people": ["Jens Stoltenberg"], "places": ["Vilnius"]} for i in range(n)]


def write(path, recs) -> str:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def cluster(opensearch_url, tmp_path):
    client = writer.connect(opensearch_url)
    alias = unique_alias("writer")
    yield client, alias, opensearch_url
    drop(client, alias)


def ids(engine, q=""):
    # Every dispatch: records() are near-duplicates days apart, one story (collapsed by default).
    return {h.id for h in engine.search(SearchRequest(q=q, per_page=100, collapse="none")).hits}


def test_rebuild_switches_the_alias_and_keeps_the_previous_index(cluster, tmp_path):
    client, alias, url = cluster
    first = writer.rebuild([write(tmp_path / "a.jsonl", records(4))], client, alias, entities=False, cache_dir=tmp_path)
    assert first.indexed == 4 and first.generation == 1
    engine = ClusterEngine(url, alias)
    assert ids(engine, "munitions") == {"d0", "d1", "d2", "d3"}
    second = writer.rebuild([write(tmp_path / "b.jsonl", records(3, "e", "obus"))], client, alias, entities=False,
                            cache_dir=tmp_path, force=True)
    assert second.generation == 2
    assert writer.live_index(client, alias) == writer.generation_index(alias, 2)
    engine._meta = None  # no wait for the metadata's time to live
    assert ids(engine, "obus") == {"e0", "e1", "e2"} and ids(engine, "munitions") == set()
    # The index replaced is kept: a rollback serves it again.
    assert writer.rollback(client, alias) == writer.generation_index(alias, 1)
    engine._meta = None
    assert ids(engine, "munitions") == {"d0", "d1", "d2", "d3"}
    # A third rebuild keeps only the one it replaces.
    writer.rebuild([write(tmp_path / "c.jsonl", records(4, "f"))], client, alias, entities=False, cache_dir=tmp_path)
    assert writer.generations(client, alias) == [1, 3]


def test_refused_rebuilds_leave_the_alias_untouched(cluster, tmp_path):
    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(6))], client, alias, entities=False, cache_dir=tmp_path)
    live = writer.live_index(client, alias)
    with pytest.raises(RebuildRefused, match="moins de la moitié"):
        writer.rebuild([write(tmp_path / "small.jsonl", records(2, "s"))], client, alias, entities=False, cache_dir=tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x1", "title": "Sans texte"}\nnot json\n', encoding="utf-8")
    with pytest.raises(RebuildRefused, match="aucune dépêche valide"):
        writer.rebuild([str(bad)], client, alias, entities=False, cache_dir=tmp_path)
    with pytest.raises(StrictFailure):
        writer.rebuild([write(tmp_path / "ok.jsonl", records(6, "k")), str(bad)], client, alias, entities=False,
                       cache_dir=tmp_path, strict=True)
    assert writer.live_index(client, alias) == live
    assert writer.generations(client, alias) == [int(live[-6:])]  # the refused indices were deleted
    assert ids(ClusterEngine(url, alias), "munitions") == {f"d{i}" for i in range(6)}


def test_a_document_the_cluster_refuses_is_named_by_file_and_line(cluster, tmp_path):
    client, alias, _ = cluster
    recs = records(3)
    recs[1]["source"] = "x" * 40_000  # a keyword over Lucene's 32 766-byte term limit: refused by the cluster alone
    src = write(tmp_path / "refused.jsonl", recs)
    seen = []
    report = writer.rebuild([src], client, alias, entities=False, cache_dir=tmp_path, on_reject=seen.append)
    assert report.indexed == 2 and len(report.rejected) == 1
    rej = report.rejected[0]
    assert rej.source == src and rej.line == 2 and "refusé par le cluster" in rej.reason
    assert seen == [rej]


def test_add_replaces_and_delete_reports_missing(cluster, tmp_path):
    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(3))], client, alias, entities=False, cache_dir=tmp_path)
    new = records(1, "n", "obus") + [{**records(1)[0], "title": "Dépêche remplacée sur les obus"}]
    report = writer.add([write(tmp_path / "add.jsonl", new)], client, alias, entities=False, cache_dir=tmp_path)
    assert report.indexed == 2 and report.deleted == 1
    engine = ClusterEngine(url, alias)
    assert ids(engine, "obus") == {"n0", "d0"}
    assert engine.health()["documents"] == 4
    deleted, missing = writer.delete(["n0", "nope"], client, alias)
    assert deleted == ["n0"] and missing == ["nope"]
    assert ids(engine, "obus") == {"d0"}


def test_cli_backend_opensearch(cluster, tmp_path, monkeypatch):
    client, alias, url = cluster
    monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", url)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_INDEX", alias)
    runner = CliRunner()
    src = write(tmp_path / "a.jsonl", records(3))
    base = ["--index", str(tmp_path / "cache"), "--backend", "opensearch"]
    out = runner.invoke(cli.main, [*base, "index", "rebuild", "--no-entities", src])
    assert out.exit_code == 0, out.output
    assert "3 indexées" in out.output and "génération 1" in out.output
    out = runner.invoke(cli.main, [*base, "search", "--json", "munitions"])
    assert out.exit_code == 0 and json.loads(out.output)["total"] == 3
    out = runner.invoke(cli.main, [*base, "index", "delete", "d1", "absent"])
    assert out.exit_code == 1 and "introuvable : absent" in out.output
    out = runner.invoke(cli.main, [*base, "search", "--page", "0", "munitions"])
    assert out.exit_code == 2 and "--page" in out.output


def test_cli_names_an_unreachable_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", "http://127.0.0.1:9")
    out = CliRunner().invoke(cli.main, ["--backend", "opensearch", "search", "munitions"])
    assert out.exit_code == 1 and "cluster OpenSearch indisponible" in out.output and "Traceback" not in out.output


def test_web_app_on_the_cluster(cluster, tmp_path):
    from web import create_app

    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(3))], client, alias, entities=False, cache_dir=tmp_path)
    app = create_app({"BACKEND": "opensearch", "OPENSEARCH_URL": url, "OPENSEARCH_INDEX": alias})
    web = app.test_client()
    r = web.get("/api/search?q=munitions")
    assert r.status_code == 200 and r.json["total"] == 3 and "<mark>" in r.json["hits"][0]["snippet_html"]
    assert web.get("/api/search?q=munitions&page=0").json["error"]["code"] == "bad_page"
    assert web.get("/healthz").json["documents"] == 3
    page = web.get("/?q=munitions")
    assert page.status_code == 200 and "Dépêche 0" in page.get_data(as_text=True)
    assert web.get("/doc/d0").status_code == 200
    r = web.get("/api/personne/Jens Stoltenberg")
    assert r.status_code == 200 and r.json["total"] == 3
    assert web.get("/personne/Jens Stoltenberg").status_code == 200
    assert web.get("/api/story/d0").status_code == 404
    down = create_app({"BACKEND": "opensearch", "OPENSEARCH_URL": "http://127.0.0.1:9", "OPENSEARCH_INDEX": alias}).test_client()
    r = down.get("/api/search?q=munitions")
    assert r.status_code == 503 and r.json["error"]["code"] == "index_unavailable"


def test_engine_shows_the_display_forms_of_people_added(cluster, tmp_path):
    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(2))], client, alias, entities=False, cache_dir=tmp_path)
    engine = ClusterEngine(url, alias)
    assert engine.search(SearchRequest(q="munitions")).hits[0].people == ["Jens Stoltenberg"]
    added = [{**records(1, "p")[0], "people": ["Ursula von der Leyen"]}]
    writer.add([write(tmp_path / "b.jsonl", added)], client, alias, entities=False, cache_dir=tmp_path)
    engine._meta = (engine._meta[0] - 3600, *engine._meta[1:])  # past the time to live
    hit = next(h for h in engine.search(SearchRequest(q="munitions", collapse="none")).hits if h.id == "p0")
    assert hit.people == ["Ursula von der Leyen"]


def test_an_index_built_for_another_mapping_is_refused(cluster, tmp_path):
    from search.generations import IndexVersionMismatch

    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(2))], client, alias, entities=False, cache_dir=tmp_path)
    index = writer.live_index(client, alias)
    client.update(index=writer.meta_index(alias), id=index, body={"doc": {"schema_version": "fr-7+opensearch-1"}}, refresh=True)
    with pytest.raises(IndexVersionMismatch, match="index rebuild"):
        ClusterEngine(url, alias).search(SearchRequest(q="munitions"))


DEAD_NODE = "http://127.0.0.1:9"  # nothing listens: refused at once, as a node killed or stopped


def test_several_nodes_are_named_comma_separated():
    assert writer.node_urls(" http://a:9200 ,http://b:9200,, ") == ["http://a:9200", "http://b:9200"]
    assert writer.node_urls("http://a:9200") == ["http://a:9200"]
    with pytest.raises(Exception) as e:
        writer.node_urls(" , ")
    assert getattr(e.value, "code", None) == "bad_opensearch_url"


def test_a_node_down_among_those_named_costs_no_request(cluster, tmp_path):
    """What a client sees of a node killed: connections refused. Every search and write is sent
    again to a live node, whichever node the client tries first."""
    client, alias, url = cluster
    writer.rebuild([write(tmp_path / "a.jsonl", records(4))], client, alias, entities=False, cache_dir=tmp_path)
    for urls in (f"{DEAD_NODE},{url}", f"{url},{DEAD_NODE}"):
        engine = ClusterEngine(urls, alias)
        for _ in range(12):
            assert engine.search(SearchRequest(q="munitions")).total == 4
        assert engine.story("0" * 15 + "1") is None and engine.health()["documents"] == 4
    both = writer.connect(f"{DEAD_NODE},{url}")
    report = writer.add([write(tmp_path / "b.jsonl", records(2, "n"))], both, alias, entities=False, cache_dir=tmp_path)
    assert report.indexed == 2 and ids(ClusterEngine(url, alias), "munitions") >= {"n0", "n1"}


def test_dispatches_prepared_ahead_come_in_order_and_carry_a_reader_error():
    assert list(writer._prepared_ahead(iter(range(2500)), 7)) == list(range(2500))

    def failing():
        yield from range(3)
        raise ValueError("ligne JSON tronquée")

    got = []
    with pytest.raises(ValueError, match="tronquée"):
        for item in writer._prepared_ahead(failing(), 2):
            got.append(item)
    assert got == [0, 1, 2]


def test_a_bulk_stopped_early_lets_the_preparing_thread_end():
    import threading

    endless = iter(range(10**9))
    ahead = writer._prepared_ahead(endless, 4)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()  # as when the cluster refuses and the rebuild raises
    assert not any(t.name == "depeche-bulk-prepare" for t in threading.enumerate())
    # It stopped soon after the consumer did: at most the items that fit ahead, and the one in hand, were read.
    assert next(endless) <= 3 + 4 + 2
