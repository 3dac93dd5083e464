"""A search worker's heap given back to the system once no search is running.

The engine's arrays come and go by the megabyte (a frequent term's postings, the scores of a
query's candidates). glibc keeps what numpy frees for the next allocation: after its dynamic
threshold has risen, arrays of up to 32 MiB come from the heap, and freed heap memory goes back
to the system only from its top. A web worker that had answered 500 queries held 250 MiB of
which 140 were free (at 500,000 dispatches). ``release_heap`` asks glibc to return it
(``malloc_trim``) once the process's anonymous memory has grown by ``TRIM_GROWTH`` since the
last trim, so that a trim comes every few dozen queries, not after each. Elsewhere than glibc
(or without ``/proc``) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

TRIM_GROWTH = 48 << 20  # anonymous memory gained since the last trim before the next one
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


_LIBC = _libc()
_LOCK = threading.Lock()
_after_last_trim = 0


def anonymous_bytes() -> int:
    """The process's resident memory that is not a file's (its heap, numpy's arrays); 0 when unknown."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            fields = fh.read().split()
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
