"""Dates as Dépêche reads, stores and compares them, in one place.

A dispatch's date is as precise as its source: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``. The index
stores it as the number YYYYMMDD with unknown parts 00 (``date_number``); a search's bounds are
the same numbers, a missing part 00 for the low bound and 99 for the high one (``bound``), so a
month or a year typed as a bound covers all of it; stories compare days as day numbers
(``day_number``), which only dates precise to the day have. A histogram bar's period has its
bounds (``period_bounds``); an agency item's embargo is an instant (``release_time``).
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ][0-9:.+\-Z]*)?$")
_PLAIN = re.compile(r"\d{4}(-\d{2}){0,2}")
NO_LOW = 0
NO_HIGH = 99999999


class DateError(ValueError):
    """A date that is not YYYY[-MM[-DD]] or does not exist (the message says which, in French)."""


def parse_date(value) -> str | None:
    """Normalise a date to YYYY[-MM[-DD]] (a time after it is dropped); None for none."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        raise DateError(f"date {value!r} : format attendu AAAA, AAAA-MM ou AAAA-MM-JJ")
    year, month, day = m.groups()
    try:
        if day:
            return dt.date(int(year), int(month), int(day)).isoformat()
        if month:
            dt.date(int(year), int(month), 1)
            return f"{year}-{month}"
    except ValueError:
        raise DateError(f"date impossible {value!r}") from None
    if int(year) < 1:
        raise DateError(f"date impossible {value!r}")
    return year


def date_number(date: str | None) -> int:
    """YYYYMMDD as an int, unknown parts as 00; 0 for an undated dispatch."""
    if not date:
        return 0
    parts = (date.split("-") + ["00", "00"])[:3]
    return int("".join(parts))


def bound(text: str, high: bool) -> int:
    """A search bound: YYYY[-MM[-DD]] → YYYYMMDD, missing parts 00 (low) or 99 (high)."""
    try:
        d = parse_date(text)
    except DateError:
        d = None
    if not d or not _PLAIN.fullmatch(text.strip()):
        raise DateError(f"date {text!r} invalide (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    parts = d.split("-")
    y = int(parts[0])
    m = int(parts[1]) if len(parts) > 1 else (99 if high else 0)
    day = int(parts[2]) if len(parts) > 2 else (99 if high else 0)
    return y * 10000 + m * 100 + day


def day_number(date: str | None) -> int | None:
    """A date as a day number (proleptic ordinal), None unless it is precise to the day."""
    if not date or len(date) < 10:
        return None
    try:
        return dt.date.fromisoformat(date[:10]).toordinal()
    except ValueError:
        return None


def period_bounds(value: str) -> tuple[int, int, int, int]:
    """A period ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: the lowest and highest YYYYMMDD a range
    may name for it (``bound``'s 00 and 99 parts included), and its real first and last days."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        y = parts[0]
        return y * 10000, y * 10000 + 9999, y * 10000 + 101, y * 10000 + 1231
    if len(parts) == 2:
        y, m = parts
        base = y * 10000 + m * 100
        return base, base + 99, base + 1, base + calendar.monthrange(y, m)[1]
    n = parts[0] * 10000 + parts[1] * 100 + parts[2]
    return n, n, n, n


def release_time(embargo: str | None) -> int:
    """An embargo's end (ISO 8601; UTC when no offset is given) in epoch seconds; 0 for none or unreadable."""
    if not embargo:
        return 0
    try:
        t = dt.datetime.fromisoformat(str(embargo).strip().replace("Z", "+00:00"))
    except ValueError:
        return 0
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return min(max(0, int(t.timestamp())), 2**32 - 1)
