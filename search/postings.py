"""Dépêche's own on-disk postings: per Whoosh segment, flat arrays every process maps.

Whoosh keeps the stored fields, the columns and the postings of the id (by which a dispatch is
replaced); every other field's postings are Dépêche's alone: the text fields' and the keyword
fields' (``KEYWORD_FIELDS``: dates, sources, people, places, agency metadata), the latter from
the values the writer stores. A segment writer gathers them as it adds documents
(``SegmentLayout``, hooked into Whoosh's writers by ``whoosh_internals``) and writes them beside
the segment: per field, the sorted terms, where each term's postings start, the doc numbers,
the frequencies and, for text fields, each posting's positions and each document's length. A
segment merge combines its sources' arrays. A search reads a term's postings as slices of
memory-mapped arrays, shared by every web worker through the page cache. Positions stay encoded
(``encode_positions``: a byte or two a position) until a re-ranked or phrase-checked document
needs them.

A segment whose layout is missing or damaged is laid out again from its stored fields (which
keep the text as indexed where it differs from the text shown, ``INDEXED_KEY``), in memory by a
reader and on disk by the next write, and the log says so.
"""
from __future__ import annotations

import json
import logging
import mmap
import os
import re
import shutil
from array import array
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path

import numpy as np

from . import whoosh_internals as wi
from .analysis import terms as analyzed_terms
from .generations import POSTINGS_PREFIX, postings_dir, publish_dir

log = logging.getLogger("depeche.postings")

# 2: position offsets in 32 bits and frequencies in 16 where they fit; 3: written by the segment
# writer (Whoosh no longer holds the text postings), positions in bytes, document lengths.
LAYOUT_VERSION = 3
META = "layout.json"
TEXT_FIELDS = ("title", "lead", "body")
TERMS_STRIDE = 32  # terms per block of the in-memory sample a lookup bisects first
# Key, in a document's stored ``meta``, of the text fields indexed otherwise than shown (a
# dispatch without a title is indexed without one; a foreign item's text carries its language).
INDEXED_KEY = "indexed"
# Positions are written as one byte each when every gap fits, else two, else four.
_POS_WIDTH = ((255, 0, "B"), (65535, 1, "H"), (2**32 - 1, 2, "I"))
_POS_CODES = {code: fmt for _, code, fmt in _POS_WIDTH}
GATHER_CHUNK = 1 << 23  # bytes of positions moved per step when merged segments are combined
# A segment writer keeps the term numbers of the tokens it adds (4 bytes each) and turns them
# into postings, all at once in numpy, every this many tokens: a Python loop over each
# document's terms cost as much as analysing them.
RUN_TOKENS = 1 << 21
# Key, in the fields a writer is given, of each text field's analyzed terms (``analyzed``):
# the writer analyses a dispatch once, for its story and for its postings. Whoosh ignores
# field names starting with an underscore.
TERMS_KEY = "_terms"
# The fields whose values are laid out as postings beside the text fields' (ids, dates, facets,
# filters), from the values the writer is given or stores; the list fields hold several values.
KEYWORD_FIELDS = ("id", "date", "month", "source", "section", "people", "places",
                  "urgency", "genre", "subjects", "language", "slugline")
LIST_FIELDS = frozenset({"people", "places", "subjects"})
_LIST_ITEM = re.compile(r"[^,]+")


def encode_positions(positions: list[int]) -> bytes:
    """Ascending positions as their gaps, in the narrowest of 1, 2 or 4 bytes, after a width code."""
    if len(positions) == 1 and positions[0] < len(_ONE_POSITION):  # most postings: one occurrence
        return _ONE_POSITION[positions[0]]
    gaps = [b - a for a, b in zip([0] + positions, positions)]
    top = max(gaps)
    for limit, code, fmt in _POS_WIDTH:
        if top <= limit:
            return bytes((code,)) + array(fmt, gaps).tobytes()
    raise ValueError("position beyond 2**32")


_ONE_POSITION = [bytes((0, p)) for p in range(256)] + [bytes((1,)) + array("H", [p]).tobytes() for p in range(256, 4096)]


def decode_positions(value: bytes) -> list[int]:
    """The positions ``encode_positions`` wrote."""
    if not value:
        return []
    return list(accumulate(memoryview(value)[1:].cast(_POS_CODES[value[0]])))


_WIDTHS = ((0, np.dtype("u1")), (1, np.dtype("<u2")), (2, np.dtype("<u4")))


