"""Saved searches and their alerts: what each ``index add`` brings that a saved search matches.

A saved search (an *alert*) is a name, a search request (the query and filters of
``/api/search``, with its parameter names: ``q``, ``person``, ``place``, ``source``, ``urgency``,
``genre``, ``subject``, ``language``, ``slugline``, the exclusions ``not_person``, ``not_place``,
``not_source``, then ``from``, ``to``), an optional webhook URL and
its creation time. They live in ``alerts.sqlite`` beside the index (``generations.ALERTS_FILE``,
kept across rebuilds), with what each one matched and the webhook queue.

Matching (``run``): after ``depeche index add`` and after each ``depeche index watch`` batch (its
``on_batch``), every saved search is run with ``Engine.results(req, within=ids)``: the query is
read against the whole archive (spelling, prefixes), but only the dispatches just written can
match, and only those having every word (a partial match, ``missing`` not empty, is not an
alert). Killed, withheld and embargoed items are not visible to the engine, so never matched.
Each (alert, dispatch) pair is recorded once: ``matches`` has it as its primary key, so a batch
seen twice (the watcher's ``on_batch`` is at least once) or a dispatch replaced later alerts once.

Webhooks (``deliver``): a saved search with a webhook gets a queued delivery (a row of
``deliveries``: the JSON body, the URL, attempts, the time of the next try) for each run that
found new matches. The indexer never sends anything itself: it starts a detached worker
(``python -m search.alerts DIR``, its own session, no terminal) and returns. The worker holds
``generations.ALERTS_DELIVERY_LOCK`` (one worker per index), POSTs each due delivery (timeout
``TIMEOUT_SECONDS``, redirects not followed), marks a 2xx ``delivered``; anything else is tried
again after ``BACKOFF`` seconds doubling at each failure, and ``failed`` after ``MAX_ATTEMPTS``
tries, with the last error kept. It exits when the queue is empty. A delivery left pending by a
worker that died (or a machine restart) is sent by the next worker: every ``index add`` or watch
batch starts one when the queue holds any, and ``depeche alerte envoyer`` drains it in the
foreground. A receiver may see a delivery twice (a crash between its answer and our commit):
``X-Depeche-Delivery`` carries the delivery's id so it can tell.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from .generations import ALERTS_DELIVERY_LOCK, ALERTS_FILE, index_dir
from .model import MAX_QUERY_LENGTH, InvalidRequest, SearchRequest

MAX_NAME_LENGTH = 64
# Letters (any script), digits, then also . _ - : a name is a URL path segment and a CLI argument.
NAME_PATTERN = r"^[^\W_][\w.-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
MAX_WEBHOOK_LENGTH = 2000
# http or https, a host name or IPv4 address, an optional port, then printable ASCII (IRIs: percent-encode).
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
WEBHOOK_PATTERN = rf"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9._~-]+(:{_PORT})?([/?#][!-~]*)?$"
_WEBHOOK = re.compile(WEBHOOK_PATTERN)
MAX_FILTER_VALUES = 20
MAX_VALUE_LENGTH = 200
MAX_ALERTS = 500  # every add runs them all
# The request's keys, as /api/search names its parameters; lists map to SearchRequest fields.
LIST_KEYS = {"person": "people", "place": "places", "source": "sources", "urgency": "urgencies",
             "genre": "genres", "subject": "subjects", "language": "languages", "slugline": "sluglines",
             # « sauf »: a dispatch naming any of these is never an alert (as /api/search's not_*).
             "not_person": "exclude_people", "not_place": "exclude_places", "not_source": "exclude_sources"}
REQUEST_KEYS = ("q", *LIST_KEYS, "from", "to")
_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

MATCHES_PER_DELIVERY = 100  # a large batch is sent as several deliveries
MAX_ATTEMPTS = 6
BACKOFF = (2.0, 300.0)  # seconds before the 2nd try, doubling, at most the second value
TIMEOUT_SECONDS = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    request TEXT NOT NULL,
    webhook TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    alert_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    matched_at TEXT NOT NULL,
    PRIMARY KEY (alert_id, doc_id)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    last_error TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (state, next_at);
"""


