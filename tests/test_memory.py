"""A search worker's freed heap given back to the system (memory.py)."""
from __future__ import annotations

import logging
import threading
import time
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


def test_the_freed_heap_goes_back_once_it_has_grown_and_not_at_every_call(monkeypatch):
    # An engine of an earlier test gives its memory back a second after its last search, and
    # may still be building its vocabulary: not in the middle of this one (a trim would empty
    # the holes before they are measured, the builder's arrays fill them).
    for t in threading.enumerate():
        if t.name in ("depeche-release", "depeche-vocabulary"):
            t.join(30)
    # The heap trimmed whatever this process did before (release_heap would not trim a heap
    # smaller than at its last trim, which another test's searches may have left full of holes).
    memory._LIBC.malloc_trim(0)
    base = memory.anonymous_bytes()
    monkeypatch.setattr(memory, "_after_last_trim", base)
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
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0)  # at the end of each search
    monkeypatch.setattr(memory, "release_heap", lambda *a: calls.append(a) or False)
    engine.search(SearchRequest(q="munitions"))
    engine.related(engine.search(SearchRequest(q="munitions")).hits[0].id)
    assert len(calls) == 3


def _counting_release():
    released = threading.Event()
    calls = []

    def release():
        calls.append(time.monotonic())
        released.set()

    return memory.IdleRelease(release), calls, released


def test_what_searches_held_is_released_once_after_a_quiet_moment_not_after_each(monkeypatch):
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.3)
    idle, calls, released = _counting_release()
    for _ in range(5):  # a burst of searches
        idle.begin()
        idle.end()
    last_end = time.monotonic()
    assert calls == []
    assert released.wait(5)
    assert len(calls) == 1 and calls[0] - last_end >= 0.3
    time.sleep(0.4)
    assert len(calls) == 1  # nothing more to release until the next search
    released.clear()
    idle.begin()
    idle.end()
    assert released.wait(5) and len(calls) == 2


def test_a_search_in_flight_holds_the_release_back(monkeypatch):
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.1)
    idle, calls, released = _counting_release()
    idle.begin()
    idle.begin()
    idle.end()  # the other search is still running
    assert not released.wait(0.4)
    idle.end()
    assert released.wait(5) and len(calls) == 1


def test_a_release_that_fails_is_logged_and_the_next_quiet_moment_tries_again(monkeypatch, caplog):
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.05)
    done = threading.Event()
    tries = []

    def release():
        tries.append(1)
        done.set()
        if len(tries) == 1:
            raise OSError("madvise refusé")

    idle = memory.IdleRelease(release)
    with caplog.at_level(logging.ERROR, logger="depeche.memory"):
        idle.begin()
        idle.end()
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while "could not release" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "could not release" in caplog.text
    done.clear()
    idle.begin()
    idle.end()
    assert done.wait(5) and len(tries) == 2


def test_an_engine_releases_its_mapped_pages_once_its_searches_are_over(engine, monkeypatch):
    from search.model import SearchRequest

    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.2)
    snap = engine.snapshot()
    released = threading.Event()
    monkeypatch.setattr(type(snap), "release_pages", lambda self: released.set())
    engine.search(SearchRequest(q="munitions"))
    engine.search(SearchRequest(q="Vilnius"))
    assert not released.is_set()
    assert released.wait(5)


def test_an_engine_let_go_while_its_release_waits_is_freed_at_once(search_index, monkeypatch):
    # Its release held the engine through a cycle: dropped, the engine (its snapshot, mapped
    # files and arrays) waited for the garbage collector once the waiting thread let go.
    import gc
    import weakref

    from search.engine import Engine
    from search.model import SearchRequest

    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.2)
    engine = Engine(search_index)
    engine.snapshot().vocabulary(wait=30)
    engine.search(SearchRequest(q="munitions"))
    gone = weakref.ref(engine)
    waiting = [t for t in threading.enumerate() if t.name == "depeche-release"]
    assert waiting
    gc.disable()
    try:
        del engine
        assert gone() is None
    finally:
        gc.enable()
    for thread in waiting:  # the release then finds nothing to do and ends quietly
        thread.join(5)
        assert not thread.is_alive()


def test_a_burst_that_maps_more_than_the_limit_releases_at_the_end_of_the_search(monkeypatch):
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 30)
    idle, calls, _ = _counting_release()
    idle.begin()
    idle.end()
    assert calls == []  # under the limit: waits for the quiet moment
    monkeypatch.setattr(memory, "MAPPED_LIMIT", memory.mapped_bytes() // 2)
    idle.begin()
    idle.end()
    assert len(calls) == 1  # past it: at once, in the search's own thread


def test_mapped_bytes_counts_a_mapped_file_read_in(tmp_path):
    import mmap

    path = tmp_path / "pages.bin"
    path.write_bytes(b"\x01" * (32 << 20))
    before = memory.mapped_bytes()
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        assert sum(mm[i] for i in range(0, len(mm), 4096)) == (32 << 20) // 4096
        assert memory.mapped_bytes() - before >= 30 << 20


def test_a_forked_worker_waits_for_its_own_quiet_moment(monkeypatch):
    import os

    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.2)
    idle, calls, released = _counting_release()
    idle.begin()
    idle.end()  # a thread of this process now waits to release
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child has no such thread: its own search must start one
        try:
            idle.begin()
            idle.end()
            os.write(write, b"1" if released.wait(5) else b"0")
        finally:
            os._exit(0)
    os.close(write)
    got = os.read(read, 1)
    os.waitpid(pid, 0)
    assert got == b"1"
    assert released.wait(5)


def test_a_freed_array_s_pages_serve_the_next_one_without_being_faulted_in_again():
    # A million dispatches' scores in float64 (2,048 pages): glibc left to itself maps some
    # afresh and gives the heap's top back, about a thousand page faults in ten allocations.
    import resource

    assert memory.HEAP_KEPT
    for t in threading.enumerate():  # an earlier test's engine giving its heap back meanwhile
        if t.name == "depeche-release":
            t.join(30)
    size = 8 << 20
    np.ones(size, np.uint8)  # the heap grows to it once
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(10):
        a = np.ones(size, np.uint8)
        del a
    assert resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before < 100

