"""Spelling correction: the archive's words, French typing errors, bounded work per word."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from search import spelling

# Counts as a newsroom archive has them: a frequent name beside a rare homonym, a verb and
# its forms, a rare word that exists as typed.
WORDS = Counter({
    "philippe": 120, "philip": 9, "edouard": 60, "stoltenberg": 40, "munitions": 80, "munition": 20,
    "appeler": 50, "appelle": 30, "manifestation": 200, "manifestations": 90, "defense": 70,
    "pangolin": 2, "pagnol": 12, "ukrainienne": 30, "ukrainiens": 25, "vilnius": 15,
    "gouvernement": 300, "gouverneur": 8, "macron": 500,
})


@pytest.fixture(scope="module")
def speller():
    return spelling.Speller(WORDS)


@pytest.mark.parametrize("typed,meant", [
    ("philipe", "philippe"),        # a doubled consonant typed once
    ("apeller", "appeler"),         # doubled in the wrong place
    ("stoltemberg", "stoltenberg"),  # one wrong letter
    ("munitons", "munitions"),      # one letter left out
    ("manifestatoin", "manifestation"),  # two letters swapped
    ("gouvernment", "gouvernement"),
    ("vilnuis", "vilnius"),
])
def test_a_word_the_archive_lacks_is_read_as_what_a_typist_meant(speller, typed, meant):
    got = speller.correct(typed)
    assert got is not None and got.word == meant


def test_a_word_the_archive_has_is_never_corrected(speller):
    for word in WORDS:
        assert speller.correct(word) is None, word
    # « pangolin » is rare and one letter-swap from nothing frequent: kept as typed.
    assert speller.suggest("pangolin") is None


def test_a_rare_word_is_only_suggested_when_a_far_more_frequent_one_is_one_error_away():
    sp = spelling.Speller(Counter({"philipe": 2, "philippe": 150, "macron": 500, "macrons": 1}))
    assert sp.correct("philipe") is None  # the archive has it: not corrected automatically
    assert sp.suggest("philipe").word == "philippe"
    assert sp.suggest("philippe") is None  # frequent words get no suggestion


def test_an_unseen_inflection_of_a_known_stem_is_kept(speller):
    # « ukrainiennes » is not in the archive as typed, but its stem is: nothing better is close.
    assert speller.correct("ukrainiennes", stem_df=55) is None


def test_doubling_costs_less_than_another_edit():
    assert spelling.typing_cost("philipe", "philippe") == spelling.DOUBLING_COST
    assert spelling.typing_cost("manifestatoin", "manifestation") == spelling.TRANSPOSITION_COST
    assert spelling.typing_cost("munotions", "munitions") == spelling.NEIGHBOUR_COST  # o is next to i
    assert spelling.typing_cost("mubitions", "munitions") == spelling.NEIGHBOUR_COST
    assert spelling.typing_cost("murtions", "munitions") == 2 * spelling.EDIT_COST
    assert spelling.typing_cost("philipe", "philippe") < spelling.typing_cost("philipe", "philip")
    # The same sounds spelt otherwise count as one error.
    assert spelling.typing_cost("telefones", "telephones") == spelling.PHONETIC_COST
    assert spelling.typing_cost("impopulere", "impopulaire") == spelling.PHONETIC_COST
    # The frequent spelling one cheap error away wins over the rare one a plain edit away.
    sp = spelling.Speller(Counter({"philippe": 120, "philip": 9}))
    assert sp.correct("philipe").word == "philippe"


def test_only_plausible_words_are_looked_at(speller):
    assert speller.correct("abc") is None  # too short to correct safely
    assert speller.candidates("m" * 40) == []
    assert speller.candidates("stoltenberg2") == []


@pytest.mark.parametrize("length", [25, 26, 100, 1000])
def test_the_cost_of_a_word_is_bounded_whatever_its_length(speller, length):
    word = ("anticonstitutionnellement" * 40)[:length]
    t0 = time.perf_counter()
    speller.correct(word)
    speller.suggest(word)
    assert time.perf_counter() - t0 < 0.05


def test_word_table_round_trip_and_merge(tmp_path):
    counts = spelling.words_of(["L'Alliance atlantique, l'ALLIANCE et États-Unis.", "Les États-Unis"])
    assert counts["alliance"] == 2 and counts["etats"] == 2 and counts["unis"] == 2
    assert "l" not in counts  # too short to matter
    spelling.write_words(tmp_path, counts)
    assert spelling.read_words(tmp_path) == counts
    added: Counter = Counter()
    spelling.count_words("Une alliance nouvelle", added)
    spelling.merge_words(tmp_path, spelling.folded_counts(added))
    again = spelling.read_words(tmp_path)
    assert again["alliance"] == 3 and again["nouvelle"] == 1
    # A generation without a table (built before it existed) gives an empty speller.
    assert spelling.read_words(tmp_path / "nowhere") == Counter()
