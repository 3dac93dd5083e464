"""People and places pages in the library: Engine.entity_page (search/coverage.py) on a small French archive."""
from __future__ import annotations

from search.model import SearchRequest


def test_person_page_mentions_over_time(entity_engine):
    page = entity_engine.entity_page("people", "Emmanuel Macron")
    assert page.kind == "people" and page.name == "Emmanuel Macron"
    # Three dispatches name him in full, a fourth says only « Macron » (same year): four.
    assert page.total == 4
    assert page.date_grain == "month"  # all in 2019
    assert [(d.value, d.count) for d in page.dates] == [("2019-01", 1), ("2019-03", 1), ("2019-06", 1), ("2019-09", 1)]


def test_cooccurrence_counts_are_exact(entity_engine):
    page = entity_engine.entity_page("people", "Emmanuel Macron")
    assert [(p.value, p.count) for p in page.people] == [("Édouard Philippe", 2), ("Angela Merkel", 1)]
    assert [(p.value, p.count) for p in page.places] == [("Paris", 3), ("Berlin", 1), ("Lyon", 1)]
    paris = entity_engine.entity_page("places", "paris")  # any case and accents
    assert paris.name == "Paris" and paris.total == 4
    assert [(p.value, p.count) for p in paris.people] == [("Emmanuel Macron", 3), ("Édouard Philippe", 2)]
    assert [(p.value, p.count) for p in paris.places] == [("Lyon", 1)]  # not itself


def test_latest_dispatches_newest_first_undated_last(entity_engine):
    assert [h.id for h in entity_engine.entity_page("people", "Emmanuel Macron").latest] == [
        "macron-seul", "macron-3", "macron-2", "macron-1"]
    assert [h.id for h in entity_engine.entity_page("places", "Paris", latest=2).latest] == ["macron-seul", "macron-2"]
    assert entity_engine.entity_page("places", "Paris").latest[-1].id == "paris-sans-date"
    assert entity_engine.entity_page("people", "Emmanuel Macron", size=1).people[0].value == "Édouard Philippe"


def test_unknown_name_is_none(entity_engine):
    assert entity_engine.entity_page("people", "Personne Inconnue") is None
    assert entity_engine.entity_page("places", "Emmanuel Macron") is None  # a person is no place
    assert entity_engine.entity_page("people", "") is None


def test_surname_joins_the_full_name_unambiguous_in_its_period(entity_engine):
    # « Macron » alone (2019) is Emmanuel Macron: Brigitte Macron is named only in 2012.
    page = entity_engine.entity_page("people", "Macron")
    assert page.name == "Emmanuel Macron" and page.also_named == ["Macron"]
    assert entity_engine.document("macron-seul")["people"] == ["Emmanuel Macron"]
    resp = entity_engine.search(SearchRequest(q="réforme"))
    assert {h.id: h.people for h in resp.hits}["macron-seul"] == ["Emmanuel Macron"]
    assert "Macron" not in [f.value for f in resp.facets["people"]]
    # A filter on the surname is a filter on the person.
    assert entity_engine.search(SearchRequest(people=("Macron",))).total == 4
    assert entity_engine.entity_page("people", "Brigitte Macron").total == 1


def test_shared_surname_stays_apart(entity_engine):
    # Marine and Jean-Marie Le Pen are both named in 2019: « Le Pen » alone is neither.
    page = entity_engine.entity_page("people", "Le Pen")
    assert page.name == "Le Pen" and page.total == 1 and page.also_named == []
    assert [(n.value, n.count) for n in page.namesakes] == [("Jean-Marie Le Pen", 1), ("Marine Le Pen", 1)]
    assert entity_engine.entity_page("people", "Marine Le Pen").total == 1
    assert entity_engine.entity_page("people", "Jean-Marie Le Pen").total == 1
    assert entity_engine.document("le-pen-seul")["people"] == ["Le Pen"]


def test_spent_budget_says_what_it_cut(entity_engine):
    page = entity_engine.entity_page("people", "Emmanuel Macron", budget_ms=0)
    assert page.partial and page.timed_out == ["dates", "cooccurrence", "latest"]
    assert page.total == 4 and page.dates == [] and page.people == [] and page.latest == []
