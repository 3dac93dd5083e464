"""Real servers for the tests, in one place: werkzeug in a thread, gunicorn as deployed, raw HTTP, Chromium.

Fixtures serving the shared indexes (web_server, story_server, entity_server, agency_server) are in
conftest.py; tests that need a server of their own (their own index or settings) use these.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Screenshots of the browser tests, kept for a human to look at (not compared).
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def shot(page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot of a Playwright page as tests/artifacts/<name>.png; returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(base: str, path: str):
    """(status, decoded JSON) of a GET on a running server."""
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return r.status, json.loads(r.read())


@contextlib.contextmanager
def gunicorn_server(root: Path, logdir: Path, **env_extra):
    """Real gunicorn (gunicorn.conf.py) on a free loopback port serving ``root``; yields its base URL."""
    port = free_port()
    env = dict(os.environ, DEPECHE_INDEX=str(root), DEPECHE_BIND=f"127.0.0.1:{port}", DEPECHE_ACCESS_LOG="", **env_extra)
    base = f"http://127.0.0.1:{port}"
    with open(logdir / "gunicorn.log", "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "web:create_app()"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    get_json(base, "/healthz")
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def serve_app(app):
    """Serve a Flask app with werkzeug on a free loopback port, in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(10)


def raw_http(base: str, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to a loopback server, read the answer until it closes: (status, headers, body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


CHROMIUM = "/usr/bin/chromium"
# No sandbox: tests may run as root in a container; the rest keeps Chromium off the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium); never downloaded"),
]
