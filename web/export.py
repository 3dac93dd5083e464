"""Export of a whole result set: ``/api/export.csv`` and ``/api/export.jsonl``, streamed.

The parameters of ``/api/search`` (``page``, ``per_page`` and ``facet_size`` are read, checked and
ignored), plus ``limit`` (rows, at most MAX_EXPORT_ROWS) and, for CSV, ``sep`` (``;`` by default,
``,`` or ``tab``) and ``bom`` (1 by default: a UTF-8 byte-order mark, so that Excel in a French
locale opens the file right). Errors come before the first byte, as the API's JSON errors; the
rows are produced while the response is sent (search.export).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, stream_with_context, url_for

from search import export
from search.model import MAX_PAGE, InvalidRequest

from .api import engine
from .params import boolean, integer, query_string, search_request, single, state

bp = Blueprint("export", __name__)

CSV_TYPE = "text/csv"
JSONL_TYPE = "application/jsonl"  # sent with charset=utf-8


def _stream(chunks, mimetype: str, filename: str, resp, rows: int) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Total-Count": str(resp.total),  # dispatches matching
        "X-Story-Count": str(resp.stories),  # stories among them
        "X-Export-Rows": str(rows),  # rows in this file
        "Cache-Control": "no-store",
    }
    if resp.timed_out:
        headers["X-Timed-Out"] = ", ".join(resp.timed_out)
    return Response(stream_with_context(chunks), content_type=f"{mimetype}; charset=utf-8", headers=headers)


def _rows():
    req = search_request(request.args, current_app.config)
    limit = integer(request.args, "limit", export.MAX_EXPORT_ROWS, 1, export.MAX_EXPORT_ROWS)
    resp, rows = export.rows(engine(), req, limit)
    return req, resp, rows, min(resp.shown_total, limit)


@bp.get("/api/export.csv")
def export_csv():
    """The result set as CSV: `;` and a BOM by default (Excel in French), RFC 4180 quoting."""
    sep = single(request.args, "sep", ";")
    if sep not in export.SEPARATORS:
        raise InvalidRequest("bad_sep", "« sep » doit valoir ; , ou tab")
    bom = boolean(request.args, "bom", True)
    req, resp, rows, n = _rows()
    chunks = export.csv_chunks(rows, export.SEPARATORS[sep], bom)
    return _stream(chunks, CSV_TYPE, f"depeche-{export.slug(req)}.csv", resp, n)


@bp.get("/api/export.jsonl")
def export_jsonl():
    """The result set as JSON Lines, one dispatch per line."""
    req, resp, rows, n = _rows()
    return _stream(export.jsonl_chunks(rows), JSONL_TYPE, f"depeche-{export.slug(req)}.jsonl", resp, n)


@bp.app_template_global()
def export_links(req) -> dict:
    """For the search page: the export URLs of a search (its sort kept), its feed, and the caps."""
    from .feeds import feed_url

    qs = query_string(state(req))
    return {
        "csv": url_for("export.export_csv") + qs,
        "jsonl": url_for("export.export_jsonl") + qs,
        "feed": feed_url(req),
        "max_rows": export.MAX_EXPORT_ROWS,
        "max_pages": MAX_PAGE,
    }
