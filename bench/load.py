"""Load test of the JSON search API: gunicorn (2 workers) on loopback, the dev query mix, a bounded run.

Starts gunicorn with gunicorn.conf.py on a free loopback port serving --index (or uses --url, which
must be a loopback address), warms each worker up, then has --clients threads send the queries
of --queries through GET /api/search for --duration seconds with http.client. Prints requests/s,
p50/p95/p99 latency and errors, and exits 1 if the target is missed.

Target (issue 4): >= 100 requests/s with p95 <= 100 ms.
Build the index first:
    depeche --index /tmp/os-index index rebuild --no-entities /work/shared/corpus/orangesum.jsonl.gz
Usage: python bench/load.py [--index /tmp/os-index] [--duration 30] [--clients 4] [--json]
"""
from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUERIES = ROOT.parent / "shared" / "eval" / "orangesum_queries.tsv"
TARGET_RPS = 100
TARGET_P95_MS = 100


def read_queries(path: Path) -> list[str]:
    """The query text of each line of a ``id<TAB>kind<TAB>query`` file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].strip():
            out.append(parts[2].strip())
    if not out:
        sys.exit(f"no queries in {path}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_only(host: str) -> None:
    """Refuse to load anything but this machine."""
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        sys.exit(f"cannot resolve {host}")
    if not all(ipaddress.ip_address(a).is_loopback for a in addrs):
        sys.exit(f"{host} is not a loopback address: this benchmark only runs against this machine")


def start_gunicorn(index: str, port: int, workers: int) -> subprocess.Popen:
    """gunicorn with the repository's config, its bind and worker count overridden, no access log."""
    env = dict(os.environ, DEPECHE_INDEX=index, DEPECHE_BIND=f"127.0.0.1:{port}", DEPECHE_WORKERS=str(workers),
               DEPECHE_ACCESS_LOG="", DEPECHE_LOG_LEVEL="warning")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "web:create_app()"], cwd=ROOT, env=env)


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def wait_ready(host: str, port: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            status, body = get(conn, "/healthz")
            conn.close()
            if status == 200:
                return json.loads(body)
            raise SystemExit(f"/healthz answered {status}: {body[:300]!r}")
        except (ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise SystemExit("the server did not come up")
            time.sleep(0.2)


def client(host: str, port: int, paths: list[str], start: int, stop_at: float, record: list, errors: list) -> None:
    """Send requests one after another until stop_at; record (latency, status)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    i = start
    while time.monotonic() < stop_at:
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, _ = get(conn, path)
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{path}: {e!r}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            continue
        record.append((time.perf_counter() - t0, status))
    conn.close()


def run(host: str, port: int, paths: list[str], clients: int, duration: float) -> dict:
    """The bounded run: ``clients`` threads for ``duration`` seconds."""
    records: list[list] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.monotonic() + duration
    step = max(1, len(paths) // clients)
    threads = [threading.Thread(target=client, args=(host, port, paths, n * step, stop_at, records[n], errors))
               for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    done = [r for rec in records for r in rec]
    lat = sorted(r[0] * 1000 for r in done)
    statuses: dict[int, int] = {}
    for _, s in done:
        statuses[s] = statuses.get(s, 0) + 1

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float("nan")

    return {
        "requests": len(done),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(done) / elapsed, 1),
        "p50_ms": round(pct(50), 1),
        "p95_ms": round(pct(95), 1),
        "p99_ms": round(pct(99), 1),
        "max_ms": round(lat[-1], 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "statuses": statuses,
        "errors": len(errors),
        "first_errors": errors[:5],
        "clients": clients,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default="/tmp/os-index", help="index directory to serve (ignored with --url)")
    ap.add_argument("--url", help="an already running server, e.g. http://127.0.0.1:8000 (loopback only)")
    ap.add_argument("--queries", type=Path, default=QUERIES)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-page", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    if args.duration > 120:
        sys.exit("--duration is bounded to 120 s")

    queries = read_queries(args.queries)
    paths = ["/api/search?" + urlencode({"q": q, "per_page": args.per_page}) for q in queries]
    proc = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loopback_only(host)
    else:
        host, port = "127.0.0.1", free_port()
        proc = start_gunicorn(args.index, port, args.workers)
    try:
        health = wait_ready(host, port)
        # Warm-up: every worker opens the index and fills its caches; not measured.
        run(host, port, paths[::-1], args.clients, args.warmup)
        result = run(host, port, paths, args.clients, args.duration)
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    result.update(index_documents=health.get("documents"), generation=health.get("generation"),
                  queries=len(queries), workers=args.workers if proc else None)
    ok = result["errors"] == 0 and set(result["statuses"]) <= {200} and \
        result["requests_per_second"] >= TARGET_RPS and result["p95_ms"] <= TARGET_P95_MS
    result["target_met"] = ok
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['requests']} requests in {result['seconds']} s with {args.clients} clients "
              f"({result['index_documents']} documents, {len(queries)} queries)")
        print(f"  {result['requests_per_second']} requests/s   p50 {result['p50_ms']} ms   p95 {result['p95_ms']} ms   "
              f"p99 {result['p99_ms']} ms   max {result['max_ms']} ms")
        print(f"  statuses {result['statuses']}   errors {result['errors']}")
        print(f"  target >= {TARGET_RPS} req/s and p95 <= {TARGET_P95_MS} ms: {'met' if ok else 'MISSED'}")
        for e in result["first_errors"]:
            print("  error:", e)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
