"""Every way Dépêche folds text (case, accents, ligatures), in one place.

* ``fold``: what the index stores and queries are matched by: lower case, transliterated to
  ASCII (``États`` → ``etats``, ``Αθήνα`` → ``athena``, ``œ`` → ``oe``);
* ``fold_key``: the key of a name (facet values, entities, sources): ``fold`` with punctuation
  turned into single spaces (``États-Unis`` → ``etats unis``);
* ``fold_words``: how the entity word lists are compared: accents off and case folded, other
  scripts kept as they are (``Москва`` stays Cyrillic), ligatures spelt out;
* ``one_for_one``: the per-character table of ``fold`` for Latin letters, one character for one,
  so that offsets found in folded text are offsets in the text (snippets, marks);
* ``ascii_slug``: words of a text as an ASCII file-name part.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

_WORDS = re.compile(r"\w+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=500_000)
def fold(word: str) -> str:
    """Lower-case and strip accents; œ/æ become oe/ae."""
    if word.isascii():
        return word.lower()
    return unidecode(word).lower()


@lru_cache(maxsize=200_000)
def fold_key(value: str) -> str:
    """Case/accent/punctuation-insensitive key of a name (facet values, entities): 'États-Unis' → 'etats unis'."""
    return " ".join(_WORDS.findall(fold(value)))


@lru_cache(maxsize=1 << 17)
def fold_words(s: str) -> str:
    """``s`` without accents, case-folded, ligatures spelt out: how the word lists are compared."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return s.replace("œ", "oe").replace("æ", "ae")


def one_for_one() -> dict[int, str]:
    """Code point → the first ASCII letter ``fold`` turns it into (œ: o), for the Latin letters
    up to U+024F and A–Z; characters folding to no letter are left out."""
    table = {}
    for cp in range(0x80, 0x250):
        c = chr(cp)
        f = unidecode(c).lower()
        if c.isalpha() and f[:1].isalpha():
            table[cp] = f[0]
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[ord(c)] = c.lower()
    return table


def ascii_slug(text: str) -> str:
    """``text`` in lower-case ASCII words joined by hyphens (empty if it has none)."""
    return _NOT_SLUG.sub("-", unidecode(text).lower()).strip("-")
