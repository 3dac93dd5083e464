"""gunicorn settings for `make serve`: `gunicorn -c gunicorn.conf.py 'web:create_app()'`.

Overridable from the environment: DEPECHE_BIND (default 127.0.0.1:8000), DEPECHE_WORKERS (2),
DEPECHE_ACCESS_LOG ("-" for stdout, "" for none); web/serve.py reads DEPECHE_THREADS (4),
DEPECHE_MAX_IN_FLIGHT (64) and DEPECHE_HEADER_TIMEOUT (10 s).
"""
import os

bind = os.environ.get("DEPECHE_BIND", "127.0.0.1:8000")
# Searching is CPU-bound Python: one process per core. Each worker reads requests on an event
# loop and runs the app in a few threads (web/serve.py), so clients that send their request
# slowly cost a socket, never a worker.
workers = int(os.environ.get("DEPECHE_WORKERS", "2"))
worker_class = "web.serve.Worker"
# Each worker builds its own app and so its own Engine; the index is opened lazily on the first
# request, never before the fork.
preload_app = False
# Searches carry a time budget of 2 s; a worker with a request stuck far beyond that is killed
# and replaced (web/serve.py withholds the heartbeat).
timeout = 30
graceful_timeout = 20
keepalive = 2
# The request line (8190 bytes), header count (100) and head size (16 KiB) limits, and the
# deadline for a request head, are enforced by web/serve.py: gunicorn's own apply to sync workers only.
accesslog = os.environ.get("DEPECHE_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("DEPECHE_LOG_LEVEL", "info")
proc_name = "depeche-web"


def post_worker_init(worker):
    """Open the index before the first request, so no visitor pays for it (0.2-0.5 s)."""
    from web import ENGINE_KEY

    app = worker.wsgi
    try:
        app.extensions[ENGINE_KEY].health()
    except Exception as exc:  # noqa: BLE001 - a missing index is reported per request (503)
        worker.log.warning("index not opened at start: %s", exc)
