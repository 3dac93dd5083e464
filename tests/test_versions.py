"""Agency items' versions, corrections and kills: the version store, index add and rebuild, the engine."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from search import indexing, versions
from search.engine import Engine
from search.model import PARAGRAPH, SUBHEAD, Block, SearchRequest, Segment, plain_text

NOW = "2024-03-01T10:00:00+00:00"


def item(guid: str, version: int, *, status: str = "usable", title: str | None = None, body: str | None = None,
         embargo: str | None = None, **agency) -> dict:
    """A JSON Lines record of an agency item (the ``agency`` object documents.from_record reads)."""
    return {
        "id": guid,
        "title": title or f"Le barrage de Grande-Dixence, version {version}",
        "date": "2024-03-01",
        "chapo": "Le barrage de Grande-Dixence sera inspecté par les ingénieurs du canton.",
        "body": body or "Les travaux dureront trois semaines.\n\nLa vidange commence lundi.",
        "source": "ATS",
        "agency": {"version": version, "pub_status": status, "version_created": f"2024-03-01T1{version}:00:00+00:00",
                   "embargo": embargo, "language": "fr", **agency},
    }


def write(path: Path, *records: dict) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An index of one plain dispatch (agency items are then added)."""
    root = tmp_path / "index"
    base = write(tmp_path / "base.jsonl", {"id": "plain", "title": "Une école de Lyon ferme", "date": "2023-05",
                                           "chapo": "Une école de Lyon ferme ses portes après un incendie.",
                                           "body": "Les élèves seront accueillis ailleurs.", "source": "AFP"})
    indexing.rebuild([base], root, entities=False, procs=1, progress=False)
    return root


def add(root: Path, tmp_path: Path, name: str, *records: dict) -> indexing.BuildReport:
    return indexing.add([write(tmp_path / f"{name}.jsonl", *records)], root, entities=False)


def hits(engine: Engine, q: str, **kw):
    # Every dispatch: the items of these tests share most of their text (one story's versions).
    return engine.search(SearchRequest(q=q, per_page=100, collapse="none", **kw)).hits


def test_kill_version_and_out_of_order_sequence(root, tmp_path):
    engine = Engine(root)
    add(root, tmp_path, "v1", item("urn:ats:dixence", 1))
    assert [h.version for h in hits(engine, "Dixence")] == [1]

    add(root, tmp_path, "v3", item("urn:ats:dixence", 3, title="Grande-Dixence : inspection avancée",
                                   body="Les travaux dureront trois semaines.\n\nLa vidange commence dimanche.\n\nUn expert est attendu."))
    got = hits(engine, "Dixence")
    assert [(h.id, h.version, h.title) for h in got] == [("urn:ats:dixence", 3, "Grande-Dixence : inspection avancée")]

    # v2 arrives late: recorded, never shown over v3.
    report = add(root, tmp_path, "v2", item("urn:ats:dixence", 2, title="Version deux arrivée en retard"))
    assert report.stale == 1 and report.indexed == 0
    assert [h.version for h in hits(engine, "Dixence")] == [3]
    assert hits(engine, "retard") == []
    doc = engine.document("urn:ats:dixence")
    assert doc["status"] == "usable" and doc["title"] == "Grande-Dixence : inspection avancée"
    assert [v["version"] for v in doc["versions"]] == [1, 2, 3]
    assert doc["versions"][0]["changed"] == "première version"
    assert "titre modifié" in doc["versions"][2]["changed"]

    # The kill: out of search at once, in the same commit; the document says withdrawn.
    report = add(root, tmp_path, "kill", item("urn:ats:dixence", 4, status="canceled", title="KILL"))
    assert report.withdrawn == 1
    assert hits(engine, "Dixence") == [] and engine.search(SearchRequest(q="")).total == 1
    assert indexing.stats(root)["documents"] == 1
    gone = engine.document("urn:ats:dixence")
    assert gone["status"] == "withdrawn" and gone["pub_status"] == "canceled"
    assert gone["title"] == "Grande-Dixence : inspection avancée"  # the last one before the kill
    assert gone["withdrawn_at"] == "2024-03-01T14:00:00+00:00"
    assert [(v["version"], v["pub_status"]) for v in gone["versions"]][-1] == (4, "canceled")
    assert gone["versions"][-1]["changed"] == "retirée par l'agence"
    assert engine.related("urn:ats:dixence") == []

    # Re-adding an older version does not bring it back; a newer usable version does.
    report = add(root, tmp_path, "again", item("urn:ats:dixence", 3))
    assert report.stale == 1 and hits(engine, "Dixence") == []
    assert engine.document("urn:ats:dixence")["status"] == "withdrawn"
    add(root, tmp_path, "v5", item("urn:ats:dixence", 5, title="Grande-Dixence : l'inspection reprend"))
    assert [h.version for h in hits(engine, "Dixence")] == [5]
    doc = engine.document("urn:ats:dixence")
    assert doc["status"] == "usable" and "remise en service" in doc["versions"][-1]["changed"]
    assert indexing.stats(root)["documents"] == 2


