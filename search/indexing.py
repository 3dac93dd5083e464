"""Building and updating the index: schema, rebuilds checked before they are swapped in, add, delete.

The directory layout (generations, the ``current`` symlink, the writer lock) is in
``generations.py``; its names are re-exported here for the readers that import them from here.
"""
from __future__ import annotations

import itertools
import json
from concurrent import futures
import os
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, STORED, Schema

from . import docarrays, postings, spelling, stories, writing_analysis
from .dates import date_number, release_time  # noqa: F401 - re-exported
from . import whoosh_internals as wi
from . import versions
from .analysis import SCHEMA_VERSION, fold_key, mark_language  # noqa: F401 - fold_key is re-exported
from .documents import Dispatch, Rejection, count_records, read_sources, repair_text
from .generations import (  # noqa: F401 - re-exported: readers import the layout from here
    CURRENT,
    ENTITIES_FILE,
    KEEP_OLD_GENERATIONS,
    META_FILE,
    VERSIONS_FILE,
    IndexDamaged,
    IndexError_,
    IndexLocked,
    IndexMissing,
    IndexVersionMismatch,
    RollbackRefused,
    building_dir,
    check_version,
    clean_leftovers,
    current_generation,
    fsync_dir,
    generation_name,
    index_dir,
    list_generations,
    live_generation_or_none,
    next_number,
    read_meta,
    rollback,
    swap_current,
    writer_lock,
)

# A rebuild that would leave fewer than this share of the live documents needs --force: a typo
# in a source list must not silently empty the archive.
MIN_KEPT_SHARE = 0.5
# A rebuild commits its segments every this many documents: each writing process holds its
# segment's postings in memory until then (about 4 KiB a dispatch, so 1 GiB for each of two
# processes), and each commit adds a segment per process, which every term lookup then visits.
BATCH_DOCS = 500_000
# A document without a value in an unsigned 32-bit column reads as this: what Whoosh's sortable
# NUMERIC fields gave, before these numbers became columns only (wi.uint32_column reads both).
UINT32_DEFAULT = 2**32 - 1


class StrictFailure(IndexError_):
    """--strict and some records were rejected: nothing was swapped in."""


class RebuildRefused(IndexError_):
    """The rebuild would empty or shrink the live index (missing sources, nothing valid, far fewer documents)."""


class BuildFailure(IndexError_):
    """The index written does not hold what was added (an indexing process died): nothing was swapped in."""


def open_generation(root: str | os.PathLike | None = None):
    """(whoosh index, generation dir, meta) of the live generation, version-checked."""
    root = index_dir(root)
    gen = current_generation(root)
    meta = read_meta(gen)
    check_version(meta, root)
    return whoosh_index.open_dir(str(gen)), gen, meta


def make_schema() -> Schema:
    """The index schema. Whoosh indexes the id alone (a dispatch is replaced by its id): the
    postings of the text fields and of the keyword fields (dates, sources, people, places, agency
    metadata) are Dépêche's own, laid out by the segment writers from the values stored here
    (postings.py), and its numbers are columns only."""
    return Schema(
        id=ID(stored=True, unique=True),
        # The display title, lead and body; what is indexed where it differs is in
        # meta[postings.INDEXED_KEY] (a dispatch without a title is indexed without one).
        title=STORED(),
        lead=STORED(),
        body=STORED(),
        date=STORED(),  # as precise as the source: YYYY, YYYY-MM or YYYY-MM-DD
        day=COLUMN(NumericColumn("I", default=UINT32_DEFAULT)),  # YYYYMMDD, 00 for unknown parts
        month=STORED(),  # YYYY-MM, for the date facet and month filters
        source=STORED(),  # entity_key-style folded value, for filtering
        section=STORED(),
        people=STORED(),  # given comma-separated, stored as the list (``_stored_people``)
        places=STORED(),
        meta=STORED(),  # display values: source, section, url, subheads, title_derived, agency
        # Agency items only (an index built before them gains these fields on its next
        # `index add`): folded keys like source, for facets and filters.
        urgency=STORED(),  # "1" .. "9"
        genre=STORED(),
        subjects=STORED(),  # Media Topic names, comma-separated
        language=STORED(),  # BCP 47 primary tag
        slugline=STORED(),
        release=COLUMN(NumericColumn("I", default=UINT32_DEFAULT)),  # embargo end, epoch seconds; 0: none
        # The story the dispatch is a version of (stories.story_number of its id; 0: none), a
        # column only: the engine reads it for every document at once. An index built before
        # stories gains it on its next `index add`, its older dispatches each a story of their own.
        story=COLUMN(NumericColumn("Q", default=0)),
    )


