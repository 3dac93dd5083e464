"""What the writer computes from a dispatch's text before writing it, once: each text field's
analyzed terms (its postings), its story signature and headline key (stories.py), and its words
for the spelling table (spelling.py).

This is most of a rebuild's work, and the writer's own process used to do it alone, while the
segment-writing processes waited: a rebuild with ``procs`` > 1 hands it, a chunk of dispatches
at a time, to as many analysing processes, and reads the results back in order. A process that
dies there fails the build (``AnalysisDied``), as a segment-writing process does: the live index
is never touched before a build is complete.
"""
from __future__ import annotations

import multiprocessing
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from . import analysis, postings, spelling, stories
from .documents import Dispatch

CHUNK = 64  # dispatches sent to an analysing process at a time: a few milliseconds of its work
# Chunks in flight for each analysing process: enough to keep it busy while the writer is slow,
# few enough to bound the memory of what waits (a few hundred dispatches).
AHEAD = 4


@dataclass
class Analysed:
    """A dispatch's analysis, as the writer uses it."""

    terms: dict[str, list[str]]  # each text field's terms as indexed (postings.analyzed)
    signature: np.ndarray  # stories.signature_of its title, lead and body
    title: int | None  # stories.title_key_of its headline


def analyse(doc: Dispatch, fields: dict) -> Analysed:
    """The analysis of a dispatch whose fields (indexing.to_fields) are ``fields``.

    The story compares the text shown; the terms indexed are its terms unless the text indexed
    differs (no headline, a language other than French), when the story's are read apart.
    """
    terms = postings.analyzed(fields)
    if postings.INDEXED_KEY in fields["meta"]:
        story_terms = analysis.terms(stories.story_text(doc.title, doc.lead, doc.body))
        title_terms = analysis.terms(doc.title) if doc.title else []
    else:
        story_terms = terms["title"] + terms["lead"] + terms["body"]
        title_terms = terms["title"]
    return Analysed(terms, stories.signature_of(story_terms), stories.title_key_of(title_terms))


def count_words(doc: Dispatch, words: Counter) -> None:
    """Add a dispatch's words to the spelling table's counts."""
    spelling.count_words(f"{doc.title or ''} {doc.lead} {doc.body}", words)


def _analyse_chunk(docs: list[Dispatch], to_fields: Callable) -> tuple[list[Analysed], Counter]:
    words: Counter = Counter()
    out = []
    for doc in docs:
        out.append(analyse(doc, to_fields(doc, [], [])))
        count_words(doc, words)
    # Folded here: fewer words for the writer's process to add up, and none to fold at the end.
    return out, spelling.folded_counts(words)


class AnalysisDied(RuntimeError):
    """An analysing process ended before its work was done."""


DIED = "un processus d'indexation s'est arrêté en cours de route (l'analyse des textes)"


def analysed(items: Iterator[tuple], to_fields: Callable, procs: int, words: Counter) -> Iterator[tuple]:
    """Each item (a dispatch first) with its ``Analysed`` appended, in order; the words counted
    into ``words``, folded (spelling.folded_counts). ``to_fields``: the writer's fields of a dispatch (its people and places do
    not matter here). With ``procs`` > 1, analysed by that many processes."""
    if procs <= 1:
        raw: Counter = Counter()
        for item in items:
            count_words(item[0], raw)
            yield (*item, analyse(item[0], to_fields(item[0], [], [])))
        words.update(spelling.folded_counts(raw))
        return
    # Forked: the workers start with the analyzer's tables already loaded.
    pool = ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("fork"))
    pending: deque = deque()

    def submit(chunk: list) -> None:
        try:
            pending.append((chunk, pool.submit(_analyse_chunk, [it[0] for it in chunk], to_fields)))
        except BrokenProcessPool:  # one died since the last chunk was read back
            raise AnalysisDied(DIED) from None

    def collect():
        chunk, future = pending.popleft()
        try:
            got, counted = future.result()
        except BrokenProcessPool:
            raise AnalysisDied(DIED) from None
        words.update(counted)
        for item, a in zip(chunk, got):
            yield (*item, a)

    try:
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) == CHUNK:
                submit(chunk)
                chunk = []
                while len(pending) > procs * AHEAD:
                    yield from collect()
        if chunk:
            submit(chunk)
        while pending:
            yield from collect()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
