"""Writing to the cluster: the same readers and entity extraction as the Whoosh writer, bulk indexing.

A rebuild fills a new index (``<alias>-<generation>``) and moves the alias to it in one
``_aliases`` call (OpenSearch's atomic switch); the index it replaces is kept for rollback, older
ones are deleted. ``add`` and ``delete`` write through the alias. Each generation's display forms
(people, places) and word table (autocompletion) sit in one document of ``<alias>-meta``.
Agency items (NewsML-G2, ninjs) follow the Whoosh writer's rules: every version read is recorded
in the version store (``versions.sqlite`` in the local index directory, ``cache_dir``, as the
Whoosh writer keeps it in its index directory) once the cluster has the batch; the alias holds
each guid's newest usable version; a version older than one received or indexed before is only
recorded; a kill or withheld notice takes the item out of search.
A refused or failed rebuild deletes its new index: the alias, and what it serves, are untouched.
"""
from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from .. import ranking, spelling
from ..analysis import SCHEMA_VERSION
from ..documents import Dispatch, Rejection, read_sources
from ..generations import IndexError_, IndexMissing
from ..model import InvalidRequest
from ..indexing import (
    MIN_KEPT_SHARE,
    BuildReport,
    EntityCounts,
    RebuildRefused,
    StrictFailure,
    _agency_last,
    _decide,
    _entity_stream,
    _newest,
    _refuse_missing_sources,
    _split_items,
    to_fields,
)
from .. import postings, versions
from . import mapping
from .story_groups import ClusterStories

BULK_CHUNK = 500  # documents per bulk request
BULK_RETRIES = 3  # a chunk refused with 429 (queue full) is sent again, with backoff
# Dispatches prepared ahead (read, grouped into stories, turned into sources) by a thread while
# the cluster indexes the chunk sent: the two sides work at once instead of in turn.
PREPARED_AHEAD = 2 * BULK_CHUNK
# The word table kept for autocompletion: the most frequent words (a long tail of typos
# completes nothing anyone wants).
SUGGEST_WORDS = 50_000
META_SUFFIX = "-meta"
# Changes with the analyzer or with the index mapping (mapping.py): an index built with another
# is refused by the engine until it is rebuilt.
SCHEMA = f"{SCHEMA_VERSION}+opensearch-3"


class ClusterUnavailable(IndexError_):
    """The cluster cannot be reached or refused the request."""


# A request a node could not answer (connection refused or reset, timeout, 502/503/504) is sent
# again to the next node: at least this many times, and at least once to every node named.
MIN_RETRIES = 2
REQUEST_TIMEOUT_S = 30


def node_urls(url: str) -> list[str]:
    """The nodes named by ``DEPECHE_OPENSEARCH_URL``: one URL or several, comma-separated."""
    urls = [u.strip() for u in str(url or "").split(",") if u.strip()]
    if not urls:
        raise InvalidRequest("bad_opensearch_url", "DEPECHE_OPENSEARCH_URL ne nomme aucun nœud")
    return urls


def connect(url: str) -> OpenSearch:
    """A client for the nodes of ``url`` (comma-separated): each request goes to the next live
    node, and one a node could not answer is retried on another (a node down costs no search
    while another holds a copy of every shard)."""
    urls = node_urls(url)
    return OpenSearch(urls, timeout=REQUEST_TIMEOUT_S, max_retries=max(MIN_RETRIES, len(urls)), retry_on_timeout=True,
                      http_compress=False)


def meta_index(alias: str) -> str:
    return alias + META_SUFFIX


def generation_index(alias: str, generation: int) -> str:
    return f"{alias}-{generation:06d}"


def live_index(client: OpenSearch, alias: str, local: bool = False) -> str | None:
    """The concrete index the alias points to, or None; ``local``: as the node answering knows
    it (no cluster manager needed: what searches use), else as the cluster manager says (writes)."""
    try:
        found = client.indices.get_alias(name=alias, local=local)
    except NotFoundError:
        return None
    return next(iter(found), None)


def generations(client: OpenSearch, alias: str) -> list[int]:
    """The generation numbers of this alias's indices, oldest first."""
    try:
        names = client.indices.get(index=f"{alias}-*", expand_wildcards="open,closed")
    except NotFoundError:
        return []
    pat = re.compile(re.escape(alias) + r"-(\d{6})$")
    return sorted(int(m.group(1)) for n in names if (m := pat.match(n)))


