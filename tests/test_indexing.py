"""The index: schema, atomic generations, the writer lock, add/update/delete, version check."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from search import indexing
from search.analysis import SCHEMA_VERSION, terms
from search.engine import Engine


class Term:
    """Documents whose ``field`` holds ``term``, read from the index's postings."""

    def __init__(self, field, term):
        self.field, self.term = field, term

    def docs(self, snap) -> set[int]:
        return set(snap.term(self.term).fields[self.field].ids.tolist())


class And:
    def __init__(self, parts):
        self.parts = parts

    def docs(self, snap) -> set[int]:
        return set.intersection(*(p.docs(snap) for p in self.parts))


class Phrase:
    """Documents whose ``field`` holds the terms at consecutive positions."""

    def __init__(self, field, words):
        self.field, self.words = field, words

    def docs(self, snap) -> set[int]:
        found = set()
        postings = [snap.term(w).fields[self.field] for w in self.words]
        for doc in And([Term(self.field, w) for w in self.words]).docs(snap):
            starts = set(postings[0].positions(doc))
            for k, p in enumerate(postings[1:], 1):
                starts &= {x - k for x in p.positions(doc)}
            if starts:
                found.add(doc)
        return found


def ids_matching(root, query) -> set[str]:
    snap = Engine(root).snapshot()
    return {snap.stored(d)["id"] for d in query.docs(snap)}


def term_query(field, word):
    (t,) = terms(word)
    return Term(field, t)


def test_rebuild_indexes_every_document(built_index):
    st = indexing.stats(built_index)
    assert st["documents"] == 7 and st["generation"] == 1 and st["schema_version"] == SCHEMA_VERSION
    assert (built_index / "current").is_symlink()


def test_french_forms_match_in_the_index(built_index):
    assert "ats_otan" in ids_matching(built_index, term_query("lead", "alliance"))
    assert "ats_otan" in ids_matching(built_index, And([term_query("body", "etats"), term_query("body", "unis")]))
    assert "afp_ecole" in ids_matching(built_index, term_query("lead", "Ecole"))
    assert "reuters_coeur" in ids_matching(built_index, term_query("lead", "coeur"))
    assert "ats_est" in ids_matching(built_index, term_query("lead", "est"))


def test_phrase_pays_bas_needs_adjacent_words(tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    (d / "near.txt").write_text("date 2023-01 Les Pays-Bas votent.\n\n/ATS")
    (d / "far.txt").write_text("date 2023-01 Le bas du pays est inondé, disent les gens du pays.\n\n/ATS")
    root = tmp_path / "ix"
    indexing.rebuild([d], root, entities=False, procs=1, progress=False)
    assert ids_matching(root, Phrase("lead", terms("Pays-Bas"))) == {"near"}
    assert ids_matching(root, And([Term("lead", t) for t in terms("pays bas")])) == {"near", "far"}


def test_stored_fields_keep_display_values(built_index):
    ix, gen, _ = indexing.open_generation(built_index)
    with ix.searcher() as s:
        seed = s.document(id="000_46166f39458f7f75")
        j1 = s.document(id="j1")
    assert seed["meta"]["source"] == "ATS" and seed["meta"]["title_derived"] is True
    assert seed["title"].startswith("Le secrétaire général")
    assert j1["title"] == "Contre-offensive ukrainienne dans le Donbass"
    assert j1["people"] == ["volodymyr zelensky"] and j1["places"] == ["ukraine", "bakhmout"]
    forms = json.loads((gen / indexing.ENTITIES_FILE).read_text())
    assert forms["places"]["pays bas"] == {"Pays-Bas": 1}


def test_title_derived_from_lead_is_not_indexed_as_title(built_index):
    assert ids_matching(built_index, term_query("title", "relance")) == set()
    assert "j2" in ids_matching(built_index, term_query("lead", "relance"))


def test_opening_of_a_dispatch_without_title_or_lead_is_indexed_as_its_lead(tmp_path):
    src = tmp_path / "src.jsonl"
    rows = [
        {"id": "sans-chapo", "chapo": "", "body": "Le volcan Etna est entré en éruption dimanche. Les vols sont suspendus."},
        {"id": "date-chapo", "chapo": "6 mars", "body": "La berline électrique arrive en concession. Son prix baisse."},
        {"id": "avec-titre", "title": "Etna : les vols reprennent", "body": "Le volcan s'est calmé. Les avions décollent."},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    root = tmp_path / "ix"
    indexing.rebuild([src], root, entities=False, procs=1, progress=False)
    assert ids_matching(root, term_query("lead", "éruption")) == {"sans-chapo"}
    assert ids_matching(root, term_query("lead", "suspendus")) == set()  # second sentence: body only
    assert ids_matching(root, term_query("lead", "berline")) == {"date-chapo"}
    assert ids_matching(root, term_query("lead", "calmé")) == set()  # a titled dispatch keeps its own lead
    ix, _, _ = indexing.open_generation(root)
    with ix.searcher() as s:
        stored = s.document(id="date-chapo")
    assert stored["lead"] == "6 mars"  # what is shown is the dispatch's own text
    assert stored["title"] == "La berline électrique arrive en concession"


def test_rebuild_swaps_generations_and_keeps_three_old(built_index, corpus_dir):
    assert indexing.KEEP_OLD_GENERATIONS == 3
    for _ in range(4):
        indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
    gens = sorted(p.name for p in built_index.glob("gen-*"))
    assert gens == ["gen-000002", "gen-000003", "gen-000004", "gen-000005"]
    assert os.readlink(built_index / "current") == "gen-000005"


def test_crash_mid_build_leaves_old_index_serving(built_index, corpus_dir, monkeypatch):
    calls = {"n": 0}
    real = indexing.to_fields

    def boom(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(*a, **k)

    monkeypatch.setattr(indexing, "to_fields", boom)
    with pytest.raises(RuntimeError):
        indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
    assert indexing.stats(built_index)["generation"] == 1
    assert not list(built_index.glob("*.tmp-*"))
    monkeypatch.setattr(indexing, "to_fields", real)
    assert indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False).generation == 2


def test_second_writer_is_refused(built_index, corpus_dir):
    with indexing.writer_lock(built_index):
        with pytest.raises(indexing.IndexLocked, match="un autre processus Dépêche"):
            indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
        with pytest.raises(indexing.IndexLocked):
            indexing.delete(["j1"], built_index)
    assert indexing.stats(built_index)["documents"] == 7


def test_index_built_with_another_analyzer_is_refused(built_index):
    gen = indexing.current_generation(built_index)
    meta = json.loads((gen / indexing.META_FILE).read_text())
    meta["schema_version"] = "fr-0"
    (gen / indexing.META_FILE).write_text(json.dumps(meta))
    with pytest.raises(indexing.IndexVersionMismatch, match="depeche index rebuild"):
        indexing.open_generation(built_index)


def test_missing_index_says_how_to_build_it(tmp_path):
    with pytest.raises(indexing.IndexMissing, match="depeche index rebuild"):
        indexing.open_generation(tmp_path / "nothing")


def test_add_updates_and_delete(built_index, tmp_path):
    src = tmp_path / "new.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": "j1", "title": "Titre corrigé", "date": "2023-06-21", "body": "Le texte mis à jour parle de blindés."},
        {"id": "n1", "date": "2023-07-01", "body": "Une nouvelle dépêche sur les drones."},
    ]) + "\n")
    report = indexing.add([src], built_index, entities=False)
    assert report.indexed == 2
    assert indexing.stats(built_index)["documents"] == 8
    assert ids_matching(built_index, term_query("body", "blindés")) == {"j1"}
    assert ids_matching(built_index, term_query("body", "Bakhmout")) == set()  # old version gone
    deleted, missing = indexing.delete(["n1", "absent"], built_index)
    assert deleted == ["n1"] and missing == ["absent"]
    assert indexing.stats(built_index)["documents"] == 7