class AlertError(InvalidRequest):
    """A saved search that cannot be created, found or deleted; ``status`` is the HTTP answer."""

    status = 400


class AlertExists(AlertError):
    status = 409


class AlertNotFound(AlertError):
    status = 404


def now_iso() -> str:
    """UTC now, ISO 8601 to the second with Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value: str) -> str:
    return " ".join(_JUNK.sub(" ", value).split())


# ---------------------------------------------------------------- validation


def check_name(name) -> str:
    """A saved search's name, or AlertError bad_alert_name."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AlertError("bad_alert_name", f"le nom d'une alerte compte 1 à {MAX_NAME_LENGTH} caractères : lettres, "
                                           "chiffres, puis aussi « . », « _ » ou « - » (sans espace)")
    return name


def check_webhook(url) -> str | None:
    """An http(s) URL with a host, or None; AlertError bad_webhook."""
    if url is None:
        return None
    bad = AlertError("bad_webhook", "le webhook doit être une adresse http:// ou https:// complète "
                                    f"(au plus {MAX_WEBHOOK_LENGTH} caractères)")
    if not isinstance(url, str) or len(url) > MAX_WEBHOOK_LENGTH or not _WEBHOOK.fullmatch(url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad
    return url


def normalize_request(data: dict) -> dict:
    """The request of a saved search with every key (q, the filters as lists, from and to), checked."""
    unknown = sorted(set(data) - set(REQUEST_KEYS))
    if unknown:
        raise AlertError("bad_alert", f"paramètre inconnu : {unknown[0]!r} (permis : {', '.join(REQUEST_KEYS)})")
    q = data.get("q", "")
    if not isinstance(q, str):
        raise AlertError("bad_query", "« q » doit être du texte")
    if len(q) > MAX_QUERY_LENGTH:
        raise AlertError("query_too_long", f"« q » dépasse {MAX_QUERY_LENGTH} caractères")
    out: dict = {"q": _clean(q)}
    for key in LIST_KEYS:
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise AlertError("bad_filter", f"« {key} » doit être une liste de textes")
        if len(raw) > MAX_FILTER_VALUES:
            raise AlertError("bad_filter", f"au plus {MAX_FILTER_VALUES} valeurs pour « {key} »")
        values: list[str] = []
        for v in raw:
            if len(v) > MAX_VALUE_LENGTH:
                raise AlertError("bad_filter", f"une valeur de « {key} » dépasse {MAX_VALUE_LENGTH} caractères")
            if key == "urgency" and not re.search(r"^[1-9]?$", v):
                raise AlertError("bad_filter", f"« urgency » doit être un chiffre de 1 (flash) à 9 (reçu {v[:20]!r})")
            v = _clean(v)
            if v and v not in values:
                values.append(v)
        out[key] = values
    for key in ("from", "to"):
        v = data.get(key)
        if v is not None and (not isinstance(v, str) or not (v == "" or _DATE.fullmatch(v))):
            raise AlertError("bad_date", f"« {key} » doit être une date AAAA, AAAA-MM ou AAAA-MM-JJ")
        out[key] = v or None
    from .engine import Engine

    try:
        Engine.validate(search_request(out))
    except InvalidRequest as e:
        raise AlertError(e.code, e.message) from None
    return out


def search_request(request: dict) -> SearchRequest:
    """The SearchRequest of a saved search's request: newest first, no time budget, no highlighting,
    every version of a story."""
    return SearchRequest(
        q=request.get("q") or "",
        date_from=request.get("from"), date_to=request.get("to"),
        sort="newest", highlight=False, time_budget_ms=None,
        collapse="none",  # every new dispatch that matches is news, a new version of a story too
        **{field: tuple(request.get(key) or ()) for key, field in LIST_KEYS.items()},
    )


# ---------------------------------------------------------------- the store


@dataclass
class Alert:
    """One saved search, with how many dispatches it matched so far."""

    id: int
    name: str
    request: dict
    webhook: str | None
    created_at: str
    matches: int = 0

    def to_dict(self) -> dict:
        """Flat JSON: the name, the request's keys, webhook, created_at, matches."""
        return {"name": self.name, **{k: self.request.get(k, [] if k in LIST_KEYS else None) for k in REQUEST_KEYS},
                "webhook": self.webhook, "created_at": self.created_at, "matches": self.matches}


def store_path(root) -> Path:
    """Where an index directory keeps its saved searches."""
    return index_dir(root) / ALERTS_FILE


class AlertStore:
    """``alerts.sqlite``; opened on first use, created only by a write (reading a missing one is empty)."""

    def __init__(self, root=None):
        self.root = index_dir(root)
        self.path = self.root / ALERTS_FILE
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> "AlertStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def exists(self) -> bool:
        return self.path.exists()

    def conn(self, create: bool = False) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            self.root.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    @contextlib.contextmanager
    def _tx(self):
        conn = self.conn(create=True)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- saved searches

    def create(self, name: str, request: dict, webhook: str | None = None) -> Alert:
        """Save a search; AlertError when the name, request or webhook is bad, AlertExists when taken."""
        name = check_name(name)
        request = normalize_request(request)
        webhook = check_webhook(webhook)
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM alerts WHERE name = ?", (name,)).fetchone():
                raise AlertExists("alert_exists", f"une alerte nommée « {name} » existe déjà")
            if conn.execute("SELECT count(*) FROM alerts").fetchone()[0] >= MAX_ALERTS:
                raise AlertError("too_many_alerts", f"au plus {MAX_ALERTS} alertes par index")
            created = now_iso()
            cur = conn.execute("INSERT INTO alerts (name, request, webhook, created_at) VALUES (?, ?, ?, ?)",
                               (name, json.dumps(request, ensure_ascii=False), webhook, created))
        return Alert(cur.lastrowid, name, request, webhook, created)

    def list(self) -> list[Alert]:
        """Every saved search, by name."""
        conn = self.conn()
        if conn is None:
            return []
        rows = conn.execute("SELECT a.*, (SELECT count(*) FROM matches m WHERE m.alert_id = a.id) AS n "
                            "FROM alerts a ORDER BY a.name").fetchall()
        return [self._alert(r) for r in rows]

    def get(self, name: str) -> Alert:
        """One saved search; AlertNotFound."""
        name = check_name(name)
        conn = self.conn()
        row = None if conn is None else conn.execute(
            "SELECT a.*, (SELECT count(*) FROM matches m WHERE m.alert_id = a.id) AS n FROM alerts a WHERE name = ?",
            (name,)).fetchone()
        if row is None:
            raise AlertNotFound("alert_not_found", f"aucune alerte nommée « {name} »")
        return self._alert(row)

    def delete(self, name: str) -> None:
        """Delete a saved search, its matches and its pending deliveries; AlertNotFound."""
        alert = self.get(name)
        with self._tx() as conn:
            conn.execute("DELETE FROM alerts WHERE id = ?", (alert.id,))
            conn.execute("DELETE FROM matches WHERE alert_id = ?", (alert.id,))
            conn.execute("DELETE FROM deliveries WHERE alert_id = ? AND state = 'pending'", (alert.id,))

    @staticmethod
    def _alert(row) -> Alert:
        return Alert(row["id"], row["name"], json.loads(row["request"]), row["webhook"], row["created_at"], row["n"])

    # -- matches

    def record(self, alert_id: int, doc_ids: Iterable[str], matched_at: str | None = None) -> list[str]:
        """Record matches; returns the doc ids not recorded for this alert before."""
        matched_at = matched_at or now_iso()
        new = []
        with self._tx() as conn:
            if not conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone():
                return []  # deleted meanwhile
            for d in dict.fromkeys(doc_ids):
                cur = conn.execute("INSERT OR IGNORE INTO matches (alert_id, doc_id, matched_at) VALUES (?, ?, ?)",
                                   (alert_id, d, matched_at))
                if cur.rowcount:
                    new.append(d)
        return new

    def matches(self, name: str, limit: int = 50) -> list[tuple[str, str]]:
        """(doc id, matched_at) of a saved search, the latest run first, each run's in its search
        order (the newest dispatch first); AlertNotFound."""
        alert = self.get(name)
        rows = self.conn().execute("SELECT doc_id, matched_at FROM matches WHERE alert_id = ? "
                                   "ORDER BY matched_at DESC, rowid ASC LIMIT ?",
                                   (alert.id, limit)).fetchall()
        return [(r[0], r[1]) for r in rows]

    # -- webhook deliveries

    def enqueue(self, alert: Alert, payload: dict) -> int:
        with self._tx() as conn:
            cur = conn.execute("INSERT INTO deliveries (alert_id, url, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
                               (alert.id, alert.webhook, json.dumps(payload, ensure_ascii=False), now_iso(), time.time()))
        return cur.lastrowid

    def deliveries(self, state: str | None = None) -> list[sqlite3.Row]:
        conn = self.conn()
        if conn is None:
            return []
        if state is None:
            return conn.execute("SELECT * FROM deliveries ORDER BY id").fetchall()
        return conn.execute("SELECT * FROM deliveries WHERE state = ? ORDER BY id", (state,)).fetchall()

    def pending_count(self) -> int:
        conn = self.conn()
        return 0 if conn is None else conn.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]

    def delivery_counts(self) -> dict[str, dict[str, int]]:
        """{alert name: {state: count}}."""
        conn = self.conn()
        out: dict[str, dict[str, int]] = {}
        if conn is None:
            return out
        for r in conn.execute("SELECT a.name, d.state, count(*) FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
                              "GROUP BY a.name, d.state"):
            out.setdefault(r[0], {})[r[1]] = r[2]
        return out


