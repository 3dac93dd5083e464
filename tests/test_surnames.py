"""One person, one page: search/surnames.py on hand-made facet arrays."""
from __future__ import annotations

import numpy as np

from search.facets import FacetIndex
from search.surnames import SurnameJoin


def facet(pairs: list[tuple[int, str]], days: list[int]):
    keys = sorted({k for _, k in pairs})
    ids = {k: i for i, k in enumerate(keys)}
    fi = FacetIndex.from_pairs(keys, np.array([d for d, _ in pairs], np.int32),
                               np.array([ids[k] for _, k in pairs], np.int32), len(days))
    return fi, np.array(days, np.int32)


def people_of(join: SurnameJoin, doc: int) -> list[str]:
    return join.facet.values_of(doc)


def test_surname_joins_one_full_name():
    fi, day = facet([(0, "emmanuel macron"), (1, "emmanuel macron"), (2, "macron")], [20190101, 20190202, 20190303])
    join = SurnameJoin(fi, day)
    assert people_of(join, 2) == ["emmanuel macron"]
    assert join.aliases == {"macron": "emmanuel macron"}
    assert join.names(["macron"], 20190303) == ["emmanuel macron"]


def test_two_people_sharing_the_surname_stay_apart():
    fi, day = facet([(0, "marine le pen"), (1, "jean marie le pen"), (2, "le pen")], [20190101, 20190202, 20190303])
    join = SurnameJoin(fi, day)
    assert people_of(join, 2) == ["le pen"]
    assert join.aliases == {}


def test_a_rare_namesake_does_not_block_the_join():
    # Eleven dispatches name the leader, one a namesake: under the ambiguity ratio (0.1 of the leader).
    pairs = [(i, "emmanuel macron") for i in range(11)] + [(11, "brigitte macron"), (12, "macron")]
    fi, day = facet(pairs, [20190101] * 13)
    assert people_of(SurnameJoin(fi, day), 12) == ["emmanuel macron"]
    # Ten to one is no longer unambiguous.
    fi, day = facet(pairs[1:], [20190101] * 13)
    assert people_of(SurnameJoin(fi, day), 12) == ["macron"]


def test_the_period_decides():
    # Jean-Marie Le Pen named in 1990 only: « Le Pen » of 2019 is Marine, of 1990 is shared.
    pairs = [(0, "jean marie le pen"), (1, "marine le pen"), (2, "le pen"), (3, "marine le pen"), (4, "le pen")]
    fi, day = facet(pairs, [19900101, 19900505, 19900606, 20190101, 20190202])
    join = SurnameJoin(fi, day)
    assert people_of(join, 4) == ["marine le pen"]
    assert people_of(join, 2) == ["le pen"]
    assert join.aliases == {}  # the surname still has a dispatch of its own


def test_a_dispatch_with_both_keeps_one_value():
    fi, day = facet([(0, "emmanuel macron"), (0, "macron")], [20190101])
    assert people_of(SurnameJoin(fi, day), 0) == ["emmanuel macron"]


def test_a_first_name_is_not_joined_as_a_surname():
    # « Julien » opens « Julien Bayou » as often as it ends « Arnaud Julien »: a first name, left alone.
    fi, day = facet([(0, "arnaud julien"), (1, "julien bayou"), (2, "julien")], [20190101] * 3)
    assert people_of(SurnameJoin(fi, day), 2) == ["julien"]


def test_only_a_surname_alone_is_joined():
    # A full name never joins a longer (misread) one: « président donald trump ».
    fi, day = facet([(0, "president donald trump"), (1, "donald trump")], [20190101] * 2)
    assert people_of(SurnameJoin(fi, day), 1) == ["donald trump"]
    # Particles open no given names: « le pen » is a surname alone, « de gaulle » too.
    fi, day = facet([(0, "charles de gaulle"), (1, "de gaulle")], [19600101, 19600202])
    assert people_of(SurnameJoin(fi, day), 1) == ["charles de gaulle"]
