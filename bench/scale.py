"""Scale: OrangeSum copied to 34k, 340k and 1M dispatches; rebuild, size, open, worker memory, latency, add.

Issue 11, "a million dispatches on one machine". For each size (``--sizes``, any ``N``, ``Nk`` or
``Nm``; default 34k,340k,1m) the corpus is the first N dispatches of OrangeSum followed by copies
of it: copy 0 is OrangeSum itself (ids and dates unchanged, so 34k is today's index), copy k >= 1
has ids ``{id}-c{k}`` and its dates moved back by 24 x (k mod 10) + 5 x (k div 10) months (day
clamped to the month), so ten copies cover about twenty years (1997-2020) and every copy has its
own months. People and places are given in each JSON Lines record (the rebuild runs with
entities off, no NER), derived cheaply and deterministically from the text, for a realistic facet
cardinality rather than accuracy:
  people  pairs of capitalised words in the title and lead (``Étienne Guyot``), the first word not
          a determiner, preposition, weekday, month or title word, neither word a listed place;
          at most 6 a dispatch;
  places  the names of a list of ~150 French and world places (cities, regions, countries) found
          in the title, lead or body, plus a capitalised word after « à » in the title and lead
          (« à Bayonne »); at most 8 a dispatch.
The corpora are written as gzipped JSON Lines under --workdir (default ~/.cache/depeche/scale/)
and reused while the generator and OrangeSum are unchanged; 1,000 other dispatches (the first
1,000 of OrangeSum, ids ``{id}-add``) are written for the add test.

Per size, reported:
  rebuild        indexing.rebuild(entities=False, procs=2) of a fresh index in a subprocess:
                 docs/s (``--skip-build`` reuses the index and shows the figure recorded when
                 it was built, in parentheses)
  index          size of the live generation, and its ratio to the raw text (title, lead, body)
  open           ``Engine(root).health()`` timed in a fresh subprocess, median of 3
  latency        one process: the vocabulary/speller waited for, 50 PIAF questions of warm-up,
                 then the first --queries OrangeSum dev queries, each a default SearchRequest
                 (top 10, snippets, total, facets): p50/p95/max, partial responses, peak RSS
  workers        the real server (gunicorn.conf.py, 2 workers, DEPECHE_INDEX, a free 127.0.0.1
                 port) serves the same queries through /api/search from 2 clients, a new
                 connection each, then, the workers at rest (memory.IDLE_RELEASE_SECONDS and a
                 second more), /proc/PID/smaps_rollup of each worker: RSS, private,
                 shared, PSS; "two workers" is both private sets plus the larger shared set
                 (counted once); the server is stopped at the end whatever happens
  add            a copy of the built index gets ``indexing.add`` of the 1,000 dispatches (entities
                 off) in a subprocess, timed, while a thread here searches the dev queries
                 continuously: searches done, exceptions, max latency; the copy is then removed,
                 so the built index stays as built for the next run
and, once every size is measured (two or more), interleaved: a warmed process a size, the dev
queries asked by blocks of 25, each block of every size in turn, in an order drawn anew for each
block (seeded): p50/p95 of each and its p50 against 34k's, the sizes measured in the same
seconds rather than minutes apart.
Targets at 1M (issue 11): p50 <= 30 ms, p95 <= 150 ms, p50 <= 2x p50 at 34k, open <= 1 s, two
workers <= 1 GiB, add 1,000 <= 30 s with searches answering, rebuild >= 1,000 docs/s, index <=
2.5x raw. Today (issue 11, shared 2-core machine): 34k p50 35 ms, 340k p50 436 ms.

--backend opensearch (issue 14) measures the cluster engine instead, on the cluster of
--opensearch-url (default $DEPECHE_OPENSEARCH_URL, else the local two nodes of `make opensearch`),
from the same corpora; per size, on its own alias ``depeche-scale-{size}`` (so sizes never collide):
  rebuild        the alias's indices deleted, then `index rebuild` as the CLI runs it with
                 DEPECHE_BACKEND=opensearch (search/opensearch/commands.py: the cluster writer,
                 entities off, 2 shards, 1 replica given as DEPECHE_OPENSEARCH_SHARDS/REPLICAS) in a
                 subprocess: docs/s up to the alias switch (the writer switches once the primaries
                 are ready), then the seconds until the replicas are too (green)
  index          the live index's store from the cluster's _stats: primaries, and every copy, each
                 against the raw text
  latency        as above, through ClusterEngine in one process (no speller to wait for)
  add            `index add` of the same 1,000 dispatches through the alias while a thread searches;
                 then those dispatches are deleted and the generation's metadata put back
and, beside each, the Whoosh engine's figures for that size as its last run left them in the
workdir (build-{size}.json, last.json); this run writes build-opensearch-{size}.json and
last-opensearch.json, and --skip-build reuses the alias built by an earlier one.

Usage: python bench/scale.py [--sizes 34k,340k,1m] [--queries 500] [--workdir DIR] [--skip-build]
       [--build-only] [--backend whoosh|opensearch] [--opensearch-url URL] [--json]
       (also: depeche bench scale ...)
"""
from __future__ import annotations

import argparse
import calendar
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from search import evaluation, memory  # noqa: E402