# ---------------------------------------------------------------- matching


def run(root, ids: Iterable[str], *, spawn: bool = True, engine=None) -> dict[str, list[str]]:
    """Run every saved search over the dispatches ``ids`` only; {alert name: new doc ids}.

    Queues a webhook delivery per alert with new matches and (``spawn``) starts the detached
    delivery worker when the queue holds anything, then returns at once.
    """
    ids = list(dict.fromkeys(i for i in ids if isinstance(i, str)))
    root = index_dir(root)
    store = AlertStore(root)
    found: dict[str, list[str]] = {}
    try:
        alerts = store.list() if ids else []
        if alerts:
            from .engine import Engine
            from .export import plain

            own = engine is None
            engine = engine or Engine(root)
            # The cluster engine percolates the new dispatches against every saved search at once.
            percolated = engine.alert_matches(alerts, ids) if hasattr(engine, "alert_matches") else None
            try:
                for alert in alerts:
                    if percolated is not None:
                        hits = percolated.get(alert.id, [])
                    else:
                        try:
                            _resp, hits = engine.results(search_request(alert.request), len(ids), within=ids)
                            hits = [h for h in hits if not h.missing]  # every word, not a partial match
                        except InvalidRequest:
                            continue
                    new = set(store.record(alert.id, [h.id for h in hits]))
                    if not new:
                        continue
                    found[alert.name] = [h.id for h in hits if h.id in new]
                    if alert.webhook:
                        rows = [{"id": h.id, "title": h.title, "date": h.date, "source": h.source, "url": h.url,
                                 "people": h.people, "places": h.places, "snippet": plain(h.snippet_segments)}
                                for h in hits if h.id in new]
                        for i in range(0, len(rows), MATCHES_PER_DELIVERY):
                            store.enqueue(alert, {"alert": alert.name, "matched_at": now_iso(),
                                                  "request": alert.request, "matches": rows[i:i + MATCHES_PER_DELIVERY]})
            finally:
                if own and getattr(engine, "_snap", None) is not None:
                    engine._snap.close()
        if spawn and store.pending_count():
            spawn_worker(root)
    finally:
        store.close()
    return found


