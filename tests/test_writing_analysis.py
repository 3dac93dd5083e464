"""The writer's analysis of each dispatch: the same in analysing processes as in the writer's own,
and a process dying there fails the build without touching the live index."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from search import indexing, stories, writing_analysis
from search.documents import read_sources
from search.engine import Engine
from search.model import SearchRequest

from corpus import SEARCH_RECORDS, STORY_RECORDS, write_corpus


def _dispatches(tmp_path: Path) -> list:
    records = [*SEARCH_RECORDS, *STORY_RECORDS, {"id": "sans-titre", "chapo": "", "body": "Une dépêche sans titre ni chapô. Elle parle de l'O.N.U."}]
    folder = write_corpus(tmp_path / "src", records)
    return [d for d in read_sources([folder]) if not hasattr(d, "line")]


def _run(docs: list, procs: int) -> tuple[list, Counter]:
    words: Counter = Counter()
    got = list(writing_analysis.analysed(((d, [], []) for d in docs), indexing.to_fields, procs, words))
    return got, words


def test_analysing_processes_give_what_the_writer_computes_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(writing_analysis, "CHUNK", 3)  # several chunks in flight, one left short
    docs = _dispatches(tmp_path)
    assert len(docs) > 3 * writing_analysis.CHUNK + 1
    alone, words_alone = _run(docs, 1)
    pooled, words_pooled = _run(docs, 2)
    assert [item[0].id for item in pooled] == [d.id for d in docs]
    # Folded for the spelling table (« Incendie » and « incendie » one word), whatever the processes.
    assert words_pooled == words_alone and words_alone["incendie"] > 0 and "Incendie" not in words_alone
    for (doc, _, _, a), (_, _, _, b) in zip(alone, pooled):
        assert a.terms == b.terms and a.title == b.title and np.array_equal(a.signature, b.signature), doc.id
        # The story's signature and headline are those of the text shown, as stories.assign reads it.
        assert np.array_equal(a.signature, stories.signature(stories.story_text(doc.title, doc.lead, doc.body)))
        assert a.title == stories.title_key(doc.title)


def test_a_rebuild_through_analysing_processes_groups_and_finds_as_one_without(tmp_path, monkeypatch):
    monkeypatch.setattr(writing_analysis, "CHUNK", 2)
    src = write_corpus(tmp_path / "src", [*SEARCH_RECORDS, *STORY_RECORDS])
    answers = []
    for procs in (1, 2):
        root = tmp_path / f"ix{procs}"
        indexing.rebuild([src], root, entities=False, procs=procs, progress=False)
        engine = Engine(root)
        resp = engine.search(SearchRequest(q="incendie Maures munitions", per_page=50, collapse="none"))
        answers.append(sorted((h.id, h.story, round(h.score, 4)) for h in resp.hits))
    assert answers[0] == answers[1] and len({story for _, story, _ in answers[0]}) < len(answers[0])


def test_an_analysing_process_that_dies_fails_the_rebuild_and_the_live_index_stays(built_index, tmp_path, monkeypatch):
    monkeypatch.setattr(writing_analysis, "CHUNK", 2)
    monkeypatch.setattr(writing_analysis, "analyse", lambda doc, fields: os._exit(3))  # in the forked processes
    src = write_corpus(tmp_path / "src", [*SEARCH_RECORDS, *STORY_RECORDS])
    before = indexing.stats(built_index)
    with pytest.raises(indexing.BuildFailure, match=r"un processus d'indexation s'est arrêté en cours de route \(l'analyse des textes\) : "
                                                    "l'index en service n'a pas été modifié"):
        indexing.rebuild([src], built_index, entities=False, procs=2, progress=False, force=True)
    assert indexing.stats(built_index) == before
    assert not list(built_index.glob("*.tmp-*"))
    assert Engine(built_index).search(SearchRequest(q="munitions")).total > 0
