"""`depeche index watch` on both engines: the Whoosh index, and a real cluster's alias (--backend opensearch).

The same folder, the same files, the same journal in the local index directory: what lands is
searchable, a bad file goes to .rejete/ with its file:line message, and a watcher killed
mid-batch (kill -9) and started again commits each file exactly once. On the cluster "once" is
read from each document's ``_version``: every write of an id adds one.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from cluster_fixtures import drop, unique_alias
from corpus import SEARCH_RECORDS, write_corpus
from search import alerts, indexing, watch
from search.cli import main
from search.engine import Engine
from search.model import SearchRequest
from search.opensearch import commands, writer
from search.opensearch.engine import ClusterEngine
from search.opensearch.watch_writer import ClusterWriter

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = [pytest.param("whoosh"), pytest.param("opensearch", marks=pytest.mark.opensearch)]


def put(folder: Path, rel: str, text: str) -> Path:
    """Write a file the way producers should: under a .tmp name, then renamed."""
    final = folder / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.rename(tmp, final)
    return final


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def rec(ident: str, body: str) -> dict:
    return {"id": ident, "title": None, "date": "2024-03-05", "chapo": body, "body": body, "source": "ATS"}


def journal_states(root: Path) -> list[str]:
    db = sqlite3.connect(str(root / watch.JOURNAL_FILE))
    try:
        return [s for (s,) in db.execute("SELECT state FROM batches ORDER BY id")]
    finally:
        db.close()


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path, monkeypatch):
    """A small archive on one engine: ``root`` is the local index directory (journal, alerts);
    ``writes(id)`` how many times the engine wrote a document (None on Whoosh, which cannot tell)."""
    root = tmp_path / "index"
    corpus = write_corpus(tmp_path / "corpus", SEARCH_RECORDS[:6])
    if request.param == "whoosh":
        indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
        yield SimpleNamespace(name="whoosh", root=root, cli=["--index", str(root)], engine=lambda: Engine(root),
                              writer=lambda: None, add_patch="indexing.add = die", add_module=indexing,
                              writes=lambda ident: None)
        return
    url = request.getfixturevalue("opensearch_url")
    client = writer.connect(url)
    alias = unique_alias("watch")
    writer.rebuild([corpus], client, alias, entities=False, cache_dir=root)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", url)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_INDEX", alias)

    def writes(ident):
        return client.get(index=alias, id=ident)["_version"]

    yield SimpleNamespace(name="opensearch", root=root, cli=["--backend", "opensearch", "--index", str(root)],
                          engine=lambda: ClusterEngine(url, alias), writer=lambda: ClusterWriter(root),
                          add_patch="from search.opensearch import commands\ncommands.add = die",
                          add_module=commands, writes=writes, client=client, alias=alias, url=url)
    drop(client, alias)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    d = tmp_path / "arrivee"
    d.mkdir()
    return d


def found(target, q: str) -> list[str]:
    return [h.id for h in target.engine().search(SearchRequest(q=q, collapse="none")).hits]


def run_once(target, inbox, lines, **kw) -> list[watch.BatchResult]:
    return watch.Watcher(inbox, target.root, entities=False, say=lines.append, writer=target.writer(), **kw).run(once=True)


def crash_run(target, inbox, patch: str) -> subprocess.CompletedProcess:
    """`depeche index watch --once` in a process that kills itself (SIGKILL) where ``patch`` says."""
    code = (
        "import os, signal\n"
        "from search import indexing, watch\n"
        "die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"{patch}\n"
        "from search.cli import main\n"
        f"main([*{target.cli!r}, 'index', 'watch', '--no-entities', '--once', {str(inbox)!r}])\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180, env=os.environ)


def count_adds(target, monkeypatch) -> list:
    """The writer's adds from now on, as lists of file names."""
    calls = []
    real = target.add_module.add

    def spy(sources, *a, **k):
        calls.append([Path(s).name for s in sources])
        return real(sources, *a, **k)

    monkeypatch.setattr(target.add_module, "add", spy)
    return calls


