"""Query planning: what a parsed query matches, as functions of (snapshot, parsed query)
returning a ``Plan`` value (the documents required, the scoring groups, what to mark, the
corrections and notices), under the request's budget.

Clauses are read rarest first (their document frequencies from the vocabulary, no postings
read) so that a cut budget drops the commonest words; the plan puts them back in typed order.
All words are required first; with too few results the plan falls back to partial matches and
says, per document, which typed clauses it lacks.
"""
from __future__ import annotations

import re

import numpy as np

from . import analysis, arrays, query, spelling
from .budget import MATCH_SHARE, Budget
from .model import AGENCY_FACETS, Correction
from .snapshot import EMPTY, TEXT_FIELDS, Snapshot, TermPostings

MAX_PREFIX_TERMS = 50
# All the prefixes of one query together: « ba* be* … zu* » expands to this many terms at most.
MAX_QUERY_PREFIX_TERMS = 60
# Each prefix of a query gets an equal share of MAX_QUERY_PREFIX_TERMS, but never fewer than this.
MIN_PREFIX_SHARE = 3
# Clauses of one query, and words of one OR, searched at most: the rarest. A pasted paragraph
# of 150 words costs the postings of 150 words, and its commonest words say nothing.
MAX_QUERY_CLAUSES = 32
# Query words looked at for spelling, at most: each costs a deletion-index look-up.
MAX_CORRECTED_WORDS = 8
# Documents whose positions are read together (in numpy) between two looks at the clock while
# verifying a phrase.
PHRASE_CHECK_DOCS = 4096
# The longest a search waits for the vocabulary and speller of a generation that has just
# opened (once per process: later generations inherit the previous ones while theirs build).
BUILD_WAIT = 0.1
PHRASE_CACHE = 256
PHRASE_CACHE_BYTES = 16 << 20  # and at most this much of their doc numbers


class Plan:
    """What a parsed query matches and how it is scored."""

    def __init__(self):
        self.mask: np.ndarray | None = None  # None: everything (no positive clause)
        self.groups: list[list[str]] = []  # scoring term groups (a prefix is one group)
        self.highlight: set[str] = set()
        self.phrases: list[tuple[str, ...]] = []
        self.notices: list[str] = []
        self.surface: list[tuple[str, str]] = []  # (folded word, term) of the plain words typed
        self.names: set[str] = set()
        self.match = "all"
        # Soft clauses (what was typed, documents having it): what a partial match lacks.
        self.soft: list[tuple[str, np.ndarray]] = []
        self.corrections: list[Correction] = []
        self.prefix_terms = 0  # expansions so far, against MAX_QUERY_PREFIX_TERMS
        self.prefix_share = MAX_PREFIX_TERMS  # expansions one prefix may have in this query
        self.summed: dict[tuple, "TermPostings"] = {}  # prefix groups' postings summed, by group

    def missing(self, doc: int) -> list[str]:
        """The typed clauses a document lacks, when the match is partial."""
        if self.match != "some":
            return []
        return list(dict.fromkeys(label for label, m in self.soft if not m[doc]))



