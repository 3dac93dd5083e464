"""People and places pages: how often one is mentioned over time, the people and places most
often mentioned alongside it over the whole archive, and its latest dispatches.

Everything comes from the arrays a snapshot already holds (the facets' (document, value) pairs
and the day of each document): the dispatches naming the entity are one mask, co-occurrence
counts are one ``bincount`` per facet over that mask, the histogram is the search page's date
facet of that mask. No stored text is read except for the latest dispatches shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import facets
from .budget import Budget
from .facets import FacetIndex
from .indexing import fold_key
from .model import FacetItem, Hit

KINDS = ("people", "places")
COOCCURRING = 10  # names alongside, per kind
LATEST = 10  # latest dispatches shown
MAX_COOCCURRING = 50
MAX_LATEST = 50
NO_RANGE = (0, 99999999)
STAGES = ("dates", "cooccurrence", "latest")


@dataclass
class Coverage:
    """One person's or place's page: its mentions over time, names alongside, latest dispatches."""

    kind: str  # "people" or "places"
    name: str  # as displayed
    total: int  # dispatches naming it
    dates: list[FacetItem]  # at date_grain, in time order (the search page's dates facet)
    date_grain: str
    people: list[FacetItem]  # most often named in the same dispatches: value, dispatches with both
    places: list[FacetItem]
    latest: list[Hit]  # newest first (undated last)
    also_named: list[str] = field(default_factory=list)  # surnames the archive reads as this person
    # A surname left apart: the people it may stand for (full names ending with it), most named first.
    namesakes: list[FacetItem] = field(default_factory=list)
    partial: bool = False
    timed_out: list[str] = field(default_factory=list)


def find(fi: FacetIndex, name: str) -> int | None:
    """The value id of ``name`` (case, accents, punctuation ignored; a joined surname as its full name)."""
    key = fold_key(name or "")
    return fi.key_ids.get(fi.aliases.get(key, key)) if key else None


def latest_docs(mask: np.ndarray, day: np.ndarray, n: int) -> list[int]:
    """The ``n`` newest documents of ``mask`` (undated last; ties: the last indexed first)."""
    docs = np.flatnonzero(mask)
    if not len(docs):
        return []
    # Sort keys: day descending, then document number descending.
    order = np.lexsort((-docs, -day[docs].astype(np.int64)))
    return docs[order[:n]].tolist()


def compute(
    facet_indexes: dict[str, FacetIndex],
    kind: str,
    name: str,
    day: np.ndarray,
    visible: np.ndarray,
    display: Callable[[str, str], str],
    hit: Callable[[int], Hit],
    budget: Budget,
    size: int = COOCCURRING,
    latest: int = LATEST,
) -> Coverage | None:
    """The page of the person or place ``name`` (``kind`` people or places); None when no visible
    dispatch names it. ``display(kind, key)`` gives a value's display form, ``hit(doc)`` a result."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    fi = facet_indexes[kind]
    i = find(fi, name)
    if i is None:
        return None
    mask = fi.mask_for([i]) & visible
    total = int(np.count_nonzero(mask))
    if not total:
        return None
    key = fi.keys[i]
    out = Coverage(kind=kind, name=display(kind, key), total=total, dates=[], date_grain="year",
                   people=[], places=[], latest=[],
                   also_named=sorted(display(kind, s) for s, full in fi.aliases.items() if full == key))
    fuller = [fi.key_ids[k] for k in fi.namesakes.get(key, ()) if k in fi.key_ids]
    if fuller:
        totals = fi.counts(visible)
        out.namesakes = [it for it in facets.items(fi, np.where(np.isin(np.arange(len(fi.keys)), fuller), totals, 0),
                                                   MAX_COOCCURRING, [], lambda k: display(kind, k)) if it.count]
    lo, hi = NO_RANGE
    if not budget.spent("dates"):
        dated = facets.dated_days(day, mask)
        window = facets.date_window(day, mask, lo, hi, False, dated)
        out.date_grain = facets.date_grain(window)
        out.dates = facets.date_items(day, mask, mask, out.date_grain, window, lo, hi, False, dated)
    for other in KINDS:
        if budget.spent("cooccurrence"):
            break
        ofi = facet_indexes[other]
        counts = ofi.counts(mask)
        if other == kind:
            counts[i] = 0  # not alongside itself
        items = facets.items(ofi, counts, max(1, min(size, MAX_COOCCURRING)), [], lambda k, o=other: display(o, k))
        setattr(out, other, [it for it in items if it.count])
    if not budget.spent("latest"):
        out.latest = [hit(d) for d in latest_docs(mask, day, max(1, min(latest, MAX_LATEST)))]
    out.timed_out = list(budget.cut)
    out.partial = bool(out.timed_out)
    return out
