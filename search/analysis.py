"""The French analyzer: one definition, used to index documents and to parse queries.

Rules, in the order they apply to each word of the text:

1. Words are runs of letters and digits; ``'``, ``’`` and ``-`` inside a word split it
   (``Pays-Bas`` gives ``pays`` ``bas`` at consecutive positions, so the phrase still holds).
2. Elision: ``l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu' quoiqu' presqu'`` in front of a
   word are dropped; ``aujourd'hui`` stays one word.
3. Acronyms with dots (``O.N.U.``) are joined (``onu``); a number glued to a unit (``155mm``)
   splits into ``155`` ``mm``; digit groups keep their separator (``134.700``, ``15,6`` → ``15.6``).
4. Case and accent folding with ``unidecode`` (``États`` → ``etats``, ``cœur`` → ``coeur``).
5. A French stop list of our own (function words only: ``est``, ``son``, ``été`` are kept).
6. French Snowball stemming (PyStemmer), applied to the folded word so that a query typed
   without accents meets the same stem as the accented text (``-ee``, ``-iere``, ``-erent``
   get their accent back first: Snowball's rules for them need it).

A text that is not French (an agency item in English, German...) is analysed by the neutral
variant of the same rules: words, splits and folding (1-4), no stop list, no stemming. Whoosh
gives a field one analyzer, so the writer puts a language mark in front of such a value
(``mark_language``: ``\x1fen\x1f`` + text; the stored value is the text alone) and the
tokenizer, on seeing it, skips steps 5 and 6. Its terms are folded words (``elections``), beside
the French stems (``election``) of the other documents in the same fields: a query word is
searched as its French stem and, in non-French documents, as its folded word (``neutral_terms``).

``SCHEMA_VERSION`` changes whenever any rule changes, or the index gains a file that search
needs (``fr-8``: the word table of spelling correction; ``fr-9``: the text postings laid out by
Dépêche's own writer): an index built with another version is
refused until it is rebuilt.
"""
from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from whoosh.analysis import Composable, Token, Tokenizer
from whoosh.formats import Positions

from .folding import fold, fold_key  # noqa: F401 - fold_key is re-exported

SCHEMA_VERSION = "fr-9"

# Function words only. Whoosh's lang="fr" list also drops English words (as, son, est...).
STOP_WORDS = frozenset(
    """
    a au aux avec ce ces cet cette c d de des du elle elles en et eux il ils j je l la le les
    leur leurs lui m ma mais me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s
    sa se ses si sur t ta te tes toi ton tu un une vos votre vous y dans ni ont sont etait
    etaient aussi donc or car cela ca celle celui ceux celles dont lors plus
    """.split()
)

ELIDED = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu quelqu".split())
# Words where the apostrophe is part of the word, not an elision.
APOSTROPHE_WORDS = frozenset(["aujourd'hui", "prud'homme", "prud'hommes", "prud'homal", "prud'homale"])

# A word: letters/digits, with internal apostrophes, hyphens and dotted acronyms kept together
# so that the rules above can look at the whole thing.
_WORD = re.compile(
    r"(?:[^\W\d_]{1,7}['’])?(?:[^\W\d_]\.){2,}(?:[^\W\d_](?![^\W_]))?"  # dotted acronym O.N.U., maybe elided
    r"|\d+(?:[.,]\d+)*"  # number with groups
    r"|[^\W_]+(?:['’\-‐‑][^\W_]+)*",  # word, maybe with apostrophes/hyphens
    re.UNICODE,
)
# The same without the dotted acronym, which needs a letter, a dot, a letter and a dot: a text
# without any such dot (``_may_hold_acronym``) is split by this one, a third faster, with the
# same words (the acronym alternative, tried first everywhere, can match nowhere in it).
_PLAIN_WORD = re.compile(
    r"\d+(?:[.,]\d+)*"
    r"|[^\W_]+(?:['’\-‐‑][^\W_]+)*",
    re.UNICODE,
)
_SPLIT = re.compile(r"['’\-‐‑]")
_DIGITS_LETTERS = re.compile(r"\d+|[^\W\d_]+")

_stemmer = Stemmer.Stemmer("french")


# Snowball's French rules for these endings need their accents (``adoptée`` and ``adopté``
# share a stem, ``adoptee`` and ``adopte`` would not): they are put back before stemming.
_ACCENTED_ENDING = re.compile(r"(ees|ee|ieres|iere|erent)$")
_ACCENTED = {"ees": "ées", "ee": "ée", "ieres": "ières", "iere": "ière", "erent": "èrent"}


def _may_hold_acronym(text: str) -> bool:
    """Whether ``text`` has a dot between word characters with another dot two on: any dotted
    acronym does (str.isalnum is what the patterns' word class holds, the underscore aside)."""
    i = text.find(".", 1)
    while i != -1:
        if text[i + 2 : i + 3] == "." and text[i - 1].isalnum() and text[i + 1].isalnum():
            return True
        i = text.find(".", i + 1)
    return False


def word_pattern(text: str) -> re.Pattern:
    """The pattern splitting ``text`` into words: ``_WORD``, or the faster one when no dotted acronym can be in it."""
    return _WORD if _may_hold_acronym(text) else _PLAIN_WORD


@lru_cache(maxsize=500_000)
def stem(folded: str) -> str:
    """Stem an already folded word; numbers and very short words are left alone."""
    if len(folded) <= 2 or folded[0].isdigit():
        return folded
    m = _ACCENTED_ENDING.search(folded)
    if m is None or m.start() < 2:
        return _stemmer.stemWord(folded)
    return fold(_stemmer.stemWord(folded[: m.start()] + _ACCENTED[m.group()]))


