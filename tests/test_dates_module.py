"""Dates (dates.py): how dispatch dates are read, stored and bounded, in one place."""
from __future__ import annotations

import pytest

from search import dates


@pytest.mark.parametrize("value, want", [
    ("2023-06-14", "2023-06-14"), ("2023-06", "2023-06"), ("2023", "2023"),
    ("2023-06-14T08:30:00Z", "2023-06-14"), (" 2023-06-14 10:00 ", "2023-06-14"), (None, None), ("", None),
])
def test_parse_date_keeps_the_source_precision(value, want):
    assert dates.parse_date(value) == want


@pytest.mark.parametrize("value, message", [
    ("14/06/2023", "format attendu AAAA, AAAA-MM ou AAAA-MM-JJ"), ("2023-02-30", "date impossible"),
    ("2023-13", "date impossible"), ("0000", "date impossible"),
])
def test_parse_date_says_what_is_wrong_in_french(value, message):
    with pytest.raises(dates.DateError, match=message):
        dates.parse_date(value)


def test_stored_numbers_and_search_bounds_cover_a_whole_month_or_year():
    assert dates.date_number("2023-06-14") == 20230614
    assert dates.date_number("2023-06") == 20230600 and dates.date_number("2023") == 20230000
    assert dates.date_number(None) == 0
    assert dates.bound("2023-06", high=False) == 20230600 and dates.bound("2023-06", high=True) == 20230699
    assert dates.bound("2023", high=True) == 20239999
    assert dates.bound("2023-06", high=False) <= dates.date_number("2023-06") <= dates.bound("2023-06", high=True)
    with pytest.raises(dates.DateError, match="invalide"):
        dates.bound("2023-06-14T08:00", high=False)  # a bound is a plain date


def test_day_numbers_only_for_dates_to_the_day():
    assert dates.day_number("2023-06-14") - dates.day_number("2023-06-10") == 4
    assert dates.day_number("2023-06") is None and dates.day_number("2023-02-30") is None and dates.day_number(None) is None


def test_period_bounds_name_a_bar_of_the_histogram():
    assert dates.period_bounds("2024") == (20240000, 20249999, 20240101, 20241231)
    assert dates.period_bounds("2024-02") == (20240200, 20240299, 20240201, 20240229)
    assert dates.period_bounds("2023-02") == (20230200, 20230299, 20230201, 20230228)
    assert dates.period_bounds("2023-06-21") == (20230621,) * 4


def test_release_time_reads_an_embargo_as_utc_unless_it_says_otherwise():
    assert dates.release_time("2024-01-01T00:00:00Z") == 1704067200
    assert dates.release_time("2024-01-01T01:00:00+01:00") == 1704067200
    assert dates.release_time("2024-01-01T00:00:00") == 1704067200
    assert dates.release_time("") == dates.release_time(None) == dates.release_time("demain") == 0