def on_batch(root, say: Callable[[str], None] | None = None, engine=None):
    """An ``on_batch`` for ``watch.Watcher``: the batch's new dispatches through every saved search
    (on ``engine``, the cluster's when the watcher writes there; else the Whoosh index at ``root``)."""

    def call(report, ids: list[str]) -> None:
        found = run(root, getattr(report, "ids", None) or ids, engine=engine)
        if say:
            for line in describe(found):
                say(line)

    return call


def describe(found: dict[str, list[str]]) -> list[str]:
    """One French line per alert with new matches."""
    return [f"alerte « {name} » : {len(ids)} nouvelle{'s' if len(ids) > 1 else ''} "
            f"dépêche{'s' if len(ids) > 1 else ''}" for name, ids in found.items()]


# ---------------------------------------------------------------- webhook delivery


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer other than 2xx: a failure
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, delivery: int, timeout: float = TIMEOUT_SECONDS) -> str | None:
    """POST one delivery; None when the receiver answered 2xx, else what went wrong."""
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Depeche-alertes/1",
        "X-Depeche-Delivery": str(delivery)})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read(65536)
            return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except urllib.error.URLError as e:
        return str(e.reason)[:300]
    except (OSError, ValueError) as e:  # timeouts, resets, a URL urllib refuses
        return f"{e.__class__.__name__}: {e}"[:300]


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    busy: bool = False  # another worker holds the queue


