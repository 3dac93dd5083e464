"""Per-document arrays of a generation, laid out once by the writer for every process to map.

What a search reads for each document (each text field's length, rounded as the ranking was
tuned; the day and the embargo's release time; the (document, value) pairs of every facet; the
story of each document) used to be rebuilt from the segments by each web worker whenever a
generation opened: seconds at a million dispatches, and a private copy in every worker. The
writer now computes them after each commit (``write``), into a folder of the generation named
for that commit, and every reader maps them (``load``). A reader that finds none for its commit
(an index laid out before, a commit still being laid out) computes them itself, as before.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from . import postings, ranking
from . import whoosh_internals as wi
from .generations import DOCARRAYS_PREFIX, docarrays_dir, publish_dir
from .model import AGENCY_FACETS

TEXT_FIELDS = ranking.TEXT_FIELDS
# Keyword fields whose values are counted as facets (and selected, excluded, shown per hit).
FACET_FIELDS = ("people", "places", "source", "month", "section", *AGENCY_FACETS)
LAYOUT_VERSION = 1
META = "meta.json"
log = logging.getLogger("depeche.index")


class Facet:
    """One facet field's values (sorted) and its (document, value) pairs, sorted by document,
    with where each document's pairs start."""

    __slots__ = ("keys", "doc_of_pair", "key_of_pair", "starts")

    def __init__(self, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, starts: np.ndarray):
        self.keys, self.doc_of_pair, self.key_of_pair, self.starts = keys, doc_of_pair, key_of_pair, starts


class DocArrays:
    """A generation's per-document arrays, mapped or computed."""

    def __init__(self, lengths: dict[str, np.ndarray], day: np.ndarray, release: np.ndarray,
                 facets: dict[str, Facet], stories: dict[str, np.ndarray], mapped: bool):
        self.lengths = lengths  # rounded token count per text field
        self.day = day  # YYYYMMDD (0: undated)
        self.release = release  # embargo end, epoch seconds (0: none)
        self.facets = facets
        self.stories = stories  # value, of, size, by, starts, numbers (see ``_stories``)
        self.mapped = mapped


# ---------------------------------------------------------------- computing


def compute(leaves: list, segments: list, live: np.ndarray) -> DocArrays:
    """The arrays of a reader's segments (``leaves``: Whoosh segment readers and offsets;
    ``segments``: their postings layouts and offsets; ``live``: not deleted)."""
    lengths = {f: (wi.rounded_lengths(np.concatenate([seg.lengths[f] for seg, _ in segments])).astype(np.float32)
                   if segments else np.zeros(0, np.float32)) for f in TEXT_FIELDS}
    day = _column(leaves, "day").astype(np.int32)
    release = _column(leaves, "release")
    facets = {name: _facet(name, segments, live) for name in FACET_FIELDS}
    return DocArrays(lengths, day, release, facets, _stories(leaves, live), mapped=False)


def _column(leaves: list, name: str) -> np.ndarray:
    """An unsigned 32-bit column over every segment (0 where a segment lacks it)."""
    if not leaves:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([wi.uint32_column(sr, name) for sr, _ in leaves])


def _facet(field: str, segments: list, live: np.ndarray) -> Facet:
    """A keyword field's pairs from its postings arrays: every segment's sorted terms merged by
    one ``np.unique`` (no loop over the values in Python), the deleted documents left out."""
    n = len(live)
    terms, docs, counts = [], [], []
    for seg, off in segments:
        fa = seg.field(field)
        if fa is None or not len(fa.terms):
            continue
        terms.append(np.array(fa.terms.raw(), dtype=bytes))
        docs.append(np.asarray(fa.ids, dtype=np.int32) + off)
        counts.append(fa.df())
    if not terms:
        return Facet([], np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(n + 1, np.int64))
    keys, inverse = np.unique(np.concatenate(terms), return_inverse=True)
    doc_arr = np.concatenate(docs)
    val_arr = np.repeat(inverse.astype(np.int32), np.concatenate(counts))
    keep = live[doc_arr]
    doc_arr, val_arr = doc_arr[keep], val_arr[keep]
    order = np.argsort(doc_arr, kind="stable")
    doc_arr, val_arr = doc_arr[order], val_arr[order]
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_arr, minlength=n)[:n], out=starts[1:])
    # np.unique sorts the UTF-8 bytes, which is the order of the decoded keys.
    return Facet([k.decode("utf-8", "surrogatepass") for k in keys.tolist()], doc_arr, val_arr, starts)