def _pieces(match_text: str, start: int):
    """Split one regex match into (text, startchar, endchar) pieces, applying elision and unit splits."""
    if match_text[0].isdigit():
        yield match_text.replace(",", "."), start, start + len(match_text)
        return
    if "." in match_text:  # dotted acronym: the mark covers all of "O.N.U."
        head, apo, acronym = match_text.rpartition("'") if "'" in match_text else match_text.rpartition("’")
        if apo and fold(head) not in ELIDED:
            yield head, start, start + len(head)
        offset = start + len(head) + len(apo)
        yield acronym.replace(".", ""), offset, start + len(match_text)
        return
    low = match_text.lower().replace("’", "'")
    if low in APOSTROPHE_WORDS:
        yield match_text.replace("’", "'"), start, start + len(match_text)
        return
    pos = start
    parts = _SPLIT.split(match_text)
    seps = _SPLIT.findall(match_text)
    for i, part in enumerate(parts):
        sep = seps[i] if i < len(seps) else ""
        if sep in ("'", "’") and fold(part) in ELIDED:
            pos += len(part) + 1
            continue
        if part:
            if any(c.isdigit() for c in part) and not part.isdigit():
                for m in _DIGITS_LETTERS.finditer(part):
                    yield m.group(), pos + m.start(), pos + m.end()
            else:
                yield part, pos, pos + len(part)
        pos += len(part) + 1


@lru_cache(maxsize=200_000)
def _analyze_word(match_text: str) -> tuple:
    """(offset, endoffset, term, surface) for each indexable piece of one word."""
    out = []
    for piece, offset, end in _pieces(match_text, 0):
        folded = fold(piece)
        if not folded or folded in STOP_WORDS:
            continue
        out.append((offset, end, stem(folded), folded))
    return tuple(out)


@lru_cache(maxsize=200_000)
def _analyze_word_neutral(match_text: str) -> tuple:
    """The same pieces, folded only: no stop list, no stemming (texts that are not French)."""
    return tuple((offset, end, folded, folded) for piece, offset, end in _pieces(match_text, 0) if (folded := fold(piece)))


# In front of a text field value: the text is in another language than French (see above).
LANGUAGE_MARK = "\x1f"
_MARKED = re.compile(r"\x1f([a-z]{2,3})\x1f")


def mark_language(text: str, language: str | None) -> str:
    """``text`` as given to the index: marked for the neutral analysis unless it is French (or unknown)."""
    if not language or language == "fr" or not text:
        return text
    return f"{LANGUAGE_MARK}{language}{LANGUAGE_MARK}{text}"


def _split_mark(value: str):
    """(word analysis, text, offset of the text in ``value``)."""
    if value.startswith(LANGUAGE_MARK):
        m = _MARKED.match(value)
        if m:
            return _analyze_word_neutral, value[m.end():], m.end()
    return _analyze_word, value, 0


@lru_cache(maxsize=200_000)
def _word_terms(match_text: str) -> tuple:
    """The terms of one word (``_analyze_word``'s, alone: what indexing needs)."""
    return tuple(t[2] for t in _analyze_word(match_text))


@lru_cache(maxsize=200_000)
def _word_terms_neutral(match_text: str) -> tuple:
    return tuple(t[2] for t in _analyze_word_neutral(match_text))


def _term_analysis(text: str):
    """(terms of a word, text) for a text field value, marked or not."""
    analyze, text, _ = _split_mark(text)
    return (_word_terms if analyze is _analyze_word else _word_terms_neutral), text


def terms(text: str) -> list[str]:
    """The analyzed terms of a text, in order (what the index stores)."""
    word_terms, text = _term_analysis(text)
    out: list[str] = []
    for w in word_pattern(text).findall(text):
        out.extend(word_terms(w))
    return out


def neutral_terms(text: str) -> list[str]:
    """The terms a text that is not French would be indexed as: folded words, stop words kept."""
    return [t[2] for m in word_pattern(text).finditer(text) for t in _analyze_word_neutral(m.group())]


def tokens(text: str):
    """Yield (term, position, startchar, endchar) for every indexed word of ``text``."""
    analyze, text, shift = _split_mark(text)
    pos = 0
    for m in word_pattern(text).finditer(text):
        base = m.start() + shift
        for off, end, term, _ in analyze(m.group()):
            yield term, pos, base + off, base + end
            pos += 1


def surface_terms(text: str) -> list[tuple[str, str]]:
    """(folded unstemmed word, stemmed term) pairs, used by spelling suggestions."""
    return [(t[3], t[2]) for m in word_pattern(text).finditer(text) for t in _analyze_word(m.group())]


class FrenchTokenizer(Tokenizer):
    """Whoosh tokenizer applying every rule of this module in a single pass."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for term, pos, sc, ec in tokens(value):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[sc:ec]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + sc
                t.endchar = start_char + ec
            yield t


def FrenchAnalyzer() -> Composable:
    """The analyzer stored in the schema (a tokenizer doing all the work, for speed)."""
    return FrenchTokenizer()


def positions_by_term(text: str) -> dict[str, list[int]]:
    """Each term of ``text`` with the positions where it occurs."""
    poses: dict[str, list[int]] = {}
    for pos, t in enumerate(terms(text)):
        lst = poses.get(t)
        if lst is None:
            poses[t] = [pos]
        else:
            lst.append(pos)
    return poses


class FrenchPositions(Positions):
    """Whoosh's Positions format, fed straight from ``positions_by_term``.

    Whoosh's generic path builds a Token object per word; skipping it makes indexing about
    twice as fast, and the postings written are byte-for-byte the same.
    """

    def word_values(self, value, analyzer, **kwargs):
        if not isinstance(analyzer, FrenchTokenizer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        for w, poslist in positions_by_term(value).items():
            yield (w, len(poslist), len(poslist) * fb, self.encode(poslist))
