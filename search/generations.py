"""The layout of an index directory: generations, the ``current`` symlink, the writer lock.

Layout of an index directory (``DEPECHE_INDEX``, default ``index/``)::

    current -> gen-000007      symlink, swapped atomically (rebuild, rollback)
    gen-000007/                a complete Whoosh index + depeche.json + entities.json + words.tsv.gz
      postings-MAIN_<seg>/     each Whoosh segment's postings as flat arrays (postings.py)
      stories.sqlite           MinHash signatures and LSH bands of its dispatches (stories.py)
    gen-000006/ …              older generations kept for ``depeche index rollback``
    gen-000008.tmp-<pid>/      a rebuild in progress (removed if it dies)
    current.moved-<stamp>/     a directory found where the symlink belongs, moved aside by a rebuild
    entities.sqlite            the entity cache, kept across rebuilds
    versions.sqlite            every version of every agency item received (versions.py), kept across rebuilds
    alerts.sqlite              saved searches, their matches and the webhook queue (alerts.py), kept across rebuilds
    .alerts-delivery.lock      flock held by the one webhook delivery worker (alerts.py)
    .lock                      flock held by the one writer

Readers resolve ``current`` when they open, so they only ever see a finished generation; a
rebuild that crashes leaves ``current`` pointing at the old one. This module alone knows these
names.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .analysis import SCHEMA_VERSION

META_FILE = "depeche.json"
ENTITIES_FILE = "entities.json"
CURRENT = "current"
LOCK_FILE = ".lock"
VERSIONS_FILE = "versions.sqlite"
STORIES_FILE = "stories.sqlite"  # in each generation: its own dispatches' story index
ALERTS_FILE = "alerts.sqlite"
ALERTS_DELIVERY_LOCK = ".alerts-delivery.lock"
POSTINGS_PREFIX = "postings-"
DOCARRAYS_PREFIX = "docs-"  # per-document arrays of one commit (docarrays.py)
_GEN = re.compile(r"^gen-(\d+)$")
# Readers that opened an old generation keep working until they refresh, and
# `depeche index rollback` has something to go back to.
KEEP_OLD_GENERATIONS = 3
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class IndexError_(Exception):
    """Base for index problems shown to the user as plain messages."""


class IndexMissing(IndexError_):
    """No index has been built in this directory yet."""


class IndexDamaged(IndexError_):
    """``current`` is not a symlink to a generation (a file or a directory took its place)."""


class IndexVersionMismatch(IndexError_):
    """The index was built with another analyzer version."""


class IndexLocked(IndexError_):
    """Another process is writing to the index."""


class RollbackRefused(IndexError_):
    """The generation asked for cannot be made live."""


def index_dir(path: str | os.PathLike | None = None) -> Path:
    """The index directory: the argument, else $DEPECHE_INDEX, else ./index."""
    return Path(path or os.environ.get("DEPECHE_INDEX") or "index")


def generation_name(number: int) -> str:
    """The directory name of generation ``number``."""
    return f"gen-{number:06d}"


def building_dir(root: Path, number: int) -> Path:
    """Where generation ``number`` is built before it is renamed into place."""
    return root / f"{generation_name(number)}.tmp-{os.getpid()}"


def postings_dir(gen: Path, segment: str) -> Path:
    """Where a segment's postings arrays live in its generation."""
    return gen / f"{POSTINGS_PREFIX}{segment}"


def docarrays_dir(gen: Path, commit: str) -> Path:
    """Where the per-document arrays of one commit (Whoosh's TOC generation) live in its generation."""
    return gen / f"{DOCARRAYS_PREFIX}{commit}"


def current_generation(root: Path) -> Path:
    """The directory of the live generation; IndexMissing if none, IndexDamaged if ``current`` is not a symlink."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        if link.is_dir():
            raise IndexDamaged(
                f"{link} est un dossier et non un lien vers une génération : "
                "`depeche index rebuild` le met de côté et le remplace") from None
        if link.exists():
            raise IndexDamaged(
                f"{link} est un fichier ordinaire et non un lien vers une génération : "
                "`depeche index rebuild` le remplace") from None
        raise IndexMissing(f"pas encore d'index dans {root}/ : lancez `depeche index rebuild`") from None
    return root / target


def live_generation_or_none(root: Path) -> Path | None:
    """The live generation's directory, or None when there is none usable (missing or damaged link)."""
    try:
        gen = current_generation(root)
    except IndexError_:
        return None
    return gen if gen.is_dir() else None


def read_meta(gen: Path) -> dict:
    """The generation's metadata (analyzer version, generation number, counts)."""
    try:
        return json.loads((gen / META_FILE).read_text())
    except (OSError, ValueError):
        raise IndexMissing(f"{gen} n'est pas un index Dépêche : lancez `depeche index rebuild`") from None


def check_version(meta: dict, root: Path) -> None:
    """Refuse an index built with another analyzer."""
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise IndexVersionMismatch(
            f"l'index de {root}/ a été construit avec l'analyseur {meta.get('schema_version')!r}, "
            f"cette version de Dépêche utilise {SCHEMA_VERSION!r} : lancez `depeche index rebuild`"
        )


