"""Stories on a real corpus: how many form, what grouping costs at index time, and pairs to judge.

Reads the story index of an index built by `depeche index rebuild` (or builds one with
``--rebuild CORPUS``, timing the grouping inside the rebuild), then prints:

* counts: dispatches, stories, stories with >= 2 versions, dispatches in them, the largest;
* the index-time cost: seconds spent grouping (signatures, LSH look-ups, writing the story
  index) and their share of the rebuild (``--rebuild`` only);
* with ``--pairs FILE``: a Markdown table of sampled pairs to read and judge, each with its
  similarity, days apart, which half it belongs to (A: tuning, B: report), and both titles and
  openings: ``--grouped N`` random pairs of versions grouped into one story, and ``--near N``
  near misses (similarity in [THRESHOLD - NEAR_BAND, THRESHOLD), or in ``--band LO HI``, within
  the date window, not grouped), found with a second, looser LSH over the stored signatures;
* with ``--score FILE``: reads the judged table back (its ``same`` column: y or n) and reports, per
  half, the precision of the grouped pairs, how many near misses should have been grouped, and
  for each candidate threshold the precision and recall over the judged pairs (tune on A,
  report B), each pair weighted by the size of its stratum in the corpus when the file has a line
  ``strata: grouped=N near=N low=N`` (pairs of the corpus in each stratum the samples came from).

Usage:
  python bench/stories.py --index /tmp/stories-idx [--rebuild CORPUS] [--pairs out.md] [--grouped 60 --near 60]
  python bench/stories.py --index /tmp/stories-idx --pairs low.md --grouped 0 --near 60 --band 0.1 0.3 --start 121
  python bench/stories.py --index /tmp/stories-idx --score judged.md
"""
from __future__ import annotations

import argparse
import hashlib
import random
import re
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from search import indexing, stories  # noqa: E402
from search.engine import Engine  # noqa: E402

NEAR_BAND = 0.1  # near misses: similarity within this much under the threshold
LOOSE_LSH = 0.15  # the looser LSH that finds them
SEED = 12
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
OPENING = 160  # characters of each lead shown in the table


def half(a: str, b: str) -> str:
    """A or B, fixed by the pair's ids (not by anything judged)."""
    return "A" if hashlib.sha1(f"{min(a, b)}|{max(a, b)}".encode()).digest()[0] % 2 == 0 else "B"


def counts(members: list[stories.Member]) -> dict:
    sizes = Counter(m.story for m in members)
    multi = [s for s in sizes.values() if s >= 2]
    return {
        "dispatches": len(members),
        "stories": len(sizes),
        "stories_2plus": len(multi),
        "dispatches_in_2plus": sum(multi),
        "largest": max(sizes.values()) if sizes else 0,
        "size_histogram": dict(sorted(Counter(min(s, 10) for s in multi).items())),
    }


