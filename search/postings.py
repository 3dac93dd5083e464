"""Dépêche's own on-disk postings: per Whoosh segment, flat arrays every process maps.

The writer lays each segment out once, after its commit (``ensure``): per field, the sorted
terms, where each term's postings start, the doc numbers, the frequencies and, for text
fields, each posting's positions as Whoosh encoded them. A search then reads a term's postings
as slices of memory-mapped arrays, shared by every web worker through the page cache, instead
of decoding Whoosh's pickled blocks in each process. Positions stay encoded until a re-ranked
or phrase-checked document needs them.

A segment without its file (written by an older Dépêche, or caught between a commit and its
layout) is laid out in memory from Whoosh's blocks, the same arrays, and the log says so.
"""
from __future__ import annotations

import json
import logging
import mmap
import os
import shutil
from bisect import bisect_left, bisect_right
from pathlib import Path

import numpy as np

from . import whoosh_internals as wi
from .generations import POSTINGS_PREFIX, postings_dir

log = logging.getLogger("depeche.postings")

LAYOUT_VERSION = 2  # 2: position offsets in 32 bits and frequencies in 16 where they fit
META = "layout.json"
TEXT_FIELDS = ("title", "lead", "body")
TERMS_STRIDE = 32  # terms per block of the in-memory sample a lookup bisects first


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
        block = [raw[a - base : b - base] for a, b in zip(o, o[1:])]
        i = bisect_left(block, key)
        return first + i if i < len(block) and block[i] == key else None

    def all(self) -> list[str]:
        """Every term, decoded (vocabulary and facet keys)."""
        raw = self.blob[: int(self.offsets[-1])] if self.n else b""
        o = self.offsets.tolist()
        return [raw[o[i] : o[i + 1]].decode("utf-8") for i in range(self.n)]


class FieldArrays:
    """One field of one segment: terms, posting starts, doc ids, frequencies, position values."""

    __slots__ = ("terms", "start", "ids", "tf", "vstart", "values")

    def __init__(self, terms: _Terms, start, ids, tf=None, vstart=None, values: _Blob | None = None):
        self.terms, self.start, self.ids, self.tf, self.vstart, self.values = terms, start, ids, tf, vstart, values

    def find(self, term: str) -> int | None:
        """Index of ``term`` among the field's terms, or None."""
        try:
            key = term.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no indexed term has one
            return None
        return self.terms.find(key)

    def df(self) -> np.ndarray:
        """Postings per term."""
        return np.diff(self.start)


class SegmentPostings:
    """The fields of one segment, mapped from its directory or laid out in memory."""

    def __init__(self, fields: dict[str, FieldArrays], docs: int, mapped: bool):
        self.fields = fields
        self.docs = docs
        self.mapped = mapped

    def field(self, name: str) -> FieldArrays | None:
        return self.fields.get(name)

    def postings(self, field: str, term: str):
        """(ids, tf, vstart, values) of a term in a field (segment-local ids), or None."""
        fa = self.fields.get(field)
        if fa is None:
            return None
        i = fa.find(term)
        if i is None:
            return None
        a, b = int(fa.start[i]), int(fa.start[i + 1])
        if fa.vstart is None:
            return fa.ids[a:b], None, None, None
        vs = fa.vstart[a : b + 1]
        return fa.ids[a:b], fa.tf[a:b], vs - vs[0], fa.values[int(vs[0]) : int(vs[-1])]


def keyword_fields(schema) -> list[str]:
    """Indexed fields other than the text fields and numeric ranges: ids, facets, months."""
    out = []
    for name, field in schema.items():
        if name in TEXT_FIELDS or not field.indexed or type(field).__name__ == "NUMERIC":
            continue
        out.append(name)
    return out


def _arrays_of(sr) -> dict[str, dict]:
    fields = {}
    try:
        for f in TEXT_FIELDS:
            got = wi.field_postings(sr, f, values=True)
            if got is not None:
                fields[f] = got
        for f in keyword_fields(sr.schema):
            got = wi.field_postings(sr, f, values=False)
            if got is not None:
                fields[f] = got
    except AttributeError as e:  # a private attribute Whoosh no longer has
        raise wi.FastPathMissing(f"segment {wi.segment_id(sr)}: {e}") from e
    return fields


def _term_blob(keys: list[bytes]) -> tuple[bytes, np.ndarray]:
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)), out=offsets[1:])
    return b"".join(keys), offsets


