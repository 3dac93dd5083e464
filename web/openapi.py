"""The OpenAPI 3.1 description of the HTTP interface, built from the same limits the code enforces."""
from __future__ import annotations

from functools import lru_cache

from search.documents import MAX_ID_LENGTH
from search.coverage import STAGES as COVERAGE_STAGES
from search.facets import DATE_GRAINS
from search.model import (
    AGENCY_FACETS,
    COLLAPSES,
    FACETS,
    MAX_FACET_SIZE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    MAX_STORY_VERSIONS,
    PARAGRAPH,
    SORTS,
    SUBHEAD,
)
from search.stories import STORY_ID_LENGTH

from .params import BOOLEANS, DATE_PATTERN, MAX_ENTITY_SIZE, MAX_FILTER_VALUES, MAX_SUGGEST_LIMIT, MAX_VALUE_LENGTH, MAX_VERSION
from .serve import HEADER_TIMEOUT, MAX_HEAD, MAX_HEADER_FIELDS, MAX_IN_FLIGHT, MAX_REQUEST_LINE

MATCHES = ("all", "some", "none")
STAGES = ("expansion", "scoring", "reranking", "facets", "snippets", "corrections")


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


NULLABLE_STRING = {"type": ["string", "null"]}


def _object(properties: dict, optional: tuple[str, ...] = (), description: str | None = None) -> dict:
    """A closed object: every property required unless optional, no other property allowed.

    Closed so that validating real responses against the spec (tests/test_openapi.py) catches a
    field the code returns and the spec does not describe, not only the reverse.
    """
    schema = {"type": "object", "required": [k for k in properties if k not in optional],
              "properties": properties, "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema

STRINGS = {"type": "array", "items": {"type": "string"}}
SEGMENTS = {"type": "array", "items": _ref("Segment")}


def _filter_param(name: str, what: str, any_of: bool = False, how: str | None = None) -> dict:
    how = how or ("any may match; several agency filters must all match" if any_of else "all must match")
    return {
        "name": name,
        "in": "query",
        "description": f"{what}; repeat the parameter to select several ({how}).",
        "schema": {"type": "array", "items": {"type": "string", "maxLength": MAX_VALUE_LENGTH}, "maxItems": MAX_FILTER_VALUES},
        "style": "form",
        "explode": True,
    }


FACET_HOW = ("any may match (Paris or Lyon); person, place and source filters must all match each other; "
             "a value also given to the matching not_ parameter is excluded")
EXCLUDE_HOW = ("a dispatch having any of them is left out, before facets are counted; matched like the facet "
               "values, ignoring case and accents")


def _search_params(facet_size: bool) -> list[dict]:
    params = [
        {"name": "q", "in": "query", "description": "Query text (French; accents and case are optional).",
         "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}},
        _filter_param("person", "Only dispatches naming this person", how=FACET_HOW),
        _filter_param("place", "Only dispatches naming this place", how=FACET_HOW),
        _filter_param("source", "Only dispatches from this source", how=FACET_HOW),
        _filter_param("not_person", "Leave out dispatches naming this person (the query's `-personne:…` does the same)", how=EXCLUDE_HOW),
        _filter_param("not_place", "Leave out dispatches naming this place (`-lieu:…` in the query)", how=EXCLUDE_HOW),
        _filter_param("not_source", "Leave out dispatches from this source (`-source:…` in the query)", how=EXCLUDE_HOW),
        {**_filter_param("urgency", "Agency items of this urgency, 1 (flash) to 9", any_of=True),
         # An empty value is no filter (what an empty form field sends).
         "schema": {"type": "array", "items": {"type": "string", "pattern": "^[1-9]?$"}, "maxItems": MAX_FILTER_VALUES}},
        _filter_param("genre", "Agency items of this genre (as the genre facet names it)", any_of=True),
        _filter_param("subject", "Agency items with this subject (IPTC Media Topic, as the subjects facet names it)", any_of=True),
        _filter_param("language", "Agency items in this language (BCP 47 primary tag: fr, en, de...)", any_of=True),
        _filter_param("slugline", "Agency items with this slugline", any_of=True),
        {"name": "from", "in": "query", "description": "First date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.",
         "schema": {"type": "string", "pattern": DATE_PATTERN}},
        {"name": "to", "in": "query", "description": "Last date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.",
         "schema": {"type": "string", "pattern": DATE_PATTERN}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10}},
        {"name": "correct", "in": "query",
         "description": "1 (default): a word no dispatch contains is searched as its spelling correction (listed in "
                        "`corrections` with applied true). 0: search the words exactly as typed.",
         "schema": {"type": "string", "enum": list(BOOLEANS), "default": "1"}},
        {"name": "collapse", "in": "query",
         "description": "story (default): each story (near-duplicate versions of one dispatch, days apart) is one hit, "
                        "its best-ranked version (the newest or oldest with a date sort), and pages count stories; "
                        "none: every dispatch is a hit. `total` counts dispatches and `stories` stories either way.",
         "schema": {"type": "string", "enum": list(COLLAPSES), "default": "story"}},
    ]
    if facet_size:
        params.append({"name": "facet_size", "in": "query", "description": "Values returned per facet.",
                       "schema": {"type": "integer", "minimum": 1, "maximum": MAX_FACET_SIZE, "default": 10}})
    return params


ERROR_CODES = (
    "bad_page, bad_per_page, bad_facet_size, bad_limit, bad_date, bad_sort, bad_filter, bad_correct, bad_collapse, bad_version, "
    "bad_encoding, repeated_parameter, query_too_long, document_not_found, document_withdrawn, story_not_found, not_found, method_not_allowed, payload_too_large, "
    "bad_sep, bad_bom (exports), "
    "bad_json, bad_alert, bad_alert_name, bad_webhook, too_many_alerts, alert_exists, alert_not_found (alerts), "
    "index_missing, index_version_mismatch, index_unavailable, internal_error; answered by the server before the app: "
    "bad_http_request, request_timeout, request_line_too_long, headers_too_large, overloaded."
)

SCHEMAS = {
    "Error": _object({
        "error": _object({
            "code": {"type": "string", "description": "Machine-readable: " + ERROR_CODES},
            "message": {"type": "string", "description": "For people, in French."},
        }),
    }),
    "Segment": _object({
        "text": {"type": "string", "description": "Plain text (not escaped)."},
        "mark": {"type": "boolean", "description": "True: the text is (part of) a query word, to highlight."},
    }, description="A run of text; the text of a field is the concatenation of its segments."),
    "Block": _object({
        "kind": {"type": "string", "enum": [PARAGRAPH, SUBHEAD]},
        "segments": SEGMENTS,
    }, description="A paragraph or a sub-head of a dispatch's body."),
    "Hit": _object({
        "id": {"type": "string"},
        "title": {"type": "string"},
        "title_html": {"type": "string", "description": "Escaped title; matched words in <mark>."},
        "title_segments": {**SEGMENTS, "description": "The title as data: title_html is these segments, escaped, marks in <mark>."},
        "date": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "snippet_html": {"type": "string", "description": "Escaped passage; matched words in <mark>."},
        "snippet_segments": {**SEGMENTS, "description": "The passage as data (fragments joined by « … » segments)."},
        "score": {"type": "number"},
        "people": STRINGS,
        "places": STRINGS,
        "missing": {**STRINGS, "description": "Query words (as typed) this dispatch lacks; only when match is \"some\"."},
        "urgency": {"type": ["integer", "null"], "minimum": 1, "maximum": 9, "description": "Agency items: 1 (flash) to 9."},
        "slugline": NULLABLE_STRING,
        "language": {**NULLABLE_STRING, "description": "Agency items: BCP 47 primary language tag (fr, en, de...)."},
        "version": {"type": ["integer", "null"], "minimum": 1, "description": "Agency items: the version shown (the latest usable one)."},
        "story": {**NULLABLE_STRING, "description": "The story this dispatch is a version of (its versions: /api/story/{story_id}); "
                                                    "null in an index built before stories."},
        "other_versions": {"type": "integer", "minimum": 0,
                           "description": "How many other dispatches of the archive are versions of this story."},
    }),
    "FacetItem": _object({
        "value": {"type": "string"},
        "count": {"type": "integer", "minimum": 0, "description": "Matching dispatches having this value. In a facet with "
                  "selected values, counted without that facet's own selection (values of one facet are any-of): what "
                  "selecting it too would add; the query, exclusions, dates and other facets still apply."},
        "selected": {"type": "boolean"},
        "excluded": {"type": "boolean", "description": "The search excludes this value (not_person, not_place, not_source); its count is then 0."},
        "toggle_url": {"type": "string", "description": "This search with the value selected (its exclusion lifted), or deselected if it was."},
        "exclude_url": {**NULLABLE_STRING, "description": "people, places, sources: this search with the value excluded (its "
                        "selection lifted), or with its exclusion lifted if it was excluded; null for other facets."},
    }),
    "Correction": _object({
        "word": {"type": "string", "description": "As typed."},
        "replacement": {"type": "string", "description": "As the archive spells it."},
        "applied": {"type": "boolean", "description": "True: searched as the replacement (correct=0 undoes it); false: only suggested."},
    }),
    "SearchResponse": _object({
        "query": {"type": "string"},
        "total": {"type": "integer", "minimum": 0, "description": "Dispatches matching."},
        "stories": {"type": ["integer", "null"], "minimum": 0,
                    "description": "Stories among the dispatches matching (always counted by /api/search)."},
        "collapse": {"type": "string", "enum": list(COLLAPSES),
                     "description": "story: one hit per story, pages count stories; none: one hit per dispatch."},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "took_ms": {"type": "number"},
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": {
            "type": "object",
            "description": "dates values are at date_grain (YYYY, YYYY-MM or YYYY-MM-DD), in time order, every non-empty one "
                           "(facet_size does not apply); a dispatch dated only by its year or month counts under that coarser "
                           "value. At the month and day grains they cover the whole years or month around the range chosen, "
                           "counted without the date filter (context); selected marks the value the range is exactly. The agency facets (" + ", ".join(AGENCY_FACETS) + ") are "
                           "there only when the index holds agency items (NewsML-G2, ninjs); urgency values are 1 to 9, "
                           "language values BCP 47 primary tags.",
            "properties": {f: {"type": "array", "items": _ref("FacetItem")} for f in (*FACETS, *AGENCY_FACETS)},
            "additionalProperties": False,
        },
        "corrected_query": {**NULLABLE_STRING, "description": "The query with spelling suggestions not already applied (did you mean)."},
        "notice": {**NULLABLE_STRING, "description": "E.g. the query was malformed and searched as plain words."},
        "partial": {"type": "boolean", "description": "The time budget ran out: results may be incomplete (see timed_out)."},
        "sort": {"type": "string", "enum": list(SORTS)},
        "generation": {"type": ["integer", "null"]},
        "match": {"type": "string", "enum": list(MATCHES),
                  "description": "all: every hit has every query word; some: no dispatch has them all, hits are partial "
                                 "matches (see each hit's missing); none: no dispatch matches."},
        "corrections": {"type": "array", "items": _ref("Correction")},
        "timed_out": {"type": "array", "items": {"type": "string", "enum": list(STAGES)},
                      "description": "Stages the time budget cut short; not empty exactly when partial is true."},
        "date_grain": {"type": "string", "enum": list(DATE_GRAINS),
                       "description": "The grain of the dates facet: year over more than three years (or nothing dated), "
                                      "month within a few years, day within one month; of the range chosen, its open "
                                      "sides narrowed to the matches."},
    }),
    "Document": _object({
        "id": {"type": "string"},
        "title": {"type": "string"},
        "title_html": {"type": "string", "description": "Escaped title; query words in <mark>."},
        "title_segments": SEGMENTS,
        "title_derived": {"type": "boolean", "description": "The dispatch had no title: this one is made from its lead or body."},
        "lead": NULLABLE_STRING,
        "lead_html": {"type": "string", "description": "Escaped lead; query words in <mark>."},
        "lead_segments": SEGMENTS,
        "body_html": {"type": "string", "description": "Escaped text in <p> paragraphs and <h3 class=\"subhead\"> sub-heads; query words in <mark>."},
        "body_blocks": {"type": "array", "items": _ref("Block"), "description": "The body as data: body_html is these blocks rendered."},
        "date": NULLABLE_STRING,
        "source": {**NULLABLE_STRING, "description": "The agency or outlet, one spelling per source (« Orange avec AFP » is AFP)."},
        "byline": {**NULLABLE_STRING, "description": "Who signed the dispatch, when its source field named a writer."},
        "section": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "people": STRINGS,
        "places": STRINGS,
        "generation": {"type": ["integer", "null"], "description": "The index generation the dispatch was read from."},
        "status": {"type": "string", "enum": ["usable"],
                   "description": "Always usable here: a killed or withheld agency item answers 410 document_withdrawn."},
        "versions": {"type": "array", "items": _ref("Version"),
                     "description": "Agency items: every version received of the story (empty for other dispatches)."},
        "urgency": {"type": ["integer", "null"], "minimum": 1, "maximum": 9, "description": "Agency items: 1 (flash) to 9."},
        "genre": NULLABLE_STRING,
        "slugline": NULLABLE_STRING,
        "subjects": {**STRINGS, "description": "Agency items: subject names (IPTC Media Topics, in French when known)."},
        "language": {**NULLABLE_STRING, "description": "Agency items: BCP 47 primary language tag (fr, en, de...)."},
        "embargo": {**NULLABLE_STRING, "description": "Agency items: the embargo's release time (ISO 8601), already past."},
        "shown_version": {"type": ["integer", "null"], "minimum": 1,
                          "description": "Agency items: the version whose text this is (the live one unless `version` "
                                         "asked for another); null for other dispatches."},
    }, optional=("generation",)),
    "Version": _object({
        "version": {"type": "integer", "minimum": 1},
        "version_created": {**NULLABLE_STRING, "description": "ISO 8601 time the agency created this version."},
        "pub_status": {"type": "string", "enum": ["usable", "withheld", "canceled"],
                       "description": "canceled is a kill; withheld and canceled withdraw the story."},
        "title": NULLABLE_STRING,
        "changed": {"type": ["string", "null"], "description": "What this version changed, as the agency said it."},
    }),
    "Suggestions": _object({
        "terms": STRINGS, "people": STRINGS, "places": STRINGS,
        "pages": _object({"people": STRINGS, "places": STRINGS},
                         description="The page (/personne/…, /lieu/…) of each person and place suggested, in the same order."),
    }),
    "Alongside": _object({
        "value": {"type": "string", "description": "A person or place named in the same dispatches."},
        "count": {"type": "integer", "minimum": 1, "description": "Dispatches naming both, over the whole archive."},
        "page_url": {"type": "string", "description": "Its own page."},
        "search_url": {"type": "string", "description": "The search page showing the dispatches naming both."},
    }),
    "EntityPage": _object({
        "kind": {"type": "string", "enum": ["people", "places"]},
        "name": {"type": "string", "description": "As the archive spells it (the name asked may differ in case, accents, "
                                                  "or be a surname the archive reads as this full name)."},
        "total": {"type": "integer", "minimum": 1, "description": "Dispatches naming it."},
        "page_url": {"type": "string"},
        "search_url": {"type": "string", "description": "The search page filtered on it."},
        "also_named": {**STRINGS, "description": "People: surnames alone that the archive reads as this person "
                                                 "(unambiguous in every period they occur in)."},
        "namesakes": {"type": "array", "description": "People: a surname the archive leaves apart (two people share it "
                                                      "in some period) lists the full names it may stand for, most named first.",
                      "items": _object({"value": {"type": "string"}, "count": {"type": "integer", "minimum": 1},
                                        "page_url": {"type": "string"}})},
        "date_grain": {"type": "string", "enum": list(DATE_GRAINS)},
        "dates": {"type": "array", "description": "Mentions over time at date_grain, in time order (as the search's dates facet).",
                  "items": _object({"value": {"type": "string"}, "count": {"type": "integer", "minimum": 1},
                                    "search_url": {"type": "string", "description": "The search page on it in that period."}})},
        "people": {"type": "array", "items": _ref("Alongside"), "description": "People most often named alongside, most first."},
        "places": {"type": "array", "items": _ref("Alongside"), "description": "Places most often named alongside, most first."},
        "latest": {"type": "array", "items": _ref("Hit"), "description": "Its latest dispatches, newest first (undated last); score 0."},
        "partial": {"type": "boolean", "description": "The time budget ran out: some parts may be missing (see timed_out)."},
        "timed_out": {"type": "array", "items": {"type": "string", "enum": list(COVERAGE_STAGES)}},
    }),
    "Story": _object({
        "id": {"type": "string"},
        "total": {"type": "integer", "minimum": 1, "description": "Versions of the story in the archive."},
        "versions": {"type": "array", "items": _ref("StoryVersion"), "maxItems": MAX_STORY_VERSIONS,
                     "description": f"The newest first, at most {MAX_STORY_VERSIONS}."},
    }),
    "StoryVersion": _object({
        "id": {"type": "string", "description": "The dispatch (/api/documents/{id})."},
        "title": {"type": "string"},
        "date": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "url": NULLABLE_STRING,
        "changed": {"type": "string", "description": "What it changed from the version before it, in French "
                                                     "(« première version » for the first)."},
        "added": {**STRINGS, "description": "Paragraphs (lead and body) it added to the version before it."},
        "removed": {**STRINGS, "description": "Paragraphs of the version before it that it no longer has."},
    }),
    "Health": _object({
        "generation": {"type": ["integer", "null"]},
        "documents": {"type": "integer", "minimum": 0},
        "schema_version": {"type": ["string", "null"], "description": "The analyzer version the index was built with."},
        "status": {"type": "string"},
    }),
}

