"""Exporting a whole result set: rows for CSV and JSON Lines, produced one at a time.

The web layer streams what these generators yield; nothing here holds more than one row. The
ranking runs once, under the request's time budget (``Engine.results``); each row's stored
fields and plain snippet are read only when the row is asked for, and the rows stop at
``MAX_EXPORT_ROWS`` (or the limit given).

Columns: id, date, title, source, url, people, places, story, snippet. ``story`` is the id of the
story the dispatch is a version of (``stories.py``; empty, null in JSON Lines, for an index built
before stories); like a search, an export has one row per story unless ``collapse`` is "none".
``snippet`` is plain text (the dispatch's opening, no markup). In CSV, people and places are
joined with `` | ``.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator


from . import folding
from .model import Hit, InvalidRequest, SearchRequest, SearchResponse, Segment, plain_text

MAX_EXPORT_ROWS = 10_000
COLUMNS = ("id", "date", "title", "source", "url", "people", "places", "story", "snippet")
LIST_JOINER = " | "
# The separators a CSV export may use: `;` for Excel in French locales (the default, with a
# BOM so Excel reads UTF-8), `,` for everything else, or a tab.
SEPARATORS = {";": ";", ",": ",", "tab": "\t"}
ROWS_PER_CHUNK = 100  # rows joined into one piece of the stream
# What a spreadsheet would run as a formula at the start of a cell (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def plain(segments: list[Segment] | None) -> str:
    """Segments (a snippet) as plain text on one line, marks dropped."""
    return " ".join(plain_text(segments or []).split())


def row(hit: Hit) -> dict:
    """One export row of a hit: every column, lists as lists."""
    return {
        "id": hit.id,
        "date": hit.date,
        "title": hit.title,
        "source": hit.source,
        "url": hit.url,
        "people": list(hit.people),
        "places": list(hit.places),
        "story": hit.story,
        "snippet": plain(hit.snippet_segments),
    }


def rows(engine, req: SearchRequest, limit: int = MAX_EXPORT_ROWS) -> tuple[SearchResponse, Iterator[dict]]:
    """(the result set's summary, its rows in the request's order, at most ``limit``).

    Invalid requests raise InvalidRequest here, before any row; the rows are built lazily.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_EXPORT_ROWS:
        raise InvalidRequest("bad_limit", f"« limit » doit être compris entre 0 et {MAX_EXPORT_ROWS}")
    resp, hits = engine.results(req, limit)
    return resp, (row(h) for h in hits)


def _cell(value) -> str:
    """A CSV cell: lists joined, None empty, a would-be formula prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = LIST_JOINER.join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_chunks(items: Iterable[dict], sep: str = ";", bom: bool = True) -> Iterator[str]:
    """CSV text (header line first, CRLF line ends, RFC 4180 quoting), a few rows per piece.

    ``bom``: start with U+FEFF, so that Excel reads the file as UTF-8.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    head = ("\ufeff" if bom else "") + buf.getvalue()
    buf.seek(0)
    buf.truncate()
    yield head
    n = 0
    for item in items:
        writer.writerow([_cell(item[c]) for c in COLUMNS])
        n += 1
        if n % ROWS_PER_CHUNK == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def jsonl_chunks(items: Iterable[dict]) -> Iterator[str]:
    """JSON Lines: one object per row (UTF-8, not ASCII-escaped), a few rows per piece."""
    lines: list[str] = []
    for item in items:
        lines.append(json.dumps(item, ensure_ascii=False) + "\n")
        if len(lines) == ROWS_PER_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def slug(req: SearchRequest, max_length: int = 60) -> str:
    """A file-name part for a search: its words and filter values in ASCII, ``recherche`` if none."""
    parts = [req.q, *req.people, *req.places, *req.sources, req.date_from or "", req.date_to or ""]
    text = folding.ascii_slug(" ".join(p for p in parts if p))
    return text[:max_length].rstrip("-") or "recherche"