GENERATOR_VERSION = 1  # bump when the corpus generation changes: cached corpora are rewritten
ADD_COUNT = 1000
WARMUP = 50
INTERLEAVE_SEED = 7  # the order the sizes answer each block in, drawn the same in every run
INTERLEAVE_BLOCK = 25  # queries a size answers before the next size's turn (a second or less)
OPEN_RUNS = 3
SEARCH_WORKERS = 2
HTTP_CLIENTS = 2
MiB = 2**20
TARGETS = {  # at 1M dispatches
    "p50_ms": 30, "p95_ms": 150, "p50_ratio": 2.0, "open_s": 1.0, "two_workers_mib": 1024,
    "add_s": 30, "rebuild_dps": 1000, "index_ratio": 2.5,
}
TODAY = {"34k": "35 / 77 / 214 ms", "340k": "436 / 1,355 / 2,271 ms"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- sizes


def parse_size(text: str) -> tuple[str, int]:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: N, Nk or Nm")
    n = float(m.group(1)) * {"": 1, "k": 1000, "m": 1_000_000}[m.group(2).lower()]
    if n < 1:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return m.group(1) + m.group(2).lower(), int(n)


# ---------------------------------------------------------------- people and places

_UP = "A-ZÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒ"
_LO = "a-zàâäçéèêëîïôöùûüÿœæ"
_CAP = rf"[{_UP}][{_LO}]+(?:-[{_UP}][{_LO}]+)?"
PERSON = re.compile(rf"(?<![\w'’-])({_CAP}) ({_CAP})(?![\w-])")
AFTER_A = re.compile(rf"\bà ({_CAP})(?![\w-]| [{_UP}])")
NOT_NAME = set("""
Le La Les L Un Une Des De Du Au Aux En Dans Pour Par Sur Avec Selon Cette Ce Ces Cet Il Elle Ils Elles On
Mais Et Ou Après Avant Depuis Lors Alors Si Quand Comme Pendant Malgré Entre Sous Chez Vers Contre Son Sa Ses
Leur Leurs Notre Nos Votre Vos Mon Ma Mes Tout Tous Toute Toutes Plus Moins Face Faute Outre Dès Lorsque Puis
Lundi Mardi Mercredi Jeudi Vendredi Samedi Dimanche Janvier Février Mars Avril Mai Juin Juillet Août Septembre
Octobre Novembre Décembre Monsieur Madame Mme Président Présidente Premier Première Ministre Etat État Etats États
Assemblée Sénat Union Nations Coupe Ligue Conseil Cour Tribunal Ministère Parti Front Rassemblement Garde Sceaux
Saint Sainte Nord Sud Est Ouest Grand Grande Nouvelle Nouveau Quel Quelle Quels Pourquoi Comment Combien Voici
Selon Ainsi Enfin Aussi Encore Déjà Jamais Toujours Bien Très Trop Aujourd Hier Demain Non Oui Ni Car Donc
""".split())
PLACES = """
Paris Marseille Lyon Toulouse Nice Nantes Strasbourg Montpellier Bordeaux Lille Rennes Reims Toulon Grenoble Dijon
Angers Nîmes Brest Limoges Tours Amiens Perpignan Metz Besançon Orléans Rouen Mulhouse Caen Nancy Argenteuil
Roubaix Tourcoing Avignon Poitiers Calais Cannes Ajaccio Bastia Bayonne Biarritz Pau Lourdes Annecy Chambéry
Versailles Nanterre Créteil Bobigny Cergy Évry Saint-Denis Saint-Étienne Le_Havre Le_Mans Clermont-Ferrand
Aix-en-Provence La_Rochelle Calvados Gironde Finistère Vendée Savoie Haute-Savoie Isère Var Gard Hérault Aude
Corse Bretagne Normandie Occitanie Provence Alsace Lorraine Auvergne Bourgogne Champagne Picardie Aquitaine
Île-de-France Hauts-de-France Grand_Est Pyrénées Alpes Jura Vosges Guadeloupe Martinique Guyane Réunion Mayotte
Nouvelle-Calédonie Polynésie France Allemagne Belgique Suisse Luxembourg Italie Espagne Portugal Royaume-Uni
Angleterre Irlande Écosse Pays-Bas Autriche Pologne Hongrie Grèce Turquie Russie Ukraine Biélorussie Suède
Norvège Danemark Finlande Roumanie Bulgarie Serbie Croatie Maroc Algérie Tunisie Libye Égypte Mali Niger Tchad
Sénégal Nigeria Cameroun Liban Syrie Irak Iran Israël Gaza Cisjordanie Jérusalem Arabie_saoudite Qatar Yémen
Afghanistan Pakistan Inde Chine Japon Corée Vietnam Thaïlande Indonésie Australie Canada Québec Mexique Brésil
Argentine Venezuela Colombie Chili Cuba Haïti États-Unis Washington New_York Californie Londres Berlin Bruxelles
Genève Rome Madrid Barcelone Lisbonne Moscou Kiev Pékin Hong_Kong Tokyo Téhéran Beyrouth Damas Bagdad Istanbul
Ankara Alger Tunis Rabat Casablanca Dakar Bamako Le_Caire Montréal Europe Afrique Asie Amérique Méditerranée
""".split()
PLACES = [p.replace("_", " ") for p in PLACES]
PLACE_RE = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(PLACES, key=len, reverse=True))) + r")(?![\w-])")
PLACE_NAMES = set(PLACES)


def derive_entities(rec: dict) -> tuple[list[str], list[str]]:
    """(people, places) of one OrangeSum record: see the module docstring."""
    title, lead, body = rec.get("title") or "", rec.get("chapo") or rec.get("lead") or "", rec.get("body") or ""
    head = f"{title}\n{lead}"
    people: list[str] = []
    for m in PERSON.finditer(head):
        a, b = m.group(1), m.group(2)
        name = f"{a} {b}"
        if a in NOT_NAME or b in NOT_NAME or a in PLACE_NAMES or b in PLACE_NAMES or name in PLACE_NAMES:
            continue
        if name not in people:
            people.append(name)
        if len(people) == 6:
            break
    places: list[str] = []
    for m in PLACE_RE.finditer(f"{head}\n{body}"):
        if m.group(1) not in places:
            places.append(m.group(1))
    for m in AFTER_A.finditer(head):
        w = m.group(1)
        if w not in NOT_NAME and w not in places and not any(w in p.split() for p in people):
            places.append(w)
    return people, places[:8]


# ---------------------------------------------------------------- corpora


