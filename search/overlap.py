"""A stage of one request run on a second thread while the request's own thread goes on.

A search whose words match a third of a large archive spends as long counting its facets
(numpy over every candidate, which lets go of the interpreter lock) as ranking them: the two
read the same candidates and neither needs the other, so on a machine with a core to spare
they run side by side. A stage is started apart only when it is worth it (the caller says so)
and the process's one helper thread is free; otherwise it runs at once, on the caller's
thread, and the answer is the same.

One helper a process, started on first use in that process (a forked child, a server's worker
or an analysing process, starts afresh: the parent's thread is not there): no thread made per
request (each new thread may get its own malloc arena, tens of MiB a worker kept), and no
request waits in a queue behind another's facets.
"""
from __future__ import annotations

import os
import queue
import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Stage(Generic[T]):
    """The value of ``fn()``, computed apart (``apart``, if the helper is free) or at once;
    ``result`` waits for it."""

    def __init__(self, fn: Callable[[], T], apart: bool):
        self._fn: Callable[[], T] | None = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        if not (apart and _HELPER.take(self)):
            self.compute()
            self.done()

    def compute(self) -> None:
        """Compute the value (or keep the exception), once; ``done`` then tells the waiter."""
        fn, self._fn = self._fn, None
        try:
            if fn is not None:
                self._value = fn()
        except BaseException as e:  # noqa: BLE001 - raised again on the request's own thread
            self._error = e

    def done(self) -> None:
        """Let ``wait`` and ``result`` return."""
        self._done.set()

    def wait(self) -> None:
        """Return once the stage has finished (whatever its outcome)."""
        self._done.wait()

    def result(self) -> T:
        """The stage's value, or its exception raised here."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class _Helper:
    """The process's helper thread: one stage at a time, refused while busy."""

    def __init__(self):
        self._lock = threading.Lock()
        self._busy = False
        self._started = False
        self._stages: queue.SimpleQueue = queue.SimpleQueue()

    def take(self, stage: Stage) -> bool:
        """Run ``stage`` on the helper thread if it is free; False if it is not."""
        with self._lock:
            if self._busy:
                return False
            if not self._started:
                threading.Thread(target=self._loop, name="depeche-stage", daemon=True).start()
                self._started = True
            self._busy = True
        self._stages.put(stage)
        return True

    def _loop(self) -> None:
        while True:
            stage = self._stages.get()
            try:
                stage.compute()
            finally:
                with self._lock:
                    self._busy = False  # free before the waiter goes on and asks again
                stage.done()


_HELPER = _Helper()


def _afresh_in_child() -> None:
    # A fork copies neither the thread nor a lock's owner: the child gets its own helper.
    global _HELPER
    _HELPER = _Helper()


os.register_at_fork(after_in_child=_afresh_in_child)
