"""Search latency on the OrangeSum index: every dev query, full response, one process.

Each search is what the web page asks for: top 10 with highlighted titles and snippets, the
total, and the people/places/sources/dates facets. The index is built once (entities off,
cached like ``depeche eval``). After a warm-up of ``--warmup`` queries (taken from the PIAF
questions when available, so the measured queries' own postings are not pre-loaded), every
OrangeSum query is searched once, in file order; p50/p95/max are reported.

It also checks, on every query, that the top 10 equals the first 10 of a 100-result search
(Whoosh's block-quality shortcut breaks this, whoosh issue #413; the engine is exact).

Targets (issue 3): p50 <= 15 ms, p95 <= 60 ms. Anchors: naive Whoosh (groupedby facets +
highlighting) ~70 ms p50; tantivy ~3.5 ms.
Usage: python bench/search_speed.py [--shared PATH] [--workdir PATH] [--warmup 200] [--limit N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from search import evaluation  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.model import SearchRequest  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--limit", type=int, default=0, help="only the first N queries")
    ap.add_argument("--whoosh-check", type=int, default=0, metavar="N",
                    help="also count, on the first N queries, how often Whoosh's own searcher gives another "
                         "top 10 for limit=10 than for limit=None (issue #413)")
    args = ap.parse_args()
    shared = evaluation.shared_dir(args.shared)
    queries_file = shared / evaluation.CORPORA["orangesum"][1]
    if not queries_file.exists():
        print(f"skipped: {queries_file} not found (the shared corpus is needed)")
        return
    t0 = time.perf_counter()
    root = evaluation.ensure_index("orangesum", shared, evaluation.work_dir(args.workdir))
    print(f"index ready in {time.perf_counter() - t0:.1f} s: {root}")
    queries = [q for _, _, q in evaluation.load_queries(queries_file)]
    if args.limit:
        queries = queries[: args.limit]
    piaf = shared / evaluation.CORPORA["piaf"][1]
    warm = [q for _, _, q in evaluation.load_queries(piaf)] if piaf.exists() else queries
    engine = Engine(root)
    t0 = time.perf_counter()
    engine.search(SearchRequest(q="ouverture"))
    print(f"searcher opened in {(time.perf_counter() - t0) * 1000:.0f} ms")
    for q in warm[: args.warmup]:
        engine.search(SearchRequest(q=q))
    times, mismatches, totals = [], 0, []
    for q in queries:
        t = time.perf_counter()
        resp = engine.search(SearchRequest(q=q, per_page=10))
        times.append((time.perf_counter() - t) * 1000)
        totals.append(resp.total)
        assert set(resp.facets) >= {"people", "places", "dates"}
        top100 = engine.search(SearchRequest(q=q, per_page=100, highlight=False))
        if [h.id for h in resp.hits] != [h.id for h in top100.hits[:10]]:
            mismatches += 1
    print(f"{len(times)} queries (full response: top 10 with snippets, total, facets), after {args.warmup} warm-up queries")
    print(f"p50 {statistics.median(times):.1f} ms  p95 {pct(times, 0.95):.1f} ms  max {max(times):.1f} ms  "
          f"mean {statistics.fmean(times):.1f} ms   (targets: p50 <= 15, p95 <= 60)")
    print(f"median total {statistics.median(totals):.0f} matching documents")
    print(f"top 10 == first 10 of top 100 on {len(queries) - mismatches}/{len(queries)} queries")
    if args.whoosh_check:
        whoosh_check(root, queries[: args.whoosh_check])


def whoosh_check(root: Path, queries: list[str]) -> None:
    """Whoosh's Searcher.search: top 10 with limit=10 vs the first 10 of limit=None."""
    from whoosh import scoring
    from whoosh.qparser import MultifieldParser, OrGroup

    from search import indexing

    ix, _, _ = indexing.open_generation(root)
    parser = MultifieldParser(["title", "lead", "body"], ix.schema, group=OrGroup)
    differ = 0
    with ix.searcher(weighting=scoring.BM25F()) as s:
        for q in queries:
            words = " ".join(w for w in q.replace('"', " ").split() if w not in ("OR", "AND", "NOT"))
            query = parser.parse(words)
            top = [h.docnum for h in s.search(query, limit=10)]
            full = [h.docnum for h in s.search(query, limit=None)][:10]
            differ += top != full
    print(f"Whoosh's own searcher: limit=10 differs from the top of limit=None on {differ}/{len(queries)} queries")


if __name__ == "__main__":
    main()
