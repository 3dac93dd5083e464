"""Cold and warm entity extraction over the OrangeSum corpus: words/s, wall time, peak memory.

    .venv/bin/python bench/entities_speed.py                 # full corpus (33,958 articles)
    .venv/bin/python bench/entities_speed.py --limit 2000    # a sample
    .venv/bin/python bench/entities_speed.py --dump out.jsonl  # also write (id, people, places)

Cold: an empty cache, so the model reads every article. Warm: the same run again, every article
a cache hit. Targets (issue 6): cold <= 10 min, warm <= 2 min, peak RSS <= 2 GiB (this process
and, separately, its largest child). Skips politely when ../shared is missing.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.entities import EntityExtractor, document_text  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "orangesum.jsonl.gz"


def articles(path: Path, limit: int | None):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in itertools.islice(f, limit):
            d = json.loads(line)
            yield d["id"], document_text(d.get("title"), d.get("chapo") or "", d.get("body") or "")


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the model's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def run(label: str, args, cache: Path, dump=None) -> None:
    words = 0
    ids = []

    def texts():
        nonlocal words
        for doc_id, text in articles(args.corpus, args.limit):
            words += len(text.split())
            ids.append(doc_id)
            yield text

    t0, c0 = time.perf_counter(), cpu_seconds()
    n = 0
    with EntityExtractor(cache, n_process=args.n_process, batch_size=args.batch_size) as ex:
        for people, places in ex.extract_many(texts()):
            if dump:
                dump.write(json.dumps({"id": ids[n], "people": people, "places": places},
                                      ensure_ascii=False) + "\n")
            n += 1
        runs = ex.model_runs
    dt, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    own, children = peak_mib()
    # CPU seconds / 2 is the wall time on two otherwise idle cores: a shared machine inflates
    # the wall time, not the CPU time.
    print(f"{label}: {n} articles, {words:,} words, model on {runs} texts, {dt:.1f} s wall, "
          f"{words / dt:,.0f} words/s, {cpu:.1f} CPU s (all processes; /2 = {cpu / 2:.0f} s on "
          f"2 idle cores); peak RSS so far: main {own:.0f} MiB, largest child {children:.0f} MiB",
          flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="first N articles only")
    ap.add_argument("--n-process", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--cache", type=Path, default=None, help="cache file (default: a temporary one)")
    ap.add_argument("--dump", type=Path, default=None, help="write the cold run's results here")
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"skipped: {args.corpus} not found (shared data is not here)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "entities.sqlite"
        if cache.exists():
            cache.unlink()
        with open(args.dump, "w", encoding="utf-8") if args.dump else open("/dev/null", "w") as dump:
            run("cold", args, cache, dump if args.dump else None)
        run("warm", args, cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
