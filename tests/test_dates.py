"""The date histogram's grain and counts (engine), and its scale and axis (web/present.py)."""
from __future__ import annotations

import numpy as np
import pytest

from search import facets
from search.engine import Engine
from search.model import FacetItem, SearchRequest, SearchResponse
from corpus import build_index

# Eight 2011 dispatches far from the rest, a busy June 2023, one dated by its year only, one by
# its month only.
RECORDS = (
    [{"id": f"old-{i}", "title": f"Archive {i}", "chapo": "Une vieille dépêche.", "date": f"2011-03-0{i + 1}", "source": "ATS"}
     for i in range(8)]
    + [{"id": f"y{y}-m{m}", "title": f"Mois {m} de {y}", "chapo": "Une dépêche du mois.", "date": f"{y}-{m:02d}-10", "source": "AFP"}
       for y in (2020, 2021, 2022, 2023) for m in (1, 4, 7, 10)]
    + [{"id": f"june-{d}", "title": f"Juin {d}", "chapo": "Une dépêche de juin.", "date": f"2023-06-{d:02d}", "source": "AFP"}
       for d in (3, 3, 14, 14, 14, 28)]
    + [{"id": "year-only", "title": "Bilan", "chapo": "Datée de l'année.", "date": "2023", "source": "AFP"},
       {"id": "month-only", "title": "Revue", "chapo": "Datée du mois.", "date": "2023-06", "source": "AFP"},
       {"id": "undated", "title": "Sans date", "chapo": "Pas de date.", "source": "AFP"}]
)
# Duplicate ids replace each other: give the June ones distinct ids.
for n, r in enumerate(RECORDS):
    if r["id"].startswith("june-"):
        r["id"] = f"june-{n}"


@pytest.fixture(scope="module")
def dates_engine(tmp_path_factory):
    return Engine(build_index(tmp_path_factory.mktemp("dates") / "index", RECORDS))


def histo(res):
    return {it.value: it.count for it in res.facets["dates"]}


def test_many_years_by_year_with_coarse_dates_in_their_year(dates_engine):
    res = dates_engine.search(SearchRequest(q=""))
    assert res.date_grain == "year"
    assert histo(res) == {"2011": 8, "2020": 4, "2021": 4, "2022": 4, "2023": 4 + 6 + 2}
    assert [it.value for it in res.facets["dates"]] == sorted(histo(res))


def test_a_year_by_month_around_it_a_month_by_day(dates_engine):
    year = dates_engine.search(SearchRequest(q="", date_from="2023", date_to="2023"))
    assert year.date_grain == "month" and year.total == 12
    h = histo(year)
    # The year-only dispatch counts at its grain, not in a month; the month-only one in June.
    assert h == {"2023-01": 1, "2023-04": 1, "2023-06": 7, "2023-07": 1, "2023-10": 1, "2023": 1}
    assert [it.value for it in year.facets["dates"]][-1] == "2023"
    assert not any(it.selected for it in year.facets["dates"])

    month = dates_engine.search(SearchRequest(q="", date_from="2023-06", date_to="2023-06"))
    assert month.date_grain == "day" and month.total == 7
    assert histo(month) == {"2023-06-03": 2, "2023-06-14": 3, "2023-06-28": 1, "2023-06": 1}


def test_a_chosen_day_keeps_its_month_around_it(dates_engine):
    res = dates_engine.search(SearchRequest(q="", date_from="2023-06-14", date_to="2023-06-14"))
    assert res.total == 3 and res.date_grain == "day"
    # Context: the other days of June are counted (without the date filter), the day is selected.
    assert histo(res)["2023-06-03"] == 2
    assert [it.value for it in res.facets["dates"] if it.selected] == ["2023-06-14"]


def test_a_few_years_by_month_and_open_ranges_narrowed_to_the_matches(dates_engine):
    res = dates_engine.search(SearchRequest(q="", date_from="2022-01-01"))
    assert res.date_grain == "month"  # 2022 and 2023: a few years
    assert {v[:4] for v in histo(res)} == {"2022", "2023"}
    wide = dates_engine.search(SearchRequest(q="", date_from="1990", date_to="2030"))
    assert wide.date_grain == "year" and histo(wide)["2011"] == 8


def test_selected_is_the_range_exactly_however_written():
    assert facets.is_range_of("2023", 20230000, 20239999)
    assert facets.is_range_of("2023", 20230101, 20231231)
    assert not facets.is_range_of("2023", 20230101, 20231130)
    assert facets.is_range_of("2024-02", 20240201, 20240229)
    assert facets.is_range_of("2023-06-14", 20230614, 20230614)