def test_strict_rebuild_fails_and_keeps_live_index(built_index, corpus_dir):
    (corpus_dir / "bad.jsonl").write_text('{"id": "x", "body": \n')
    with pytest.raises(indexing.StrictFailure):
        indexing.rebuild([corpus_dir], built_index, entities=False, strict=True, procs=1, progress=False)
    assert indexing.stats(built_index)["generation"] == 1
    report = indexing.rebuild([corpus_dir], built_index, entities=False, procs=1, progress=False)
    assert report.indexed == 7 and len(report.rejected) == 1


def test_parallel_build_gives_same_documents(tmp_path, corpus_dir):
    root = tmp_path / "mp"
    indexing.rebuild([corpus_dir], root, entities=False, procs=2, progress=False)
    assert indexing.stats(root)["documents"] == 7
    assert "ats_otan" in ids_matching(root, term_query("lead", "munitions"))


def test_a_rebuild_in_batches_answers_as_one_built_at_once(tmp_path, corpus_dir, monkeypatch):
    from whoosh import index as whoosh_index

    from search.model import SearchRequest

    queries = ["munitions", "Pays-Bas", "\"sommet de Vilnius\"", "réac*", "lyon OR bruxelles", "coeur"]
    one = tmp_path / "one"
    indexing.rebuild([corpus_dir], one, entities=False, procs=2, progress=False)
    monkeypatch.setattr(indexing, "BATCH_DOCS", 2)
    batched = tmp_path / "batched"
    indexing.rebuild([corpus_dir], batched, entities=False, procs=2, progress=False)
    with whoosh_index.open_dir(str(indexing.current_generation(batched))).reader() as r:
        assert len(list(r.leaf_readers())) >= 4  # each batch committed apart, never merged
    for q in queries:
        a = Engine(one).search(SearchRequest(q=q, time_budget_ms=60_000))
        b = Engine(batched).search(SearchRequest(q=q, time_budget_ms=60_000))
        assert not a.partial and not b.partial
        assert [(h.id, round(h.score, 5)) for h in b.hits] == [(h.id, round(h.score, 5)) for h in a.hits], q
        assert b.total == a.total


def test_an_item_not_in_french_is_indexed_unstemmed_and_stored_unmarked(tmp_path):
    src = tmp_path / "items.jsonl"
    rows = [
        {"id": "en", "title": "The elections", "chapo": "Voters went to the polls.", "body": "The results are awaited.",
         "agency": {"language": "en-US", "version": 2}},
        {"id": "fr", "title": "Les élections", "chapo": "Les électeurs ont voté.", "body": "Les résultats sont attendus.",
         "agency": {"language": "fr"}},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    root = tmp_path / "ix"
    indexing.rebuild([src], root, entities=False, procs=1, progress=False)
    assert ids_matching(root, Term("title", "elections")) == {"en"}  # folded, not stemmed
    assert ids_matching(root, Term("body", "the")) == {"en"}  # no stop list
    assert ids_matching(root, term_query("title", "élections")) == {"fr"}  # French stem "elect"
    ix, _, _ = indexing.open_generation(root)
    with ix.searcher() as s:
        en = s.document(id="en")
        assert en["body"] == "The results are awaited." and en["title"] == "The elections"
        assert en["meta"]["agency"]["language"] == "en" and en["meta"]["agency"]["version"] == 2
