"""The on-disk index: schema, generations, atomic swaps, and the single-writer lock.

Layout of an index directory (``DEPECHE_INDEX``, default ``index/``)::

    current -> gen-000007      symlink, swapped atomically by a rebuild
    gen-000007/                a complete Whoosh index + depeche.json + entities.json
    gen-000008.tmp-<pid>/      a rebuild in progress (removed if it dies)
    entities.sqlite            the entity cache, kept across rebuilds
    .lock                      flock held by the one writer

Readers resolve ``current`` when they open, so they only ever see a finished generation; a
rebuild that crashes leaves ``current`` pointing at the old one.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import SCHEMA_VERSION, FrenchAnalyzer, FrenchPositions, fold_key  # noqa: F401 - fold_key is re-exported
from .documents import Dispatch, Rejection, read_sources

META_FILE = "depeche.json"
ENTITIES_FILE = "entities.json"
CURRENT = "current"
_GEN = re.compile(r"^gen-(\d+)$")
KEEP_OLD_GENERATIONS = 1  # readers that opened the previous one keep working until they refresh


class IndexError_(Exception):
    """Base for index problems shown to the user as plain messages."""


class IndexMissing(IndexError_):
    """No index has been built in this directory yet."""


class IndexVersionMismatch(IndexError_):
    """The index was built with another analyzer version."""


class IndexLocked(IndexError_):
    """Another process is writing to the index."""


class StrictFailure(IndexError_):
    """--strict and some records were rejected: nothing was swapped in."""


def make_schema() -> Schema:
    """The index schema; text fields share the one French analyzer."""
    ana = FrenchAnalyzer()

    def text(**kw):
        field = TEXT(analyzer=ana, stored=True, phrase=True, **kw)
        field.format = FrenchPositions(field_boost=field.format.field_boost)
        return field

    return Schema(
        id=ID(stored=True, unique=True),
        # Indexed from the real title only; the stored value is the display title.
        title=text(),
        lead=text(),
        body=text(),
        date=ID(stored=True),  # as precise as the source: YYYY, YYYY-MM or YYYY-MM-DD
        day=NUMERIC(int, bits=32, sortable=True, signed=False),  # YYYYMMDD, 00 for unknown parts
        month=ID(),  # YYYY-MM, for the date facet and month filters
        source=ID(stored=True),  # entity_key-style folded value, for filtering
        section=ID(stored=True),
        people=KEYWORD(commas=True, stored=True, scorable=False),
        places=KEYWORD(commas=True, stored=True, scorable=False),
        meta=STORED(),  # display values: source, section, url, subheads, title_derived
    )


def date_number(date: str | None) -> int:
    """YYYYMMDD as an int, unknown parts as 00; 0 for an undated dispatch."""
    if not date:
        return 0
    parts = (date.split("-") + ["00", "00"])[:3]
    return int("".join(parts))


def to_fields(doc: Dispatch, people_keys: list[str], places_keys: list[str]) -> dict:
    """The Whoosh fields of one dispatch."""
    fields = {
        "id": doc.id,
        "title": doc.title or "",
        "_stored_title": doc.display_title,
        # A dispatch with neither title nor real lead opens with its lead sentence: it is
        # indexed as the lead (what is shown stays the dispatch's own lead).
        "lead": doc.lead if doc.title else doc.summary,
        "_stored_lead": doc.lead,
        "body": doc.body,
        "day": date_number(doc.date),
        "meta": {
            "source": doc.source,
            "section": doc.section,
            "url": doc.url,
            "subheads": doc.subheads,
            "title_derived": not doc.title,
        },
        "people": ",".join(people_keys),
        "_stored_people": people_keys,
        "places": ",".join(places_keys),
        "_stored_places": places_keys,
    }
    if doc.date:
        fields["date"] = doc.date
        if len(doc.date) >= 7:
            fields["month"] = doc.date[:7]
    if doc.source:
        fields["source"] = fold_key(doc.source)
    if doc.section:
        fields["section"] = fold_key(doc.section)
    return fields


# ---------------------------------------------------------------- generations


def index_dir(path: str | os.PathLike | None = None) -> Path:
    """The index directory: the argument, else $DEPECHE_INDEX, else ./index."""
    return Path(path or os.environ.get("DEPECHE_INDEX") or "index")


def current_generation(root: Path) -> Path:
    """The directory of the live generation; IndexMissing if none."""
    link = root / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        raise IndexMissing(f"no index in {root}/ yet: run `depeche index rebuild`") from None
    return root / target


def read_meta(gen: Path) -> dict:
    """The generation's metadata (analyzer version, generation number, counts)."""
    try:
        return json.loads((gen / META_FILE).read_text())
    except (OSError, ValueError):
        raise IndexMissing(f"{gen} is not a Dépêche index: run `depeche index rebuild`") from None