BAD_REQUEST = _error("Invalid parameter (page 0, per_page too large, bad date, unknown sort, correct not 0/1/true/false, "
                     "version not a positive integer, "
                     "repeated parameter, query too long...), a query string that is not UTF-8 (raw or percent-encoded: "
                     "bad_encoding), or a malformed HTTP request.")
UNAVAILABLE = _error(f"No usable index (missing, or built with another analyzer version), or more than {MAX_IN_FLIGHT} "
                     "requests in flight in one worker (overloaded, with Retry-After).")
NOT_ALLOWED = _error("Method not allowed (the API is read-only: GET and HEAD).")
INTERNAL = _error("Unexpected server error.")


SERVER_LIMITS = {
    "408": _error(f"The request head did not arrive within {HEADER_TIMEOUT:g} s (answered by the server, before the app)."),
    "414": _error(f"Request line longer than {MAX_REQUEST_LINE} bytes (answered by the server)."),
    "431": _error(f"More than {MAX_HEADER_FIELDS} headers, or a request head over {MAX_HEAD} bytes (answered by the server)."),
}


def _options(params: list[dict]) -> dict:
    """The OPTIONS operation every route has: the same for any value of a path parameter."""
    return {"options": {
        "summary": "The methods this route allows",
        "parameters": [{"name": p["name"], "in": "path", "required": True, "schema": {"type": "string"}}
                       for p in params if p["in"] == "path"],
        "responses": {"204": {"description": "No body; the Allow header lists GET, HEAD, OPTIONS.",
                              "headers": {"Allow": {"schema": {"type": "string"}}}}},
    }}


