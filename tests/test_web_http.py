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


# ---------------------------------------------------------------- OPTIONS


@pytest.mark.parametrize("path", ["/api/search", "/api/documents/afp-001", "/healthz", "/"])
def test_options_is_204_with_allow_and_no_body(client, path):
    r = client.options(path)
    assert r.status_code == 204 and r.data == b""
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "Content-Type" not in r.headers
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------- the real server (gunicorn.conf.py)

HEADER_TIMEOUT = 3  # seconds, short so that the deadline is seen within the test
CLOSE = b"Host: t\r\nConnection: close\r\n\r\n"
# (raw request, status, JSON or not). The server percent-encodes raw bytes of the request line,
# so the app answers them as it answers them encoded; the limits are gunicorn's old ones.
REPLAYS = [
    (b"GET /api/search?q=\xff HTTP/1.1\r\n" + CLOSE, 400, True),
    (b"GET /?q=\xff HTTP/1.1\r\n" + CLOSE, 400, False),
    (b"GET /api/suggest?q=\xff HTTP/1.1\r\n" + CLOSE, 400, True),
    (b"GET /api/search?q=%ED%A0%BD HTTP/1.1\r\n" + CLOSE, 400, True),
    (b"GET /api/search?q=caf\xc3\xa9 HTTP/1.1\r\n" + CLOSE, 200, True),
    (b"GET /\xff HTTP/1.1\r\n" + CLOSE, 404, False),
    (b"GET /api/search?q=" + b"a" * 8200 + b" HTTP/1.1\r\n" + CLOSE, 414, True),
    (b"GET /?q=" + b"a" * 8200 + b" HTTP/1.1\r\n" + CLOSE, 414, False),
    (b"GET /api/search?q=" + b"a" * 8000 + b" HTTP/1.1\r\n" + CLOSE, 400, True),  # within the line limit: the app's query_too_long
    (b"GET /api/search HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(99)) + CLOSE, 431, True),
    (b"GET /api/search HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(98)) + CLOSE, 200, True),  # 100 headers
    (b"GET /api/search HTTP/1.1\r\nX-Big: " + b"b" * 17000 + b"\r\n" + CLOSE, 431, True),
    (b"GET /api/search HTTP/1.1\r\nConnection: close\r\n\r\n", 400, True),  # HTTP/1.1 without Host
    (b"BONJOUR\r\n\r\n", 400, False),
    (b"OPTIONS /api/search HTTP/1.1\r\n" + CLOSE, 204, None),
]


@pytest.fixture(scope="module")
def served(web_index, tmp_path_factory):
    """gunicorn with gunicorn.conf.py on the fixture index, with a short head deadline."""
    from servers import gunicorn_server

    with gunicorn_server(web_index, tmp_path_factory.mktemp("served"), DEPECHE_HEADER_TIMEOUT=str(HEADER_TIMEOUT)) as base:
        yield base


def test_hostile_requests_on_the_socket(served):
    from servers import raw_http

    for request, status, api in REPLAYS:
        got, headers, body = raw_http(served, request)
        assert got == status, (request[:60], got, body[:200])
        assert headers["x-content-type-options"] == "nosniff" and "frame-ancestors" in headers["content-security-policy"]
        if api is True:
            assert headers["content-type"] == "application/json"
            if status >= 400:
                assert set(json.loads(body)["error"]) == {"code", "message"}
        elif api is False:
            assert headers["content-type"].startswith("text/html") and b'lang="fr"' in body


def test_slow_clients_do_not_starve_the_workers(served):
    """20 clients sending a header line a second hold no worker; their head deadline ends them (408)."""
    import socket
    import threading
    import time
    import urllib.request

    from servers import get_json

    answers: list[bytes] = []
    paths = ("/healthz", "/api/search?q=munitions", "/?q=munitions")
    for _ in range(4):  # both workers warm (index, spelling tables): the bound below measures waiting only
        for path in paths:
            urllib.request.urlopen(served + path, timeout=10).close()

    def slowloris(n: int) -> None:
        with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1])), timeout=HEADER_TIMEOUT + 5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
            try:
                for i in range(HEADER_TIMEOUT + 3):  # bounded: longer than the deadline, then give up
                    time.sleep(1)
                    s.sendall(b"X-Slow-%d: %d\r\n" % (i, n))
            except OSError:  # closed by the server after its answer
                pass
            answers.append(s.recv(200))

    threads = [threading.Thread(target=slowloris, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # every slow client is connected and trickling
    for path in paths:
        start = time.monotonic()
        with urllib.request.urlopen(served + path, timeout=5) as r:
            assert r.status == 200
        assert time.monotonic() - start < 1.0, path
    assert get_json(served, "/healthz")[1]["schema_version"] == SCHEMA_VERSION
    for t in threads:
        t.join(HEADER_TIMEOUT + 10)
    assert len(answers) == 20 and all(a.startswith(b"HTTP/1.1 408 ") for a in answers), answers[:3]


# ---------------------------------------------------------------- serve.py's own rules


def test_head_limits():
    from web.serve import MAX_HEAD, MAX_HEADER_FIELDS, MAX_REQUEST_LINE, head_problem

    line = b"GET /?q=" + b"a" * (MAX_REQUEST_LINE - 17) + b" HTTP/1.1"
    assert len(line) == MAX_REQUEST_LINE and head_problem(line + b"\r\n\r\n") is None
    assert head_problem(b"G" + line) == 414  # refused before its end arrives
    fields = b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADER_FIELDS))
    assert head_problem(b"GET / HTTP/1.1\r\n" + fields + b"\r\n") is None
    assert head_problem(b"GET / HTTP/1.1\r\n" + fields) is None  # incomplete, at the limit
    assert head_problem(b"GET / HTTP/1.1\r\n" + fields + b"X: 1\r\n") == 431
    assert head_problem(b"GET / HTTP/1.1\r\nX: " + b"x" * MAX_HEAD) == 431


def test_a_stuck_request_withholds_the_heartbeat():
    from web.serve import BoundedApp, should_notify

    app = BoundedApp(lambda environ, start_response: [])
    assert app.oldest_age() == 0.0 and should_notify(app.oldest_age(), 15)
    app.started = {1: 100.0, 2: 110.0}
    assert app.oldest_age(now=114.0) == 14.0 and should_notify(app.oldest_age(now=114.0), 15)
    assert not should_notify(app.oldest_age(now=116.0), 15)


def test_requests_beyond_the_bound_get_a_json_503():
    import asyncio

    from web.serve import BoundedApp

    app = BoundedApp(lambda environ, start_response: [], max_in_flight=0)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "path": "/api/search", "query_string": b""}, None, send))
    start, body = sent
    headers = dict(start["headers"])
    assert start["status"] == 503 and headers[b"retry-after"] and headers[b"x-content-type-options"] == b"nosniff"
    assert json.loads(body["body"])["error"]["code"] == "overloaded"
