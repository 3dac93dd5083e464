"""Evaluation: the known-item metrics, and the cached evaluation index on a small fake shared folder."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from search import evaluation, indexing

from corpus import SEARCH_RECORDS


def test_metrics():
    queries = [("a", "x", ""), ("b", "x", ""), ("c", "y", ""), ("d", "y", "")]
    qrels = {"a": {"1"}, "b": {"2"}, "c": {"3"}, "d": {"4"}}
    run = {"a": ["1", "9"], "b": ["9", "2"], "c": ["9"] * 10 + ["3"], "d": []}
    s = evaluation.score(run, qrels, queries)
    assert s["x"].mrr == pytest.approx(0.75) and s["x"].s1 == 0.5 and s["x"].s10 == 1.0
    assert s["y"].mrr == 0 and s["y"].s10 == 0  # rank 11 does not count
    assert s["all"].n == 4 and s["all"].mrr == pytest.approx(0.375)


def test_halves_alternate_in_file_order():
    queries = [("a", "x", ""), ("b", "x", ""), ("c", "y", ""), ("d", "y", ""), ("e", "y", "")]
    assert [q[0] for q in evaluation.half(queries, "A")] == ["a", "c", "e"]
    assert [q[0] for q in evaluation.half(queries, "B")] == ["b", "d"]
    qrels = {"a": {"1"}, "b": {"2"}, "c": {"3"}, "d": {"4"}, "e": {"5"}}
    run = {"a": ["1"], "b": ["9", "2"], "c": ["9"], "d": ["4"], "e": ["5"]}
    h = evaluation.by_half(run, qrels, queries)
    assert h["A"].n == 3 and h["A"].mrr == pytest.approx(2 / 3)
    assert h["B"].n == 2 and h["B"].mrr == pytest.approx(0.75)
    lines = evaluation.report("piaf", evaluation.score(run, qrels, queries), h)
    assert lines[-2].startswith("piaf       half A      n=    3  MRR@10=0.667")
    assert lines[-1].startswith("piaf       half B      n=    2  MRR@10=0.750")


def test_evaluate_on_a_fake_shared_folder_and_cache(tmp_path, fake_shared):
    shared = fake_shared
    work = tmp_path / "work"
    scores, times, run = evaluation.evaluate("orangesum", shared, work, progress=False)
    assert scores["title"].n == 2 and scores["title"].mrr == pytest.approx(0.5)
    assert scores["keywords"].mrr == 1.0 and scores["accentless"].mrr == 1.0
    assert len(times) == 4 and run["T1"][0] == "geneve-sommet"
    lines = evaluation.report("orangesum", scores)
    assert any("Lucene 0.743" in line and "title" in line for line in lines)
    # The index is reused while the corpus is unchanged, rebuilt when it changes.
    gen = indexing.current_generation(work / "orangesum")
    evaluation.ensure_index("orangesum", shared, work, progress=False)
    assert indexing.current_generation(work / "orangesum") == gen
    corpus = shared / "corpus" / "orangesum.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps(SEARCH_RECORDS[0], ensure_ascii=False) + "\n")
    evaluation.ensure_index("orangesum", shared, work, progress=False)
    assert indexing.current_generation(work / "orangesum") != gen


def test_trec_run_file(tmp_path):
    path = tmp_path / "run.txt"
    evaluation.write_trec({"q1": ["d1", "d2"]}, path)
    assert path.read_text().splitlines() == ["q1 Q0 d1 1 2 depeche", "q1 Q0 d2 2 1 depeche"]


def test_missing_shared_corpus(tmp_path):
    with pytest.raises(FileNotFoundError):
        evaluation.ensure_index("piaf", tmp_path, tmp_path / "w", progress=False)


def test_shared_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("DEPECHE_SHARED", raising=False)
    assert evaluation.shared_dir().name == "shared"
    monkeypatch.setenv("DEPECHE_SHARED", str(tmp_path))
    assert evaluation.shared_dir() == tmp_path
    assert evaluation.shared_dir("/x") == Path("/x")
