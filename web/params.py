"""Turning query-string parameters into a SearchRequest, and search state back into URLs.

The library validates requests too; checking here as well means every bad parameter gets a 400
with a French message even before the engine is reached, and the web layer never hands the
library something that is not the documented type.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes, urlencode

from werkzeug.datastructures import MultiDict

from search import dates
from search.documents import MAX_ID_LENGTH
from search.model import (
    MAX_FACET_SIZE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    COLLAPSES,
    SORTS,
    InvalidRequest,
    SearchRequest,
)

# URL parameter (singular, as a person types it) -> SearchRequest field.
FILTERS = {
    "person": "people", "place": "places", "source": "sources",
    # Agency items (NewsML-G2, ninjs): values as their facets give them.
    "urgency": "urgencies", "genre": "genres", "subject": "subjects", "language": "languages", "slugline": "sluglines",
}
AGENCY_PARAMS = ("urgency", "genre", "subject", "language", "slugline")
# Facet name (SearchResponse.facets) -> the URL parameter that selects one of its values.
FACET_PARAM = {
    "people": "person", "places": "place", "sources": "source",
    "urgency": "urgency", "genre": "genre", "subjects": "subject", "language": "language", "slugline": "slugline",
}
# URL parameter excluding a facet's values (repeatable: a dispatch having any is left out) ->
# SearchRequest field, and the facet it excludes from.
EXCLUDES = {"not_person": "exclude_people", "not_place": "exclude_places", "not_source": "exclude_sources"}
EXCLUDE_PARAM = {"people": "not_person", "places": "not_place", "sources": "not_source"}
_URGENCY = re.compile(r"[1-9]")
SCALARS = ("q", "page", "per_page", "sort", "from", "to", "facet_size", "correct", "collapse")
MAX_FILTER_VALUES = 20
MAX_VALUE_LENGTH = 200
MAX_SUGGEST_LIMIT = 20
MAX_ENTITY_SIZE = 50  # people and places alongside, and latest dispatches, on a person's or place's page

# Years 1000-2999, then a real month, then a day that exists in that month (29 February only in
# leap years): the pattern the OpenAPI document gives is exactly what the server accepts.
# An empty value means no bound (what an empty form field sends).
_YEAR = r"[12]\d{3}"
_LEAP_YEAR = r"(?:[12]\d(?:0[48]|[2468][048]|[13579][26])|(?:12|16|20|24|28)00)"
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
              r"|02-(?:0[1-9]|1\d|2[0-8]))")
DATE_PATTERN = (rf"^(?:{_YEAR}(?:-(?:0[1-9]|1[0-2]))?|{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)?$")
_DATE = re.compile(DATE_PATTERN)
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
_INTEGER = re.compile(r"-?[0-9]{1,9}")  # ASCII digits only: int() would also take "1_0", " 1" or "１"
# C0/C1 control characters (other than whitespace) and lone surrogates: never meaningful in a
# query, and NUL in particular must not reach the index code.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def require_utf8(query_string: bytes) -> None:
    """InvalidRequest unless the query string, raw and percent-decoded, is UTF-8.

    Werkzeug would decode raw bytes strictly (a 500 on the first look at the arguments) and
    percent-escapes leniently (U+FFFD): both kinds of broken UTF-8 get the same 400 instead, and
    a client learns its encoding is wrong rather than seeing results for replacement characters.
    Python's codec also refuses encoded surrogates (%ED%A0%80), which UTF-8 forbids.
    """
    try:
        unquote_to_bytes(query_string).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("bad_encoding", "les paramètres de l'adresse doivent être encodés en UTF-8") from None


def clean_text(value: str) -> str:
    """Drop control characters and lone surrogates, collapse whitespace."""
    return " ".join(_JUNK.sub(" ", value).split())


def single(args: MultiDict, name: str, default: str | None = None) -> str | None:
    """The one value of a scalar parameter; InvalidRequest if it is repeated."""
    values = args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise InvalidRequest("repeated_parameter", f"le paramètre « {name} » ne peut être donné qu'une fois")
    return values[0]


def integer(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within [low, high]."""
    raw = single(args, name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise InvalidRequest(f"bad_{name}", f"« {name} » doit être un nombre entier entre {low} et {high}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidRequest(f"bad_{name}", f"« {name} » doit être compris entre {low} et {high}")
    return value


MAX_VERSION = 999_999_999  # what _INTEGER reads: nine digits


def version_number(args: MultiDict) -> int | None:
    """The ``version`` of a document asked for: None, or a positive integer (else bad_version)."""
    raw = single(args, "version")
    if raw is None:
        return None
    if not _INTEGER.fullmatch(raw) or not 1 <= int(raw) <= MAX_VERSION:
        raise InvalidRequest("bad_version", "« version » doit être un nombre entier positif : le numéro d'une version de la dépêche")
    return int(raw)


def boolean(args: MultiDict, name: str, default: bool) -> bool:
    """A switch: exactly 0, 1, true or false."""
    raw = single(args, name)
    if raw is None:
        return default
    if raw not in BOOLEANS:
        raise InvalidRequest(f"bad_{name}", f"« {name} » doit valoir 0, 1, true ou false")
    return BOOLEANS[raw]


def query_text(raw: str | None, name: str = "q") -> str:
    """A cleaned query string; InvalidRequest if it is too long."""
    # The limit applies to what was sent, not to what is left after cleaning: it is documented
    # that way and a client cannot tell what cleaning removes.
    if raw and len(raw) > MAX_QUERY_LENGTH:
        raise InvalidRequest("query_too_long", f"« {name} » dépasse {MAX_QUERY_LENGTH} caractères")
    return clean_text(raw or "")


def date_bound(raw: str | None, name: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD, checked to be a real date."""
    if not raw:
        return None
    if not _DATE.fullmatch(raw):
        raise InvalidRequest("bad_date", f"« {name} » doit être une date réelle AAAA, AAAA-MM ou AAAA-MM-JJ (reçu {raw[:40]!r})")
    return raw


def values(args: MultiDict, name: str) -> tuple[str, ...]:
    """A repeatable filter: cleaned, de-duplicated, order kept."""
    raws = args.getlist(name)
    if len(raws) > MAX_FILTER_VALUES:
        raise InvalidRequest("bad_filter", f"au plus {MAX_FILTER_VALUES} valeurs pour « {name} »")
    out: list[str] = []
    for raw in raws:
        if len(raw) > MAX_VALUE_LENGTH:
            raise InvalidRequest("bad_filter", f"une valeur de « {name} » dépasse {MAX_VALUE_LENGTH} caractères")
        value = clean_text(raw)
        if value and name == "urgency" and not _URGENCY.fullmatch(value):
            raise InvalidRequest("bad_filter", f"« urgency » doit être un chiffre de 1 (flash) à 9 (reçu {value[:20]!r})")
        if value and value not in out:
            out.append(value)
    return tuple(out)


def search_request(args: MultiDict, settings: dict, facet_size: int | None = None) -> SearchRequest:
    """The SearchRequest a query string asks for; InvalidRequest for any bad parameter."""
    sort = single(args, "sort", "relevance")
    if sort not in SORTS:
        raise InvalidRequest("bad_sort", f"« sort » doit valoir {', '.join(SORTS)}")
    date_from = date_bound(single(args, "from"), "from")
    date_to = date_bound(single(args, "to"), "to")
    if date_from and date_to and dates.bound(date_from, high=False) > dates.bound(date_to, high=True):
        raise InvalidRequest("bad_date", "la date de début (« from », « Du ») est postérieure à la date de fin (« to », « Au »)")
    excluded = {field: values(args, param) for param, field in EXCLUDES.items()}
    collapse = single(args, "collapse", "story")
    if collapse not in COLLAPSES:
        raise InvalidRequest("bad_collapse", f"« collapse » doit valoir {' ou '.join(COLLAPSES)}")
    return SearchRequest(
        q=query_text(single(args, "q")),
        people=values(args, "person"),
        places=values(args, "place"),
        sources=values(args, "source"),
        urgencies=values(args, "urgency"),
        genres=values(args, "genre"),
        subjects=values(args, "subject"),
        languages=values(args, "language"),
        sluglines=values(args, "slugline"),
        **excluded,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        page=integer(args, "page", 1, 1, MAX_PAGE),
        per_page=integer(args, "per_page", settings["PER_PAGE"], 1, MAX_PER_PAGE),
        facet_size=facet_size or integer(args, "facet_size", settings["FACET_SIZE"], 1, MAX_FACET_SIZE),
        time_budget_ms=settings["TIME_BUDGET_MS"],
        correct=boolean(args, "correct", True),
        collapse=collapse,
    )


def valid_doc_id(doc_id: str) -> bool:
    """Whether a URL segment can be a document id (the same rule as documents.clean_id)."""
    return (
        0 < len(doc_id) <= MAX_ID_LENGTH
        and doc_id == doc_id.strip()
        and doc_id not in (".", "..")
        and not re.search(r"[\x00-\x1f\x7f/\\\ud800-\udfff]", doc_id)
    )


# ---------------------------------------------------------------- search state -> URLs


def state(req: SearchRequest, *, keep_per_page: bool = False) -> list[tuple[str, str]]:
    """The query-string pairs that reproduce a request (page excluded, defaults omitted)."""
    pairs: list[tuple[str, str]] = []
    if req.q:
        pairs.append(("q", req.q))
    for param, field in FILTERS.items():
        pairs.extend((param, v) for v in getattr(req, field))
    for param, field in EXCLUDES.items():
        pairs.extend((param, v) for v in getattr(req, field))
    if req.date_from:
        pairs.append(("from", req.date_from))
    if req.date_to:
        pairs.append(("to", req.date_to))
    if req.sort != "relevance":
        pairs.append(("sort", req.sort))
    if not req.correct:  # the words as typed stay as typed on every page and facet of this search
        pairs.append(("correct", "0"))
    if req.collapse != "story":
        pairs.append(("collapse", req.collapse))
    if keep_per_page:
        pairs.append(("per_page", str(req.per_page)))
    return pairs


def query_string(pairs: list[tuple[str, str]]) -> str:
    """``?a=b&...`` or the empty string."""
    return "?" + urlencode(pairs) if pairs else ""


def toggled(pairs: list[tuple[str, str]], param: str, value: str) -> list[tuple[str, str]]:
    """The pairs with one filter value added, or removed if it is there."""
    if (param, value) in pairs:
        return [p for p in pairs if p != (param, value)]
    return pairs + [(param, value)]


def with_month(pairs: list[tuple[str, str]], month: str | None) -> list[tuple[str, str]]:
    """The pairs restricted to one month (from = to = month), or to no dates if month is None."""
    rest = [p for p in pairs if p[0] not in ("from", "to")]
    return rest + [("from", month), ("to", month)] if month else rest


def replaced(pairs: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    """The pairs with a scalar parameter set in place (appended if absent, dropped when value is None)."""
    out, done = [], False
    for p in pairs:
        if p[0] != name:
            out.append(p)
        elif value is not None and not done:
            out.append((name, value))
            done = True
    if value is not None and not done:
        out.append((name, value))
    return out