def _byte_ranges(buf: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The bytes ``buf[starts[i] : starts[i] + sizes[i]]`` end to end."""
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, dtype=np.uint8)
    ends = np.cumsum(sizes)
    return buf[np.repeat(starts - (ends - sizes), sizes) + np.arange(total)]


def decode_many(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions per value, the positions end to end) of the values ``encode_positions`` wrote
    at ``buf[starts[i]:ends[i]]`` (``buf``: bytes as uint8), decoded together in numpy: a
    phrase checked over thousands of documents reads them at once, not one at a time."""
    starts = np.asarray(starts, dtype=np.int64)
    sizes = np.asarray(ends, dtype=np.int64) - starts
    counts = np.zeros(len(starts), dtype=np.int64)
    has = sizes > 0
    code = np.full(len(starts), -1, dtype=np.int64)
    code[has] = buf[starts[has]]
    groups = []
    for c, dt in _WIDTHS:
        sel = np.flatnonzero(code == c)
        if not len(sel):
            continue
        n = (sizes[sel] - 1) // dt.itemsize
        counts[sel] = n
        gaps = _byte_ranges(buf, starts[sel] + 1, n * dt.itemsize).view(dt).astype(np.int64)
        groups.append((sel, n, gaps))
    out = np.zeros(int(counts.sum()), dtype=np.int64)
    at = np.cumsum(counts) - counts  # where each value's positions go
    for sel, n, gaps in groups:
        # Gaps to positions: a running sum restarted at each value.
        run = np.cumsum(gaps)
        first = np.cumsum(n) - n
        before = np.where(first > 0, run[np.maximum(first - 1, 0)], 0) if len(run) else first
        pos = run - np.repeat(before, n)
        out[np.repeat(at[sel] - first, n) + np.arange(len(pos))] = pos
    return counts, out


def indexed_texts(fields: dict) -> dict[str, str]:
    """The text indexed for each text field of a document, from its stored fields."""
    other = (fields.get("meta") or {}).get(INDEXED_KEY) or {}
    return {f: other[f] if f in other else (fields.get(f) or "") for f in TEXT_FIELDS}


class _Blob:
    """A file of bytes, mapped (or bytes in memory); slicing gives bytes."""

    def __init__(self, data):
        self.data = data

    @classmethod
    def open(cls, path: Path) -> "_Blob":
        size = path.stat().st_size
        if size == 0:
            return cls(b"")
        with open(path, "rb") as fh:
            return cls(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))

    def __getitem__(self, s):
        return self.data[s]


class _Terms:
    """The sorted terms of a field: found by bisecting a sample of every ``TERMS_STRIDE``-th term
    held in memory, then the one block of terms it points to (two small reads, no list of all)."""

    def __init__(self, blob: _Blob, offsets: np.ndarray):
        self.blob = blob
        self.offsets = offsets
        self.n = len(offsets) - 1
        o = offsets[: self.n : TERMS_STRIDE].tolist()
        e = offsets[1 : self.n + 1 : TERMS_STRIDE].tolist()
        self.sample = [blob[a:b] for a, b in zip(o, e)]

    def __len__(self) -> int:
        return self.n

    def find(self, key: bytes) -> int | None:
        """Index of ``key`` among the terms, or None."""
        k = bisect_right(self.sample, key) - 1
        if k < 0:
            return None
        first = k * TERMS_STRIDE
        o = self.offsets[first : min(first + TERMS_STRIDE, self.n) + 1].tolist()
        raw = self.blob[o[0] : o[-1]]
        base = o[0]
        # Bisected in place: a few slices of the block rather than all of its terms.
        lo, hi = 0, len(o) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if raw[o[mid] - base : o[mid + 1] - base] < key:
                lo = mid + 1
            else:
                hi = mid
        return first + lo if lo < len(o) - 1 and raw[o[lo] - base : o[lo + 1] - base] == key else None

    def raw(self) -> list[bytes]:
        """Every term, as stored."""
        raw = self.blob[: int(self.offsets[-1])] if self.n else b""
        o = self.offsets.tolist()
        return [raw[o[i] : o[i + 1]] for i in range(self.n)]

    def all(self) -> list[str]:
        """Every term, decoded (vocabulary and facet keys)."""
        return [t.decode("utf-8", "surrogatepass") for t in self.raw()]