def check_version(meta: dict, root: Path) -> None:
    """Refuse an index built with another analyzer."""
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise IndexVersionMismatch(
            f"the index in {root}/ was built with analyzer {meta.get('schema_version')!r}, "
            f"this version of Dépêche uses {SCHEMA_VERSION!r}: run `depeche index rebuild`"
        )


def open_generation(root: str | os.PathLike | None = None):
    """(whoosh index, generation dir, meta) of the live generation, version-checked."""
    root = index_dir(root)
    gen = current_generation(root)
    meta = read_meta(gen)
    check_version(meta, root)
    return whoosh_index.open_dir(str(gen)), gen, meta


def _generations(root: Path) -> list[tuple[int, Path]]:
    gens = []
    for p in root.iterdir() if root.exists() else []:
        m = _GEN.match(p.name)
        if m and p.is_dir():
            gens.append((int(m.group(1)), p))
    return sorted(gens)


def _swap_current(root: Path, gen: Path) -> None:
    tmp = root / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, root / CURRENT)  # rename(2) is atomic: readers see old or new, never neither
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clean_leftovers(root: Path, keep: Path | None) -> None:
    """Remove unfinished builds and generations older than the ones we keep."""
    for p in root.glob("gen-*.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in root.glob(".current.*"):
        with contextlib.suppress(OSError):
            p.unlink()
    gens = [p for _, p in _generations(root) if keep is None or p != keep]
    for p in gens[: max(0, len(gens) - KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(root: Path):
    """Hold the single-writer lock; IndexLocked if another process has it.

    flock is released by the kernel when the holder dies, so a killed rebuild never leaves a
    stale lock behind.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise IndexLocked(
                f"another Dépêche process (pid {holder}) is writing to {root}/; try again when it has finished"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------- building


@dataclass
class BuildReport:
    """What a build or update did."""

    read: int = 0
    indexed: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    generation: int = 0

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0


class EntityCounts:
    """Surface forms seen for each entity key, to choose one display form per entity."""

    def __init__(self, data: dict | None = None):
        self.forms = {kind: {k: Counter(v) for k, v in (data or {}).get(kind, {}).items()} for kind in ("people", "places")}

    def add(self, kind: str, names: Iterable[str]) -> list[str]:
        keys = []
        for name in names:
            key = fold_key(name)
            if key and key not in keys:
                self.forms[kind].setdefault(key, Counter())[name] += 1
                keys.append(key)
        return keys

    def to_json(self) -> dict:
        return {kind: {k: dict(c) for k, c in m.items()} for kind, m in self.forms.items()}


def _entity_stream(docs: Iterator[Dispatch], root: Path, enabled: bool) -> Iterator[tuple[Dispatch, list[str], list[str]]]:
    if not enabled:
        for d in docs:
            yield d, list(d.people), list(d.places)
        return
    from .entities import EntityExtractor, document_text

    pending: deque[Dispatch] = deque()

    def texts():
        for d in docs:
            pending.append(d)
            yield document_text(d.title, d.lead, d.body)

    with EntityExtractor(root / "entities.sqlite") as ex:
        for people, places in ex.extract_many(texts()):
            d = pending.popleft()
            # Names the archive already carries are kept beside what the model found.
            yield d, list(dict.fromkeys(d.people + people)), list(dict.fromkeys(d.places + places))


def _split_items(items: Iterable, report: BuildReport, on_reject: Callable[[Rejection], None] | None) -> Iterator[Dispatch]:
    for item in items:
        if isinstance(item, Rejection):
            report.rejected.append(item)
            if on_reject:
                on_reject(item)
            continue
        report.read += 1
        yield item


def _progress(total: int | None, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" docs", disable=not sys.stderr.isatty(), smoothing=0.1)


def _writer(ix, procs: int):
    if procs > 1:
        # Segments are written in parallel and kept separate: merging them would cost more
        # than the few extra segment lookups at search time.
        return ix.writer(procs=procs, multisegment=True, limitmb=256)
    return ix.writer(limitmb=256)


def rebuild(
    sources: Iterable[str | os.PathLike],
    root: str | os.PathLike | None = None,
    *,
    entities: bool = True,
    strict: bool = False,
    procs: int = 2,
    on_reject: Callable[[Rejection], None] | None = None,
    progress: bool = True,
) -> BuildReport:
    """Build a new generation from ``sources`` beside the live one and swap it in atomically."""
    root = index_dir(root)
    report = BuildReport()
    t0 = time.perf_counter()
    with writer_lock(root):
        _clean_leftovers(root, keep=None if not (root / CURRENT).exists() else current_generation(root))
        number = (_generations(root)[-1][0] + 1) if _generations(root) else 1
        final = root / f"gen-{number:06d}"
        tmp = root / f"gen-{number:06d}.tmp-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            ix = whoosh_index.create_in(str(tmp), make_schema())
            counts = EntityCounts()
            writer = _writer(ix, procs)
            try:
                bar = _progress(None, "indexing") if progress else None
                docs = _split_items(read_sources(sources), report, on_reject)
                for doc, people, places in _entity_stream(docs, root, entities):
                    writer.add_document(**to_fields(doc, counts.add("people", people), counts.add("places", places)))
                    report.indexed += 1
                    if bar is not None:
                        bar.update(1)
                if bar is not None:
                    bar.close()
                if strict and report.rejected:
                    raise StrictFailure(f"{len(report.rejected)} record(s) rejected and --strict given: the live index was not changed")
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            report.generation = number
            report.seconds = time.perf_counter() - t0
            _write_json(tmp / ENTITIES_FILE, counts.to_json())
            _write_json(
                tmp / META_FILE,
                {
                    "schema_version": SCHEMA_VERSION,
                    "generation": number,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "documents": report.indexed,
                    "entities": entities,
                    "sources": [str(s) for s in sources] if isinstance(sources, (list, tuple)) else [],
                },
            )
            os.rename(tmp, final)
            _fsync_dir(root)
            _swap_current(root, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _clean_leftovers(root, keep=final)
    return report


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def add(
    sources: Iterable[str | os.PathLike],
    root: str | os.PathLike | None = None,
    *,
    entities: bool = True,
    strict: bool = False,
    on_reject: Callable[[Rejection], None] | None = None,
) -> BuildReport:
    """Add or replace (same id) documents in the live generation."""
    root = index_dir(root)
    report = BuildReport()
    t0 = time.perf_counter()
    with writer_lock(root):
        ix, gen, meta = open_generation(root)
        counts = EntityCounts(_read_json(gen / ENTITIES_FILE))
        docs = list(_split_items(read_sources(sources), report, on_reject))
        if strict and report.rejected:
            raise StrictFailure(f"{len(report.rejected)} record(s) rejected and --strict given: the index was not changed")
        writer = ix.writer(limitmb=128)
        try:
            for doc, people, places in _entity_stream(iter(docs), root, entities):
                writer.update_document(**to_fields(doc, counts.add("people", people), counts.add("places", places)))
                report.indexed += 1
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        _write_json(gen / ENTITIES_FILE, counts.to_json())
        _update_meta(gen, meta, ix)
    report.seconds = time.perf_counter() - t0
    report.generation = meta["generation"]
    return report


def delete(ids: Iterable[str], root: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """Delete documents by id; returns (deleted, not found)."""
    root = index_dir(root)
    deleted, missing = [], []
    with writer_lock(root):
        ix, gen, meta = open_generation(root)
        writer = ix.writer()
        try:
            for ident in ids:
                (deleted if writer.delete_by_term("id", ident) else missing).append(ident)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        _update_meta(gen, meta, ix)
    return deleted, missing


def _update_meta(gen: Path, meta: dict, ix) -> None:
    meta = dict(meta)
    meta["documents"] = ix.doc_count()
    meta["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write_json(gen / META_FILE, meta)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stats(root: str | os.PathLike | None = None) -> dict:
    """Facts about the live index: generation, documents, size, analyzer."""
    root = index_dir(root)
    ix, gen, meta = open_generation(root)
    size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
    with ix.searcher() as s:
        docs = s.doc_count()
    return {
        "directory": str(root),
        "generation": meta.get("generation"),
        "documents": docs,
        "schema_version": meta.get("schema_version"),
        "built_at": meta.get("built_at"),
        "updated_at": meta.get("updated_at"),
        "size_bytes": size,
        "segments": len(ix._segments()),
        "entities": meta.get("entities"),
    }
