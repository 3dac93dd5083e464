"""Facets: counts over every matching document, selections filtering the results."""
from __future__ import annotations

import numpy as np
import pytest

from search.facets import FacetIndex
from search.model import SearchRequest


def counts(items):
    return {it.value: it.count for it in items}


def test_counts_are_over_all_matches_not_the_page(engine):
    res = engine.search(SearchRequest(q="", per_page=1))
    assert len(res.hits) == 1 and res.total == 10
    sources = counts(res.facets["sources"])
    # "AFP" and "afp" are one source (folded key), shown as stored.
    assert sum(sources.values()) == 10
    assert sources["ATS"] == 4 and sources["Reuters"] == 2
    assert {k.lower() for k in sources} == {"ats", "afp", "reuters"}
    assert sources[next(k for k in sources if k.lower() == "afp")] == 4
    people = counts(res.facets["people"])
    assert people == {"Emmanuel Macron": 2, "Jens Stoltenberg": 2, "François Hollande": 1, "Lloyd Austin": 1, "Olaf Scholz": 1}
    # Display forms come from entities.json: one per key, the accented one.
    places = counts(res.facets["places"])
    assert places["États-Unis"] == 2 and "Etats-Unis" not in places
    assert places["Genève"] == 1


def test_counts_follow_the_query(engine):
    res = engine.search(SearchRequest(q="munitions", per_page=1))
    assert res.total == 4
    assert counts(res.facets["sources"]) == {"ATS": 3, "AFP": 1}
    assert counts(res.facets["people"]) == {"Jens Stoltenberg": 2, "Lloyd Austin": 1}
    assert counts(res.facets["dates"]) == {"2021-03": 1, "2023-06": 3}


def test_selection_filters_and_is_case_and_accent_insensitive(engine):
    res = engine.search(SearchRequest(q="", places=("geneve",)))
    assert [h.id for h in res.hits] == ["geneve-sommet"]
    assert [it.value for it in res.facets["places"] if it.selected] == ["Genève"]
    res = engine.search(SearchRequest(q="", people=("EMMANUEL MACRON",)))
    assert {h.id for h in res.hits} == {"geneve-sommet", "macron-hollande"}
    assert next(it for it in res.facets["people"] if it.value == "Emmanuel Macron").selected


def test_and_across_facets_or_within_one(engine):
    within = engine.search(SearchRequest(q="", places=("Lyon", "Marseille")))
    assert {h.id for h in within.hits} == {"lyon-ecole", "marseille-port"}
    across = engine.search(SearchRequest(q="", places=("Lyon", "Marseille"), sources=("reuters",)))
    assert [h.id for h in across.hits] == ["marseille-port"]
    # Each facet with a choice is counted under the other facets' choices only: the sources of
    # the Lyon-or-Marseille dispatches, the places of Reuters' dispatches.
    assert counts(across.facets["sources"]) == counts(within.facets["sources"])
    reuters = engine.search(SearchRequest(q="", sources=("reuters",)))
    assert counts(across.facets["places"]) == {**counts(reuters.facets["places"]), "Lyon": 0}  # chosen: always listed


def test_a_facet_with_a_choice_counts_its_other_values_as_alternatives(engine):
    """Values of one facet are OR: beside a chosen place, another place's count is what choosing
    it too would add, not the dispatches having both (which would read as AND)."""
    everything = counts(engine.search(SearchRequest(q="")).facets["places"])
    lyon = engine.search(SearchRequest(q="", places=("Lyon",)))
    assert lyon.total == 1
    assert counts(lyon.facets["places"]) == everything
    both = engine.search(SearchRequest(q="", places=("Lyon", "Marseille")))
    assert both.total == everything["Lyon"] + everything["Marseille"]
    # Other facets are still counted over the results themselves.
    assert sum(counts(lyon.facets["sources"]).values()) == 1
    # The query and the other facets' choices still narrow a chosen facet's counts.
    munitions = engine.search(SearchRequest(q="munitions", places=("Lyon",)))
    assert munitions.total == 0
    # (so an empty page still offers the places that would give results)
    assert counts(munitions.facets["places"]) == {**counts(engine.search(SearchRequest(q="munitions")).facets["places"]), "Lyon": 0}


def test_unknown_selection_matches_nothing(engine):
    res = engine.search(SearchRequest(q="", people=("Personne Inconnue",)))
    assert res.total == 0 and res.hits == []