class _FileArray:
    """The file of a mapped ``.npy`` array, read by position into the caller's array.

    A term's postings are copied whole into the snapshot's cache (``Snapshot.term``). Copied
    through the mapping, every page of a frequent term was faulted into the process and counted
    in its resident memory until the next release (``release_pages``), and a worker past
    ``memory.MAPPED_LIMIT`` stopped to release them every few dozen searches; read by position,
    the same bytes come from the page cache with no mapping at all (at a million dispatches,
    the 500 dev queries: 177 page faults a search down to 39 at the median, 8 releases down to 2).
    """

    __slots__ = ("fd", "offset", "dtype", "count", "path")

    def __init__(self, path: Path, offset: int, dtype: np.dtype, count: int):
        self.path = path
        self.offset, self.dtype, self.count = offset, dtype, count
        self.fd = os.open(path, os.O_RDONLY)

    def __del__(self, _close=os.close):
        # Closed with the last reference only, never by a generation's close: a search still
        # reading would otherwise read whatever file took the number next. ``os.close`` held
        # as a default: at interpreter exit the module's globals may be gone.
        fd, self.fd = getattr(self, "fd", -1), -1
        if fd >= 0:
            try:
                _close(fd)
            except OSError:  # pragma: no cover - already closed
                pass

    def read_into(self, out: np.ndarray, start: int) -> None:
        """Items ``start`` to ``start + len(out)`` into ``out`` (contiguous, this file's dtype)."""
        if start < 0 or start + len(out) > self.count:
            raise ValueError(f"{self.path}: items {start}..{start + len(out)} outside its {self.count}")
        want = out.nbytes
        got = os.preadv(self.fd, [memoryview(out).cast("B")], self.offset + start * self.dtype.itemsize) if want else 0
        if got != want:
            raise OSError(f"{self.path}: {got} bytes read of {want}, the file is shorter than its header says")


class FieldArrays:
    """One field of one segment: terms, posting starts, doc ids, frequencies, position values."""

    __slots__ = ("terms", "start", "ids", "tf", "vstart", "values", "ids_file", "tf_file")

    def __init__(self, terms: _Terms, start, ids, tf=None, vstart=None, values: _Blob | None = None,
                 ids_file: _FileArray | None = None, tf_file: _FileArray | None = None):
        self.terms, self.start, self.ids, self.tf, self.vstart, self.values = terms, start, ids, tf, vstart, values
        self.ids_file, self.tf_file = ids_file, tf_file

    def find(self, term: str) -> int | None:
        """Index of ``term`` among the field's terms, or None."""
        try:
            key = term.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no indexed term has one
            return None
        return self.terms.find(key)

    def span(self, term: str) -> tuple[int, int] | None:
        """Where a term's postings lie in ``ids`` and ``tf`` (``a`` to ``b``), or None."""
        i = self.find(term)
        if i is None:
            return None
        return int(self.start[i]), int(self.start[i + 1])

    def copy_ids(self, a: int, b: int, out: np.ndarray) -> None:
        """Doc numbers ``a`` to ``b`` into ``out`` (their file read by position when it can)."""
        _copy(self.ids, self.ids_file, a, b, out)

    def copy_tf(self, a: int, b: int, out: np.ndarray) -> None:
        """Frequencies ``a`` to ``b`` into ``out``, as ``copy_ids``."""
        _copy(self.tf, self.tf_file, a, b, out)

    def df(self) -> np.ndarray:
        """Postings per term."""
        return np.diff(self.start)


def _copy(arr: np.ndarray, file: _FileArray | None, a: int, b: int, out: np.ndarray) -> None:
    if file is not None and file.dtype == out.dtype and out.flags.c_contiguous:
        file.read_into(out, a)
    else:
        np.copyto(out, arr[a:b])


class SegmentPostings:
    """The fields of one segment, mapped from its directory or laid out in memory, and the
    length of each document's text fields (tokens)."""

    def __init__(self, fields: dict[str, FieldArrays], docs: int, mapped: bool, lengths: dict[str, np.ndarray] | None = None):
        self.fields = fields
        self.docs = docs
        self.mapped = mapped
        self.lengths = lengths if lengths is not None else {f: np.zeros(docs, np.uint32) for f in TEXT_FIELDS}
        # The files read a posting at a time, whose pages a search leaves mapped (release_pages).
        self.posting_maps = [m for fa in fields.values() for a in (fa.ids, fa.tf, fa.vstart, fa.values)
                             if (m := mapping_of(a)) is not None]

    def field(self, name: str) -> FieldArrays | None:
        return self.fields.get(name)

    def postings(self, field: str, term: str):
        """(ids, tf, vstart, values) of a term in a field (segment-local ids), or None."""
        fa = self.fields.get(field)
        got = fa.span(term) if fa is not None else None
        if got is None:
            return None
        a, b = got
        if fa.vstart is None:
            return fa.ids[a:b], None, None, None
        vs = fa.vstart[a : b + 1]
        return fa.ids[a:b], fa.tf[a:b], vs - vs[0], fa.values[int(vs[0]) : int(vs[-1])]