def shift_months(k: int) -> int:
    return 0 if k == 0 else 24 * (k % 10) + 5 * (k // 10)


def shift_date(text: str | None, months: int) -> str | None:
    """``text`` (starting YYYY-MM-DD) moved back by ``months``, the day clamped to the month."""
    if not months or not text or not re.match(r"\d{4}-\d\d-\d\d", text):
        return text
    y, m, d = int(text[:4]), int(text[5:7]), int(text[8:10])
    total = y * 12 + (m - 1) - months
    y, m = divmod(total, 12)
    m += 1
    d = min(d, calendar.monthrange(y, m)[1])
    return f"{y:04d}-{m:02d}-{d:02d}{text[10:]}"


def raw_bytes(rec: dict) -> int:
    return sum(len((rec.get(k) or "").encode()) for k in ("title", "chapo", "body"))


class Source:
    """OrangeSum read once, each record with its people and places."""

    def __init__(self, path: Path):
        self.path = path
        st = path.stat()
        self.stamp = {"source": str(path), "size": st.st_size, "mtime": int(st.st_mtime), "generator": GENERATOR_VERSION}
        self._records: list[dict] | None = None

    @property
    def records(self) -> list[dict]:
        if self._records is None:
            t0 = time.perf_counter()
            recs = []
            with gzip.open(self.path, "rt", encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        rec = json.loads(line)
                        rec["people"], rec["places"] = derive_entities(rec)
                        recs.append(rec)
            self._records = recs
            log(f"OrangeSum read, people/places derived: {len(recs)} records in {time.perf_counter() - t0:.1f} s")
        return self._records


def copy_record(rec: dict, k: int, suffix: str | None = None) -> dict:
    out = dict(rec)
    months = shift_months(k)
    if suffix is not None:
        out["id"] = f"{rec['id']}{suffix}"
    elif k:
        out["id"] = f"{rec['id']}-c{k}"
    if months:
        out["date"] = shift_date(rec.get("date"), months)
        if rec.get("published"):
            out["published"] = shift_date(rec["published"], months)
    return out


def write_corpus(path: Path, records, stamp: dict) -> dict:
    """Write records as gzipped JSON Lines (atomically) with a stamp beside; returns the stamp."""
    tmp = path.with_name(path.name + ".tmp")
    n = raw = 0
    people: set[str] = set()
    places: set[str] = set()
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as out:
        for rec in records:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
            raw += raw_bytes(rec)
            people.update(rec["people"])
            places.update(rec["places"])
    os.replace(tmp, path)
    stamp = dict(stamp, documents=n, raw_bytes=raw, distinct_people=len(people), distinct_places=len(places))
    stamp_path(path).write_text(json.dumps(stamp, indent=1))
    return stamp


def stamp_path(path: Path) -> Path:
    return path.with_name(path.name.replace(".jsonl.gz", ".json"))


def cached_stamp(path: Path, want: dict) -> dict | None:
    try:
        stamp = json.loads(stamp_path(path).read_text())
    except (OSError, ValueError):
        return None
    if path.exists() and all(stamp.get(k) == v for k, v in want.items()):
        return stamp
    return None


def ensure_corpus(src: Source, workdir: Path, label: str, n: int) -> tuple[Path, dict]:
    path = workdir / f"corpus-{label}.jsonl.gz"
    want = dict(src.stamp, n=n)
    stamp = cached_stamp(path, want)
    if stamp:
        log(f"{label}: corpus reused ({path})")
        return path, stamp

    def records():
        recs = src.records
        for i in range(n):
            k, j = divmod(i, len(recs))
            yield copy_record(recs[j], k)

    t0 = time.perf_counter()
    stamp = write_corpus(path, records(), want)
    log(f"{label}: corpus written, {stamp['documents']} dispatches in {time.perf_counter() - t0:.0f} s ({path})")
    return path, stamp


def ensure_add_corpus(src: Source, workdir: Path) -> Path:
    path = workdir / f"add-{ADD_COUNT}.jsonl.gz"
    want = dict(src.stamp, n=ADD_COUNT, add=True)
    if not cached_stamp(path, want):
        write_corpus(path, (copy_record(r, 0, "-add") for r in src.records[:ADD_COUNT]), want)
    return path


# ---------------------------------------------------------------- subprocesses


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """The child gets SIGTERM if this benchmark dies (Linux), so no server or build outlives it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def run_json(code: str, timeout: float, env: dict | None = None) -> dict:
    """Run Python ``code`` in a fresh interpreter (cwd: the repository) and parse its last stdout line."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                         preexec_fn=_die_with_parent, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"subprocess failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def generation_size(root: Path) -> int:
    from search import indexing

    gen = indexing.current_generation(indexing.index_dir(root))
    return sum(p.stat().st_size for p in Path(gen).rglob("*") if p.is_file())


def build(corpus: Path, root: Path, n: int) -> dict:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    code = (
        "import json, resource\n"
        "from search import indexing\n"
        f"r = indexing.rebuild([{str(corpus)!r}], {str(root)!r}, entities=False, procs=2, progress=False, force=True)\n"
        "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(json.dumps({'indexed': r.indexed, 'rejected': len(r.rejected), 'seconds': r.seconds, 'peak_kib': peak}))\n"
    )
    t0 = time.perf_counter()
    r = run_json(code, timeout=max(900.0, n / 40))  # a floor of 40 docs/s
    r["wall_seconds"] = time.perf_counter() - t0
    r["docs_per_second"] = r["indexed"] / r["seconds"]
    return r


def open_times(root: Path) -> list[float]:
    code = (
        "import json, time\n"
        "from search.engine import Engine\n"
        f"e = Engine({str(root)!r})\n"
        "t = time.perf_counter(); h = e.health(); s = time.perf_counter() - t\n"
        "print(json.dumps({'seconds': s, 'documents': h['documents']}))\n"
    )
    return [run_json(code, timeout=300)["seconds"] for _ in range(OPEN_RUNS)]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def by_match(times: list[float], matches: list[str]) -> dict:
    """Latency per match mode (``all``: every word required; ``some``: the fall-back to partial
    matches, whose candidates are the union of the words' documents; ``error``: the queries that
    failed): where a size's time goes."""
    out = {}
    for mode in sorted(set(matches)):
        got = [t for t, m in zip(times, matches) if m == mode]
        out[mode] = {"queries": len(got), "p50_ms": statistics.median(got), "p95_ms": pct(got, 0.95)}
    return out


def latency(root: Path, n_queries: int, shared: Path, cluster: tuple[str, str] | None = None) -> dict:
    """The latency run, in a fresh process (this script with --worker latency); ``cluster``: (url, alias)."""
    where = ["--index", str(root)] if cluster is None else ["--backend", "opensearch", "--opensearch-url", cluster[0],
                                                           "--alias", cluster[1]]
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", "latency", *where,
                          "--queries", str(n_queries), "--shared", str(shared)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600 + n_queries * 3,
                         preexec_fn=_die_with_parent)
    if out.returncode != 0:
        raise RuntimeError(f"latency worker failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def latency_worker(root: Path | None, n_queries: int, shared: Path, cluster: tuple[str, str] | None = None) -> None:
    import resource

    from search.model import SearchRequest

    queries = dev_queries(shared, n_queries)
    engine, open_s, vocab_s = warmed_engine(root, shared, queries, cluster)
    times, partial, errors, totals, matches = [], 0, [], [], []
    for q in queries:
        t = time.perf_counter()
        try:
            resp = engine.search(SearchRequest(q=q))
        except Exception as e:  # noqa: BLE001 - reported
            errors.append(f"{q[:60]}: {type(e).__name__}: {e}"[:200])
            times.append((time.perf_counter() - t) * 1000)
            matches.append("error")
            continue
        times.append((time.perf_counter() - t) * 1000)
        partial += bool(resp.partial)
        totals.append(resp.total)
        matches.append(resp.match)
    print(json.dumps({
        "queries": len(times), "p50_ms": statistics.median(times), "p95_ms": pct(times, 0.95), "max_ms": max(times),
        "mean_ms": statistics.fmean(times), "partial": partial, "errors": errors[:5], "error_count": len(errors),
        "median_total": statistics.median(totals) if totals else None, "first_open_s": open_s,
        "vocabulary_wait_s": vocab_s, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "by_match": by_match(times, matches),
    }))


def warmed_engine(root: Path | None, shared: Path, queries: list[str], cluster: tuple[str, str] | None = None):
    """(engine, open seconds, vocabulary wait seconds): the engine opened, its speller waited
    for, and ``WARMUP`` PIAF questions asked (the first dev queries without PIAF)."""
    from search.model import SearchRequest

    piaf = shared / evaluation.CORPORA["piaf"][1]
    warm = [q for _, _, q in evaluation.load_queries(piaf)][:WARMUP] if piaf.exists() else queries[:WARMUP]
    if cluster is None:
        from search.engine import Engine

        engine = Engine(root)
    else:
        from search.opensearch.engine import ClusterEngine

        engine = ClusterEngine(*cluster)
    t = time.perf_counter()
    engine.health()
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    if cluster is None:
        engine.snapshot().speller(wait=600)  # every query gets the same chance of a spelling correction
    vocab_s = time.perf_counter() - t  # the cluster's suggester reads the index itself: nothing to wait for
    for q in warm:
        engine.search(SearchRequest(q=q[:1000]))
    return engine, open_s, vocab_s


def answer_worker(root: Path, shared: Path, lines=sys.stdin, out=sys.stdout) -> None:
    """--worker answer: the engine on ``root`` warmed as for the latency run, then a query (JSON)
    a line in, its full response's milliseconds a line out, until the input ends."""
    from search.model import SearchRequest

    engine = warmed_engine(root, shared, [])[0]
    print("ready", file=out, flush=True)
    for line in lines:
        q = json.loads(line)
        t = time.perf_counter()
        engine.search(SearchRequest(q=q))
        print(json.dumps((time.perf_counter() - t) * 1000), file=out, flush=True)


def interleaved_figures(times: dict[str, list[float]], ref: str) -> dict:
    """p50 and p95 of each size's times for the same queries, and each p50 against ``ref``'s."""
    out = {label: {"p50_ms": statistics.median(t), "p95_ms": pct(t, 0.95)} for label, t in times.items()}
    for label in out:
        out[label]["ratio"] = out[label]["p50_ms"] / out[ref]["p50_ms"]
    return out


def interleaved(roots: dict[str, Path], queries: list[str], shared: Path, seed: int = INTERLEAVE_SEED) -> dict:
    """The dev queries asked of every size's engine (one process each, warmed alike) by blocks
    of ``INTERLEAVE_BLOCK``, each block of every size in turn, in an order drawn anew for each
    block: the sizes share the machine's same seconds, so that their ratio is not that of two
    minutes apart (this machine's speed moves by a third within minutes). Blocks, not single
    queries: asked one query each in turn, a small index found the processor's caches filled by
    the large one's at every query (34k 7 ms alone, 11 so interleaved), which is not its speed."""
    procs: dict[str, subprocess.Popen] = {}
    try:
        for label, root in roots.items():
            procs[label] = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--worker", "answer", "--index", str(root),
                 "--shared", str(shared)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                preexec_fn=_die_with_parent)
        for label, p in procs.items():
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError(f"interleaved: the {label} worker did not start ({p.wait(5)})")
        rnd = random.Random(seed)
        times: dict[str, list[float]] = {label: [] for label in procs}
        for at in range(0, len(queries), INTERLEAVE_BLOCK):
            order = list(procs)
            rnd.shuffle(order)
            for label in order:
                p = procs[label]
                for q in queries[at : at + INTERLEAVE_BLOCK]:
                    p.stdin.write(json.dumps(q) + "\n")
                    p.stdin.flush()
                    times[label].append(float(p.stdout.readline()))
        return interleaved_figures(times, next(iter(roots)))
    finally:
        for p in procs.values():
            p.kill()
            p.wait()


def dev_queries(shared: Path, n: int) -> list[str]:
    return [q[:1000] for _, _, q in evaluation.load_queries(shared / evaluation.CORPORA["orangesum"][1])][:n]


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def smaps(pid: int) -> dict:
    """RSS, private, shared and PSS of a process in MiB (smaps_rollup), and its CPU seconds."""
    vals: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-1] == "kB":
            vals[parts[0].rstrip(":")] = int(parts[1])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    # The highest RSS the worker reached while answering (mapped index pages included): what
    # the reading after the queries, once it has given pages and heap back, does not show.
    peak = next((int(x.split()[1]) for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                 if x.startswith("VmHWM:")), 0)
    return {
        "peak_rss_mib": peak / 1024,
        "pid": pid,
        "rss_mib": vals.get("Rss", 0) / 1024,
        "private_mib": (vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)) / 1024,
        "shared_mib": (vals.get("Shared_Clean", 0) + vals.get("Shared_Dirty", 0)) / 1024,
        "pss_mib": vals.get("Pss", 0) / 1024,
        "cpu_s": cpu,
    }


