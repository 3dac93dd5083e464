"""The search engine interface (search/backend.py) answered by an OpenSearch cluster.

The same requests and the same response objects as the Whoosh engine: the query parsed by
search/query.py and translated by dsl.py; all words first, ranked partial matches when fewer
than ``and_min_results`` dispatches have them all; facets as aggregations; the dates facet as a
histogram; snippets from the unified highlighter; corrections from the term suggester;
related dispatches from ``more_like_this``. A relevance order is the cluster's BM25F for the
matches, then the Whoosh ranking (rerank.py) over its best, as deep as the Whoosh ranking
reads (``rerank.depth``). An agency item's versions (its history, an earlier version, a kill)
come from the version store the cluster writer keeps in the local index directory (``root``),
read as the Whoosh engine reads its own.
"""
from __future__ import annotations

import logging
import re
import time
from collections import Counter
from types import SimpleNamespace
from typing import Iterable, Iterator

from .. import coverage, facets, highlight, query, ranking, stories, versions
from ..budget import Budget
from ..folding import fold_key
from ..engine import Engine as _WhooshEngine
from ..generations import IndexMissing, IndexVersionMismatch
from ..model import (
    AGENCY_FACETS, AGENCY_FILTERS, DEFAULT_TIME_BUDGET_MS, EXCLUDE_FILTERS, MAX_STORY_VERSIONS, Correction, FacetItem, Hit, InvalidRequest,
    SearchRequest, SearchResponse, Segment,
)
from . import dsl, highlighted, rerank, writer
from .mapping import TEXT_FIELDS

SNIPPET_CHARS = highlight.FRAGMENT_CHARS
SNIPPET_FRAGMENTS = 2
MAX_RESULTS = 10_000  # the index's max_result_window
RELATED_TERMS = 25
META_TTL_S = 5.0  # how long a generation's display forms are trusted before the alias is read again
FACET_FIELDS = {"people": "people", "places": "places", "sources": "source"}
AGENCY_FIELDS = {"urgency": "urgency", "genre": "genre", "subjects": "subjects", "language": "language", "slugline": "slugline"}
log = logging.getLogger(__name__)
# Corrections: words of at least this many letters, absent from the archive, with a suggestion.
MIN_CORRECTED = 4
# Stories among the matches: a cardinality aggregation, exact up to this many stories (the most
# OpenSearch allows), within a few per cent beyond.
STORIES_EXACT = 40_000
STORIES_AGG = {"cardinality": {"field": "story", "precision_threshold": STORIES_EXACT}}
# What a hit needs of the document (``ranked``, BM25F by repetition, is never read back).
HIT_SOURCE = {"excludes": ["ranked"]}


def _suggest_text(pq: query.ParsedQuery) -> str:
    """The plain words the suggester reads, as typed."""
    return " ".join(w.text for w in pq.words())


def _suggester(text: str) -> dict:
    """The term suggester's request for the words ``text`` (``_suggest_text``): a word the
    bodies lack, with the most frequent word one or two edits away."""
    return {"text": text, "term": {"field": "body.folded", "suggest_mode": "missing", "min_word_length": MIN_CORRECTED,
                                   "size": 1, "sort": "frequency"}}


def _replaced(text: str, corrections: list[Correction]) -> str:
    """``text`` with each corrected word (its first occurrence) replaced by its correction."""
    for c in corrections:
        text = re.sub(r"(?<!\w)" + re.escape(c.word) + r"(?!\w)", c.replacement, text, count=1)
    return text


def _past(budget: Budget) -> bool:
    """The whole budget is spent (nothing recorded as cut short)."""
    left = budget.left()
    return left is not None and left <= 0


def _all_of(filters: list) -> dict:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _buckets(aggs: dict, outer: str, inner: str) -> list:
    return ((aggs.get(outer) or {}).get(inner) or {}).get("buckets", [])


def _highlight_spec(hq: dict) -> dict:
    """The unified highlighter's request: what ``hq`` matches marked (highlighted.py reads the marks)."""
    return {
        "type": "unified", "encoder": highlighted.ENCODER, "pre_tags": [highlighted.PRE_TAG], "post_tags": [highlighted.POST_TAG],
        "highlight_query": hq, "require_field_match": False,
        "fields": {
            "title": {"number_of_fragments": 0},
            "lead": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1},
            "body": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": SNIPPET_FRAGMENTS},
        },
    }