def mapping_of(data) -> mmap.mmap | None:
    """The file mapping an array (``load_mapped``) or a ``_Blob`` reads, or None if in memory."""
    if isinstance(data, _Blob):
        data = data.data
    seen = 0
    while data is not None and seen < 8:  # array -> memoryview -> mmap, or np.memmap's own
        if isinstance(data, mmap.mmap):
            return data
        mm = getattr(data, "_mmap", None)
        if isinstance(mm, mmap.mmap):
            return mm
        data = data.obj if isinstance(data, memoryview) else getattr(data, "base", None)
        seen += 1
    return None


def release_pages(maps) -> None:
    """Unmap from this process the pages of ``maps`` read so far; the page cache keeps them for
    every process, and the next read maps them again (a minor fault, no disk read)."""
    for mm in maps:
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (ValueError, OSError):  # closed with its generation, or no madvise on this system
            pass


def keyword_terms(name: str, value) -> list[str]:
    """A keyword field's terms in a document, from its value as given to the writer or as
    stored: a list field's comma-separated items (stripped, as Whoosh's KEYWORD field split
    them when it indexed these fields), another field's whole value."""
    if value is None:
        return []
    if name not in LIST_FIELDS:
        return [value]
    if not isinstance(value, str):
        value = ",".join(value)
    return list(dict.fromkeys(item.strip() for item in _LIST_ITEM.findall(value)))


# ---------------------------------------------------------------- writing


class SegmentLayout:
    """The postings of the segment a Whoosh writer is writing, gathered as it adds documents
    (``add``) and merges segments (``merge``), written beside the segment (``write``)."""

    def __init__(self, schema, folder: Path):
        self.folder = Path(folder)
        self.keyword_fields = KEYWORD_FIELDS
        self.vocab = _Vocabulary()
        self.tokens = {f: array("i") for f in TEXT_FIELDS}  # term numbers since the last run
        self.run_first = 0  # the first document of those tokens
        self.runs: list[dict[str, dict]] = []  # the text fields' arrays of each run, in order
        self.keywords: dict[str, dict[bytes, array]] = {f: {} for f in self.keyword_fields}
        self.lengths = {f: array("I") for f in TEXT_FIELDS}
        self.docs = 0
        self.merged: list[tuple[SegmentPostings, int, np.ndarray]] = []

    def add(self, docnum: int, fields: dict) -> None:
        """Gather the postings of a document the writer has just added as ``docnum``."""
        if docnum != self.docs or self.merged:
            raise ValueError(f"document {docnum} added out of order (expected {self.docs})")
        terms = fields.get(TERMS_KEY) or analyzed(fields)
        number = self.vocab.__getitem__
        for f in TEXT_FIELDS:
            got = terms[f]
            self.tokens[f].extend(map(number, got))
            self.lengths[f].append(len(got))
        for name in self.keyword_fields:
            acc = self.keywords[name]
            for term in keyword_terms(name, fields.get(name)):
                tbytes = _key(term)
                got = acc.get(tbytes)
                if got is None:
                    got = acc[tbytes] = array("i")
                got.append(docnum)
        self.docs += 1
        if sum(len(t) for t in self.tokens.values()) >= RUN_TOKENS:
            self._end_run()

    def _end_run(self) -> None:
        """Turn the tokens gathered since the last run into each text field's arrays."""
        keys = self.vocab.keys_list()
        run = {}
        for f in TEXT_FIELDS:
            lengths = np.frombuffer(self.lengths[f], dtype=np.uint32)[self.run_first :]
            run[f] = run_postings(np.frombuffer(self.tokens[f], dtype=np.int32), lengths, self.run_first, keys)
            self.tokens[f] = array("i")
        self.runs.append(run)
        self.run_first = self.docs

    def merge(self, reader, base: int, live: np.ndarray) -> None:
        """Take in the postings of a segment being merged (a Whoosh segment reader): its live
        documents ``live`` (in order) become ``base``, ``base + 1``, …"""
        if base != self.docs + sum(len(lv) for _, _, lv in self.merged):
            raise ValueError(f"segment merged at {base}, out of order")
        self.merged.append((segment_postings(self.folder, reader), base, np.asarray(live, dtype=np.int64)))

    def write(self, segment: str, docs: int) -> None:
        """Write the segment's arrays to its directory beside the segment."""
        fields, lengths = self.arrays()
        total = self.docs + sum(len(lv) for _, _, lv in self.merged)
        if total != docs:
            raise ValueError(f"segment {segment}: {total} documents laid out for {docs} written")
        write_arrays(postings_dir(self.folder, segment), docs, fields, lengths)

    def arrays(self) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
        """Every field's arrays and the text fields' lengths, merged sources included."""
        parts = [(self._own_fields(), {f: np.frombuffer(self.lengths[f], dtype=np.uint32) for f in TEXT_FIELDS})]
        for source, base, live in self.merged:
            parts.append(_renumbered(source, base, live))
        names = sorted({name for fields, _ in parts for name in fields})
        fields = {name: _combine([p[name] for p, _ in parts if name in p]) for name in names}
        lengths = {f: np.concatenate([lg[f] for _, lg in parts]).astype(np.uint32) for f in TEXT_FIELDS}
        return fields, lengths

    def _own_fields(self) -> dict[str, dict]:
        if self.docs > self.run_first or not self.runs:
            self._end_run()
        out = {f: _combine([run[f] for run in self.runs]) for f in TEXT_FIELDS}
        for name, acc in self.keywords.items():
            keys = sorted(acc)
            counts = np.fromiter((len(acc[k]) for k in keys), dtype=np.int64, count=len(keys))
            start = np.zeros(len(keys) + 1, dtype=np.int64)
            np.cumsum(counts, out=start[1:])
            out[name] = {"terms": keys, "start": start,
                         "ids": np.frombuffer(b"".join(acc[k] for k in keys), dtype=np.int32)}
        return out


