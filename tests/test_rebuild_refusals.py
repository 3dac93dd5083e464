"""No command empties or loses the live index: refused rebuilds, checked counts, rollback, a damaged `current`, system errors."""
from __future__ import annotations

import errno
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import cli, generations, indexing, stories
from search.documents import Dispatch


def run(*args):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def live(root: Path) -> tuple[str, int]:
    """What readers see: the generation `current` names and its document count."""
    return os.readlink(root / "current"), indexing.stats(root)["documents"]


def write_jsonl(path: Path, ids) -> Path:
    path.write_text("".join(json.dumps({"id": i, "body": f"Dépêche {i} sur les munitions."}) + "\n" for i in ids))
    return path


def test_rebuild_from_a_misspelt_source_is_refused(built_index, tmp_path):
    typo = tmp_path / "typo.jsnl"
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(typo))
    assert r.exit_code == 1
    assert r.stderr == f"depeche: source introuvable : {typo} ; l'index en service n'a pas été modifié\n"
    assert live(built_index) == ("gen-000001", 7)


def test_rebuild_without_one_valid_document_is_refused(built_index, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n{"id": "cut", "bo\n')
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(bad))
    assert r.exit_code == 1
    assert r.stderr.endswith("depeche: aucune dépêche valide dans les sources : l'index en service n'a pas été modifié\n")
    assert live(built_index) == ("gen-000001", 7)
    assert not list(built_index.glob("gen-*.tmp-*"))


def test_rebuild_that_would_halve_the_index_needs_force(built_index, tmp_path):
    small = write_jsonl(tmp_path / "small.jsonl", ["a", "b", "c"])
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(small))
    assert r.exit_code == 1
    assert r.stderr == ("depeche: la nouvelle génération n'aurait que 3 documents contre 7 en service (moins de la moitié) : "
                        "refusé, l'index en service n'a pas été modifié ; --force pour la mettre en service quand même\n")
    assert live(built_index) == ("gen-000001", 7)
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", "--force", str(small))
    assert r.exit_code == 0 and live(built_index) == ("gen-000002", 3)


def test_default_sources_are_the_checkouts_seeds_whatever_the_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no seeds/ here
    r = run("--index", str(tmp_path / "ix"), "index", "rebuild", "--no-entities")
    assert r.exit_code == 0, r.stderr
    assert indexing.stats(tmp_path / "ix")["documents"] == 1


def test_default_sources_missing_is_refused(built_index, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "SEEDS_DIR", tmp_path / "absent")
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities")
    assert r.exit_code == 1
    assert r.stderr == (f"depeche: aucune source donnée, et pas de dossier {tmp_path / 'absent'}/ à côté du paquet : "
                        "nommez les fichiers ou dossiers à indexer ; l'index en service n'a pas été modifié\n")
    assert live(built_index) == ("gen-000001", 7)


def test_a_lost_indexing_process_fails_the_rebuild(built_index, corpus_dir, monkeypatch):
    # A record the worker process cannot encode kills it, as a lone surrogate in an id did.
    real = indexing.read_sources

    def with_poison(sources):
        yield from real(sources)
        for i in range(150):
            yield Dispatch(id=f"poison-{i}-\ud83d", lead="", body="texte")

    monkeypatch.setattr(indexing, "read_sources", with_poison)
    with pytest.raises(indexing.BuildFailure, match="un processus d'indexation"):
        indexing.rebuild([corpus_dir], built_index, entities=False, procs=2, progress=False)
    assert live(built_index) == ("gen-000001", 7)
    assert not list(built_index.glob("gen-*.tmp-*"))


def test_add_checks_the_count_it_committed(built_index, tmp_path, monkeypatch):
    from whoosh.writing import SegmentWriter

    real = SegmentWriter.update_document

    def loses_one(self, **fields):
        if fields["id"] != "lost":
            real(self, **fields)

    monkeypatch.setattr(SegmentWriter, "update_document", loses_one)
    src = write_jsonl(tmp_path / "new.jsonl", ["j1", "lost", "n2"])  # j1 replaces, two are new
    with pytest.raises(indexing.BuildFailure, match="contient 8 documents au lieu de 9"):
        indexing.add([src], built_index, entities=False)