class ClusterEngine:
    """Read-only search over the index an alias points to."""

    validate = staticmethod(_WhooshEngine.validate)

    def __init__(self, url: str, alias: str, params: ranking.RankingParams | None = None, root=None):
        self.url = url
        self.alias = alias
        self.root = root  # the local index directory: the agency items' version store (None: no history)
        self.params = params or ranking.DEFAULT_PARAMS
        self.client = writer.connect(url)
        self._meta: tuple[float, str, dict] | None = None

    # -- the generation served

    def snapshot(self) -> SimpleNamespace:
        """The live index and its metadata (``meta``: generation, built_at, display forms).

        Read again every ``META_TTL_S``; when that fails (a node down, the cluster between two
        cluster managers) the metadata already read keeps serving: the searches themselves may
        well still be answered by the shard copies left."""
        now = time.monotonic()
        cached = self._meta
        if cached is not None and now - cached[0] < META_TTL_S:
            return SimpleNamespace(index=cached[1], meta=cached[2])
        try:
            return self._read_snapshot(now, cached)
        except writer.ClusterUnavailable:
            if cached is None:
                raise
            log.warning("metadata of %s unreadable: the last read is kept", self.alias)
            return SimpleNamespace(index=cached[1], meta=cached[2])

    def _read_snapshot(self, now: float, cached) -> SimpleNamespace:
        # The node's own cluster state (local): known without a cluster manager.
        index = writer.guard(lambda: writer.live_index(self.client, self.alias, local=True))
        if index is None:
            raise IndexMissing(f"aucun index {self.alias!r} sur le cluster {self.url} : lancez `depeche --backend opensearch index rebuild`")
        # The whole document (display forms, word table) is read again only when the index or
        # its last `index add` changed.
        stamp = writer.guard(lambda: writer.read_meta(self.client, self.alias, index, fields=["updated_at", "built_at"]))
        if cached is not None and cached[1] == index and all(cached[2].get(k) == stamp.get(k) for k in ("updated_at", "built_at")):
            meta = cached[2]
        else:
            meta = writer.guard(lambda: writer.read_meta(self.client, self.alias, index))
            if meta.get("schema_version") != writer.SCHEMA:
                raise IndexVersionMismatch(f"l'index {index} a été construit pour {meta.get('schema_version')!r}, cette version de "
                                           f"Dépêche lit {writer.SCHEMA!r} : lancez `depeche --backend opensearch index rebuild`")
            meta["_display"] = {kind: {k: facets.choose_display(Counter(v)) for k, v in (meta.get("entities") or {}).get(kind, {}).items()}
                                for kind in ("people", "places")}
        self._meta = (now, index, meta)
        return SimpleNamespace(index=index, meta=meta)

    def _display(self, kind: str, key: str) -> str:
        return self.snapshot().meta["_display"][kind].get(key, key)

    def _search(self, body: dict, **kw) -> dict:
        try:
            return writer.guard(lambda: self.client.search(index=self.alias, body=body, **kw))
        except writer.ClusterUnavailable as e:
            if "time_exceeded" not in str(e) or "timeout" not in body:
                raise
        # Every shard ran out of the budget before it had anything (a loaded cluster): answer
        # without the cut, said partial, rather than nothing.
        lighter = {k: v for k, v in body.items() if k != "timeout"}
        resp = writer.guard(lambda: self.client.search(index=self.alias, body=lighter, **kw))
        resp["timed_out"] = True
        return resp

    # -- search

    def _filters(self, req: SearchRequest, lo: int, hi: int, within: Iterable[str] | None,
                 embargo: bool = True) -> tuple[list, dict, list, dict | None]:
        """(filters, facet choices, exclusions, date filter) of a request: embargo (unless a stored
        query, percolator.py) and ``within`` always apply; each facet's chosen values are
        alternatives (OR within a facet, AND across)."""
        flt: list = [self._released()] if embargo else []
        chosen: dict[str, dict] = {}
        for kind, name in FACET_FIELDS.items():
            values = [fold_key(v) for v in getattr(req, kind) if fold_key(v)]
            if values:
                chosen[kind] = {"terms": {name: values}}
        for facet, field in AGENCY_FILTERS.items():
            values = [fold_key(v) if facet != "urgency" else v.strip() for v in getattr(req, field)]
            if values:
                chosen[facet] = {"terms": {AGENCY_FIELDS[facet]: values}}
        excl = []
        for kind, field in EXCLUDE_FILTERS.items():
            values = [fold_key(v) for v in getattr(req, field) if fold_key(v)]
            if values:
                excl.append({"terms": {FACET_FIELDS[kind]: values}})
        if within is not None:
            flt.append({"ids": {"values": list(within)}})
        dates = None
        if req.date_from or req.date_to:
            dates = {"range": {"day": {"gte": max(lo, 1), "lte": hi}}}
        return flt, chosen, excl, dates

    def _query(self, pq: query.ParsedQuery, all_words: bool, flt: list, excl: list) -> dict:
        q = dsl.text_query(pq, all_words) if not pq.is_empty else {"match_all": {}}
        return {"bool": {"must": [q], "filter": flt, "must_not": excl}}

    def _count(self, q: dict) -> int:
        return int(writer.guard(lambda: self.client.count(index=self.alias, body={"query": q}))["count"])

    def _phrases_found(self, pq: query.ParsedQuery) -> tuple[query.ParsedQuery, list[str]]:
        """``pq`` with each phrase no dispatch has replaced by its words, and the notices saying so."""
        notices, clauses = [], []
        for c in pq.clauses:
            if isinstance(c, query.Phrase) and self._count(dsl.clause(c)) == 0:
                notices.append(f"Aucun document ne contient l'expression exacte « {c.text} » : ses mots ont été cherchés séparément.")
                clauses.extend(query.plain(c.text).clauses)
            else:
                clauses.append(c)
        if not notices:
            return pq, []
        return query.ParsedQuery(pq.text, clauses, pq.exclusions, pq.strict, pq.notice), notices

    def _plan(self, pq, flt, excl) -> tuple[dict, str]:
        """The query and whether it asks for every soft clause (``all``) or ranks partial matches (``some``)."""
        if not pq.clauses and not pq.exclusions and pq.text.strip():
            return {"match_none": {}}, "none"  # only stop words: nothing to look for
        strict_q = self._query(pq, True, flt, excl)
        if len(dsl.soft_clauses(pq)) < 2:
            return strict_q, "all"
        # As the Whoosh planner: decided on the whole archive, before facet choices and dates.
        n = self._count(strict_q)
        if n >= self.params.and_min_results:
            return strict_q, "all"
        return self._query(pq, False, flt, excl), "some"

    def _corrections(self, pq: query.ParsedQuery, entries: list | None) -> list[Correction]:
        """The suggester's answers (``_suggester``'s entries) as corrections of the words as
        typed (its offsets are in ``_suggest_text``)."""
        out = []
        typed = _suggest_text(pq)
        for entry in entries or []:
            word = typed[entry["offset"]:entry["offset"] + entry["length"]] if "offset" in entry else entry.get("text", "")
            options = entry.get("options") or []
            if len(word) >= MIN_CORRECTED and options and self._absent(word):
                out.append(Correction(word=word, replacement=options[0]["text"], applied=False))
        return out

    def as_corrected(self, texts: list[str]) -> list[str]:
        """Each query of ``texts`` with the words the archive does not have replaced by their
        corrections, as ``search`` reads them (``correct``): one suggester request for them all."""
        parsed = [query.parse(t) for t in texts]
        asked = {f"q{i}": _suggester(_suggest_text(pq)) for i, pq in enumerate(parsed) if not pq.is_empty and _suggest_text(pq)}
        if not asked or not self.params.correct_unknown:
            return list(texts)
        found = (self._search({"size": 0, "query": {"match_none": {}}, "suggest": asked}).get("suggest") or {})
        return [_replaced(t, self._corrections(pq, found.get(f"q{i}"))) for i, (t, pq) in enumerate(zip(texts, parsed))]

    def _absent(self, word: str) -> bool:
        """No dispatch has ``word`` (the suggester only read the bodies)."""
        return self._count({"multi_match": {"query": word, "fields": [f"{f}.folded" for f in TEXT_FIELDS], "operator": "and"}}) == 0

    def _prepared(self, req: SearchRequest, within: Iterable[str] | None):
        """What a search and an export both start from, the request validated: (date bounds,
        snapshot, parsed query, notices, filters, chosen and excluded facet values, date filter,
        cluster query, match kind)."""
        lo, hi = self.validate(req)
        snap = self.snapshot()
        pq, notices = self._phrases_found(query.parse(req.q))
        flt, chosen, excl, dates = self._filters(req, lo, hi, within)
        q, match = self._plan(pq, flt, excl)
        return lo, hi, snap, pq, notices, flt, chosen, excl, dates, q, match

    def search(self, req: SearchRequest, within: Iterable[str] | None = None) -> SearchResponse:
        """Answer a search request; the time budget becomes the cluster's ``timeout``."""
        # As the Whoosh engine's, the budget counts from the request's start (its planning too).
        budget = Budget(req.time_budget_ms)
        lo, hi, snap, pq, notices, flt, chosen, excl, dates, q, match = self._prepared(req, within)
        resp = self._page(req, pq, q, match, chosen, dates, snap, budget)
        total = resp["hits"]["total"]["value"]
        corrections = self._corrections(pq, (resp.get("suggest") or {}).get("words"))
        if corrections and req.correct and self.params.correct_unknown and not pq.is_empty:
            # A word the archive does not have is searched as its correction, as if typed so
            # (the Whoosh engine's correct_unknown); kept when the corrected search finds something.
            pq2, notices2 = self._phrases_found(query.parse(_replaced(pq.text, corrections)))
            q2, match2 = self._plan(pq2, flt, excl)
            resp2 = self._page(req, pq2, q2, match2, chosen, dates, snap, budget)
            if resp2["hits"]["total"]["value"]:
                resp, match, pq_hits, notices = resp2, match2, pq2, notices2
                total = resp["hits"]["total"]["value"]
                for c in corrections:
                    c.applied = True
            else:
                pq_hits = pq
        else:
            pq_hits = pq
        soft = dsl.soft_clauses(pq_hits)
        sizes = self._story_sizes(resp["hits"]["hits"])
        hits = [self._hit(h, req.highlight, soft if match == "some" else None, sizes) for h in resp["hits"]["hits"]]
        out_facets = self._facets(resp.get("aggregations") or {}, req)
        grain = self._dates(resp.get("aggregations") or {}, req, lo, hi, out_facets)
        timed_out = (["scoring"] if resp.get("timed_out") else []) + [c for c in budget.cut if c != "scoring"]
        did_you_mean = None
        if corrections and not any(c.applied for c in corrections):
            did_you_mean = _replaced(pq.text, corrections)
            if did_you_mean == pq.text:
                did_you_mean = None
        return SearchResponse(
            query=req.q, total=total, page=req.page, per_page=req.per_page,
            took_ms=round(budget.elapsed_ms(), 2), hits=hits, facets=out_facets,
            corrected_query=did_you_mean, notice=" ".join(x for x in [pq.notice, *notices] if x) or None, partial=bool(timed_out), sort=req.sort,
            generation=snap.meta.get("generation"), match=match if total else "none", corrections=corrections,
            timed_out=timed_out, date_grain=grain, stories=self._stories_total(resp, total), collapse=req.collapse,
        )

    def _page(self, req, pq, q, match: str, chosen: dict, dates: dict | None, snap, budget: Budget) -> dict:
        """The cluster's answer for the page asked: hits in the final order, their snippets."""
        start, end = (req.page - 1) * req.per_page, req.page * req.per_page
        terms = rerank.query_terms(pq)
        if req.sort != "relevance" or match == "none" or not terms.groups:
            return self._search(self._body(req, pq, q, chosen, dates), **self._timeout(req))
        plain = SearchRequest(**{**req.__dict__, "highlight": False})
        # Every hit up to the page asked for is ranked again, as the Whoosh ranking ranks its
        # first max(k, rerank_depth): a page past the 100 best is in the same order as there.
        size = min(rerank.depth(end, self.params), MAX_RESULTS)
        resp = self._search(self._body(plain, pq, q, chosen, dates, size=size, start=0), **self._timeout(req))
        raw = self._reranked(resp["hits"]["hits"], terms, snap, budget)
        page = raw[start:end]
        if req.highlight and page:
            marks = self._highlights(pq, [h["_id"] for h in page])
            page = [{**h, "highlight": marks.get(h["_id"], {})} for h in page]
        resp["hits"]["hits"] = page
        return resp

    def _reranked(self, raw: list[dict], terms: rerank.Terms, snap, budget: Budget) -> list[dict]:
        """``raw`` (the cluster's best, ``rerank.depth`` of them) in the Whoosh ranking's order
        (rerank.py) while the budget lasts: cut short (``reranking``), the hits whose texts were
        read are ranked and the others follow in the cluster's order.

        The cluster has already counted the facets that the Whoosh engine counts after its
        re-ranking (hence its ``RERANK_SHARE``): here only the whole budget spent stops it, and
        one hit, with no order to change, is never a cut (past the budget it keeps its score)."""
        if not raw or (len(raw) == 1 and _past(budget)):
            return raw
        if budget.spent("reranking"):
            return raw
        body, text = rerank.stats_request(terms.words)
        tv = writer.guard(lambda: self.client.termvectors(index=snap.index, body=body))
        order, scores = rerank.rerank(raw, terms, rerank.read_stats(tv, text), self.params, budget)
        return [{**raw[j], "_score": float(scores[j])} for j in order]

    def _highlights(self, pq: query.ParsedQuery, ids: list[str]) -> dict[str, dict]:
        """The snippets of the hits shown, by id (marked once the order is known)."""
        hq = dsl.highlight_query(pq)
        if hq is None:
            return {}
        resp = self._search({"query": {"ids": {"values": ids}}, "size": len(ids), "_source": False, "highlight": _highlight_spec(hq)})
        return {h["_id"]: h.get("highlight") or {} for h in resp["hits"]["hits"]}

    @staticmethod
    def _timeout(req: SearchRequest) -> dict:
        """The client's wait: the budget, and a margin for the network (the cluster's own cut is in the body)."""
        return {"request_timeout": max(1.0, req.time_budget_ms / 1000 * 3)} if req.time_budget_ms else {}

    def _sort(self, sort: str) -> list:
        if sort == "newest":
            return [{"day": "desc"}, "_score"]
        if sort == "oldest":
            return [{"day": {"order": "asc", "missing": "_last"}}, "_score"]
        return ["_score", {"day": "desc"}]

    def _body(self, req, pq, q, chosen: dict, dates: dict | None, *, size=None, start=None, aggs=True) -> dict:
        """The search request: the matches in ``query``, facet choices and dates in ``post_filter``
        (hits only), so that each aggregation applies them as the facets are counted."""
        size = req.per_page if size is None else size
        start = (req.page - 1) * req.per_page if start is None else start
        body: dict = {
            "query": q, "from": start, "size": size, "sort": self._sort(req.sort), "track_total_hits": True, "_source": HIT_SOURCE,
        }
        if req.collapse == "story":
            # One hit per story, its best version in the request's order; ``hits.total`` still
            # counts the dispatches, the ``stories`` aggregation the stories.
            body["collapse"] = {"field": "story"}
        if req.time_budget_ms:
            body["timeout"] = f"{req.time_budget_ms}ms"  # past it each shard returns what it has: partial
        narrowing = [*chosen.values(), *([dates] if dates else [])]
        if narrowing:
            body["post_filter"] = _all_of(narrowing)
        if _suggest_text(pq):
            body["suggest"] = {"words": _suggester(_suggest_text(pq))}
        if req.highlight and (hq := dsl.highlight_query(pq)) is not None:
            body["highlight"] = _highlight_spec(hq)
        if aggs:
            body["aggs"] = self._aggs(req, chosen, dates)
        else:
            body["aggs"] = {"matches": {"filter": _all_of(narrowing), "aggs": {"stories": STORIES_AGG}}}
        return body

    def _aggs(self, req: SearchRequest, chosen: dict, dates: dict | None) -> dict:
        """Facets over the matches; a facet with chosen values without its own choice (the
        Whoosh engine's rule: each count says what choosing that value too adds)."""
        size = req.facet_size
        own_dates = [dates] if dates else []
        facets_out = {}
        for kind, field in [*FACET_FIELDS.items(), *AGENCY_FIELDS.items()]:
            terms = {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            if kind == "sources":
                terms["aggs"] = {"shown": {"top_hits": {"size": 1, "_source": ["display.source"]}}}
            others = [f for k, f in chosen.items() if k != kind]
            facets_out[kind] = {"filter": _all_of([*others, *own_dates]), "aggs": {"values": terms}}
        matches = {
            "span": {"filter": {"range": {"day": {"gt": 0}}}, "aggs": {"first": {"min": {"field": "day"}}, "last": {"max": {"field": "day"}}}},
            "years": {"histogram": {"field": "day", "interval": 10000, "min_doc_count": 1}},
            "stories": STORIES_AGG,
        }
        out = {"matches": {"filter": _all_of([*chosen.values(), *own_dates]), "aggs": matches}, **facets_out}
        # Around the chosen range: the months and days of the matches before the date filter.
        # A dispatch counts at its own precision: a year-only one as its year among the months,
        # a month-only one as its month among the days.
        context = {}
        context["months"] = {"date_histogram": {"field": "when", "calendar_interval": "month", "min_doc_count": 1, "format": "yyyy-MM"}}
        context["year_only"] = {"filter": {"term": {"precision": "year"}},
                            "aggs": {"years": {"histogram": {"field": "day", "interval": 10000, "min_doc_count": 1}}}}
        context["days"] = {"filter": {"term": {"precision": "day"}},
                       "aggs": {"days": {"date_histogram": {"field": "when", "calendar_interval": "day", "min_doc_count": 1, "format": "yyyy-MM-dd"}}}}
        context["month_only"] = {"filter": {"term": {"precision": "month"}}, "aggs": {"months": {"terms": {"field": "month", "size": 1000}}}}
        out["context"] = {"filter": _all_of(list(chosen.values())), "aggs": context}
        return out

    def _facets(self, aggs: dict, req: SearchRequest) -> dict[str, list[FacetItem]]:
        out: dict[str, list[FacetItem]] = {}
        for kind in ("people", "places", "sources"):
            selected = {fold_key(v) for v in getattr(req, kind)}
            excluded = {fold_key(v) for v in getattr(req, EXCLUDE_FILTERS[kind])}
            items = []
            for b in _buckets(aggs, kind, "values"):
                key = b["key"]
                if kind == "sources":
                    shown = (b.get("shown") or {}).get("hits", {}).get("hits", [])
                    value = ((shown[0]["_source"].get("display") or {}).get("source") if shown else None) or key
                else:
                    value = self._display(kind, key)
                items.append(FacetItem(value=value, count=b["doc_count"], selected=key in selected))
            seen = {fold_key(it.value) for it in items}
            for v in getattr(req, kind):
                if fold_key(v) not in seen:
                    items.append(FacetItem(value=v, count=0, selected=True))
            for v in getattr(req, EXCLUDE_FILTERS[kind]):
                if fold_key(v) in excluded and fold_key(v) not in seen:
                    items.append(FacetItem(value=v, count=0, excluded=True))
            out[kind] = items
        out["dates"] = []
        agency = {f: _buckets(aggs, f, "values") for f in AGENCY_FACETS}
        if any(agency.values()):
            for facet in AGENCY_FACETS:
                chosen = set(getattr(req, AGENCY_FILTERS[facet]))
                out[facet] = [FacetItem(value=b["key"], count=b["doc_count"], selected=b["key"] in chosen) for b in agency[facet]]
        return out

    def _dates(self, aggs: dict, req: SearchRequest, lo: int, hi: int, out: dict) -> str:
        """The dates facet at the Whoosh engine's grain (facets.date_grain) for the same window."""
        ranged = bool(req.date_from or req.date_to)
        span = (aggs.get("matches") or {}).get("span") or {}
        first, last = (span.get("first") or {}).get("value"), (span.get("last") or {}).get("value")
        if first is None:
            window = (lo, hi) if ranged and lo > 0 and hi < 99999999 else None
        else:
            first, last = int(first), int(last)
            wlo = lo if ranged and lo > 0 else first
            whi = hi if ranged and hi < 99999999 else last
            if whi // 10000 - wlo // 10000 + 1 > facets.MONTH_GRAIN_MAX_YEARS:
                wlo, whi = max(wlo, first), min(whi, last)
            window = (wlo, whi)
        grain = facets.date_grain(window)
        if window is None:
            return grain
        if grain == "year":
            buckets = ((aggs.get("matches") or {}).get("years") or {}).get("buckets", [])
            values = [(f"{int(b['key']) // 10000:04d}", b["doc_count"]) for b in buckets if b["key"] > 0]
        elif grain == "month":
            y1, y2 = window[0] // 10000, window[1] // 10000
            values = [(b["key_as_string"], b["doc_count"]) for b in _buckets(aggs, "context", "months")
                      if y1 <= int(b["key_as_string"][:4]) <= y2]
            values += [(f"{int(b['key']) // 10000:04d}", b["doc_count"]) for b in _buckets(aggs.get("context") or {}, "year_only", "years")
                       if y1 <= int(b["key"]) // 10000 <= y2]
        else:
            ym = f"{window[0] // 10000:04d}-{window[0] // 100 % 100:02d}"
            values = [(b["key_as_string"], b["doc_count"]) for b in _buckets(aggs.get("context") or {}, "days", "days")
                      if b["key_as_string"].startswith(ym)]
            values += [(b["key"], b["doc_count"]) for b in _buckets(aggs.get("context") or {}, "month_only", "months") if b["key"] == ym]
        size = {"year": 4, "month": 7, "day": 10}[grain]
        out["dates"] = [FacetItem(value=v, count=int(c), selected=ranged and len(v) == size and facets.is_range_of(v, lo, hi))
                        for v, c in values]
        out["dates"].sort(key=lambda it: it.value.ljust(10, "~"))  # a coarser value after its finer ones
        return grain

    # -- hits

    def _stories_total(self, resp: dict, total: int) -> int:
        """Stories among the matches (exact below ``STORIES_EXACT`` stories, never more than the dispatches)."""
        value = (((resp.get("aggregations") or {}).get("matches") or {}).get("stories") or {}).get("value")
        return min(int(value), total) if value is not None else total

    def _story_sizes(self, raw: list[dict]) -> dict[str, int]:
        """The dispatches of each story of ``raw`` in the whole archive (out of embargo), as the
        Whoosh engine counts « N autres versions »: what the story's expansion lists, not only
        the versions this search matched (which is what a collapse's inner hits would count)."""
        ids = sorted({(h.get("_source") or {}).get("story") for h in raw} - {None})
        if not ids:
            return {}
        body = {"size": 0, "query": {"bool": {"filter": [{"terms": {"story": ids}}, self._released()]}},
                "aggs": {"s": {"terms": {"field": "story", "size": len(ids)}}}}
        resp = self._search(body)
        return {b["key"]: int(b["doc_count"]) for b in resp["aggregations"]["s"]["buckets"]}

    @staticmethod
    def _released() -> dict:
        """Out of embargo: no release time, or one past."""
        return {"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "release"}}}},
                                    {"range": {"release": {"lte": int(time.time())}}}]}}

    def _hit(self, h: dict, with_highlight: bool, soft: list | None, sizes: dict[str, int] | None = None) -> Hit:
        src = h.get("_source") or {}
        disp = src.get("display") or {}
        title = disp.get("title") or ""
        hl = h.get("highlight") or {}
        lead, body = disp.get("lead") or "", src.get("body") or ""
        if with_highlight and (hl.get("lead") or hl.get("body")):
            snippet = []
            for i, fragment in enumerate([*hl.get("lead", []), *hl.get("body", [])]):
                if i:
                    snippet.append(Segment(" … "))
                snippet += highlighted.segments(fragment)
            snippet = highlight.merged(snippet)
        else:
            snippet = highlight.snippet(lead, body, ())
        if with_highlight and hl.get("title") and src.get("title") == title:
            title_segments = highlighted.segments(hl["title"][0])
        else:
            title_segments = highlight.unmarked(title)
        missing = []
        if soft is not None:
            matched = set(h.get("matched_queries") or [])
            missing = list(dict.fromkeys(dsl.label(c) for i, c in enumerate(soft) if dsl.clause_name(i) not in matched))
        agency = disp.get("agency") or {}
        return Hit(
            id=src.get("id") or h["_id"], title=title, title_segments=title_segments, date=disp.get("date"),
            source=disp.get("source"), url=disp.get("url"), snippet_segments=snippet, score=round(float(h.get("_score") or 0.0), 4),
            people=[self._display("people", k) for k in src.get("people") or []],
            places=[self._display("places", k) for k in src.get("places") or []],
            missing=missing, urgency=agency.get("urgency"), slugline=agency.get("slugline"),
            language=agency.get("language"), version=agency.get("version"),
            story=src.get("story"), other_versions=max(0, (sizes or {}).get(src.get("story"), 1) - 1),
        )

    def results(self, req: SearchRequest, limit: int, within: Iterable[str] | None = None) -> tuple[SearchResponse, Iterator[Hit]]:
        """The first ``limit`` hits of a whole result set (no facets, plain snippets), for an export."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidRequest("bad_limit", "« limit » doit être un entier positif ou nul")
        budget = Budget(req.time_budget_ms)
        lo, hi, snap, pq, notices, flt, chosen, excl, dates, q, match = self._prepared(req, within)
        plain = SearchRequest(**{**req.__dict__, "highlight": False})
        size = min(limit, MAX_RESULTS)
        terms = rerank.query_terms(pq)
        ranked = req.sort == "relevance" and match != "none" and bool(terms.groups) and size > 0
        fetch = min(rerank.depth(size, self.params), MAX_RESULTS) if ranked else size
        resp = self._search(self._body(plain, pq, q, chosen, dates, size=fetch, start=0, aggs=False), **self._timeout(req))
        if ranked:
            resp["hits"]["hits"] = self._reranked(resp["hits"]["hits"], terms, snap, budget)[:size]
        total = resp["hits"]["total"]["value"]
        k = min(size, len(resp["hits"]["hits"]))
        timed_out = (["scoring"] if resp.get("timed_out") else []) + budget.cut
        out = SearchResponse(query=req.q, total=total, page=1, per_page=max(k, 1), took_ms=round(budget.elapsed_ms(), 2),
                             hits=[], facets={}, notice=" ".join(x for x in [pq.notice, *notices] if x) or None, sort=req.sort, generation=snap.meta.get("generation"),
                             match=match if total else "none", partial=bool(timed_out), timed_out=timed_out, collapse="none")
        soft = dsl.soft_clauses(pq) if match == "some" else None
        raw = resp["hits"]["hits"]
        out.stories = self._stories_total(resp, total)
        out.collapse = req.collapse
        return out, (self._hit(h, False, soft) for h in raw[:k])

    # -- documents

    def _get(self, doc_id: str) -> dict | None:
        res = writer.guard(lambda: self.client.search(index=self.alias, body={"query": {"ids": {"values": [doc_id]}}, "size": 1}))
        hits = res["hits"]["hits"]
        return hits[0] if hits else None

    def document(self, doc_id: str, q: str = "", version: int | None = None) -> dict | None:
        """A whole dispatch for display, query words marked (the Python highlighter: same rules as the index)."""
        self.snapshot()
        h = self._get(doc_id)
        if h is None:
            return self._withdrawn(doc_id)
        src = h["_source"]
        if (src.get("release") or 0) > time.time():
            return None  # under embargo: not even its text
        disp = src.get("display") or {}
        agency = disp.get("agency")
        live = (agency.get("version") or 1) if agency else None
        if version is not None and version != live:
            return (self._version_document(doc_id, version, self._marks(q), self.snapshot().meta.get("generation"))
                    if agency else None)
        terms, phrases = self._marks(q)
        title, lead = disp.get("title") or "", disp.get("lead") or ""
        agency = agency or {}
        return {
            "id": src.get("id"), "title": title, "title_segments": highlight.highlight(title, terms, phrases),
            "title_derived": bool(disp.get("title_derived")), "lead": lead, "lead_segments": highlight.highlight(lead, terms, phrases),
            "body_blocks": highlight.body_blocks(src.get("body") or "", disp.get("subheads"), terms, phrases), "date": disp.get("date"), "source": disp.get("source"),
            "byline": disp.get("byline"), "section": disp.get("section"), "url": disp.get("url"),
            "people": [self._display("people", k) for k in src.get("people") or []],
            "places": [self._display("places", k) for k in src.get("places") or []],
            "generation": self.snapshot().meta.get("generation"),
            "status": "usable", "versions": self.versions(doc_id) if agency else [], "urgency": agency.get("urgency"), "genre": agency.get("genre"),
            "slugline": agency.get("slugline"), "subjects": [name or code for code, name in agency.get("subjects") or []],
            "language": agency.get("language"), "embargo": agency.get("embargo"), "shown_version": live,
        }

    @staticmethod
    def _marks(q: str) -> tuple[list[str], list]:
        if not q or len(q) > 1000:
            return [], []
        pq = query.parse(q)
        phrases = []

        def walk(node):
            if isinstance(node, query.Phrase):
                phrases.append(node.terms)
            elif isinstance(node, query.Or):
                for c in node.children:
                    walk(c)

        for c in pq.clauses:
            walk(c)
        return pq.positive_terms(), phrases

    def story(self, story: str, limit: int = MAX_STORY_VERSIONS) -> dict | None:
        """A story's versions, newest first (at most ``limit``), each with what it changed from the
        version before it, as the Whoosh engine; None for an unknown story."""
        if not isinstance(story, str) or not isinstance(limit, int) or limit < 1 or stories.story_number(story) is None:
            return None
        self.snapshot()
        # The newest limit + 1: the one before the oldest shown tells what that one changed.
        body = {"size": min(limit + 1, MAX_RESULTS), "track_total_hits": True,
                "query": {"bool": {"filter": [{"term": {"story": story}}, self._released()]}},
                "sort": [{"day": {"order": "desc", "missing": "_last"}}, {"id": "desc"}],
                "_source": ["id", "body", "display.title", "display.lead", "display.date", "display.source", "display.url"]}
        resp = self._search(body)
        total = resp["hits"]["total"]["value"]
        if not total:
            return None
        rows = []
        for h in reversed(resp["hits"]["hits"]):  # oldest first
            src = h["_source"]
            disp = src.get("display") or {}
            rows.append({"id": src.get("id"), "title": disp.get("title") or "", "lead": disp.get("lead"), "body": src.get("body"),
                         "date": disp.get("date"), "source": disp.get("source"), "url": disp.get("url")})
        out = versions.story_listing(rows, complete=len(rows) == total)
        return {"id": story, "total": total, "versions": out[:limit]}

    def entity_page(self, kind: str, name: str, size: int = coverage.COOCCURRING, latest: int = coverage.LATEST,
                    budget_ms: int | None = DEFAULT_TIME_BUDGET_MS) -> coverage.Coverage | None:
        """A person's or place's page from one search of the dispatches naming it (a query field,
        not a facet choice: the names alongside are counted within them); None when none does."""
        if kind not in coverage.KINDS:
            raise ValueError(f"kind must be one of {coverage.KINDS}")
        key = fold_key(name)
        if not key:
            return None
        field = "personne" if kind == "people" else "lieu"
        resp = self.search(SearchRequest(q=f'{field}:"{key}"', sort="newest", per_page=max(1, latest), facet_size=min(size + 1, 100),
                                         highlight=False, time_budget_ms=budget_ms, collapse="none"))
        if resp.total == 0:
            return None

        def alongside(other: str) -> list[FacetItem]:
            items = resp.facets.get(other, [])
            return [it for it in items if other != kind or fold_key(it.value) != key][:size]

        return coverage.Coverage(kind=kind, name=self._display(kind, key), total=resp.total, dates=resp.facets.get("dates", []),
                                 date_grain=resp.date_grain, people=alongside("people"), places=alongside("places"),
                                 latest=resp.hits[:latest], partial=resp.partial, timed_out=resp.timed_out)

    def alert_matches(self, alerts: list, ids: list[str]) -> dict[int, list[Hit]]:
        """{alert id: its matches among the dispatches ``ids``, newest first}: one percolation of
        the new dispatches against every saved search (percolator.py), not a search per alert."""
        from . import percolator

        found = percolator.percolate(self, alerts, list(ids))
        matched = set().union(*found.values()) if found else set()
        if not matched:
            return {}
        _resp, hits = self.results(SearchRequest(sort="newest", highlight=False, time_budget_ms=None, collapse="none"),
                                   len(matched), within=sorted(matched))
        ordered = list(hits)
        return {alert: [h for h in ordered if h.id in docs] for alert, docs in found.items()}

    # The version store is the Whoosh engine's (search/versions.py), read the same way.
    versions = _WhooshEngine.versions
    _withdrawn = _WhooshEngine._withdrawn
    _agency_document = _WhooshEngine._agency_document
    _version_document = _WhooshEngine._version_document

    def _store(self) -> versions.VersionStore | None:
        if self.root is None:
            return None
        try:
            return versions.VersionStore(self.root, readonly=True)
        except Exception:  # sqlite3.Error, OSError: the history is an extra, never an error
            log.exception("version store of %s", self.root)
            return None

    def related(self, doc_id: str, k: int = 5) -> list[Hit]:
        """Dispatches most like this one (``more_like_this`` over its distinctive words)."""
        if k <= 0:
            return []
        self.snapshot()
        body = {
            "size": k,
            "query": {"bool": {
                "must": [{"more_like_this": {"fields": ["title", "lead", "body"], "like": [{"_index": self.alias, "_id": doc_id}],
                                             "min_term_freq": 1, "min_doc_freq": 2, "max_query_terms": RELATED_TERMS}}],
                "must_not": [{"ids": {"values": [doc_id]}}, {"range": {"release": {"gt": int(time.time())}}}],
            }},
            "sort": ["_score", {"day": "desc"}],
        }
        resp = self._search(body)
        return [self._hit(h, False, None) for h in resp["hits"]["hits"]]

    # -- suggestions

    def suggest(self, prefix: str, limit: int = 10) -> dict:
        """Words (the generation's word table), people and places starting with ``prefix``, most frequent first."""
        snap = self.snapshot()
        prefix = (prefix or "")[:100]
        limit = max(1, min(int(limit), 50))
        folded = fold_key(prefix)
        words = snap.meta.get("words") or {}
        terms = []
        if folded and " " not in folded:
            terms = [w for w, _ in sorted(((w, c) for w, c in words.items() if w.startswith(folded)), key=lambda p: (-p[1], p[0]))[:limit]]
        out: dict = {"terms": terms}
        for kind in ("people", "places"):
            res = []
            if folded:
                pattern = "(.* )?" + re.escape(folded).replace("\\ ", " ") + ".*"
                resp = self._search({"size": 0, "aggs": {"k": {"terms": {"field": kind, "include": pattern, "size": limit,
                                                                       "order": [{"_count": "desc"}, {"_key": "asc"}]}}}})
                res = [self._display(kind, b["key"]) for b in resp["aggregations"]["k"]["buckets"]]
            out[kind] = res
        return out

    def health(self) -> dict:
        """Generation, live document count, analyzer version; raises IndexMissing without the alias."""
        snap = self.snapshot()
        count = writer.guard(lambda: self.client.count(index=self.alias))["count"]
        cluster = writer.guard(lambda: self.client.cluster.health())
        return {"generation": snap.meta.get("generation"), "documents": count,
                "schema_version": snap.meta.get("schema_version"), "status": "ok", "cluster": cluster.get("status")}
