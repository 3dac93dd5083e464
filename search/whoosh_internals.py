"""The one module that uses Whoosh's private internals (codec, posting blocks, columns,
deleted documents, the multi-process writer's queue) and hands back numpy arrays.

Whoosh decodes postings one at a time in Python; the engine instead reads whole posting
blocks (a zlib'd pickle of ids, weights and values per block) and whole column files. Those
shortcuts depend on Whoosh's ``whoosh3`` codec, so ``check_fast_path`` verifies on open that
every segment is laid out that way: a segment that is not is an error, never a silent and
hundred-times-slower per-posting fallback.

Whoosh opens every file of a compound segment as a ``BufferFile``, which copies the mapped bytes
into a ``BytesIO``: each web worker would hold a private copy of the stored fields and postings
(800 MiB a worker at 340,000 dispatches). ``BufferFile`` is given a file over the mapped memory
instead (``MappedFile``), so every process reads the same page-cache pages;
``check_fast_path`` verifies it is in place.
"""
from __future__ import annotations

import mmap
import pickle
import queue
import time
from collections.abc import Callable

import numpy as np
from whoosh import multiproc
from whoosh.codec.whoosh3 import W3LeafMatcher, W3PerDocReader, W3TermsReader, byte_to_length
from whoosh.filedb import structfile
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util import random_name
from whoosh.writing import SegmentWriter

WORKER_POLL_SECONDS = 0.5  # how often a blocked hand-off checks that the indexing workers live

# Whoosh stored a field's length in one byte, and the ranking was tuned on lengths so rounded:
# this maps the byte back to a length.
BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_LONGEST = 106374  # Whoosh's length_to_byte: this and longer are byte 255


class FastPathMissing(RuntimeError):
    """A segment is not in the layout the engine reads directly (another codec or version)."""