def in_memory(sr) -> SegmentPostings:
    """A segment's arrays built from its Whoosh blocks, held by this process only."""
    fields = {}
    for name, got in _arrays_of(sr).items():
        blob, offsets = _term_blob(got["terms"])
        fields[name] = FieldArrays(_Terms(_Blob(blob), offsets), got["start"], got["ids"], got["tf"] if "vblob" in got else None,
                                   got.get("vstart"), _Blob(got["vblob"]) if "vblob" in got else None)
    return SegmentPostings(fields, sr.doc_count_all(), mapped=False)


def _narrow_tf(tf: np.ndarray) -> np.ndarray:
    """Frequencies as 16-bit integers when they are whole and fit (they are counts), else floats."""
    tf = np.asarray(tf, dtype=np.float32)
    if len(tf) and (tf.max() > np.iinfo(np.uint16).max or not np.array_equal(tf, np.floor(tf)) or tf.min() < 0):
        return tf
    return tf.astype(np.uint16)


def _narrow_offsets(vstart: np.ndarray) -> np.ndarray:
    """Offsets into the positions blob in 32 bits when the blob is under 4 GiB."""
    return vstart.astype(np.uint32) if not len(vstart) or vstart[-1] <= np.iinfo(np.uint32).max else vstart


def write(sr, target: Path) -> None:
    """Lay a segment out in ``target`` (written aside, then renamed: readers see all or nothing)."""
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    meta = {"version": LAYOUT_VERSION, "docs": sr.doc_count_all(), "fields": {}}
    for name, got in _arrays_of(sr).items():
        blob, offsets = _term_blob(got["terms"])
        (tmp / f"{name}.terms").write_bytes(blob)
        np.save(tmp / f"{name}.toff.npy", offsets)
        np.save(tmp / f"{name}.start.npy", got["start"])
        np.save(tmp / f"{name}.ids.npy", got["ids"].astype(np.int32, copy=False))
        text = "vblob" in got
        if text:
            np.save(tmp / f"{name}.tf.npy", _narrow_tf(got["tf"]))
            np.save(tmp / f"{name}.vstart.npy", _narrow_offsets(got["vstart"]))
            (tmp / f"{name}.values").write_bytes(got["vblob"])
        meta["fields"][name] = {"text": text, "terms": len(got["terms"]), "postings": int(got["start"][-1])}
    (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
    for p in tmp.iterdir():
        with open(p, "rb") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, target) if not target.exists() else shutil.rmtree(tmp)


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
            load = lambda suffix: np.load(path / f"{name}.{suffix}.npy", mmap_mode="r")  # noqa: E731
            terms = _Terms(_Blob.open(path / f"{name}.terms"), np.asarray(load("toff")))
            if info["text"]:
                fields[name] = FieldArrays(terms, load("start"), load("ids"), load("tf"), load("vstart"),
                                           _Blob.open(path / f"{name}.values"))
            else:
                fields[name] = FieldArrays(terms, load("start"), load("ids"))
    except (OSError, ValueError, KeyError, TypeError):  # a file missing or damaged: not usable
        return None
    return SegmentPostings(fields, docs, mapped=True)


def open_segment(gen: Path, sr) -> SegmentPostings:
    """The segment's mapped arrays, or (logged) the same laid out in memory."""
    got = open_mapped(postings_dir(gen, wi.segment_id(sr)), sr.doc_count_all())
    if got is None:
        log.warning("segment %s of %s has no postings layout: building it in memory", wi.segment_id(sr), gen)
        got = in_memory(sr)
    return got


def ensure(gen: Path, reader) -> list[str]:
    """Lay out every segment of ``reader`` that has no layout yet, remove those of segments
    gone (merged away); returns the segments written. Called by the writer after each commit."""
    leaves = wi.check_fast_path(reader)
    live = set()
    written = []
    for sr, _ in leaves:
        seg = wi.segment_id(sr)
        live.add(postings_dir(gen, seg).name)
        target = postings_dir(gen, seg)
        if open_mapped(target, sr.doc_count_all()) is None:
            shutil.rmtree(target, ignore_errors=True)
            write(sr, target)
            written.append(seg)
    # Merged-away segments, and what a writer killed mid-layout left (only one writer runs).
    for p in gen.iterdir():
        if p.name.startswith(POSTINGS_PREFIX) and p.name not in live:
            shutil.rmtree(p, ignore_errors=True)
    return written
