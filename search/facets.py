"""Facet counts from per-reader document→value arrays (Whoosh's ``groupedby`` is far too slow).

A ``FacetIndex`` holds, for one field, every (document, value) pair as two flat numpy arrays
sorted by document, built once when a searcher opens. Counting the values of the matching
documents reads only their pairs when they are few (the cost follows the matches, not the
archive), else every pair's mask bit, in one C loop either way (search/_kernels.c). Selecting
values is a lookup in the same arrays.

Values are the folded keys the index stores (``jens stoltenberg``); the display form of each
comes from a function given by the engine (entities.json counts, or the stored source).
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from typing import Callable, Iterable

import numpy as np

from . import _kernels, arrays, dates
from .indexing import fold_key
from .model import FacetItem

# Counting reads the matching documents' own pairs when they are fewer than one document in
# this many; beyond, masking every pair at once is cheaper.
SPARSE_SHARE = 4


class FacetIndex:
    """All (document, value) pairs of one field."""

    def __init__(self, keys: list[str], postings: Iterable[np.ndarray], n_docs: int):
        docs, vals = [], []
        for i, ids in enumerate(postings):
            docs.append(np.asarray(ids, dtype=np.int32))
            vals.append(np.full(len(ids), i, dtype=np.int32))
        self._setup(
            list(keys),
            np.concatenate(docs) if docs else np.zeros(0, np.int32),
            np.concatenate(vals) if vals else np.zeros(0, np.int32),
            n_docs,
        )

    @classmethod
    def from_pairs(cls, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, n_docs: int) -> "FacetIndex":
        """From flat (document, value id) arrays; keys need not be sorted."""
        self = cls.__new__(cls)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        remap = np.empty(len(keys), dtype=np.int32)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(keys), dtype=np.int32)
        self._setup([keys[i] for i in order], doc_of_pair, remap[key_of_pair] if len(keys) else key_of_pair, n_docs)
        return self

    @classmethod
    def from_sorted(cls, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, n_docs: int) -> "FacetIndex":
        """From flat (document, value id) arrays whose keys are already sorted."""
        self = cls.__new__(cls)
        self._setup(keys, doc_of_pair, key_of_pair, n_docs)
        return self

    @classmethod
    def from_layout(cls, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, starts: np.ndarray,
                    n_docs: int) -> "FacetIndex":
        """From pairs already sorted by document, keys sorted, and where each document's pairs
        start (docarrays.py: mapped, so shared by every process)."""
        self = cls.__new__(cls)
        self._assign(keys, doc_of_pair, key_of_pair, starts, n_docs)
        return self

    def _setup(self, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, n_docs: int) -> None:
        order = np.argsort(doc_of_pair, kind="stable")
        doc_of_pair = doc_of_pair[order].astype(np.int32, copy=False)
        starts = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_of_pair, minlength=n_docs)[:n_docs], out=starts[1:])
        self._assign(keys, doc_of_pair, key_of_pair[order].astype(np.int32, copy=False), starts, n_docs)

    def _assign(self, keys: list[str], doc_of_pair: np.ndarray, key_of_pair: np.ndarray, starts: np.ndarray,
                n_docs: int) -> None:
        self.keys = keys
        self.key_ids = {k: i for i, k in enumerate(self.keys)}
        self.doc_of_pair = doc_of_pair
        self.key_of_pair = key_of_pair
        self.n_docs = n_docs
        self._starts = starts
        self._totals: np.ndarray | None = None
        self._words: tuple[list[str], list[int]] | None = None
        # Values read as another one (a surname joined to the full name: search.surnames).
        self.aliases: dict[str, str] = {}
        # A surname -> the full names ending with it (search.surnames): who a lone surname may be.
        self.namesakes: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def counts(self, mask: np.ndarray, docs: np.ndarray | None = None, live: np.ndarray | None = None) -> np.ndarray:
        """Number of documents in ``mask`` (bool per document; ``docs``, its documents, when
        known) having each value: over the pairs of those documents when they are few, else,
        given ``live`` (the documents ``totals`` counts), the totals less the pairs of the live
        documents outside ``mask`` when those are few, else over every pair at once."""
        if not len(self.keys):
            return np.zeros(0, np.int64)
        if docs is None:
            docs = np.flatnonzero(mask)
        if len(docs) * SPARSE_SHARE < self.n_docs:
            return self._count_docs(docs)
        if live is not None:
            outside = live & ~mask
            n_out = int(np.count_nonzero(outside))
            # The sizes add up only for a mask within the live documents, whose totals less the
            # rest are its counts.
            if n_out * SPARSE_SHARE < self.n_docs and n_out + len(docs) == int(np.count_nonzero(live)):
                return self.totals(live) - self._count_docs(np.flatnonzero(outside))
        out = np.zeros(len(self.keys), np.int64)
        _kernels.count_masked(out, mask, self.doc_of_pair, self.key_of_pair)
        return out

    def _count_docs(self, docs: np.ndarray) -> np.ndarray:
        """Values counted over the pairs of ``docs`` (ascending doc numbers) only."""
        out = np.zeros(len(self.keys), np.int64)
        _kernels.count_docs(out, docs, self._starts, self.key_of_pair)
        return out

    def totals(self, live: np.ndarray) -> np.ndarray:
        """Documents per value over the whole (live) index."""
        if self._totals is None:
            self._totals = self.counts(live)
        return self._totals

    def lookup(self, values: Iterable[str]) -> list[int]:
        """Value ids of the given values, matched ignoring case, accents and punctuation."""
        out = []
        for v in values:
            k = fold_key(v)
            i = self.key_ids.get(self.aliases.get(k, k))
            if i is not None and i not in out:
                out.append(i)
        return out

    def mask_for(self, key_ids: list[int]) -> np.ndarray:
        """Documents having any of the values."""
        mask = np.zeros(self.n_docs, dtype=bool)
        if key_ids:
            hit = np.isin(self.key_of_pair, np.asarray(key_ids, dtype=np.int32))
            mask[self.doc_of_pair[hit]] = True
        return mask

    def values_of(self, doc: int) -> list[str]:
        """The values of one document, in index order."""
        a, b = self._starts[doc], self._starts[doc + 1]
        return [self.keys[i] for i in self.key_of_pair[a:b]]

    def keys_with_word_prefix(self, prefix: str) -> list[int]:
        """Values having a word that starts with ``prefix`` (folded), via a sorted word list."""
        if self._words is None:
            pairs = sorted((w, i) for i, k in enumerate(self.keys) for w in set(k.split()))
            self._words = ([w for w, _ in pairs], [i for _, i in pairs])
        words, ids = self._words
        prefix = fold_key(prefix)
        if not prefix:
            return []
        first = prefix.split()[0]
        lo = bisect.bisect_left(words, first)
        out = []
        seen = set()
        while lo < len(words) and words[lo].startswith(first):
            i = ids[lo]
            if i not in seen and (" " not in prefix or f" {prefix}" in f" {self.keys[i]}"):
                seen.add(i)
                out.append(i)
            lo += 1
        return out

    def keys_matching_words(self, value: str) -> list[int]:
        """Values whose words include all the words of ``value`` (``personne:Macron``)."""
        words = fold_key(value).split()
        if not words:
            return []
        exact = self.key_ids.get(" ".join(words))
        out = [exact] if exact is not None else []
        wanted = set(words)
        for i, k in enumerate(self.keys):
            if i != exact and wanted <= set(k.split()):
                out.append(i)
        return out


def choose_display_fallback(forms: Counter) -> str:
    """Most frequent form, preferring accented and properly cased ones."""

    def rank(item):
        form, count = item
        letters = [c for c in form if c.isalpha()]
        cased = bool(letters) and form[:1].isupper() and not all(c.isupper() for c in letters)
        accents = sum(1 for c in form if ord(c) > 127)
        return (cased, accents, count, form)

    return max(forms.items(), key=rank)[0]


try:  # the entities module decides display forms when it is there
    from .entities import choose_display as _choose_display  # type: ignore
except Exception:  # pragma: no cover - depends on the entities module
    _choose_display = choose_display_fallback


def choose_display(forms: Counter) -> str:
    """One display form for an entity key from its surface-form counts."""
    try:
        return _choose_display(forms)
    except Exception:
        return choose_display_fallback(forms)


def items(
    index: FacetIndex,
    counts: np.ndarray,
    size: int,
    selected: list[int],
    display: Callable[[str], str],
    chronological: bool = False,
    excluded: list[int] = (),
) -> list[FacetItem]:
    """Top ``size`` values by count (ties: by value), selected and excluded values always included."""
    if not len(index.keys):
        return []
    nz = np.flatnonzero(counts != 0)  # a bool array: ranking._combine_dense
    if len(nz) > size:
        part = nz[np.argpartition(-counts[nz], size - 1)[:size]]
        threshold = counts[part].min()
        nz = nz[counts[nz] >= threshold]
    chosen = sorted(nz.tolist(), key=lambda i: (-int(counts[i]), index.keys[i]))[:size]
    for i in [*selected, *excluded]:
        if i not in chosen:
            chosen.append(i)
    if chronological:
        chosen.sort(key=lambda i: index.keys[i])
    sel, exc = set(selected), set(excluded)
    return [FacetItem(value=display(index.keys[i]), count=int(counts[i]), selected=i in sel, excluded=i in exc) for i in chosen]


_MONTH = re.compile(r"^\d{4}-\d{2}$")


def is_month(value: str) -> bool:
    return bool(_MONTH.match(value))


# ---------------------------------------------------------------- the date histogram

DATE_GRAINS = ("year", "month", "day")
# A window over more than this many calendar years is shown by year; within one month by day.
MONTH_GRAIN_MAX_YEARS = 3


# Years a day (YYYYMMDD) can have: the per-year counts of the matches are this long.
YEARS = 10_000


class Dated:
    """The matches that have a date, as the dates facet reads them: how many a year, the first
    and the last day (0 when none is dated)."""

    __slots__ = ("per_year", "first", "last")

    def __init__(self, per_year: np.ndarray, first: int, last: int):
        self.per_year, self.first, self.last = per_year, first, last

    def __len__(self) -> int:
        return int(self.per_year.sum())


def dated_days(day: np.ndarray, mask: np.ndarray, docs: np.ndarray | None = None) -> Dated:
    """What the dates facet needs of the dated documents of ``mask`` (``docs``, its documents,
    when known), in one pass over them (search/_kernels.c): read once for the window and the years."""
    if docs is None:
        docs = np.flatnonzero(mask)
    per_year = np.zeros(YEARS, np.int64)
    first, last = _kernels.dated_years(day, docs, per_year)
    return Dated(per_year, first, last)


def date_window(day: np.ndarray, mask: np.ndarray, lo: int, hi: int, ranged: bool,
                dated: np.ndarray | None = None) -> tuple[int, int] | None:
    """The YYYYMMDD window the histogram describes: the chosen range, its open sides (and a
    range wider than the month grain) narrowed to the dated matches; None when nothing is dated.
    ``dated``: ``dated_days(day, mask)`` when the caller has it."""
    d = dated_days(day, mask) if dated is None else dated
    if not len(d):
        if ranged and lo > 0 and hi < 99999999:
            return lo, hi
        return None
    first, last = d.first, d.last
    wlo = lo if ranged and lo > 0 else first
    whi = hi if ranged and hi < 99999999 else last
    if whi // 10000 - wlo // 10000 + 1 > MONTH_GRAIN_MAX_YEARS:
        wlo, whi = max(wlo, first), min(whi, last)
    return wlo, whi


def date_grain(window: tuple[int, int] | None) -> str:
    """``year`` over many years (or nothing dated), ``month`` within a few, ``day`` within one month."""
    if window is None:
        return "year"
    wlo, whi = window
    if whi // 10000 - wlo // 10000 + 1 > MONTH_GRAIN_MAX_YEARS:
        return "year"
    if wlo // 100 == whi // 100:
        return "day"
    return "month"


def is_range_of(value: str, lo: int, hi: int) -> bool:
    """Whether the range [lo, hi] is exactly the bucket ``value`` (``2023``, ``2023-06`` or a day),
    whichever way it was written (``from=2023&to=2023`` or ``2023-01-01`` … ``2023-12-31``)."""
    raw_lo, raw_hi, first, last = dates.period_bounds(value)
    return raw_lo <= lo <= first and last <= hi <= raw_hi


def date_items(day: np.ndarray, mask: np.ndarray, context: np.ndarray, grain: str,
               window: tuple[int, int] | None, lo: int, hi: int, ranged: bool,
               dated: np.ndarray | None = None) -> list[FacetItem]:
    """The dates facet at ``grain``, in time order, from the ``day`` array alone.

    ``year``: the matches per year. ``month``: every month of the window's calendar years and
    ``day``: every day of the window's month, counted over ``context`` (the matches before the
    date filter), so that the months or days around a chosen one stay visible (``dated``:
    ``dated_days(day, mask)`` when the caller has it). A dispatch dated
    only by its year or month counts at that precision: a ``2022`` item at the month grain, a
    ``2023-06`` item at the day grain. An item is selected when the range is exactly its period.
    """
    if window is None:
        return []
    if grain == "year":
        per_year = (dated_days(day, mask) if dated is None else dated).per_year
        keys = np.flatnonzero(per_year)
        counts = per_year[keys]
        values = [f"{int(k):04d}" for k in keys]
    elif grain == "month":
        y1, y2 = window[0] // 10000, window[1] // 10000
        d = arrays.masked(day, context & (day >= y1 * 10000) & (day <= y2 * 10000 + 9999))
        month = d // 100
        keys, counts = np.unique(np.where(month % 100 == 0, month // 100, month), return_counts=True)
        values = [f"{int(k):04d}" if k < 10000 else f"{int(k) // 100:04d}-{int(k) % 100:02d}" for k in keys]
    else:
        ym = window[0] // 100
        d = arrays.masked(day, context & (day // 100 == ym))
        keys, counts = np.unique(np.where(d % 100 == 0, d // 100, d), return_counts=True)
        values = [f"{int(k) // 100:04d}-{int(k) % 100:02d}" if k < 1000000
                  else f"{int(k) // 10000:04d}-{int(k) // 100 % 100:02d}-{int(k) % 100:02d}" for k in keys]
    size = {"year": 4, "month": 7, "day": 10}[grain]
    out = [FacetItem(value=v, count=int(c), selected=ranged and len(v) == size and is_range_of(v, lo, hi))
           for v, c in zip(values, counts)]
    out.sort(key=lambda it: (it.value.ljust(10, "~")))  # a coarser value after its finer ones
    return out