def _and(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else (a & b)


def _clause_text(node) -> str:
    """A clause as the person typed it (for « Manque : … »)."""
    if isinstance(node, query.Or):
        return " OU ".join(_clause_text(c) for c in node.children)
    if isinstance(node, query.Phrase):
        return f"« {node.text} »"
    return getattr(node, "text", "") or ""


def _wait_for_build(budget: Budget) -> float:
    """Seconds a search may wait for the background build: a little, never past its budget."""
    left = budget.left(MATCH_SHARE)
    return BUILD_WAIT if left is None else min(BUILD_WAIT, left)


def _clause_cost(node, vocab) -> int:
    """Documents a clause's words are in, as the vocabulary tells without reading postings
    (what its masks will cost, and how little a frequent word says)."""
    if isinstance(node, (query.Word, query.Phrase)):
        return sum(vocab.frequency(t) for t in node.terms) if vocab is not None else 0
    if isinstance(node, query.Or):
        return sum(_clause_cost(c, vocab) for c in node.children)
    if isinstance(node, query.Prefix):
        return 1 << 40  # many terms: read last
    return 0  # fields and dates: masks over small postings


def _typed_order(marks: list[tuple[int, int, int]], items: list, slot: int) -> list:
    """``items`` added clause by clause in reading order, rearranged in the order the clauses were
    typed; ``marks[k][slot]`` is how many items there were before the k-th clause read."""
    spans = []
    for k, mark in enumerate(marks):
        end = marks[k + 1][slot] if k + 1 < len(marks) else len(items)
        spans.append((mark[0], items[mark[slot]:end]))
    return [x for _, span in sorted(spans, key=lambda p: p[0]) for x in span]


def _term_labels(text: str) -> dict[str, str]:
    """Each term of ``text`` with the word it was typed as."""
    out: dict[str, str] = {}
    for word in text.split():
        for t in analysis.terms(word):
            out.setdefault(t, word.strip(".,;:!?«»\"“”()"))
    return out




def plan_query(snap: Snapshot, pq: query.ParsedQuery, budget: Budget, correct: bool = True,
          visible: np.ndarray | None = None) -> Plan:
    """What the query matches (a mask) and how it is scored, read clause by clause under the budget."""
    live = snap.live if visible is None else visible
    plan = Plan()
    soft: list[tuple[str, np.ndarray]] = []
    required: np.ndarray | None = None
    corrected_words = 0

    def want(label: str, m: np.ndarray) -> None:
        # ET makes every clause required; otherwise plain clauses are soft (all, else any).
        nonlocal required
        if pq.strict:
            required = _and(required, m)
        else:
            soft.append((label, m))

    # Clauses are read rarest first, so that a budget cut drops the commonest words, which say
    # the least; what each one added is put back in the typed order afterwards, so that the
    # ranking does not depend on the reading order.
    vocab = snap.vocabulary(wait=0)
    reading = sorted(range(len(pq.clauses)), key=lambda i: (_clause_cost(pq.clauses[i], vocab), i))
    if len(reading) > MAX_QUERY_CLAUSES:
        reading = reading[:MAX_QUERY_CLAUSES]
        plan.notices.append(f"Requête de {len(pq.clauses)} termes : seuls les {MAX_QUERY_CLAUSES} plus rares ont été cherchés.")
    marks: list[tuple[int, int, int]] = []  # (clause index, groups before it, soft clauses before it)
    # Every prefix gets its share of the query's expansions, not the first few all of them.
    n_prefixes = len(pq.prefixes())
    if n_prefixes > 1:
        plan.prefix_share = min(MAX_PREFIX_TERMS, max(MIN_PREFIX_SHARE, MAX_QUERY_PREFIX_TERMS // n_prefixes))
    for n_clause, i_clause in enumerate(reading):
        clause = pq.clauses[i_clause]
        # The first clause is always read, so that a request cut short still answers something.
        if n_clause and budget.spent("planning", MATCH_SHARE):
            break
        marks.append((i_clause, len(plan.groups), len(soft)))
        if isinstance(clause, query.Word):
            # "Pays-Bas" is two words at consecutive positions: a phrase when quoted,
            # two words otherwise.
            plan.surface.extend(p for p in analysis.surface_terms(clause.text) if p[1] in clause.terms)
            if clause is not pq.clauses[0] and clause.text[:1].isupper():
                plan.names.update(clause.terms)
            for t in clause.terms:
                if len(clause.terms) == 1 and corrected_words < MAX_CORRECTED_WORDS:
                    corrected_words += 1
                    t = _spell(snap, clause.text, t, plan, budget, correct, live)
                alt = _verb_alternative(snap, clause, t)
                group = [t, alt] if alt else [t]
                m = _term_mask(snap, t)
                if alt:
                    m = m | _term_mask(snap, alt)
                m = _with_neutral_word(snap, clause, t, group, m)
                plan.groups.append(group)
                plan.highlight.update(group)
                want(clause.text, m)
        elif isinstance(clause, query.Or):
            m = np.zeros(snap.n, dtype=bool)
            children = sorted(clause.children, key=lambda c: _clause_cost(c, vocab))
            if len(children) > MAX_QUERY_CLAUSES:
                children = children[:MAX_QUERY_CLAUSES]
                plan.notices.append(f"OU de {len(clause.children)} termes : seuls les {MAX_QUERY_CLAUSES} plus rares ont été cherchés.")
            for n_child, child in enumerate(children):
                if (n_clause or n_child) and budget.spent("planning", MATCH_SHARE):
                    break
                m |= _node_mask(snap, child, plan, budget)
            want(" OU ".join(_clause_text(c) for c in clause.children), m)
        elif isinstance(clause, query.Prefix):
            want(clause.text, _node_mask(snap, clause, plan, budget))
        elif isinstance(clause, query.Phrase):
            m = _node_mask(snap, clause, plan, budget)
            if not (m & live).any():
                # No document has the exact phrase: its words, with a notice.
                plan.phrases.remove(tuple(clause.terms))
                plan.highlight.update(clause.terms)
                plan.notices.append(f"Aucun document ne contient l'expression exacte « {clause.text} » : ses mots ont été cherchés séparément.")
                labels = _term_labels(clause.text)
                for i, t in enumerate(dict.fromkeys(clause.terms)):
                    if i and budget.spent("phrases", MATCH_SHARE):
                        break
                    want(labels.get(t, t), _term_mask(snap, t))
            else:
                required = _and(required, m)
        else:
            required = _and(required, _node_mask(snap, clause, plan, budget))
    plan.groups, soft = _typed_order(marks, plan.groups, 1), _typed_order(marks, soft, 2)
    if soft:
        all_of = soft[0][1].copy()
        any_of = soft[0][1].copy()
        for _, m in soft[1:]:
            all_of &= m
            any_of |= m
        base = all_of
        if len(soft) > 1:
            live_all = all_of & live if required is None else (all_of & required & live)
            if np.count_nonzero(live_all) < snap.params.and_min_results:
                base = any_of
                plan.match = "some"
                plan.soft = soft
        required = _and(required, base)
    for ex in pq.exclusions:
        if budget.spent("planning", MATCH_SHARE):
            break
        m = _node_mask(snap, ex, Plan(), budget)
        required = _and(required, ~m) if required is not None else ~m
    if pq.clauses and required is None:
        required = np.zeros(snap.n, dtype=bool)
    plan.mask = required
    if not pq.clauses and not pq.exclusions and pq.text.strip():
        # Only stop words: nothing to look for.
        plan.mask = np.zeros(snap.n, dtype=bool)
        plan.match = "none"
    return plan

def _verb_alternative(snap: Snapshot, clause, term: str) -> str | None:
    """The stem of the singular of a third-person plural verb Snowball leaves alone (``perdent`` → ``perd``)."""
    if not snap.params.verb_plurals or len(clause.terms) != 1 or not clause.text[:1].islower():
        return None
    folded = analysis.fold(clause.text)
    if not (folded.endswith("ent") and term.endswith("ent") and len(folded) >= 6):
        return None
    alt = analysis.stem(folded[:-2])
    if alt == term or len(alt) < 4:
        return None
    # A real plural verb form is much rarer than its stem's other forms; a noun
    # ("président", "accident") is not.
    return alt if snap.term(alt).df > snap.params.verb_plurals * snap.term(term).df else None

def _spell(snap: Snapshot, text: str, term: str, plan: Plan, budget: Budget, correct: bool,
           live: np.ndarray | None = None) -> str:
    """The term to search for a typed word: its own, or its correction when the archive never
    has the word as typed (recorded in ``plan.corrections``, applied only if ``correct``)."""
    folded = " ".join(re.findall(r"\w+", analysis.fold(text)))
    if not (spelling.MIN_WORD <= len(folded) <= spelling.MAX_WORD) or not folded.isalpha():
        return term
    if budget.spent("corrections", MATCH_SHARE):
        return term
    speller = snap.speller(wait=_wait_for_build(budget))
    if speller is None:
        budget.spent("corrections", 0.0)
        return term
    if folded in speller:
        got = speller.suggest(folded)
        applied = False
    else:
        got = speller.correct(folded, snap.term(term).df)
        applied = correct and snap.params.correct_unknown
    if got is None:
        return term
    new_term = analysis.stem(got.word)
    if new_term == term or snap.term(new_term).df == 0:
        return term
    if live is not None and live is not snap.live and not live[snap.term(new_term).ids].any():
        return term  # only embargoed dispatches have it: not a word to show yet
    shown = snap.display_word(new_term, want=got.word) or got.word
    if text[:1].isupper() and shown[:1].islower():
        shown = shown[:1].upper() + shown[1:]
    plan.corrections.append(Correction(word=text, replacement=shown, applied=applied))
    if not applied:
        return term
    plan.notices.append(f"« {text} » n'apparaît dans aucune dépêche : cherché comme « {shown} ».")
    return new_term

def _with_neutral_word(snap: Snapshot, node, term: str, group: list[str], m: np.ndarray) -> np.ndarray:
    """``m`` (the word's documents) with the documents that are not French having the word as
    typed (folded, unstemmed: their analysis, see analysis.py), a new array; that term joins
    the word's scoring ``group``. An archive all in French pays nothing (no archive-sized
    array a word)."""
    if not snap.has_foreign or len(node.terms) != 1:
        return m
    neutral = analysis.neutral_terms(node.text)
    if len(neutral) != 1 or neutral[0] == term or neutral[0] in group:
        return m
    group.append(neutral[0])
    return m | (_term_mask(snap, neutral[0]) & snap.foreign)

def _term_mask(snap: Snapshot, term: str) -> np.ndarray:
    """The term's documents, read-only: a common word's is its cached mask itself (copying a
    million booleans a word cost more than the plan's own operations on them)."""
    return snap.term(term).mask(snap.n)

def _node_mask(snap: Snapshot, node, plan: Plan, budget: Budget) -> np.ndarray:
    n = snap.n
    if isinstance(node, query.Word):
        m = np.ones(n, dtype=bool)
        for t in node.terms:
            group = [t]
            m &= _with_neutral_word(snap, node, t, group, _term_mask(snap, t))
            plan.groups.append(group)
            plan.highlight.add(t)
        return m
    if isinstance(node, query.Phrase):
        for t in node.terms:
            plan.groups.append([t])
        plan.phrases.append(tuple(node.terms))
        m = _phrase_mask(snap, node.terms, budget)
        if snap.has_foreign:
            # In a text that is not French every word takes a position, stop words too.
            neutral = tuple(analysis.neutral_terms(node.text))
            if len(neutral) > 1 and neutral != tuple(node.terms):
                m |= _phrase_mask(snap, neutral, budget) & snap.foreign
        return m
    if isinstance(node, query.Prefix):
        room = MAX_QUERY_PREFIX_TERMS - plan.prefix_terms
        terms = expand_prefix(snap, node.folded, budget, min(plan.prefix_share, room)) if room > 0 else []
        m = np.zeros(n, dtype=bool)
        kept = []
        for i, t in enumerate(terms):
            # A prefix's first expansion is always read; the rest while the budget lasts.
            if i and budget.spent("expansion", MATCH_SHARE):
                break
            snap.term(t).mark(m)
            kept.append(t)
        plan.prefix_terms += len(kept)
        if kept:
            plan.groups.append(kept)
            plan.highlight.update(kept)
        return m
    if isinstance(node, query.Or):
        m = np.zeros(n, dtype=bool)
        for i, c in enumerate(node.children):
            if i and budget.spent("planning", MATCH_SHARE):
                break
            m |= _node_mask(snap, c, plan, budget)
        return m
    if isinstance(node, query.Field):
        return _field_mask(snap, node)
    return np.zeros(n, dtype=bool)  # pragma: no cover

def expand_prefix(snap: Snapshot, folded: str, budget: Budget | None = None, limit: int = MAX_PREFIX_TERMS) -> list[str]:
    """Index terms of words starting with a folded prefix (most frequent first, at most ``limit``)."""
    budget = budget or Budget(None)
    vocab = snap.vocabulary(wait=_wait_for_build(budget))
    if vocab is None:
        budget.spent("expansion", 0.0)
        return []
    out = vocab.completions(folded, limit)
    # A stem shorter than the prefix only counts if some form of it starts with the prefix.
    keep = []
    for t in out:
        if t.startswith(folded):
            keep.append(t)
        elif budget.spent("expansion", MATCH_SHARE):
            continue
        else:
            forms = snap.word_forms(t)
            if any(analysis.fold(f).startswith(folded) for f in forms):
                keep.append(t)
    return keep

def _phrase_mask(snap: Snapshot, terms: tuple[str, ...], budget: Budget) -> np.ndarray:
    """Documents where the terms follow each other (stop words do not take positions) in
    one of the text fields; checked while the budget lasts (an unfinished check is not cached)."""
    m = np.zeros(snap.n, dtype=bool)
    cached = snap.phrase_masks.get(terms)
    if cached is not None:
        m[cached] = True
        return m
    # Rarest words first (document frequencies from the vocabulary, no postings read): the
    # documents having them all narrow fast, and a phrase some word of which no document
    # shares with the others is settled before the frequent words are read at all.
    vocab = snap.vocabulary(wait=0)
    order = sorted(dict.fromkeys(terms), key=lambda t: (vocab.frequency(t) if vocab else 0, t))
    loaded: dict[str, TermPostings] = {}
    docs_all: np.ndarray | None = None
    for i, t in enumerate(order):
        if i and budget.spent("phrases", MATCH_SHARE):
            # Cut short before every word was read: the documents having the words read so
            # far stand for the phrase (a superset, unverified; the response says so).
            m[docs_all] = True
            return m
        tp = loaded[t] = snap.term(t)
        docs_all = tp.ids if docs_all is None else arrays.sorted_intersect(docs_all, tp.ids)
        if not len(docs_all):
            break
    tps = [loaded[t] for t in terms] if len(loaded) == len(order) else []
    finished = True
    for f in TEXT_FIELDS if tps else ():
        fps = [tp.fields.get(f, EMPTY) for tp in tps]
        if any(len(fp) == 0 or not fp.has_positions for fp in fps):
            continue
        common = fps[0].ids
        for fp in fps[1:]:
            common = arrays.sorted_intersect(common, fp.ids)
        common = common[~m[common]]
        if not len(common):
            continue
        locs = [arrays.locate(fp.ids, common) for fp in fps]
        for a in range(0, len(common), PHRASE_CHECK_DOCS):
            if budget.spent("phrases", MATCH_SHARE):
                finished = False
                break
            b = a + PHRASE_CHECK_DOCS
            m[common[a:b][_phrase_held(fps, [loc[a:b] for loc in locs])]] = True
        if not finished:
            break
    if finished:
        if len(snap.phrase_masks) >= PHRASE_CACHE or sum(v.nbytes for v in snap.phrase_masks.values()) > PHRASE_CACHE_BYTES:
            snap.phrase_masks.clear()
        # Kept as doc numbers: a mask the size of the archive for each of the last phrases
        # would make every worker hold a quarter of a gigabyte at a million dispatches.
        snap.phrase_masks[terms] = np.flatnonzero(m).astype(np.int32)
    return m

def _phrase_held(fps: list, locs: list[np.ndarray]) -> np.ndarray:
    """Which documents (the ``locs[i]``-th postings of each word's ``fps[i]``) have the words
    at consecutive positions: word ``i`` at ``p + i``, for some ``p``. Each word's (document,
    ``p``) pairs become sorted keys, and the phrase holds where every word has the same key."""
    n = len(fps)
    common = None
    for i, (fp, loc) in enumerate(zip(fps, locs)):
        counts, pos = fp.positions_many(loc)
        owner = np.repeat(np.arange(len(loc), dtype=np.int64), counts)
        # Ascending within each document, documents in order: the keys come sorted and distinct.
        keys = (owner << 33) + (pos - i + n)
        common = keys if common is None else arrays.sorted_intersect(common, keys)
        if not len(common):
            break
    held = np.zeros(len(locs[0]), dtype=bool)
    held[common >> 33] = True
    return held


def _field_mask(snap: Snapshot, node: query.Field) -> np.ndarray:
    n = snap.n
    if node.name == "date":
        lo, hi = node.value
        return (snap.day >= lo) & (snap.day <= hi) & (snap.day > 0)
    if node.name in ("people", "places"):
        fi = snap.facets[node.name]
        return fi.mask_for(fi.keys_matching_words(str(node.value)))
    if node.name == "source":
        fi = snap.facets["sources"]
        return fi.mask_for(fi.keys_matching_words(str(node.value)))
    if node.name == "section":
        fi = snap.facets["section"]
        return fi.mask_for(fi.keys_matching_words(str(node.value)))
    if node.name in AGENCY_FACETS:
        fi = snap.facets[node.name]
        value = str(node.value)
        if node.name == "urgency":
            lo, sep, hi = value.partition("..")
            try:
                lo_n, hi_n = int(lo or 1), int(hi or 9) if sep else int(lo)
            except ValueError:
                return np.zeros(n, dtype=bool)
            return fi.mask_for([i for i, k in enumerate(fi.keys) if k.isdigit() and lo_n <= int(k) <= hi_n])
        if node.name == "language":
            return fi.mask_for(fi.lookup([value.split("-")[0]]))
        return fi.mask_for(fi.keys_matching_words(value))
    if node.name == "title":
        m = np.ones(n, dtype=bool)
        terms = analysis.terms(str(node.value))
        if not terms:
            return np.zeros(n, dtype=bool)
        for t in terms:
            tm = np.zeros(n, dtype=bool)
            tm[snap.term(t).fields.get("title", EMPTY).ids] = True
            m &= tm
        return m
    return np.zeros(n, dtype=bool)  # pragma: no cover