def _get(summary: str, params: list[dict], ok: dict, *extra: tuple[str, dict]) -> dict:
    responses = {"200": ok, "400": BAD_REQUEST}
    responses.update(dict(extra))
    responses.update({"405": NOT_ALLOWED, **SERVER_LIMITS, "500": INTERNAL, "503": UNAVAILABLE})
    return {"get": {"summary": summary, "parameters": params, "responses": responses}, **_options(params)}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOC_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}}
HIGHLIGHT = {"name": "q", "in": "query", "description": "Words to highlight.", "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}}
VERSION = {"name": "version", "in": "query",
           "description": "Agency items: show this version of the story (a number from its `versions`), as the agency "
                          "sent it; the live version when absent. Not a positive integer: 400 bad_version. A version "
                          "never received, or a kill or withheld notice: 404. A withdrawn story stays 410 whatever the version.",
           "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}}


def export_paths() -> dict:
    """The Atom feed of a search and the exports of a whole result set (web/feeds.py, web/export.py)."""
    from search.export import COLUMNS, MAX_EXPORT_ROWS, SEPARATORS

    from .feeds import FEED_ENTRIES

    ignored = "`sort`, `page`, `per_page` and `facet_size` are read and checked (400 when invalid) but"
    limit = {"name": "limit", "in": "query", "description": f"At most this many rows (default and maximum {MAX_EXPORT_ROWS}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_EXPORT_ROWS, "default": MAX_EXPORT_ROWS}}
    sep = {"name": "sep", "in": "query", "description": "Column separator: `;` (default, what Excel expects in French "
                                                       "locales), `,` or `tab`.",
           "schema": {"type": "string", "enum": list(SEPARATORS), "default": ";"}}
    bom = {"name": "bom", "in": "query", "description": "1 (default): the file starts with a UTF-8 byte-order mark, so "
                                                       "that Excel reads it as UTF-8; 0: none.",
           "schema": {"type": "string", "enum": list(BOOLEANS), "default": "1"}}
    headers = {
        "Content-Disposition": {"description": 'attachment; filename="depeche-<words of the search>.<csv|jsonl>"',
                                "schema": {"type": "string"}},
        "X-Total-Count": {"description": "Dispatches matching the search.", "schema": {"type": "integer"}},
        "X-Story-Count": {"description": "Stories among them (one row each unless collapse=none).", "schema": {"type": "integer"}},
        "X-Export-Rows": {"description": "Rows in this file: the stories (every dispatch with collapse=none), at most `limit`.",
                          "schema": {"type": "integer"}},
        "X-Timed-Out": {"description": "When the time budget cut a stage short (as `timed_out` in /api/search): "
                                       "the order may be rougher than a search's.", "schema": {"type": "string"}},
    }
    columns = ", ".join(COLUMNS)

    def export(kind: str, media: str, description: str, params: list[dict]) -> dict:
        item = _get(f"The whole result set of a search as {kind}, streamed (at most {MAX_EXPORT_ROWS} rows)",
                    _search_params(True) + params,
                    {"description": description, "headers": headers, "content": {media: {"schema": {"type": "string"}}}})
        item["get"]["description"] = (f"The parameters of /api/search; {ignored} ignored: the rows are the search's "
                                      f"results in its order, from the first, one per story unless collapse=none. Columns: {columns}. "
                                      "`story` is the story id (/api/story/{story_id}; empty for an index built before "
                                      "stories); `snippet` is plain text.")
        return item

    return {
        "/api/export.csv": export(
            "CSV", "text/csv",
            "CSV, UTF-8, a header line then one line per dispatch (CRLF, RFC 4180 quoting); people and places joined "
            "with ` | `; a cell that a spreadsheet would read as a formula (starting with = + - @) is prefixed with `'`.",
            [limit, sep, bom]),
        "/api/export.jsonl": export(
            "JSON Lines", "application/jsonl",
            "One JSON object per line with every column (people and places as arrays).", [limit]),
        "/feed.atom": {"get": {
            "summary": f"The {FEED_ENTRIES} newest dispatches of a search as an Atom 1.0 feed",
            "description": f"The parameters of /api/search; {ignored} ignored: newest first, undated dispatches left "
                           "out. The feed's id is its own address without `sort`; each entry's id is the dispatch "
                           "page's address.",
            "parameters": _search_params(True),
            "responses": {"200": {"description": "Atom 1.0", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                          "400": _html("Invalid parameter (the French error page)"),
                          "503": _html("No usable index")}},
            **_options([])},
    }


def alert_paths() -> dict:
    """Saved searches (web/alerts.py): create, list, read, delete, and the feed of each."""
    from search.alerts import LIST_KEYS, MAX_FILTER_VALUES as MAX_VALUES, MAX_VALUE_LENGTH as VALUE_LENGTH
    from search.alerts import MAX_WEBHOOK_LENGTH, NAME_PATTERN, WEBHOOK_PATTERN

    name = {"type": "string", "pattern": NAME_PATTERN, "maxLength": 64,
            "description": "Letters, digits, then also `.`, `_` or `-`, 1 to 64 characters."}
    name_param = {"name": "name", "in": "path", "required": True, "schema": name}
    values = {"type": "array", "items": {"type": "string", "maxLength": VALUE_LENGTH}, "maxItems": MAX_VALUES}
    urgency = {"type": "array", "items": {"type": "string", "pattern": "^[1-9]?$"}, "maxItems": MAX_VALUES}
    date = {"type": ["string", "null"], "pattern": DATE_PATTERN}
    webhook = {"type": ["string", "null"], "maxLength": MAX_WEBHOOK_LENGTH, "pattern": WEBHOOK_PATTERN,
               "description": "http(s) URL that receives each run's new matches as JSON (POST, retried with "
                              "exponential backoff; X-Depeche-Delivery identifies a delivery)."}
    request_props = {"q": {"type": "string", "maxLength": MAX_QUERY_LENGTH, "description": "Query text, as /api/search's q."},
                     **{k: {**(urgency if k == "urgency" else values), "description": f"As /api/search's `{k}` (a list)."}
                        for k in LIST_KEYS},
                     "from": {**date, "description": "First date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD."},
                     "to": {**date, "description": "Last date, inclusive."}}
    body = _object({"name": name, **request_props, "webhook": webhook},
                   optional=tuple(request_props) + ("webhook",),
                   description="A saved search: its name, the request (at least q or one filter), an optional webhook.")
    SCHEMAS["Alert"] = _object({
        "name": {"type": "string"},
        "q": {"type": "string"},
        **{k: STRINGS for k in LIST_KEYS},
        "from": NULLABLE_STRING, "to": NULLABLE_STRING,
        "webhook": NULLABLE_STRING,
        "created_at": {"type": "string", "description": "ISO 8601, UTC."},
        "matches": {"type": "integer", "minimum": 0, "description": "Dispatches this saved search has matched so far."},
        "feed_url": {"type": "string", "description": "Its Atom feed: the latest matches first."},
    })
    SCHEMAS["AlertList"] = _object({"alerts": {"type": "array", "items": _ref("Alert")}})
    bad_name = _error("A name that cannot be an alert's (bad_alert_name).")
    not_found = _error("No saved search has this name: alert_not_found.")
    common = {"405": NOT_ALLOWED, **SERVER_LIMITS, "500": INTERNAL, "503": UNAVAILABLE}
    options = _options([name_param])["options"]
    options["responses"]["204"]["description"] = "No body; the Allow header lists the methods of this route."
    return {
        "/api/alerts": {
            "get": {"summary": "The saved searches, by name", "parameters": [],
                    "responses": {"200": _json(_ref("AlertList")), "400": BAD_REQUEST, **common}},
            "post": {
                "summary": "Save a search",
                "description": "After each `index add` (and each `index watch` batch) every saved search is run "
                               "over the dispatches just added, and their new matches recorded (its feed) and "
                               "sent to its webhook. A dispatch that does not have every query word is not a match.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {
                    "201": {**_json(_ref("Alert"), "Created"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "400": _error("Not a JSON object (bad_json), an unknown field (bad_alert), a bad name "
                                  "(bad_alert_name), webhook (bad_webhook), filter (bad_filter), date (bad_date), "
                                  "query (query_too_long, bad_query), or too many saved searches (too_many_alerts)."),
                    "409": _error("A saved search already has this name: alert_exists."),
                    "413": _error("Body over 64 KiB: payload_too_large."),
                    **common}},
            **_options([])},
        "/api/alerts/{name}": {
            "get": {"summary": "One saved search", "parameters": [name_param],
                    "responses": {"200": _json(_ref("Alert")), "400": bad_name, "404": not_found, **common}},
            "delete": {"summary": "Delete a saved search and its matches", "parameters": [name_param],
                       "responses": {"204": {"description": "Deleted"}, "400": bad_name, "404": not_found, **common}},
            "options": options},
        "/alerts/{name}/feed.atom": {"get": {
            "summary": "What a saved search matched as an Atom 1.0 feed, the latest matches first",
            "description": "Each entry is a dispatch it matched after an `index add`, updated when it was matched; "
                           "a dispatch withdrawn since is left out.",
            "parameters": [name_param],
            "responses": {"200": {"description": "Atom 1.0", "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                          "400": _html("A name that cannot be an alert's"),
                          "404": _html("No saved search has this name"),
                          "503": _html("No usable index")}},
            **_options([name_param])},
    }


ENTITY_NAME = {"name": "name", "in": "path", "required": True,
               "description": "The name, as shown or in any case and accents; a person's surname alone when the archive "
                              "reads it as one full name.",
               "schema": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH}}
ENTITY_PARAMS = [
    ENTITY_NAME,
    {"name": "size", "in": "query", "description": "People and places alongside, per kind (default 10).",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ENTITY_SIZE}},
    {"name": "latest", "in": "query", "description": "Latest dispatches (default 10).",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ENTITY_SIZE}},
]


def entity_paths() -> dict:
    """The people and places pages and their JSON."""
    out = {}
    for segment, what, kind in (("personne", "person", "people"), ("lieu", "place", "places")):
        out[f"/api/{segment}/{{name}}"] = _get(
            f"A {what}'s mentions over time, the people and places most often named alongside, the latest dispatches",
            ENTITY_PARAMS, _json(_ref("EntityPage")),
            ("404", _error(f"No dispatch names this {what}: {what}_not_found.")))
        out[f"/{segment}/{{name}}"] = {
            "get": {"summary": f"A {what}'s page (HTML)", "parameters": ENTITY_PARAMS,
                    "responses": {"200": _html("The page"),
                                  "302": {"description": "Another spelling of the name, or a surname read as a full "
                                                         "name: redirects to the name's own page."},
                                  "400": _html("Invalid parameter"), "404": _html(f"No dispatch names this {what}"),
                                  "503": _html("No usable index")}},
            **_options([ENTITY_NAME])}
    return out


@lru_cache(maxsize=1)
def spec() -> dict:
    """The OpenAPI document (built once)."""
    paths = {
        "/api/search": _get("Search dispatches", _search_params(True), _json(_ref("SearchResponse"))),
        "/api/documents/{id}": _get("One whole dispatch", [DOC_ID, HIGHLIGHT, VERSION], _json(_ref("Document")),
                                    ("404", _error("No dispatch has this id (or an agency item still under embargo), or "
                                                   "it has no such version to show: document_not_found.")),
                                    ("410", _error("An agency item the agency killed (canceled) or withheld: "
                                                   "document_withdrawn."))),
        "/api/story/{story_id}": _get("The versions of one story, newest first, with what each changed",
                                [{"name": "story_id", "in": "path", "required": True,
                                  "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                                  "description": f"A story id (a hit's `story`: {STORY_ID_LENGTH} hexadecimal digits)."}],
                                _json(_ref("Story")),
                                ("404", _error("No story has this id: story_not_found."))),
        "/api/suggest": _get(
            "Completions for a prefix: terms, people, places",
            [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}},
             {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SUGGEST_LIMIT}}],
            _json(_ref("Suggestions")),
        ),
        **entity_paths(),
        "/healthz": _get("Index generation, document count, analyzer version", [], _json(_ref("Health"))),
        **export_paths(),
        **alert_paths(),
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}, **_options([])},
        "/": {"get": {"summary": "Search page (HTML)", "parameters": _search_params(False),
                      "responses": {"200": _html("Results page"), "400": _html("Invalid parameter"),
                                    "503": _html("No usable index")}}, **_options([])},
        "/doc/{id}": {"get": {"summary": "Dispatch page (HTML)", "parameters": [DOC_ID, HIGHLIGHT, VERSION],
                              "responses": {"200": _html("The dispatch (an earlier version: with a banner saying so)"),
                                            "400": _html("Invalid parameter"),
                                            "404": _html("No dispatch has this id, or no such version to show"),
                                            "410": _html("Withdrawn by the agency: the page says so, with the version history"),
                                            "503": _html("No usable index")}},
                      **_options([DOC_ID])},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dépêche",
            "version": "1.0.0",
            "description": "Full-text search of French news dispatches. Every error of the JSON routes is "
                           '`{"error": {"code", "message"}}` with a French message (HTML pages get a French error page). '
                           "Query strings must be UTF-8, raw or percent-encoded: anything else is a 400 bad_encoding. "
                           f"The server refuses, before the app, a request line over {MAX_REQUEST_LINE} bytes (414), more than "
                           f"{MAX_HEADER_FIELDS} headers or a head over {MAX_HEAD} bytes (431), a head not received within "
                           f"{HEADER_TIMEOUT:g} s (408). OPTIONS on any route is 204 with Allow.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
