"""Fault benchmark: one node of the local two-node OpenSearch cluster killed during a search load.

On the cluster of `opensearch/cluster.sh` (its DEPECHE_OS_HTTP / DEPECHE_OS_TRANSPORT /
DEPECHE_OS_HOME), an index of 2 shards and 1 replica (OrangeSum from ../shared when present,
else a generated French corpus; built once and reused) is searched through the ClusterEngine
(full responses: facets, dates, snippets) by --clients threads for --duration seconds. At
--kill-at seconds one node is killed with SIGKILL (`cluster.sh kill-node`); at --restart-at it is
started again on its own data (`cluster.sh start-node`). Printed: requests done, failed
requests and their errors, partial answers, latency p50/p95/max before, during (node down) and
after, and the time from the restart until the node has joined and until the cluster is green.

The client is given the nodes of DEPECHE_OPENSEARCH_URL (default: both nodes of the local
cluster, comma-separated); `--url` names others (e.g. only the first node, to see what a
client that knows one node does).

Usage: DEPECHE_OS_HTTP=9280 DEPECHE_OS_TRANSPORT=9380 DEPECHE_OS_HOME=build/opensearch \\
       python bench/cluster_fault.py [--node auto|n1|n2] [--duration 60] [--json]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from search.model import SearchRequest  # noqa: E402
from search.opensearch import writer  # noqa: E402
from search.opensearch.engine import ClusterEngine  # noqa: E402

SCRIPT = ROOT / "opensearch" / "cluster.sh"
SHARED = ROOT.parent / "shared"
ALIAS = "depeche-fault"
SHARDS, REPLICAS = 2, 1
GENERATED_DOCS = 20_000
HEALTH_POLL_S = 0.5
GREEN_TIMEOUT_S = 300  # after the load, how long the green cluster is waited for
ERRORS_SHOWN = 5


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def local_url() -> str:
    http = int(os.environ.get("DEPECHE_OS_HTTP", "9250"))
    return f"http://127.0.0.1:{http},http://127.0.0.1:{http + 1}"


def node_url(node: str) -> str:
    http = int(os.environ.get("DEPECHE_OS_HTTP", "9250"))
    return f"http://127.0.0.1:{http + (0 if node == 'n1' else 1)}"


# ---------------------------------------------------------------- the corpus and its index

WORDS = ("gouvernement ministre réforme retraites grève syndicats Assemblée nationale sénat budget impôts "
         "élection président campagne sondage Paris Lyon Marseille Bordeaux Lille Toulouse Europe Bruxelles "
         "Allemagne Ukraine Russie économie inflation croissance chômage entreprises usine énergie électricité "
         "climat sécheresse incendie inondation tempête santé hôpital vaccin épidémie école enseignants élèves "
         "justice procès tribunal police enquête football match championnat équipe victoire défaite culture "
         "festival cinéma musée livre transport SNCF train avion aéroport agriculture blé éleveurs").split()


def generated_corpus(path: Path, n: int = GENERATED_DOCS, seed: int = 7) -> Path:
    """A French-looking corpus of ``n`` dispatches (random sentences over a fixed vocabulary)."""
    if path.exists():
        return path
    rng = random.Random(seed)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i in range(n):
            def sentence(k):
                return " ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + "."
            rec = {"id": f"gen-{i:06d}", "title": sentence(8), "chapo": sentence(25),
                   "body": "\n\n".join(" ".join(sentence(15) for _ in range(4)) for _ in range(3)),
                   "date": f"{2015 + i % 9}-{1 + i % 12:02d}-{1 + i % 28:02d}", "source": rng.choice(["AFP", "Reuters", "ATS"])}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def corpus_and_queries(workdir: Path, shared: Path) -> tuple[Path, list[str], str]:
    """(corpus file, queries, what the corpus is)."""
    src = shared / "corpus" / "orangesum.jsonl.gz"
    qfile = shared / "eval" / "orangesum_queries.tsv"
    if src.exists() and qfile.exists():
        queries = [p[2].strip() for p in (line.split("\t") for line in qfile.read_text(encoding="utf-8").splitlines())
                   if len(p) >= 3 and p[2].strip()]
        return src, queries, f"OrangeSum ({src}), the dev queries"
    rng = random.Random(3)
    queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2, 3)))) for _ in range(500)]
    return generated_corpus(workdir / "fault-corpus.jsonl.gz"), queries, f"generated ({GENERATED_DOCS} dispatches), generated queries"


def ensure_index(client, corpus: Path, workdir: Path) -> tuple[str, float | None]:
    """The alias of the benchmark's index (2 shards, 1 replica), rebuilt when the corpus or the
    schema changed; (its index, build seconds or None when reused)."""
    st = corpus.stat()
    stamp = json.dumps({"source": str(corpus), "size": st.st_size, "mtime": int(st.st_mtime), "schema": writer.SCHEMA,
                        "shards": SHARDS, "replicas": REPLICAS})
    live = writer.live_index(client, ALIAS)
    if live and writer.read_meta(client, ALIAS, live).get("sources") == [stamp]:
        return live, None
    log(f"building the index from {corpus} ({SHARDS} shards, {REPLICAS} replica, no entity extraction)")
    t0 = time.perf_counter()
    writer.rebuild([corpus], client, ALIAS, entities=False, force=True, shards=SHARDS, replicas=REPLICAS, cache_dir=workdir)
    live = writer.live_index(client, ALIAS)
    meta = writer.read_meta(client, ALIAS, live)
    client.index(index=writer.meta_index(ALIAS), id=live, body={**meta, "sources": [stamp]}, refresh=True)
    return live, time.perf_counter() - t0


# ---------------------------------------------------------------- the cluster


def cluster(*args: str) -> str:
    done = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"cluster.sh {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def manager(client) -> str:
    return client.cat.cluster_manager(format="json")[0]["node"]


class HealthWatch(threading.Thread):
    """Polls the cluster's health (through the multi-node client) and keeps the timeline."""

    def __init__(self, url: str, t0: float):
        super().__init__(daemon=True)
        self.client = writer.connect(url)
        self.t0 = t0
        self.samples: list[tuple[float, str, int]] = []  # (t, status, nodes)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.perf_counter() - self.t0
            try:
                h = self.client.cluster.health(request_timeout=2)
                self.samples.append((t, h["status"], int(h["number_of_nodes"])))
            except Exception as e:  # noqa: BLE001 - the timeline records what the cluster said
                self.samples.append((t, f"error: {e.__class__.__name__}", 0))
            self.stop.wait(HEALTH_POLL_S)

    def first(self, after: float, pred) -> float | None:
        return next((t for t, s, n in self.samples if t >= after and pred(s, n)), None)


