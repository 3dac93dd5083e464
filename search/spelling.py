"""Spelling correction from the archive's own words: what a French typist most likely meant.

The index keeps stems, and stems hide typos (``Philipe`` and ``Philip`` share ``philip``), so
the writer also counts the folded *words* of every dispatch (``words.tsv.gz`` in the
generation). From that table a ``Speller`` answers, for a typed word, the archive word it most
likely stands for:

* candidates come from a deletion index in the SymSpell manner, built once per generation:
  every word and its one-letter deletions, hashed into one sorted numpy array. A typed word's
  deletions (up to two) are looked up there, so the work per word is O(length²) hash look-ups,
  whatever the size of the archive, and a word longer than ``MAX_WORD`` is never looked at;
* each candidate is weighed as a French typist's error (``typing_cost``): a doubled or
  undoubled consonant costs less than another edit; accents cost nothing (folded away);
* the winner maximises ``log(count) - COST_WEIGHT * cost`` (a noisy channel: a frequent word
  one cheap error away beats a rare one at the same distance).

A word the archive contains is never corrected automatically (``Speller.correct``), only
offered as a suggestion when a far more frequent spelling is one error away
(``Speller.suggest``).
"""
from __future__ import annotations

import gzip
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from rapidfuzz.distance import OSA

from .analysis import stem
from .folding import fold

WORDS_FILE = "words.tsv.gz"
MIN_WORD = 4  # shorter words have too many neighbours to correct
MAX_WORD = 25  # « anticonstitutionnellement »; longer is not a word anyone mistyped
MIN_TARGET_COUNT = 2  # a word seen once is as likely a typo in the archive as a target
MAX_CANDIDATES = 400
# log-count points one unit of typing cost is worth: a word one more plain edit away must be
# e^COST_WEIGHT times more frequent to win. Tuned with bench/spelling_accuracy.py on half A of
# the misspelling set (A 0.906, B 0.907), against false corrections of real words the archive
# lacks (12 of 88 PIAF words).
COST_WEIGHT = 7.0
DOUBLING_COST = 0.5  # « Philipe » for « Philippe », « apeller » for « appeler »
TRANSPOSITION_COST = 0.75  # two letters typed in the wrong order
NEIGHBOUR_COST = 0.75  # a key next to the right one on a French (AZERTY) keyboard
# The same sounds spelt otherwise (« telefone », « impopulère », « vaisseo »): one error for
# the person typing, however many letters differ.
PHONETIC_COST = 0.75
EDIT_COST = 1.0
AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")
# French spellings of one sound, rewritten in this order to one key (after folding).
SOUNDS = (
    ("eau", "o"), ("au", "o"), ("ph", "f"), ("qu", "k"), ("ck", "k"), ("c(?=[aou])", "k"),
    ("ai", "e"), ("ei", "e"), ("en", "an"), ("em(?=[bp])", "an"), ("am(?=[bp])", "an"), ("y", "i"),
    ("th", "t"), ("(?<=[aeiou])s(?=[aeiou])", "z"), ("h", ""),
)
# The typed form itself, when its stem is in the index: an unseen inflection (« ukrainiennes »)
# is kept unless a clearly better-explained word is close.
KEEP_COST = 0.5
# A word the archive has, but rarely, is only *suggested* as another when that one is this much
# more frequent (and one cheap error away).
SUGGEST_RATIO = 50
SUGGEST_MAX_OWN = 3

_WORD_CHARS = re.compile(r"[^\W\d_]+")
_DOUBLE = re.compile(r"(.)\1+")
_SOUNDS = [(re.compile(a), b) for a, b in SOUNDS]
_FINAL = re.compile(r"(?:es|e|s|t|x|z|d)$")
PHONETIC_MARK = "\x00"  # keeps phonetic keys apart from spellings in the deletion index


