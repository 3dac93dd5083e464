"""Serving the Flask app from gunicorn without letting slow clients hold the workers.

gunicorn's sync worker reads a request on the process's only thread, so two clients trickling
header lines held both workers for as long as they liked. Here each gunicorn worker runs an
event loop (uvicorn's h11 protocol) that reads requests asynchronously, and hands complete
requests to the WSGI app in a small thread pool (a2wsgi). On top of uvicorn this module adds
what gunicorn did and uvicorn does not:

- limits on the request head (request line, header count, head size), answered 414/431;
- a deadline for a whole request head (408), so a trickling client cannot keep a socket forever;
- a bound on requests in flight per worker (503 beyond it);
- the worker timeout: a request stuck past it stops the heartbeat, and gunicorn's arbiter kills
  and replaces the worker as it did with sync workers.

Every answer given here, before the app, has the app's error shape and security headers.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time

import h11
from a2wsgi import WSGIMiddleware
from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from .security import HEADERS

MAX_REQUEST_LINE = 8190  # as gunicorn's limit_request_line: the longest URL a browser sends is far shorter
MAX_HEADER_FIELDS = 100  # as gunicorn's limit_request_fields
MAX_HEAD = 16 * 1024  # request line and headers together (h11's default buffer limit)
# A client has this long to send a whole request head, from connecting or from the previous response.
HEADER_TIMEOUT = float(os.environ.get("DEPECHE_HEADER_TIMEOUT", "10"))
# Threads running the app per worker: searching is CPU-bound Python, so a few are enough to keep
# a quick /healthz or page from waiting behind one slow search, and more would only queue on the GIL.
THREADS = int(os.environ.get("DEPECHE_THREADS", "4"))
# Requests admitted per worker (running or queued for a thread); beyond this a 503 says "later".
MAX_IN_FLIGHT = int(os.environ.get("DEPECHE_MAX_IN_FLIGHT", "64"))
RETRY_AFTER = "5"

# status -> (code, French message) of the answers given before the app.
SERVER_ERRORS = {
    400: ("bad_http_request", "Requête HTTP mal formée."),
    408: ("request_timeout", "La requête est arrivée trop lentement."),
    414: ("request_line_too_long", f"L'adresse demandée est trop longue (au plus {MAX_REQUEST_LINE} caractères)."),
    431: ("headers_too_large", f"Les en-têtes de la requête sont trop nombreux ou trop longs (au plus {MAX_HEADER_FIELDS} en-têtes, {MAX_HEAD} octets)."),
    503: ("overloaded", "Le serveur est surchargé. Réessayez dans quelques instants."),
}
REASONS = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long", 431: b"Request Header Fields Too Large",
           503: b"Service Unavailable"}
HEAD_START = 64
_API_TARGET = re.compile(rb"^[A-Z]+ /(?:api(?:[/?]|\s)|healthz(?:[?]|\s))")


def error_body(status: int, api: bool) -> tuple[bytes, bytes]:
    """(content type, body) of an error answered outside a request: JSON for the API, else the French page."""
    code, message = SERVER_ERRORS[status]
    # Before the worker has rendered the app's own bodies (render_error_bodies), the JSON shape.
    return _ERROR_BODIES.get((status, api)) or (
        b"application/json", json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode())


_ERROR_BODIES: dict[tuple[int, bool], tuple[bytes, bytes]] = {}


def render_error_bodies(flask_app) -> None:
    """Render each server error once with the app's own templates (JSON and the HTML page)."""
    from .errors import error_response

    for status, (code, message) in SERVER_ERRORS.items():
        for api, path in ((True, "/api/"), (False, "/")):
            with flask_app.test_request_context(path):
                resp = error_response(status, code, message)
                _ERROR_BODIES[(status, api)] = (resp.headers["Content-Type"].encode(), resp.get_data())