def deliver(root=None, *, wait: bool = True, max_attempts: int = MAX_ATTEMPTS, backoff: tuple[float, float] = BACKOFF,
            timeout: float = TIMEOUT_SECONDS, sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Send the due webhook deliveries; ``wait``: until the queue is empty (sleeping between tries).

    One worker per index (a flock): another one finds it held and returns ``busy``. Bounded: each
    delivery is tried at most ``max_attempts`` times.
    """
    root = index_dir(root)
    report = DeliveryReport()
    store = AlertStore(root)
    if not store.exists():
        return report
    try:
        while True:
            with _delivery_lock(root) as held:
                if not held:
                    report.busy = True
                    return report
                while True:
                    conn = store.conn()
                    due = conn.execute("SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY id",
                                       (time.time(),)).fetchall()
                    for row in due:
                        _attempt(store, row, report, max_attempts, backoff, timeout)
                    if due:
                        continue
                    nxt = conn.execute("SELECT min(next_at) FROM deliveries WHERE state = 'pending'").fetchone()[0]
                    if nxt is None or not wait:
                        break
                    sleep(max(0.0, min(nxt - time.time(), backoff[1])))
            # A delivery queued while we were letting go of the lock would wait for the next run.
            if not wait or not store.pending_count():
                return report
    finally:
        store.close()


def _attempt(store: AlertStore, row, report: DeliveryReport, max_attempts: int, backoff, timeout: float) -> None:
    error = post(row["url"], row["payload"].encode("utf-8"), row["id"], timeout)
    attempts = row["attempts"] + 1
    with store._tx() as conn:
        if error is None:
            report.delivered += 1
            conn.execute("UPDATE deliveries SET state = 'delivered', attempts = ?, last_error = NULL, finished_at = ? "
                         "WHERE id = ?", (attempts, now_iso(), row["id"]))
        elif attempts >= max_attempts:
            report.failed += 1
            conn.execute("UPDATE deliveries SET state = 'failed', attempts = ?, last_error = ?, finished_at = ? "
                         "WHERE id = ?", (attempts, error, now_iso(), row["id"]))
        else:
            report.retried += 1
            delay = min(backoff[0] * 2 ** (attempts - 1), backoff[1])
            conn.execute("UPDATE deliveries SET attempts = ?, last_error = ?, next_at = ? WHERE id = ?",
                         (attempts, error, time.time() + delay, row["id"]))


@contextlib.contextmanager
def _delivery_lock(root: Path):
    fd = os.open(root / ALERTS_DELIVERY_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def spawn_worker(root) -> subprocess.Popen | None:
    """Start the delivery worker detached (its own session, no terminal); never waits for it."""
    root = index_dir(root).resolve()
    try:
        return subprocess.Popen([sys.executable, "-m", "search.alerts", str(root)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                close_fds=True, cwd=str(Path(__file__).resolve().parent.parent))
    except OSError:
        return None  # the next run, or `depeche alerte envoyer`, sends them


if __name__ == "__main__":  # the detached delivery worker
    deliver(sys.argv[1] if len(sys.argv) > 1 else None)