def test_one_batch_with_several_versions_keeps_the_newest(root, tmp_path):
    report = add(root, tmp_path, "batch", item("g1", 2, title="Deuxième"), item("g1", 1, title="Première"),
                 item("g2", 1), item("g2", 2, status="withheld"))
    assert report.indexed == 1 and report.withdrawn == 1 and report.stale == 2 and not report.rejected
    engine = Engine(root)
    assert [(h.id, h.title) for h in hits(engine, "Dixence")] == [("g1", "Deuxième")]
    assert engine.document("g2")["status"] == "withdrawn"
    with versions.VersionStore(root, readonly=True) as store:
        assert [r["version"] for r in store.rows("g1")] == [1, 2]
        assert store.rows("g1")[0]["origin"].endswith("batch.jsonl:2")


def test_kill_of_an_unknown_guid_is_recorded(root, tmp_path):
    report = add(root, tmp_path, "kill", item("never-seen", 3, status="canceled"))
    assert report.withdrawn == 1 and indexing.stats(root)["documents"] == 1
    assert Engine(root).document("never-seen")["status"] == "withdrawn"
    assert Engine(root).document("unknown") is None


def test_rebuild_keeps_the_latest_version_and_respects_a_kill_received_before(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write(src / "a.jsonl", item("g1", 1, title="Première version"), item("g1", 3, title="Troisième version"))
    write(src / "b.jsonl", item("g1", 2, title="Deuxième version"), item("g2", 1, title="Dépêche sur Dixence tuée"))
    root = tmp_path / "index"
    report = indexing.rebuild([src], root, entities=False, procs=1, progress=False)
    assert report.indexed == 2 and report.stale == 2 and not report.rejected
    engine = Engine(root)
    assert {(h.id, h.title) for h in hits(engine, "Dixence")} == {("g1", "Troisième version"), ("g2", "Dépêche sur Dixence tuée")}
    assert [v["version"] for v in engine.document("g1")["versions"]] == [1, 2, 3]

    # A kill added in place, then a rebuild from the same sources: the kill still holds.
    indexing.add([write(tmp_path / "kill.jsonl", item("g2", 2, status="canceled"))], root, entities=False)
    indexing.rebuild([src], root, entities=False, procs=1, progress=False, force=True)
    assert [h.id for h in hits(engine, "Dixence")] == ["g1"]
    assert engine.document("g2")["status"] == "withdrawn"
    with versions.VersionStore(root, readonly=True) as store:
        assert [r["version"] for r in store.rows("g1")] == [1, 2, 3]  # read twice, recorded once


def test_duplicate_plain_ids_are_still_rejected(tmp_path):
    plain = {"id": "x", "chapo": "Un texte sur le barrage.", "body": "Corps."}
    src = write(tmp_path / "dup.jsonl", plain, plain, item("x", 1))
    report = indexing.rebuild([src], tmp_path / "index", entities=False, procs=1, progress=False)
    assert report.indexed == 1 and len(report.rejected) == 2


def test_embargo_hides_an_item_until_its_release(root, tmp_path, monkeypatch):
    release = "2030-01-01T08:00:00Z"
    add(root, tmp_path, "emb", item("emb", 1, title="Résultats trimestriels de Zorglub", embargo=release,
                                    slugline="Zorglub-Résultats", urgency=2))
    engine = Engine(root)
    before = indexing.release_time(release) - 60
    monkeypatch.setattr(time, "time", lambda: before)
    resp = engine.search(SearchRequest(q="Zorglub"))
    assert resp.total == 0 and resp.hits == []
    everything = engine.search(SearchRequest(q=""))
    assert everything.total == 1 and "2" not in [f.value for f in everything.facets.get("urgency", [])]
    assert "zorglub" not in [f.value.lower() for f in everything.facets.get("slugline", [])]
    assert engine.search(SearchRequest(q="", urgencies=("2",))).total == 0
    assert engine.document("emb") is None
    assert engine.related("plain") == [] or all(h.id != "emb" for h in engine.related("plain"))
    assert "zorglub" not in [w.lower() for w in engine.suggest("zorg")["terms"]]

    monkeypatch.setattr(time, "time", lambda: before + 120)
    resp = engine.search(SearchRequest(q="Zorglub"))
    assert [h.id for h in resp.hits] == ["emb"] and resp.hits[0].urgency == 2 and resp.hits[0].slugline == "Zorglub-Résultats"
    assert engine.document("emb")["embargo"] == release
    assert "Zorglub" in engine.suggest("zorg")["terms"]


def test_a_store_row_rebuilds_its_dispatch(root, tmp_path):
    add(root, tmp_path, "s", item("g", 1, subjects=[["medtop:20000763", "énergie"]], genre="Actualité"))
    with versions.VersionStore(root, readonly=True) as store:
        doc = versions.to_dispatch(store.latest("g"))
    assert doc.id == "g" and doc.agency.version == 1 and doc.agency.subjects == [("medtop:20000763", "énergie")]
    assert doc.source == "ATS" and doc.title.startswith("Le barrage")


def ninjs_item(guid: str, version: int, headline: str, html: str, status: str = "usable") -> dict:
    return {"uri": guid, "version": str(version), "versioncreated": f"2024-03-01T1{version}:00:00+00:00",
            "pubstatus": status, "language": "fr", "headlines": [{"value": headline}],
            "bodies": [{"contenttype": "text/html", "value": html}]}


def body_text(doc: dict) -> str:
    return "\n".join(plain_text(b.segments) for b in doc["body_blocks"])


def test_an_earlier_version_of_a_live_story(root, tmp_path):
    """Issue 13: the earlier versions stay reachable, from the version store, highlighted like the live one."""
    guid = "urn:ninjs:test:crue"
    bodies = {
        1: "<p>Le Rhône est sorti de son lit à Genève.</p><h2>Quais fermés</h2><p>Les quais sont fermés au public.</p>",
        2: "<p>Le Rhône est sorti de son lit à Genève.</p><p>Les habitants des quais ont été évacués.</p>",
        3: "<p>Le Rhône baisse à Genève.</p><p>La décrue est amorcée depuis ce matin.</p>",
    }
    titles = {1: "Crue du Rhône à Genève", 2: "Crue du Rhône : les quais évacués", 3: "Crue du Rhône : décrue amorcée"}
    for v in (1, 2, 3):
        path = tmp_path / f"crue-{v}.json"
        path.write_text(json.dumps(ninjs_item(guid, v, titles[v], bodies[v]), ensure_ascii=False), encoding="utf-8")
        indexing.add([path], root, entities=False)
    engine = Engine(root)

    live = engine.document(guid, "quais")
    assert live["shown_version"] == 3 and live["title"] == titles[3] and "décrue" in body_text(live)
    assert engine.document(guid, version=3) == engine.document(guid)  # asking for the live one is the live one

    v1 = engine.document(guid, "quais", version=1)
    assert v1["shown_version"] == 1 and v1["id"] == guid and v1["status"] == "usable"
    assert v1["title"] == titles[1] and "Le Rhône est sorti de son lit" in v1["lead"]
    assert Block(SUBHEAD, [Segment("Quais", True), Segment(" fermés")]) in v1["body_blocks"]
    assert Block(PARAGRAPH, [Segment("Les "), Segment("quais", True), Segment(" sont fermés au public.")]) in v1["body_blocks"]
    assert "décrue" not in body_text(v1) and "évacués" not in body_text(v1)
    assert set(v1) == set(live)  # the same shape
    assert [v["version"] for v in v1["versions"]] == [1, 2, 3] and v1["language"] == "fr"
    assert engine.document(guid, version=2)["title"] == titles[2]
    # Hits and search are untouched: the index still holds only the live version.
    assert [h.version for h in hits(engine, "Rhône")] == [3]

    assert engine.document(guid, version=9) is None  # never received
    assert engine.document("plain", version=1) is None  # not an agency item: no versions
    assert engine.document("plain")["shown_version"] is None
    assert engine.document("unknown", version=1) is None

    # Killed: every version answers the withdrawn story, never an earlier text.
    kill = tmp_path / "crue-4.json"
    kill.write_text(json.dumps(ninjs_item(guid, 4, titles[3], "", status="canceled")), encoding="utf-8")
    indexing.add([kill], root, entities=False)
    for v in (None, 1, 3, 4, 9):
        gone = engine.document(guid, "quais", version=v)
        assert gone["status"] == "withdrawn", v
        assert not {"body_blocks", "lead", "lead_segments", "shown_version"} & set(gone), v
        assert "fermés" not in json.dumps(gone, ensure_ascii=False)
