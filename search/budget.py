"""One time budget per request, passed through every stage of a search.

A request starts one ``Budget``; each stage asks it before each unit of work (a term's
postings, a prefix expansion, a phrase check, a facet, a snippet, a correction) and stops
early when it is spent, recording its name. The response then says ``partial`` and which
stages were cut short, instead of a worker running past gunicorn's timeout.

The stages that decide *what* matches (planning, expansion, scoring) stop at ``MATCH_SHARE``
of the budget, leaving the rest for what makes the answer readable (facets, snippets), so a
request that is cut short still finishes within its budget.
"""
from __future__ import annotations

import time

MATCH_SHARE = 0.6


class Budget:
    """A deadline shared by the stages of one request, and the names of those it cut short."""

    __slots__ = ("start", "seconds", "cut")

    def __init__(self, ms: float | None):
        self.start = self._clock()
        self.seconds = None if ms is None else max(ms, 0) / 1000.0
        self.cut: list[str] = []

    @staticmethod
    def _clock() -> float:
        # Looked up at each call, so a test can make time jump.
        return time.perf_counter()

    def elapsed_ms(self) -> float:
        """Milliseconds since the request started."""
        return (self._clock() - self.start) * 1000.0

    def left(self, share: float = 1.0) -> float | None:
        """Seconds left before ``share`` of the budget is spent (None: unbounded)."""
        if self.seconds is None:
            return None
        return self.start + self.seconds * share - self._clock()

    def spent(self, stage: str, share: float = 1.0, reserve: float = 0.0) -> bool:
        """True, and ``stage`` recorded as cut short, once ``share`` of the budget is gone, or
        all but ``reserve`` seconds of it (kept for work that must follow)."""
        left = self.left(share)
        if left is None or left > reserve:
            return False
        if stage not in self.cut:
            self.cut.append(stage)
        return True

    @property
    def partial(self) -> bool:
        return bool(self.cut)


UNBOUNDED = None  # ``Budget(UNBOUNDED)``: evaluation and batch jobs that must see everything