def numbered_generations(root: Path) -> list[tuple[int, Path]]:
    """Finished-or-not ``gen-N`` directories, oldest first."""
    gens = []
    for p in root.iterdir() if root.is_dir() else []:
        m = _GEN.match(p.name)
        if m and p.is_dir():
            gens.append((int(m.group(1)), p))
    return sorted(gens)


def next_number(root: Path) -> int:
    """The number the next rebuild's generation gets."""
    gens = numbered_generations(root)
    return gens[-1][0] + 1 if gens else 1


@dataclass
class GenerationInfo:
    """One kept generation, as listed by ``depeche index generations``."""

    generation: int
    directory: str
    built_at: str | None
    documents: int | None
    schema_version: str | None
    finished: bool  # its metadata was written: the build went to the end
    live: bool

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


def list_generations(root: Path) -> list[GenerationInfo]:
    """Every kept generation, oldest first, with its metadata and which one is live."""
    live = live_generation_or_none(root)
    infos = []
    for number, path in numbered_generations(root):
        try:
            meta = json.loads((path / META_FILE).read_text())
        except (OSError, ValueError):
            meta = None
        finished = isinstance(meta, dict) and meta.get("generation") == number
        meta = meta if finished else {}
        infos.append(GenerationInfo(number, str(path), meta.get("built_at"), meta.get("documents"),
                                    meta.get("schema_version"), finished,
                                    live is not None and live.name == path.name))
    return infos


def swap_current(root: Path, gen: Path) -> Path | None:
    """Point ``current`` at ``gen`` atomically; returns where a directory found in its place was moved."""
    link = root / CURRENT
    moved = None
    if link.is_dir() and not link.is_symlink():
        # rename(2) cannot put a symlink over a directory, and that directory may be a real
        # generation someone copied in by hand: keep it, under a name no cleanup touches.
        moved = root / f"{CURRENT}.moved-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        os.rename(link, moved)
    tmp = root / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, link)  # rename(2) is atomic: readers see old or new, never neither
    fsync_dir(root)
    return moved


def publish_dir(tmp: Path, target: Path) -> None:
    """Put a folder written aside in place of ``target``, its files made durable first: readers
    find the old folder or the whole new one, never a part."""
    for p in tmp.iterdir():
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (renames, new files) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(root: Path, keep: Path | None) -> None:
    """Remove unfinished builds and generations older than the ones we keep."""
    for p in root.glob("gen-*.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".current.*"):
        with contextlib.suppress(OSError):
            p.unlink()
    gens = [p for _, p in numbered_generations(root) if keep is None or p.name != keep.name]
    for p in gens[: max(0, len(gens) - KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(p, ignore_errors=True)


def rollback(root: Path, number: int | None = None) -> tuple[int | None, int]:
    """Make generation ``number`` (default: the newest before the live one) live again; (from, to)."""
    from whoosh import index as whoosh_index

    with writer_lock(root):
        live = live_generation_or_none(root)
        live_number = int(_GEN.match(live.name).group(1)) if live is not None and _GEN.match(live.name) else None
        infos = {g.generation: g for g in list_generations(root)}
        if number is None:
            older = [n for n in infos if live_number is None or n < live_number]
            if not older:
                raise RollbackRefused(f"aucune génération antérieure à la génération en service dans {root}/")
            number = max(older)
        info = infos.get(number)
        if info is None:
            kept = ", ".join(str(n) for n in sorted(infos)) or "aucune"
            raise RollbackRefused(f"pas de génération {number} dans {root}/ (générations gardées : {kept})")
        if info.live:
            raise RollbackRefused(f"la génération {number} est déjà en service")
        path = Path(info.directory)
        if not info.finished or not whoosh_index.exists_in(str(path)):
            raise RollbackRefused(f"la génération {number} est inachevée (sa construction n'est pas allée au bout)")
        if info.schema_version != SCHEMA_VERSION:
            raise RollbackRefused(
                f"la génération {number} a été construite avec l'analyseur {info.schema_version!r}, "
                f"cette version de Dépêche utilise {SCHEMA_VERSION!r}")
        swap_current(root, path)
    return live_number, number


# ---------------------------------------------------------------- the writer lock

_held_lock_fds: set[int] = set()
_lock_owner_pid: int | None = None


def _child_lets_go() -> None:
    # A forked child (Whoosh's indexing pool, the entity model's workers) inherits the lock's
    # file description: were it to outlive a killed writer, it would hold the lock for minutes.
    # The parent's own fd keeps the lock; the child closes its copy and dies with the parent.
    if not _held_lock_fds:
        return
    for fd in list(_held_lock_fds):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_lock_fds.clear()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):  # not Linux: closing the fd is what matters for the lock
        pass
    if os.getppid() != _lock_owner_pid:  # the parent died before prctl took effect
        os._exit(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_child_lets_go)


@contextlib.contextmanager
def writer_lock(root: Path):
    """Hold the single-writer lock; IndexLocked if another process has it.

    flock is released by the kernel when the holder dies, and forked children close their copy
    (see _child_lets_go), so a killed writer never leaves the lock behind.
    """
    global _lock_owner_pid
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise IndexLocked(
                f"un autre processus Dépêche (pid {holder}) écrit dans {root}/ ; réessayez quand il aura fini"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _lock_owner_pid = os.getpid()
        _held_lock_fds.add(fd)
        yield
    finally:
        _held_lock_fds.discard(fd)
        os.close(fd)