def _stories(leaves: list, live: np.ndarray) -> dict[str, np.ndarray]:
    """``value``: the story column of each document; ``of``: its story number (a document without
    a story is a story of its own); ``size``: live versions of each number; ``by`` and
    ``starts``: documents grouped by number; ``numbers``: the column value of each number."""
    n = len(live)
    value = (np.concatenate([wi.uint64_column(sr, "story") for sr, _ in leaves]) if leaves
             else np.zeros(0, dtype=np.uint64))
    keyed = value != 0
    numbers, inverse = np.unique(value[keyed], return_inverse=True)
    story_of = np.arange(len(numbers), len(numbers) + n, dtype=np.int64)
    story_of[keyed] = inverse
    size = np.bincount(story_of[live], minlength=len(numbers) + n).astype(np.int32)
    # Documents grouped by story number: one story's versions are a slice, found in O(log n).
    by_story = np.argsort(story_of, kind="stable")
    starts = np.searchsorted(story_of[by_story], np.arange(len(numbers) + 1))
    return {"value": value, "of": story_of, "size": size, "by": by_story, "starts": starts, "numbers": numbers}


# ---------------------------------------------------------------- writing and mapping


def _commit_name(reader) -> str:
    return str(reader.generation())


def write(gen: Path, reader, leaves: list, segments: list, live: np.ndarray) -> Path:
    """Compute the arrays of the commit ``reader`` sees and write them beside its segments
    (aside, then renamed: readers see all or nothing); older commits' arrays are removed."""
    arrays = compute(leaves, segments, live)
    target = docarrays_dir(gen, _commit_name(reader))
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for f, a in arrays.lengths.items():
        np.save(tmp / f"len.{f}.npy", a)
    np.save(tmp / "day.npy", arrays.day)
    np.save(tmp / "release.npy", arrays.release)
    for name, fc in arrays.facets.items():
        blob = b"".join(k.encode("utf-8", "surrogatepass") for k in fc.keys)
        offsets = np.zeros(len(fc.keys) + 1, dtype=np.int64)
        np.cumsum([len(k.encode("utf-8", "surrogatepass")) for k in fc.keys], out=offsets[1:])
        (tmp / f"facet.{name}.keys").write_bytes(blob)
        np.save(tmp / f"facet.{name}.koff.npy", offsets)
        np.save(tmp / f"facet.{name}.doc.npy", fc.doc_of_pair)
        np.save(tmp / f"facet.{name}.key.npy", fc.key_of_pair)
        np.save(tmp / f"facet.{name}.starts.npy", fc.starts)
    for name, a in arrays.stories.items():
        np.save(tmp / f"story.{name}.npy", a)
    (tmp / META).write_text(json.dumps({"version": LAYOUT_VERSION, "docs": len(live),
                                        "facets": list(arrays.facets)}), encoding="utf-8")
    publish_dir(tmp, target)
    # Readers of an older commit keep their mappings: a removed file lives on while mapped.
    for p in gen.iterdir():
        if p.name.startswith(DOCARRAYS_PREFIX) and p != target:
            shutil.rmtree(p, ignore_errors=True)
    return target


def _mapped(path: Path, n: int) -> DocArrays | None:
    """The arrays written for a commit, mapped; None if absent, unfinished or not for ``n`` documents."""
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != LAYOUT_VERSION or meta.get("docs") != n or tuple(meta.get("facets", ())) != FACET_FIELDS:
        return None
    load = postings.load_mapped
    try:
        lengths = {f: load(path / f"len.{f}.npy") for f in TEXT_FIELDS}
        day, release = load(path / "day.npy"), load(path / "release.npy")
        facets = {}
        for name in FACET_FIELDS:
            blob = (path / f"facet.{name}.keys").read_bytes()
            o = load(path / f"facet.{name}.koff.npy").tolist()
            keys = [blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip(o, o[1:])]
            facets[name] = Facet(keys, load(path / f"facet.{name}.doc.npy"), load(path / f"facet.{name}.key.npy"),
                                 load(path / f"facet.{name}.starts.npy"))
        stories = {k: load(path / f"story.{k}.npy") for k in ("value", "of", "size", "by", "starts", "numbers")}
    except (OSError, ValueError):
        return None
    per_doc = [*lengths.values(), day, release, stories["value"], stories["of"], stories["by"]]
    if any(len(a) != n for a in per_doc) or any(len(f.starts) != n + 1 for f in facets.values()):
        return None
    return DocArrays(lengths, day, release, facets, stories, mapped=True)


def load(gen: Path, reader, leaves: list, segments: list, live: np.ndarray) -> DocArrays:
    """The arrays of the commit ``reader`` sees: mapped if the writer laid them out, else computed."""
    got = _mapped(docarrays_dir(gen, _commit_name(reader)), len(live))
    if got is None:
        log.info("%s: no per-document arrays for commit %s; computing them", gen, _commit_name(reader))
        got = compute(leaves, segments, live)
    return got