def test_add_reports_what_it_replaced(built_index, tmp_path):
    src = write_jsonl(tmp_path / "new.jsonl", ["j1", "n2"])
    r = run("--index", str(built_index), "index", "add", "--no-entities", str(src))
    assert r.exit_code == 0
    assert r.stdout.startswith("ajout : 2 dépêches lues, 2 indexées (dont 1 remplacée), 0 rejetée en ")
    assert indexing.stats(built_index)["documents"] == 8


def three_generations(root: Path, corpus_dir: Path, tmp_path: Path) -> None:
    """Generations 1 (7 documents), 2 (8) and 3 (9), the last one live."""
    for extra in (["g2"], ["g2", "g3"]):
        write_jsonl(corpus_dir / "more.jsonl", extra)
        indexing.rebuild([corpus_dir], root, entities=False, procs=1, progress=False)


def test_generations_lists_what_rollback_can_use(built_index, corpus_dir, tmp_path):
    three_generations(built_index, corpus_dir, tmp_path)
    r = run("--index", str(built_index), "index", "generations", "--json")
    assert r.exit_code == 0
    listed = [(g["generation"], g["documents"], g["schema_version"], g["finished"], g["live"]) for g in json.loads(r.stdout)]
    v = indexing.SCHEMA_VERSION
    assert listed == [(1, 7, v, True, False), (2, 8, v, True, False), (3, 9, v, True, True)]
    lines = run("--index", str(built_index), "index", "generations").stdout.splitlines()
    assert lines[0].split() == ["génération", "construite", "le", "documents", "analyseur", "état"]
    assert lines[3].split()[0] == "3" and lines[3].endswith(f"9  {v}  en service".replace(f"  {v}", f"  {v:9}"))


def test_rollback_makes_the_previous_generation_live_for_readers(built_index, corpus_dir, tmp_path):
    from search.engine import Engine
    from search.model import SearchRequest

    three_generations(built_index, corpus_dir, tmp_path)
    engine = Engine(built_index)

    def ids():
        return {h.id for h in engine.search(SearchRequest(q="g3", per_page=100)).hits}

    assert "g3" in ids()
    r = run("--index", str(built_index), "index", "rollback")
    assert (r.exit_code, r.stdout) == (0, "génération 2 en service (au lieu de la génération 3)\n")
    assert live(built_index) == ("gen-000002", 8)
    assert "g3" not in ids()  # the same engine follows the symlink
    r = run("--index", str(built_index), "index", "rollback", "1")
    assert r.exit_code == 0 and live(built_index) == ("gen-000001", 7)
    # The next rebuild gets a new number, and the rolled-over generations are still kept.
    indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
    assert sorted(p.name for p in built_index.glob("gen-*")) == [f"gen-00000{i}" for i in (1, 2, 3, 4)]


