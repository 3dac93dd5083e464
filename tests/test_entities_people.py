"""Entities, people (issue 6): names cleaned of titles, articles and punctuation."""
from __future__ import annotations

import pytest

from search.entities import people as E


@pytest.mark.parametrize(
    "span, name",
    [
        ("M. Martinez", "Martinez"),
        ("Mme Valérie Dumas", "Valérie Dumas"),
        ("le président Emmanuel Macron", "Emmanuel Macron"),
        ("Le ministre Oleksiy Reznikov", "Oleksiy Reznikov"),
        ("le ministre de l'Intérieur Gérald Darmanin", "Gérald Darmanin"),
        ("le général de Gaulle", "de Gaulle"),
        ("François de Rugy", "François de Rugy"),
        ("Le Pen", "Le Pen"),
        ("«Jens Stoltenberg»,", "Jens Stoltenberg"),
        ("pro-Macron", "Macron"),
        ("Edouard Philippe En", "Edouard Philippe"),
        ("Claude Guéant Claude Guéant", "Claude Guéant"),
        ("Président de la République", None),
        ("Le ministre", None),
        ("16H", None),
        ("VOUS", None),
    ],
)
def test_clean_person(span, name):
    assert E.clean_person(span) == name
