"""Facet counts from per-reader document→value arrays (Whoosh's ``groupedby`` is far too slow).

A ``FacetIndex`` holds, for one field, every (document, value) pair as two flat numpy arrays,
built once when a searcher opens. Counting the values of the matching documents is then one
mask lookup and one ``bincount`` (well under a millisecond for the whole OrangeSum corpus),
and selecting values is a lookup in the same arrays.

Values are the folded keys the index stores (``jens stoltenberg``); the display form of each
comes from a function given by the engine (entities.json counts, or the stored source).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Callable, Iterable

import numpy as np

from .indexing import fold_key
from .model import FacetItem


class FacetIndex:
    """All (document, value) pairs of one field."""

    def __init__(self, keys: list[str], postings: Iterable[np.ndarray], n_docs: int):
        self.keys = list(keys)
        self.key_ids = {k: i for i, k in enumerate(self.keys)}
        docs, vals = [], []
        for i, ids in enumerate(postings):
            docs.append(np.asarray(ids, dtype=np.int32))
            vals.append(np.full(len(ids), i, dtype=np.int32))
        self.doc_of_pair = np.concatenate(docs) if docs else np.zeros(0, np.int32)
        self.key_of_pair = np.concatenate(vals) if vals else np.zeros(0, np.int32)
        order = np.argsort(self.doc_of_pair, kind="stable")
        self.doc_of_pair = self.doc_of_pair[order]
        self.key_of_pair = self.key_of_pair[order]
        self.n_docs = n_docs
        self._starts = np.searchsorted(self.doc_of_pair, np.arange(n_docs + 1))
        self._totals: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def counts(self, mask: np.ndarray) -> np.ndarray:
        """Number of documents in ``mask`` (bool per document) having each value."""
        if not len(self.keys):
            return np.zeros(0, np.int64)
        sel = mask[self.doc_of_pair]
        return np.bincount(self.key_of_pair[sel], minlength=len(self.keys))

    def totals(self, live: np.ndarray) -> np.ndarray:
        """Documents per value over the whole (live) index."""
        if self._totals is None:
            self._totals = self.counts(live)
        return self._totals

    def lookup(self, values: Iterable[str]) -> list[int]:
        """Value ids of the given values, matched ignoring case, accents and punctuation."""
        out = []
        for v in values:
            i = self.key_ids.get(fold_key(v))
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
) -> list[FacetItem]:
    """Top ``size`` values by count (ties: by value), selected values always included."""
    if not len(index.keys):
        return []
    nz = np.flatnonzero(counts)
    if len(nz) > size:
        part = nz[np.argpartition(-counts[nz], size - 1)[:size]]
        threshold = counts[part].min()
        nz = nz[counts[nz] >= threshold]
    chosen = sorted(nz.tolist(), key=lambda i: (-int(counts[i]), index.keys[i]))[:size]
    for i in selected:
        if i not in chosen:
            chosen.append(i)
    if chronological:
        chosen.sort(key=lambda i: index.keys[i])
    sel = set(selected)
    return [FacetItem(value=display(index.keys[i]), count=int(counts[i]), selected=i in sel) for i in chosen]


_MONTH = re.compile(r"^\d{4}-\d{2}$")


def is_month(value: str) -> bool:
    return bool(_MONTH.match(value))