def test_files_dropped_land_in_the_engine_and_are_searchable(target, inbox):
    put(inbox, "a.jsonl", jsonl(rec("w1", "Les pompiers de Sion ont maîtrisé un incendie de forêt.")))
    put(inbox, "fil/b.txt", "date 2024-03-06 Un train régional a déraillé près de Moutier.\n\n/ATS\n")
    r = CliRunner().invoke(main, [*target.cli, "index", "watch", "--no-entities", "--once", str(inbox)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert re.search(r"^lot 1 : 2 fichiers, 2 dépêches indexées en \d+,\d s$", r.output, re.M), r.output
    assert found(target, "pompiers Sion") == ["w1"]
    assert found(target, "Moutier") == ["b"]
    assert sorted(str(p.relative_to(inbox / ".lu")) for p in (inbox / ".lu").rglob("*") if p.is_file()) == [
        "a.jsonl", "fil/b.txt"]
    # The journal sits in the local index directory, whichever engine holds the dispatches.
    assert journal_states(target.root) == ["moved"]
    assert target.writes("w1") in (None, 1)


def test_a_bad_file_goes_to_rejete_with_its_file_and_line(target, inbox):
    bad = put(inbox, "tout-faux.jsonl", '{"id": "x1", "bo\n{"id": "x2"}\n')
    put(inbox, "moitie.jsonl", jsonl(rec("ok1", "Une dépêche valide sur Fribourg.")) + '{"id": "cut", "bo\n')
    r = CliRunner().invoke(main, [*target.cli, "index", "watch", "--no-entities", "--once", str(inbox)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"rejeté {inbox / 'moitie.jsonl'}:2: ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 17)\n" in r.output
    assert f"rejeté {bad}:1: ligne JSON tronquée ou incomplète" in r.output and f"rejeté {bad}:2: " in r.output
    assert re.search(r"^lot 1 : 2 fichiers, 1 dépêche indexée, 3 rejets en \d+,\d s$", r.output, re.M), r.output
    assert (inbox / ".rejete" / "tout-faux.jsonl").exists() and (inbox / ".lu" / "moitie.jsonl").exists()
    assert found(target, "Fribourg") == ["ok1"]


def test_killed_after_the_commit_the_restart_does_not_write_again(target, inbox, monkeypatch):
    put(inbox, "a.jsonl", jsonl(rec("k1", "Une dépêche sur la grève des cheminots à Lausanne.")))
    r = crash_run(target, inbox, "watch.Journal.mark_done = die")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert journal_states(target.root) == ["pending"] and (inbox / "a.jsonl").exists()
    assert found(target, "cheminots Lausanne") == ["k1"]  # committed, not moved
    adds = count_adds(target, monkeypatch)
    lines: list[str] = []
    batches = run_once(target, inbox, lines)
    assert adds == []  # the journal and the engine agree: not written a second time
    assert [(b.number, b.recovered, b.indexed) for b in batches] == [(1, "found", 1)]
    assert lines[0].startswith("lot 1 : reprise, déjà dans l'index : 1 fichier, 1 dépêche indexée en "), lines
    assert journal_states(target.root) == ["moved"] and (inbox / ".lu" / "a.jsonl").exists()
    assert target.writes("k1") in (None, 1)


def test_killed_before_the_commit_the_restart_adds_the_batch_once(target, inbox, monkeypatch):
    put(inbox, "a.jsonl", jsonl(rec("k2", "Une dépêche sur les vendanges en Valais.")))
    put(inbox, "b.jsonl", jsonl(rec("k3", "Une autre sur le lac Léman.")))
    r = crash_run(target, inbox, target.add_patch)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert journal_states(target.root) == ["pending"] and found(target, "vendanges Valais") == []
    adds = count_adds(target, monkeypatch)
    lines: list[str] = []
    batches = run_once(target, inbox, lines)
    assert adds == [["a.jsonl", "b.jsonl"]]  # once, as the batch it was
    assert [(b.number, b.recovered, b.indexed) for b in batches] == [(1, "readded", 2)]
    assert journal_states(target.root) == ["moved"]
    assert found(target, "vendanges Valais") == ["k2"] and found(target, "lac Léman") == ["k3"]
    assert {target.writes("k2"), target.writes("k3")} <= {None, 1}
    assert run_once(target, inbox, lines) == [] and adds == [["a.jsonl", "b.jsonl"]]


def test_each_batch_runs_the_saved_searches_on_its_engine(target, inbox):
    alerts.AlertStore(target.root).create("incendies", {"q": "incendie"})
    put(inbox, "a.jsonl", jsonl(rec("al1", "Un incendie ravage une forêt près de Sion."),
                                rec("al2", "Le glacier du Rhône recule encore.")))
    r = CliRunner().invoke(main, [*target.cli, "index", "watch", "--no-entities", "--once", str(inbox)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "alerte « incendies » : 1 nouvelle dépêche" in r.output
    assert [d for d, _ in alerts.AlertStore(target.root).matches("incendies")] == ["al1"]


@pytest.mark.opensearch
def test_an_unreachable_cluster_makes_the_batch_wait_then_it_goes_through(opensearch_url, tmp_path, inbox, monkeypatch):
    client = writer.connect(opensearch_url)
    alias = unique_alias("watch-down")
    root = tmp_path / "index"
    try:
        writer.rebuild([write_corpus(tmp_path / "corpus", SEARCH_RECORDS[:3])], client, alias, entities=False, cache_dir=root)
        monkeypatch.setenv("DEPECHE_OPENSEARCH_INDEX", alias)
        monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", opensearch_url)
        cw = ClusterWriter(root)
        lines: list[str] = []
        w = watch.Watcher(inbox, root, entities=False, say=lines.append, writer=cw)
        cw.check()
        # Between the start and the batch the cluster goes away (a port nothing listens on).
        monkeypatch.setattr(cw, "check", lambda: None)
        monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", "http://127.0.0.1:9")
        put(inbox, "a.jsonl", jsonl(rec("u1", "Une dépêche qui attend le retour du cluster à Sion.")))
        result: list = []
        t = threading.Thread(target=lambda: result.append(w.run(once=True)), daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        while not any("j'attends et je réessaie" in x for x in lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(x.startswith("cluster OpenSearch indisponible") and x.endswith("j'attends et je réessaie") for x in lines), lines
        assert journal_states(root) == ["pending"]
        monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", opensearch_url)  # it comes back
        t.join(60)
        assert not t.is_alive()
        assert sum("j'attends" in x for x in lines) == 1, lines  # said once
        assert [(b.indexed, b.recovered) for b in result[0]] == [(1, "")]
        assert journal_states(root) == ["moved"]
        assert [h.id for h in ClusterEngine(opensearch_url, alias).search(SearchRequest(q="retour du cluster")).hits] == ["u1"]
    finally:
        drop(client, alias)


@pytest.mark.opensearch
def test_watch_refuses_a_cluster_without_the_alias(opensearch_url, tmp_path, inbox, monkeypatch):
    monkeypatch.setenv("DEPECHE_OPENSEARCH_URL", opensearch_url)
    monkeypatch.setenv("DEPECHE_OPENSEARCH_INDEX", unique_alias("absent"))
    r = CliRunner().invoke(main, ["--backend", "opensearch", "--index", str(tmp_path / "index"), "index", "watch",
                                  "--once", str(inbox)])
    assert r.exit_code == 1 and "aucun index" in r.output and "index rebuild" in r.output, r.output
