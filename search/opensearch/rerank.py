"""The Whoosh ranking applied to the cluster's best hits: BM25F per field, then proximity, the
body's opening and the words as typed (search/ranking.py), computed in Python.

The cluster ranks every match by BM25F by repetition (one ``ranked`` field, mapping.py), which
cannot give each field its own length normalisation, let the title weigh as a lead only when a
dispatch has none, nor see where the words stand. Its best are therefore scored again as the
Whoosh engine scores its candidates, as deep as the Whoosh ranking reads (``depth``: the hits
up to the page asked for, at least ``rerank_depth``): each hit's title, lead and body are read by the
project's own analyzer (``analysis.positions_by_term``, the Whoosh index's reading), the
collection's statistics (documents, average field lengths, each term's document frequency) come
from the cluster in one ``_termvectors`` request, and the formulas are ``ranking``'s pure
functions, the same as ``scoring``'s. The ``rerank_depth`` best of that BM25F get the position
features, then the ``exact_depth`` best the typed-forms bonus (``scoring.exact_share``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from .. import analysis, ranking, scoring
from ..budget import Budget
from ..whoosh_internals import rounded_lengths
from ..query import Or, ParsedQuery, Phrase, Word
from .mapping import TEXT_FIELDS

# The hits' texts are read in steps of this many, the time budget asked before each step.
READ_STEP = 25
STATS_FIELD = "ranked"  # where a term's document frequency is read: every text of a dispatch


@dataclass
class Terms:
    """What the query scores: one group per term, as the Whoosh planner groups plain words."""

    groups: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # terms of words typed with a capital inside the query
    surface: list[tuple[str, str]] = field(default_factory=list)  # (folded word, term) of the plain words
    words: list[str] = field(default_factory=list)  # the words as typed, for their statistics


def query_terms(pq: ParsedQuery) -> Terms:
    """The scored terms of a parsed query: its words and phrases, and those inside OU groups."""
    out = Terms()

    def walk(node, top: bool) -> None:
        if isinstance(node, Word):
            out.words.append(node.text)
            if top:
                out.surface.extend(p for p in analysis.surface_terms(node.text) if p[1] in node.terms)
                if node is not pq.clauses[0] and node.text[:1].isupper():
                    out.names.update(node.terms)
            out.groups.extend(node.terms)
        elif isinstance(node, Phrase):
            out.words.append(node.text)
            out.groups.extend(node.terms)
        elif isinstance(node, Or):
            for c in node.children:
                walk(c, False)

    for c in pq.clauses:
        walk(c, True)
    return out


def depth(k: int, params: ranking.RankingParams) -> int:
    """How many of the cluster's best are scored again for the first ``k`` hits: the Whoosh
    ranking's own depth (scoring.py), ``max(k, rerank_depth)``."""
    return max(k, params.rerank_depth)


@dataclass
class Stats:
    """The collection's side of BM25: documents, average length of each field, document frequencies."""

    n: int
    avg: dict[str, float]
    df: dict[str, int]


def stats_request(words: list[str]) -> tuple[dict, str]:
    """The ``_termvectors`` body of an artificial document made of the query's words, and its text."""
    text = "\n".join(dict.fromkeys(words))
    return {"doc": {f: text for f in (STATS_FIELD, *TEXT_FIELDS)}, "fields": [STATS_FIELD, *TEXT_FIELDS],
            "term_statistics": True, "field_statistics": True, "positions": False, "offsets": True}, text


def read_stats(resp: dict, text: str) -> Stats:
    """The statistics in a ``_termvectors`` answer, each Python term given the document
    frequency of the cluster's term found at the same place in ``text`` (the two analyzers may
    stem a word differently, never place it elsewhere)."""
    tv = resp.get("term_vectors") or {}
    ranked = tv.get(STATS_FIELD) or {}
    n = int((ranked.get("field_statistics") or {}).get("doc_count") or 0)
    avg = {}
    for f in TEXT_FIELDS:
        fs = (tv.get(f) or {}).get("field_statistics") or {}
        # As the Whoosh snapshot: the field's total length over every document.
        avg[f] = max(float(fs.get("sum_ttf") or 0) / max(n, 1), 1e-3)
    spans = [(int(tok["start_offset"]), int(tok["end_offset"]), int(info.get("doc_freq") or 0))
             for info in (ranked.get("terms") or {}).values() for tok in info.get("tokens") or []]
    df: dict[str, int] = {}
    for term, _, a, b in analysis.tokens(text):
        # Overlapping, not equal: the cluster's elision keeps the article in the word's offsets.
        inside = [d for s, e, d in spans if s < b and e > a]
        df[term] = max(df.get(term, 0), max(inside) if inside else 0)
    return Stats(n, avg, df)