def error_headers(content_type: bytes, length: int, extra: dict | None = None) -> list[tuple[bytes, bytes]]:
    """Headers of an answer given here: type, length, the app's security headers."""
    headers = [(b"content-type", content_type), (b"content-length", str(length).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in {**HEADERS, **(extra or {})}.items()]
    return headers


def head_problem(buffer: bytes) -> int | None:
    """The status refusing a request head (complete or not) that breaks a limit, or None."""
    end = buffer.find(b"\r\n\r\n")
    head = buffer if end < 0 else buffer[:end]
    line_end = head.find(b"\r\n")
    if (line_end if line_end >= 0 else len(head)) > MAX_REQUEST_LINE:
        return 414
    lines = head.split(b"\r\n")
    if lines[-1] == b"":  # an incomplete head: the last header line is ended, the next not begun
        lines.pop()
    if len(head) > MAX_HEAD or len(lines) - 1 > MAX_HEADER_FIELDS:
        return 431
    return None


def escaped_request_line(data: bytes) -> bytes:
    """``data`` with the non-ASCII bytes of its request-line part percent-encoded.

    h11 refuses raw non-ASCII bytes in a request target outright; encoded, they reach the app,
    which serves raw UTF-8 as a browser's percent-encoding and answers other bytes with its own
    400 (bad_encoding) in the right shape for the route, as under any WSGI server.
    """
    end = data.find(b"\n")
    line, rest = (data, b"") if end < 0 else (data[:end], data[end:])
    if line.isascii():
        return data
    return b"".join(bytes([c]) if c < 0x80 else b"%%%02X" % c for c in line) + rest


class Protocol(H11Protocol):
    """uvicorn's h11 protocol with head limits, a head deadline, and errors in the app's shape."""

    head_deadline: asyncio.TimerHandle | None = None
    head_start = b""  # the beginning of the request head being read: says whether it is for the API

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # still reading a request head
            pending = self.conn.trailing_data[0]
            if b"\n" not in pending:
                data = escaped_request_line(data)
            buffered = pending + data
            self.head_start = buffered[:HEAD_START]
            status = head_problem(buffered)
            if status:
                self.refuse(status)
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_deadline()  # the next request on this connection has the same deadline

    def send_400_response(self, msg: str) -> None:
        self.refuse(400)

    def refuse(self, status: int) -> None:
        """Answer ``status`` in the app's error shape and close the connection."""
        self._disarm_head_deadline()
        if self.transport.is_closing():
            return
        self.logger.warning("refused a request: HTTP %s", status)
        content_type, body = error_body(status, bool(_API_TARGET.match(self.head_start)))
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status]), b"connection: close\r\n"]
        head += [b"%s: %s\r\n" % kv for kv in error_headers(content_type, len(body))]
        self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self.head_deadline = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_too_slow(self) -> None:
        self.head_deadline = None
        if self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:
            self.refuse(408)
        else:  # an idle keep-alive connection: nothing was asked, nothing to answer
            self.transport.close()


class BoundedApp:
    """The WSGI app as ASGI, in a thread pool, with a bound on requests in flight."""

    def __init__(self, wsgi_app, threads: int = THREADS, max_in_flight: int = MAX_IN_FLIGHT):
        self.wsgi = WSGIMiddleware(wsgi_app, workers=threads)
        self.max_in_flight = max_in_flight
        self.started: dict[int, float] = {}  # id of a request in flight -> when it started

    def oldest_age(self, now: float | None = None) -> float:
        """How long the oldest request in flight has been running (0 when none)."""
        if not self.started:
            return 0.0
        return (time.monotonic() if now is None else now) - min(self.started.values())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.wsgi(scope, receive, send)
        if len(self.started) >= self.max_in_flight:
            api = scope["path"].startswith("/api/") or scope["path"] == "/healthz"
            content_type, body = error_body(503, api)
            await send({"type": "http.response.start", "status": 503,
                        "headers": error_headers(content_type, len(body), {"Retry-After": RETRY_AFTER})})
            await send({"type": "http.response.body", "body": body})
            return
        key = id(scope)
        self.started[key] = time.monotonic()
        try:
            await self.wsgi(scope, receive, send)
        finally:
            del self.started[key]


class Worker(UvicornWorker):
    """gunicorn worker: an event loop that reads requests, the Flask app in a thread pool."""

    CONFIG_KWARGS = {
        "loop": "asyncio",
        "http": Protocol,
        "h11_max_incomplete_event_size": MAX_HEAD + 1024,  # a backstop: head_problem refuses first
        "lifespan": "off",
        "server_header": False,
    }

    async def _serve(self) -> None:
        flask_app = self.wsgi
        render_error_bodies(flask_app)
        self.app_in_pool = BoundedApp(flask_app)
        self.config.app = self.app_in_pool
        server = Server(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    async def callback_notify(self) -> None:
        """The heartbeat, withheld while a request is stuck, so the arbiter replaces this worker."""
        if should_notify(self.app_in_pool.oldest_age(), self.timeout):
            self.notify()


def should_notify(oldest_age: float, notify_interval: float) -> bool:
    """Whether to send the heartbeat: not while a request has run longer than the interval.

    gunicorn passes half its timeout as the interval; a request running past it stops the beats,
    and the arbiter kills the worker one timeout after the last one, as a sync worker stuck in a
    request would be.
    """
    return oldest_age <= notify_interval
