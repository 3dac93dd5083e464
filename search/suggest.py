"""Spelling suggestions ("did you mean") and autocomplete, from the index's own vocabulary.

The index stores stems of folded words. A ``Vocabulary`` (every stem of the text fields with
its document frequency, read from the term index once per searcher, about half a second for
OrangeSum) answers two questions:

* correction: a query word whose stem is absent or very rare is compared with its spelling
  variants at edit distance 1 (deletions, transpositions, substitutions, insertions of the
  folded word: ``munitons`` → ``munitions``, ``defence`` → ``defense``), and at distance 2 for
  longer words; the variant whose stem is most frequent wins;
* completion: stems starting with a prefix, most frequent first.

Stems are not words: the word shown (``défense``, ``Stoltenberg``) is the most frequent
surface form of the stem in a few documents that contain it, with its accents and case,
read from the stored text by the engine and cached per searcher.
"""
from __future__ import annotations

import bisect
from collections import Counter
from typing import Callable

from .analysis import fold, stem

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edits1(word: str) -> set[str]:
    """Every string at edit distance 1 of ``word`` (a folded word)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in LETTERS if c != b[0]]
    inserts = [a + c + b for a, b in splits for c in LETTERS]
    return set(deletes + transposes + replaces + inserts)


class Vocabulary:
    """Stems of the text fields with their document frequency, sorted for prefix lookups."""

    def __init__(self, df: dict[str, int]):
        self.df = df
        self.sorted = sorted(df)

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def frequency(self, term: str) -> int:
        return self.df.get(term, 0)

    def with_prefix(self, prefix: str, limit: int = 50) -> list[str]:
        """Stems starting with ``prefix``, most frequent first."""
        if not prefix:
            return []
        i = bisect.bisect_left(self.sorted, prefix)
        out = []
        while i < len(self.sorted) and self.sorted[i].startswith(prefix):
            out.append(self.sorted[i])
            i += 1
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

    def correction(self, folded_word: str) -> tuple[str, str] | None:
        """(stem, spelling) of the best correction of a folded word, or None if it looks right."""
        own = self.df.get(stem(folded_word), 0)
        if own >= 4 or len(folded_word) < 4 or folded_word.isdigit():
            return None
        first = edits1(folded_word)
        best = self._best(first, folded_word)
        if best is None and own == 0 and len(folded_word) >= 6:
            # Distance 2, cheaply: a second deletion or transposition of every variant.
            cands = set()
            for v in first:
                cands.update(v[:i] + v[i + 1 :] for i in range(len(v)))
                cands.update(v[:i] + v[i + 1] + v[i] + v[i + 2 :] for i in range(len(v) - 1))
            best = self._best(cands - first, folded_word)
        if best is None:
            return None
        term, spelling, freq = best
        # A rare word is left alone unless the variant is much more frequent.
        if own and freq < 50 * own:
            return None
        return term, spelling

    def _best(self, candidates, original: str):
        best = None
        own_stem = stem(original)
        for c in candidates:
            t = stem(c)
            if t == own_stem:
                continue
            f = self.df.get(t, 0)
            if f and (best is None or (f, c) > (best[2], best[1])):
                best = (t, c, f)
        return best


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