def rerank(hits: list[dict], terms: Terms, stats: Stats, params: ranking.RankingParams = ranking.DEFAULT_PARAMS,
           budget: Budget | None = None) -> tuple[list[int], np.ndarray]:
    """(order of ``hits``, their new scores): the Whoosh ranking of the cluster's hits (each a
    hit with ``_source`` title, lead, body, day and display.lead), ties kept in the cluster's
    order. Their texts are read in the cluster's order while ``budget`` lasts: cut short
    (``reranking``), the hits read are ranked, the others follow as the cluster ranked them."""
    scores = np.array([float(h.get("_score") or 0.0) for h in hits])
    if not hits or not terms.groups:
        return list(range(len(hits))), scores
    wanted = set(terms.groups)
    pos: dict[str, list[dict]] = {f: [] for f in TEXT_FIELDS}
    sizes: dict[str, list[int]] = {f: [] for f in TEXT_FIELDS}
    for j, h in enumerate(hits):
        # Reading the texts is the cost (a deep page reads hundreds): it stops with the budget.
        if budget is not None and j % READ_STEP == 0 and budget.spent("reranking"):
            break
        src = h.get("_source") or {}
        for f in TEXT_FIELDS:
            by_term = analysis.positions_by_term(src.get(f) or "")
            sizes[f].append(sum(len(v) for v in by_term.values()))
            pos[f].append({t: v for t, v in by_term.items() if t in wanted})
    k = len(pos["body"])
    if not k:
        return list(range(len(hits))), scores
    order, new = _ranked(hits[:k], terms, stats, params, pos, {f: np.array(v, dtype=np.float64) for f, v in sizes.items()})
    scores[:k] = new
    return order + list(range(k, len(hits))), scores


def _ranked(hits: list[dict], terms: Terms, stats: Stats, p: ranking.RankingParams, pos: dict[str, list[dict]],
            lengths: dict[str, np.ndarray]) -> tuple[list[int], np.ndarray]:
    """``rerank`` of hits whose texts are read: ``pos`` (per field, per hit, the query terms'
    positions) and ``lengths`` (per field, each hit's length in terms)."""
    k = len(hits)
    wanted = set(terms.groups)
    # As the Whoosh index keeps them (one byte each).
    lengths = {f: rounded_lengths(v).astype(np.float64) for f, v in lengths.items()}
    has_lead = lengths["lead"] > 0
    idf_of = {t: ranking.idf(stats.df.get(t, 0), stats.n, p.idf_power) * (p.name_boost if p.name_boost and t in terms.names else 1.0)
              for t in wanted}
    # Stage 1: BM25F of each group over the hits, as the snapshot's postings give it.
    tfw = np.zeros((k, len(terms.groups)))
    score = np.zeros(k)
    for g, t in enumerate(terms.groups):
        ids, xs = {}, {}
        for f in TEXT_FIELDS:
            tf = np.array([len(pos[f][j].get(t, ())) for j in range(k)], dtype=np.float64)
            ids[f] = np.flatnonzero(tf)
            xs[f] = ranking.norm_tf(tf[ids[f]], lengths[f][ids[f]], stats.avg[f], p.b[f])
        if p.weights["title"]:
            # Without a lead, the title is the summary of the document and weighs as a lead.
            xs["title"] = xs["title"] * np.where(has_lead[ids["title"]], 1.0, p.weights["lead"] / p.weights["title"])
        got, w = ranking.combine_fields(ids, xs, p.weights, k)
        tfw[got, g] = w
        score[got] += idf_of[t] * ranking.saturate(w, p.k1)
    day = np.array([int((h.get("_source") or {}).get("day") or 0) for h in hits])
    rank = np.arange(k)
    order = ranking.top_order(score, day, rank, k)
    # Stage 2: positions, on the best of stage 1.
    top = order[: min(p.rerank_depth, k)]
    uniq = list(dict.fromkeys(terms.groups))
    opening = np.zeros((len(top), len(terms.groups)))
    for g, t in enumerate(terms.groups):
        for i, j in enumerate(top):
            opening[i, g] = sum(1 for x in pos["body"][j].get(t, ()) if x < p.opening)
    events = {f: [[(x, ti) for ti, t in enumerate(uniq) for x in pos[f][j].get(t, ())] for j in top]
              for f in p.proximity_weights if f in pos} if len(uniq) > 1 else {}
    new = ranking.position_scores(p, tfw[top], opening, has_lead[top], [idf_of[t] for t in terms.groups], events,
                                  [idf_of[t] for t in uniq])
    sub = ranking.top_order(new, day[top], rank[top], len(top))
    if p.exact_weight and terms.surface:
        words = list(dict.fromkeys(terms.surface))

        def text(j: int) -> str:
            src = hits[j].get("_source") or {}
            return "\n".join((src.get("title") or "", (src.get("display") or {}).get("lead") or "", src.get("body") or ""))

        bonus = np.array([scoring.exact_share(text(j), words, idf_of) for j in top[sub[: p.exact_depth]]])
        sub = ranking.exact_order(p, new, sub, bonus, day[top], rank[top])
    score[top] = new
    return [int(j) for j in np.concatenate([top[sub], order[len(top):]])], score