def http_get(port: int, path: str, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json", "Connection": "close"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def serve_and_measure(root: Path, queries: list[str], workdir: Path, label: str) -> dict:
    """Start gunicorn (2 workers) on a free loopback port, send the queries, read the workers' memory, stop it."""
    port = free_port()
    env = dict(os.environ, DEPECHE_INDEX=str(root), DEPECHE_BIND=f"127.0.0.1:{port}",
               DEPECHE_WORKERS=str(SEARCH_WORKERS), DEPECHE_ACCESS_LOG="", DEPECHE_LOG_LEVEL="warning")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    logfile = open(workdir / f"server-{label}.log", "w")
    proc = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "web:create_app()"], cwd=ROOT, env=env,
                            stdout=logfile, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + 300
        while True:  # both workers up, each has opened the index (post_worker_init) before accepting
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {logfile.name}")
            try:
                status, _ = http_get(port, "/healthz", timeout=10)
                if status == 200 and len(children(proc.pid)) >= SEARCH_WORKERS:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not come up within 300 s")
            time.sleep(0.3)
        paths = ["/api/search?" + urlencode({"q": q}) for q in queries]
        lat: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + 60 + 10 * len(paths)

        def client(part: list[str]) -> None:
            for p in part:
                if time.monotonic() > stop_at:
                    return
                t = time.perf_counter()
                try:
                    status, _ = http_get(port, p)
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        errors.append(repr(e)[:200])
                    continue
                with lock:
                    lat.append((time.perf_counter() - t) * 1000)
                    statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=client, args=(paths[i::HTTP_CLIENTS],), daemon=True) for i in range(HTTP_CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, stop_at - time.monotonic() + 70))
        # At rest: a worker gives back what its searches mapped and freed once none has run for
        # a moment (search/memory.py); the peak while serving is reported beside (VmHWM).
        time.sleep(memory.IDLE_RELEASE_SECONDS + 1.0)
        workers = [smaps(pid) for pid in children(proc.pid)]
        if not workers:
            raise RuntimeError("no gunicorn worker found")
        together = sum(w["private_mib"] for w in workers) + max(w["shared_mib"] for w in workers)
        return {
            "port": port, "workers": workers, "one_worker_rss_mib": max(w["rss_mib"] for w in workers),
            "two_workers_mib": together, "two_workers_pss_mib": sum(w["pss_mib"] for w in workers),
            "two_workers_rss_sum_mib": sum(w["rss_mib"] for w in workers),
            "http": {"requests": len(lat), "statuses": {str(k): v for k, v in statuses.items()}, "errors": len(errors),
                     "first_errors": errors[:3], "clients": HTTP_CLIENTS,
                     "p50_ms": statistics.median(lat) if lat else None, "p95_ms": pct(lat, 0.95) if lat else None},
        }
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        logfile.close()


# ---------------------------------------------------------------- add


