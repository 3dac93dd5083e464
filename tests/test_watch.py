"""`depeche index watch`: settled files only, batches through the writer, .lu/ and .rejete/, restarts, the lock."""
from __future__ import annotations

import gzip
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

import pytest
from click.testing import CliRunner

from search import indexing, watch
from search.cli import main
from search.engine import Engine
from search.model import SearchRequest

ROOT = Path(__file__).resolve().parent.parent
BATCH_LINE = re.compile(r"^lot \d+ : \d+ fichiers?, \d+ dépêches? indexées?(, \d+ rejets?)? en \d+,\d s$")


def drop(folder: Path, rel: str, records: list[dict] | str, gz: bool = False) -> Path:
    """Write a file the way producers should: under a .tmp name, then renamed."""
    data = records if isinstance(records, str) else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    raw = gzip.compress(data.encode()) if gz else data.encode()
    final = folder / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(final.name + ".tmp")
    tmp.write_bytes(raw)
    os.rename(tmp, final)
    return final


def rec(ident: str, body: str) -> dict:
    return {"id": ident, "title": None, "date": "2024-03-05", "chapo": body, "body": body, "source": "ATS"}


def ids_in(root: Path) -> set[str]:
    ix, _, _ = indexing.open_generation(root)
    with ix.searcher() as s:
        return {f["id"] for f in s.all_stored_fields()}


def found(root: Path, q: str) -> list[str]:
    return [h.id for h in Engine(root).search(SearchRequest(q=q)).hits]


def watcher(folder: Path, root: Path, lines: list[str], **kw) -> watch.Watcher:
    kw.setdefault("entities", False)
    return watch.Watcher(folder, root, say=lines.append, **kw)


def journal_states(root: Path) -> list[str]:
    db = sqlite3.connect(str(root / watch.JOURNAL_FILE))
    try:
        return [s for (s,) in db.execute("SELECT state FROM batches ORDER BY id")]
    finally:
        db.close()


