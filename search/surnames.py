"""One person, one page: a surname alone read as the full name the archive uses for it.

The extractor joins « Macron » to « Emmanuel Macron » inside a dispatch that names both; a
dispatch that says only « Macron » keeps the surname. Across the archive, such a surname is read
as the full name when that full name is unambiguous in the dispatch's period (its year and the
``PERIOD_YEARS`` either side): among the people whose name ends with the surname, the runner-up
is named in fewer than ``AMBIGUOUS_RATIO`` of the leader's dispatches of the period. When two
people share it (« Le Pen »: Marine and Jean-Marie, both named in the same years) the surname
stays apart; so does a word the archive also uses as a first name (« Julien »: « Julien Bayou »),
counted as a rival. Only a surname alone is joined (one word, or particles and one word: « Le Pen »),
never a full name into a longer one. An undated dispatch is read against the whole archive.

Applied to the people facet's (document, value) arrays when a snapshot opens, so facets,
filters, hits, documents and people pages agree; linear in the pairs, no second pass over text.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import arrays
from .facets import FacetIndex

PERIOD_YEARS = 1
# OrangeSum, 2016-2020, dispatches naming each full name: Brigitte Macron is named in 4.7 to 7.3 %
# as many dispatches as Emmanuel Macron in a year; Jean-Marie Le Pen in 9.5 to 26 % as many as
# Marine Le Pen (10.8 % or more over three years).
AMBIGUOUS_RATIO = 0.1
UNDATED = 0
MAX_GIVEN_NAMES = 3  # « Jean-Marie » folds to two words
# Particles and articles of surnames (« Le Pen », « de Gaulle », « von der Leyen »), folded.
PARTICLES = frozenset("de du des d la le les van von der den da di del della dos das do bin ben ibn al el y ter".split())
_YEARS = 100_000  # (key, year) packed as key * _YEARS + year


def _surname_alone(words: list[str]) -> bool:
    """A surname without given names: one word, or particles then one word (« le pen »)."""
    return words[-1] not in PARTICLES and all(w in PARTICLES for w in words[:-1])


class SurnameJoin:
    """Which full name a lone surname stands for, per year; the people facet with it applied."""

    def __init__(self, fi: FacetIndex, day: np.ndarray):
        self.keys = fi.keys
        self.key_ids = fi.key_ids
        self.by_year: dict[tuple[int, int], int] = {}  # (surname id, year) -> full name id
        self.aliases: dict[str, str] = {}  # surname key -> full name key, when every period agrees
        fuller, first_names = self._fuller_names(fi)
        if not fuller:
            self.facet = fi
            return
        year = (day // 10000).astype(np.int64)
        pair_year = year[fi.doc_of_pair] if len(fi.doc_of_pair) else np.zeros(0, np.int64)
        window = self._window_counts(fi, pair_year, {c for cs in [*fuller.values(), *first_names.values()] for c in cs})
        # Each (surname, year) that some dispatch has, decided once.
        surname_pairs = np.isin(fi.key_of_pair, np.asarray(sorted(fuller), dtype=np.int32))
        codes = arrays.sorted_unique(fi.key_of_pair[surname_pairs].astype(np.int64) * _YEARS + pair_year[surname_pairs])
        for code in codes.tolist():
            s, y = code // _YEARS, code % _YEARS
            leader = self._leader(fuller[s], first_names.get(s, []), window, y)
            if leader is not None:
                self.by_year[(s, y)] = leader
        resolved: dict[int, set[int]] = defaultdict(set)
        for (s, _), full in self.by_year.items():
            resolved[s].add(full)
        self.facet = self._apply(fi, pair_year)
        totals = np.bincount(self.facet.key_of_pair, minlength=len(self.facet.keys))
        for s, fulls in resolved.items():
            # Every dispatch of the surname went to one full name: the surname names that person.
            if len(fulls) == 1 and not totals[self.facet.key_ids[self.keys[s]]]:
                self.aliases[self.keys[s]] = self.keys[next(iter(fulls))]
        self.facet.aliases = self.aliases
        self.facet.namesakes = {self.keys[s]: [self.keys[c] for c in cands] for s, cands in fuller.items()}

    @staticmethod
    def _fuller_names(fi: FacetIndex) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """Surname id -> ids of the full names ending with it (« le pen » -> « marine le pen »…),
        and -> ids of the names it opens (« julien » -> « julien bayou »: then it is a first name)."""
        full: dict[int, list[int]] = defaultdict(list)
        opened: dict[int, list[int]] = defaultdict(list)
        key_ids = fi.key_ids
        for i, k in enumerate(fi.keys):
            if " " not in k:
                continue
            words = k.split()
            for j in range(1, min(len(words), MAX_GIVEN_NAMES + 1)):
                if words[j - 1] in PARTICLES:
                    break  # given names come before any particle: « leonard de » is none
                s = key_ids.get(" ".join(words[j:]))
                if s is not None and _surname_alone(words[j:]):
                    full[s].append(i)
            s = key_ids.get(words[0])
            if s is not None:
                opened[s].append(i)
        return full, {s: opened[s] for s in full if s in opened}

    @staticmethod
    def _window_counts(fi: FacetIndex, pair_year: np.ndarray, names: set[int]):
        """in_period(name id, year) -> dispatches naming it in the year's period (the whole archive for 0)."""
        ids = np.asarray(sorted(names), dtype=np.int32)
        row = np.full(len(fi.keys), -1, dtype=np.int64)
        row[ids] = np.arange(len(ids))
        years = arrays.sorted_unique(pair_year)
        sel = row[fi.key_of_pair] >= 0
        per_year = np.zeros((len(ids), len(years)), dtype=np.int64)
        np.add.at(per_year, (row[fi.key_of_pair[sel]], np.searchsorted(years, pair_year[sel])), 1)
        # period[a, b]: year a counts in year b's period (undated b: every year).
        dated = years != UNDATED
        period = (np.abs(years[:, None] - years[None, :]) <= PERIOD_YEARS) & dated[:, None] & dated[None, :]
        period[:, ~dated] = True
        table = (per_year @ period.astype(np.int64)).tolist()
        col = {int(y): i for i, y in enumerate(years.tolist())}
        return lambda name, y: table[row[name]][col[y]]

    @staticmethod
    def _leader(cands: list[int], others: list[int], in_period, year: int) -> int | None:
        """The full name the surname stands for in ``year``'s period, or None when it is shared, by
        another full name or by people whose first name it is (``others``: never its reading)."""
        ranked = sorted(((in_period(c, year), c) for c in cands), reverse=True)
        if not ranked or ranked[0][0] == 0:
            return None
        rivals = [n for n, _ in ranked[1:]] + [in_period(c, year) for c in others]
        if rivals and max(rivals) >= AMBIGUOUS_RATIO * ranked[0][0]:
            return None
        return ranked[0][1]

    def _apply(self, fi: FacetIndex, pair_year: np.ndarray) -> FacetIndex:
        """The facet with each resolved (document, surname) pair moved to its full name."""
        if not self.by_year:
            return fi
        code = fi.key_of_pair.astype(np.int64) * _YEARS + pair_year
        table = np.asarray(sorted(s * _YEARS + y for s, y in self.by_year), dtype=np.int64)
        target = np.asarray([self.by_year[(int(c) // _YEARS, int(c) % _YEARS)] for c in table], dtype=np.int32)
        at = np.minimum(np.searchsorted(table, code), len(table) - 1)
        hit = table[at] == code
        keys = fi.key_of_pair.copy()
        keys[hit] = target[at[hit]]
        # A dispatch that had both the surname and the full name keeps one pair.
        code = arrays.sorted_unique(fi.doc_of_pair.astype(np.int64) * len(fi.keys) + keys)
        return FacetIndex.from_pairs(list(fi.keys), (code // len(fi.keys)).astype(np.int32),
                                     (code % len(fi.keys)).astype(np.int32), fi.n_docs)

    def names(self, keys: list[str], day: int) -> list[str]:
        """A dispatch's stored people keys as the facet reads them (surnames joined), in order."""
        if not self.by_year:
            return list(keys)
        year = int(day) // 10000
        out: list[str] = []
        for k in keys:
            i = self.key_ids.get(k)
            full = self.by_year.get((i, year)) if i is not None else None
            k = self.keys[full] if full is not None else k
            if k not in out:
                out.append(k)
        return out
