"""Folding (folding.py): the one place where case, accents and ligatures are folded."""
from __future__ import annotations

from search import folding


def test_fold_is_lower_case_ascii():
    assert folding.fold("États") == "etats"
    assert folding.fold("Œuvre") == "oeuvre"
    assert folding.fold("Αθήνα") == "athena"
    assert folding.fold("munitions") == "munitions"


def test_fold_key_turns_punctuation_into_single_spaces():
    assert folding.fold_key("États-Unis") == "etats unis"
    assert folding.fold_key("  L'Oréal  (Paris) ") == "l oreal paris"


def test_fold_words_keeps_other_scripts():
    assert folding.fold_words("Île-de-France") == "ile-de-france"
    assert folding.fold_words("Москва") == "москва"
    assert folding.fold_words("cœur") == "coeur"


def test_one_for_one_keeps_offsets():
    table = folding.one_for_one()
    text = "Élysée à Łódź"
    folded = "".join(table.get(ord(c), c) for c in text)
    assert folded == "elysee a lodz" and len(folded) == len(text)
    assert table[ord("œ")] == "o"  # its first letter: one for one (callers look for « oe » as « o »)


def test_ascii_slug():
    assert folding.ascii_slug("Crise à l'Élysée : 2024") == "crise-a-l-elysee-2024"
    assert folding.ascii_slug("« »") == ""
