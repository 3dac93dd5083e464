"""One opened generation (``Snapshot``) and the postings it reads: what a search needs of an
index, read once per generation and shared by every request of a process.

A snapshot holds the Whoosh reader (stored fields), the generation's postings arrays mapped
from disk (``postings``), per-document arrays (field lengths, days, embargo, live documents,
story ids), facet document→value pairs, the vocabulary and speller built in the background, and
a cache of each term's postings combined over the text fields (BM25F tf~; a frequent term's
computed only where a query asks, ``TermPostings``). It is read-only once
built; the ``Engine`` swaps in a new one when the generation changes.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from bisect import bisect_right
from collections import Counter, OrderedDict
from itertools import accumulate
from pathlib import Path

import numpy as np

from . import analysis, arrays, docarrays, facets, highlight, postings, ranking, spelling, stories, suggest, surnames
from . import whoosh_internals as wi
from .indexing import ENTITIES_FILE, check_version, fold_key, read_meta
from .model import AGENCY_FACETS

TEXT_FIELDS = ranking.TEXT_FIELDS
CACHE_BYTES = 96 << 20  # decoded postings kept per snapshot (LRU by term)
# The most recently used terms stay cached beyond that: a query reads its words' postings for
# matching, scoring and re-ranking, and must not load a common word twice.
KEEP_RECENT_TERMS = 16
STORED_CACHE = 1024
# A frequent term's scores are added at the candidates only when they are fewer than one
# document in this many: past it, a vectorised pass over every document (search/_kernels.c)
# costs less than reaching each candidate (0.25 ms a million, against 0.23 at one in ten).
DENSE_AT_SHARE = 8
# A term with at least this many postings over the text fields is read deferred: its tf~ at
# the documents a query asks, or whole when they are more than one posting in AT_FEW_SHARE
# (measured at a million, paired over the dev queries: 4 gave -0.3 ms a query at the median
# and -1 ms in the mean against 8, since documents are located by ``arrays.locate``; 2 was
# slower than 3 or 4).
DEFER_POSTINGS = 16_384
AT_FEW_SHARE = 4
# How long a request waits for the vocabulary and the speller being built in the background
# when a generation has just opened (at most its own budget).
VOCABULARY_WAIT = 30.0
log = logging.getLogger("depeche.engine")


# ---------------------------------------------------------------- postings


class FieldPostings:
    """Postings of one term in one field: live doc numbers and their term frequencies, and where
    each posting's positions lie in its segment's mapped files (read only for the postings
    asked, never copied whole)."""

    __slots__ = ("ids", "tf", "_parts", "_bounds", "_orig")

    def __init__(self, ids: np.ndarray, parts: tuple = (), bounds: list[int] | None = None,
                 orig: np.ndarray | None = None, tf: np.ndarray | None = None):
        self.ids = ids
        self.tf = tf  # the term's frequency in each of ``ids`` (None: not read)
        self._parts = parts  # per segment: (its postings' position offsets, its positions file)
        self._bounds = bounds or [0]  # where each part's postings start, deleted ones counted
        self._orig = orig  # each live posting's index, deleted ones counted (None: none deleted)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        held = self.ids.nbytes + (self.tf.nbytes if self.tf is not None else 0)
        return held + (self._orig.nbytes if self._orig is not None else 0)

    @property
    def has_positions(self) -> bool:
        return bool(self._parts)

    def positions(self, doc: int) -> list[int]:
        """Positions of the term in document ``doc`` (empty if absent)."""
        i = int(np.searchsorted(self.ids, doc))
        if i >= len(self.ids) or self.ids[i] != doc or not self._parts:
            return []
        return self.positions_at(i)

    def positions_at(self, i: int) -> list[int]:
        """Positions of the ``i``-th posting."""
        if self._orig is not None:
            i = int(self._orig[i])
        k = bisect_right(self._bounds, i) - 1
        vstart, blob = self._parts[k]
        j = i - self._bounds[k]
        return postings.decode_positions(blob[int(vstart[j]) : int(vstart[j + 1])])

    def positions_many(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions per posting, the positions end to end) of the postings ``idx`` (ascending)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self._orig is not None:
            idx = self._orig[idx].astype(np.int64)
        counts = np.zeros(len(idx), dtype=np.int64)
        if not self._parts or not len(idx):
            return counts, np.zeros(0, dtype=np.int64)
        cut = np.searchsorted(idx, self._bounds[1:] + [np.iinfo(np.int64).max]).tolist()
        out = []
        for k, (a, b) in enumerate(zip([0] + cut[:-1], cut)):
            if a == b:
                continue
            vstart, blob = self._parts[k]
            j = idx[a:b] - self._bounds[k]
            buf = np.frombuffer(blob.data, dtype=np.uint8) if len(blob.data) else np.zeros(0, np.uint8)
            counts[a:b], pos = postings.decode_many(buf, np.asarray(vstart[j], dtype=np.int64), np.asarray(vstart[j + 1], dtype=np.int64))
            out.append(pos)
        return counts, np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


EMPTY = FieldPostings(np.zeros(0, np.int32), tf=np.zeros(0, np.uint16))


class TermPostings:
    """A term over the text fields: per-field postings and its combined BM25F tf~, as the
    documents having it and their tf~ (``ids``, ``tfw``), or for a frequent term as the tf~ of
    every document (``dense``, 0 where absent): finding a frequent term's documents costs as
    much as the rest of its reading, and its mask and scores need only the dense form.

    A term with many postings is read from a snapshot deferred (``deferred``): its documents as
    a mask, its tf~ computed at the documents asked when they are few (the candidates of a
    query whose other words are rare, the best re-ranked), and whole only when asked for most."""

    __slots__ = ("term", "fields", "dense", "_ids", "_tfw", "_df", "size", "_owner", "_mask", "postings", "dense_form")

    def __init__(self, term: str, fields: dict, ids: np.ndarray | None = None, tfw: np.ndarray | None = None,
                 dense: np.ndarray | None = None):
        self.term = term
        self.fields = fields
        self.dense = dense
        self._ids, self._tfw = ids, tfw
        self._df: int | None = len(ids) if ids is not None else None
        self._owner: Snapshot | None = None  # set while the tf~ is not computed whole
        self._mask: np.ndarray | None = None
        self.postings = len(ids) if ids is not None else 0  # over the fields
        self.dense_form = dense is not None  # summed as ranking.dense_tf sums (else merged_tf)
        self.size = self.held() + 64

    def held(self) -> int:
        """Bytes of the arrays this term holds (what the snapshot's cache counts)."""
        held = self.dense.nbytes if self.dense is not None else 0
        if self._ids is not None:
            held += self._ids.nbytes + self._tfw.nbytes
        if self._mask is not None:
            held += self._mask.nbytes
        return held + sum(p.nbytes for p in self.fields.values())

    @property
    def deferred(self) -> bool:
        """Whether the tf~ has not been computed whole yet."""
        return self.dense is None and self._ids is None

    def _whole(self) -> None:
        if self.dense is None and self._ids is None:
            self._owner.combine_whole(self)

    def _few(self, docs: np.ndarray | None) -> bool:
        # A binary search a document and field against a pass over every posting.
        return self.deferred and docs is not None and len(docs) * AT_FEW_SHARE <= self.postings

    def set_combined(self, ids: np.ndarray | None, tfw: np.ndarray | None, dense: np.ndarray | None) -> None:
        """Hold the tf~ computed whole (by the snapshot's ``combine_whole``)."""
        if dense is not None:
            self.dense = dense
        else:
            self._tfw = tfw
            self._ids = ids
            if self._df is None:
                self._df = len(ids)

    @property
    def ids(self) -> np.ndarray:
        """The documents having the term (a frequent term's found anew each time: never kept
        beside its dense form, which the cache's size counts alone; a deferred term's from its
        mask, its tf~ not computed)."""
        if self._ids is not None:
            return self._ids
        if self.dense is None:
            return np.flatnonzero(self._present()).astype(np.int32)
        return np.flatnonzero(self.dense != 0).astype(np.int32)  # bool first: ranking._combine_dense

    @property
    def held_ids(self) -> np.ndarray | None:
        """The documents having the term when held as postings (None when held densely or
        deferred: finding them would cost a pass over every document)."""
        return self._ids

    @property
    def tfw(self) -> np.ndarray:
        """tf~ of the documents of ``ids``, in that order."""
        self._whole()
        if self._tfw is not None:
            return self._tfw
        return self.dense[self.dense != 0]

    @property
    def df(self) -> int:
        if self._df is None:
            if self.dense is not None:
                self._df = int(np.count_nonzero(self.dense))
            else:
                self._present()
        return self._df

    def _present(self) -> np.ndarray:
        """The live documents having the term, kept (a bool a document: a quarter of its dense form)."""
        if self._mask is None:
            self._owner.find_present(self)
        return self._mask

    def set_present(self, m: np.ndarray) -> None:
        """Hold the mask of the documents having the term (by the snapshot's ``find_present``)."""
        self._df = int(np.count_nonzero(m))
        self._mask = m

    def mask(self, n: int) -> np.ndarray:
        """The documents having the term, a bool array of ``n`` not to be changed (read-only:
        a frequent term's is the one it keeps)."""
        if self._mask is not None or self.deferred:
            m = self._present().view()
        elif self.dense is not None:
            m = self.dense != 0
        else:
            m = np.zeros(n, dtype=bool)
            arrays.mark(m, self._ids)
        m.flags.writeable = False
        return m

    def mark(self, m: np.ndarray) -> None:
        """Set ``m`` (bool per document) where the term is."""
        if self._mask is not None or self.deferred:
            np.logical_or(m, self._present(), out=m)
        elif self.dense is not None:
            np.logical_or(m, self.dense != 0, out=m)
        else:
            arrays.mark(m, self._ids)

    def add_to(self, scores: np.ndarray, weight: float, k1: float, docs: np.ndarray | None = None) -> None:
        """Add ``weight`` x the saturated tf~ to ``scores`` (float32 per document), where the term
        is; a frequent term only at ``docs`` (ascending doc numbers) when given: the only scores
        read afterwards."""
        if self._few(docs):
            present, values = self._at_few(docs)
            ranking.add_weighted_saturated(scores, arrays.masked(docs, present), values, weight, k1)
            return
        self._whole()
        if self.dense is not None:
            # 0 where absent: adds nothing there, and each document the same float32 sum.
            if docs is not None and len(docs) * DENSE_AT_SHARE < len(scores):
                ranking.add_weighted_saturated_at(scores, docs, self.dense, weight, k1)
            else:
                ranking.add_weighted_saturated(scores, None, self.dense, weight, k1)
        elif len(self._ids):
            ranking.add_weighted_saturated(scores, self._ids, self._tfw, weight, k1)

    def at(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``docs`` have the term, their tf~) for doc numbers ``docs``."""
        if self._few(docs):
            return self._at_few(docs)
        self._whole()
        if self.dense is not None:
            vals = arrays.gather(self.dense, docs)
            present = vals != 0
            return present, vals[present]
        ids = self._ids
        if not len(ids):
            return np.zeros(len(docs), dtype=bool), np.zeros(0, np.float32)
        loc = np.minimum(arrays.locate(ids, docs), len(ids) - 1)
        present = ids[loc] == docs
        return present, self._tfw[loc[present]]

    def _at_few(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``at`` read from each field's postings at ``docs`` alone, the tf~ as computed whole."""
        owner = self._owner
        fields = {f: fp for f, fp in self.fields.items() if fp is not EMPTY}
        ids, tfs = {f: fp.ids for f, fp in fields.items()}, {f: fp.tf for f, fp in fields.items()}
        norms = {f: owner.length_norm(f) for f in TEXT_FIELDS}
        return ranking.tf_at(np.asarray(docs), ids, tfs, norms, owner.has_lead, owner.params.weights)


# ---------------------------------------------------------------- snapshot


class Snapshot:
    """One opened generation and everything computed from it; read-only once built."""

    def __init__(self, root: Path, key: tuple, params: ranking.RankingParams, previous: "Snapshot | None" = None):
        from whoosh import index as whoosh_index

        self.root = root
        self.key = key
        self.params = params
        gen = root / key[0]
        self.gen_dir = gen
        self.meta = read_meta(gen)
        check_version(self.meta, root)
        self.ix = whoosh_index.open_dir(str(gen))
        self.reader = self.ix.reader()
        self.leaves = wi.check_fast_path(self.reader)
        self.segments = [(postings.segment_postings(gen, sr), off) for sr, off in self.leaves]
        self._page_maps = [m for seg, _ in self.segments for m in seg.posting_maps] + wi.segment_mappings(self.leaves)
        self.n = self.reader.doc_count_all()
        self.lock = threading.RLock()  # Whoosh file objects are not thread-safe
        self._cache: OrderedDict[str, TermPostings] = OrderedDict()
        self.phrase_masks: dict[tuple, np.ndarray] = {}  # terms -> doc numbers having the phrase
        self._stored: dict[int, dict] = {}
        self._cache_size = 0
        self._vocab: suggest.Vocabulary | None = None
        self._speller: spelling.Speller | None = None
        # While this generation's vocabulary and speller are being built, the previous
        # snapshot's serve (stale by one update at most): an archive fed every second by
        # `index watch` must not go without spelling or prefixes.
        self._stale = ((previous._vocab or previous._stale[0], previous._speller or previous._stale[1])
                       if previous is not None else (None, None))
        self._words: dict = {}
        self._norms: dict[str, np.ndarray] = {}
        self._source_display: dict[str, str] = {}
        self._entity_display: dict[tuple[str, str], str] = {}

        self.live = wi.live_docs(self.reader, self.leaves)
        self.n_live = int(np.count_nonzero(self.live))

        # Mapped from what the writer laid out for this commit (or computed, for an older layout).
        self.arrays = docarrays.load(gen, self.reader, self.leaves, self.segments, self.live)
        self.lengths = self.arrays.lengths
        # From the exact lengths (each document's is rounded as the ranking was tuned).
        self.avg = {f: max(sum(int(np.sum(seg.lengths[f], dtype=np.int64)) for seg, _ in self.segments) / max(self.n, 1), 1e-3)
                    for f in TEXT_FIELDS}
        self.has_lead = self.lengths["lead"] > 0
        self.day = self.arrays.day
        # Embargoed agency items: release time (epoch seconds, 0: none); masked out until then.
        self.release = self.arrays.release
        self.has_embargo = bool((self.release > 0).any())
        self.docnums = np.arange(self.n, dtype=np.int64)

        # One person, one page: a lone surname read as the full name unambiguous in its period.
        self.surnames = surnames.SurnameJoin(self._facet("people"), self.day)
        self.facets = {
            "people": self.surnames.facet,
            "places": self._facet("places"),
            "sources": self._facet("source"),
            "dates": self._facet("month"),
            "section": self._facet("section"),
        }
        for name in AGENCY_FACETS:
            self.facets[name] = self._facet(name)
        self.has_agency = any(self.facets[name].totals(self.live).any() for name in AGENCY_FACETS)
        # Documents in another language than French (their terms are folded words, not stems).
        lang = self.facets["language"]
        self.foreign = lang.mask_for([i for i, k in enumerate(lang.keys) if k != "fr"]) & self.live
        self.has_foreign = bool(self.foreign.any())
        self._keyword_display: dict[tuple[str, str], str] = {}
        self.entity_forms = self._read_entities()
        st = self.arrays.stories
        self.story_value, self.story_of, self.story_size = st["value"], st["of"], st["size"]
        # Whether each document's story has other versions: counting a result's stories reads
        # the story of those documents only (a bool a document: 1 MB a worker at a million).
        self.in_multi_story = self.story_size[self.story_of] > 1
        self._story_docs, self._story_numbers = (st["by"], st["starts"]), st["numbers"]
        self._vocab_ready = threading.Event()
        threading.Thread(target=self._build_vocabulary, name="depeche-vocabulary", daemon=True).start()

    # -- building

    def visible(self, now: float | None = None) -> np.ndarray:
        """Live documents whose embargo (if any) has ended: what a request may see, at ``now``."""
        if not self.has_embargo:
            return self.live
        return self.live & ~(self.release > (time.time() if now is None else now))

    def _facet(self, field: str) -> facets.FacetIndex:
        """A keyword field's facet, over the commit's per-document arrays."""
        fc = self.arrays.facets[field]
        return facets.FacetIndex.from_layout(fc.keys, fc.doc_of_pair, fc.key_of_pair, fc.starts, self.n)

    def story_docs(self, story: str) -> np.ndarray:
        """The live documents of a story (any order); empty for an unknown story."""
        number = stories.story_number(story)
        i = int(np.searchsorted(self._story_numbers, np.uint64(number))) if number is not None else -1
        if i < 0 or i >= len(self._story_numbers) or int(self._story_numbers[i]) != number:
            return np.zeros(0, np.int64)
        by_story, starts = self._story_docs
        docs = by_story[starts[i] : starts[i + 1]]
        return docs[self.live[docs]]

    def _read_entities(self) -> dict:
        try:
            data = json.loads((self.gen_dir / ENTITIES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {kind: data.get(kind, {}) for kind in ("people", "places")}

    # -- postings

    def term(self, term: str) -> TermPostings:
        """The cached postings of a term over title, lead and body (live documents only)."""
        tp = self._cache.get(term)
        if tp is not None:
            try:
                self._cache.move_to_end(term)
            except KeyError:
                pass
            return tp
        with self.lock:
            tp = self._cache.get(term)
            if tp is not None:
                return tp
            tp = self._load_term(term)
            self._cache[term] = tp
            self._cache_size += tp.size
            self._evict()
        return tp

    def _load_term(self, term: str) -> TermPostings:
        tp = TermPostings(term, {})
        for f in TEXT_FIELDS:
            tp.fields[f] = self._field_postings(f, term)
        tp.postings = sum(len(fp) for fp in tp.fields.values())
        tp.dense_form = ranking.is_dense_count(tp.postings, self.n)
        if tp.postings >= DEFER_POSTINGS:
            # Weakly: a cached term must not keep a replaced snapshot alive, nor the snapshot and
            # its terms make a cycle that only the garbage collector frees.
            tp._owner = weakref.proxy(self)
        else:
            self._combine(tp)
        tp.size = tp.held() + 64
        return tp

    def _field_postings(self, field: str, term: str) -> FieldPostings:
        """A term's postings in a text field, over every segment: doc numbers and term
        frequencies copied end to end (deleted documents left out), positions left in place."""
        parts = []
        for seg, off in self.segments:
            fa = seg.field(field)
            got = fa.span(term) if fa is not None and fa.vstart is not None else None
            if got is not None:
                parts.append((fa, got[0], got[1], off))
        if not parts:
            return EMPTY
        bounds = [0, *accumulate(b - a for _, a, b, _ in parts)]
        ids = np.empty(bounds[-1], dtype=np.int32)
        tf = np.empty(bounds[-1], dtype=np.result_type(*(fa.tf.dtype for fa, *_ in parts)))
        for (fa, a, b, off), at, to in zip(parts, bounds, bounds[1:]):
            fa.copy_ids(a, b, ids[at:to])
            fa.copy_tf(a, b, tf[at:to])
            if off:
                np.add(ids[at:to], np.int32(off), out=ids[at:to])
        orig = None
        if self.n_live < self.n:
            keep = arrays.gather(self.live, ids)
            if not keep.all():
                orig = np.flatnonzero(keep).astype(np.int32)
                ids, tf = arrays.masked(ids, keep), arrays.masked(tf, keep)
        return FieldPostings(ids, tuple((fa.vstart[a : b + 1], fa.values) for fa, a, b, _ in parts), bounds[:-1], orig, tf)

    def _combine(self, tp: TermPostings) -> None:
        """A term's tf~ over all its postings (``ranking.merged_tf`` or ``dense_tf``)."""
        p = self.params
        fields = {f: fp for f, fp in tp.fields.items() if fp is not EMPTY}
        ids_by_field, tf_by_field = {f: fp.ids for f, fp in fields.items()}, {f: fp.tf for f, fp in fields.items()}
        norms = {f: self.length_norm(f) for f in TEXT_FIELDS}
        if tp.dense_form:
            dense = ranking.dense_tf(ids_by_field, tf_by_field, norms, self.has_lead, p.weights, self.n)
            if dense is not None:
                tp.set_combined(None, None, dense)
                return
        ids, tfw = ranking.merged_tf(ids_by_field, tf_by_field, norms, self.has_lead, p.weights)
        tp.set_combined(ids, tfw, None)

    def _title_as_lead(self, field: str, x: np.ndarray, docs: np.ndarray) -> np.ndarray:
        p = self.params
        if field != "title" or not p.weights["title"]:
            return x
        # Without a lead, the title is the summary of the document and weighs as a lead.
        return x * np.where(arrays.gather(self.has_lead, docs), 1.0, p.weights["lead"] / p.weights["title"])

    def normalised(self, field: str, tf: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """The length-normalised tf of documents ``docs`` in a text field, as ``_combine`` finds it."""
        x = np.divide(tf, arrays.gather(self.length_norm(field), docs), dtype=np.float32)
        return self._title_as_lead(field, x, docs)

    def combine_whole(self, tp: TermPostings) -> None:
        """Compute a deferred term's tf~ over all its postings, once, and count it in the cache."""
        with self.lock:
            if tp.deferred:
                before = tp.held()
                self._combine(tp)
                self._grew(tp, tp.held() - before)

    def find_present(self, tp: TermPostings) -> None:
        """Find a deferred term's live documents as a mask, once, and count it in the cache."""
        with self.lock:
            if tp._mask is None:
                m = np.zeros(self.n, dtype=bool)
                for fp in tp.fields.values():
                    arrays.mark(m, fp.ids)
                tp.set_present(m)
                self._grew(tp, m.nbytes)

    def _grew(self, tp: TermPostings, nbytes: int) -> None:
        # A cached term found more of itself: counted, and the least recently used let go.
        with self.lock:
            tp.size += nbytes
            if self._cache.get(tp.term) is tp:
                self._cache_size += nbytes
                self._evict()

    def _evict(self) -> None:
        while self._cache_size > CACHE_BYTES and len(self._cache) > KEEP_RECENT_TERMS:
            _, old = self._cache.popitem(last=False)
            self._cache_size -= old.size

    def length_norm(self, field: str) -> np.ndarray:
        """Each document's divisor of a text field's term frequencies (ranking.length_norm),
        computed on first use: a frequent term would otherwise pay it over its every posting."""
        got = self._norms.get(field)
        if got is None:
            got = self._norms[field] = ranking.length_norm(self.lengths[field], self.avg[field], self.params.b[field])
        return got

    def field_terms(self, field: str, term: str) -> np.ndarray:
        """Doc numbers having ``term`` in a keyword field (title words use ``term``)."""
        parts = []
        for seg, off in self.segments:
            got = seg.postings(field, term)
            if got is not None:
                parts.append(np.asarray(got[0], dtype=np.int32) + off)
        if not parts:
            return np.zeros(0, np.int32)
        ids = np.concatenate(parts)
        return ids[self.live[ids]]

    # -- stored documents

    def stored(self, doc: int) -> dict:
        """Stored fields of a document (a small cache: the best documents of a query are read
        for re-ranking and again for their snippets)."""
        doc = int(doc)
        got = self._stored.get(doc)
        if got is None:
            with self.lock:
                got = self.reader.stored_fields(doc)
            if len(self._stored) >= STORED_CACHE:
                try:
                    self._stored.pop(next(iter(self._stored)))
                except (StopIteration, KeyError, RuntimeError):
                    pass
            self._stored[doc] = got
        return got

    def docnum(self, ident: str) -> int | None:
        ids = self.field_terms("id", ident)
        return int(ids[0]) if len(ids) else None

    # -- vocabulary and display forms

    def _wait_built(self, wait: float | None) -> bool:
        """Wait at most ``wait`` seconds for the background build; True when it has finished."""
        return self._vocab_ready.wait(timeout=VOCABULARY_WAIT if wait is None else max(0.0, min(wait, VOCABULARY_WAIT)))

    def vocabulary(self, wait: float | None = None) -> suggest.Vocabulary | None:
        """Every stem of the text fields with its document frequency (built in the background
        when the snapshot opens: the term index is read with stateless reads, no lock); None
        if it is still being built after ``wait`` seconds."""
        if self._vocab is None:
            if self._stale[0] is not None and not self._vocab_ready.is_set():
                return self._stale[0]
            if not self._wait_built(wait):
                return None
            if self._vocab is None:  # the background build failed: build here
                self._vocab = self._read_vocabulary()
        return self._vocab

    def speller(self, wait: float | None = None) -> spelling.Speller | None:
        """The deletion index of the generation's words; None if still being built after ``wait`` seconds."""
        if self._speller is None:
            if self._stale[1] is not None and not self._vocab_ready.is_set():
                return self._stale[1]
            if not self._wait_built(wait):
                return None
            if self._speller is None:  # the background build failed: build here
                self._speller = spelling.build(self.gen_dir)
        return self._speller

    def _build_vocabulary(self) -> None:
        try:
            self._vocab = self._read_vocabulary()
            self._speller = spelling.build(self.gen_dir)
            for kind in ("people", "places"):
                self.facets[kind].keys_with_word_prefix("a")  # builds the word index
        except Exception:  # pragma: no cover - rebuilt on demand
            log.exception("vocabulary of %s", self.gen_dir)
        finally:
            self._vocab_ready.set()
            self._stale = (None, None)

    def _read_vocabulary(self) -> suggest.Vocabulary:
        df: dict[str, int] = {}
        for seg, _ in self.segments:
            for f in TEXT_FIELDS:
                fa = seg.field(f)
                if fa is None:
                    continue
                for k, v in zip(fa.terms.all(), fa.df().tolist()):
                    if v > df.get(k, 0):
                        df[k] = v
        return suggest.Vocabulary(df)

    def word_forms(self, term: str, samples: int = 6) -> Counter:
        """Surface forms of a stem in a few documents that contain it (lead first: short)."""
        cached = self._words.get(term)
        if cached is not None:
            return cached
        forms: Counter = Counter()
        tp = self.term(term)
        seen = 0
        for f in ("lead", "title", "body"):
            fp = tp.fields.get(f, EMPTY)
            step = max(1, len(fp.ids) // samples)
            for doc in fp.ids[::step][:samples]:
                text = self.stored(doc).get(f) or ""
                found = 0
                for _, s, e in highlight._candidate_tokens(text, frozenset([term])):
                    forms[text[s:e]] += 1
                    found += 1
                # A lead indexed from the body's opening is not stored as the lead: look on.
                seen += found > 0
            if sum(forms.values()) >= samples or seen >= samples:
                break
        self._words[term] = forms
        return forms

    def display_word(self, term: str, want: str | None = None, prefix: str | None = None) -> str | None:
        forms = self.word_forms(term)
        if prefix:
            forms = Counter({f: c for f, c in forms.items() if analysis.fold(f).startswith(prefix)})
        return suggest.word_display(forms, want)

    def entity_display(self, kind: str, key: str) -> str:
        got = self._entity_display.get((kind, key))
        if got is None:
            forms = self.entity_forms.get(kind, {}).get(key)
            got = facets.choose_display(Counter(forms)) if forms else key.title()
            self._entity_display[(kind, key)] = got
        return got

    def source_display(self, key: str) -> str:
        got = self._source_display.get(key)
        if got is None:
            got = key
            fi = self.facets["sources"]
            i = fi.key_ids.get(key)
            if i is not None:
                docs = fi.doc_of_pair[fi.key_of_pair == i]
                if len(docs):
                    got = (self.stored(int(docs[0])).get("meta") or {}).get("source") or key
            self._source_display[key] = got
        return got

    def keyword_display(self, facet: str, key: str) -> str:
        """The display form of an agency facet value, as a dispatch having it spells it."""
        got = self._keyword_display.get((facet, key))
        if got is None:
            got = key
            fi = self.facets[facet]
            i = fi.key_ids.get(key)
            docs = fi.doc_of_pair[fi.key_of_pair == i] if i is not None else []
            if len(docs) and facet in ("genre", "slugline", "subjects"):
                agency = (self.stored(int(docs[0])).get("meta") or {}).get("agency") or {}
                if facet == "subjects":
                    names = [n or c for c, n in agency.get("subjects") or []]
                else:
                    names = [agency.get(facet) or ""]
                got = next((n for n in names if fold_key(n) == key), key)
            self._keyword_display[(facet, key)] = got
        return got

    def release_pages(self) -> None:
        """Unmap the postings and stored-field pages read so far (postings.release_pages)."""
        postings.release_pages(self._page_maps)

    def close(self) -> None:
        try:
            self.reader.close()
        except Exception:  # pragma: no cover
            pass
