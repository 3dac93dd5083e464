"""gunicorn (2 workers) under a bounded 30 s loopback load while rebuilds swap in new generations."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from test_web import ROOT, WEB_DISPATCHES, build_index, free_port

DURATION = 30.0
CLIENTS = 4
QUERIES = ["munitions", "Ukraine", "l'Alliance", "etats-unis", "Bordeaux", "\"Pays-Bas\"", "munit*", "Stoltemberg",
           "lieu:Ukraine munitions", "date:2023-01..2023-06 munitions", "-munitions Ukraine", "fromage OU montagnes"]


@pytest.mark.slow
def test_no_failed_request_while_rebuilds_swap(tmp_path):
    root = build_index(tmp_path / "index", WEB_DISPATCHES[:4])
    port = free_port()
    env = dict(os.environ, DEPECHE_INDEX=str(root), DEPECHE_BIND=f"127.0.0.1:{port}", DEPECHE_ACCESS_LOG="",
               DEPECHE_WORKERS="2")
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "web:create_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    generations: list[int] = []
    count = [0]
    lock = threading.Lock()
    stop = time.monotonic() + DURATION

    def get(path):
        with urllib.request.urlopen(base + path, timeout=10) as r:
            return r.status, json.loads(r.read())

    def client(n):
        i = n
        while time.monotonic() < stop:
            q = QUERIES[i % len(QUERIES)]
            i += 1
            try:
                status, body = get("/api/search?" + urllib.parse.urlencode({"q": q}))
                with lock:
                    count[0] += 1
                    generations.append(body["generation"])
                if status != 200:
                    failures.append(f"{q}: HTTP {status}")
            except Exception as e:  # any error is a failed request
                failures.append(f"{q}: {e!r}")

    try:
        for _ in range(200):
            try:
                get("/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        first = get("/healthz")[1]["generation"]
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        swaps = 0
        while time.monotonic() < stop - 4:
            time.sleep(3)
            build_index(root, WEB_DISPATCHES if swaps % 2 == 0 else WEB_DISPATCHES[:4])
            swaps += 1
        for t in threads:
            t.join(DURATION + 30)
        last = get("/healthz")[1]["generation"]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    print(f"{count[0]} requests in {DURATION:.0f}s with {CLIENTS} clients, {swaps} swaps, {len(failures)} failed")
    assert not failures, failures[:5]
    assert swaps >= 5 and count[0] > 200
    assert last == first + swaps
    # Responses moved to the new generations while the load ran, ending on the last one.
    assert len(set(generations)) >= 3 and last in generations[-CLIENTS * 4:]
