"""HTTP edge cases below the views: broken UTF-8 in the query string, OPTIONS, the server's own limits.

Raw bytes are sent two ways: as a WSGI environ (what any WSGI server hands the app) and over a
real socket to the served app (what the parser in front of it does with them).
"""
from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder

from search.analysis import SCHEMA_VERSION

# Query strings as they arrive: raw non-UTF-8 bytes, percent-encoded invalid UTF-8 and an encoded
# UTF-16 surrogate. All are refused the same way (documented in the README and the OpenAPI).
BROKEN_QUERIES = [b"q=\xff", b"q=caf\xe9", b"q=%FF", b"q=%C3", b"q=%ED%A0%BD", b"q=ok&person=%FF"]
GOOD_QUERIES = [b"q=caf%C3%A9", b"q=caf\xc3\xa9"]  # percent-encoded and raw UTF-8 alike


def call_wsgi(app, path: str, query: bytes) -> tuple[int, dict, bytes]:
    """Call the WSGI app with a raw query string, as a WSGI server would pass it (latin-1 str)."""
    environ = EnvironBuilder(path=path).get_environ()
    environ["QUERY_STRING"] = query.decode("latin-1")
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.mark.parametrize("query", BROKEN_QUERIES)
@pytest.mark.parametrize("path", ["/api/search", "/api/suggest", "/", "/doc/afp-001"])
def test_broken_utf8_in_the_query_string_is_400(web_app, path, query):
    status, headers, body = call_wsgi(web_app, path, query)
    assert status == 400, body[:300]
    if path.startswith("/api/"):
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "bad_encoding"
    else:
        assert headers["Content-Type"].startswith("text/html")
        assert 'data-error-code="bad_encoding"' in body.decode() and "UTF-8" in body.decode()
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query", GOOD_QUERIES)
def test_utf8_query_string_raw_or_encoded_is_searched(web_app, query):
    status, _, body = call_wsgi(web_app, "/api/search", query)
    assert status == 200 and json.loads(body)["query"] == "café"