def test_grain_from_the_day_array_alone():
    day = np.array([20230614, 20230000, 20230600, 0], dtype=np.int32)
    mask = np.ones(4, dtype=bool)
    window = facets.date_window(day, mask, 0, 99999999, False)
    assert facets.date_grain(window) == "month"
    assert facets.date_grain(None) == "year"
    items = facets.date_items(day, mask, mask, "day", (20230600, 20230699), 20230600, 20230699, True)
    assert [(it.value, it.count) for it in items] == [("2023-06-14", 1), ("2023-06", 1)]


def test_years_are_counted_over_the_dated_matches_read_once():
    day = np.array([20230614, 20230000, 19990505, 0, 20240101, 20231231], dtype=np.int32)
    mask = np.array([True, True, True, True, True, False])
    dated = facets.dated_days(day, mask)
    assert (len(dated), dated.first, dated.last) == (4, 19990505, 20240101)
    assert {int(y): int(dated.per_year[y]) for y in np.flatnonzero(dated.per_year)} == {1999: 1, 2023: 2, 2024: 1}
    given = facets.dated_days(day.astype(np.int64), mask, np.flatnonzero(mask).astype(np.int32))
    assert (given.first, given.last, given.per_year.tolist()) == (dated.first, dated.last, dated.per_year.tolist())
    none = facets.dated_days(day, np.array([False, False, False, True, False, False]))
    assert (len(none), none.first, none.last) == (0, 0, 0)
    window = facets.date_window(day, mask, 0, 99999999, False, dated)
    assert window == facets.date_window(day, mask, 0, 99999999, False) == (19990505, 20240101)
    items = facets.date_items(day, mask, mask, "year", window, 0, 99999999, False, dated)
    assert [(it.value, it.count) for it in items] == [("1999", 1), ("2023", 2), ("2024", 1)]
    assert items == facets.date_items(day, mask, mask, "year", window, 0, 99999999, False)
    assert facets.date_items(day, np.zeros(6, dtype=bool), mask, "year", (19990505, 20240101), 19990505, 20240101, True) == []


# ---------------------------------------------------------------- web/present.py


def _resp(items, grain):
    return SearchResponse(query="", total=sum(c for _, c in items), page=1, per_page=10, took_ms=1, hits=[],
                          facets={"dates": [FacetItem(v, c) for v, c in items]}, date_grain=grain)


def test_outlier_years_are_compressed_and_the_axis_capped():
    from web.present import histogram

    items = [("2011", 8)] + [(str(y), 300 + y % 7) for y in range(2016, 2025)] + [("2025", 4000)]
    h = histogram(_resp(items, "year"), SearchRequest(q=""), "/")
    slots = [b.value for b in h.bars]
    # 2012-2015 are one « … » gap, not four empty bars.
    assert slots[:3] == ["2011", "2012..2015", "2016"] and h.bars[1].gap and h.bars[1].label == "…"
    # 2025 towers over the rest: the axis stops at the 95th percentile, its bar is marked as cut.
    big = h.bars[-1]
    assert h.clipped and big.clipped and big.height == 100.0 and big.count == 4000
    assert h.scale_max < 4000
    assert min(b.height for b in h.bars if b.count and not b.gap) >= 2.0
    assert all(b.height > 50 for b in h.bars if b.value.startswith("20") and b.value not in ("2011", "2025") and not b.gap)


def test_one_empty_year_stays_a_zero_bar_and_no_cap_without_outliers():
    from web.present import histogram

    h = histogram(_resp([("2020", 5), ("2022", 6)], "year"), SearchRequest(q=""), "/")
    assert [(b.value, b.count, b.url) for b in h.bars] == [("2020", 5, "/?from=2020&to=2020"), ("2021", 0, None),
                                                           ("2022", 6, "/?from=2022&to=2022")]
    assert not h.clipped and h.scale_max == 6


