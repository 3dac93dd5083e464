"""Entities, text and keys (issue 6): the text read, its preparation for the recogniser, keys, display forms."""
from __future__ import annotations

import collections

import pytest

from search.entities import choose_display, document_text, entity_key
from search.entities import text as E


def test_document_text():
    assert document_text("Titre", "Chapeau.", "Corps.") == "Titre\nChapeau.\nCorps."
    assert document_text(None, "Chapeau.", "Corps.") == "Chapeau.\nCorps."
    assert document_text("  ", "", "") == "\n"


def test_entity_key_folds_case_accents_and_punctuation():
    assert entity_key("Etats-Unis") == entity_key("États-Unis") == entity_key("ÉTATS UNIS") == "etats unis"
    assert entity_key("Côte d’Ivoire") == entity_key("cote d'ivoire")
    assert entity_key("Île-de-France") == "ile de france"
    assert entity_key("Œuvre") == "oeuvre"
    assert entity_key("  N'Djaména ") == entity_key("N'djamena")
    assert entity_key("Jens Stoltenberg") != entity_key("Stoltenberg")


def test_choose_display_prefers_accents_then_case_then_frequency():
    assert choose_display(collections.Counter({"Etats-Unis": 40, "États-Unis": 3, "ETATS-UNIS": 90})) == "États-Unis"
    assert choose_display(collections.Counter({"Marine le Pen": 1, "Marine Le Pen": 5})) == "Marine Le Pen"
    assert choose_display(collections.Counter({"paris": 9, "Paris": 2})) == "Paris"
    assert choose_display(collections.Counter({"Ile-de-France": 1})) == "Ile-de-France"
    # Deterministic whatever the insertion order.
    a = collections.Counter({"Kiev": 3, "Kyiv": 3})
    b = collections.Counter({"Kyiv": 3, "Kiev": 3})
    assert choose_display(a) == choose_display(b)
    with pytest.raises(ValueError):
        choose_display(collections.Counter())


def test_prepare_text_caps_and_unglues():
    assert len(E.prepare_text("mot " * 5_000_000)) <= E.MAX_CHARS  # a 20 MB dispatch
    assert "Bordeaux\nLe" in E.prepare_text("à BordeauxLe maire")
    assert "AFP.\nLe" in E.prepare_text("(AFP.Le texte")
    assert "McCain" in E.prepare_text("John McCain")
    assert E.prepare_text("Le ministre (Oleksiy) Reznikov") == "Le ministre Oleksiy Reznikov"
