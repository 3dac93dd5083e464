"""Continuous ingestion: ``depeche index watch DIR`` adds files to the index as they land in DIR.

How a file travels:

1. It is *taken* once it is settled: seen on two scans with the same size, mtime and inode, and
   either unchanged for ``settle`` seconds of observation or last modified at least ``settle``
   seconds ago. Dotfiles (and dot-folders, such as ``.lu/``), ``*.tmp`` and ``*.part`` are never
   taken: a producer writes ``name.tmp`` (or ``.part``) and renames it to ``name.jsonl`` when
   complete. A producer that writes in place and pauses longer than ``settle`` mid-file can be
   read half-way; renaming is the only safe protocol.
2. Files are grouped in *batches* (``batch_seconds`` after the first ready file, at most
   ``max_batch`` files). Every file of a batch is hashed (SHA-256) and recorded in the journal
   with its name, size, mtime and inode, as a ``pending`` batch, before anything is written.
3. The batch's files with at least one valid record go through the watcher's *writer* (``Writer``):
   by default ``IndexWriter``, ``indexing.add`` (the writer of ``depeche index add``: one Whoosh
   commit, so the whole batch is in the index or none of it); on a cluster
   (search/opensearch/watch_writer.py) the cluster's ``index add`` through its alias. When the
   writer is busy (another process holds the Whoosh writer lock; the cluster cannot be reached),
   the batch waits and retries with backoff.
4. ``on_batch(report, ids)`` is called (the single call point for the newsroom's saved-search
   alerts), then the batch is marked ``done`` in the journal.
5. Files are moved to ``DIR/.lu/`` (read) with their relative name, a ``~N`` suffix on a name
   already taken; a file none of whose records is valid goes to ``DIR/.rejete/`` instead. Then
   the batch is ``moved``.

The journal (``watch.sqlite`` in the index directory, one row per batch and per file, SQLite in
FULL synchronous mode) is what makes a restart exact. On start, every unfinished batch of this
folder is finished first: a ``done`` batch only has its files moved; a ``pending`` batch whose
files are still in place with the recorded hash is checked against the index (every record's id
present with the same title, lead, body and date, asked of the writer): found, it is marked done
(the crash came after the commit); not found, it is added again (the crash came before). On a
cluster a bulk cut short may have written part of a batch: adding it again replaces those
documents (same ids), so each still ends in the index once. A file changed since it
was recorded is forgotten and taken again as a new file; a vanished one is reported.

Guarantee: each file that lands in DIR (one name and content, until it is moved) is committed
to the index exactly once, or moved to ``.rejete/``, whatever the moment the watcher is killed
(``kill -9`` included) and however often it is restarted, provided the index directory and DIR
survive (the journal is the index directory's ``watch.sqlite``). "Exactly once" holds for the
index; ``on_batch`` is at least once (a crash between the commit and ``done`` calls it again on
restart). A second file landing under the name of one already moved is a new file and is
ingested again (same id: it replaces the document).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import generations, indexing
from .documents import Dispatch, Rejection, read_sources, repair_text

READ_DIR = ".lu"  # what was read
REJECTED_DIR = ".rejete"  # files none of whose records was valid
JOURNAL_FILE = "watch.sqlite"
FOLDER_LOCK = ".depeche-watch.lock"  # one watcher per folder
IGNORED_SUFFIXES = (".tmp", ".part")
SETTLE_SECONDS = 0.3
RESCAN_SECONDS = 1.0  # a full scan at least this often, even when change events arrive
POLL_SECONDS = 0.25  # the scan interval when the folder's filesystem gives no change events
BUSY_SCAN_SECONDS = 0.1  # while files are settling or a batch is forming
LOCK_BACKOFF = (0.1, 2.0)  # first and longest wait for a busy writer (lock held, cluster unreachable)
KEEP_JOURNAL_DAYS = 30  # finished batches older than this are pruned from the journal

OnBatch = Callable[[indexing.BuildReport, list[str]], None]


class WatchError(generations.IndexError_):
    """The folder cannot be watched (missing, not a folder)."""


class WatchBusy(generations.IndexLocked):
    """Another ``depeche index watch`` already watches this folder."""


class Stopped(Exception):
    """A stop was asked while the batch was still waiting for the writer lock."""


class Writer:
    """What a watcher commits through: the Whoosh index (``IndexWriter``) or a cluster.

    ``busy`` are the errors after which a batch waits and tries again (nothing was committed,
    or what was is replaced by the same documents); any other error stops the watcher.
    """

    busy: tuple[type[BaseException], ...] = ()

    def where(self) -> str:
        """Where the dispatches go, for the start line (``index index/``)."""
        raise NotImplementedError

    def check(self) -> None:
        """Refuse to start (an IndexError_) when there is nothing to add to."""
        raise NotImplementedError

    def add(self, paths: list[Path], *, entities: bool, on_reject: Callable[[Rejection], None]) -> indexing.BuildReport:
        """Add (or replace, same id) the records of ``paths`` in one write."""
        raise NotImplementedError

    def committed(self, docs: list[Dispatch]) -> bool:
        """Whether every one of ``docs`` is in the index as read (same title, lead, body and date)."""
        raise NotImplementedError

    def waiting(self, error: BaseException) -> str:
        """The line said once when a batch starts waiting after ``error``."""
        return f"index occupé ({error}) : j'attends et je réessaie"


class IndexWriter(Writer):
    """The Whoosh index at ``root``, written by ``indexing.add`` under its writer lock."""

    busy = (generations.IndexLocked,)

    def __init__(self, root: Path):
        self.root = root

    def where(self) -> str:
        return f"index {self.root}"

    def check(self) -> None:
        generations.check_version(generations.read_meta(generations.current_generation(self.root)), self.root)

    def add(self, paths, *, entities, on_reject):
        return indexing.add(paths, self.root, entities=entities, on_reject=on_reject)

    def committed(self, docs):
        try:
            ix, _, _ = indexing.open_generation(self.root)
        except generations.IndexError_:
            return False
        with ix.searcher() as s:
            for d in docs:
                sf = s.document(id=d.id)
                if sf is None or (sf.get("title"), sf.get("lead"), sf.get("body"), sf.get("date")) != (
                        d.display_title, d.lead, d.body, d.date):
                    return False
        return True


# ---------------------------------------------------------------- helpers


def fr_number(x: float, digits: int = 1) -> str:
    """0,8 (the CLI's fr_float, without importing the CLI)."""
    return f"{x:.{digits}f}".replace(".", ",")


def plural(n: int, singular: str, plural_: str) -> str:
    """``n`` and the noun agreed in French (0 and 1 take the singular)."""
    return f"{n} {singular if n <= 1 else plural_}"


def ignored(name: str) -> bool:
    """Dotfiles and files still being written under a temporary name."""
    return name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES)