def grouped_pairs(members, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Random pairs of two versions of one story (a story drawn at random, then two of its versions)."""
    by_story = defaultdict(list)
    for m in members:
        by_story[m.story].append(m.doc)
    multi = sorted(s for s, docs in by_story.items() if len(docs) >= 2)
    rng.shuffle(multi)
    return [tuple(rng.sample(sorted(by_story[s]), 2)) for s in multi[:n]]


def near_misses(members, n: int, rng: random.Random, band: tuple[float, float] | None = None) -> list[tuple[str, str]]:
    """Pairs just under the threshold (or with a similarity in ``band``), within the date window, not in one story."""
    lo, hi = band or (stories.THRESHOLD - NEAR_BAND, stories.THRESHOLD)
    lsh = MinHashLSH(threshold=LOOSE_LSH, num_perm=stories.NUM_PERM)
    by_doc = {m.doc: m for m in members}
    for m in members:
        lsh.insert(m.doc, MinHash(hashvalues=m.signature, scheme="affine32"), check_duplication=False)
    found = set()
    for m in members:
        for other in lsh.query(MinHash(hashvalues=m.signature, scheme="affine32")):
            if other <= m.doc:
                continue
            o = by_doc[other]
            sim = stories.similarity(m.signature, o.signature)
            if (lo <= sim < hi and o.story != m.story
                    and stories.within_window(m.day, o.day)):
                found.add((m.doc, other))
    found = sorted(found)
    rng.shuffle(found)
    print(f"near misses found: {len(found)}", file=sys.stderr)
    return found[:n]


def _clip(text: str, n: int = OPENING) -> str:
    text = " ".join((text or "").split()).replace("|", "/")
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + "…"


def write_pairs(path: Path, index: Path, members, grouped, near, start: int = 1) -> None:
    engine = Engine(index)
    snap = engine.snapshot()
    by_doc = {m.doc: m for m in members}

    def stored(doc_id):
        return snap.stored(snap.docnum(doc_id))

    lines = ["| # | kind | half | sim | days | same | A: title — opening | B: title — opening |",
             "|---|---|---|---|---|---|---|---|"]
    for i, (kind, (a, b)) in enumerate([("grouped", p) for p in grouped] + [("near", p) for p in near], start):
        ma, mb = by_doc[a], by_doc[b]
        sa, sb = stored(a), stored(b)
        days = abs(ma.day - mb.day) if ma.day is not None and mb.day is not None else ""
        lines.append(f"| {i} | {kind} | {half(a, b)} | {stories.similarity(ma.signature, mb.signature):.2f} | {days} |  | "
                     f"`{a}` {_clip(sa.get('title'), 90)} — {_clip(sa.get('lead') or sa.get('body'))} | "
                     f"`{b}` {_clip(sb.get('title'), 90)} — {_clip(sb.get('lead') or sb.get('body'))} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(grouped|near|low)\s*\|\s*([AB])\s*\|\s*([\d.]+)\s*\|[^|]*\|\s*([yn])\s*\|")
MIN_PRECISION = 0.95  # a wrong grouping hides a story under another: worse than a duplicate line


_STRATA = re.compile(r"strata: grouped=(\d+) near=(\d+) low=(\d+)")


def _precision_recall(rows, t: float, weight: dict | None = None) -> tuple[float, float]:
    """Precision and recall at ``t`` over judged rows, each weighted by how many pairs of the
    corpus its stratum's sample stands for (unweighted without ``weight``)."""
    w = (lambda r: weight[r[0]]) if weight else (lambda r: 1.0)
    pos = [r for r in rows if r[2] >= t]
    same = [r for r in rows if r[3]]
    wp = sum(w(r) for r in pos)
    ws = sum(w(r) for r in same)
    p = sum(w(r) for r in pos if r[3]) / wp if wp else float("nan")
    rec = sum(w(r) for r in same if r[2] >= t) / ws if ws else float("nan")
    return p, rec


def score(path: Path) -> None:
    """Per half and stratum, how many judged pairs are one story; the threshold tuned on half A
    (the lowest whose precision over A's judged pairs is at least MIN_PRECISION), then reported on B."""
    rows = []
    population = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            rows.append((m.group(2), m.group(3), float(m.group(4)), m.group(5) == "y"))
        elif _STRATA.search(line):
            population = dict(zip(("grouped", "near", "low"), map(int, _STRATA.search(line).groups())))
    print(f"judged pairs: {len(rows)}; pairs of the corpus per stratum: {population}")
    weight = None
    if population and all(population.values()):
        # Each half's sample of a stratum stands for its share of the stratum's pairs.
        weight = {k: population[k] / max(1, sum(1 for r in rows if r[0] == k)) for k in population}
    for kind in ("grouped", "near", "low"):
        for h in ("A", "B", "A+B"):
            sub = [r for r in rows if r[0] == kind and r[1] in h]
            if sub:
                print(f"  {kind:7s} half {h:3s}: {len(sub):3d} pairs, {sum(r[3] for r in sub):3d} judged one story "
                      f"({sum(r[3] for r in sub) / len(sub):.1%})")
    print("threshold sweep (a pair counts as grouped when its similarity is >= t; recall among the pairs judged one story;"
          + (" weighted by stratum sizes)" if weight else " unweighted)"))
    print("  t    | A: precision recall | B: precision recall")
    for t in THRESHOLDS:
        cells = [_precision_recall([r for r in rows if r[1] == h], t, weight) for h in ("A", "B")]
        print(f"  {t:.2f} | {cells[0][0]:.3f}     {cells[0][1]:.3f}  | {cells[1][0]:.3f}     {cells[1][1]:.3f}")
    ok = [t for t in THRESHOLDS if _precision_recall([r for r in rows if r[1] == "A"], t, weight)[0] >= MIN_PRECISION]
    if ok:
        t = min(ok)
        p, rec = _precision_recall([r for r in rows if r[1] == "B"], t, weight)
        print(f"tuned on A: t = {t:.2f} (lowest with precision >= {MIN_PRECISION}); on B: precision {p:.3f}, recall {rec:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--rebuild", type=Path, help="build the index from this corpus first (entities off), timed")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--pairs", type=Path, help="write the pairs to judge to this Markdown file")
    ap.add_argument("--grouped", type=int, default=60)
    ap.add_argument("--near", type=int, default=60)
    ap.add_argument("--band", type=float, nargs=2, metavar=("LO", "HI"),
                    help="near misses with a similarity in [LO, HI) instead of just under the threshold")
    ap.add_argument("--start", type=int, default=1, help="number of the first pair written")
    ap.add_argument("--score", type=Path, help="score a judged table")
    args = ap.parse_args()
    if args.score:
        score(args.score)
        return
    if args.rebuild:
        t0 = time.perf_counter()
        report = indexing.rebuild([args.rebuild], args.index, entities=False, procs=args.procs, progress=False, force=True)
        wall = time.perf_counter() - t0
        cpu = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
                  for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        print(f"rebuild: {report.indexed} dispatches in {report.seconds:.1f} s (wall {wall:.1f} s, CPU of the writer and "
              f"its indexing processes {cpu:.1f} s); grouping into stories {report.story_seconds:.1f} s wall = "
              f"{100 * report.story_seconds / report.seconds:.1f} % of the rebuild's wall time")
    gen = indexing.current_generation(indexing.index_dir(args.index))
    members = stories.read_members(gen)
    c = counts(members)
    print(f"parameters: threshold {stories.THRESHOLD}, window {stories.WINDOW_DAYS} days, {stories.PARAMS}, "
          f"{len(stories.BAND_RANGES)} bands")
    print("counts:", c)
    size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
    print(f"story index: {(gen / stories.STORIES_FILE).stat().st_size / 1e6:.1f} MB of a {size / 1e6:.1f} MB generation")
    if args.pairs:
        rng = random.Random(SEED)
        write_pairs(args.pairs, args.index, members, grouped_pairs(members, args.grouped, rng) if args.grouped else [],
                    near_misses(members, args.near, rng, args.band), args.start)
        print(f"pairs written to {args.pairs}")


if __name__ == "__main__":
    main()
