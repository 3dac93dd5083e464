"""Autocomplete and prefix expansion from the index's own vocabulary, and the words to show.

The index stores stems of folded words. A ``Vocabulary`` (every stem of the text fields with
its document frequency, read from the term index once per searcher, about half a second for
OrangeSum) gives the stems starting with a prefix, most frequent first. Spelling correction
works on words, not stems, and lives in ``spelling``.

Stems are not words: the word shown (``défense``, ``Stoltenberg``) is the most frequent
surface form of the stem in a few documents that contain it, with its accents and case,
read from the stored text by the engine and cached per searcher.
"""
from __future__ import annotations

import bisect
from collections import Counter
from typing import Callable

import numpy as np

from .folding import fold

_AFTER_EVERY_CHARACTER = "\U0010ffff"


class Vocabulary:
    """Stems of the text fields with their document frequency, sorted for prefix lookups."""

    def __init__(self, df: dict[str, int]):
        self.df = df
        self.sorted = sorted(df)
        self._freqs = np.fromiter((df[t] for t in self.sorted), dtype=np.int64, count=len(self.sorted))

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def frequency(self, term: str) -> int:
        return self.df.get(term, 0)

    def with_prefix(self, prefix: str, limit: int = 50) -> list[str]:
        """Stems starting with ``prefix``, most frequent first."""
        if not prefix:
            return []
        i = bisect.bisect_left(self.sorted, prefix)
        j = bisect.bisect_left(self.sorted, prefix + _AFTER_EVERY_CHARACTER, i)
        if j - i <= limit:
            picked = range(i, j)
        else:
            # The ``limit`` most frequent without sorting them all (a two-letter prefix has
            # thousands of stems); ties at the cut go to the first terms alphabetically.
            f = self._freqs[i:j]
            cut = np.partition(f, len(f) - limit)[len(f) - limit]
            above = np.flatnonzero(f > cut)
            ties = np.flatnonzero(f == cut)[: limit - len(above)]
            picked = (np.concatenate([above, ties]) + i).tolist()
        out = [self.sorted[k] for k in picked]
        out.sort(key=lambda t: (-self.df[t], t))
        return out[:limit]

    def completions(self, folded_prefix: str, limit: int = 50) -> list[str]:
        """Stems of words that may start with ``folded_prefix`` (the prefix may run past the stem)."""
        out = self.with_prefix(folded_prefix, limit)
        # "muniti" is longer than the stem "munit" of "munitions": shorter stems count too.
        for cut in range(len(folded_prefix) - 1, max(3, len(folded_prefix) - 3) - 1, -1):
            t = folded_prefix[:cut]
            if t in self.df and t not in out:
                out.append(t)
        out.sort(key=lambda t: (-self.df[t], t))
        return out[:limit]


def word_display(forms: Counter, want: str | None = None) -> str | None:
    """The form to show for a word: the right spelling, lower case unless it is a name, accented.

    ``forms`` counts surface forms (``Défense``, ``défense``, ``defense``...) of one stem;
    ``want`` (a folded spelling) restricts them to that spelling when it occurs.
    """
    if not forms:
        return None
    if want:
        exact = Counter({f: c for f, c in forms.items() if fold(f) == want})
        if exact:
            forms = exact
    # The spelling (folded) seen most often, then its best form.
    by_fold: Counter = Counter()
    for f, c in forms.items():
        by_fold[fold(f)] += c
    spelling = max(by_fold.items(), key=lambda kv: (kv[1], kv[0]))[0]
    group = {f: c for f, c in forms.items() if fold(f) == spelling}
    total = sum(group.values())
    lower = {f: c for f, c in group.items() if f[:1].islower() or not f[:1].isalpha()}
    # Sentence-initial capitals are common: a word is a name only if it is rarely lower case.
    pool = lower if sum(lower.values()) * 4 >= total else {f: c for f, c in group.items() if f not in lower}
    if not pool:
        pool = group
    accented = {f: c for f, c in pool.items() if not f.isascii()}
    if accented and sum(accented.values()) * 5 >= sum(pool.values()):
        pool = accented
    form = max(pool.items(), key=lambda kv: (kv[1], kv[0]))[0]
    if form.isupper() and len(form) > 1 and sum(lower.values()):
        form = form.lower()
    return form


def complete(vocab: Vocabulary, prefix: str, display: Callable[[str, str], str | None], limit: int) -> list[str]:
    """Words starting with ``prefix`` (accents and case ignored), most frequent first."""
    folded = fold(prefix.strip())
    if len(folded) < 2 or not folded.replace("-", "").replace("'", "").isalnum():
        return []
    out: list[str] = []
    seen = set()
    for term in vocab.completions(folded, limit * 2):
        word = display(term, folded)
        if not word or not fold(word).startswith(folded):
            continue
        key = fold(word)
        if key in seen:
            continue
        seen.add(key)
        out.append(word)
        if len(out) >= limit:
            break
    return out