# BM25F by repetition: each occurrence in the lead counts this many times, in the title (or
# in the lead when there is no title: the better of the two, as the Whoosh ranking) and in the
# body's opening words (ranking.RankingParams.opening) that many.
LEAD_REPEAT = 5
TITLE_REPEAT = 1
OPENING_REPEAT = 2


def ranked_text(title: str, lead: str, body: str) -> str:
    """The text of the ``ranked`` field: title, lead and the body's opening repeated, then the body."""
    opening = " ".join(body.split()[: ranking.DEFAULT_PARAMS.opening])
    summary = [lead] * LEAD_REPEAT if lead else [title] * LEAD_REPEAT
    if lead and title:
        summary += [title] * TITLE_REPEAT
    return "\n\n".join([*summary, *([opening] * OPENING_REPEAT), body])


def to_source(doc: Dispatch, people_keys: list[str], places_keys: list[str]) -> dict:
    """A dispatch as a cluster document: the Whoosh writer's fields (one place for those rules), regrouped."""
    f = to_fields(doc, people_keys, places_keys)
    meta = {k: v for k, v in f["meta"].items() if k != postings.INDEXED_KEY}
    lead = postings.indexed_texts(f)["lead"]
    src = {
        "id": doc.id,
        "title": doc.title or "",
        "lead": lead,
        "body": doc.body,
        "day": f["day"],
        "people": people_keys,
        "places": places_keys,
        "has_lead": bool(doc.lead),
        "ranked": ranked_text(doc.title or "", lead, doc.body),
        "display": {"title": f["title"], "lead": f["lead"], "date": doc.date, **meta},
    }
    if doc.date:
        src["date"] = doc.date
        src["precision"] = {4: "year", 7: "month"}.get(len(doc.date), "day")
        if len(doc.date) >= 7:
            src["month"] = doc.date[:7]
            src["when"] = doc.date
    for name in ("source", "section", "urgency", "genre", "language", "slugline", "release"):
        if name in f:
            src[name] = f[name]
    if "subjects" in f:
        src["subjects"] = f["subjects"].split(",")
    if doc.agency is not None:
        # The Whoosh writer marks text that is not French for its neutral analysis; here the
        # French analyzer reads it as it is (see the README: one analyzer per field).
        src["title"], src["lead"], src["body"] = doc.title or "", doc.lead if doc.title else doc.summary, doc.body
    return src


def _origin(doc: Dispatch) -> tuple[str, int | None]:
    source, _, line = doc.origin.rpartition(":")
    if source and line.isdigit():
        return source, int(line)
    return doc.origin or doc.id, None


def _actions(index: str, docs: Iterator[tuple[Dispatch, dict]], sent: dict[str, Dispatch]) -> Iterator[dict]:
    for doc, source in docs:
        sent[doc.id] = doc
        yield {"_op_type": "index", "_index": index, "_id": doc.id, "_source": source}


class _Raised:
    """An error raised while preparing, carried to the thread that bulk-indexes."""

    def __init__(self, error: BaseException):
        self.error = error


