"""The local OpenSearch cluster of the cluster tests: reached, or started once (opensearch/cluster.sh).

``DEPECHE_OPENSEARCH_URL`` names a running cluster to use as it is. Otherwise the tests start the
repository's two-node cluster (Java 17 and Maven needed; the first build fetches the jars), on the
port and in the folder that DEPECHE_OS_HTTP and DEPECHE_OS_HOME give opensearch/cluster.sh, and
the test session stops it at its end (``pytest_sessionfinish`` in conftest.py). Without Java
the cluster tests are skipped, with the reason.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "opensearch" / "cluster.sh"
# Where and on which ports opensearch/cluster.sh puts the cluster (DEPECHE_OS_HOME, DEPECHE_OS_HTTP):
# a session started with its own ports and home reaches, and stops, its own cluster.
HOME = Path(os.environ.get("DEPECHE_OS_HOME") or ROOT / "build" / "opensearch")
HTTP_PORT = int(os.environ.get("DEPECHE_OS_HTTP") or 9250)
# Both nodes of the repository's cluster: the client fails over from one to the other.
DEFAULT_URL = f"http://127.0.0.1:{HTTP_PORT},http://127.0.0.1:{HTTP_PORT + 1}"
# Written by whichever test process started the cluster: the session's end stops it.
STARTED_MARK = HOME / "started-by-tests"


def reachable(url: str) -> bool:
    """Whether one of the nodes of ``url`` (comma-separated) answers."""
    for node in (u.strip() for u in url.split(",") if u.strip()):
        try:
            with urllib.request.urlopen(node + "/_cluster/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            continue
    return False


def cluster_url() -> tuple[str | None, str]:
    """(URL of a green-or-yellow cluster, or None) and why not."""
    url = os.environ.get("DEPECHE_OPENSEARCH_URL")
    if url:
        return (url, "") if reachable(url) else (None, f"DEPECHE_OPENSEARCH_URL={url} injoignable")
    if reachable(DEFAULT_URL):
        return DEFAULT_URL, ""
    if not shutil.which("java") or not shutil.which("mvn"):
        return None, "Java 17 et Maven absents : pas de cluster OpenSearch local"
    HOME.mkdir(parents=True, exist_ok=True)
    # Several xdist workers may arrive together: one starts the cluster, the others wait for it.
    with open(HOME / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not reachable(DEFAULT_URL):
            done = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                return None, f"make opensearch a échoué : {done.stderr[-500:]}"
            STARTED_MARK.write_text("1")
    return DEFAULT_URL, ""


def stop_if_started() -> None:
    """Stop the cluster if this test session started it."""
    if STARTED_MARK.exists():
        STARTED_MARK.unlink()
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=120)


def unique_alias(prefix: str) -> str:
    """An alias no other test (or worker) uses."""
    return f"t-{prefix}-{uuid.uuid4().hex[:10]}"


def drop(client, alias: str) -> None:
    """Delete a test alias's indices and metadata."""
    client.indices.delete(index=f"{alias}-*", ignore=[404])


@contextlib.contextmanager
def records_in_cluster(url: str, prefix: str, records, tmp_path_factory, seed: bool = False):
    """``records`` rebuilt in the cluster under an alias of their own, yielded, dropped at the end."""
    from corpus import write_corpus
    from search.opensearch import writer

    client = writer.connect(url)
    alias = unique_alias(prefix)
    corpus = write_corpus(tmp_path_factory.mktemp(f"{prefix}-corpus"), records, seed=seed)
    writer.rebuild([corpus], client, alias, entities=False, cache_dir=tmp_path_factory.mktemp(f"{prefix}-cache"))
    try:
        yield alias
    finally:
        drop(client, alias)