def scan(folder: Path) -> dict[str, tuple[int, int, int]]:
    """{relative name: (size, mtime_ns, inode)} of the regular files to take, recursively."""
    found: dict[str, tuple[int, int, int]] = {}
    stack = [(folder, "")]
    while stack:
        d, prefix = stack.pop()
        try:
            entries = list(os.scandir(d))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for e in entries:
            if ignored(e.name):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append((Path(e.path), prefix + e.name + "/"))
                elif e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    found[prefix + e.name] = (st.st_size, st.st_mtime_ns, st.st_ino)
            except FileNotFoundError:  # gone between listing and stat
                continue
    return found


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Settler:
    """Which files have stopped changing."""

    def __init__(self, settle: float = SETTLE_SECONDS):
        self.settle = settle
        self.seen: dict[str, tuple[tuple[int, int, int], float]] = {}

    def update(self, files: dict[str, tuple[int, int, int]], now: float | None = None) -> list[str]:
        """The settled files among ``files`` (in name order); forgets files no longer there."""
        now = time.monotonic() if now is None else now
        wall = time.time()
        ready = []
        for rel, sig in files.items():
            prev = self.seen.get(rel)
            if prev is None or prev[0] != sig:
                self.seen[rel] = (sig, now)
                continue
            if now - prev[1] >= self.settle or wall - sig[1] / 1e9 >= self.settle:
                ready.append(rel)
        for rel in [r for r in self.seen if r not in files]:
            del self.seen[rel]
        return sorted(ready)

    def settling(self, ready: Iterable[str], skipped: Iterable[str] = ()) -> int:
        """How many files are seen but not settled yet."""
        return len(set(self.seen) - set(ready) - set(skipped))

    def forget(self, rel: str) -> None:
        self.seen.pop(rel, None)


