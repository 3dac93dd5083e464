"""A search worker's freed heap given back to the system (memory.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search import memory

pytestmark = pytest.mark.skipif(memory._LIBC is None or not Path("/proc/self/statm").exists(),
                                reason="needs glibc and Linux's /proc")


def _fragmented_heap() -> list:
    """Arrays freed in an order that leaves the heap full of holes, as a search worker's is;
    returns the small ones that pin it (the caches of a worker)."""
    big = np.ones(4 << 20, np.float32)
    del big  # glibc's threshold rises: the next arrays come from the heap
    kept, small = [], []
    for i in range(240):
        kept.append(np.ones((i % 7 + 1) << 17, np.float32))
        small.append(np.ones(1000))  # pins the heap between the big ones
        if len(kept) > 40:
            kept = kept[20:]
    del kept
    return small


def test_the_freed_heap_goes_back_once_it_has_grown_and_not_at_every_call():
    memory.release_heap(0)
    base = memory.anonymous_bytes()
    pins = _fragmented_heap()
    grown = memory.anonymous_bytes()
    assert grown - base > 20 << 20
    assert memory.release_heap(16 << 20)
    assert memory.anonymous_bytes() < grown - (16 << 20)
    assert not memory.release_heap(16 << 20)  # nothing new to give back
    del pins


def test_a_search_ends_with_the_heap_trimmed_when_it_grew(engine, monkeypatch):
    from search.model import SearchRequest

    calls = []
    monkeypatch.setattr(memory, "release_heap", lambda *a: calls.append(a) or False)
    engine.search(SearchRequest(q="munitions"))
    engine.related(engine.search(SearchRequest(q="munitions")).hits[0].id)
    assert len(calls) == 3
