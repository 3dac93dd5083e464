"""Worst-case search latency: a few thousand adversarial queries, full response, one process.

Issue 10, "a query's cost is bounded, whatever it contains". The queries are generated from a
seeded RNG (same --seed, same queries) by named families, in roughly equal shares, every one
at most MAX_QUERY_LENGTH (1000) characters:

  long_words      one word of 20..1000 letters: random, a real word repeated, real words
                  concatenated, a real word with typos
  random_letters  several 3-12-letter non-words (spelling correction), accented, mixed case
  operator_soup   quotes, -, *, (), :, OR/OU/ET/NOT, unbalanced quotes, odd field values
                  (personne:, lieu:", date:9999-99, date:2023-01..1999), -*, **, "*"
  many_prefixes   10-130 two- or three-letter prefixes (ba* be* ... zu*)
  many_or         20-200 frequent words joined by OR/OU (as many as fit in 1000 characters)
  long_phrases    a quoted 20-150-word phrase of a real body; frequent words in no body's order
  mixed_scripts   Cyrillic, Greek, Arabic, CJK, emoji, combining marks, zero-width and RTL
                  marks, mixed with French words
  many_words      50-150 frequent words, no operators

Frequent words come from the first 2000 OrangeSum bodies (words of 4+ letters). Each search
is what the web page asks for: the default SearchRequest (top 10, highlighted snippets, total,
facets), with --budget-ms as time_budget_ms if given. The first search (opening the
generation) is timed apart and left out of the percentiles. Reported: p50/p95/p99/max, per
family, the ten slowest queries, how many responses were ``partial`` (and which stages timed
out), and every exception (a failure).

--kill-after S runs the searches in a worker subprocess and kills it when one search takes
more than S seconds (recorded as killed, counted at S in the percentiles; a new worker is
started). --code PATH imports the ``search`` package from another checkout (e.g. a git
worktree of an older commit), so the same queries can measure before/after.

Index: --index, else /work/os-index if it has a ``current`` generation, else the cached
evaluation index of OrangeSum (built once, entities off, like bench/search_speed.py).
Targets (issue 10): max <= 1 s, p99 <= 150 ms, no exception.
Usage: python bench/worst_case.py [--n 3000] [--seed 10] [--index PATH] [--families a,b]
       [--budget-ms MS] [--kill-after S] [--code PATH] [--json]
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _code_root() -> Path:
    """The checkout whose ``search`` package is imported: --code PATH, else this repository."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--code" and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if a.startswith("--code="):
            return Path(a.split("=", 1)[1]).resolve()
    return HERE.parent


CODE = _code_root()
sys.path.insert(0, str(CODE))

import search  # noqa: E402
from search import evaluation  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.model import MAX_QUERY_LENGTH, SearchRequest  # noqa: E402

TARGET_MAX_MS = 1000
TARGET_P99_MS = 150
DEFAULT_INDEX = Path("/work/os-index")
OPEN_QUERY = "ouverture"
SAMPLE_BODIES = 2000

# ---------------------------------------------------------------- material from the corpus