def test_rollback_refuses_what_it_cannot_serve(built_index, corpus_dir, tmp_path):
    three_generations(built_index, corpus_dir, tmp_path)
    meta = json.loads((built_index / "gen-000002" / "depeche.json").read_text())
    (built_index / "gen-000002" / "depeche.json").write_text(json.dumps({**meta, "schema_version": "fr-0"}))
    (built_index / "gen-000001" / "depeche.json").unlink()
    cases = {
        "2": f"la génération 2 a été construite avec l'analyseur 'fr-0', cette version de Dépêche utilise {indexing.SCHEMA_VERSION!r}",
        "1": "la génération 1 est inachevée (sa construction n'est pas allée au bout)",
        "3": "la génération 3 est déjà en service",
        "9": f"pas de génération 9 dans {built_index}/ (générations gardées : 1, 2, 3)",
    }
    for arg, message in cases.items():
        r = run("--index", str(built_index), "index", "rollback", arg)
        assert (r.exit_code, r.stderr) == (1, f"depeche: {message}\n")
    assert live(built_index) == ("gen-000003", 9)


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_rebuild_repairs_a_current_that_is_not_a_symlink(built_index, corpus_dir, kind):
    link = built_index / "current"
    link.unlink()
    if kind == "directory":
        shutil.copytree(built_index / "gen-000001", link)  # someone copied a generation by hand
    else:
        link.write_text("gen-000001")
    r = run("--index", str(built_index), "index", "stats")
    what = "un dossier" if kind == "directory" else "un fichier ordinaire"
    assert r.exit_code == 1 and r.stderr.startswith(f"depeche: {link} est {what} et non un lien vers une génération : ")
    r = run("--index", str(built_index), "search", "munitions")
    assert r.exit_code == 1 and r.stderr.startswith(f"depeche: {link} est {what}")
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 0, r.stderr
    assert live(built_index) == ("gen-000002", 7)
    moved = list(built_index.glob("current.moved-*"))
    if kind == "directory":
        assert len(moved) == 1 and (moved[0] / "depeche.json").exists()
        assert r.stderr.endswith(f"depeche: current était un dossier et non un lien : mis de côté sous {moved[0]}\n")
    else:
        assert moved == []


def test_full_disk_gives_one_line_and_keeps_the_live_index(built_index, corpus_dir, monkeypatch):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(indexing, "_write_json", full)
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 1
    tmp = r.stderr.split("erreur système sur ")[1].split(" : ")[0]
    assert Path(tmp).name == "entities.json" and ".tmp-" in Path(tmp).parent.name
    assert r.stderr == (f"depeche: erreur système sur {tmp} : plus de place sur le disque (ENOSPC) ; "
                        "l'index en service n'a pas été modifié\n")
    assert live(built_index) == ("gen-000001", 7)
    assert not list(built_index.glob("gen-*.tmp-*"))


def test_refused_write_on_any_command_is_one_line(built_index, tmp_path, monkeypatch):
    def denied(path, data):
        raise OSError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(indexing, "_write_json", denied)
    r = run("--index", str(built_index), "index", "delete", "j1")
    assert r.exit_code == 1
    assert r.stderr == f"depeche: erreur système sur {built_index / 'gen-000001' / 'depeche.json'} : permission refusée (EACCES)\n"


def test_a_story_index_that_cannot_be_written_fails_the_rebuild_and_keeps_the_live_index(built_index, corpus_dir,
                                                                                         monkeypatch):
    def full(self):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(stories.StoryIndex, "commit", full)
    r = run("--index", str(built_index), "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 1
    assert r.stderr.startswith("depeche: erreur système sur ") and "stories.sqlite" in r.stderr
    assert r.stderr.endswith("plus de place sur le disque (ENOSPC) ; l'index en service n'a pas été modifié\n")
    assert live(built_index) == ("gen-000001", 7)
    assert not list(built_index.glob("gen-*.tmp-*"))


def test_a_rebuild_failing_while_its_stories_are_written_waits_for_them_before_cleaning_up(built_index, corpus_dir,
                                                                                          monkeypatch):
    real = stories.StoryIndex.commit
    finished = []

    def slow(self):
        time.sleep(0.5)
        real(self)
        finished.append(self.path.exists())

    def damaged(gen):
        raise indexing.BuildFailure("mise en page impossible")

    monkeypatch.setattr(stories.StoryIndex, "commit", slow)
    monkeypatch.setattr(indexing, "_lay_out_postings", damaged)
    with pytest.raises(indexing.BuildFailure, match="mise en page"):
        indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
    assert finished == [True]  # written to the end, then removed with the new generation
    assert live(built_index) == ("gen-000001", 7)
    assert not list(built_index.glob("gen-*.tmp-*"))
