"""Numpy helpers the engine's hot paths share.

numpy 2 has slow paths the engine steps around here, each measured over a frequent term's
postings or a facet's pairs at a million dispatches: ``np.unique`` hashes its input when no
inverse or counts are asked for (300,000 doc numbers: 150 ms against 1.5 ms for a sort), fancy
``+=`` takes three passes where ``np.add.at`` takes one (four to six times slower), and boolean
indexing with a mask that has no pattern is eight times slower than ``np.compress``. (Two more
rules hold in the callers: ``np.flatnonzero`` and counting go through a bool array, since numpy
scans float and integer arrays, and sums bool ones, several times slower.)
"""
from __future__ import annotations

import numpy as np

from . import _kernels


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of ``a``, ascending (what ``np.unique(a)`` returns)."""
    a = np.asarray(a)
    if len(a) < 2:
        return a.copy()
    # A stable sort merges already-sorted runs (the parts of a union) in linear time.
    s = np.sort(a, kind="stable")
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def sorted_union(parts: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(the distinct values of ascending arrays of distinct values, ascending; for each part,
    where its values are in that union): one sort of runs, where looking each part up in the
    union costs a binary search a value."""
    if len(parts) == 1:
        return parts[0], [np.arange(len(parts[0]))]
    cat = np.concatenate(parts)
    order = np.argsort(cat, kind="stable")
    s = cat[order]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    loc = np.empty(len(cat), dtype=np.intp)
    loc[order] = np.cumsum(new) - 1
    return s[new], np.split(loc, np.cumsum([len(p) for p in parts[:-1]]))


# Below this many sorted values numpy's binary search is as fast (they are in cache).
LOCATE_FROM = 2048
_DOC_TYPES = (np.dtype(np.int32), np.dtype(np.int64))


def locate(sorted_docs: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.searchsorted(sorted_docs, keys)`` for ascending document numbers: a term's postings
    are spread evenly over the archive, so the kernel looks first where each key should fall
    (a few cache lines, against a miss at most of a binary search's twenty steps)."""
    keys = np.asarray(keys)
    if (len(sorted_docs) < LOCATE_FROM or sorted_docs.dtype not in _DOC_TYPES or keys.dtype not in _DOC_TYPES
            or keys.ndim != 1 or not sorted_docs.flags.c_contiguous):
        return np.searchsorted(sorted_docs, keys)
    out = np.empty(len(keys), dtype=np.int64)
    _kernels.locate(sorted_docs, np.ascontiguousarray(keys), out)
    return out


def sorted_intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both ascending, distinct arrays (``np.intersect1d`` without its sort): the
    shorter is looked up in the longer, so a rare word costs little against a common one."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a):
        return a.copy()
    loc = locate(b, a)
    loc[loc == len(b)] = 0
    return a[b[loc] == a]


def gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[idx]`` for an array of indices, through ``np.take``: numpy 2's fancy indexing is about
    twice slower (a float per document gathered at 300,000 of a million: 0.49 ms against 0.27)."""
    return np.take(a, idx)


def scatter(target: np.ndarray, ids: np.ndarray, values) -> None:
    """``target[ids] = values``, the indices made numpy's own type first: numpy 2 converts
    32-bit indices of an assignment element by element, twice slower (a frequent term's
    300,000 documents marked in a million: 1.1 ms against 0.6)."""
    target[np.asarray(ids, dtype=np.intp)] = values


def mark(mask: np.ndarray, ids: np.ndarray) -> None:
    """``mask[ids] = True`` for a bool ``mask``, in one C loop over ``ids`` (search/_kernels.c):
    ``scatter`` copies them as 64-bit indices first (a frequent term's 474,000 postings marked
    in a million: 0.34 ms against 1.26)."""
    _kernels.mark(mask, ids)


def scatter_add(target: np.ndarray, ids: np.ndarray, values) -> None:
    """``target[ids] += values`` for distinct ``ids``, through ``np.add.at``: numpy 2's fancy
    ``+=`` gathers, adds and scatters in three passes, four to six times slower over a
    frequent term's postings."""
    np.add.at(target, ids, values)


def masked(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``a[mask]`` for a bool ``mask``, through ``np.compress``: numpy 2's boolean indexing is
    eight times slower on a mask with no pattern (a facet's four million pairs, a third of
    them kept: 40 ms against 5)."""
    return np.compress(mask, a)