class Material:
    """Frequent words and real bodies, from the first SAMPLE_BODIES OrangeSum dispatches."""

    def __init__(self, corpus: Path):
        counts: collections.Counter = collections.Counter()
        self.bodies: list[list[str]] = []
        with gzip.open(corpus, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                body = rec.get("body") or ""
                counts.update(w for w in re.findall(r"[^\W\d_]{4,}", body.lower()))
                words = body.split()
                if len(words) >= 40:
                    self.bodies.append(words)
                if len(self.bodies) >= SAMPLE_BODIES:
                    break
        ranked = [w for w, _ in counts.most_common(3000)]
        self.frequent = ranked[:500]
        self.long_words = [w for w in ranked if len(w) >= 9][:400]
        self.starts2 = sorted({w[:2] for w in ranked[:1500]})
        self.starts3 = sorted({w[:3] for w in ranked[:1500]})


# ---------------------------------------------------------------- generators

LOWER = "abcdefghijklmnopqrstuvwxyz"
ACCENTED = "éèêëàâäîïôöùûüçœæÿ"
VOWELS = "aeiouy"
CONSONANTS = "bcdfghjklmnpqrstvwxz"


def fit(words: list[str], sep: str | list[str] = " ", limit: int = MAX_QUERY_LENGTH) -> str:
    """Join as many of ``words`` as fit in ``limit`` characters (at least the first, cut)."""
    out = ""
    for i, w in enumerate(words):
        s = "" if i == 0 else (sep if isinstance(sep, str) else sep[i % len(sep)])
        if len(out) + len(s) + len(w) > limit:
            break
        out += s + w
    return out or words[0][:limit]


def _letters(rng: random.Random, n: int, alphabet: str = LOWER) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _typos(rng: random.Random, word: str, k: int) -> str:
    w = list(word)
    for _ in range(k):
        i = rng.randrange(len(w))
        op = rng.randrange(4)
        if op == 0:
            w[i] = rng.choice(LOWER)
        elif op == 1 and len(w) > 2:
            del w[i]
        elif op == 2:
            w.insert(i, rng.choice(LOWER))
        elif i + 1 < len(w):
            w[i], w[i + 1] = w[i + 1], w[i]
    return "".join(w)


def gen_long_words(rng: random.Random, m: Material) -> str:
    n = rng.choice([20, 40, 80, 160, 400, 1000])
    kind = rng.randrange(5)
    if kind == 0:  # random letters, sometimes accented
        return _letters(rng, n, LOWER + (ACCENTED if rng.random() < 0.3 else ""))
    if kind == 1:  # one real word repeated
        w = rng.choice(m.frequent)
        return (w * (n // len(w) + 1))[:n]
    if kind == 2:  # real words concatenated
        s = ""
        while len(s) < n:
            s += rng.choice(m.frequent)
        return s[:n]
    if kind == 3:  # a real (long) word with 1-3 typos
        return _typos(rng, rng.choice(m.long_words), rng.randint(1, 3))
    s = ""  # real words concatenated, then typos
    while len(s) < n:
        s += rng.choice(m.long_words)
    return _typos(rng, s[:n], rng.randint(1, 4))[:MAX_QUERY_LENGTH]


def gen_random_letters(rng: random.Random, m: Material) -> str:
    words = []
    for _ in range(rng.randint(2, 8)):
        n = rng.randint(3, 12)
        style = rng.randrange(4)
        if style == 0:
            w = _letters(rng, n)
        elif style == 1:
            w = _letters(rng, n, LOWER + ACCENTED)
        elif style == 2:
            w = "".join(c.upper() if rng.random() < 0.5 else c for c in _letters(rng, n, LOWER + ACCENTED))
        else:  # pronounceable non-word: consonant-vowel pairs
            w = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range((n + 1) // 2))[:n]
        words.append(w)
    return " ".join(words)


SOUP = ['"', '"', "-", "*", "(", ")", ":", "OR", "OU", "ET", "NOT", "AND", "-*", "**", '"*"', "*-*",
        "personne:", 'lieu:"', "lieu:", "source:", "titre:", "rubrique:", "date:", "date:9999-99",
        "date:2023-01..1999", "date:..", "date:2023-13-45", "date:0000", "date:2020..", "date:..2021-02",
        'personne:""', "lieu:«", "«", "»", "“", "”", "„", "foo:bar", "-personne:Macron", "titre:*",
        "-\"", "OR OR", "ET ET", "- -", "((", "))", ":::", "-date:2020", "source:-", "personne:*"]


def gen_operator_soup(rng: random.Random, m: Material) -> str:
    toks = []
    for _ in range(rng.randint(3, 40)):
        r = rng.random()
        if r < 0.5:
            toks.append(rng.choice(SOUP))
        elif r < 0.65:
            toks.append(rng.choice(m.frequent))
        elif r < 0.75:
            toks.append(rng.choice(m.frequent)[: rng.randint(1, 4)] + "*")
        elif r < 0.85:
            toks.append("-" + rng.choice(m.frequent))
        elif r < 0.92:
            toks.append(rng.choice(["personne:", "lieu:", "source:", "titre:"]) + rng.choice(['"', "", "«"])
                        + rng.choice(m.frequent))
        else:
            toks.append('"' + " ".join(rng.choice(m.frequent) for _ in range(rng.randint(1, 4))))
    seps = [" "] * 4 + [""]  # sometimes glued together
    return fit(toks, [rng.choice(seps) for _ in range(8)])


def gen_many_prefixes(rng: random.Random, m: Material) -> str:
    n = rng.randint(10, 130)
    style = rng.randrange(3)
    out = []
    for _ in range(n):
        if style == 0:  # consonant + vowel: ba* be* ... zu*
            p = rng.choice(CONSONANTS) + rng.choice(VOWELS)
        elif style == 1:  # starts of frequent words: many expansions each
            p = rng.choice(m.starts2 if rng.random() < 0.5 else m.starts3)
        else:
            p = _letters(rng, rng.choice([2, 3]))
        out.append(p + "*")
    return fit(out)


def gen_many_or(rng: random.Random, m: Material) -> str:
    words = [rng.choice(m.frequent) for _ in range(rng.randint(20, 200))]
    seps = [" OR ", " OU "] if rng.random() < 0.5 else [" OR "]
    q = fit(words, [rng.choice(seps) for _ in range(16)])
    return q


def gen_long_phrases(rng: random.Random, m: Material) -> str:
    n = rng.randint(20, 150)
    if rng.random() < 0.6:  # a real passage
        body = rng.choice(m.bodies)
        start = rng.randrange(max(1, len(body) - n))
        words = [w.replace('"', "") for w in body[start:start + n] if w.replace('"', "")]
    else:  # frequent words in an order no body has
        words = [rng.choice(m.frequent) for _ in range(n)]
    inner = fit(words, " ", MAX_QUERY_LENGTH - 2)
    return f'"{inner}"'


SCRIPTS = [(0x0410, 0x044F), (0x0391, 0x03C9), (0x0621, 0x064A), (0x4E00, 0x9FFF), (0x3040, 0x30FF),
           (0xAC00, 0xD7A3), (0x05D0, 0x05EA), (0x0E01, 0x0E3A), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF)]
MARKS = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u200e", "\u200f", "\u202e", "\u202b", "\u202c", "\u2066",
         "\u00ad", "\u2060"]
FIXED = ["Москва", "Путин", "Αθήνα", "القاهرة", "北京", "東京", "習近平", "🇫🇷", "👍🏽", "👨\u200d👩\u200d👧",
         "Z\u0324\u0308a\u0327\u030el\u0333\u030dg\u0330\u0313o\u031d\u0342", "e\u0301le\u0301ction", "Mac\u200bron",
         "Pa\u00adris", "\u202eecnarF", "\ufb01nance", "Ｍａｃｒｏｎ"]


def _script_word(rng: random.Random) -> str:
    lo, hi = rng.choice(SCRIPTS)
    return "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 10)))


def gen_mixed_scripts(rng: random.Random, m: Material) -> str:
    toks = []
    for _ in range(rng.randint(2, 30)):
        r = rng.random()
        if r < 0.35:
            toks.append(_script_word(rng))
        elif r < 0.5:
            toks.append(rng.choice(FIXED))
        elif r < 0.65:  # a French word with invisible marks or combining marks inside
            w = rng.choice(m.frequent)
            i = rng.randrange(len(w) + 1)
            ins = rng.choice(MARKS) if rng.random() < 0.6 else "".join(chr(rng.randint(0x300, 0x36F))
                                                                       for _ in range(rng.randint(1, 8)))
            toks.append(w[:i] + ins + w[i:])
        elif r < 0.75:
            toks.append("".join(rng.choice(MARKS) for _ in range(rng.randint(1, 5))))
        else:
            toks.append(rng.choice(m.frequent))
    return fit(toks, [" ", " ", "\u3000", "\u00a0", "", "\t"])


def gen_many_words(rng: random.Random, m: Material) -> str:
    return fit([rng.choice(m.frequent) for _ in range(rng.randint(50, 150))])


FAMILIES = {
    "long_words": gen_long_words,
    "random_letters": gen_random_letters,
    "operator_soup": gen_operator_soup,
    "many_prefixes": gen_many_prefixes,
    "many_or": gen_many_or,
    "long_phrases": gen_long_phrases,
    "mixed_scripts": gen_mixed_scripts,
    "many_words": gen_many_words,
}


def make_queries(n: int, seed: int, families: list[str], m: Material) -> list[tuple[str, str]]:
    """(family, query) pairs: families in turn, each with its own seeded RNG."""
    rngs = {f: random.Random(f"{seed}:{f}") for f in families}
    out = []
    for i in range(n):
        f = families[i % len(families)]
        q = FAMILIES[f](rngs[f], m)
        assert len(q) <= MAX_QUERY_LENGTH, (f, len(q))
        out.append((f, q))
    return out


# ---------------------------------------------------------------- searching


def one_search(engine: Engine, q: str, budget: int | None) -> dict:
    """One full-response search, timed; never raises (an exception is recorded)."""
    req = SearchRequest(q=q) if budget is None else SearchRequest(q=q, time_budget_ms=budget)
    t = time.perf_counter()
    try:
        resp = engine.search(req)
    except Exception as e:  # noqa: BLE001 - every exception is a failure to report
        return {"ms": (time.perf_counter() - t) * 1000, "error": f"{type(e).__name__}: {str(e)[:200]}"}
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "partial": bool(resp.partial), "timed_out": list(getattr(resp, "timed_out", None) or []),
            "total": resp.total, "error": None}


def worker_main(index: str, budget: int | None) -> None:
    """--worker: open the engine, then answer one JSON line per query line on stdin."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything the library prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    engine = Engine(index)
    r = one_search(engine, OPEN_QUERY, budget)
    proto.write(json.dumps({"ready": True, "open": r}) + "\n")
    proto.flush()
    for line in sys.stdin:
        r = one_search(engine, json.loads(line)["q"], budget)
        proto.write(json.dumps(r) + "\n")
        proto.flush()


class Worker:
    """A search subprocess killed when a search outlives ``kill_after`` seconds."""

    def __init__(self, index: str, budget: int | None, kill_after: float):
        self.index, self.budget, self.kill_after = index, budget, kill_after
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.open_result: dict | None = None

    def _start(self) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--index", self.index, "--code", str(CODE)]
        if self.budget is not None:
            cmd += ["--budget-ms", str(self.budget)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.starts += 1
        line = self._read(max(120.0, self.kill_after))
        if line is None:
            self.close()
            raise SystemExit("the search worker did not start")
        msg = json.loads(line)
        if self.open_result is None:
            self.open_result = msg["open"]

    def _read(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line or None

    def search(self, q: str) -> dict:
        if self.proc is None:
            self._start()
        t = time.perf_counter()
        self.proc.stdin.write(json.dumps({"q": q}) + "\n")
        self.proc.stdin.flush()
        line = self._read(self.kill_after)
        if line is None:
            died = self.proc.poll() is not None
            self.close()
            if died:
                return {"ms": (time.perf_counter() - t) * 1000, "error": "the worker died"}
            return {"ms": self.kill_after * 1000, "killed": True, "error": None}
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # our own child, by its pid
            self.proc.wait()
            self.proc = None


# ---------------------------------------------------------------- report


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def shown(q: str, width: int = 80) -> str:
    s = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in q)
    return s if len(s) <= width else s[: width - 1] + "…"


def find_index(arg: str | None) -> Path | None:
    if arg:
        return Path(arg)
    if (DEFAULT_INDEX / "current").exists():
        return DEFAULT_INDEX
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="number of adversarial queries")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--index", default=None, help="index directory (default /work/os-index, else the eval cache)")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated: " + ",".join(FAMILIES))
    ap.add_argument("--budget-ms", type=int, default=None, help="SearchRequest.time_budget_ms (default: the model's)")
    ap.add_argument("--kill-after", type=float, default=0, metavar="S",
                    help="search in a subprocess, killed after S seconds on one query (default: off)")
    ap.add_argument("--code", default=None, help="checkout to import the search package from (default: this one)")
    ap.add_argument("--shared", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print a machine-readable summary")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main(args.index, args.budget_ms)
        return 0

    families = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        ap.error(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    # The shared material beside this script's repository (not beside --code's checkout).
    shared = evaluation.shared_dir(args.shared or os.environ.get("DEPECHE_SHARED") or HERE.parent.parent / "shared")
    corpus = shared / evaluation.CORPORA["orangesum"][0]
    if not corpus.exists():
        print(f"skipped: {corpus} not found (the shared corpus is needed)")
        return 0
    index = find_index(args.index)
    if index is None:
        index = evaluation.ensure_index("orangesum", shared, evaluation.work_dir(args.workdir))

    material = Material(corpus)
    queries = make_queries(args.n, args.seed, families, material)
    budget = args.budget_ms
    default_budget = SearchRequest().time_budget_ms

    worker = None
    if args.kill_after > 0:
        worker = Worker(str(index), budget, args.kill_after)
        worker._start()
        open_r = worker.open_result
        run = worker.search
    else:
        engine = Engine(index)
        open_r = one_search(engine, OPEN_QUERY, budget)
        run = lambda q: one_search(engine, q, budget)  # noqa: E731

    if open_r.get("error"):
        if worker:
            worker.close()
        print(f"the first search failed, nothing measured: {open_r['error']}")
        return 2

    results = []
    t_all = time.perf_counter()
    try:
        for fam, q in queries:
            r = run(q)
            r.update(family=fam, q=q)
            results.append(r)
    finally:
        if worker:
            worker.close()
    wall = time.perf_counter() - t_all

    times = [r["ms"] for r in results]
    errors = [r for r in results if r.get("error")]
    killed = [r for r in results if r.get("killed")]
    partial = [r for r in results if r.get("partial")]
    stages = collections.Counter(s for r in results for s in r.get("timed_out") or [])
    slowest = sorted(results, key=lambda r: -r["ms"])[:10]
    per_family = {}
    for f in families:
        ts = [r["ms"] for r in results if r["family"] == f]
        if ts:
            per_family[f] = {"n": len(ts), "p50_ms": round(statistics.median(ts), 1), "p99_ms": round(pct(ts, 0.99), 1),
                             "max_ms": round(max(ts), 1),
                             "partial": sum(1 for r in results if r["family"] == f and r.get("partial")),
                             "errors": sum(1 for r in results if r["family"] == f and r.get("error")),
                             "killed": sum(1 for r in results if r["family"] == f and r.get("killed"))}
    summary = {
        "queries": len(results),
        "seed": args.seed,
        "families": families,
        "index": str(index),
        "code": str(Path(search.__file__).resolve().parent.parent),
        "time_budget_ms": budget if budget is not None else default_budget,
        "kill_after_s": args.kill_after or None,
        "open_ms": round(open_r["ms"], 1),
        "wall_s": round(wall, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(pct(times, 0.95), 1),
        "p99_ms": round(pct(times, 0.99), 1),
        "max_ms": round(max(times), 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "partial": len(partial),
        "timed_out_stages": dict(stages),
        "errors": len(errors),
        "killed": len(killed),
        "worker_starts": worker.starts if worker else None,
        "per_family": per_family,
        "slowest": [{"family": r["family"], "length": len(r["q"]), "ms": round(r["ms"], 1),
                     "killed": bool(r.get("killed")), "partial": bool(r.get("partial")), "q": r["q"][:200]}
                    for r in slowest],
        "first_errors": [{"family": r["family"], "q": r["q"][:200], "error": r["error"]} for r in errors[:20]],
        "targets": {"max_ms": TARGET_MAX_MS, "p99_ms": TARGET_P99_MS},
    }
    ok = not errors and not killed and summary["max_ms"] <= TARGET_MAX_MS and summary["p99_ms"] <= TARGET_P99_MS
    summary["target_met"] = ok
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0 if ok else 1

    def ms(r: dict) -> str:
        return f">{args.kill_after:g} s (killed)" if r.get("killed") else f"{r['ms']:.1f} ms"

    print(f"code {summary['code']}   index {index}")
    print(f"{len(results)} adversarial queries (seed {args.seed}, {len(families)} families), full response "
          f"(top 10 with snippets, total, facets), time_budget_ms={summary['time_budget_ms']}"
          + (f", worker killed after {args.kill_after:g} s" if worker else ""))
    print(f"first search (opens the generation, not counted): {open_r['ms']:.0f} ms;  all searches: {wall:.1f} s")
    print(f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  p99 {summary['p99_ms']} ms  "
          f"max {summary['max_ms']} ms  mean {summary['mean_ms']} ms   "
          f"(targets: max <= {TARGET_MAX_MS} ms, p99 <= {TARGET_P99_MS} ms)")
    print(f"partial responses {len(partial)}" + (f" (timed out: {dict(stages)})" if stages else "")
          + f"   exceptions {len(errors)}" + (f"   killed {len(killed)}" if worker else ""))
    print(f"  {'family':<15} {'n':>5} {'p50':>8} {'p99':>8} {'max':>9} {'partial':>7} {'errors':>6}"
          + (f" {'killed':>6}" if worker else ""))
    for f, s in per_family.items():
        print(f"  {f:<15} {s['n']:>5} {s['p50_ms']:>8.1f} {s['p99_ms']:>8.1f} {s['max_ms']:>9.1f} {s['partial']:>7} "
              f"{s['errors']:>6}" + (f" {s['killed']:>6}" if worker else ""))
    print("ten slowest:")
    for r in slowest:
        print(f"  {ms(r):>18}  {r['family']:<14} len {len(r['q']):>4}{' partial' if r.get('partial') else ''}  "
              f"{shown(r['q'])}")
    if errors:
        kinds = collections.Counter(r["error"].split(":")[0] for r in errors)
        print(f"EXCEPTIONS: {len(errors)} ({', '.join(f'{k} x{v}' for k, v in kinds.most_common())}); the first ones:")
    for r in errors[:10]:
        print(f"  EXCEPTION [{r['family']}] {r['error']}  query (len {len(r['q'])}): {shown(r['q'])}")
    print(f"target (max <= {TARGET_MAX_MS} ms, p99 <= {TARGET_P99_MS} ms, no exception): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
