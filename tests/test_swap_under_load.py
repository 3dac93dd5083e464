"""gunicorn (2 workers) under a bounded 30 s loopback load while rebuilds swap in new generations."""
from __future__ import annotations

import threading
import time
import urllib.parse

import pytest

from corpus import WEB_DISPATCHES, build_index
from servers import get_json, gunicorn_server

DURATION = 30.0
CLIENTS = 4
# The generations alternate between all dispatches and this many: more than half, so a rebuild
# never looks like a truncated source to the indexer's shrink guard.
SMALL = 7
QUERIES = ["munitions", "Ukraine", "l'Alliance", "etats-unis", "Bordeaux", "\"Pays-Bas\"", "munit*", "Stoltemberg",
           "lieu:Ukraine munitions", "date:2023-01..2023-06 munitions", "-munitions Ukraine", "fromage OU montagnes"]


@pytest.mark.slow
def test_no_failed_request_while_rebuilds_swap(tmp_path):
    root = build_index(tmp_path / "index", WEB_DISPATCHES[:SMALL])
    failures: list[str] = []
    generations: list[int] = []
    count = [0]
    lock = threading.Lock()

    def client(n):
        i = n
        while time.monotonic() < stop:
            q = QUERIES[i % len(QUERIES)]
            i += 1
            try:
                status, body = get_json(base, "/api/search?" + urllib.parse.urlencode({"q": q}))
                with lock:
                    count[0] += 1
                    generations.append(body["generation"])
                if status != 200:
                    failures.append(f"{q}: HTTP {status}")
            except Exception as e:  # any error is a failed request
                failures.append(f"{q}: {e!r}")

    with gunicorn_server(root, tmp_path, DEPECHE_WORKERS="2") as base:
        stop = time.monotonic() + DURATION
        first = get_json(base, "/healthz")[1]["generation"]
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        swaps = 0
        while time.monotonic() < stop - 4:
            time.sleep(3)
            build_index(root, WEB_DISPATCHES if swaps % 2 == 0 else WEB_DISPATCHES[:SMALL])
            swaps += 1
        for t in threads:
            t.join(DURATION + 30)
        last = get_json(base, "/healthz")[1]["generation"]
    print(f"{count[0]} requests in {DURATION:.0f}s with {CLIENTS} clients, {swaps} swaps, {len(failures)} failed")
    assert not failures, failures[:5]
    assert swaps >= 5 and count[0] > 200
    assert last == first + swaps
    # Responses moved to the new generations while the load ran, ending on the last one.
    assert len(set(generations)) >= 3 and last in generations[-CLIENTS * 4:]
