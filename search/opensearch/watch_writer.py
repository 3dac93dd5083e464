"""What `depeche --backend opensearch index watch` commits through: the cluster's alias.

The watcher (search/watch.py) keeps its journal in the local index directory (beside the
entity cache) and adds each batch with the cluster's ``index add`` (commands.add). The cluster
has no writer lock to wait for: what replaces it is the wait for the cluster itself. A batch
that meets an unreachable or failing cluster (ClusterUnavailable: connection refused, timeout,
5xx once the client's own retries are spent) waits with the watcher's backoff, says so once,
and is sent again whole; a bulk cut short may have written part of it, which the same
documents (same ids) then replace.
"""
from __future__ import annotations

from pathlib import Path

from .. import backend
from ..generations import IndexMissing
from ..watch import Writer
from . import commands, writer


class ClusterWriter(Writer):
    """The watcher's writer on the configured cluster and alias (search/backend.py settings)."""

    busy = (writer.ClusterUnavailable,)

    def __init__(self, cache_dir: str | Path):
        self.cache_dir = Path(cache_dir)
        s = backend.settings()
        self.url, self.alias = s["OPENSEARCH_URL"], s["OPENSEARCH_INDEX"]

    def where(self) -> str:
        return f"alias {self.alias} du cluster {self.url}"

    def check(self) -> None:
        """Refused (IndexMissing) when the alias does not exist; ClusterUnavailable when the cluster cannot be reached."""
        if writer.guard(lambda: writer.live_index(writer.connect(self.url), self.alias)) is None:
            raise IndexMissing(f"aucun index {self.alias!r} sur le cluster : lancez `depeche --backend opensearch index rebuild`")

    def add(self, paths, *, entities, on_reject):
        return commands.add(paths, self.cache_dir, entities=entities, on_reject=on_reject)

    def committed(self, docs) -> bool:
        return writer.guard(lambda: all_present(writer.connect(self.url), self.alias, docs))

    def waiting(self, error: BaseException) -> str:
        return f"{error} : j'attends et je réessaie"


def all_present(client, alias: str, docs) -> bool:
    """Whether every dispatch of ``docs`` is in the alias as read: same title, lead, body and date
    (what the Whoosh writer's check compares, read from the cluster document's display fields)."""
    if not docs:
        return True
    found = client.mget(index=alias, body={"ids": [d.id for d in docs]},
                        _source_includes="display.title,display.lead,display.date,body")["docs"]
    by_id = {f["_id"]: f.get("_source") or {} for f in found if f.get("found")}
    for d in docs:
        src = by_id.get(d.id)
        if src is None:
            return False
        shown = src.get("display") or {}
        if (shown.get("title"), shown.get("lead"), src.get("body"), shown.get("date")) != (
                d.display_title, d.lead, d.body, d.date):
            return False
    return True