def test_dates_histogram_by_month_in_time_order(engine):
    res = engine.search(SearchRequest(q=""))
    months = [it.value for it in res.facets["dates"] if len(it.value) == 7]
    assert months == sorted(months) and res.date_grain == "month"
    assert counts(res.facets["dates"])["2023-06"] == 3
    # A month picked from the histogram is a date range: the histogram zooms to its days
    # (tests/test_dates.py has the grains); no day is selected.
    res = engine.search(SearchRequest(q="", date_from="2023-06", date_to="2023-06"))
    assert res.total == 3 and res.date_grain == "day"
    assert sum(counts(res.facets["dates"]).values()) == 3
    assert not any(it.selected for it in res.facets["dates"])


def test_facet_size(engine):
    res = engine.search(SearchRequest(q="", facet_size=2))
    assert [it.value for it in res.facets["people"]] == ["Emmanuel Macron", "Jens Stoltenberg"]
    res = engine.search(SearchRequest(q="", facet_size=1, people=("Olaf Scholz",)))
    assert [(it.value, it.selected) for it in res.facets["people"]] == [("Emmanuel Macron", False), ("Olaf Scholz", True)]


def test_facet_index_arrays():
    fi = FacetIndex(["a", "b", "c"], [np.array([0, 2]), np.array([2]), np.array([], dtype=np.int32)], 4)
    mask = np.array([True, False, True, True])
    assert fi.counts(mask).tolist() == [2, 1, 0]
    assert fi.values_of(2) == ["a", "b"] and fi.values_of(3) == []
    assert fi.mask_for(fi.lookup(["B"])).tolist() == [False, False, True, False]
    assert fi.keys_matching_words("A") == [0]


def test_counts_over_few_matches_read_their_pairs_and_equal_the_whole_count():
    rng = np.random.default_rng(7)
    n = 4000
    fi = FacetIndex.from_pairs([f"valeur {i:02d}" for i in range(40)], rng.integers(0, n, 15000).astype(np.int32),
                               rng.integers(0, 40, 15000).astype(np.int32), n)
    for share in (0.0, 0.002, 0.05, 0.2, 0.3, 0.9):  # below and above the switch to every pair
        mask = rng.random(n) < share
        whole = np.bincount(fi.key_of_pair[mask[fi.doc_of_pair]], minlength=40)
        assert fi.counts(mask).tolist() == whole.tolist(), share
        assert fi.counts(mask, np.flatnonzero(mask)).tolist() == whole.tolist(), share
    assert all(fi.values_of(d) == [fi.keys[k] for k in fi.key_of_pair[fi.doc_of_pair == d]] for d in range(50))


def test_counts_over_most_live_documents_are_the_totals_less_the_rest():
    rng = np.random.default_rng(11)
    n = 4000
    fi = FacetIndex.from_pairs([f"valeur {i:02d}" for i in range(40)], rng.integers(0, n, 15000).astype(np.int32),
                               rng.integers(0, 40, 15000).astype(np.int32), n)
    live = rng.random(n) < 0.97
    for share in (0.5, 0.9, 0.99, 1.0):
        mask = (rng.random(n) < share) & live
        whole = np.bincount(fi.key_of_pair[mask[fi.doc_of_pair]], minlength=40)
        assert fi.counts(mask, np.flatnonzero(mask), live).tolist() == whole.tolist(), share
    # A mask reaching beyond the live documents is counted pair by pair, not from the totals.
    beyond = live.copy()
    beyond[np.flatnonzero(~live)[:5]] = True
    whole = np.bincount(fi.key_of_pair[beyond[fi.doc_of_pair]], minlength=40)
    assert fi.counts(beyond, np.flatnonzero(beyond), live).tolist() == whole.tolist()


def test_or_within_a_facet_and_across_facets_for_people_and_sources(engine):
    # Several people: any of them (OR); a person and a source: both (AND).
    either = engine.search(SearchRequest(q="", people=("Olaf Scholz", "Lloyd Austin")))
    assert {h.id for h in either.hits} == {"geneve-sommet", "otan-obus"}
    both = engine.search(SearchRequest(q="", people=("Olaf Scholz", "Lloyd Austin"), sources=("afp",)))
    assert [h.id for h in both.hits] == ["otan-obus"]
    none = engine.search(SearchRequest(q="", people=("Olaf Scholz",), places=("Lyon",)))
    assert none.total == 0


