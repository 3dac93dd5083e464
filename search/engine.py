"""The search library: one ``Engine`` per process, called by the web page, the JSON API and the CLI.

An ``Engine`` opens the live generation of an index directory lazily and keeps a ``Snapshot``
of it (``snapshot``): the Whoosh reader for stored fields, the postings arrays the writer laid
out (``postings``), per-document arrays built once (field lengths, dates, facet document→value
pairs, the live-document mask) and a cache of each term's combined postings.

Scoring does not go through Whoosh's searcher: the engine reads the postings of the query
terms, scores every matching document with numpy (``ranking``), and sorts them exactly, so a
top 10 is always the top of the full ranking (Whoosh's block-quality shortcut is not exact,
whoosh issue #413). Facet counts come from the same arrays (``facets``), snippets from the
analyzer's character offsets (``highlight``).

Every call checks (``readlink`` + ``stat``, a few microseconds) whether ``current`` points at a
new generation or the generation was updated; the first thread to notice opens it while the
others keep answering from the old snapshot, and the switch is one attribute assignment.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from . import analysis, coverage, facets, highlight, memory, overlap, query, ranking, scoring, stories, suggest, versions
from .analysis import SCHEMA_VERSION
from .budget import Budget
from .plan import MAX_PREFIX_TERMS, MAX_QUERY_CLAUSES, MAX_QUERY_PREFIX_TERMS, Plan, plan_query  # noqa: F401 - limits re-exported
from .snapshot import Snapshot
from .indexing import (
    CURRENT,
    META_FILE,
    IndexMissing,
    fold_key,
    index_dir,
    language_tag,
    release_time,
)
from .model import (
    AGENCY_FACETS,
    AGENCY_FILTERS,
    COLLAPSES,
    DEFAULT_TIME_BUDGET_MS,
    EXCLUDE_FILTERS,
    FACETS,
    Correction,
    MAX_FACET_SIZE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    MAX_STORY_VERSIONS,
    SORTS,
    FacetItem,
    Hit,
    InvalidRequest,
    SearchRequest,
    SearchResponse,
)



RELATED_TERMS = 25
RELATED_BUDGET_MS = 500
SUGGEST_BUDGET_MS = 300
# Facets stop at this share of the budget (re-ranking at scoring.RERANK_SHARE): what is left is
# for the snippets of the page.
FACETS_SHARE = 0.9
# Snippets are marked up to this share; past it the page's remaining hits get their plain
# opening (a marked snippet of many words costs milliseconds, a plain one nothing).
SNIPPET_SHARE = 0.9
# ... and while the budget leaves this long for each hit still to come (its stored fields read
# and its plain opening: up to a millisecond at a million dispatches, out of the page cache).
PLAIN_HIT_SECONDS = 0.001
# From this many matches the facets are counted on a second thread while the ranking and the
# snippets go on (overlap.py): fewer cost less than starting a thread saves.
OVERLAP_MATCHES = 50_000
RETRY_OPEN_SECONDS = 2.0
log = logging.getLogger("depeche.engine")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _all(mask: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    out = mask.copy()
    for m in others:
        out &= m
    return out


# ---------------------------------------------------------------- evaluation of a query


class _Matches(NamedTuple):
    """A request's matches and what the response needs to say about them."""

    snap: "Snapshot"
    pq: query.ParsedQuery
    plan: "Plan"
    mask: np.ndarray
    context: np.ndarray  # the matches before the date filter
    selected: dict
    excluded: dict
    lo: int
    hi: int
    free: dict = {}  # facet name -> the matches its values are counted over, when it has chosen ones


