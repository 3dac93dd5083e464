"""Full rebuild of the OrangeSum corpus (entities off): documents/s (median of runs), peak memory, index size.

Target (issue 2): >= 600 docs/s and index size <= 2.5x the raw text.
Anchors measured on this machine: Lucene 8 FrenchAnalyzer ~4,600 docs/s (one thread); naive Whoosh ~250.
Usage: python bench/index_speed.py [--runs 3] [--procs 2] [--corpus PATH]
"""
from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
CORPUS = SHARED / "corpus" / "orangesum.jsonl.gz"


def raw_text_bytes(path: Path) -> int:
    """Size of the text fields (title, chapo, body) in UTF-8: what the index is compared with."""
    total = 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            total += sum(len((d.get(k) or "").encode()) for k in ("title", "chapo", "body"))
    return total


def one_run(corpus: Path, procs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="depeche-bench-") as tmp:
        code = (
            "import json,resource,sys,time\n"
            "from search import indexing\n"
            f"r = indexing.rebuild([{str(corpus)!r}], {tmp!r}, entities=False, procs={procs}, progress=False)\n"
            "gen = indexing.current_generation(indexing.index_dir(%r))\n" % tmp
            + "size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())\n"
            "ru = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "print(json.dumps({'docs': r.indexed, 'rejected': len(r.rejected), 'seconds': r.seconds, 'size': size, 'peak_kib': ru}))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=HERE.parent)
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"skipped: {args.corpus} not found (the shared corpus is needed)")
        return
    raw = raw_text_bytes(args.corpus)
    runs = []
    for i in range(args.runs):
        r = one_run(args.corpus, args.procs)
        r["dps"] = r["docs"] / r["seconds"]
        runs.append(r)
        print(f"run {i + 1}: {r['docs']} docs in {r['seconds']:.1f}s = {r['dps']:.0f} docs/s, "
              f"peak RSS {r['peak_kib'] / 1024:.0f} MiB, index {r['size'] / 2**20:.0f} MiB", flush=True)
    med = statistics.median(r["dps"] for r in runs)
    size = runs[-1]["size"]
    print(f"median {med:.0f} docs/s (target >= 600; anchors: Lucene 8 ~4600, naive Whoosh ~250)")
    print(f"peak RSS {max(r['peak_kib'] for r in runs) / 1024:.0f} MiB (largest process)")
    print(f"index {size / 2**20:.1f} MiB for {raw / 2**20:.1f} MiB of raw text = {size / raw:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