def test_excluded_values_leave_out_their_dispatches_before_counting(engine):
    everything = engine.search(SearchRequest(q=""))
    res = engine.search(SearchRequest(q="", exclude_places=("etats-unis",)))
    assert res.total == everything.total - 2
    assert not {"otan-munitions", "otan-obus"} & {h.id for h in engine.search(SearchRequest(q="", per_page=100, exclude_places=("États-Unis",))).hits}
    # Counts are over what is left: Stoltenberg's two dispatches both name the United States.
    assert "Jens Stoltenberg" not in counts(res.facets["people"])
    # The excluded value stays in its facet, marked, with nothing left to count.
    item = next(it for it in res.facets["places"] if it.value == "États-Unis")
    assert item.excluded and not item.selected and item.count == 0
    assert not any(it.excluded for it in res.facets["people"] + res.facets["sources"])
    # Several excluded values: a dispatch having any of them is left out; with a selection.
    res = engine.search(SearchRequest(q="", exclude_sources=("AFP", "Reuters"), per_page=100))
    assert {h.source for h in res.hits} == {"ATS"} and res.total == 4
    assert {it.value: it.excluded for it in res.facets["sources"]} == {"ATS": False, "AFP": True, "Reuters": True}
    res = engine.search(SearchRequest(q="", places=("Lyon", "Marseille"), exclude_sources=("reuters",)))
    assert [h.id for h in res.hits] == ["lyon-ecole"]
    res = engine.search(SearchRequest(q="", exclude_people=("Emmanuel Macron",), per_page=100))
    assert not {"geneve-sommet", "macron-hollande"} & {h.id for h in res.hits}
    # An unknown value excludes nothing; selected and excluded at once leaves nothing.
    assert engine.search(SearchRequest(q="", exclude_places=("Atlantide",))).total == everything.total
    assert engine.search(SearchRequest(q="", places=("Lyon",), exclude_places=("lyon",))).total == 0


def test_query_exclusions_match_the_request_ones(engine):
    for text, req in (("-lieu:Paris", SearchRequest(q="", exclude_places=("Paris",))),
                      ("-personne:\"Jens Stoltenberg\"", SearchRequest(q="", exclude_people=("Jens Stoltenberg",))),
                      ("-source:Reuters", SearchRequest(q="", exclude_sources=("Reuters",)))):
        by_query = engine.search(SearchRequest(q=text, per_page=100))
        by_request = engine.search(SearchRequest(q=req.q, per_page=100, exclude_people=req.exclude_people,
                                                 exclude_places=req.exclude_places, exclude_sources=req.exclude_sources))
        assert by_query.total == by_request.total > 0, text
        assert {h.id for h in by_query.hits} == {h.id for h in by_request.hits}
        for name in ("people", "places", "sources"):
            assert {k: v for k, v in counts(by_query.facets[name]).items() if v} == \
                   {k: v for k, v in counts(by_request.facets[name]).items() if v}
    # With words: the exclusion applies to the words' matches, and to the facet counts.
    res = engine.search(SearchRequest(q="munitions -source:ATS"))
    assert res.total == 1 and counts(res.facets["sources"]) == {"AFP": 1}


def test_exclusions_are_validated(engine):
    from search.model import InvalidRequest
    with pytest.raises(InvalidRequest) as e:
        engine.search(SearchRequest(q="", exclude_places="Paris"))
    assert e.value.code == "bad_exclude_places"


def test_export_results_honour_exclusions(engine):
    resp, hits = engine.results(SearchRequest(q="", exclude_sources=("ats",)), 100)
    assert resp.total == 6 and all(h.source.lower() != "ats" for h in hits)


@pytest.mark.parametrize("values_a_doc", [1, 3])
def test_a_facet_counts_its_values_alike_over_few_or_many_matching_documents(values_a_doc):
    rng = np.random.default_rng(5)
    n = 4000
    # A quarter of the documents have no value; with 3, some have the same value twice over fields.
    docs = np.repeat(np.sort(rng.choice(n, 3000, replace=False)).astype(np.int32), values_a_doc)
    fi = FacetIndex.from_pairs([f"agence {i:02d}" for i in range(30)], docs, rng.integers(0, 30, len(docs)).astype(np.int32), n)
    live = rng.random(n) < 0.97
    for share in (0.0, 0.002, 0.05, 0.2, 0.5, 0.9, 1.0):  # both sides of each switch (few, most, all)
        for mask in ((rng.random(n) < share) & live, live & ~((rng.random(n) < share) & live)):
            whole = np.bincount(fi.key_of_pair[mask[fi.doc_of_pair]], minlength=30)
            assert fi.counts(mask).tolist() == whole.tolist(), share
            assert fi.counts(mask, np.flatnonzero(mask), live).tolist() == whole.tolist(), share
            assert fi.counts(mask, np.flatnonzero(mask).astype(np.int32), live).tolist() == whole.tolist(), share
    assert fi.totals(live).sum() == np.count_nonzero(live[docs])
