"""Continuous ingestion: `depeche index watch` fed one file per dispatch at a steady rate.

Builds a fresh index from a few hundred OrangeSum records (entities off, for speed: the watcher's
own batches use entities as asked), starts `depeche index watch` on an empty folder, waits for a
warm-up file (the first batch loads the entity model), then writes one JSON Lines file of one
record each at --rate files/s for --seconds, each written as NAME.jsonl.tmp then renamed. A
reader thread in this process polls the live index every 50 ms the way the engine reads it
(`Engine(root).snapshot().docnum(id)`, the lookup `engine.document(id)` makes) and records, per
file, the delay from its rename to its dispatch being searchable.

Prints sustained dispatches/s (dispatches visible / time from the first rename to the last one
visible), the watcher's busy share (sum of its batch times / that span), and the delay p50, p95
and max. Target (issue 13): p95 <= 10 s at 5 files/s on a 2-core machine, entities on.
Usage: python bench/watch.py [--rate 5] [--seconds 60] [--no-entities] [--base 300] [--corpus PATH]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "orangesum.jsonl.gz"
POLL_SECONDS = 0.05
BATCH_TIME = re.compile(r"^lot \d+ : .* en (\d+),(\d) s$")

sys.path.insert(0, str(ROOT))


def read_records(path: Path, n: int) -> list[dict]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


def write_file(folder: Path, name: str, record: dict) -> None:
    tmp = folder / f"{name}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    os.rename(tmp, folder / name)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=5.0, help="files per second")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--no-entities", action="store_true")
    ap.add_argument("--base", type=int, default=300, help="records in the index before the watch starts")
    ap.add_argument("--batch-seconds", type=float, default=1.0)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"skipped: {args.corpus} not found (the shared corpus is needed)")
        return
    from search import indexing
    from search.engine import Engine

    n = int(args.rate * args.seconds)
    records = read_records(args.corpus, args.base + n + 1)
    base, warm, stream = records[: args.base], records[args.base], records[args.base + 1:]
    with tempfile.TemporaryDirectory(prefix="depeche-bench-watch-") as tmp:
        tmp = Path(tmp)
        ix, inbox = tmp / "index", tmp / "arrivee"
        inbox.mkdir()
        src = tmp / "base.jsonl"
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in base), encoding="utf-8")
        indexing.rebuild([src], ix, entities=False, procs=2, progress=False)

        cmd = [sys.executable, "-m", "search", "--index", str(ix), "index", "watch",
               "--batch-seconds", str(args.batch_seconds), str(inbox)]
        if args.no_entities:
            cmd.insert(-1, "--no-entities")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[tuple[float, str]] = []

        def read_output():
            for line in proc.stdout:
                lines.append((time.monotonic(), line.rstrip("\n")))

        threading.Thread(target=read_output, daemon=True).start()

        renamed: dict[str, float] = {}
        visible: dict[str, float] = {}
        done = threading.Event()
        engine = Engine(ix)

        def poll():
            while not done.is_set():
                snap = engine.snapshot()
                now = time.monotonic()
                for ident in [i for i in list(renamed) if i not in visible]:
                    if snap.docnum(ident) is not None:
                        visible[ident] = now
                time.sleep(POLL_SECONDS)

        try:
            deadline = time.monotonic() + 60
            while not any(t.startswith("surveillance de") for _, t in lines):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the watcher did not start:\n" + "\n".join(t for _, t in lines))
                time.sleep(0.05)
            reader = threading.Thread(target=poll, daemon=True)
            reader.start()
            t_warm = time.monotonic()
            renamed[warm["id"]] = t_warm
            write_file(inbox, "warmup.jsonl", warm)
            while warm["id"] not in visible:
                if time.monotonic() > t_warm + 120:
                    raise SystemExit("warm-up file never became searchable")
                time.sleep(0.05)
            warm_delay = visible[warm["id"]] - t_warm
            first_line = len(lines)
            print(f"warm-up file searchable after {warm_delay:.1f}s (first batch; entity model loaded: "
                  f"{'no' if args.no_entities else 'yes'})", flush=True)

            t0 = time.monotonic()
            for i, rec in enumerate(stream):
                target = t0 + i / args.rate
                if (wait := target - time.monotonic()) > 0:
                    time.sleep(wait)
                renamed[rec["id"]] = time.monotonic()
                write_file(inbox, f"{i:05d}.jsonl", rec)
            written_at = time.monotonic()
            ids = [r["id"] for r in stream]
            while not all(i in visible for i in ids) and time.monotonic() < written_at + 120:
                time.sleep(0.1)
        finally:
            done.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()

        seen = [i for i in ids if i in visible]
        delays = [visible[i] - renamed[i] for i in seen]
        span = max(visible[i] for i in seen) - renamed[ids[0]] if seen else float("nan")
        batch_lines = [t for _, t in lines[first_line:] if t.startswith("lot ")]
        busy = sum(int(m.group(1)) + int(m.group(2)) / 10 for t in batch_lines if (m := BATCH_TIME.match(t)))
        rejected = [t for _, t in lines if t.startswith("rejeté")]
        print(f"entities {'off' if args.no_entities else 'on'}: {len(ids)} files at {args.rate:g}/s for "
              f"{args.seconds:g}s, {len(seen)} searchable, {len(rejected)} rejected, {len(batch_lines)} batches "
              f"({len(seen) / max(1, len(batch_lines)):.1f} files each)")
        if not seen:
            print("nothing became searchable")
            return
        print(f"sustained {len(seen) / span:.2f} dispatches/s (input {args.rate:g}/s); watcher busy "
              f"{busy / span:.0%} of the time ({len(seen) / busy if busy else float('nan'):.1f} dispatches per busy second)")
        print(f"delay rename -> searchable: p50 {statistics.median(delays):.2f}s, p95 {percentile(delays, 0.95):.2f}s, "
              f"max {max(delays):.2f}s (target p95 <= 10s at 5 files/s, entities on)")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