def wait_until(predicate, timeout: float = 15.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    d = tmp_path / "arrivee"
    d.mkdir()
    return d


def test_once_indexes_what_landed_moves_it_to_lu_and_ignores_temporary_and_hidden_files(inbox, built_index):
    drop(inbox, "a.jsonl", [rec("w1", "Les pompiers de Sion ont maîtrisé un incendie de forêt.")])
    drop(inbox, "fil/b.jsonl.gz", [rec("w2", "Le glacier du Rhône recule encore cet été.")], gz=True)
    (inbox / "fil" / "c.txt").write_text("date 2024-03-06 Un train régional a déraillé près de Moutier.\n\n/ATS\n")
    (inbox / "pas-fini.jsonl.tmp").write_text(json.dumps(rec("t1", "temporaire")) + "\n")
    (inbox / "pas-fini.jsonl.part").write_text(json.dumps(rec("t2", "partiel")) + "\n")
    (inbox / ".cache.jsonl").write_text(json.dumps(rec("t3", "caché")) + "\n")
    lines: list[str] = []
    batches = watcher(inbox, built_index, lines).run(once=True)
    assert [(b.files, b.indexed) for b in batches] == [(3, 3)]
    assert BATCH_LINE.match(lines[-1]) and lines[-1].startswith("lot 1 : 3 fichiers, 3 dépêches indexées en "), lines
    assert found(built_index, "pompiers") == ["w1"]
    assert found(built_index, "glacier") == ["w2"]
    assert found(built_index, "Moutier") == ["c"]
    assert sorted(str(p.relative_to(inbox / ".lu")) for p in (inbox / ".lu").rglob("*") if p.is_file()) == [
        "a.jsonl", "fil/b.jsonl.gz", "fil/c.txt"]
    assert not (inbox / "a.jsonl").exists()
    for left in ("pas-fini.jsonl.tmp", "pas-fini.jsonl.part", ".cache.jsonl"):
        assert (inbox / left).exists()
    assert not ids_in(built_index) & {"t1", "t2", "t3"}
    assert journal_states(built_index) == ["moved"]
    # Nothing more to do: a second pass reads nothing, a new file gets the next batch number.
    assert watcher(inbox, built_index, lines).run(once=True) == []
    drop(inbox, "d.jsonl", [rec("w3", "Encore une dépêche.")])
    assert [b.number for b in watcher(inbox, built_index, lines).run(once=True)] == [2]


def test_rejected_records_are_reported_and_a_file_with_nothing_valid_goes_to_rejete(inbox, built_index):
    bad = drop(inbox, "tout-faux.jsonl", '{"id": "x1", "bo\n{"id": "x2"}\n')
    drop(inbox, "moitie.jsonl", json.dumps(rec("ok1", "Une dépêche valide sur Fribourg.")) + "\n" + '{"id": "cut", "bo\n')
    r = CliRunner().invoke(main, ["--index", str(built_index), "index", "watch", "--no-entities", "--once", str(inbox)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert f"rejeté {inbox / 'moitie.jsonl'}:2: ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 17)\n" in r.output
    assert f"rejeté {bad}:1: ligne JSON tronquée ou incomplète" in r.output
    assert f"rejeté {bad}:2: " in r.output
    assert re.search(r"^lot 1 : 2 fichiers, 1 dépêche indexée, 3 rejets en \d+,\d s$", r.output, re.M), r.output
    assert (inbox / ".rejete" / "tout-faux.jsonl").exists() and (inbox / ".lu" / "moitie.jsonl").exists()
    assert found(built_index, "Fribourg") == ["ok1"]


def test_a_name_already_in_lu_gets_a_suffix(inbox, built_index):
    lines: list[str] = []
    for i in range(3):
        drop(inbox, "fil.jsonl.gz", [rec(f"v{i}", f"Version {i} de la dépêche.")], gz=True)
        watcher(inbox, built_index, lines).run(once=True)
    assert sorted(p.name for p in (inbox / ".lu").iterdir()) == ["fil.jsonl.gz", "fil~2.jsonl.gz", "fil~3.jsonl.gz"]
    assert {"v0", "v1", "v2"} <= ids_in(built_index)
    assert watch.unique_name(inbox / "absent.txt") == inbox / "absent.txt"


def test_settler_waits_for_a_stable_size_and_mtime():
    s = watch.Settler(settle=0.3)
    fresh = time.time_ns()
    assert s.update({"a": (10, fresh, 1)}, now=0.0) == []  # first look: never ready
    assert s.update({"a": (20, fresh, 1)}, now=0.2) == []  # grew
    assert s.update({"a": (20, fresh, 1)}, now=0.4) == []  # stable for 0.2 s only, freshly modified
    assert s.update({"a": (20, fresh, 1)}, now=0.55) == ["a"]
    old = time.time_ns() - 5 * 10**9  # renamed in, written long ago: two looks are enough
    assert s.update({"b": (5, old, 2)}, now=1.0) == []
    assert s.update({"b": (5, old, 2)}, now=1.05) == ["b"]
    assert s.update({}, now=2.0) == [] and s.seen == {}


def test_a_file_being_written_is_not_read_until_it_is_stable(inbox, built_index):
    lines: list[str] = []
    w = watcher(inbox, built_index, lines, batch_seconds=0.1)
    t = threading.Thread(target=w.run, daemon=True)
    t.start()
    try:
        assert wait_until(lambda: any(x.startswith("surveillance de") for x in lines))
        body = "Le Conseil fédéral a présenté son budget " + "très détaillé " * 200 + "à Berne."
        line = json.dumps(rec("lent", body), ensure_ascii=False).encode() + b"\n"
        path = inbox / "lent.jsonl"  # written in place, slowly: the case the settle time is for
        with open(path, "wb") as fh:
            for i in range(0, len(line), len(line) // 12 + 1):
                fh.write(line[i:i + len(line) // 12 + 1])
                fh.flush()
                time.sleep(0.1)
                assert path.exists(), "taken while still growing"
        assert wait_until(lambda: (inbox / ".lu" / "lent.jsonl").exists())
    finally:
        w.stop()
        t.join(10)
    assert not t.is_alive()
    assert not [x for x in lines if x.startswith("rejeté")], lines
    assert found(built_index, "budget Berne") == ["lent"]


def test_on_batch_gets_the_report_and_the_ids(inbox, built_index):
    calls = []
    drop(inbox, "a.jsonl", [rec("cb1", "Premier."), rec("cb2", "Second.")])
    watcher(inbox, built_index, [], on_batch=lambda report, ids: calls.append((report.indexed, ids))).run(once=True)
    assert calls == [(2, ["cb1", "cb2"])]


def crash_run(index: Path, folder: Path, patch: str) -> subprocess.CompletedProcess:
    code = (
        "import os, signal\n"
        "from search import indexing, watch\n"
        "die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"{patch}\n"
        "from search.cli import main\n"
        f"main(['--index', {str(index)!r}, 'index', 'watch', '--no-entities', '--once', {str(folder)!r}])\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def count_adds(monkeypatch) -> list:
    calls = []
    real = indexing.add

    def spy(sources, *a, **k):
        calls.append([Path(s).name for s in sources])
        return real(sources, *a, **k)

    monkeypatch.setattr(indexing, "add", spy)
    return calls


def test_killed_after_the_commit_before_done_the_restart_does_not_read_the_file_again(inbox, built_index, monkeypatch):
    before = len(ids_in(built_index))
    drop(inbox, "a.jsonl", [rec("k1", "Une dépêche sur la grève des cheminots à Lausanne.")])
    r = crash_run(built_index, inbox, "watch.Journal.mark_done = die")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert journal_states(built_index) == ["pending"]
    assert "k1" in ids_in(built_index) and (inbox / "a.jsonl").exists()  # committed, not moved
    adds = count_adds(monkeypatch)
    lines: list[str] = []
    batches = watcher(inbox, built_index, lines).run(once=True)
    assert adds == []  # the journal and the index agree: not added a second time
    assert [(b.number, b.recovered, b.indexed) for b in batches] == [(1, "found", 1)]
    assert lines[0].startswith("lot 1 : reprise, déjà dans l'index : 1 fichier, 1 dépêche indexée en "), lines
    assert journal_states(built_index) == ["moved"]
    assert (inbox / ".lu" / "a.jsonl").exists() and not (inbox / "a.jsonl").exists()
    assert len(ids_in(built_index)) == before + 1
    assert found(built_index, "cheminots Lausanne") == ["k1"]


def test_killed_before_the_commit_the_restart_adds_the_file_once(inbox, built_index, monkeypatch):
    before = len(ids_in(built_index))
    drop(inbox, "a.jsonl", [rec("k2", "Une dépêche sur les vendanges en Valais.")])
    drop(inbox, "b.jsonl", [rec("k3", "Une autre sur le lac Léman.")])
    r = crash_run(built_index, inbox, "indexing.add = die")
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert journal_states(built_index) == ["pending"] and not {"k2", "k3"} & ids_in(built_index)
    adds = count_adds(monkeypatch)
    lines: list[str] = []
    batches = watcher(inbox, built_index, lines).run(once=True)
    assert adds == [["a.jsonl", "b.jsonl"]]  # once, as the batch it was
    assert [(b.number, b.recovered, b.indexed) for b in batches] == [(1, "readded", 2)]
    assert journal_states(built_index) == ["moved"]
    assert sorted(p.name for p in (inbox / ".lu").iterdir()) == ["a.jsonl", "b.jsonl"]
    assert len(ids_in(built_index)) == before + 2
    # Nothing left over for a later run.
    assert watcher(inbox, built_index, lines).run(once=True) == [] and adds == [["a.jsonl", "b.jsonl"]]


def test_a_file_rewritten_after_a_crash_is_taken_as_a_new_file(inbox, built_index):
    drop(inbox, "a.jsonl", [rec("k4", "Un brouillon maladroit.")])
    assert crash_run(built_index, inbox, "indexing.add = die").returncode == -signal.SIGKILL
    drop(inbox, "a.jsonl", [rec("k4", "Seconde rédaction, corrigée.")])
    lines: list[str] = []
    batches = watcher(inbox, built_index, lines).run(once=True)
    assert [(b.number, b.files) for b in batches] == [(1, 0), (2, 1)]
    assert found(built_index, "corrigée") == ["k4"] and found(built_index, "brouillon maladroit") == []


def test_waits_for_another_writer_then_proceeds(inbox, built_index):
    drop(inbox, "a.jsonl", [rec("l1", "Une dépêche qui attend son tour à Neuchâtel.")])
    lines: list[str] = []
    w = watcher(inbox, built_index, lines)
    result: list = []
    with indexing.writer_lock(built_index):
        t = threading.Thread(target=lambda: result.append(w.run(once=True)), daemon=True)
        t.start()
        assert wait_until(lambda: any("index occupé" in x for x in lines))
        time.sleep(0.5)
        assert journal_states(built_index) == ["pending"] and "l1" not in ids_in(built_index)
    t.join(20)
    assert not t.is_alive()
    assert sum("index occupé" in x for x in lines) == 1, lines  # said once
    assert f"pid {os.getpid()}" in lines[0]
    assert [b.indexed for b in result[0]] == [1]
    assert found(built_index, "Neuchâtel") == ["l1"]


def test_a_stop_while_waiting_for_the_lock_leaves_nothing_half_done(inbox, built_index):
    drop(inbox, "a.jsonl", [rec("l2", "Une dépêche abandonnée puis reprise.")])
    lines: list[str] = []
    w = watcher(inbox, built_index, lines)
    with indexing.writer_lock(built_index):
        t = threading.Thread(target=w.run, daemon=True)
        t.start()
        assert wait_until(lambda: any("index occupé" in x for x in lines))
        w.stop()
        t.join(10)
        assert not t.is_alive()
    assert journal_states(built_index) == [] and (inbox / "a.jsonl").exists()
    assert [b.indexed for b in watcher(inbox, built_index, lines).run(once=True)] == [1]


def test_sigterm_finishes_and_exits_cleanly(inbox, built_index):
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "--index", str(built_index), "index", "watch", "--no-entities",
         "--batch-seconds", "0.2", str(inbox)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        assert wait_until(lambda: any(x.startswith("surveillance de") for x in out), timeout=30)
        drop(inbox, "a.jsonl", [rec("s1", "Arrivée pendant la surveillance à Delémont.")])
        assert wait_until(lambda: any(x.startswith("lot 1 : 1 fichier") for x in out))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert out[-1] == "arrêté\n" and "arrêt demandé" in proc.stderr.read()
    assert journal_states(built_index) == ["moved"]
    assert found(built_index, "Delémont") == ["s1"]


def test_one_watcher_per_folder_and_clear_refusals(inbox, built_index, tmp_path):
    lines: list[str] = []
    w = watcher(inbox, built_index, lines)
    w._lock_folder()
    try:
        r = CliRunner().invoke(main, ["--index", str(built_index), "index", "watch", "--once", str(inbox)])
        assert r.exit_code == 2 and f"depeche: un autre `depeche index watch` (pid {os.getpid()}) surveille déjà" in r.output
    finally:
        w._unlock_folder()
    r = CliRunner().invoke(main, ["--index", str(built_index), "index", "watch", "--once", str(tmp_path / "absent")])
    assert r.exit_code == 1 and r.output == f"depeche: dossier surveillé {tmp_path / 'absent'} introuvable\n"
    r = CliRunner().invoke(main, ["--index", str(tmp_path / "pas-d-index"), "index", "watch", "--once", str(inbox)])
    assert r.exit_code == 1 and "pas encore d'index" in r.output


def test_versions_of_one_agency_item_in_one_batch_keep_the_newest(inbox, built_index):
    def version(v: int, title: str) -> dict:
        return {"id": "urn:depeche:otan-1", "title": title, "date": "2024-03-06", "chapo": f"{title}.",
                "body": "Le sommet se tient à Vilnius.", "source": "ATS",
                "agency": {"guid": "urn:depeche:otan-1", "version": v, "pub_status": "usable"}}

    drop(inbox, "v2.jsonl", [version(2, "Sommet de l'Otan : accord sur les munitions")])
    drop(inbox, "v1.jsonl", [version(1, "Sommet de l'Otan à Vilnius")])
    batches = watcher(inbox, built_index, []).run(once=True)
    assert sum(b.files for b in batches) == 2 and not (inbox / ".rejete").exists()
    doc = Engine(built_index).document("urn:depeche:otan-1")
    assert doc["title"] == "Sommet de l'Otan : accord sur les munitions"
    assert sorted(v["version"] for v in doc["versions"]) == [1, 2]


def test_a_rebuild_from_a_watched_folder_does_not_read_its_lu_and_rejete(inbox, built_index):
    drop(inbox, "a.jsonl", [rec("w1", "Les pompiers de Sion ont maîtrisé un incendie de forêt.")])
    watcher(inbox, built_index, []).run(once=True)
    assert (inbox / ".lu" / "a.jsonl").exists()
    drop(inbox, "b.jsonl", [rec("w2", "Le glacier du Rhône recule encore cet été.")])
    from search.documents import read_sources

    assert [d.id for d in read_sources([inbox])] == ["w2"]
