"""What `depeche --backend opensearch` runs: the index commands, search and `depeche eval` on the cluster.

The cluster and the alias come from ``DEPECHE_OPENSEARCH_URL`` and ``DEPECHE_OPENSEARCH_INDEX``
(search/backend.py); the ``--index`` folder still holds the entity extraction's cache.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .. import backend, evaluation
from ..analysis import SCHEMA_VERSION
from . import writer
from .engine import ClusterEngine

# Shards and replicas of a rebuilt index (a newsroom's cluster sets its own).
SHARDS = int(os.environ.get("DEPECHE_OPENSEARCH_SHARDS", "1"))
REPLICAS = int(os.environ.get("DEPECHE_OPENSEARCH_REPLICAS", "1"))


def _where() -> tuple[str, str]:
    s = backend.settings()
    return s["OPENSEARCH_URL"], s["OPENSEARCH_INDEX"]


def engine(root=None) -> ClusterEngine:
    """The engine on the configured cluster and alias; ``root``: the local index directory (version history)."""
    return ClusterEngine(*_where(), root=root)


def rebuild(sources, cache_dir, **kw) -> writer.BuildReport:
    """`index rebuild` on the cluster: a new index, then the alias switched."""
    url, alias = _where()
    client = writer.connect(url)
    return writer.guard(lambda: writer.rebuild(sources, client, alias, cache_dir=cache_dir, shards=SHARDS, replicas=REPLICAS, **kw))


def add(sources, cache_dir, **kw) -> writer.BuildReport:
    """`index add` through the alias."""
    url, alias = _where()
    return writer.guard(lambda: writer.add(sources, writer.connect(url), alias, cache_dir=cache_dir, **kw))


def delete(ids, _cache_dir=None) -> tuple[list[str], list[str]]:
    """`index delete` through the alias."""
    url, alias = _where()
    return writer.guard(lambda: writer.delete(ids, writer.connect(url), alias))


def ensure_index(corpus: str, shared: Path, url: str, stemmer: str = "snowball") -> str:
    """The alias of a shared corpus on the cluster, built once (entities off) and reused while
    the corpus, the analyzer and the stemmer are unchanged."""
    src = shared / evaluation.CORPORA[corpus][0]
    if not src.exists():
        raise FileNotFoundError(f"{src} not found: give --shared or set DEPECHE_SHARED")
    alias = f"depeche-eval-{corpus}-{stemmer.replace('_', '-')}"
    st = src.stat()
    stamp = json.dumps({"source": str(src), "size": st.st_size, "mtime": int(st.st_mtime), "schema": writer.SCHEMA,
                        "analyzer": SCHEMA_VERSION})
    client = writer.connect(url)
    live = writer.live_index(client, alias)
    if live and writer.read_meta(client, alias, live).get("sources") == [stamp]:
        return alias
    # The stamp stands in the generation's metadata, where the rebuild writes its sources.
    writer.rebuild([src], client, alias, entities=False, force=True, replicas=0, stemmer=stemmer,
                   cache_dir=Path(os.environ.get("TMPDIR", "/tmp")), keep_versions=False)
    index = writer.live_index(client, alias)
    meta = writer.read_meta(client, alias, index)
    client.index(index=writer.meta_index(alias), id=index, body={**meta, "sources": [stamp]}, refresh=True)
    return alias


def evaluate(corpus: str, shared: Path, stemmer: str = "snowball"):
    """(scores per kind, search times, run) of the cluster engine on one shared corpus, as evaluation.evaluate."""
    url, _ = _where()
    alias = writer.guard(lambda: ensure_index(corpus, shared, url, stemmer))
    _, qfile, rfile = evaluation.CORPORA[corpus]
    queries = evaluation.load_queries(shared / qfile)
    qrels = evaluation.load_qrels(shared / rfile)
    run, times = evaluation.run_queries(ClusterEngine(url, alias), queries)
    return evaluation.score(run, qrels, queries), times, run