class MappedFile:
    """A read-only file over a memoryview (of a mapped segment) that reads without copying the whole."""

    _LINE_CHUNK = 256

    def __init__(self, view):
        self._view = memoryview(view).cast("B")
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._pos + n)
        out = self._view[self._pos : end].tobytes()
        self._pos = max(self._pos, end)
        return out

    def readinto(self, b) -> int:
        got = self.read(len(b))
        b[: len(got)] = got
        return len(got)

    def readline(self, limit: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if limit is None or limit < 0 else min(len(self._view), start + limit)
        i = start
        while i < end:
            chunk = self._view[i : min(end, i + self._LINE_CHUNK)].tobytes()
            nl = chunk.find(b"\n")
            if nl >= 0:
                end = i + nl + 1
                break
            i += len(chunk)
        self._pos = end
        return self._view[start:end].tobytes()

    def seek(self, pos: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def __iter__(self):
        while line := self.readline():
            yield line

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._view = memoryview(b"")


def _buffer_file_init(self, buf, name=None, onclose=None):
    self._buf = buf
    self._name = name
    self.file = MappedFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


structfile.BufferFile.__init__ = _buffer_file_init


def check_fast_path(reader) -> list[tuple[object, int]]:
    """The (segment reader, first doc number) pairs of ``reader``, each checked to be a whoosh3 segment."""
    leaves = list(reader.leaf_readers())
    for sr, _ in leaves:
        terms = getattr(sr, "_terms", None)
        perdoc = getattr(sr, "_perdoc", None)
        if not isinstance(terms, W3TermsReader) or not hasattr(terms, "_postfile"):
            raise FastPathMissing(f"segment {segment_id(sr)}: terms not in the whoosh3 layout ({type(terms).__name__})")
        if not isinstance(perdoc, W3PerDocReader) or not hasattr(perdoc, "_get_column_file"):
            raise FastPathMissing(f"segment {segment_id(sr)}: columns not in the whoosh3 layout ({type(perdoc).__name__})")
    for name in ("_read_data", "_next_block", "_goto"):
        if not hasattr(W3LeafMatcher, name):
            raise FastPathMissing(f"whoosh3 posting blocks changed: no {name}")
    for sr, _ in leaves:
        f = getattr(sr._terms, "_postfile", None)
        if isinstance(f, structfile.BufferFile) and not isinstance(f.file, MappedFile):
            raise FastPathMissing(f"segment {segment_id(sr)}: read through a private copy, not the mapped file")
    return leaves


def segment_mappings(leaves: list) -> list[mmap.mmap]:
    """The mapped compound files of the segments (stored fields, columns): a search reads a few
    of their pages a hit, which stay mapped in the process until released."""
    out = []
    for sr, _ in leaves:
        storage = getattr(sr, "_storage", None)
        storage = getattr(storage, "a", storage)  # an OverlayStorage reads the compound file first
        source = getattr(storage, "_source", None)
        if isinstance(source, mmap.mmap):
            out.append(source)
    return out


def segment_id(sr) -> str:
    """The segment's name, unique within its index (``MAIN_<random>``)."""
    return sr._segment.segment_id()


def deleted(sr) -> np.ndarray:
    """Doc numbers deleted in the segment (segment-local)."""
    if not sr.has_deletions():
        return np.zeros(0, dtype=np.int64)
    return np.fromiter(sr.deleted_docs_set, dtype=np.int64)


def live_docs(reader, leaves: list) -> np.ndarray:
    """Per document of the reader: True unless deleted (``leaves``: from ``check_fast_path``)."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    for sr, off in leaves:
        live[off + deleted(sr)] = False
    return live


def rounded_lengths(exact: np.ndarray) -> np.ndarray:
    """Lengths rounded as Whoosh rounds them to one byte (``length_to_byte``, then back)."""
    exact = np.asarray(exact, dtype=np.int64)
    b = np.minimum(np.searchsorted(BYTE_TO_LENGTH, exact, side="left"), 255)
    b[exact >= _LONGEST] = 255
    return BYTE_TO_LENGTH[b]


def uint32_column(sr, name: str) -> np.ndarray:
    """An unsigned 32-bit sortable NUMERIC column, raw (zeros where the segment lacks it; a
    document without a value holds the column's default, as Whoosh's own reader gives it)."""
    n = sr.doc_count_all()
    out = np.zeros(n, dtype=np.int64)
    if name not in sr.schema or not sr.has_column(name):
        return out
    col = sr.schema[name].column_type
    if getattr(col, "_typecode", None) != "I":
        raise FastPathMissing(f"column {name}: not an unsigned 32-bit column")
    colfile, base, length = sr._perdoc._get_column_file(name)
    raw = np.frombuffer(bytes(colfile.get(base, length - length % 4)), dtype=">u4")[:n]
    # Whoosh leaves trailing default values unwritten: its reader gives the default past the end.
    out[:] = col._default
    out[: len(raw)] = raw
    return out


def uint64_column(sr, name: str) -> np.ndarray:
    """An unsigned 64-bit ``NumericColumn("Q", default=0)`` column, raw (zeros where the segment
    lacks it or a document has no value)."""
    n = sr.doc_count_all()
    out = np.zeros(n, dtype=np.uint64)
    if name not in sr.schema or not sr.has_column(name):
        return out
    col = sr.schema[name].column_type
    if getattr(col, "_typecode", None) != "Q" or getattr(col, "_default", None) != 0:
        raise FastPathMissing(f"column {name}: not an unsigned 64-bit column with default 0")
    colfile, base, length = sr._perdoc._get_column_file(name)
    raw = np.frombuffer(bytes(colfile.get(base, length - length % 8)), dtype=">u8")[:n]
    out[: len(raw)] = raw
    return out


def _block_ids(m: W3LeafMatcher, data) -> np.ndarray:
    ids = data[0]
    if m._byteids:
        return np.frombuffer(bytes(ids), dtype=np.uint8).astype(np.int32)
    arr = np.frombuffer(ids, dtype=ids.typecode) if hasattr(ids, "typecode") else np.asarray(ids)
    return np.cumsum(arr, dtype=np.int64).astype(np.int32)


def _block_weights(m: W3LeafMatcher, data) -> np.ndarray:
    w = data[1]
    if w is None:
        return np.ones(m._blocklength, dtype=np.float32)
    if isinstance(w, float):
        return np.full(m._blocklength, w, dtype=np.float32)
    return np.asarray(w, dtype=np.float32)


def field_postings(sr, field: str, values: bool) -> dict | None:
    """Every posting of one field of a segment, term by term, as flat arrays: ``terms`` (sorted
    UTF-8 byte strings), ``start`` (term i's postings are ``start[i]:start[i+1]``), ``ids``
    (segment-local), ``tf``, and with ``values`` each posting's raw value (``vstart``, ``vblob``)."""
    if field not in sr.schema:
        return None
    terms_r = sr._terms
    fmt = sr.schema[field].format
    postfile = terms_r._postfile
    keys: list[bytes] = []
    counts: list[int] = []
    ids_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    vals: list[bytes] = []
    try:
        items = terms_r.items_from(field, b"")
        for (fname, tb), info in items:
            if fname != field:
                break
            keys.append(bytes(tb))
            if info.is_inlined():
                i, w, v = info.inlined_postings()
                ids_parts.append(np.asarray(i, dtype=np.int32))
                tf_parts.append(np.asarray(w, dtype=np.float32))
                if values:
                    vals.extend(v)
                counts.append(len(i))
                continue
            m = W3LeafMatcher(postfile, *info.extent(), fmt)
            n = 0
            while True:
                m._read_data()
                data = m._data
                ids_parts.append(_block_ids(m, data))
                tf_parts.append(_block_weights(m, data))
                n += m._blocklength
                if values:
                    vals.extend(data[2])
                if m._lastblock:
                    break
                m._next_block()
            counts.append(n)
    except KeyError:  # the field has no terms in this segment
        pass
    start = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    out = {
        "terms": keys,
        "start": start,
        "ids": np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int32),
        "tf": np.concatenate(tf_parts) if tf_parts else np.zeros(0, np.float32),
    }
    if values:
        lengths = np.fromiter(map(len, vals), dtype=np.int64, count=len(vals))
        vstart = np.zeros(len(vals) + 1, dtype=np.int64)
        np.cumsum(lengths, out=vstart[1:])
        out["vstart"] = vstart
        out["vblob"] = b"".join(vals)
    return out


# ---------------------------------------------------------------- writing


class _MergeHooks:
    """Mixed into a Whoosh segment writer: the segment's postings layout (``postings.SegmentLayout``,
    made by ``layout_factory(schema, folder)``) takes in the segments it merges, and is written
    with the segment."""

    layout_factory: Callable

    def _seg_layout(self):
        lay = self.__dict__.get("_layout")
        if lay is None:
            lay = self._layout = self.layout_factory(self.schema, self.storage.folder)
        return lay

    def add_reader(self, reader):
        base = self.docnum
        # Whoosh renumbers a merged segment's live documents in this order (write_per_doc).
        live = np.fromiter(reader.all_doc_ids(), dtype=np.int64)
        self._seg_layout().merge(reader, base, live)
        super().add_reader(reader)

    def _flush_segment(self):
        super()._flush_segment()
        self._seg_layout().write(self.newsegment.segment_id(), self.docnum)


class LaidOutWriter(_MergeHooks, SegmentWriter):
    """Whoosh's segment writer, laying out the postings of what it adds as it goes."""

    def __init__(self, ix, layout_factory: Callable, **kwargs):
        self.layout_factory = layout_factory
        super().__init__(ix, **kwargs)

    def add_document(self, **fields):
        docnum = self.docnum
        super().add_document(**fields)
        self._seg_layout().add(docnum, fields)


class _LaidOutTask(SubWriterTask):
    """Whoosh's indexing process, writing its segment with a ``LaidOutWriter``."""

    layout_factory: Callable

    def run(self):
        # Whoosh's task names its writer class as a module global: replaced in this process only.
        factory = self.layout_factory
        multiproc.SegmentWriter = lambda ix, **kw: LaidOutWriter(ix, factory, **kw)
        super().run()


def segment_writer(ix, layout_factory: Callable, **kwargs) -> LaidOutWriter:
    """A single-process writer of the index, laying out its segment's postings."""
    return LaidOutWriter(ix, layout_factory, **kwargs)


class _CheckedMpWriter(_MergeHooks, MpWriter):
    """Whoosh's parallel writer, failing as soon as one of its worker processes has died, its
    processes laying out their segments' postings.

    Whoosh's own writer ignores a dead worker: the documents it held are silently missing from
    the commit, and a full job queue with no live worker blocks forever.
    """

    def _new_task(self):
        task = _LaidOutTask(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment)
        task.layout_factory = self.layout_factory
        self.tasks.append(task)
        task.start()
        return task

    def _check_workers(self) -> None:
        dead = [t for t in self.tasks if t.exitcode not in (None, 0)]
        if dead:
            raise self.dead_error(dead[0].exitcode)

    def _put(self, job) -> None:
        while True:
            self._check_workers()
            try:
                self.jobqueue.put(job, timeout=WORKER_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _enqueue(self):
        filename = "%s.doclist" % random_name()
        with self.temp_storage().create_file(filename).raw_file() as f:
            for item in self.docbuffer:
                pickle.dump(item, f, 2)
        if len(self.tasks) < self.procs:
            self._new_task()
        self._put((filename, len(self.docbuffer)))
        self.docbuffer = []

    def _commit(self, mergetype, optimize, merge):
        if self.docbuffer:
            self._enqueue()
        # Whoosh then queues one end marker per worker: make room first, so it cannot block.
        while not self.jobqueue.empty():
            self._check_workers()
            time.sleep(0.01)
        super()._commit(mergetype, optimize, merge)
        self._check_workers()

    def cancel(self):
        # Whoosh's cancel only flags its own copy of the task objects: the workers would wait
        # on the queue forever, and the interpreter waits for them at exit.
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
        for task in self.tasks:
            task.join()
        if not self.is_closed:  # a worker found dead after the commit: nothing left to cancel
            super().cancel()


def parallel_writer(ix, procs: int, limitmb: int, dead_error: Callable[[int], Exception], layout_factory: Callable):
    """Whoosh's multi-process writer (segments kept apart), laying out each segment's postings,
    raising ``dead_error(exit code)`` as soon as one of its processes has died."""
    writer = _CheckedMpWriter.__new__(_CheckedMpWriter)
    writer.layout_factory = layout_factory
    _CheckedMpWriter.__init__(writer, ix, procs=procs, multisegment=True, limitmb=limitmb)
    writer.dead_error = dead_error
    return writer
