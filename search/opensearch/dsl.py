"""The parsed French query (search/query.py's tree) as OpenSearch query DSL: pure functions.

Words are ranked on the ``ranked`` field, where the title, the lead and the body's opening count
as in the Whoosh ranking (search/ranking.py) by repetition; phrases on title, lead and body with
the Whoosh weights (a phrase found in the title or the lead counts once, at the better of the
two: ``dis_max``). Query text goes to the cluster as typed, so that the index's own analyzer
(mapping.py) reads both sides. This ranks every match; the best are then ranked again as the
Whoosh engine ranks them (proximity, the body's opening, the words as typed: rerank.py).
"""
from __future__ import annotations

from .. import query, ranking
from ..folding import fold_key
from ..query import Field, Not, Or, ParsedQuery, Phrase, Prefix, Word
from .mapping import TEXT_FIELDS

PARAMS = ranking.DEFAULT_PARAMS
# Words typed with a capital inside the query (names) weigh more, as in the Whoosh ranking.
NAME_BOOST = PARAMS.name_boost
KEYWORD_QUERY_FIELDS = {"people": "people", "places": "places", "source": "source", "section": "section",
                        "genre": "genre", "subjects": "subjects", "slugline": "slugline"}


def _text(kind: str, text: str, boost: float = 1.0) -> dict:
    """``text`` as ``kind`` (match or match_phrase): words in the ``ranked`` field (BM25F by
    repetition, mapping.py); phrases, which need positions, in the title or the lead (the better
    one) plus the body."""
    if kind == "match":
        return {"match": {"ranked": {"query": text, "operator": "and", "boost": round(boost, 4)}}}
    w = PARAMS.weights

    def one(name: str, weight: float) -> dict:
        body = {"query": text, "boost": round(weight * boost, 4)}
        if kind == "match":
            body["operator"] = "and"
        return {kind: {name: body}}

    return {"bool": {"should": [{"dis_max": {"queries": [one("title", w["title"]), one("lead", w["lead"])]}}, one("body", w["body"])],
                     "minimum_should_match": 1}}


def _prefix(folded: str) -> dict:
    return {"bool": {"should": [{"prefix": {f"{f}.folded": {"value": folded}}} for f in TEXT_FIELDS], "minimum_should_match": 1}}


def _keyword(name: str, value: str) -> dict:
    return {"term": {name: fold_key(value)}}


def _field(node: Field) -> dict:
    if node.name == "date":
        lo, hi = node.value
        return {"range": {"day": {"gte": lo, "lte": hi}}}
    if node.name == "title":
        return {"match": {"title": {"query": node.value, "operator": "and"}}}
    if node.name == "language":
        return {"term": {"language": str(node.value).strip().lower().split("-")[0]}}
    if node.name == "urgency":
        value = str(node.value)
        if ".." in value:
            a, _, b = value.partition("..")
            rng = {}
            if a.strip().isdigit():
                rng["gte"] = a.strip()
            if b.strip().isdigit():
                rng["lte"] = b.strip()
            return {"range": {"urgency": rng}} if rng else {"match_none": {}}
        return {"term": {"urgency": value.strip()}}
    return _keyword(KEYWORD_QUERY_FIELDS[node.name], str(node.value))


def clause(node, capital: bool = False) -> dict:
    """One node of the parse tree as a query."""
    if isinstance(node, Word):
        return _text("match", node.text, NAME_BOOST if capital else 1.0)
    if isinstance(node, Phrase):
        return _text("match_phrase", node.text)
    if isinstance(node, Prefix):
        return _prefix(node.folded)
    if isinstance(node, Field):
        return _field(node)
    if isinstance(node, Or):
        return {"bool": {"should": [clause(c) for c in node.children], "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [clause(node.child)]}}
    raise TypeError(f"unknown query node {node!r}")


def _is_name(pq: ParsedQuery, word: Word) -> bool:
    """Typed with a capital, not as the query's first clause (as the Whoosh planner)."""
    return bool(pq.clauses) and word is not pq.clauses[0] and word.text[:1].isupper()


def soft_clauses(pq: ParsedQuery) -> list:
    """The clauses wanted all, else any (words, OU groups, prefixes); none with ET."""
    if pq.strict:
        return []
    return [c for c in pq.clauses if isinstance(c, (Word, Or, Prefix))]


def label(node) -> str:
    """A clause as the person typed it (for « Manque : … »), as the Whoosh engine names it."""
    if isinstance(node, Or):
        return " OU ".join(label(c) for c in node.children)
    if isinstance(node, Phrase):
        return f"« {node.text} »"
    return getattr(node, "text", "") or ""


def clause_name(i: int) -> str:
    """The ``_name`` of the i-th soft clause: hits say which they have (``matched_queries``)."""
    return f"c{i}"


def text_query(pq: ParsedQuery, all_clauses: bool) -> dict:
    """The query of a parsed query: fields and phrases required; the soft clauses too when
    ``all_clauses``, else at least one; exclusions as ``must_not``."""
    soft = soft_clauses(pq)
    must = [clause(c, isinstance(c, Word) and _is_name(pq, c)) for c in pq.clauses if not any(c is x for x in soft)]
    named = [{"bool": {"must": [clause(c, isinstance(c, Word) and _is_name(pq, c))], "_name": clause_name(i)}}
             for i, c in enumerate(soft)]
    body: dict = {}
    if all_clauses or len(named) < 2:
        must += named
    else:
        # Ranked partial matches: BM25 alone puts those having more of the words first (a tier
        # of complete matches on top measured 0.01 MRR@10 worse on the OrangeSum dev half).
        body["should"] = named
        body["minimum_should_match"] = 1
    if must:
        body["must"] = must
    if pq.exclusions:
        body["must_not"] = [clause(e) for e in pq.exclusions]
    if not body:
        return {"match_all": {}}
    if "must" not in body and "should" not in body:
        body["must"] = [{"match_all": {}}]
    return {"bool": body}


def highlight_query(pq: ParsedQuery) -> dict | None:
    """What the snippets mark: the positive words, phrases and prefixes (never an excluded word)."""
    parts = []

    def walk(node):
        if isinstance(node, (Word, Phrase, Prefix)):
            parts.append(clause(node))
        elif isinstance(node, Or):
            for c in node.children:
                walk(c)
        elif isinstance(node, Field) and node.name == "title":
            parts.append(clause(node))

    for c in pq.clauses:
        walk(c)
    return {"bool": {"should": parts}} if parts else None


def parse(text: str) -> ParsedQuery:
    """The query language's reading of ``text`` (the same parser as the Whoosh engine)."""
    return query.parse(text)