def add_while_searching(root: Path, add_corpus: Path, queries: list[str], workdir: Path, label: str) -> dict:
    """``indexing.add`` of the 1,000 dispatches into a copy of the index while a thread searches it."""
    from search.engine import Engine

    clone = workdir / f"add-index-{label}"
    if clone.exists():
        shutil.rmtree(clone)
    try:
        t0 = time.perf_counter()
        shutil.copytree(root, clone, symlinks=True)
        log(f"{label}: index copied for the add test in {time.perf_counter() - t0:.0f} s")
        code = (
            "import json\n"
            "from search import indexing\n"
            f"r = indexing.add([{str(add_corpus)!r}], {str(clone)!r}, entities=False)\n"
            "print(json.dumps({'indexed': r.indexed, 'replaced': r.deleted, 'rejected': len(r.rejected), 'seconds': r.seconds}))\n"
        )
        return searching_during(Engine(clone), queries, code)
    finally:
        shutil.rmtree(clone, ignore_errors=True)


def searching_during(engine, queries: list[str], code: str, env: dict | None = None) -> dict:
    """Run the writer ``code`` in a subprocess while a thread here searches ``engine`` with the dev queries."""
    from search.model import SearchRequest

    before = engine.health()["documents"]
    for q in queries[:10]:
        engine.search(SearchRequest(q=q))
    stop = threading.Event()
    lat: list[float] = []
    errors: list[str] = []
    partial = [0]
    deadline = time.monotonic() + 1200

    def searcher() -> None:
        i = 0
        while not stop.is_set() and time.monotonic() < deadline:
            q = queries[i % len(queries)]
            i += 1
            t = time.perf_counter()
            try:
                resp = engine.search(SearchRequest(q=q))
                partial[0] += bool(resp.partial)
            except Exception as e:  # noqa: BLE001 - reported
                errors.append(f"{type(e).__name__}: {e}"[:200])
            lat.append((time.perf_counter() - t) * 1000)

    th = threading.Thread(target=searcher, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        r = run_json(code, timeout=900, env=env)
    finally:
        wall = time.perf_counter() - t0
        time.sleep(1.0)  # a few searches on the new commit
        stop.set()
        th.join(120)
    after = engine.health()["documents"]
    return {
        "seconds": r["seconds"], "wall_seconds": wall, "indexed": r["indexed"], "replaced": r["replaced"],
        "documents_before": before, "documents_after": after, "searches": len(lat), "search_errors": len(errors),
        "first_errors": errors[:3], "partial": partial[0], "search_max_ms": max(lat) if lat else None,
        "search_p50_ms": statistics.median(lat) if lat else None,
        "all_answered": bool(lat) and not errors and not th.is_alive(),
    }


# ---------------------------------------------------------------- one size


def measure(size: tuple[str, int], src: Source, args, shared: Path, queries: list[str], add_corpus: Path) -> dict:
    from search.analysis import SCHEMA_VERSION

    label, n = size
    res: dict = {"size": label, "requested": n}
    corpus, cstamp = ensure_corpus(src, args.workdir, label, n)
    res["corpus"] = {k: cstamp[k] for k in ("documents", "raw_bytes", "distinct_people", "distinct_places")}
    root = args.workdir / f"index-{label}"
    build_file = args.workdir / f"build-{label}.json"
    if args.skip_build:
        try:
            rec = json.loads(build_file.read_text())
        except (OSError, ValueError):
            rec = None
        if rec is None or not (root / "current").exists():
            raise RuntimeError(f"--skip-build: no index built for {label} in {root}")
        res["rebuild"] = dict(rec["rebuild"], measured_now=False)
    else:
        log(f"{label}: rebuilding {cstamp['documents']} dispatches (entities off) into {root}")
        r = build(corpus, root, n)
        log(f"{label}: rebuilt in {r['seconds']:.0f} s = {r['docs_per_second']:.0f} docs/s")
        build_file.write_text(json.dumps({"rebuild": r, "corpus": cstamp, "schema_version": SCHEMA_VERSION,
                                          "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_end": loadavg()},
                                         indent=1))
        res["rebuild"] = dict(r, measured_now=True)
        if args.build_only:
            return res
    size_b = generation_size(root)
    res["index_mib"] = size_b / MiB
    res["index_ratio"] = size_b / cstamp["raw_bytes"]
    opens = open_times(root)
    res["open_s"] = statistics.median(opens)
    res["open_runs_s"] = opens
    log(f"{label}: index {res['index_mib']:.0f} MiB ({res['index_ratio']:.2f}x raw), open {res['open_s']:.2f} s")
    res["latency"] = latency(root, args.queries, shared)
    L = res["latency"]
    log(f"{label}: p50 {L['p50_ms']:.0f} / p95 {L['p95_ms']:.0f} / max {L['max_ms']:.0f} ms ("
        + ", ".join(f"{m} {v['queries']}: p50 {v['p50_ms']:.0f} / p95 {v['p95_ms']:.0f}" for m, v in L.get("by_match", {}).items())
        + ")")
    res["server"] = serve_and_measure(root, queries, args.workdir, label)
    log(f"{label}: two workers {res['server']['two_workers_mib']:.0f} MiB")
    res["add"] = add_while_searching(root, add_corpus, queries, args.workdir, label)
    log(f"{label}: add {res['add']['seconds']:.1f} s, {res['add']['searches']} searches meanwhile")
    return res


# ---------------------------------------------------------------- the OpenSearch backend

OS_SHARDS, OS_REPLICAS = 2, 1  # issue 14: the local two-node cluster, one replica of each shard
GREEN_TIMEOUT_S = 3600  # the replicas of a 1M index copied from the primaries


def os_alias(label: str) -> str:
    """One alias (and its indices) per size, so that sizes never collide on the cluster."""
    return f"depeche-scale-{label}"


def os_env(url: str, alias: str) -> dict:
    """What `depeche --backend opensearch index rebuild|add` reads: the cluster, the alias, 2 shards and 1 replica."""
    return dict(os.environ, DEPECHE_BACKEND="opensearch", DEPECHE_OPENSEARCH_URL=url, DEPECHE_OPENSEARCH_INDEX=alias,
                DEPECHE_OPENSEARCH_SHARDS=str(OS_SHARDS), DEPECHE_OPENSEARCH_REPLICAS=str(OS_REPLICAS))


def store_figures(stats: dict, raw: int) -> dict:
    """The index's size from the cluster's ``_stats`` of one alias: primaries and every copy, in MiB and x the raw text."""
    every = stats["_all"]
    primaries = every["primaries"]["store"]["size_in_bytes"]
    total = every["total"]["store"]["size_in_bytes"]
    return {
        "index": next(iter(stats.get("indices") or {}), None), "documents": every["primaries"]["docs"]["count"],
        "deleted": every["primaries"]["docs"].get("deleted", 0), "primaries_mib": primaries / MiB, "total_mib": total / MiB,
        "primaries_ratio": primaries / raw, "total_ratio": total / raw,
    }


def os_drop(client, alias: str) -> list[str]:
    """Delete the alias's generations and their metadata index: the rebuild starts from nothing, as the Whoosh one."""
    from search.opensearch import writer

    names = [writer.generation_index(alias, g) for g in writer.generations(client, alias)] + [writer.meta_index(alias)]
    for name in names:
        client.indices.delete(index=name, ignore=[404])
    return names


def os_green(client, alias: str) -> float:
    """Seconds until every shard of the alias's index has its replica (the writer switches the alias at yellow)."""
    t0 = time.perf_counter()
    h = client.cluster.health(index=alias, wait_for_status="green", timeout=f"{GREEN_TIMEOUT_S}s",
                              request_timeout=GREEN_TIMEOUT_S + 30)
    if h.get("status") != "green":
        raise RuntimeError(f"{alias}: not green after {GREEN_TIMEOUT_S} s: {h}")
    return time.perf_counter() - t0


def os_build(corpus: Path, url: str, alias: str, cache: Path, n: int) -> dict:
    """`index rebuild` on the cluster (search/opensearch/commands.py, entities off) in a subprocess, timed."""
    from search.opensearch import writer

    client = writer.connect(url)
    os_drop(client, alias)
    code = (
        "import json, resource\n"
        "from search.opensearch import commands\n"
        f"r = commands.rebuild([{str(corpus)!r}], {str(cache)!r}, entities=False, force=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'indexed': r.indexed, 'rejected': len(r.rejected), 'first_rejected': [str(x) for x in r.rejected[:3]],\n"
        "                  'seconds': r.seconds, 'generation': r.generation, 'peak_kib': peak}))\n"
    )
    t0 = time.perf_counter()
    r = run_json(code, timeout=max(900.0, n / 40), env=os_env(url, alias))
    r["wall_seconds"] = time.perf_counter() - t0
    r["docs_per_second"] = r["indexed"] / r["seconds"]
    r["green_s"] = os_green(client, alias)
    r["index"] = writer.live_index(client, alias)
    r["shards"], r["replicas"] = OS_SHARDS, OS_REPLICAS
    return r


def os_add_while_searching(url: str, alias: str, add_corpus: Path, queries: list[str], cache: Path) -> dict:
    """`index add` of the 1,000 dispatches through the alias while a thread searches it; then the
    dispatches added are deleted and the generation's metadata put back, so that the index stays
    as built for a later --skip-build run."""
    from search.opensearch import writer
    from search.opensearch.engine import ClusterEngine

    client = writer.connect(url)
    index = writer.live_index(client, alias)
    meta = writer.read_meta(client, alias, index)
    with gzip.open(add_corpus, "rt", encoding="utf-8") as fh:
        ids = [json.loads(line)["id"] for line in fh if line.strip()]
    code = (
        "import json\n"
        "from search.opensearch import commands\n"
        f"r = commands.add([{str(add_corpus)!r}], {str(cache)!r}, entities=False)\n"
        "print(json.dumps({'indexed': r.indexed, 'replaced': r.deleted, 'rejected': len(r.rejected), 'seconds': r.seconds}))\n"
    )
    try:
        return searching_during(ClusterEngine(url, alias), queries, code, env=os_env(url, alias))
    finally:
        writer.delete(ids, client, alias)
        client.index(index=writer.meta_index(alias), id=index, body=meta, refresh=True)


def whoosh_beside(workdir: Path, label: str) -> dict | None:
    """The Whoosh engine's figures for one size, as its last run left them in the workdir
    (build-{label}.json, last.json), or None."""
    out: dict = {}
    try:
        rec = json.loads((workdir / f"build-{label}.json").read_text())
        out["rebuild"], out["built_at"] = rec["rebuild"], rec.get("built_at")
    except (OSError, ValueError, KeyError):
        pass
    try:
        last = json.loads((workdir / "last.json").read_text())
    except (OSError, ValueError):
        last = {}
    r = next((r for r in last.get("results") or [] if r.get("size") == label and "latency" in r), None)
    if r:
        out.update(latency=r["latency"], index_mib=r.get("index_mib"), index_ratio=r.get("index_ratio"), add=r.get("add"),
                   run=last.get("started"), commit=last.get("commit"), load=[last.get("load_start"), last.get("load_end")])
    return out or None


def os_measure(size: tuple[str, int], src: Source, args, shared: Path, queries: list[str], add_corpus: Path) -> dict:
    from search.opensearch import writer

    label, n = size
    res: dict = {"size": label, "requested": n, "backend": "opensearch", "alias": os_alias(label)}
    corpus, cstamp = ensure_corpus(src, args.workdir, label, n)
    res["corpus"] = {k: cstamp[k] for k in ("documents", "raw_bytes", "distinct_people", "distinct_places")}
    url, alias, cache = args.opensearch_url, os_alias(label), args.workdir / "opensearch-cache"
    client = writer.connect(url)
    build_file = args.workdir / f"build-opensearch-{label}.json"
    if args.skip_build:
        try:
            rec = json.loads(build_file.read_text())
        except (OSError, ValueError):
            rec = None
        if rec is None or writer.live_index(client, alias) != rec["rebuild"].get("index"):
            raise RuntimeError(f"--skip-build: no index built for {label} on {url} (alias {alias})")
        res["rebuild"] = dict(rec["rebuild"], measured_now=False)
    else:
        log(f"{label}: rebuilding {cstamp['documents']} dispatches (entities off) into {alias} on {url}, "
            f"{OS_SHARDS} shards, {OS_REPLICAS} replica")
        load_start = loadavg()
        r = os_build(corpus, url, alias, cache, n)
        log(f"{label}: rebuilt in {r['seconds']:.0f} s = {r['docs_per_second']:.0f} docs/s, green {r['green_s']:.0f} s later")
        r["load"] = [load_start, loadavg()]
        build_file.write_text(json.dumps({"rebuild": r, "corpus": cstamp, "schema": writer.SCHEMA, "url": url,
                                          "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1))
        res["rebuild"] = dict(r, measured_now=True)
        if args.build_only:
            return res
    os_green(client, alias)
    res["store"] = store_figures(client.indices.stats(index=alias, metric="store,docs"), cstamp["raw_bytes"])
    S = res["store"]
    log(f"{label}: index {S['primaries_mib']:.0f} MiB primaries ({S['primaries_ratio']:.2f}x raw), "
        f"{S['total_mib']:.0f} MiB with the replicas")
    res["latency"] = latency(None, args.queries, shared, cluster=(url, alias))
    L = res["latency"]
    log(f"{label}: p50 {L['p50_ms']:.0f} / p95 {L['p95_ms']:.0f} / max {L['max_ms']:.0f} ms, load {loadavg()}")
    res["add"] = os_add_while_searching(url, alias, add_corpus, queries, cache)
    log(f"{label}: add {res['add']['seconds']:.1f} s, {res['add']['searches']} searches meanwhile")
    res["whoosh"] = whoosh_beside(args.workdir, label)
    return res


def os_table(results: list[dict]) -> list[str]:
    """The cluster's figures per size, each beside the Whoosh engine's last run at that size."""
    lines = [
        "| size | dispatches | engine | rebuild | index (x raw) | p50 / p95 / max | partial / errors | add 1,000 (searches, max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        B, S, L, A = r["rebuild"], r["store"], r["latency"], r["add"]
        dps = f"{B['docs_per_second']:,.0f} docs/s" if B["measured_now"] else f"({B['docs_per_second']:,.0f} docs/s)"
        ok = "all answered" if A["all_answered"] else f"{A['search_errors']} FAILED"
        lines.append(
            f"| {r['size']} | {r['corpus']['documents']:,} | OpenSearch ({B['shards']} shards, {B['replicas']} replica) "
            f"| {dps}, green +{B['green_s']:.0f} s | {S['primaries_mib']:,.0f} MiB ({S['primaries_ratio']:.2f}x); "
            f"all copies {S['total_mib']:,.0f} MiB ({S['total_ratio']:.2f}x) "
            f"| {L['p50_ms']:,.0f} / {L['p95_ms']:,.0f} / {L['max_ms']:,.0f} ms | {L['partial']} / {L['error_count']} "
            f"| {A['seconds']:.1f} s ({A['searches']}, {ok}, {A['search_max_ms']:,.0f} ms) |")
        W = r.get("whoosh") or {}
        if not W:
            lines.append(f"| {r['size']} | | Whoosh | no run recorded in the workdir | | | | |")
            continue
        WB, WL, WA = W.get("rebuild"), W.get("latency"), W.get("add")
        dps = f"{WB['docs_per_second']:,.0f} docs/s" if WB else "?"
        size = f"{W['index_mib']:,.0f} MiB ({W['index_ratio']:.2f}x)" if W.get("index_mib") else "?"
        lat = f"{WL['p50_ms']:,.0f} / {WL['p95_ms']:,.0f} / {WL['max_ms']:,.0f} ms" if WL else "?"
        bad = f"{WL['partial']} / {WL['error_count']}" if WL else "?"
        add = f"{WA['seconds']:.1f} s ({WA['searches']}, {WA['search_max_ms']:,.0f} ms)" if WA else "?"
        lines.append(f"| {r['size']} | | Whoosh (run {W.get('run') or '?'}, {W.get('commit') or '?'}) | {dps} | {size} "
                     f"| {lat} | {bad} | {add} |")
    return lines


# ---------------------------------------------------------------- report


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def table(results: list[dict]) -> list[str]:
    ref = next((r for r in results if r["size"] == "34k"), results[0])
    lines = [
        f"| size | dispatches | rebuild | index (x raw) | open | p50 / p95 / max | p50 ÷ {ref['size']} | search peak RSS "
        "| 1 worker RSS (priv / shared) | 2 workers (PSS) | add 1,000 (searches, max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        L, S, A, B = r["latency"], r["server"], r["add"], r["rebuild"]
        w = max(S["workers"], key=lambda x: x["rss_mib"])
        dps = f"{B['docs_per_second']:,.0f} docs/s" if B["measured_now"] else f"({B['docs_per_second']:,.0f} docs/s)"
        ok = "all answered" if A["all_answered"] else f"{A['search_errors']} FAILED"
        lines.append(
            f"| {r['size']} | {r['corpus']['documents']:,} | {dps} | {r['index_mib']:,.0f} MiB ({r['index_ratio']:.2f}x) "
            f"| {r['open_s']:.2f} s | {L['p50_ms']:,.0f} / {L['p95_ms']:,.0f} / {L['max_ms']:,.0f} ms "
            f"| {L['p50_ms'] / ref['latency']['p50_ms']:.1f}x | {L['peak_rss_mib']:,.0f} MiB "
            f"| {w['rss_mib']:,.0f} MiB ({w['private_mib']:,.0f} / {w['shared_mib']:,.0f}) "
            f"| {S['two_workers_mib']:,.0f} MiB ({S['two_workers_pss_mib']:,.0f}) "
            f"| {A['seconds']:.1f} s ({A['searches']}, {ok}, {A['search_max_ms']:,.0f} ms) |")
    t = TARGETS
    lines.append(f"| target at 1M | | ≥ {t['rebuild_dps']:,} docs/s | ≤ {t['index_ratio']}x | ≤ {t['open_s']:.0f} s "
                 f"| ≤ {t['p50_ms']} / ≤ {t['p95_ms']} / ≤ budget | ≤ {t['p50_ratio']:.0f}x | | | ≤ {t['two_workers_mib']:,} MiB "
                 f"| ≤ {t['add_s']} s, all answered |")
    return lines


def checks(r: dict, ref: dict) -> str:
    t = TARGETS
    L = r["latency"]
    items = [
        ("p50", L["p50_ms"] <= t["p50_ms"]), ("p95", L["p95_ms"] <= t["p95_ms"]), ("max", L["max_ms"] <= 2000),
        ("p50 ratio", L["p50_ms"] <= t["p50_ratio"] * ref["latency"]["p50_ms"]), ("open", r["open_s"] <= t["open_s"]),
        ("2 workers", r["server"]["two_workers_mib"] <= t["two_workers_mib"]),
        ("add", r["add"]["seconds"] <= t["add_s"] and r["add"]["all_answered"]),
        ("rebuild", r["rebuild"]["docs_per_second"] >= t["rebuild_dps"]), ("index", r["index_ratio"] <= t["index_ratio"]),
    ]
    return f"{r['size']}: " + "  ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in items)


def run_sizes(measure_one, args, sizes: list[tuple[str, int]], corpus: Path, shared: Path,
              where: str = "") -> tuple[list[str], list[dict], dict]:
    """Measure each size with ``measure_one`` (the Whoosh or the cluster engine's): the queries,
    the results, and what every report says of the run (start, load, cores, commit)."""
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    load_start = loadavg()
    log(f"load average at start: {load_start}; workdir {args.workdir}{where}")
    t0 = time.perf_counter()
    src = Source(corpus)
    queries = dev_queries(shared, args.queries)
    add_corpus = ensure_add_corpus(src, args.workdir)
    results = []
    for size in sizes:
        ts = time.perf_counter()
        results.append(measure_one(size, src, args, shared, queries, add_corpus))
        results[-1]["seconds"] = time.perf_counter() - ts
        log(f"{size[0]}: done in {results[-1]['seconds'] / 60:.1f} min")
    out = {
        "started": started, "load_start": load_start, "load_end": loadavg(), "cores": os.cpu_count(),
        "minutes": (time.perf_counter() - t0) / 60, "queries": len(queries), "warmup": WARMUP,
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "results": results,
    }
    return queries, results, out


def os_main(args, sizes: list[tuple[str, int]], corpus: Path, shared: Path) -> int:
    """--backend opensearch: per size, the rebuild on the cluster, its size, latency and add, beside Whoosh's."""
    from search.opensearch import writer

    try:
        info = writer.connect(args.opensearch_url).cluster.health(request_timeout=10)
    except Exception as e:  # noqa: BLE001 - one line, not a traceback
        print(f"scale: no OpenSearch cluster at {args.opensearch_url} ({type(e).__name__}): start it with make opensearch "
              "or give --opensearch-url", file=sys.stderr)
        return 1
    queries, results, out = run_sizes(os_measure, args, sizes, corpus, shared,
                                      f"; cluster {args.opensearch_url}: {info.get('number_of_nodes')} nodes, {info.get('status')}")
    if args.build_only:
        return 0
    out.update({"backend": "opensearch", "url": args.opensearch_url, "nodes": info.get("number_of_nodes")})
    (args.workdir / "last-opensearch.json").write_text(json.dumps(out, indent=1))
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"Scale benchmark, OpenSearch ({out['commit']}, {out['started']}, {out['cores']} cores, {out['nodes']} nodes at "
          f"{out['url']}, {len(queries)} dev queries after {WARMUP} PIAF warm-up, full response, one process; load average "
          f"{out['load_start']} at start, {out['load_end']} at end; {out['minutes']:.0f} min)")
    print("\n".join(os_table(results)))
    for r in results:
        B, L, A = r["rebuild"], r["latency"], r["add"]
        print(f"  {r['size']}: rebuild {B['seconds']:.0f} s ({B['rejected']} rejected), peak RSS of the writer "
              f"{B['peak_kib'] / 1024:,.0f} MiB, load {' -> '.join(B.get('load') or [])}; searches: median total "
              f"{L['median_total']}, client RSS {L['peak_rss_mib']:,.0f} MiB; add: {A['indexed']} indexed, documents "
              f"{A['documents_before']:,} -> {A['documents_after']:,}, search p50 meanwhile {A['search_p50_ms'] or 0:,.0f} ms")
        for e in L["errors"][:3] + A["first_errors"][:3]:
            print(f"    error: {e}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="34k,340k,1m", help="comma-separated sizes: N, Nk or Nm (default 34k,340k,1m)")
    ap.add_argument("--queries", type=int, default=500, help="first N OrangeSum dev queries (default 500)")
    ap.add_argument("--workdir", type=Path, default=None, help="corpora, indexes, logs (default ~/.cache/depeche/scale)")
    ap.add_argument("--skip-build", action="store_true", help="reuse the indexes built by an earlier run")
    ap.add_argument("--build-only", action="store_true",
                    help="only build the indexes (and record their rebuild figures), for a later --skip-build run")
    ap.add_argument("--shared", type=Path, default=None, help="the shared material (default ../shared)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--backend", choices=("whoosh", "opensearch"), default="whoosh",
                    help="the engine measured (default whoosh); opensearch: the cluster of --opensearch-url")
    ap.add_argument("--opensearch-url", default=None,
                    help="the cluster's nodes, comma-separated (default $DEPECHE_OPENSEARCH_URL, else the local cluster)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--alias", help=argparse.SUPPRESS)
    args = ap.parse_args()
    shared = evaluation.shared_dir(args.shared)
    if args.backend == "opensearch":
        from search import backend

        args.opensearch_url = args.opensearch_url or backend.settings()["OPENSEARCH_URL"]
    if args.worker == "answer":
        answer_worker(args.index, shared)
        return 0
    if args.worker == "latency":
        cluster = (args.opensearch_url, args.alias) if args.backend == "opensearch" else None
        latency_worker(args.index, args.queries, shared, cluster)
        return 0
    corpus = shared / evaluation.CORPORA["orangesum"][0]
    qfile = shared / evaluation.CORPORA["orangesum"][1]
    if not corpus.exists() or not qfile.exists():
        print(f"skipped: {corpus} or {qfile} not found (the shared corpus is needed)")
        return 0
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    if args.queries < 1:
        ap.error("--queries must be positive")
    if args.build_only and args.skip_build:
        ap.error("--build-only and --skip-build exclude each other")
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    args.workdir = (args.workdir or Path(base) / "depeche" / "scale").resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    # A SIGTERM runs the finally clauses (the server is stopped, the add copy removed).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.backend == "opensearch":
        return os_main(args, sizes, corpus, shared)

    queries, results, out = run_sizes(measure, args, sizes, corpus, shared)
    if args.build_only:
        return 0
    ref = next((r for r in results if r["size"] == "34k"), results[0])
    if len(results) > 1:
        log("interleaved: each query asked of every size in turn")
        out["interleaved"] = interleaved({r["size"]: args.workdir / f"index-{r['size']}" for r in [ref, *[x for x in results if x is not ref]]},
                                         queries, shared)
    out["targets_at_1m"] = TARGETS
    (args.workdir / "last.json").write_text(json.dumps(out, indent=1))
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"Scale benchmark ({out['commit']}, {out['started']}, {out['cores']} cores, {len(queries)} dev queries after "
          f"{WARMUP} PIAF warm-up, full response; load average {out['load_start']} at start, {out['load_end']} at end; "
          f"{out['minutes']:.0f} min)")
    print("\n".join(table(results)))
    print("1M targets per size (they apply at 1M):")
    for r in results:
        print("  " + checks(r, ref))
    for r in results:
        c, L, S = r["corpus"], r["latency"], r["server"]
        cpu = " + ".join(f"{w['cpu_s']:.0f}" for w in S["workers"])
        peaks = " + ".join(f"{w.get('peak_rss_mib', 0):,.0f}" for w in S["workers"])
        print(f"  {r['size']}: {c['distinct_people']:,} people, {c['distinct_places']:,} places; {L['partial']} partial, "
              f"{L['error_count']} errors; vocabulary ready after {L['vocabulary_wait_s']:.1f} s; HTTP (2 clients) "
              f"p50 {S['http']['p50_ms'] or 0:,.0f} ms, statuses {S['http']['statuses']}, "
              f"worker CPU {cpu} s, workers' peak RSS {peaks} MiB")
    if "interleaved" in out:
        print(f"Interleaved (blocks of {INTERLEAVE_BLOCK} queries, every size in turn, a process each), p50 / p95 and p50 ÷ "
              f"{ref['size']}: " + "; ".join(f"{label} {v['p50_ms']:.1f} / {v['p95_ms']:.1f} ms, {v['ratio']:.2f}x"
                                             f"{'' if label == ref['size'] else (' ok' if v['ratio'] <= TARGETS['p50_ratio'] else ' MISSED')}"
                                             for label, v in out["interleaved"].items()))
    today = [f"{k} {v}" for k, v in TODAY.items() if any(r["size"] == k for r in results)]
    if today:
        print("  issue 11 figures (p50 / p95 / max): " + "; ".join(today))
    return 0


if __name__ == "__main__":
    sys.exit(main())