# ---------------------------------------------------------------- the journal


@dataclass
class Entry:
    """One file of a batch, as recorded before the batch is committed."""

    rel: str
    size: int
    mtime_ns: int
    ino: int
    sha256: str
    outcome: str = "lu"  # "lu" (some record valid) or "rejete" (none)
    docs: list[Dispatch] = field(default_factory=list, repr=False)
    rejections: list[Rejection] = field(default_factory=list, repr=False)


class Journal:
    """Batches and their files in ``watch.sqlite``: pending before the commit, done after, moved last."""

    def __init__(self, path: Path, folder: Path):
        self.folder = str(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        with self._tx():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT, folder TEXT NOT NULL, "
                "state TEXT NOT NULL, created REAL NOT NULL, finished REAL, indexed INTEGER)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS files (batch INTEGER NOT NULL REFERENCES batches(id), rel TEXT NOT NULL, "
                "size INTEGER, mtime_ns INTEGER, ino INTEGER, sha256 TEXT, outcome TEXT, dest TEXT, "
                "PRIMARY KEY (batch, rel))")
            self.db.execute("CREATE INDEX IF NOT EXISTS batches_state ON batches (folder, state)")

    @contextlib.contextmanager
    def _tx(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def begin(self, entries: list[Entry]) -> int:
        """Record a pending batch; its number."""
        with self._tx():
            cur = self.db.execute("INSERT INTO batches (folder, state, created) VALUES (?, 'pending', ?)",
                                  (self.folder, time.time()))
            batch = cur.lastrowid
            self.db.executemany(
                "INSERT INTO files (batch, rel, size, mtime_ns, ino, sha256, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(batch, e.rel, e.size, e.mtime_ns, e.ino, e.sha256, e.outcome) for e in entries])
        return batch

    def forget_files(self, batch: int, rels: Iterable[str]) -> None:
        with self._tx():
            self.db.executemany("DELETE FROM files WHERE batch = ? AND rel = ?", [(batch, r) for r in rels])

    def abandon(self, batch: int) -> None:
        """Nothing of the batch was committed: forget it (its files are taken again)."""
        with self._tx():
            self.db.execute("DELETE FROM files WHERE batch = ?", (batch,))
            self.db.execute("DELETE FROM batches WHERE id = ?", (batch,))

    def mark_done(self, batch: int, indexed: int) -> None:
        with self._tx():
            self.db.execute("UPDATE batches SET state = 'done', indexed = ? WHERE id = ?", (indexed, batch))

    def mark_moved(self, batch: int, dests: dict[str, str | None]) -> None:
        with self._tx():
            self.db.executemany("UPDATE files SET dest = ? WHERE batch = ? AND rel = ?",
                                [(d, batch, r) for r, d in dests.items()])
            self.db.execute("UPDATE batches SET state = 'moved', finished = ? WHERE id = ?", (time.time(), batch))

    def unfinished(self) -> list[tuple[int, str, list[Entry]]]:
        """(number, state, entries) of this folder's batches not yet moved, oldest first."""
        out = []
        rows = self.db.execute("SELECT id, state FROM batches WHERE folder = ? AND state != 'moved' ORDER BY id",
                               (self.folder,)).fetchall()
        for batch, state in rows:
            files = self.db.execute("SELECT rel, size, mtime_ns, ino, sha256, outcome FROM files WHERE batch = ? "
                                    "ORDER BY rel", (batch,)).fetchall()
            out.append((batch, state, [Entry(*f) for f in files]))
        return out

    def files_of(self, batch: int) -> list[tuple]:
        return self.db.execute("SELECT rel, sha256, outcome, dest FROM files WHERE batch = ? ORDER BY rel", (batch,)).fetchall()

    def state(self, batch: int) -> str | None:
        row = self.db.execute("SELECT state FROM batches WHERE id = ?", (batch,)).fetchone()
        return row[0] if row else None

    def prune(self, days: float = KEEP_JOURNAL_DAYS) -> None:
        limit = time.time() - days * 86400
        with self._tx():
            self.db.execute("DELETE FROM files WHERE batch IN (SELECT id FROM batches WHERE folder = ? AND "
                            "state = 'moved' AND finished < ?)", (self.folder, limit))
            self.db.execute("DELETE FROM batches WHERE folder = ? AND state = 'moved' AND finished < ?",
                            (self.folder, limit))

    def close(self) -> None:
        self.db.close()


# ---------------------------------------------------------------- change events


class Wakeup:
    """Wakes the scan loop on a change in the folder (watchfiles), or after a timeout.

    Scans also run on a timer (``RESCAN_SECONDS``), so a lost event or a filesystem that sends
    none (NFS written by another host, some FUSE mounts) only costs latency. When no event
    arrives for a probe file written at start, or watchfiles is missing, the timer is shortened
    to ``POLL_SECONDS``: plain polling with os.scandir.
    """

    def __init__(self, folder: Path, use_events: bool = True):
        self.folder = folder
        self.changed = threading.Event()
        self.stop_event = threading.Event()
        self.events = False
        self.thread: threading.Thread | None = None
        if use_events and os.environ.get("DEPECHE_WATCH_POLLING") != "1":
            self._start()

    def _start(self) -> None:
        try:
            import watchfiles
        except ImportError:
            return
        started = threading.Event()

        def run():
            try:
                for changes in watchfiles.watch(self.folder, watch_filter=None, debounce=100, step=20,
                                                stop_event=self.stop_event, rust_timeout=300, yield_on_timeout=True,
                                                raise_interrupt=False, ignore_permission_denied=True):
                    started.set()  # the first (empty) timeout wakeup: the watch is in place
                    if changes:
                        self.changed.set()
            except Exception:  # no inotify watches left, folder gone…: the timer scans go on
                self.events = False
            finally:
                started.set()

        self.thread = threading.Thread(target=run, name="depeche-watch-events", daemon=True)
        self.thread.start()
        # Probe: a dotfile (never taken) written once the watcher runs must produce an event.
        started.wait(2.0)
        self.changed.clear()
        probe = self.folder / f".depeche-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"")
            self.events = self.changed.wait(1.0)
        except OSError:
            self.events = False
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()

    @property
    def idle_timeout(self) -> float:
        return RESCAN_SECONDS if self.events else POLL_SECONDS

    def wait(self, timeout: float) -> None:
        self.changed.wait(timeout)
        self.changed.clear()

    def close(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=2.0)


# ---------------------------------------------------------------- the watcher


@dataclass
class BatchResult:
    """What one batch did (the CLI prints one line of it)."""

    number: int
    files: int
    indexed: int
    rejected: int
    seconds: float
    ids: list[str]
    recovered: str = ""  # "", "found" (already committed) or "readded"


class Watcher:
    """Watches ``folder`` and adds what lands there through ``writer``, batch by batch.

    ``root`` is the local index directory: it holds the journal, and is the Whoosh index the
    default writer adds to.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        root: str | os.PathLike | None = None,
        *,
        entities: bool = True,
        batch_seconds: float = 1.0,
        max_batch: int = 200,
        settle: float = SETTLE_SECONDS,
        on_batch: OnBatch | None = None,
        on_reject: Callable[[Rejection], None] | None = None,
        say: Callable[[str], None] | None = None,
        use_events: bool = True,
        writer: Writer | None = None,
    ):
        self.folder = Path(folder)
        self.root = generations.index_dir(root)
        self.writer = writer or IndexWriter(self.root)
        self.entities = entities
        self.batch_seconds = max(0.0, batch_seconds)
        self.max_batch = max(1, int(max_batch))
        self.settler = Settler(settle)
        self.on_batch = on_batch
        self.on_reject = on_reject or (lambda rej: self.say(f"rejeté {rej}"))
        self.say = say or (lambda msg: print(repair_text(msg), flush=True))
        self.use_events = use_events
        self.stop_event = threading.Event()
        self.batches: list[BatchResult] = []
        self._lock_fd: int | None = None
        self._unreadable: dict[str, tuple[int, int, int]] = {}  # left in place until they change

    # -- life cycle

    def stop(self) -> None:
        """Ask the loop to end after the current batch (thread- and signal-safe)."""
        self.stop_event.set()

    def run(self, once: bool = False) -> list[BatchResult]:
        """Finish what the journal left, then ingest; ``once``: what is there now, then return."""
        if not self.folder.is_dir():
            what = "n'est pas un dossier" if self.folder.exists() else "introuvable"
            raise WatchError(f"dossier surveillé {repair_text(str(self.folder))} {what}")
        self.writer.check()
        self._lock_folder()
        journal = Journal(self.root / JOURNAL_FILE, self.folder.resolve())
        wake = None
        try:
            self._recover(journal)
            journal.prune()
            if not once:
                wake = Wakeup(self.folder, self.use_events)
                mode = "événements du système de fichiers" if wake.events else f"examen toutes les {fr_number(POLL_SECONDS, 2)} s"
                self.say(f"surveillance de {self.folder} ({mode}) ; {self.writer.where()}")
            self._loop(journal, wake, once)
        finally:
            if wake is not None:
                wake.close()
            journal.close()
            self._unlock_folder()
        return self.batches

    def _lock_folder(self) -> None:
        fd = os.open(self.folder / FOLDER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise WatchBusy(f"un autre `depeche index watch` (pid {holder}) surveille déjà {self.folder}/") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def _unlock_folder(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _loop(self, journal: Journal, wake: Wakeup | None, once: bool) -> None:
        first_ready: float | None = None
        if once:
            # Two looks at least `settle` apart: a file still growing is left for the next run.
            self.settler.update(scan(self.folder))
            if self.stop_event.wait(self.settler.settle):
                return
        while not self.stop_event.is_set():
            files = scan(self.folder)
            ready = [r for r in self.settler.update(files) if self._unreadable.get(r) != files[r]]
            now = time.monotonic()
            waited = 0.0
            if ready:
                first_ready = first_ready if first_ready is not None else now
                # Since the oldest ready file landed (its mtime: a renamed file was written just
                # before), or was first seen: files that queued during a long batch go at once.
                landed = min(files[r][1] for r in ready) / 1e9
                waited = max(now - first_ready, time.time() - landed)
                if once or len(ready) >= self.max_batch or waited >= self.batch_seconds:
                    self._batch(journal, ready[: self.max_batch])
                    first_ready = None if len(ready) <= self.max_batch else time.monotonic() - self.batch_seconds
                    continue
            else:
                first_ready = None
            if once:
                left = self.settler.settling(ready, self._unreadable)
                if left:
                    self.say(f"{plural(left, 'fichier encore en cours d’écriture laissé', 'fichiers encore en cours d’écriture laissés')} "
                             "pour le prochain passage")
                return
            busy = ready or self.settler.settling(ready, self._unreadable)
            timeout = BUSY_SCAN_SECONDS if busy else wake.idle_timeout
            if first_ready is not None:
                timeout = min(timeout, max(0.0, self.batch_seconds - waited))
            wake.wait(timeout)
            if self.stop_event.is_set():
                break

    # -- one batch

    def _prepare(self, rels: list[str]) -> list[Entry]:
        """Hash and read each file; which have a valid record (duplicate ids across the batch rejected)."""
        entries = []
        seen: set[str] = set()
        for rel in rels:
            path = self.folder / rel
            sig = signature(path)
            if sig is None:
                self.settler.forget(rel)
                continue
            try:
                digest = file_hash(path)
            except OSError as e:
                self.say(f"illisible, laissé en place : {path} ({e.strerror or e})")
                self._unreadable[rel] = sig
                continue
            if signature(path) != sig:  # changed while hashed: not settled after all
                self.settler.forget(rel)
                continue
            entry = Entry(rel, *sig, digest)
            self._read(entry, seen)
            entries.append(entry)
        return entries

    def _read(self, entry: Entry, seen: set[str]) -> None:
        for item in read_sources([self.folder / entry.rel]):
            if isinstance(item, Rejection):
                entry.rejections.append(item)
            elif item.id in seen and item.agency is None:
                # Versions of one agency item share their guid: the index keeps the newest.
                entry.rejections.append(Rejection(str(self.folder / entry.rel), None, f"id {item.id!r} en double dans le lot"))
            else:
                seen.add(item.id)
                entry.docs.append(item)
        entry.outcome = "lu" if entry.docs else "rejete"

    def _batch(self, journal: Journal, rels: list[str]) -> None:
        t0 = time.perf_counter()
        entries = self._prepare(rels)
        if not entries:
            return
        number = journal.begin(entries)
        try:
            report = self._commit(entries)
        except Stopped:
            journal.abandon(number)
            return
        ids = [d.id for e in entries for d in e.docs]
        self._after_commit(journal, number, entries, report, ids)
        for e in entries:
            if e.outcome == "rejete":
                for rej in e.rejections:
                    self.on_reject(rej)
        result = BatchResult(number, len(entries), report.indexed, len(report.rejected) + sum(
            len(e.rejections) for e in entries if e.outcome == "rejete"), time.perf_counter() - t0, ids)
        self._finish(journal, number, entries, result)

    def _commit(self, entries: list[Entry]) -> indexing.BuildReport:
        """The writer's add of the files with a valid record, waiting while it is busy."""
        paths = [self.folder / e.rel for e in entries if e.outcome == "lu"]
        if not paths:
            return indexing.BuildReport()
        return self._when_ready(lambda: self.writer.add(paths, entities=self.entities, on_reject=self.on_reject))

    def _when_ready(self, call):
        """``call()``, tried again with backoff while the writer is busy (said once); Stopped on a stop."""
        delay, told = LOCK_BACKOFF[0], False
        while True:
            try:
                return call()
            except self.writer.busy as e:
                if not told:
                    self.say(self.writer.waiting(e))
                    told = True
                if self.stop_event.wait(delay):
                    raise Stopped from None
                delay = min(delay * 2, LOCK_BACKOFF[1])

    def _after_commit(self, journal: Journal, number: int, entries: list[Entry], report, ids: list[str]) -> None:
        if self.on_batch is not None and ids:
            try:
                self.on_batch(report, ids)
            except Exception as e:  # an alert that fails must not stop ingestion
                self.say(f"lot {number} : l'appel après le lot a échoué ({e.__class__.__name__} : {e})")
        journal.mark_done(number, report.indexed)

    def _finish(self, journal: Journal, number: int, entries: list[Entry], result: BatchResult) -> None:
        dests = {e.rel: self._move(e) for e in entries}
        journal.mark_moved(number, dests)
        for e in entries:
            self.settler.forget(e.rel)
        self.batches.append(result)
        self.say(self.describe(result))

    @staticmethod
    def describe(r: BatchResult) -> str:
        """``lot 12 : 5 fichiers, 5 dépêches indexées en 0,8 s``."""
        rejected = f", {plural(r.rejected, 'rejet', 'rejets')}" if r.rejected else ""
        what = {"found": "reprise, déjà dans l'index : ", "readded": "reprise, indexé de nouveau : "}.get(r.recovered, "")
        return (f"lot {r.number} : {what}{plural(r.files, 'fichier', 'fichiers')}, "
                f"{plural(r.indexed, 'dépêche indexée', 'dépêches indexées')}{rejected} en {fr_number(r.seconds)} s")

    def _move(self, entry: Entry) -> str | None:
        """Move the file to .lu/ or .rejete/ under its relative name; None if it is not the one recorded."""
        src = self.folder / entry.rel
        if signature(src) != (entry.size, entry.mtime_ns, entry.ino):
            return None  # gone, or another file renamed over it since: that one is new, left in place
        base = self.folder / (READ_DIR if entry.outcome == "lu" else REJECTED_DIR)
        dest = unique_name(base / entry.rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dest)
        moved = signature(dest)
        if moved is not None and moved[2] != entry.ino and not src.exists():
            os.rename(dest, src)  # a new file replaced ours between the check and the rename
            return None
        generations.fsync_dir(dest.parent)
        generations.fsync_dir(src.parent)
        return str(dest.relative_to(self.folder))

    # -- restart

    def _recover(self, journal: Journal) -> None:
        for number, state, entries in journal.unfinished():
            t0 = time.perf_counter()
            kept, seen = [], set()
            for e in entries:
                path = self.folder / e.rel
                sig = signature(path)
                if sig is None:
                    if state == "pending":
                        self.say(f"lot {number} : {path} a disparu avant d'être indexé")
                    continue
                if sig[0] != e.size or file_hash(path) != e.sha256:
                    continue  # rewritten since: a new file, taken as such
                e.ino, e.mtime_ns = sig[2], sig[1]
                self._read(e, seen)
                kept.append(e)
            ids = [d.id for e in kept for d in e.docs]
            if state == "pending":
                kept_ids = {id(e) for e in kept}
                journal.forget_files(number, [e.rel for e in entries if id(e) not in kept_ids])
                try:
                    if self._committed(kept):
                        recovered, report = "found", indexing.BuildReport(read=len(ids), indexed=len(ids))
                    else:
                        recovered = "readded"
                        report = self._commit(kept)
                except Stopped:
                    return
                self._after_commit(journal, number, kept, report, ids)
            else:
                recovered, report = "found", indexing.BuildReport(read=len(ids), indexed=len(ids))
            result = BatchResult(number, len(kept), report.indexed, 0, time.perf_counter() - t0, ids, recovered)
            self._finish(journal, number, kept, result)

    def _committed(self, entries: list[Entry]) -> bool:
        """Every valid record of these files is in the live index as read (title, lead, body, date)."""
        docs = [d for e in entries for d in e.docs]
        return not docs or self._when_ready(lambda: self.writer.committed(docs))


def unique_name(path: Path) -> Path:
    """``path``, or ``name~2.jsonl.gz`` … when it is taken."""
    if not path.exists():
        return path
    name = path.name
    cut = len(name)
    for suffix in reversed(path.suffixes[-2:] if name.endswith(".gz") else path.suffixes[-1:]):
        cut -= len(suffix)
    stem, ext = name[:cut], name[cut:]
    n = 2
    while (candidate := path.with_name(f"{stem}~{n}{ext}")).exists():
        n += 1
    return candidate


@contextlib.contextmanager
def stop_on_signals(watcher: Watcher, say: Callable[[str], None] | None = None):
    """SIGINT/SIGTERM: finish the batch under way, then stop; a second signal abandons it.

    An abandoned batch leaves the journal ``pending`` and the index as it was before its commit
    (the writer cancels), or committed if the commit had finished: the next start sorts it out.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    count = 0

    def handler(signum, _frame):
        nonlocal count
        count += 1
        if count == 1:
            if say:
                say("arrêt demandé : je termine le lot en cours")
            watcher.stop()
        else:
            raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