def _neighbours() -> dict[str, frozenset]:
    pos = {c: (r, i) for r, row in enumerate(AZERTY_ROWS) for i, c in enumerate(row)}
    return {c: frozenset(d for d, (r2, i2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(i2 - i) <= 1)
            for c, (r, i) in pos.items()}


NEIGHBOURS = _neighbours()


# ---------------------------------------------------------------- the word table


def count_words(text: str, counts: Counter) -> None:
    """Add the raw tokens of ``text`` to ``counts``: split in C, cleaned once per distinct token."""
    counts.update(text.split())


def folded_counts(counts: Counter) -> Counter:
    """Counts keyed by folded letter word (``États,`` and ``etats`` together), plausible lengths only."""
    out: Counter = Counter()
    for token, c in counts.items():
        for w in _WORD_CHARS.findall(token):
            if MIN_WORD - 1 <= len(w) <= MAX_WORD + 2:
                out[fold(w)] += c
    return out


def write_words(gen_dir: Path, counts: Counter) -> None:
    """Write the generation's word table atomically (``word<TAB>count`` lines, gzipped)."""
    path = Path(gen_dir) / WORDS_FILE
    tmp = path.with_name(path.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=5) as fh:
        for w, c in sorted(counts.items()):
            if "\t" not in w and "\n" not in w:
                fh.write(f"{w}\t{c}\n")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_words(gen_dir: Path) -> Counter:
    """The generation's word table; empty when it has none (an index built before it existed)."""
    out: Counter = Counter()
    try:
        with gzip.open(Path(gen_dir) / WORDS_FILE, "rt", encoding="utf-8") as fh:
            for line in fh:
                w, _, c = line.rstrip("\n").partition("\t")
                if w and c.isdigit():
                    out[w] = int(c)
    except (OSError, EOFError, UnicodeDecodeError):
        return Counter()
    return out


def merge_words(gen_dir: Path, added: Counter) -> None:
    """Add the folded counts (``folded_counts``) of newly indexed dispatches to the generation's table."""
    counts = read_words(gen_dir)
    counts.update(added)
    write_words(gen_dir, counts)


# ---------------------------------------------------------------- typing errors


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def squeeze(word: str) -> str:
    """The word with runs of one letter written once (``philippe`` → ``philipe``)."""
    return _DOUBLE.sub(r"\1", word)


def sound(word: str) -> str:
    """A rough French phonetic key of a folded word (``telephones`` and ``telefone`` agree)."""
    key = word
    for pattern, repl in _SOUNDS:
        key = pattern.sub(repl, key)
    key = squeeze(key)
    return _FINAL.sub("", key) if len(key) > 3 else key


def typing_cost(typed: str, word: str) -> float:
    """How unlikely ``typed`` is as a typing of ``word`` (both folded): 0 same, ~1 per edit."""
    if typed == word:
        return 0.0
    if squeeze(typed) == squeeze(word):
        # Only doublings differ: each differing run counts once, cheaply.
        runs = sum(1 for a, b in zip(_runs(typed), _runs(word)) if a != b)
        return DOUBLING_COST * max(runs, 1)
    d = OSA.distance(typed, word)
    if d == 1 and len(typed) == len(word):
        if sorted(typed) == sorted(word):
            return TRANSPOSITION_COST
        i = next(i for i, (a, b) in enumerate(zip(typed, word)) if a != b)
        if typed[i] in NEIGHBOURS.get(word[i], ()):
            return NEIGHBOUR_COST
    cost = EDIT_COST * d
    if cost > PHONETIC_COST and sound(typed) == sound(word):
        return PHONETIC_COST
    return cost


def _runs(word: str) -> list[int]:
    return [len(m.group()) for m in re.finditer(r"(.)\1*", word)]


def max_cost(typed: str) -> float:
    """The most typing cost a correction of a word this long may have."""
    return EDIT_COST if len(typed) < 6 else 2 * EDIT_COST


@dataclass(frozen=True)
class Spelling:
    """A proposed spelling: the archive word, its count, and its cost as a typing of the query word."""

    word: str
    count: int
    cost: float

    @property
    def score(self) -> float:
        return math.log(self.count) - COST_WEIGHT * self.cost


class Speller:
    """The deletion index of one generation's words; read-only, safe to share between threads."""

    def __init__(self, counts: Counter):
        targets = [w for w, c in counts.items() if c >= MIN_TARGET_COUNT and MIN_WORD - 1 <= len(w) <= MAX_WORD + 2 and w.isalpha()]
        self.words = targets
        self.counts = counts
        keys: list[int] = []
        ids: list[int] = []
        for i, w in enumerate(targets):
            variants = _deletes(w)
            variants.add(w)
            variants.add(PHONETIC_MARK + sound(w))
            keys.extend(map(hash, variants))
            ids.extend([i] * len(variants))
        key_arr = np.asarray(keys, dtype=np.int64)
        order = np.argsort(key_arr, kind="stable")
        self._keys = key_arr[order]
        self._ids = np.asarray(ids, dtype=np.int32)[order]

    def __contains__(self, word: str) -> bool:
        return self.counts.get(word, 0) > 0

    def count(self, word: str) -> int:
        return self.counts.get(word, 0)

    def candidates(self, typed: str) -> list[Spelling]:
        """Archive words within a plausible typing error of ``typed`` (folded), best first."""
        if not (MIN_WORD <= len(typed) <= MAX_WORD) or not typed.isalpha():
            return []
        probes = {typed} | _deletes(typed)
        if len(typed) >= 6:
            probes |= {d2 for d in list(probes) for d2 in _deletes(d)}
        probes.add(PHONETIC_MARK + sound(typed))
        hashes = np.fromiter(map(hash, probes), dtype=np.int64, count=len(probes))
        lo = np.searchsorted(self._keys, hashes, side="left")
        hi = np.searchsorted(self._keys, hashes, side="right")
        found: set[int] = set()
        for a, b in zip(lo.tolist(), hi.tolist()):
            if b > a:
                found.update(self._ids[a:b].tolist())
                if len(found) > MAX_CANDIDATES:
                    break
        limit = max_cost(typed)
        out = []
        for i in found:
            w = self.words[i]
            if w == typed or abs(len(w) - len(typed)) > 3:
                continue
            cost = typing_cost(typed, w)
            if cost <= limit or cost == PHONETIC_COST:
                out.append(Spelling(w, self.counts[w], cost))
        out.sort(key=lambda s: (-s.score, s.word))
        return out

    def correct(self, typed: str, stem_df: int = 0) -> Spelling | None:
        """The word ``typed`` stands for when the archive never has it as typed; None to keep it.

        ``stem_df``: documents having the typed word's stem. An unseen inflection of a known
        stem is kept unless a better-explained word with another stem is close.
        """
        if typed in self:
            return None
        own_stem = stem(typed)
        keep = (math.log(stem_df) - COST_WEIGHT * KEEP_COST) if stem_df > 0 else None
        for cand in self.candidates(typed):
            if stem(cand.word) == own_stem:
                return None  # the best explanation is the word's own stem: nothing to correct
            if keep is not None and cand.score <= keep:
                return None
            return cand
        return None

    def suggest(self, typed: str) -> Spelling | None:
        """A much more frequent spelling one cheap error from a rare word the archive has, or None."""
        own = self.count(typed)
        if own == 0 or own > SUGGEST_MAX_OWN:
            return None
        own_stem = stem(typed)
        for cand in self.candidates(typed):
            if cand.cost <= EDIT_COST and cand.count >= SUGGEST_RATIO * own and stem(cand.word) != own_stem:
                return cand
            break
        return None


def build(gen_dir: Path) -> Speller:
    """The speller of a generation (empty when the generation has no word table)."""
    return Speller(read_words(gen_dir))


def words_of(texts: Iterable[str]) -> Counter:
    """Folded word counts of some texts (tests and small updates)."""
    counts: Counter = Counter()
    for t in texts:
        count_words(t, counts)
    return folded_counts(counts)
