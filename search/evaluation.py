"""Known-item evaluation on the shared dev sets: MRR@10, Success@1, Success@10 per query kind.

``depeche eval --corpus orangesum`` indexes the shared corpus once (cached under
``~/.cache/depeche/eval`` or ``--workdir``; entities off), runs every query of
``eval/<corpus>_queries.tsv`` through the default search (``Engine.search`` with a plain
``SearchRequest``, exactly what the web page does) and scores the top 10 against the TREC
judgments. Anchor: Lucene 8 FrenchAnalyzer + BM25 with an OR query.

Tuning protocol: each dev set is cut in two halves by position in its queries file (A: the
even-indexed lines, B: the odd ones); ranking changes are tuned on half A and half B is reported
beside it (``by_half``).
"""
from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .analysis import SCHEMA_VERSION
from .model import SearchRequest

CORPORA = {
    "orangesum": ("corpus/orangesum.jsonl.gz", "eval/orangesum_queries.tsv", "eval/orangesum_qrels.txt"),
    "piaf": ("corpus/piaf_passages.jsonl.gz", "eval/piaf_queries.tsv", "eval/piaf_qrels.txt"),
}
# Lucene 8 FrenchAnalyzer + BM25, OR query (shared/anchors/run_anchors.sh): MRR@10 per kind.
LUCENE = {
    "orangesum": {"title": 0.743, "keywords": 0.592, "accentless": 0.731, "all": 0.689},
    "piaf": {"question": 0.788, "all": 0.788},
}
TARGET_GAIN = 1.05


def shared_dir(path: str | os.PathLike | None = None) -> Path:
    """The shared material: the argument, $DEPECHE_SHARED, else ../shared beside the repository."""
    if path:
        return Path(path)
    if os.environ.get("DEPECHE_SHARED"):
        return Path(os.environ["DEPECHE_SHARED"])
    return Path(__file__).resolve().parent.parent.parent / "shared"


def work_dir(path: str | os.PathLike | None = None) -> Path:
    if path:
        return Path(path)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "depeche" / "eval"


