"""The query language people type, parsed into a small tree the engine evaluates.

* plain words: ``Stoltenberg munitions`` (all words wanted; ranked partial matches if few
  documents have them all);
* ``"exact phrase"`` (also «…» and “…”), ``-exclusion`` (a word, phrase or field; also
  ``SAUF lieu:Paris``, and with a minus sign or en dash instead of the hyphen),
  ``a OR b`` / ``a OU b`` (binds tighter than the implicit AND), ``ET`` (makes every word
  required), prefix ``munit*``;
* fields ``personne:``, ``lieu:``, ``source:``, ``rubrique:``, ``titre:`` (value quoted if it
  has spaces) and ``date:2023-06``, ``date:2023-01..2023-06``, ``date:2023-06-14``;
* agency items' metadata: ``langue:en``, ``sujet:politique``, ``urgence:1`` (or ``urgence:1..3``),
  ``genre:``, ``slugline:``.

A malformed query (unbalanced quote, lone operator, unknown field, bad date) is not an
error: it is searched as plain words and ``ParsedQuery.notice`` says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import analysis, dates

FIELD_ALIASES = {
    "personne": "people", "personnes": "people", "person": "people", "people": "people",
    "lieu": "places", "lieux": "places", "place": "places", "places": "places",
    "source": "source", "sources": "source",
    "rubrique": "section", "section": "section",
    "titre": "title", "title": "title",
    "date": "date",
    # Agency items' metadata (values as the facets give them; urgence:1..3 is a range).
    "langue": "language", "language": "language", "lang": "language",
    "sujet": "subjects", "sujets": "subjects", "subject": "subjects", "subjects": "subjects",
    "urgence": "urgency", "urgency": "urgency",
    "genre": "genre",
    "slugline": "slugline",
}
OR_WORDS = frozenset(["OR", "OU"])
AND_WORDS = frozenset(["ET", "AND"])
# « SAUF lieu:Paris » = « -lieu:Paris »: the next operand is excluded (capitals only, like OU and ET).
NOT_WORDS = frozenset(["SAUF", "NOT"])
MIN_PREFIX = 2
MAX_PHRASE_TERMS = 32

# Words that make a question a question: they say nothing about the answer, so a query does
# not search for them (the index keeps them: "comment" is also a noun).
QUESTION_WORDS = frozenset(
    analysis.terms("quel quelle quels quelles comment combien pourquoi quoi lequel laquelle lesquels lesquelles quand")
)


@dataclass
class Word:
    """A plain word (may analyse to several terms: ``Pays-Bas`` → pays, bas)."""

    text: str
    terms: tuple[str, ...]


@dataclass
class Phrase:
    """Consecutive words, in order, in one field."""

    text: str
    terms: tuple[str, ...]


@dataclass
class Prefix:
    """Words starting with ``folded`` (``munit*``)."""

    text: str
    folded: str


@dataclass
class Field:
    """``name:value``; for dates ``value`` is a (low, high) pair of YYYYMMDD numbers."""

    name: str
    value: object
    text: str = ""


@dataclass
class Or:
    """Any of the children."""

    children: list


@dataclass
class Not:
    """Documents matching ``child`` are excluded."""

    child: object


@dataclass
class ParsedQuery:
    """Positive clauses (ANDed, plain words softly), exclusions, and how it was read."""

    text: str
    clauses: list = field(default_factory=list)
    exclusions: list = field(default_factory=list)
    strict: bool = False  # ET was used: every clause is required
    notice: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def positive_terms(self) -> list[str]:
        """Analysed terms of words and phrases outside exclusions (for highlighting, proximity)."""
        return list(dict.fromkeys(t for node in _within_ors(self.clauses) if isinstance(node, (Word, Phrase))
                                  for t in node.terms))

    def prefixes(self) -> list[Prefix]:
        """The prefix clauses (``fran*``), those inside an OU too."""
        return [node for node in _within_ors(self.clauses) if isinstance(node, Prefix)]

    def words(self) -> list[Word]:
        """Plain words (outside exclusions), for spelling suggestions."""
        out = []
        for c in self.clauses:
            if isinstance(c, Word):
                out.append(c)
            elif isinstance(c, Or):
                out.extend(x for x in c.children if isinstance(x, Word))
        return out


def _within_ors(clauses: list):
    """The clauses and, in place of each OU, its alternatives (at any depth), in typed order.
    A stack, not a nested function calling itself: that is a reference cycle a query, left for
    the garbage collector to find."""
    stack = list(reversed(clauses))
    while stack:
        node = stack.pop()
        if isinstance(node, Or):
            stack.extend(reversed(node.children))
        else:
            yield node


class Malformed(ValueError):
    """Why a query could not be read with its operators."""


# ---------------------------------------------------------------- dates


def _date_bound(text: str, high: bool) -> int:
    """YYYY[-MM[-DD]] → YYYYMMDD, missing parts 00 (low) or 99 (high)."""
    try:
        return dates.bound(text, high)
    except dates.DateError as e:
        raise Malformed(str(e)) from None


def date_range(date_from: str | None, date_to: str | None) -> tuple[int, int]:
    """Inclusive (low, high) YYYYMMDD bounds; raises Malformed for a bad date."""
    lo = _date_bound(date_from, False) if date_from else dates.NO_LOW
    hi = _date_bound(date_to, True) if date_to else dates.NO_HIGH
    return lo, hi


def parse_date_value(value: str) -> tuple[int, int]:
    """``2023``, ``2023-06``, ``2023-01..2023-06``, ``..2023``, ``2022..`` → (low, high)."""
    if ".." in value:
        a, _, b = value.partition("..")
        if not a and not b:
            raise Malformed("intervalle de dates vide")
        return date_range(a or None, b or None)
    return date_range(value, value)


# ---------------------------------------------------------------- tokens

# An exclusion's minus as typed: the hyphen-minus, the minus sign (U+2212) or the en dash a word
# processor or a phone's smart punctuation puts in its place (« –lieu:Paris »).
_TOKEN = re.compile(
    r"""
    (?P<neg>[-−–])?
    (?:
        (?P<field>[^\W\d_]+):(?P<fquote>["«“„])(?P<fqval>.*?)(?P<fqend>["»”“])
      | (?P<field2>[^\W\d_]+):(?P<fval>[^\s"«»“”„]+)
      | (?P<quote>["«“„])(?P<qval>.*?)(?P<qend>["»”“])
      | (?P<word>[^\s"«»“”„]+)
    )
    """,
    re.VERBOSE,
)


def _tokens(text: str):
    pos = 0
    n = len(text)
    while pos < n:
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Malformed("guillemet non fermé")
        pos = m.end()
        yield m


def _phrase_terms(value: str) -> tuple[str, ...]:
    return tuple(analysis.terms(value))


def _field_node(name: str, value: str) -> Field:
    key = FIELD_ALIASES.get(name.lower())
    if key is None:
        raise Malformed(f"champ inconnu {name!r}")
    value = value.strip()
    if not value:
        raise Malformed(f"valeur vide pour {name}:")
    if key == "date":
        return Field("date", parse_date_value(value), value)
    return Field(key, value, value)


def _atom(m) -> object | None:
    """One token → a node (None for words that analyse to nothing, like stop words)."""
    if m.group("field"):
        return _field_node(m.group("field"), m.group("fqval"))
    if m.group("field2"):
        name = m.group("field2")
        if name.lower() in ("http", "https"):  # a pasted link: its words
            terms = tuple(analysis.terms(m.group(0).lstrip("-")))
            return Word(m.group(0), terms) if terms else None
        return _field_node(name, m.group("fval"))
    if m.group("quote"):
        terms = _phrase_terms(m.group("qval"))
        if not terms:
            return None
        if len(terms) == 1:
            return Word(m.group("qval"), terms)
        # A pasted quotation is found by its opening words: checking every word of a long one
        # would cost the postings of all of them.
        return Phrase(m.group("qval"), terms[:MAX_PHRASE_TERMS])
    word = m.group("word")
    if word.endswith("*") and len(word.rstrip("*")) >= 1:
        stem_part = word.rstrip("*")
        folded = " ".join(re.findall(r"\w+", analysis.fold(stem_part)))
        if len(folded) >= MIN_PREFIX and " " not in folded:
            return Prefix(word, folded)
        word = stem_part
    terms = tuple(analysis.terms(word))
    if not terms:
        return None
    return Word(word, terms)


def parse(text: str) -> ParsedQuery:
    """Parse a query; never raises: a malformed query becomes plain words with a notice."""
    text = text or ""
    try:
        pq = _parse(text)
    except Malformed as e:
        pq = plain(text)
        pq.notice = f"Requête mal formée ({e}) : recherchée comme une suite de mots."
    _drop_question_words(pq)
    return pq


def plain(text: str) -> ParsedQuery:
    """Every word of ``text`` as a plain word (no operators)."""
    pq = ParsedQuery(text)
    for m in re.finditer(r"\S+", text):
        terms = tuple(analysis.terms(m.group()))
        if terms:
            pq.clauses.append(Word(m.group(), terms))
    return pq


def _parse(text: str) -> ParsedQuery:
    pq = ParsedQuery(text)
    items: list = []  # nodes, ("NOT", node), "OR" and "AND" markers
    negate = False  # after SAUF
    for m in _tokens(text):
        word = m.group("word")
        if word in ("-", "–", "—", "\u2212"):
            continue  # a dash between words is punctuation
        if word and not m.group("neg") and word in NOT_WORDS:
            if negate:
                raise Malformed(f"{word} répété")
            negate = True
            continue
        if negate and word and not m.group("neg") and word in OR_WORDS | AND_WORDS:
            raise Malformed("SAUF suivi d'un opérateur")
        if word and not m.group("neg") and word in OR_WORDS:
            items.append("OR")
        elif word and not m.group("neg") and word in AND_WORDS:
            items.append("AND")
        else:
            node = _atom(m)
            items.append(("NOT", node) if m.group("neg") or negate else node)
            negate = False
    if negate:
        raise Malformed("SAUF isolé en fin de requête")
    # Operators must sit between two operands.
    for i, it in enumerate(items):
        if it in ("OR", "AND"):
            if i == 0 or i == len(items) - 1 or items[i - 1] in ("OR", "AND") or items[i + 1] in ("OR", "AND"):
                raise Malformed(f"opérateur {'OU' if it == 'OR' else 'ET'} isolé")
    i = 0
    while i < len(items):
        it = items[i]
        i += 1
        if it == "AND":
            pq.strict = True
            continue
        group = [it]
        while i < len(items) - 1 and items[i] == "OR":
            group.append(items[i + 1])
            i += 2
        if len(group) > 1:
            if any(isinstance(g, tuple) for g in group):
                raise Malformed("exclusion dans un OU")
            kids = [g for g in group if g is not None]
            if kids:
                pq.clauses.append(Or(kids) if len(kids) > 1 else kids[0])
        elif isinstance(it, tuple):
            if it[1] is not None:
                pq.exclusions.append(it[1])
        elif it is not None:
            pq.clauses.append(it)
    return pq


def _drop_question_words(pq: ParsedQuery) -> None:
    """Drop interrogatives from plain words when other words remain."""
    words = [c for c in pq.clauses if isinstance(c, Word)]
    kept_terms = [t for w in words for t in w.terms if t not in QUESTION_WORDS]
    if not kept_terms:
        return
    new = []
    for c in pq.clauses:
        if isinstance(c, Word):
            terms = tuple(t for t in c.terms if t not in QUESTION_WORDS)
            if not terms:
                continue
            c = Word(c.text, terms)
        new.append(c)
    pq.clauses = new