def _key(term: str) -> bytes:
    # A lone surrogate cannot be typed in a query (FieldArrays.find): kept, never found.
    return term.encode("utf-8", "surrogatepass")


def analyzed(fields: dict) -> dict[str, list[str]]:
    """The analyzed terms of each text field of a document, from its fields as given to the writer."""
    texts = indexed_texts({**{f: fields.get(f) for f in TEXT_FIELDS}, "meta": fields.get("meta")})
    return {f: analyzed_terms(texts[f]) if texts[f] else [] for f in TEXT_FIELDS}


class _Vocabulary(dict):
    """Term -> number, in the order terms were first seen."""

    def __missing__(self, term: str) -> int:
        n = self[term] = len(self)
        return n

    def keys_list(self) -> list[str]:
        return list(self)


def run_postings(tokens: np.ndarray, lengths: np.ndarray, first: int, vocabulary: list[str]) -> dict:
    """A text field's arrays (terms, start, ids, tf, vstart, vblob) from the term numbers of its
    tokens, document after document (``lengths`` tokens each, the first document numbered
    ``first``): positions and their encoding as ``encode_positions`` writes them, in numpy."""
    n = len(tokens)
    count = np.asarray(lengths, dtype=np.int64)
    doc_starts = np.cumsum(count) - count
    used = np.unique(tokens)
    keys = [_key(vocabulary[t]) for t in used.tolist()]
    by_key = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.zeros(int(used[-1]) + 1 if len(used) else 0, dtype=np.int64)
    rank[used[by_key]] = np.arange(len(used))
    term = rank[tokens]
    order = np.argsort(term, kind="stable")  # stable: by document, then position, within a term
    term = term[order]
    doc = np.repeat(np.arange(first, first + len(count), dtype=np.int64), count)[order]
    pos = (np.arange(n, dtype=np.int64) - np.repeat(doc_starts, count))[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (term[1:] != term[:-1]) | (doc[1:] != doc[:-1])
    first_token = np.flatnonzero(new)  # each posting's first token
    tf = np.diff(np.append(first_token, n))
    start = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term[first_token], minlength=len(keys)), out=start[1:])
    gaps = pos.copy()
    gaps[1:] -= pos[:-1]
    gaps[first_token] = pos[first_token]
    top = np.maximum.reduceat(gaps, first_token) if n else np.zeros(0, dtype=np.int64)
    code = np.zeros(len(first_token), dtype=np.int64)
    for limit, c, _ in _POS_WIDTH[:-1]:
        code[top > limit] = c + 1
    if len(top) and top.max() > _POS_WIDTH[-1][0]:
        raise ValueError("position beyond 2**32")
    width = np.array([dt.itemsize for _, dt in _WIDTHS], dtype=np.int64)[code]
    vstart = np.zeros(len(first_token) + 1, dtype=np.int64)
    np.cumsum(1 + tf * width, out=vstart[1:])
    blob = np.zeros(int(vstart[-1]), dtype=np.uint8)
    blob[vstart[:-1]] = code
    rank_in = np.arange(n, dtype=np.int64) - np.repeat(first_token, tf)  # a token's rank in its posting
    for c, dt in _WIDTHS:
        held = np.repeat(code == c, tf)
        if not held.any():
            continue
        w = dt.itemsize
        at = np.repeat(vstart[:-1] + 1, tf)[held] + rank_in[held] * w
        blob[(at[:, None] + np.arange(w)).ravel()] = gaps[held].astype(dt).view(np.uint8)
    return {"terms": [keys[i] for i in by_key], "start": start, "ids": doc[first_token].astype(np.int32),
            "tf": tf.astype(np.uint32), "vstart": vstart, "vblob": blob.tobytes()}