def load_queries(path: Path) -> list[tuple[str, str, str]]:
    """(qid, kind, text) rows of a queries TSV."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            qid, kind, text = line.split("\t", 2)
            out.append((qid, kind, text))
    return out


def load_qrels(path: Path) -> dict[str, set[str]]:
    """Relevant document ids per query (grade > 0) from a TREC qrels file."""
    rel: dict[str, set[str]] = defaultdict(set)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 4 and int(parts[3]) > 0:
                rel[parts[0]].add(parts[2])
    return rel


@dataclass
class Score:
    n: int
    mrr: float
    s1: float
    s10: float


def score(run: dict[str, list[str]], qrels: dict[str, set[str]], queries) -> dict[str, Score]:
    """MRR@10, Success@1, Success@10 per query kind and over all ("all")."""
    kinds: dict[str, list[str]] = defaultdict(list)
    for qid, kind, _ in queries:
        if qid in qrels:
            kinds[kind].append(qid)
    kinds["all"] = [q for qs in list(kinds.values()) for q in qs]
    out = {}
    for kind, qids in kinds.items():
        mrr = s1 = s10 = 0.0
        for q in qids:
            ranked = run.get(q, [])[:10]
            hit = next((i for i, d in enumerate(ranked) if d in qrels[q]), None)
            if hit is not None:
                mrr += 1 / (hit + 1)
                s1 += hit == 0
                s10 += 1
        n = len(qids) or 1
        out[kind] = Score(len(qids), mrr / n, s1 / n, s10 / n)
    return out


HALVES = ("A", "B")


def half(queries: list, name: str) -> list:
    """The queries of one half of a dev set: A the even-indexed rows of its file, B the odd ones."""
    return queries[HALVES.index(name)::2]


def by_half(run: dict[str, list[str]], qrels: dict[str, set[str]], queries) -> dict[str, Score]:
    """Scores over all kinds of each half (A: tuned on, B: held out)."""
    return {name: score(run, qrels, half(queries, name))["all"] for name in HALVES}


def ensure_index(corpus: str, shared: Path, workdir: Path, progress: bool = True) -> Path:
    """The index of a shared corpus, built once (entities off) and reused while the corpus,
    the analyzer and the index format are unchanged."""
    from . import indexing

    src = shared / CORPORA[corpus][0]
    if not src.exists():
        raise FileNotFoundError(f"{src} not found: give --shared or set DEPECHE_SHARED")
    root = workdir / corpus
    st = src.stat()
    stamp = {"source": str(src), "size": st.st_size, "mtime": int(st.st_mtime), "schema_version": SCHEMA_VERSION}
    stamp_file = root / "eval-source.json"
    try:
        if json.loads(stamp_file.read_text()) == stamp and (root / indexing.CURRENT).exists():
            indexing.open_generation(root)  # still readable with this analyzer
            return root
    except (OSError, ValueError, indexing.IndexError_):
        pass
    root.mkdir(parents=True, exist_ok=True)
    # The cache follows its source file, whatever the size of what it held before.
    indexing.rebuild([src], root, entities=False, procs=2, progress=progress, force=True)
    stamp_file.write_text(json.dumps(stamp))
    return root


def run_queries(engine, queries, depth: int = 10) -> tuple[dict[str, list[str]], list[float]]:
    """Ranked ids per query through the default search, every version listed, and the time of
    each search (ms)."""
    run: dict[str, list[str]] = {}
    times = []
    for qid, _, text in queries:
        t0 = time.perf_counter()
        # The judgments name one dispatch: collapsed by story (the page's default) a version of it
        # ranked higher would stand in for it and count as a miss, so the ranking is measured whole.
        # No time budget: the figures must not depend on how loaded the machine is (a budget cut
        # short skips the re-ranking).
        resp = engine.search(SearchRequest(q=text[:1000], per_page=depth, highlight=False, collapse="none", time_budget_ms=None))
        times.append((time.perf_counter() - t0) * 1000)
        run[qid] = [h.id for h in resp.hits]
    return run, times


def write_trec(run: dict[str, list[str]], path: Path, tag: str = "depeche") -> None:
    with open(path, "w", encoding="utf-8") as out:
        for qid, ids in run.items():
            for i, did in enumerate(ids):
                out.write(f"{qid} Q0 {did} {i + 1} {len(ids) - i} {tag}\n")


def evaluate(corpus: str, shared: Path, workdir: Path, params=None, progress: bool = True):
    """(scores per kind, search times) of the default search on one shared corpus."""
    from .engine import Engine

    root = ensure_index(corpus, shared, workdir, progress)
    _, qfile, rfile = CORPORA[corpus]
    queries = load_queries(shared / qfile)
    qrels = load_qrels(shared / rfile)
    engine = Engine(root, params=params)
    # Every query gets the same chance of a spelling correction: wait for the speller the
    # generation builds in the background instead of racing it.
    engine.snapshot().speller()
    run, times = run_queries(engine, queries)
    return score(run, qrels, queries), times, run


def report(corpus: str, scores: dict[str, Score], halves: dict[str, Score] | None = None) -> list[str]:
    """Lines comparing each kind with the Lucene anchor and the +5 % target, then each half's."""
    lines = []
    anchor = LUCENE.get(corpus, {})
    order = sorted(k for k in scores if k != "all") + ["all"]
    for kind in order:
        s = scores[kind]
        a = anchor.get(kind)
        extra = ""
        if a is not None:
            target = a * TARGET_GAIN
            extra = f"  Lucene {a:.3f}  target {target:.3f}  {'ok' if s.mrr >= target - 1e-9 else 'BELOW'} ({(s.mrr / a - 1) * 100:+.1f} %)"
        lines.append(f"{corpus:10s} {kind:11s} n={s.n:5d}  MRR@10={s.mrr:.3f}  S@1={s.s1:.3f}  S@10={s.s10:.3f}{extra}")
    for name, s in (halves or {}).items():
        lines.append(f"{corpus:10s} {'half ' + name:11s} n={s.n:5d}  MRR@10={s.mrr:.3f}  S@1={s.s1:.3f}  S@10={s.s10:.3f}")
    return lines