def language_tag(language: str | None) -> str | None:
    """The primary subtag, lower case: ``en-GB`` → ``en``."""
    tag = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return tag if tag.isalpha() and 2 <= len(tag) <= 3 else None


def to_fields(doc: Dispatch, people_keys: list[str], places_keys: list[str]) -> dict:
    """The Whoosh fields of one dispatch."""
    fields = {
        "id": doc.id,
        "title": doc.display_title,
        "lead": doc.lead,
        "body": doc.body,
        "day": date_number(doc.date),
        "meta": {
            "source": doc.source,
            "section": doc.section,
            "url": doc.url,
            "subheads": doc.subheads,
            "title_derived": not doc.title,
            "byline": doc.byline,
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
    indexed = {
        "title": doc.title or "",
        # A dispatch with neither title nor real lead opens with its lead sentence: it is
        # indexed as the lead (what is shown stays the dispatch's own lead).
        "lead": doc.lead if doc.title else doc.summary,
        "body": doc.body,
    }
    if doc.agency is not None:
        _agency_fields(doc, fields, indexed)
    other = {f: text for f, text in indexed.items() if text != (fields[f] or "")}
    if other:
        fields["meta"][postings.INDEXED_KEY] = other
    return fields


def _agency_fields(doc: Dispatch, fields: dict, indexed: dict) -> None:
    """An agency item's metadata fields, and its text marked for the neutral analysis when it is not French."""
    a = doc.agency
    lang = language_tag(a.language)
    for name in ("title", "lead", "body"):
        indexed[name] = mark_language(indexed[name], lang)
    agency = {k: v for k, v in vars(a).items()}
    agency["language"] = lang
    agency["subjects"] = [list(s) for s in a.subjects]
    fields["meta"]["agency"] = agency
    if a.urgency is not None:
        fields["urgency"] = str(a.urgency)
    if a.genre and fold_key(a.genre):
        fields["genre"] = fold_key(a.genre)
    if a.slugline and fold_key(a.slugline):
        fields["slugline"] = fold_key(a.slugline)
    if lang:
        fields["language"] = lang
    names = [fold_key(name or code) for code, name in a.subjects]
    if any(names):
        fields["subjects"] = ",".join(dict.fromkeys(n for n in names if n))
    fields["release"] = release_time(a.embargo)


# ---------------------------------------------------------------- building


@dataclass
class BuildReport:
    """What a build or update did."""

    read: int = 0
    indexed: int = 0
    deleted: int = 0  # documents replaced by a new version of themselves
    # Agency items: versions older than one already received (recorded, never indexed), and
    # items killed or withheld (removed from search, or kept out of it).
    stale: int = 0
    withdrawn: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    generation: int = 0
    moved_aside: Path | None = None  # a directory found in place of `current`, kept here
    ids: list[str] = field(default_factory=list)  # `add`: the ids written (new or replaced), for the alerts
    story_seconds: float = 0.0  # grouping into stories (signatures, LSH look-ups, writing them)

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


def _newest(docs: Iterable[Dispatch]) -> dict[str, Dispatch]:
    """The newest version read of each agency guid (the later read wins between equal versions)."""
    best: dict[str, Dispatch] = {}
    for d in docs:
        b = best.get(d.id)
        if b is None or d.agency.version >= b.agency.version:
            best[d.id] = d
    return best


def _progress(total: int | None, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" dépêches", disable=not sys.stderr.isatty(), smoothing=0.1)


class WorkerDied(BuildFailure):
    """One of the parallel indexing processes ended before its work was done."""


def _worker_died(exitcode: int) -> WorkerDied:
    return WorkerDied(f"un processus d'indexation s'est arrêté en cours de route (code {exitcode}) : "
                      "l'index en service n'a pas été modifié")


def _writer(ix, procs: int, limitmb: int = 256):
    """A writer of ``ix`` laying out the postings of the segments it writes."""
    if procs > 1:
        # Segments are written in parallel and kept separate: merging them would cost more
        # than the few extra segment lookups at search time.
        return wi.parallel_writer(ix, procs, limitmb, _worker_died, postings.SegmentLayout)
    return wi.segment_writer(ix, postings.SegmentLayout, limitmb=limitmb)


def _refuse_missing_sources(sources: list) -> None:
    missing = [str(s) for s in sources if not os.path.exists(s)]
    if missing:
        raise RebuildRefused(f"source introuvable : {', '.join(repair_text(m) for m in missing)} ; "
                             "l'index en service n'a pas été modifié")


def _doc_count(gen: Path) -> int:
    return whoosh_index.open_dir(str(gen)).doc_count()


def _verify_count(gen: Path, expected: int, what: str) -> None:
    """Reopen what was committed and compare its document count with what was written."""
    found = _doc_count(gen)
    if found != expected:
        raise BuildFailure(f"{what} contient {found} documents au lieu de {expected} : "
                           "un processus d'indexation a perdu des documents")


def _lay_out_postings(gen: Path) -> None:
    """Write the postings arrays of the segments the last commit made (postings.py) and the
    commit's per-document arrays (docarrays.py): before a rebuild swaps, before an add or
    delete updates the metadata readers follow."""
    ix = whoosh_index.open_dir(str(gen))
    with ix.reader() as reader:
        postings.ensure(gen, reader)
        leaves = wi.check_fast_path(reader)
        segments = [(postings.segment_postings(gen, sr), off) for sr, off in leaves]
        docarrays.write(gen, reader, leaves, segments, wi.live_docs(reader, leaves))


def _live_count(root: Path) -> int:
    live = live_generation_or_none(root)
    if live is None:
        return 0
    try:
        return _doc_count(live)
    except Exception:  # an unreadable live generation has nothing worth protecting from a shrink
        return 0


def rebuild(
    sources: Iterable[str | os.PathLike],
    root: str | os.PathLike | None = None,
    *,
    entities: bool = True,
    strict: bool = False,
    force: bool = False,
    procs: int = 2,
    on_reject: Callable[[Rejection], None] | None = None,
    progress: bool = True,
) -> BuildReport:
    """Build a new generation from ``sources`` beside the live one, check it, and swap it in atomically.

    Refused, with the live index untouched: missing sources, no valid document, fewer than half
    the live documents (unless ``force``), --strict with rejections, a lost indexing process.
    """
    sources = list(sources)
    root = index_dir(root)
    _refuse_missing_sources(sources)
    report = BuildReport()
    t0 = time.perf_counter()
    with writer_lock(root):
        clean_leftovers(root, keep=live_generation_or_none(root))
        live_docs = _live_count(root)
        number = next_number(root)
        final = root / generation_name(number)
        tmp = building_dir(root, number)
        tmp.mkdir(parents=True)
        store = versions.VersionStore(root)
        story_index = stories.StoryIndex(tmp, fresh=True, threads=True)
        stories_written: futures.Future | None = None
        try:
            ix = whoosh_index.create_in(str(tmp), make_schema())
            counts = EntityCounts()
            words: Counter = Counter()  # the spelling table (spelling.py), its words folded
            bar = None
            if progress and sys.stderr.isatty():
                bar = _progress(count_records(sources), "indexation")
            writer = _writer(ix, procs)
            try:
                docs = _agency_last(_split_items(read_sources(sources), report, on_reject), store, report)
                stream = writing_analysis.analysed(_entity_stream(docs, root, entities), to_fields, procs, words)
                for doc, people, places, analysed in stream:
                    _write(writer.add_document, doc, people, places, analysed, counts, story_index, report)
                    if bar is not None:
                        bar.update(1)
                    if report.indexed % BATCH_DOCS == 0:
                        writer.commit(merge=False)
                        writer = _writer(ix, procs)
                if bar is not None:
                    bar.close()
                if strict and report.rejected:
                    raise StrictFailure(f"{len(report.rejected)} enregistrement(s) rejeté(s) avec --strict : "
                                        "l'index en service n'a pas été modifié")
                if report.indexed == 0:
                    raise RebuildRefused("aucune dépêche valide dans les sources : l'index en service n'a pas été modifié")
                # Every dispatch has its story: the story index is written by a thread while the
                # segments are finished and laid out (SQLite, then numpy, mostly outside the GIL).
                stories_written = _story_commit(story_index, report)
                writer.commit(merge=False)
            except writing_analysis.AnalysisDied as e:
                writer.cancel()
                raise BuildFailure(f"{e} : l'index en service n'a pas été modifié") from None
            except BaseException:
                writer.cancel()
                raise
            _verify_count(tmp, report.indexed, "la nouvelle génération")
            _lay_out_postings(tmp)
            if not force and report.indexed < live_docs * MIN_KEPT_SHARE:
                raise RebuildRefused(
                    f"la nouvelle génération n'aurait que {report.indexed} document{'s' if report.indexed > 1 else ''} "
                    f"contre {live_docs} en service (moins de la moitié) : refusé, l'index en service n'a pas été "
                    "modifié ; --force pour la mettre en service quand même")
            report.generation = number
            stories_written.result()
            report.seconds = time.perf_counter() - t0
            _write_json(tmp / ENTITIES_FILE, counts.to_json())
            spelling.write_words(tmp, words)
            _write_json(
                tmp / META_FILE,
                {
                    "schema_version": SCHEMA_VERSION,
                    "generation": number,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "documents": report.indexed,
                    "entities": entities,
                    "sources": [repair_text(str(s)) for s in sources],
                },
            )
            os.rename(tmp, final)
            fsync_dir(root)
            report.moved_aside = swap_current(root, final)
            store.commit()  # the versions read, once the index holds what they decided
        except BaseException:
            store.rollback()
            if stories_written is not None:
                futures.wait([stories_written])  # its file is about to be removed with the generation
            story_index.close()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            store.close()
            story_index.close()
        clean_leftovers(root, keep=final)
    return report


def _story_commit(story_index: "stories.StoryIndex", report: BuildReport) -> futures.Future:
    """``story_index.commit()`` in a thread of its own, timed into ``report``: its future."""

    def commit() -> None:
        t = time.perf_counter()
        try:
            story_index.commit()
        finally:
            report.story_seconds += time.perf_counter() - t

    pool = futures.ThreadPoolExecutor(1, thread_name_prefix="depeche-stories")
    try:
        return pool.submit(commit)
    finally:
        pool.shutdown(wait=False)


def _write(write: Callable, doc: Dispatch, people: list[str], places: list[str], analysed: "writing_analysis.Analysed",
           counts: EntityCounts, story_index: "stories.StoryIndex", report: BuildReport) -> None:
    """Write one dispatch with ``write`` (a writer's add or update): its fields, its terms as
    analysed (writing_analysis.py), its story."""
    fields = to_fields(doc, counts.add("people", people), counts.add("places", places))
    fields[postings.TERMS_KEY] = analysed.terms
    t = time.perf_counter()  # wall time only: a thread's CPU clock costs hundreds of microseconds a reading
    story = story_index.assign_signature(doc.id, doc.date, analysed.signature, analysed.title)
    report.story_seconds += time.perf_counter() - t
    fields["story"] = stories.story_number(story)
    write(**fields)
    report.indexed += 1


def _agency_last(docs: Iterator[Dispatch], store: "versions.VersionStore", report: BuildReport) -> Iterator[Dispatch]:
    """The dispatches of a rebuild: the others as they come, then for each agency guid the newest
    version known (read now, or received before and kept in the store) unless it is a kill or
    withheld. Every version read is recorded in the store (committed by the caller)."""
    agency: list[Dispatch] = []
    for doc in docs:
        if doc.agency is None:
            yield doc
            continue
        store.record(doc)
        agency.append(doc)
    read_of = Counter(d.id for d in agency)
    for guid, doc in _newest(agency).items():
        row = store.latest(guid)
        newest_read = doc
        if row is not None and row["version"] > doc.agency.version:
            doc = versions.to_dispatch(row)
        report.stale += read_of[guid] - (doc is newest_read)
        if versions.is_withdrawn(doc.agency.pub_status):
            report.withdrawn += 1
            continue
        yield doc


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
    """Add or replace (same id) documents in the live generation, then check the count committed."""
    sources = list(sources)
    root = index_dir(root)
    _refuse_missing_sources(sources)
    report = BuildReport()
    t0 = time.perf_counter()
    with writer_lock(root):
        ix, gen, meta = open_generation(root)
        counts = EntityCounts(_read_json(gen / ENTITIES_FILE))
        read = list(_split_items(read_sources(sources), report, on_reject))
        if strict and report.rejected:
            raise StrictFailure(f"{len(report.rejected)} enregistrement(s) rejeté(s) avec --strict : "
                                "l'index n'a pas été modifié")
        store = versions.VersionStore(root)
        story_index = stories.StoryIndex(gen)
        try:
            with ix.searcher() as s:
                before = s.doc_count()
                docs, kills = _decide(read, store, s, report)
                replaced = sum(1 for d in docs if s.document_number(id=d.id) is not None)
                removed = sum(1 for g in kills if s.document_number(id=g) is not None)
            for doc in read:
                if doc.agency is not None:
                    store.record(doc)
            writer = _writer(ix, 1, limitmb=128)
            words: Counter = Counter()
            try:
                _add_missing_fields(writer, ix.schema)
                for guid in kills:  # in the same commit as the batch
                    writer.delete_by_term("id", guid)
                    story_index.remove(guid)
                stream = writing_analysis.analysed(_entity_stream(iter(docs), root, entities), to_fields, 1, words)
                for doc, people, places, analysed in stream:
                    _write(writer.update_document, doc, people, places, analysed, counts, story_index, report)
                    report.ids.append(doc.id)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            report.deleted = replaced
            _verify_count(gen, before + report.indexed - replaced - removed, "l'index après ajout")
            t_story = time.perf_counter()
            story_index.commit()
            report.story_seconds += time.perf_counter() - t_story
            store.commit()
        except BaseException:
            store.rollback()
            story_index.rollback()
            raise
        finally:
            store.close()
            story_index.close()
        _write_json(gen / ENTITIES_FILE, counts.to_json())
        spelling.merge_words(gen, words)
        _lay_out_postings(gen)
        _update_meta(gen, meta, whoosh_index.open_dir(str(gen)))
    report.seconds = time.perf_counter() - t0
    report.generation = meta["generation"]
    return report


def _add_missing_fields(writer, schema) -> None:
    """Give an index built before some optional fields (agency metadata) those fields."""
    for name, field_type in make_schema().items():
        if name not in schema:
            writer.add_field(name, field_type)


def _indexed_version(searcher, guid: str) -> int | None:
    """The version of an agency item the index holds, or None."""
    stored = searcher.document(id=guid)
    agency = ((stored or {}).get("meta") or {}).get("agency")
    return agency.get("version") if agency else None


def _decide(read: list[Dispatch], store, searcher, report: BuildReport) -> tuple[list[Dispatch], list[str]]:
    """What a batch does: the dispatches to add or replace, and the agency guids to take out of
    search. An agency guid is changed only by a version at least as new as any received before
    (in the store) or indexed; older ones arriving late are only recorded."""
    plain = [d for d in read if d.agency is None]
    agency = [d for d in read if d.agency is not None]
    docs, kills = list(plain), []
    read_of = Counter(d.id for d in agency)
    for guid, doc in _newest(agency).items():
        row = store.latest(guid)
        known = max(row["version"] if row is not None else 0, _indexed_version(searcher, guid) or 0)
        report.stale += read_of[guid] - 1
        if doc.agency.version < known:
            report.stale += 1
            continue
        if versions.is_withdrawn(doc.agency.pub_status):
            report.withdrawn += 1
            kills.append(guid)
        else:
            docs.append(doc)
    return docs, kills


def delete(ids: Iterable[str], root: str | os.PathLike | None = None) -> tuple[list[str], list[str]]:
    """Delete documents by id; returns (deleted, not found)."""
    root = index_dir(root)
    deleted, missing = [], []
    with writer_lock(root):
        ix, gen, meta = open_generation(root)
        writer = _writer(ix, 1)
        try:
            for ident in ids:
                (deleted if writer.delete_by_term("id", ident) else missing).append(ident)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        _lay_out_postings(gen)
        with stories.StoryIndex(gen) as story_index:
            for ident in deleted:
                story_index.remove(ident)
            story_index.commit()
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
