"""A stage of one request run on a second thread while the request's own thread goes on.

A search whose words match a third of a large archive spends as long counting its facets
(numpy over every candidate, which lets go of the interpreter lock) as ranking them: the two
read the same candidates and neither needs the other, so on a machine with a core to spare
they run side by side. A stage is started apart only when it is worth a thread (the caller
says so); otherwise it runs at once, on the caller's thread, and the answer is the same.

A plain thread per stage, not a pool: nothing is made before a server forks its workers, and
no request waits in a queue behind another's facets.
"""
from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Stage(Generic[T]):
    """The value of ``fn()``, computed apart (``apart``) or at once; ``result`` waits for it."""

    def __init__(self, fn: Callable[[], T], apart: bool):
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if apart:
            self._thread = threading.Thread(target=self._run, args=(fn,), name="depeche-stage", daemon=True)
            self._thread.start()
        else:
            self._run(fn)

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._value = fn()
        except BaseException as e:  # noqa: BLE001 - raised again on the request's own thread
            self._error = e

    def wait(self) -> None:
        """Return once the stage has finished (whatever its outcome)."""
        if self._thread is not None:
            self._thread.join()

    def result(self) -> T:
        """The stage's value, or its exception raised here."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