def test_zoom_links_breadcrumb_and_coarse_notes():
    from web.present import histogram

    req = SearchRequest(q="otan", people=("Jens Stoltenberg",), date_from="2023-06", date_to="2023-06", sort="newest")
    items = [("2023-06-03", 2), ("2023-06-14", 3), ("2023-06", 1)]
    h = histogram(_resp(items, "day"), req, "/")
    assert h.grain == "day" and len(h.bars) == 30
    assert [c["label"] for c in h.crumbs] == ["Toutes les années", "2023", "juin 2023"]
    assert h.crumbs[-1]["url"] is None
    assert h.crumbs[1]["url"] == "/?q=otan&person=Jens+Stoltenberg&sort=newest&from=2023&to=2023"
    assert h.up == {"label": "↑ 2023", "url": "/?q=otan&person=Jens+Stoltenberg&sort=newest&from=2023&to=2023"}
    day = next(b for b in h.bars if b.value == "2023-06-14")
    assert day.url == "/?q=otan&person=Jens+Stoltenberg&sort=newest&from=2023-06-14&to=2023-06-14"
    assert h.notes == ["1 dépêche datée seulement de juin 2023, hors histogramme."]


def test_a_chosen_period_has_its_neighbours_whatever_way_it_was_written():
    from web.present import chosen_period, histogram, siblings

    def req(a, b):
        return SearchRequest(q="otan", date_from=a, date_to=b, sort="newest")

    assert [chosen_period(req(a, b)) for a, b in [("2023", "2023"), ("2023-01-01", "2023-12-31"), ("2023-06", "2023-06"),
                                                   ("2023-06-01", "2023-06-30"), ("2024-02-01", "2024-02-29"),
                                                   ("2023-06-14", "2023-06-14"), ("2023-06-01", "2023-06-29"),
                                                   ("2023", "2024"), ("2023-06", None)]] == [
        "2023", "2023", "2023-06", "2023-06", "2024-02", "2023-06-14", None, None, None]
    assert [(s["label"], s["url"]) for s in siblings(req("2023-01", "2023-01"), [("q", "otan"), ("sort", "newest")], "/")] == [
        ("‹ décembre 2022", "/?q=otan&sort=newest&from=2022-12&to=2022-12"),
        ("février 2023 ›", "/?q=otan&sort=newest&from=2023-02&to=2023-02")]
    assert [s["value"] for s in siblings(req("2024-03-01", "2024-03-01"), [], "/")] == ["2024-02-29", "2024-03-02"]
    assert [s["value"] for s in siblings(req("2023", "2023"), [], "/")] == ["2022", "2024"]
    assert [s["value"] for s in siblings(req("2999", "2999"), [], "/")] == ["2998"]  # the API stops at 2999
    assert siblings(SearchRequest(q="otan"), [], "/") == []
    # On the histogram of a chosen month: its neighbours beside the way up (« ↑ 2023 »).
    h = histogram(_resp([("2023-06-03", 2), ("2023-06-14", 3)], "day"), req("2023-06", "2023-06"), "/")
    assert [s["label"] for s in h.siblings] == ["‹ mai 2023", "juillet 2023 ›"] and h.up["label"] == "↑ 2023"


def test_only_a_real_tower_is_cut():
    from web.present import histogram

    # Days of one month, a busy day at 5 beside days at 3: drawn as they are.
    days = [(f"2019-03-{d:02d}", 3 if d % 2 else 1) for d in range(1, 29)] + [("2019-03-29", 5)]
    h = histogram(_resp(days, "day"), SearchRequest(q=""), "/")
    assert not h.clipped and h.scale_max == 5
    # Years at 556 and 877 (the OrangeSum sample's last two): the taller stays taller.
    years = [("2016", 300), ("2017", 420), ("2018", 500), ("2019", 556), ("2020", 877), ("2011", 8)]
    h = histogram(_resp(sorted(years), "year"), SearchRequest(q=""), "/")
    assert not h.clipped and h.scale_max == 877
    # One dispatch beside hundreds is still a visible bar.
    assert next(b for b in h.bars if b.value == "2011").height >= 4.0


def test_months_of_several_years_say_their_years():
    from web.present import histogram

    items = [(f"{y}-{m:02d}", 3) for y in (2018, 2019) for m in range(1, 13)]
    h = histogram(_resp(items, "month"), SearchRequest(q="", date_from="2018-06", date_to="2019-06"), "/")
    labels = [b.label for b in h.bars]
    assert labels[:3] == ["2018", "févr.", "mars"] and labels[12] == "2019"
    assert [b.short for b in h.bars][:3] == ["’18", "F", "M"] and [b.value for b in h.bars if b.year_start] == ["2018-01", "2019-01"]
    # One year: the months' own names (the year is in the breadcrumb).
    one = histogram(_resp(items[:12], "month"), SearchRequest(q="", date_from="2018", date_to="2018"), "/")
    assert one.bars[0].label == "janv." and one.bars[0].short == "J" and not any(b.year_start for b in one.bars)