def _renumbered(source: SegmentPostings, base: int, live: np.ndarray) -> tuple[dict, dict]:
    """A merged segment's arrays with its live documents renumbered from ``base``, the deleted dropped."""
    new_id = np.full(source.docs, -1, dtype=np.int64)
    new_id[live] = base + np.arange(len(live))
    fields = {}
    for name, fa in source.fields.items():
        ids = np.asarray(fa.ids, dtype=np.int64)
        keep = new_id[ids] >= 0
        tid = np.repeat(np.arange(len(fa.terms)), np.diff(np.asarray(fa.start)))
        counts = np.bincount(tid[keep], minlength=len(fa.terms))
        held = counts > 0  # a term only deleted documents had is gone, as Whoosh's merge drops it
        start = np.zeros(int(held.sum()) + 1, dtype=np.int64)
        np.cumsum(counts[held], out=start[1:])
        got = {"terms": [t for t, h in zip(fa.terms.raw(), held.tolist()) if h], "start": start,
               "ids": new_id[ids[keep]].astype(np.int32)}
        if fa.vstart is not None:
            vstart = np.asarray(fa.vstart, dtype=np.int64)
            blob = np.frombuffer(fa.values[: int(vstart[-1])] if len(vstart) else b"", dtype=np.uint8)
            got["tf"] = np.asarray(fa.tf)[keep]
            got["vstart"], got["vblob"] = _gather(blob, vstart[:-1][keep], np.diff(vstart)[keep])
        fields[name] = got
    lengths = {f: np.asarray(source.lengths[f], dtype=np.uint32)[live] for f in TEXT_FIELDS}
    return fields, lengths


def _gather(blob: np.ndarray, offsets: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, bytes]:
    """The byte ranges (offsets, sizes) of ``blob`` put end to end, and where each starts."""
    vstart = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=vstart[1:])
    out = bytearray()
    i = 0
    while i < len(sizes):
        # A chunk of postings at a time: the index array is eight bytes per byte moved.
        j = int(np.searchsorted(vstart, vstart[i] + GATHER_CHUNK, side="right")) - 1
        j = max(j, i + 1)
        j = min(j, len(sizes))
        sz, off = sizes[i:j], offsets[i:j]
        rel = np.repeat(off - (vstart[i:j] - vstart[i]), sz) + np.arange(int(vstart[j] - vstart[i]))
        out += blob[rel].tobytes()
        i = j
    return vstart, bytes(out)


def _combine(parts: list[dict]) -> dict:
    """One field's arrays from several segments' (documents in disjoint ranges, in order)."""
    if len(parts) == 1:
        return parts[0]
    terms = sorted(set().union(*(p["terms"] for p in parts)))
    index = {t: i for i, t in enumerate(terms)}
    tid = np.concatenate([np.repeat(np.fromiter((index[t] for t in p["terms"]), dtype=np.int64, count=len(p["terms"])),
                                    np.diff(p["start"])) for p in parts])
    order = np.argsort(tid, kind="stable")  # stable: each term's documents stay ascending
    start = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(tid, minlength=len(terms)), out=start[1:])
    out = {"terms": terms, "start": start, "ids": np.concatenate([p["ids"] for p in parts])[order]}
    if "vstart" in parts[0]:
        out["tf"] = np.concatenate([np.asarray(p["tf"], dtype=np.uint32) for p in parts])[order]
        base = np.cumsum([0] + [len(p["vblob"]) for p in parts[:-1]])
        offsets = np.concatenate([np.asarray(p["vstart"][:-1], dtype=np.int64) + b for p, b in zip(parts, base)])
        sizes = np.concatenate([np.diff(p["vstart"]) for p in parts])
        blob = np.frombuffer(b"".join(p["vblob"] for p in parts), dtype=np.uint8)
        out["vstart"], out["vblob"] = _gather(blob, offsets[order], sizes[order])
    return out


