"""The OpenAPI 3.1 description of the HTTP interface, built from the same limits the code enforces."""
from __future__ import annotations

from functools import lru_cache

from search.documents import MAX_ID_LENGTH
from search.model import FACETS, MAX_FACET_SIZE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, SORTS

from .params import DATE_PATTERN, MAX_FILTER_VALUES, MAX_SUGGEST_LIMIT, MAX_VALUE_LENGTH



def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


NULLABLE_STRING = {"type": ["string", "null"]}
STRINGS = {"type": "array", "items": {"type": "string"}}


def _filter_param(name: str, what: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "description": f"{what}; repeat the parameter to select several (all must match).",
        "schema": {"type": "array", "items": {"type": "string", "maxLength": MAX_VALUE_LENGTH}, "maxItems": MAX_FILTER_VALUES},
        "style": "form",
        "explode": True,
    }


def _search_params(facet_size: bool) -> list[dict]:
    params = [
        {"name": "q", "in": "query", "description": "Query text (French; accents and case are optional).",
         "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}},
        _filter_param("person", "Only dispatches naming this person"),
        _filter_param("place", "Only dispatches naming this place"),
        _filter_param("source", "Only dispatches from this source"),
        {"name": "from", "in": "query", "description": "First date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.",
         "schema": {"type": "string", "pattern": DATE_PATTERN}},
        {"name": "to", "in": "query", "description": "Last date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.",
         "schema": {"type": "string", "pattern": DATE_PATTERN}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10}},
    ]
    if facet_size:
        params.append({"name": "facet_size", "in": "query", "description": "Values returned per facet.",
                       "schema": {"type": "integer", "minimum": 1, "maximum": MAX_FACET_SIZE, "default": 10}})
    return params


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Machine-readable, e.g. bad_page, bad_per_page, bad_date, bad_sort, bad_filter, "
                             "repeated_parameter, query_too_long, document_not_found, not_found, method_not_allowed, "
                             "index_missing, index_version_mismatch, internal_error."},
                    "message": {"type": "string", "description": "For people, in French."},
                },
            }
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "title", "title_html", "date", "source", "url", "snippet_html", "score", "people", "places"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "title_html": {"type": "string", "description": "Escaped title; matched words in <mark>."},
            "date": NULLABLE_STRING,
            "source": NULLABLE_STRING,
            "url": NULLABLE_STRING,
            "snippet_html": {"type": "string", "description": "Escaped passage; matched words in <mark>."},
            "score": {"type": "number"},
            "people": STRINGS,
            "places": STRINGS,
        },
    },
    "FacetItem": {
        "type": "object",
        "required": ["value", "count", "selected"],
        "properties": {
            "value": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "selected": {"type": "boolean"},
            "toggle_url": {"type": "string", "description": "This search with the value selected, or deselected if it was."},
        },
    },
    "SearchResponse": {
        "type": "object",
        "required": ["query", "total", "page", "per_page", "took_ms", "hits", "facets", "corrected_query", "notice", "partial"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "took_ms": {"type": "number"},
            "hits": {"type": "array", "items": _ref("Hit")},
            "facets": {
                "type": "object",
                "description": "dates values are months (YYYY-MM).",
                "properties": {f: {"type": "array", "items": _ref("FacetItem")} for f in FACETS},
            },
            "corrected_query": {**NULLABLE_STRING, "description": "A spelling correction with more results (did you mean)."},
            "notice": {**NULLABLE_STRING, "description": "E.g. the query was malformed and searched as plain words."},
            "partial": {"type": "boolean", "description": "The time budget ran out: results may be incomplete."},
            "sort": {"type": "string", "enum": list(SORTS)},
            "generation": {"type": ["integer", "null"]},
        },
    },
    "Document": {
        "type": "object",
        "required": ["id", "title", "title_html", "lead_html", "body_html"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "title_html": {"type": "string"},
            "lead_html": {"type": "string"},
            "body_html": {"type": "string", "description": "Escaped text in <p> paragraphs and <h3 class=\"subhead\"> sub-heads; query words in <mark>."},
            "date": NULLABLE_STRING,
            "source": NULLABLE_STRING,
            "section": NULLABLE_STRING,
            "url": NULLABLE_STRING,
            "people": STRINGS,
            "places": STRINGS,
        },
    },
    "Suggestions": {
        "type": "object",
        "required": ["terms", "people", "places"],
        "properties": {"terms": {"type": "array"}, "people": {"type": "array"}, "places": {"type": "array"}},
    },
    "Health": {
        "type": "object",
        "required": ["generation", "documents", "schema_version", "status"],
        "properties": {
            "generation": {"type": ["integer", "null"]},
            "documents": {"type": "integer", "minimum": 0},
            "schema_version": {"type": ["string", "null"], "description": "The analyzer version the index was built with."},
            "status": {"type": "string"},
        },
    },
}

BAD_REQUEST = _error("Invalid parameter (page 0, per_page too large, bad date, unknown sort, repeated parameter, query too long...).")
UNAVAILABLE = _error("No usable index (missing, or built with another analyzer version).")
NOT_ALLOWED = _error("Method not allowed (the API is read-only: GET and HEAD).")
INTERNAL = _error("Unexpected server error.")


def _get(summary: str, params: list[dict], ok: dict, *extra: tuple[str, dict]) -> dict:
    responses = {"200": ok, "400": BAD_REQUEST}
    responses.update(dict(extra))
    responses.update({"405": NOT_ALLOWED, "500": INTERNAL, "503": UNAVAILABLE})
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOC_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH}}
HIGHLIGHT = {"name": "q", "in": "query", "description": "Words to highlight.", "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}}


@lru_cache(maxsize=1)
def spec() -> dict:
    """The OpenAPI document (built once)."""
    paths = {
        "/api/search": _get("Search dispatches", _search_params(True), _json(_ref("SearchResponse"))),
        "/api/documents/{id}": _get("One whole dispatch", [DOC_ID, HIGHLIGHT], _json(_ref("Document")),
                                    ("404", _error("No dispatch has this id."))),
        "/api/suggest": _get(
            "Completions for a prefix: terms, people, places",
            [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH}},
             {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SUGGEST_LIMIT}}],
            _json(_ref("Suggestions")),
        ),
        "/healthz": _get("Index generation, document count, analyzer version", [], _json(_ref("Health"))),
        "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json({"type": "object"})}}},
        "/": {"get": {"summary": "Search page (HTML)", "parameters": _search_params(False),
                      "responses": {"200": _html("Results page"), "400": _html("Invalid parameter"),
                                    "503": _html("No usable index")}}},
        "/doc/{id}": {"get": {"summary": "Dispatch page (HTML)", "parameters": [DOC_ID, HIGHLIGHT],
                              "responses": {"200": _html("The dispatch"), "400": _html("Invalid parameter"),
                                            "404": _html("No dispatch has this id"), "503": _html("No usable index")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dépêche",
            "version": "1.0.0",
            "description": "Full-text search of French news dispatches. Every error is "
                           '`{"error": {"code", "message"}}` with a French message.',
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