def _prepared_ahead(items: Iterator, ahead: int) -> Iterator:
    """``items``, computed by a thread up to ``ahead`` in advance; an error raised there is raised here."""
    ready: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()
    end = object()

    def fill() -> None:
        try:
            for item in items:
                ready.put(item)
                if stop.is_set():
                    return
        except BaseException as e:  # noqa: BLE001 - raised again by the consumer
            ready.put(_Raised(e))
            return
        ready.put(end)

    worker = threading.Thread(target=fill, name="depeche-bulk-prepare", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not end:
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        # Stopped early (an error, a refused rebuild): free the preparing thread's waiting put, let it end.
        stop.set()
        while worker.is_alive():
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                pass


def _bulk(client: OpenSearch, index: str, docs: Iterator[tuple[Dispatch, dict]], report: BuildReport,
          on_reject: Callable[[Rejection], None] | None) -> None:
    """Bulk-index ``docs`` (prepared ahead by a thread): chunked, retried on 429; a document the
    cluster refuses becomes a rejection naming its file and line, as a record the readers refuse."""
    sent: dict[str, Dispatch] = {}
    for ok, item in helpers.streaming_bulk(
        client, _actions(index, _prepared_ahead(docs, PREPARED_AHEAD), sent), chunk_size=BULK_CHUNK, max_retries=BULK_RETRIES,
        initial_backoff=1, raise_on_error=False, raise_on_exception=False,
    ):
        info = next(iter(item.values()))
        doc = sent.pop(str(info.get("_id")), None)
        if ok:
            report.indexed += 1
            report.ids.append(info.get("_id"))
            continue
        error = info.get("error")
        reason = error.get("reason") if isinstance(error, dict) else str(error or info.get("status"))
        source, line = _origin(doc) if doc else (str(info.get("_id")), None)
        rej = Rejection(source, line, f"refusé par le cluster : {reason}")
        report.rejected.append(rej)
        if on_reject:
            on_reject(rej)


def _sources(docs: Iterable[tuple[Dispatch, list[str], list[str]]], counts: EntityCounts, words: Counter,
             groups: ClusterStories) -> Iterator[tuple[Dispatch, dict]]:
    for doc, people, places in docs:
        spelling.count_words(f"{doc.title or ''} {doc.lead} {doc.body}", words)
        yield doc, {**to_source(doc, counts.add("people", people), counts.add("places", places)), **groups.assign(doc)}


class _IndexedVersions:
    """What indexing._decide asks of a Whoosh searcher (``document(id=guid)``: the agency version
    indexed), answered from one ``mget`` of the alias."""

    def __init__(self, client: OpenSearch, alias: str, guids: list[str]):
        found = client.mget(index=alias, body={"ids": guids}, _source_includes="display.agency.version")["docs"] if guids else []
        self.agency = {d["_id"]: ((d.get("_source") or {}).get("display") or {}).get("agency") for d in found if d.get("found")}

    def document(self, id: str) -> dict | None:
        return {"meta": {"agency": self.agency[id]}} if id in self.agency else None


def _dispatches(items: Iterator[Dispatch], report: BuildReport) -> Iterator[Dispatch]:
    """The others as they come, then the newest version read of each agency item unless it is
    withdrawn (no version store: what a rebuild for `depeche eval` reads)."""
    agency = []
    for doc in items:
        if doc.agency is None:
            yield doc
        else:
            agency.append(doc)
    for doc in _newest(agency).values():
        if versions.is_withdrawn(doc.agency.pub_status):
            report.withdrawn += 1
            continue
        yield doc


def _count(client: OpenSearch, index: str) -> int:
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def _write_meta(client: OpenSearch, alias: str, index: str, meta: dict) -> None:
    if not client.indices.exists(index=meta_index(alias)):
        client.indices.create(index=meta_index(alias), body={
            "settings": {"number_of_shards": 1, "number_of_replicas": 1},
            "mappings": {"dynamic": False, "properties": {"index": {"type": "keyword"}}},
        }, ignore=400)  # 400: created meanwhile by another writer
    client.index(index=meta_index(alias), id=index, body={"index": index, **meta}, refresh=True)


def read_meta(client: OpenSearch, alias: str, index: str, fields: list[str] | None = None) -> dict:
    """A generation's metadata document, or only ``fields`` of it ({} when it has none)."""
    try:
        if fields is not None:
            return client.get(index=meta_index(alias), id=index, _source_includes=",".join(fields))["_source"]
        return client.get(index=meta_index(alias), id=index)["_source"]
    except NotFoundError:
        return {}


def _top_words(words: Counter) -> dict[str, int]:
    return dict(spelling.folded_counts(words).most_common(SUGGEST_WORDS))


def rebuild(
    sources: Iterable[str | os.PathLike],
    client: OpenSearch,
    alias: str,
    *,
    entities: bool = True,
    strict: bool = False,
    force: bool = False,
    on_reject: Callable[[Rejection], None] | None = None,
    cache_dir: str | os.PathLike = "index",
    shards: int = 1,
    replicas: int = 1,
    stemmer: str = mapping.DEFAULT_STEMMER,
    keep_versions: bool = True,
) -> BuildReport:
    """Fill a new index from ``sources``, check it, and switch the alias to it; the previous index is kept.

    Refused with the alias untouched, as the Whoosh rebuild: missing sources, no valid document,
    fewer than half the live documents (unless ``force``), --strict with rejections. With
    ``keep_versions`` the version store in ``cache_dir`` records the agency versions read and
    gives each guid its newest version known (read now or received before), as the Whoosh rebuild.
    """
    sources = list(sources)
    _refuse_missing_sources(sources)
    report = BuildReport()
    t0 = time.perf_counter()
    old = live_index(client, alias)
    live_docs = _count(client, alias) if old else 0
    number = max(generations(client, alias), default=0) + 1
    index = generation_index(alias, number)
    body = mapping.index_body(shards, 0, stemmer)  # replicas once full: one copy to write, not two
    body["settings"]["refresh_interval"] = "-1"
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    store = versions.VersionStore(cache) if keep_versions else None
    client.indices.create(index=index, body=body)
    try:
        counts, words = EntityCounts(), Counter()
        read = _split_items(read_sources(sources), report, on_reject)
        docs = _agency_last(read, store, report) if store is not None else _dispatches(read, report)
        _bulk(client, index, _sources(_entity_stream(docs, cache, entities), counts, words, ClusterStories()), report, on_reject)
        report.ids = []
        if strict and report.rejected:
            raise StrictFailure(f"{len(report.rejected)} enregistrement(s) rejeté(s) avec --strict : "
                                "l'index en service n'a pas été modifié")
        if report.indexed == 0:
            raise RebuildRefused("aucune dépêche valide dans les sources : l'index en service n'a pas été modifié")
        # Committed first, so that the replicas copy segment files rather than replay the
        # translog's operations one by one (bench/scale.py at a million: 36,000 a shard replayed).
        client.indices.flush(index=index)
        client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s", "number_of_replicas": replicas}})
        found = _count(client, index)
        if found != report.indexed:
            raise RebuildRefused(f"la nouvelle génération compte {found} documents au lieu de {report.indexed} : "
                                 "refusé, l'index en service n'a pas été modifié")
        if not force and report.indexed < live_docs * MIN_KEPT_SHARE:
            raise RebuildRefused(
                f"la nouvelle génération n'aurait que {report.indexed} documents contre {live_docs} en service "
                "(moins de la moitié) : refusé, l'index en service n'a pas été modifié ; --force pour la mettre en service quand même")
        client.cluster.health(index=index, wait_for_status="yellow", request_timeout=60)
        _write_meta(client, alias, index, {
            "schema_version": SCHEMA, "generation": number, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "documents": report.indexed, "entities": counts.to_json(), "words": _top_words(words),
            "stemmer": stemmer, "sources": [str(s) for s in sources],
        })
        actions = [{"add": {"index": index, "alias": alias}}]
        if old:
            actions.insert(0, {"remove": {"index": old, "alias": alias}})
        client.indices.update_aliases(body={"actions": actions})  # one cluster-state change: atomic
        if store is not None:
            store.commit()  # the versions read, once the alias serves what they decided
    except BaseException:
        if store is not None:
            store.rollback()
        client.indices.delete(index=index, ignore=[404])
        raise
    finally:
        if store is not None:
            store.close()
    # Keep the index just replaced (rollback); older generations go.
    for n in generations(client, alias):
        name = generation_index(alias, n)
        if name not in (index, old):
            client.indices.delete(index=name, ignore=[404])
            client.delete(index=meta_index(alias), id=name, ignore=[404])
    report.generation = number
    report.seconds = time.perf_counter() - t0
    return report


def rollback(client: OpenSearch, alias: str) -> str:
    """Point the alias back at the previous generation kept by the last rebuild; returns its name."""
    live = live_index(client, alias)
    older = [generation_index(alias, n) for n in generations(client, alias) if generation_index(alias, n) != live]
    if live is None or not older:
        raise RebuildRefused("aucune génération précédente à remettre en service")
    client.indices.update_aliases(body={"actions": [
        {"remove": {"index": live, "alias": alias}}, {"add": {"index": older[-1], "alias": alias}}]})
    return older[-1]


def add(
    sources: Iterable[str | os.PathLike],
    client: OpenSearch,
    alias: str,
    *,
    entities: bool = True,
    strict: bool = False,
    on_reject: Callable[[Rejection], None] | None = None,
    cache_dir: str | os.PathLike = "index",
) -> BuildReport:
    """Add or replace (same id) dispatches through the alias; the generation's display forms follow.

    An agency guid changes only with a version at least as new as any received (version store in
    ``cache_dir``) or indexed before (indexing._decide: one place for the rule); every version
    read is recorded, committed once the cluster has the batch."""
    sources = list(sources)
    _refuse_missing_sources(sources)
    index = live_index(client, alias)
    if index is None:
        raise IndexMissing(f"aucun index {alias!r} sur le cluster : lancez `depeche --backend opensearch index rebuild`")
    report = BuildReport()
    t0 = time.perf_counter()
    read = list(_split_items(read_sources(sources), report, on_reject))
    if strict and report.rejected:
        raise StrictFailure(f"{len(report.rejected)} enregistrement(s) rejeté(s) avec --strict : l'index n'a pas été modifié")
    meta = read_meta(client, alias, index)
    counts, words = EntityCounts(meta.get("entities")), Counter()
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    agency = [d for d in read if d.agency is not None]
    store = versions.VersionStore(cache) if agency else None
    try:
        if store is not None:
            docs, kills = _decide(read, store, _IndexedVersions(client, alias, sorted({d.id for d in agency})), report)
            for doc in agency:
                store.record(doc)
        else:
            docs, kills = read, []
        existing = {d["_id"] for d in client.mget(index=alias, body={"ids": [d.id for d in docs]}, _source=False)["docs"] if d.get("found")} if docs else set()
        groups = ClusterStories()
        groups.preload(client, alias, docs)
        _bulk(client, alias, _sources(_entity_stream(iter(docs), cache, entities), counts, words, groups), report, on_reject)
        report.deleted = len(existing)
        if kills:
            delete(kills, client, alias)
        client.indices.refresh(index=alias)
        if store is not None:
            store.commit()
    except BaseException:
        if store is not None:
            store.rollback()
        raise
    finally:
        if store is not None:
            store.close()
    merged = Counter(meta.get("words") or {})
    merged.update(spelling.folded_counts(words))
    _write_meta(client, alias, index, {**meta, "entities": counts.to_json(), "words": dict(merged.most_common(SUGGEST_WORDS)),
                                       "documents": _count(client, alias), "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    report.seconds = time.perf_counter() - t0
    report.generation = int(meta.get("generation") or 0)
    return report


def delete(ids: Iterable[str], client: OpenSearch, alias: str) -> tuple[list[str], list[str]]:
    """Delete dispatches by id through the alias; returns (deleted, not found)."""
    ids = list(ids)
    if live_index(client, alias) is None:
        raise IndexMissing(f"aucun index {alias!r} sur le cluster : lancez `depeche --backend opensearch index rebuild`")
    deleted, missing = [], []
    actions = ({"_op_type": "delete", "_index": alias, "_id": i} for i in ids)
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=BULK_CHUNK, max_retries=BULK_RETRIES,
                                           raise_on_error=False, raise_on_exception=False):
        info = item["delete"]
        (deleted if ok and info.get("result") == "deleted" else missing).append(str(info.get("_id")))
    client.indices.refresh(index=alias)
    return deleted, missing


def guard(fn):
    """Run ``fn()``, turning a connection or cluster error into ClusterUnavailable (a clear message, not a traceback)."""
    try:
        return fn()
    except (TransportError, ConnectionError) as e:
        if isinstance(e, NotFoundError):
            raise IndexMissing(f"index absent du cluster : {e}") from None
        if isinstance(e, RequestError):
            # The cluster refused what a query asked (too many words for a prefix...): the
            # person's request, not the cluster, is at fault.
            raise InvalidRequest("query_refused", "la requête est trop complexe pour le moteur : simplifiez-la") from None
        detail = json.dumps(getattr(e, "info", None) or {})[:2000] if isinstance(getattr(e, "info", None), dict) else ""
        raise ClusterUnavailable(f"cluster OpenSearch indisponible : {e} {detail}".rstrip()) from None