def _term_blob(keys: list[bytes]) -> tuple[bytes, np.ndarray]:
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)), out=offsets[1:])
    return b"".join(keys), offsets


def _narrow_tf(tf: np.ndarray) -> np.ndarray:
    """Frequencies (counts) in 16 bits when they fit."""
    tf = np.asarray(tf)
    return tf.astype(np.uint16) if not len(tf) or tf.max() <= np.iinfo(np.uint16).max else tf.astype(np.uint32)


def _narrow_offsets(vstart: np.ndarray) -> np.ndarray:
    """Offsets into the positions blob in 32 bits when the blob is under 4 GiB."""
    return vstart.astype(np.uint32) if not len(vstart) or vstart[-1] <= np.iinfo(np.uint32).max else vstart


def write_arrays(target: Path, docs: int, fields: dict[str, dict], lengths: dict[str, np.ndarray]) -> None:
    """Write a segment's arrays to ``target`` (aside, then renamed: readers see all or nothing)."""
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    meta = {"version": LAYOUT_VERSION, "docs": docs, "fields": {}}
    for name, got in fields.items():
        blob, offsets = _term_blob(got["terms"])
        (tmp / f"{name}.terms").write_bytes(blob)
        np.save(tmp / f"{name}.toff.npy", offsets)
        np.save(tmp / f"{name}.start.npy", got["start"])
        np.save(tmp / f"{name}.ids.npy", np.asarray(got["ids"], dtype=np.int32))
        text = "vblob" in got
        if text:
            np.save(tmp / f"{name}.tf.npy", _narrow_tf(got["tf"]))
            np.save(tmp / f"{name}.vstart.npy", _narrow_offsets(got["vstart"]))
            (tmp / f"{name}.values").write_bytes(got["vblob"])
        meta["fields"][name] = {"text": text, "terms": len(got["terms"]), "postings": int(got["start"][-1])}
    for f in TEXT_FIELDS:
        np.save(tmp / f"{f}.len.npy", np.asarray(lengths[f], dtype=np.uint32))
    (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
    publish_dir(tmp, target)


# ---------------------------------------------------------------- reading


# The header numpy writes for a one-dimensional array in C order (format 1.0).
_NPY_HEADER = re.compile(rb"^\x93NUMPY\x01\x00(..)\{'descr': '([<>|][a-zA-Z]\d+)', 'fortran_order': False, 'shape': \((\d+),\), \}")


def _npy_layout(head: bytes) -> tuple[int, np.dtype, int] | None:
    """(data offset, dtype, count) of a one-dimensional ``.npy`` file from its first bytes, or None."""
    m = _NPY_HEADER.match(head)
    if m is None:
        return None
    return 10 + int.from_bytes(m.group(1), "little"), np.dtype(m.group(2).decode()), int(m.group(3))


def load_mapped(path: Path) -> np.ndarray:
    """A one-dimensional ``.npy`` array mapped read-only: ``np.load(mmap_mode="r")`` without its
    per-file costs (a header parsed by ``ast``, a memmap subclass), which add up over the
    hundreds of files of a large index; any other header goes through ``np.load``."""
    with open(path, "rb") as fh:
        layout = _npy_layout(fh.read(128))
        if layout is None:
            return np.load(path, mmap_mode="r")
        offset, dtype, count = layout
        if count == 0:
            return np.zeros(0, dtype=dtype)
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if len(mm) < offset + count * dtype.itemsize:
        raise ValueError(f"{path}: shorter than its header says")
    return np.frombuffer(mm, dtype=dtype, count=count, offset=offset)


def file_array(path: Path, arr: np.ndarray) -> _FileArray | None:
    """``arr``'s file (``load_mapped``), to read spans of by position; None if its header is
    not the plain one ``load_mapped`` maps itself (then spans are copied from ``arr``)."""
    with open(path, "rb") as fh:
        layout = _npy_layout(fh.read(128))
    if layout is None or layout[1] != arr.dtype or layout[2] != len(arr):
        return None
    return _FileArray(path, *layout)


def open_mapped(path: Path, docs: int) -> SegmentPostings | None:
    """A segment's arrays mapped from its directory; None if absent or not for this segment."""
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != LAYOUT_VERSION or meta.get("docs") != docs:
        return None
    fields = {}
    try:
        for name, info in meta["fields"].items():
            load = lambda suffix: load_mapped(path / f"{name}.{suffix}.npy")  # noqa: E731
            terms = _Terms(_Blob.open(path / f"{name}.terms"), np.asarray(load("toff")))
            if info["text"]:
                ids, tf = load("ids"), load("tf")
                fields[name] = FieldArrays(terms, load("start"), ids, tf, load("vstart"), _Blob.open(path / f"{name}.values"),
                                           file_array(path / f"{name}.ids.npy", ids), file_array(path / f"{name}.tf.npy", tf))
            else:
                fields[name] = FieldArrays(terms, load("start"), load("ids"))
        lengths = {f: load_mapped(path / f"{f}.len.npy") for f in TEXT_FIELDS}
        if any(len(v) != docs for v in lengths.values()):
            return None
    except (OSError, ValueError, KeyError, TypeError):  # a file missing or damaged: not usable
        return None
    return SegmentPostings(fields, docs, mapped=True, lengths=lengths)


def laid_out_again(sr) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
    """A segment's arrays built anew from its stored documents (deleted ones included, as in
    any segment); a keyword field Whoosh indexed (an index written before it stopped) from
    Whoosh's postings, since such a segment did not store every one of them."""
    whoosh_indexed = [name for name in KEYWORD_FIELDS
                      if name != "id" and name in sr.schema and sr.schema[name].indexed]
    layout = SegmentLayout(sr.schema, Path("."))
    layout.keyword_fields = tuple(name for name in KEYWORD_FIELDS if name not in whoosh_indexed)
    layout.keywords = {name: {} for name in layout.keyword_fields}
    for doc in range(sr.doc_count_all()):
        layout.add(doc, sr.stored_fields(doc))
    fields, lengths = layout.arrays()
    try:
        for name in whoosh_indexed:
            got = wi.field_postings(sr, name, values=False)
            if got is not None:
                fields[name] = got
    except AttributeError as e:  # a private attribute Whoosh no longer has
        raise wi.FastPathMissing(f"segment {wi.segment_id(sr)}: {e}") from e
    return fields, lengths


def in_memory(fields: dict[str, dict], lengths: dict[str, np.ndarray], docs: int) -> SegmentPostings:
    """Arrays held by this process only."""
    out = {}
    for name, got in fields.items():
        blob, offsets = _term_blob(got["terms"])
        text = "vblob" in got
        out[name] = FieldArrays(_Terms(_Blob(blob), offsets), got["start"], np.asarray(got["ids"], dtype=np.int32),
                                got["tf"] if text else None, got.get("vstart"), _Blob(got["vblob"]) if text else None)
    return SegmentPostings(out, docs, mapped=False, lengths=lengths)


def segment_postings(folder: Path, sr) -> SegmentPostings:
    """The segment's mapped arrays, or (logged) the same laid out again in memory."""
    got = open_mapped(postings_dir(folder, wi.segment_id(sr)), sr.doc_count_all())
    if got is None:
        log.warning("segment %s of %s has no postings layout: laying it out in memory", wi.segment_id(sr), folder)
        got = in_memory(*laid_out_again(sr), sr.doc_count_all())
    return got




def ensure(gen: Path, reader) -> list[str]:
    """Lay out every segment of ``reader`` whose layout is missing or damaged, remove those of
    segments gone (merged away); returns the segments written. Called by the writer after each commit."""
    leaves = wi.check_fast_path(reader)
    live = set()
    written = []
    for sr, _ in leaves:
        seg = wi.segment_id(sr)
        live.add(postings_dir(gen, seg).name)
        target = postings_dir(gen, seg)
        if open_mapped(target, sr.doc_count_all()) is None:
            log.warning("segment %s of %s has no postings layout: laying it out again", seg, gen)
            shutil.rmtree(target, ignore_errors=True)
            write_arrays(target, sr.doc_count_all(), *laid_out_again(sr))
            written.append(seg)
    # Merged-away segments, and what a writer killed mid-layout left (only one writer runs).
    for p in gen.iterdir():
        if p.name.startswith(POSTINGS_PREFIX) and p.name not in live:
            shutil.rmtree(p, ignore_errors=True)
    return written