class Engine:
    """Read-only search over the live generation of an index directory."""

    def __init__(self, index_dir_: str | os.PathLike, params: ranking.RankingParams | None = None):
        self.root = index_dir(index_dir_)
        self.params = params or ranking.DEFAULT_PARAMS
        self._snap: Snapshot | None = None
        self._open_lock = threading.Lock()
        self._failed: tuple | None = None
        self._idle = memory.IdleRelease(self._release_idle)

    # -- generations

    def _key(self) -> tuple | None:
        """What identifies the live index state: the generation and its metadata file, which
        ``index add``/``delete`` rewrite after each commit once its postings are laid out (a
        reader following Whoosh's own commit would open segments not laid out yet)."""
        try:
            target = os.readlink(self.root / CURRENT)
            st = os.stat(self.root / target / META_FILE)
        except OSError:
            return None
        return (target, st.st_mtime_ns, st.st_ino, st.st_size)

    def snapshot(self) -> Snapshot:
        """The snapshot to answer from, opening a new generation first if there is one."""
        key = self._key()
        snap = self._snap
        if snap is not None and (key is None or snap.key == key):
            return snap
        if key is None:
            raise IndexMissing(f"no index in {self.root}/ yet: run `depeche index rebuild`")
        # Only one thread opens; the others keep using the old snapshot meanwhile.
        if not self._open_lock.acquire(blocking=snap is None):
            return snap  # type: ignore[return-value]
        try:
            snap = self._snap
            if snap is not None and snap.key == key:
                return snap
            failed = self._failed
            if snap is not None and failed and failed[0] == key and time.monotonic() - failed[1] < RETRY_OPEN_SECONDS:
                return snap
            try:
                try:
                    new = Snapshot(self.root, key, self.params, previous=snap)
                except (OSError, IndexMissing):
                    # A rebuild may have swapped and cleaned up between readlink and open.
                    key2 = self._key()
                    if key2 is None or key2 == key:
                        raise
                    key = key2
                    new = Snapshot(self.root, key, self.params, previous=snap)
            except Exception:
                if snap is not None:
                    # Keep serving the old generation; try the new one again a little later.
                    log.exception("could not open %s/%s; still serving %s", self.root, key[0], snap.key[0])
                    self._failed = (key, time.monotonic())
                    return snap
                raise
            self._failed = None
            self._snap = new
            return new
        finally:
            self._open_lock.release()

    @contextlib.contextmanager
    def _reading(self):
        """Around a search: once none has run for a moment (memory.IdleRelease), the worker
        unmaps the index pages searches read (the page cache keeps them) and gives back the
        heap they freed (memory.py): its memory stays what it holds itself, not the postings of
        every query it ever answered."""
        self._idle.begin()
        try:
            yield
        finally:
            self._idle.end()

    def _release_idle(self) -> None:
        snap = self._snap
        if snap is not None:
            snap.release_pages()
        memory.release_heap()

    # -- validation

    @staticmethod
    def validate(req: SearchRequest) -> tuple[int, int]:
        """Raise InvalidRequest for a bad parameter; returns the (low, high) date bounds."""

        def intval(name, v, lo, hi):
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidRequest(f"bad_{name}", f"« {name} » doit être un nombre entier")
            if v < lo or v > hi:
                raise InvalidRequest(f"bad_{name}", f"« {name} » doit être compris entre {lo} et {hi}")

        if not isinstance(req.q, str):
            raise InvalidRequest("bad_query", "la requête doit être du texte")
        if len(req.q) > MAX_QUERY_LENGTH:
            raise InvalidRequest("query_too_long", f"la requête dépasse {MAX_QUERY_LENGTH} caractères")
        if _SURROGATE.search(req.q):
            # A lone surrogate cannot be written as UTF-8: no response could carry it back.
            raise InvalidRequest("bad_query", "la requête contient un caractère invalide (demi-paire UTF-16)")
        intval("page", req.page, 1, MAX_PAGE)
        intval("per_page", req.per_page, 1, MAX_PER_PAGE)
        intval("facet_size", req.facet_size, 1, MAX_FACET_SIZE)
        if req.sort not in SORTS:
            raise InvalidRequest("bad_sort", f"« sort » doit valoir {', '.join(SORTS)}")
        if req.collapse not in COLLAPSES:
            raise InvalidRequest("bad_collapse", f"« collapse » doit valoir {' ou '.join(COLLAPSES)}")
        if not isinstance(req.correct, bool):
            raise InvalidRequest("bad_correct", "« correct » doit être vrai ou faux")
        for name in ("people", "places", "sources", *AGENCY_FILTERS.values(), *EXCLUDE_FILTERS.values()):
            v = getattr(req, name)
            if isinstance(v, str) or not all(isinstance(x, str) for x in v):
                raise InvalidRequest(f"bad_{name}", f"« {name} » doit être une liste de valeurs")
            if any(_SURROGATE.search(x) for x in v):
                raise InvalidRequest(f"bad_{name}", f"« {name} » contient un caractère invalide (demi-paire UTF-16)")
        try:
            lo, hi = query.date_range(req.date_from, req.date_to)
        except query.Malformed as e:
            raise InvalidRequest("bad_date", str(e)) from None
        if lo > hi:
            raise InvalidRequest("bad_date", "la date de début est postérieure à la date de fin")
        if req.time_budget_ms is not None and (isinstance(req.time_budget_ms, bool) or not isinstance(req.time_budget_ms, int) or req.time_budget_ms <= 0):
            raise InvalidRequest("bad_time_budget_ms", "« time_budget_ms » doit être un entier positif")
        return lo, hi

    # -- search

    def search(self, req: SearchRequest, within: Iterable[str] | None = None) -> SearchResponse:
        """Answer a search request within its time budget; stages cut short are named in the response.

        ``within``: document ids; only those documents can match (the saved-search alerts run a
        search over the dispatches an ``index add`` just wrote). The query is still read against
        the whole archive (spelling, the all-words-else-some decision), then ANDed with them.
        """
        with self._reading():
            return self._search(req, within)

    def _search(self, req: SearchRequest, within: Iterable[str] | None) -> SearchResponse:
        budget = Budget(req.time_budget_ms)
        snap, pq, plan, mask, context, selected, excluded, lo, hi, free = self._matches(req, within, budget)

        cand = np.flatnonzero(mask)
        total = len(cand)

        def facet_stage() -> tuple[dict, str, int]:
            # Facets and stories over all matching documents: they read the candidates, never
            # the ranking.
            out = self._facets(snap, mask, req, selected, budget, excluded, free, cand)
            grain = self._dates(snap, mask, context, req, lo, hi, out, budget, cand)
            return out, grain, scoring.story_count(snap, cand)

        counting = overlap.Stage(facet_stage, apart=total >= OVERLAP_MATCHES)
        try:
            # Ranking. Collapsed, fewer stories than the pages asked give the same order: the
            # ranking finds every story's first version and stops there.
            k = min(req.page * req.per_page, total)
            order, scores = scoring.ranked(snap, plan, req.sort, cand, k, budget, collapse=req.collapse == "story",
                                           mask=mask)
            page_idx = order[(req.page - 1) * req.per_page : req.page * req.per_page]

            hits = []
            for n_hit, i in enumerate(page_idx):
                left = (len(page_idx) - n_hit) * PLAIN_HIT_SECONDS  # the rest of the page, plain
                highlight_on = req.highlight and not budget.spent("snippets", SNIPPET_SHARE, left)
                doc = int(cand[i])
                hit = self._hit(snap, doc, float(scores[i]), plan, highlight_on)
                hit.missing = plan.missing(doc)
                hits.append(hit)
        finally:
            counting.wait()  # never left reading the index after the request has let go of it
        facet_out, grain, n_stories = counting.result()

        return SearchResponse(
            query=req.q,
            total=total,
            page=req.page,
            per_page=req.per_page,
            took_ms=round(budget.elapsed_ms(), 2),
            hits=hits,
            facets=facet_out,
            corrected_query=self._did_you_mean(pq, plan.corrections),
            notice=" ".join(x for x in [pq.notice, *plan.notices] if x) or None,
            partial=budget.partial,
            sort=req.sort,
            generation=snap.meta.get("generation"),
            match=plan.match if total else "none",
            corrections=plan.corrections,
            timed_out=list(budget.cut),
            date_grain=grain,
            stories=n_stories,
            collapse=req.collapse,
        )

    def results(self, req: SearchRequest, limit: int, within: Iterable[str] | None = None) -> tuple[SearchResponse, Iterator[Hit]]:
        """The first ``limit`` hits of a whole result set, in the request's order, for an export.

        ``page``, ``per_page`` and ``facet_size`` are ignored. The matching and the ranking run
        once, under the request's time budget, as for ``search``; no facets. The hits are built
        only as the caller iterates (stored fields read then), each with a plain snippet (the
        dispatch's opening, escaped, no marks: cheap for thousands of rows) and no title marks.
        The response carries total, match, corrections, notice and what the budget cut short;
        its ``hits`` is empty. ``within`` restricts the matches to those document ids, as for ``search``.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidRequest("bad_limit", "« limit » doit être un entier positif ou nul")
        budget = Budget(req.time_budget_ms)
        snap, pq, plan, mask = self._matches(req, within, budget)[:4]
        cand = np.flatnonzero(mask)
        total = len(cand)
        n_stories = scoring.story_count(snap, cand)
        k = min(limit, n_stories if req.collapse == "story" else total)
        order, scores = scoring.ranked(snap, plan, req.sort, cand, k, budget, collapse=req.collapse == "story",
                                           mask=mask)
        resp = SearchResponse(
            query=req.q, total=total, page=1, per_page=max(k, 1), took_ms=round(budget.elapsed_ms(), 2), hits=[],
            facets={}, corrected_query=self._did_you_mean(pq, plan.corrections),
            notice=" ".join(x for x in [pq.notice, *plan.notices] if x) or None, partial=budget.partial, sort=req.sort,
            generation=snap.meta.get("generation"), match=plan.match if total else "none",
            corrections=plan.corrections, timed_out=list(budget.cut), stories=n_stories, collapse=req.collapse,
        )

        def hits() -> Iterator[Hit]:
            for i in order:
                doc = int(cand[i])
                hit = self._hit(snap, doc, float(scores[i]), plan, False)
                hit.missing = plan.missing(doc)
                yield hit

        return resp, hits()

    @staticmethod
    def _exclude(snap: Snapshot, req: SearchRequest, mask: np.ndarray) -> dict[str, list[int]]:
        """Clear from ``mask``, in place, the documents having an excluded value (``exclude_places``…);
        returns the excluded value ids per facet."""
        out = {}
        for name, field in EXCLUDE_FILTERS.items():
            values = getattr(req, field)
            if values:
                fi = snap.facets[name]
                out[name] = ids = fi.lookup(values)
                if ids:
                    mask &= ~fi.mask_for(ids)
        return out

    @staticmethod
    def _within(snap: Snapshot, ids: Iterable[str]) -> np.ndarray:
        """The live documents whose id is one of ``ids``, as a mask."""
        m = np.zeros(snap.n, dtype=bool)
        for ident in ids:
            if isinstance(ident, str):
                m[snap.field_terms("id", ident)] = True
        return m

    def _matches(self, req: SearchRequest, within: Iterable[str] | None, budget: Budget) -> "_Matches":
        """What a request matches: the plan, then facet selections (AND across facets, OR within
        one), exclusions, dates and ``within`` applied to it; shared by search and export."""
        lo, hi = self.validate(req)
        snap = self.snapshot()
        pq = query.parse(req.q)
        visible = snap.visible()
        plan = plan_query(snap, pq, budget, req.correct, visible)
        mask = visible.copy() if plan.mask is None else (plan.mask & visible)
        excluded = self._exclude(snap, req, mask)
        selected, chosen = {}, {}
        filters = [("people", "people"), ("places", "places"), ("sources", "sources")]
        filters += [(AGENCY_FILTERS[name], name) for name in AGENCY_FACETS]
        for name, field in filters:
            values = getattr(req, name)
            if values:
                fi = snap.facets[field]
                ids = fi.lookup(values)
                key = field if field in AGENCY_FACETS else name
                selected[key] = ids
                chosen[key] = fi.mask_for(ids)
        loose = mask.copy() if chosen else mask  # everything but the facet selections
        for m in chosen.values():
            mask &= m
        # The matches before the date filter: the histogram's months or days around a chosen one.
        context = mask.copy() if req.date_from or req.date_to else mask
        for narrowed in ([mask, loose] if chosen else [mask]):
            if req.date_from or req.date_to:
                narrowed &= (snap.day >= lo) & (snap.day <= hi) & (snap.day > 0)
            if within is not None:
                narrowed &= self._within(snap, within)
        # A facet with chosen values is counted without its own choice (the others still apply):
        # its values are alternatives (Paris OR Lyon), so each count says what choosing it adds.
        free = {key: _all(loose, [m for other, m in chosen.items() if other != key]) for key in chosen}
        return _Matches(snap, pq, plan, mask, context, selected, excluded, lo, hi, free)

    def _facets(self, snap: Snapshot, mask: np.ndarray, req: SearchRequest, selected: dict, budget: Budget,
                excluded: dict | None = None, free: dict | None = None, cand: np.ndarray | None = None) -> dict:
        """The facets of the documents of ``mask`` (``cand``: those documents, when known)."""
        size = req.facet_size
        names = FACETS + AGENCY_FACETS if snap.has_agency else FACETS
        out: dict[str, list[FacetItem]] = {name: [] for name in names}
        # The documents of each mask, found once (the matches' own are the candidates).
        docs_of: dict[int, np.ndarray] = {} if cand is None else {id(mask): cand}
        for name in names:
            if name == "dates":  # _dates: from the day array, not the month pairs
                continue
            if budget.spent("facets", FACETS_SHARE):
                break
            fi = snap.facets[name]
            m = (free or {}).get(name, mask)
            docs = docs_of.get(id(m))
            if docs is None:
                docs = docs_of[id(m)] = np.flatnonzero(m)
            counts = fi.counts(m, docs, snap.live)
            if name in AGENCY_FACETS:
                disp = lambda k, facet=name: snap.keyword_display(facet, k)  # noqa: E731
                out[name] = facets.items(fi, counts, size, selected.get(name, []), disp, chronological=name == "urgency")
            elif name in ("people", "places"):
                disp = lambda k, kind=name: snap.entity_display(kind, k)  # noqa: E731
                out[name] = facets.items(fi, counts, size, selected.get(name, []), disp, excluded=(excluded or {}).get(name, []))
            else:  # sources
                out[name] = facets.items(fi, counts, size, selected.get(name, []), snap.source_display,
                                         excluded=(excluded or {}).get(name, []))
        return out

    def _dates(self, snap: Snapshot, mask: np.ndarray, context: np.ndarray, req: SearchRequest, lo: int, hi: int,
               out: dict, budget: Budget, cand: np.ndarray | None = None) -> str:
        """The dates facet at the grain of the range chosen, or of the matches' span (into ``out``;
        ``cand``: the documents of ``mask``, when known); returns the grain (``year``, ``month`` or ``day``)."""
        ranged = bool(req.date_from or req.date_to)
        dated = facets.dated_days(snap.day, mask, cand)
        window = facets.date_window(snap.day, mask, lo, hi, ranged, dated)
        grain = facets.date_grain(window)
        if "dates" in out and not budget.spent("facets", FACETS_SHARE):
            out["dates"] = facets.date_items(snap.day, mask, context, grain, window, lo, hi, ranged, dated)
        return grain

    # -- hits and documents

    def _hit(self, snap: Snapshot, doc: int, score: float, plan: Plan | None, with_highlight: bool) -> Hit:
        sf = snap.stored(doc)
        meta = sf.get("meta") or {}
        title = sf.get("title") or ""
        if with_highlight and plan is not None:
            title_segments = highlight.highlight(title, plan.highlight, plan.phrases)
            snippet_segments = highlight.snippet(sf.get("lead") or "", sf.get("body") or "", plan.highlight, plan.phrases)
        else:
            title_segments = highlight.unmarked(title)
            snippet_segments = highlight.snippet(sf.get("lead") or "", sf.get("body") or "", ())
        agency = meta.get("agency") or {}
        return Hit(
            id=sf.get("id"),
            title=title,
            title_segments=title_segments,
            date=sf.get("date"),
            source=meta.get("source"),
            url=meta.get("url"),
            snippet_segments=snippet_segments,
            score=round(score, 4),
            people=[snap.entity_display("people", k) for k in snap.surnames.names(sf.get("people") or [], snap.day[doc])],
            places=[snap.entity_display("places", k) for k in sf.get("places") or []],
            urgency=agency.get("urgency"),
            slugline=agency.get("slugline"),
            language=agency.get("language"),
            version=agency.get("version"),
            story=stories.story_name(int(snap.story_value[doc])) if snap.story_value[doc] else None,
            other_versions=int(snap.story_size[snap.story_of[doc]]) - 1,
        )

    def document(self, doc_id: str, q: str = "", version: int | None = None) -> dict | None:
        """A whole dispatch for display; query words marked when ``q`` is given.

        ``version``: that version of a live agency item, as the version store kept it (the same
        keys, ``shown_version`` saying which); None when the item has no such usable version. A
        withdrawn item gives its withdrawn answer whatever version is asked: a kill removes every
        version's text from view. ``shown_version`` is the live version when none is asked, None
        for a dispatch that is not an agency item."""
        snap = self.snapshot()
        doc = snap.docnum(doc_id)
        if doc is None:
            return self._withdrawn(doc_id)
        if not snap.visible()[doc]:
            return None  # under embargo: not even its text
        sf = snap.stored(doc)
        meta = sf.get("meta") or {}
        agency = meta.get("agency")
        live = (agency.get("version") or 1) if agency else None
        if version is not None and version != live:
            if not agency:
                return None
            return self._version_document(doc_id, version, self._marks(snap, q), snap.meta.get("generation"))
        terms, phrases = self._marks(snap, q)
        title = sf.get("title") or ""
        lead = sf.get("lead") or ""
        return {
            "id": sf.get("id"),
            "title": title,
            "title_segments": highlight.highlight(title, terms, phrases),
            "title_derived": bool(meta.get("title_derived")),
            "lead": lead,
            "lead_segments": highlight.highlight(lead, terms, phrases),
            "body_blocks": highlight.body_blocks(sf.get("body") or "", meta.get("subheads"), terms, phrases),
            "date": sf.get("date"),
            "source": meta.get("source"),
            "byline": meta.get("byline"),
            "section": meta.get("section"),
            "url": meta.get("url"),
            "people": [snap.entity_display("people", k) for k in snap.surnames.names(sf.get("people") or [], snap.day[doc])],
            "places": [snap.entity_display("places", k) for k in sf.get("places") or []],
            "generation": snap.meta.get("generation"),
            **self._agency_document(agency, doc_id),
            "shown_version": live,
        }

    def _marks(self, snap, q: str) -> tuple:
        """The words and phrases of ``q`` to mark in a document (none without a query)."""
        plan = Plan()
        if q and len(q) <= MAX_QUERY_LENGTH:
            # Marks only: the words as typed, no spelling correction, within a search's budget.
            plan = plan_query(snap, query.parse(q), Budget(SearchRequest.time_budget_ms), correct=False)
        return plan.highlight, plan.phrases

    def _version_document(self, guid: str, version: int, marks: tuple, generation) -> dict | None:
        """Version ``version`` of a live agency item, from the version store, in the shape of
        ``document`` (``marks``: the query's terms and phrases); None when it was never received,
        is a kill or withheld notice, or is still under its own embargo. The cluster engine shares it."""
        store = self._store()
        if store is None:
            return None
        try:
            row = store.row(guid, version)
        except Exception:
            log.exception("version store of %s", self.root)
            return None
        finally:
            store.close()
        if row is None or versions.is_withdrawn(row["pub_status"]):
            return None
        d = versions.to_dispatch(row)
        a = d.agency
        if release_time(a.embargo) > time.time():
            return None
        terms, phrases = marks
        title = d.display_title
        agency = {**vars(a), "language": language_tag(a.language), "subjects": [list(s) for s in a.subjects]}
        return {
            "id": guid,
            "title": title,
            "title_segments": highlight.highlight(title, terms, phrases),
            "title_derived": not d.title,
            "lead": d.lead,
            "lead_segments": highlight.highlight(d.lead, terms, phrases),
            "body_blocks": highlight.body_blocks(d.body, d.subheads, terms, phrases),
            "date": d.date,
            "source": d.source,
            "byline": d.byline,
            "section": d.section,
            "url": d.url,
            # As this version named them (the entities found in the text are the live version's).
            "people": list(d.people),
            "places": list(d.places),
            "generation": generation,
            **self._agency_document(agency, guid),
            "shown_version": row["version"],
        }

    def _agency_document(self, agency: dict | None, doc_id: str) -> dict:
        """The agency keys of a document: status, versions and metadata (empty for other dispatches)."""
        agency = agency or {}
        return {
            "status": "usable",
            "versions": self.versions(doc_id) if agency else [],
            "urgency": agency.get("urgency"),
            "genre": agency.get("genre"),
            "slugline": agency.get("slugline"),
            "subjects": [name or code for code, name in agency.get("subjects") or []],
            "language": agency.get("language"),
            "embargo": agency.get("embargo"),
        }

    def _store(self) -> versions.VersionStore | None:
        try:
            return versions.VersionStore(self.root, readonly=True)
        except Exception:  # sqlite3.Error, OSError: the history is an extra, never an error
            log.exception("version store of %s", self.root)
            return None

    def versions(self, guid: str) -> list[dict]:
        """Every version received of an agency item (oldest first): version, version_created,
        pub_status, title, changed (what it changed, in French)."""
        store = self._store()
        if store is None:
            return []
        try:
            return store.history(guid)
        except Exception:
            log.exception("version store of %s", self.root)
            return []
        finally:
            store.close()

    def story(self, story: str, limit: int = MAX_STORY_VERSIONS) -> dict | None:
        """A story's versions, newest first (at most ``limit``), each with what it changed from the
        version before it: ``added`` and ``removed`` paragraphs and ``changed`` in French; None
        for an unknown story."""
        if not isinstance(story, str) or not isinstance(limit, int) or limit < 1:
            return None
        snap = self.snapshot()
        docs = snap.story_docs(story)
        docs = docs[snap.visible()[docs]]
        if not len(docs):
            return None
        docs = docs[np.lexsort((docs, snap.day[docs]))]  # oldest first, then index order
        shown = docs[-(limit + 1):]  # the one before the oldest shown tells what that one changed
        rows = []
        for doc in shown:
            sf = snap.stored(int(doc))
            meta = sf.get("meta") or {}
            rows.append({**sf, "source": meta.get("source"), "url": meta.get("url")})
        out = versions.story_listing(rows, complete=len(shown) == len(docs))
        return {"id": story, "total": len(docs), "versions": out[:limit]}

    def _withdrawn(self, guid: str) -> dict | None:
        """A killed or withheld agency item (the web layer answers 410), else None."""
        store = self._store()
        if store is None:
            return None
        try:
            rows = store.rows(guid)
            history = store.history(guid) if rows else []
        except Exception:
            log.exception("version store of %s", self.root)
            return None
        finally:
            store.close()
        if not rows or not versions.is_withdrawn(rows[-1]["pub_status"]):
            return None
        titles = [h["title"] for h, r in zip(history, rows) if not versions.is_withdrawn(r["pub_status"]) and h["title"]]
        return {
            "id": guid,
            "status": "withdrawn",
            "pub_status": rows[-1]["pub_status"],
            "title": titles[-1] if titles else history[-1]["title"],
            "withdrawn_at": rows[-1]["version_created"],
            "versions": history,
        }

    def related(self, doc_id: str, k: int = 5, budget_ms: int | None = RELATED_BUDGET_MS) -> list[Hit]:
        """Dispatches most like this one: its most distinctive words, OR-ed and ranked."""
        with self._reading():
            return self._related(doc_id, k, budget_ms)

    def _related(self, doc_id: str, k: int, budget_ms: int | None) -> list[Hit]:
        budget = Budget(budget_ms)
        snap = self.snapshot()
        doc = snap.docnum(doc_id)
        visible = snap.visible()
        if doc is None or k <= 0 or not visible[doc]:
            return []
        sf = snap.stored(doc)
        counts = Counter(analysis.terms(" ".join([sf.get("title") or "", sf.get("lead") or "", sf.get("lead") or "", sf.get("body") or ""])))
        p = self.params
        # Document frequencies from the vocabulary: reading the postings of every word of a long
        # dispatch would cost more than the answer is worth.
        vocab = snap.vocabulary(wait=budget.left())
        weighted = []
        for t, c in counts.items():
            if len(t) < 3 or t.isdigit():
                continue
            df = vocab.frequency(t) if vocab is not None else snap.term(t).df
            if df < 2:
                continue
            weighted.append((c * ranking.idf(df, snap.n_live), t))
        weighted.sort(reverse=True)
        terms = [t for _, t in weighted[:RELATED_TERMS]]
        dense = np.zeros(snap.n, dtype=np.float32)
        for i, t in enumerate(terms):
            if i and budget.spent("related"):
                break
            tp = snap.term(t)
            tp.add_to(dense, ranking.idf(tp.df, snap.n_live, p.idf_power), p.k1)
        dense[doc] = 0
        dense[~visible] = 0
        cand = np.flatnonzero(dense > 0)
        order = ranking.top_order(dense[cand], snap.day[cand], cand, k)
        return [self._hit(snap, int(cand[i]), float(dense[cand[i]]), None, False) for i in order]

    # -- suggestions

    @staticmethod
    def _did_you_mean(pq: query.ParsedQuery, corrections: list[Correction]) -> str | None:
        """The query with the suggested (not applied) corrections in place, or None."""
        out = pq.text
        for c in corrections:
            if c.applied:
                continue
            core = re.sub(r"^\W+|\W+$", "", c.word)
            if core:
                out = re.sub(r"(?<!\w)" + re.escape(core) + r"(?!\w)", lambda _m, r=c.replacement: r, out, count=1)
        return out if out != pq.text else None

    def suggest(self, prefix: str, limit: int = 10, budget_ms: int | None = SUGGEST_BUDGET_MS) -> dict:
        """Words, people and places starting with ``prefix``, most frequent first, as displayed."""
        budget = Budget(budget_ms)
        snap = self.snapshot()
        prefix = (prefix or "")[:100]
        limit = max(1, min(int(limit), 50))
        vocab = snap.vocabulary(wait=budget.left())
        visible = snap.visible()

        def display(t: str, pre: str) -> str | None:
            # Each display form reads a few stored dispatches: stop when the budget is spent.
            if budget.spent("suggestions"):
                return None
            if visible is not snap.live and not visible[snap.term(t).ids].any():
                return None  # only embargoed dispatches have it
            return snap.display_word(t, prefix=pre)

        terms = suggest.complete(vocab, prefix, display, limit) if vocab is not None else []
        out = {"terms": terms}
        folded = fold_key(prefix)
        for kind in ("people", "places"):
            fi = snap.facets[kind]
            res = []
            if folded:
                totals = fi.totals(snap.live) if visible is snap.live else fi.counts(visible)
                matches = [i for i in fi.keys_with_word_prefix(folded) if totals[i] > 0]
                matches.sort(key=lambda i: (-int(totals[i]), fi.keys[i]))
                res = [snap.entity_display(kind, fi.keys[i]) for i in matches[:limit]]
            out[kind] = res
        return out

    def entity_page(self, kind: str, name: str, size: int = coverage.COOCCURRING, latest: int = coverage.LATEST,
                    budget_ms: int | None = DEFAULT_TIME_BUDGET_MS) -> coverage.Coverage | None:
        """A person's or place's page (``kind`` people or places): mentions over time, the names most
        often alongside, the latest dispatches; None when no dispatch names it."""
        snap = self.snapshot()
        return coverage.compute(snap.facets, kind, name, snap.day, snap.visible(), snap.entity_display,
                                lambda d: self._hit(snap, d, 0.0, None, False), Budget(budget_ms), size, latest)

    def health(self) -> dict:
        """Generation, live document count, analyzer version; raises IndexMissing without index."""
        snap = self.snapshot()
        return {
            "generation": snap.meta.get("generation"),
            "documents": snap.n_live,
            "schema_version": snap.meta.get("schema_version", SCHEMA_VERSION),
            "status": "ok",
        }
