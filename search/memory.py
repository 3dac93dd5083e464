"""A search worker's heap given back to the system once no search is running.

The engine's arrays come and go by the megabyte (a frequent term's postings, the scores of a
query's candidates). glibc keeps what numpy frees for the next allocation: after its dynamic
threshold has risen, arrays of up to 32 MiB come from the heap, and freed heap memory goes back
to the system only from its top. A web worker that had answered 500 queries held 250 MiB of
which 140 were free (at 500,000 dispatches). ``release_heap`` asks glibc to return it
(``malloc_trim``) once the process's anonymous memory has grown by ``TRIM_GROWTH`` since the
last trim, so that a trim comes every few dozen queries, not after each. Elsewhere than glibc
(or without ``/proc``) it does nothing.

``IdleRelease`` runs what a worker gives back (this, and the index pages its searches mapped)
once no search has run for ``IDLE_RELEASE_SECONDS``, not after each search: unmapping after
every search made the next one fault every page of its postings in again, a sixth of a
search's time at a million dispatches, for memory the page cache holds anyway. A long burst
still gives them back whenever they pass ``MAPPED_LIMIT``.

Between those releases the heap is left to serve the searches: glibc is told (``mallopt``) to
take arrays of up to ``HEAP_ARRAYS_UP_TO`` from the heap and to keep up to ``HEAP_TOP_KEPT``
free at its top, rather than map each document-sized array afresh and give the heap's top back
after each search, so that the next search reuses pages already there instead of faulting
them in again one by one (at a million dispatches: 700 page faults a search, 4 to 5 ms of
system time).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
import time
import weakref
from typing import Callable

TRIM_GROWTH = 48 << 20  # anonymous memory gained since the last trim before the next one
# Seconds without a search before a worker gives back what its searches held (0: at once).
IDLE_RELEASE_SECONDS = 1.0
# Index pages a worker may keep mapped through a burst of searches: past this, it gives them
# back at the end of the search, without waiting for a quiet moment.
MAPPED_LIMIT = 1 << 30
log = logging.getLogger("depeche.memory")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Allocations up to this size come from the heap (glibc's own threshold climbs to it only as
# arrays that size are freed, and starts again at 128 KiB in each new process); its maximum.
HEAP_ARRAYS_UP_TO = 32 << 20
# Free memory kept at the top of the heap between searches (release_heap gives it back at rest).
HEAP_TOP_KEPT = 256 << 20


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


def _keep_heap(libc) -> bool:
    """Have glibc serve the searches' arrays from a heap it keeps (see the module's docstring);
    True if it took both settings."""
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, HEAP_ARRAYS_UP_TO)) & bool(libc.mallopt(M_TRIM_THRESHOLD, HEAP_TOP_KEPT))


_LIBC = _libc()
HEAP_KEPT = _keep_heap(_LIBC)
_LOCK = threading.Lock()
_after_last_trim = 0


def _statm() -> list[bytes]:
    with open("/proc/self/statm", "rb") as fh:
        return fh.read().split()


def mapped_bytes() -> int:
    """The process's resident pages that are files' (the index's mapped pages); 0 when unknown."""
    try:
        return int(_statm()[2]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def anonymous_bytes() -> int:
    """The process's resident memory that is not a file's (its heap, numpy's arrays); 0 when unknown."""
    try:
        fields = _statm()
        return (int(fields[1]) - int(fields[2])) * _PAGE  # resident less file-backed (shared) pages
    except (OSError, ValueError, IndexError):
        return 0


def release_heap(growth: int = TRIM_GROWTH) -> bool:
    """Give the free heap back to the system once anonymous memory has grown by ``growth``
    bytes since the last trim; True if it trimmed."""
    global _after_last_trim
    if _LIBC is None or not _LOCK.acquire(blocking=False):
        return False
    try:
        now = anonymous_bytes()
        if not now or now - _after_last_trim <= growth:
            return False
        _LIBC.malloc_trim(0)
        _after_last_trim = anonymous_bytes()
        return True
    finally:
        _LOCK.release()


class IdleRelease:
    """Calls ``release`` once no search has been running for ``IDLE_RELEASE_SECONDS``, or at
    the end of a search once the process maps more than ``MAPPED_LIMIT`` of files: searches say
    when they ``begin`` and ``end``; a thread waits out the quiet moment after the last one and
    ends once it has released (the next search starts another)."""

    def __init__(self, release: Callable[[], None]):
        # An engine's own method, held weakly: the engine holds this, and a cycle through it
        # kept a dropped engine's snapshot (its mapped files and arrays) until the garbage
        # collector ran, whenever this thread let go of it.
        self._release = weakref.WeakMethod(release) if hasattr(release, "__self__") else (lambda: release)
        self._cond = threading.Condition()
        self._in_flight = 0
        self._due: float | None = None  # when to release, once no search is running
        self._waiting = False  # a thread is waiting to release
        _INSTANCES.add(self)

    def begin(self) -> None:
        """A search starts."""
        with self._cond:
            self._in_flight += 1
            self._due = None

    def end(self) -> None:
        """A search has ended: the release is due after the quiet moment, if none starts meanwhile."""
        delay = IDLE_RELEASE_SECONDS
        with self._cond:
            self._in_flight = max(self._in_flight - 1, 0)  # a search begun before a fork ends in both
            if self._in_flight:
                return
            if delay > 0 and mapped_bytes() <= MAPPED_LIMIT:
                self._due = time.monotonic() + delay
                if self._waiting:
                    self._cond.notify()
                else:
                    self._waiting = True
                    threading.Thread(target=self._wait_then_release, name="depeche-release", daemon=True).start()
                return
            self._due = None  # released now: a waiting thread has nothing left to do until the next search
        self._release_logged()

    def _release_logged(self) -> None:
        release = self._release()
        if release is None:  # its engine is gone: nothing left to give back
            return
        try:
            release()
        except Exception:  # a worker must go on serving whatever happened here
            log.exception("could not release the memory of idle searches")

    def _wait_then_release(self) -> None:
        with self._cond:
            while True:
                if self._in_flight or self._due is None:
                    self._cond.wait()
                    continue
                left = self._due - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._due = None
                self._waiting = False
                break
        self._release_logged()


_INSTANCES: "weakref.WeakSet[IdleRelease]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # The waiting thread is not in the child, and it may have held the lock when the parent
    # forked: the child starts afresh, its own searches only.
    for idle in list(_INSTANCES):
        idle._cond = threading.Condition()
        idle._in_flight = 0
        idle._due = None
        idle._waiting = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