# ---------------------------------------------------------------- the load


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def phase_stats(rows: list[tuple], lo: float, hi: float) -> dict:
    ms = [r[1] for r in rows if lo <= r[0] < hi and r[2] is None]
    failed = [r for r in rows if lo <= r[0] < hi and r[2] is not None]
    return {"requests": len(ms) + len(failed), "failed": len(failed),
            "partial": sum(1 for r in rows if lo <= r[0] < hi and r[3]),
            "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "max_ms": max(ms) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default=None, help="the nodes the client is given (default $DEPECHE_OPENSEARCH_URL, else both local nodes)")
    ap.add_argument("--node", default="auto", choices=("auto", "n1", "n2"),
                    help="the node killed (auto: the one that is not the elected cluster manager)")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--kill-at", type=float, default=15.0)
    ap.add_argument("--restart-at", type=float, default=35.0)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "depeche" / "fault")
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("DEPECHE_SHARED") or SHARED),
                    help="the shared material (default $DEPECHE_SHARED, else ../shared)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.kill_at < args.restart_at < args.duration:
        ap.error("--kill-at < --restart-at < --duration")
    url = args.url or os.environ.get("DEPECHE_OPENSEARCH_URL") or local_url()
    args.workdir.mkdir(parents=True, exist_ok=True)

    client = writer.connect(url)
    client.cluster.health(wait_for_status="green", wait_for_nodes="2", timeout="600s", request_timeout=610)
    corpus, queries, what = corpus_and_queries(args.workdir, args.shared)
    index, build_s = ensure_index(client, corpus, args.workdir)
    client.cluster.health(index=index, wait_for_status="green", timeout="600s", request_timeout=610)
    docs = client.count(index=ALIAS)["count"]
    elected = manager(client)
    victim = args.node if args.node != "auto" else ("n2" if elected == "n1" else "n1")
    shards = client.cat.shards(index=index, format="json")
    log(f"{docs} dispatches in {index}; cluster manager {elected}; node killed {victim}; client nodes {url}")

    engine = ClusterEngine(url, ALIAS)
    for q in queries[:20]:  # warm-up: the engine's metadata, the nodes' caches
        engine.search(SearchRequest(q=q))

    rows: list[tuple] = []  # (start s, ms, error or None, partial)
    lock = threading.Lock()
    t0 = time.perf_counter()
    end = t0 + args.duration

    def client_loop(k: int) -> None:
        mine = queries[k::args.clients]
        i = 0
        while time.perf_counter() < end:
            q = mine[i % len(mine)]
            i += 1
            s = time.perf_counter()
            err, partial = None, False
            try:
                resp = engine.search(SearchRequest(q=q))
                json.dumps(resp.to_dict())
                partial = resp.partial
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                err = f"{e.__class__.__name__}: {str(e)[:300]}"
            with lock:
                rows.append((s - t0, (time.perf_counter() - s) * 1000, err, partial))

    watch = HealthWatch(url, t0)
    watch.start()
    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(args.clients)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t0 + args.kill_at - time.perf_counter()))
    killed_at = time.perf_counter() - t0
    log(cluster("kill-node", victim))
    time.sleep(max(0.0, t0 + args.restart_at - time.perf_counter()))
    restarted_at = time.perf_counter() - t0
    log(cluster("start-node", victim))
    launched_in = time.perf_counter() - t0 - restarted_at
    for t in threads:
        t.join()
    load_end = time.perf_counter() - t0
    deadline = time.perf_counter() + GREEN_TIMEOUT_S
    while watch.first(restarted_at, lambda s, n: s == "green" and n == 2) is None and time.perf_counter() < deadline:
        time.sleep(HEALTH_POLL_S)
    watch.stop.set()
    watch.join()

    joined = watch.first(restarted_at, lambda s, n: n == 2)
    green = watch.first(restarted_at, lambda s, n: s == "green" and n == 2)
    left = watch.first(killed_at, lambda s, n: n == 1)
    errors = Counter(r[2] for r in rows if r[2] is not None)
    statuses = Counter(s for t, s, _n in watch.samples if killed_at <= t < restarted_at)
    out = {
        "corpus": what, "documents": docs, "index": index, "shards": SHARDS, "replicas": REPLICAS,
        "index_build_s": round(build_s, 1) if build_s else None, "client_nodes": url, "clients": args.clients,
        "cluster_manager": elected, "killed": victim, "killed_at_s": round(killed_at, 2), "restarted_at_s": round(restarted_at, 2),
        "start_node_command_s": round(launched_in, 2), "duration_s": round(load_end, 2), "requests": len(rows), "failed": sum(errors.values()),
        "partial": sum(1 for r in rows if r[3]),
        "errors": [{"count": c, "error": e} for e, c in errors.most_common(ERRORS_SHOWN)],
        "phases": {
            "before": phase_stats(rows, 0, killed_at),
            "during": phase_stats(rows, killed_at, restarted_at),
            "after": phase_stats(rows, restarted_at, float("inf")),
        },
        "node_left_seen_s": round(left - killed_at, 2) if left is not None else None,
        "health_while_down": dict(statuses),
        "joined_after_restart_s": round(joined - restarted_at, 2) if joined is not None else None,
        "green_after_restart_s": round(green - restarted_at, 2) if green is not None else None,
        "green_after_join_s": round(green - joined, 2) if green is not None and joined is not None else None,
        "shards_before": [f"{s['shard']}{s['prirep']}@{s['node']}" for s in shards],
        "loadavg": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"corpus: {what}; {docs} dispatches, {SHARDS} shards x {1 + REPLICAS} copies ({', '.join(out['shards_before'])})")
        print(f"client nodes: {url}; {args.clients} threads, full responses; cluster manager {elected}")
        print(f"killed {victim} (SIGKILL) at {killed_at:.1f} s, restarted at {restarted_at:.1f} s (start-node took "
              f"{launched_in:.1f} s), load ended at {load_end:.1f} s")
        print(f"requests: {out['requests']}, failed: {out['failed']}, partial: {out['partial']}")
        for e in out["errors"]:
            print(f"  {e['count']} x {e['error']}")
        print("phase    requests failed   p50 ms   p95 ms   max ms")
        for name, p in out["phases"].items():
            f = lambda v: f"{v:8.1f}" if v is not None else "       -"  # noqa: E731
            print(f"{name:8} {p['requests']:8} {p['failed']:6} {f(p['p50_ms'])} {f(p['p95_ms'])} {f(p['max_ms'])}")
        print(f"health while down: {out['health_while_down']}")
        print(f"after the restart: node joined in {out['joined_after_restart_s']} s, cluster green in {out['green_after_restart_s']} s "
              f"({out['green_after_join_s']} s after it joined)")
        print(f"load average: {out['loadavg']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
