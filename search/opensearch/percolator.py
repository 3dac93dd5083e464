"""Saved-search alerts on the cluster: each saved search a percolator query, new dispatches percolated.

The saved searches themselves stay where search/alerts.py keeps them (``alerts.sqlite`` beside
``--index``: names, requests, webhooks, what each matched, the delivery queue), created and
deleted by the same CLI and API. The cluster keeps, in ``<alias>-alerts``, one percolator
document per saved search: its request translated once into the query DSL (dsl.py, every word
required, facet choices, exclusions and dates as filters), under the dispatches' own mapping so
that the words are analysed as they are. A saved word no dispatch has is stored as its spelling
correction, as the search reads it (the Whoosh engine's alerts run that search): decided again
against the archive before each percolation, so that a correction comes with the dispatches
that make it, and goes once a dispatch has the word as saved. After ``index add`` the
dispatches just written are percolated in a few requests, whatever the number of saved
searches, instead of one search per saved search.

That index is derived: before each percolation it is brought in line with the saved searches
(one document per alert, rewritten when its request or the index schema changed, removed when
the alert is gone). Embargoed dispatches are not percolated (never an alert, as on Whoosh).
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Iterable

from opensearchpy.exceptions import RequestError

from .. import query
from ..alerts import search_request
from ..model import InvalidRequest, SearchRequest
from . import dsl, mapping, writer

ALERTS_SUFFIX = "-alerts"
PERCOLATE_CHUNK = 100  # dispatches per percolate request
MAX_PERCOLATORS = 10_000  # more than alerts.MAX_ALERTS: every stored query is read back in one page


def alerts_index(alias: str) -> str:
    return alias + ALERTS_SUFFIX


def alert_query(engine, req: SearchRequest, text: str | None = None) -> dict:
    """What a saved search asks as one query: every word of ``text`` (its query as searched,
    ``req.q`` by default; a partial match is never an alert), its facet choices, exclusions and
    dates as filters; no embargo (checked when percolating)."""
    lo, hi = engine.validate(req)
    pq = query.parse(req.q if text is None else text)
    if not pq.clauses and not pq.exclusions and pq.text.strip():
        return {"match_none": {}}  # only stop words: nothing to look for, as the search
    flt, chosen, excl, dates = engine._filters(req, lo, hi, None, embargo=False)
    q = dsl.text_query(pq, True) if not pq.is_empty else {"match_all": {}}
    return {"bool": {"must": [q], "filter": [*flt, *chosen.values(), *([dates] if dates else [])], "must_not": excl}}


def _stamp(request: dict, searched: str) -> str:
    """Changes with the saved request, its query as searched (spelling corrected) and the index
    schema (the query's translation)."""
    text = json.dumps({"request": request, "searched": searched, "schema": writer.SCHEMA}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _ensure_index(client, alias: str) -> str:
    """``<alias>-alerts`` with the dispatches' mapping and a percolator field; recreated when its
    schema is not the writer's (the stored queries are then translated again by ``sync``)."""
    name = alerts_index(alias)
    if client.indices.exists(index=name):
        got = client.indices.get_mapping(index=name)
        meta = next(iter(got.values()))["mappings"].get("_meta") or {}
        if meta.get("schema") == writer.SCHEMA:
            return name
        client.indices.delete(index=name, ignore=[404])
    body = mapping.index_body(1, 1)
    body["mappings"]["_meta"] = {"schema": writer.SCHEMA}
    body["mappings"]["properties"].update({
        "alert_query": {"type": "percolator"}, "alert_id": {"type": "long"}, "alert_stamp": {"type": "keyword"},
    })
    try:
        client.indices.create(index=name, body=body)
    except RequestError as e:
        if e.error != "resource_already_exists_exception":  # created meanwhile by another writer: fine
            raise writer.ClusterUnavailable(f"le cluster ne peut pas garder les alertes (module percolator absent ?) : {e.info}") from None
    return name


def _valid(engine, req: SearchRequest) -> bool:
    try:
        engine.validate(req)
    except InvalidRequest:
        return False
    return True


def sync(engine, alerts: Iterable) -> str:
    """Bring ``<alias>-alerts`` in line with the saved searches ``alerts``; returns its name.
    A saved search the cluster refuses to translate (InvalidRequest) has no query: it matches nothing."""
    client, alias = engine.client, engine.alias
    name = _ensure_index(client, alias)
    stored = client.search(index=name, body={"size": MAX_PERCOLATORS, "_source": ["alert_stamp"], "query": {"match_all": {}}})
    have = {h["_id"]: h["_source"].get("alert_stamp") for h in stored["hits"]["hits"]}
    want = {str(alert.id): alert for alert in alerts}
    requests = [search_request(alert.request) for alert in alerts]
    # Spelling, as the search corrects it: one suggester request for every saved search.
    searched = engine.as_corrected([r.q if r.correct and _valid(engine, r) else "" for r in requests])
    for alert, req, text in zip(alerts, requests, searched):
        text = text if req.correct else req.q
        stamp = _stamp(alert.request, text)
        if have.get(str(alert.id)) == stamp:
            continue
        try:
            q = alert_query(engine, req, text)
        except InvalidRequest:
            q = {"match_none": {}}
        client.index(index=name, id=str(alert.id), body={"alert_id": alert.id, "alert_stamp": stamp, "alert_query": q})
    for gone in set(have) - set(want):
        client.delete(index=name, id=gone, ignore=[404])
    client.indices.refresh(index=name)
    return name


def percolate(engine, alerts: list, ids: list[str]) -> dict[int, set[str]]:
    """{alert id: the dispatches of ``ids`` it matches}: the visible ones (out of embargo) are
    read from the cluster and percolated against every saved search at once."""
    if not alerts or not ids:
        return {}
    client = engine.client
    name = sync(engine, alerts)
    now = int(time.time())
    found: dict[int, set[str]] = {}
    for i in range(0, len(ids), PERCOLATE_CHUNK):
        chunk = ids[i:i + PERCOLATE_CHUNK]
        docs = [d for d in client.mget(index=engine.alias, body={"ids": chunk})["docs"] if d.get("found")]
        docs = [d for d in docs if (d["_source"].get("release") or 0) <= now]
        if not docs:
            continue
        body = {"size": MAX_PERCOLATORS, "_source": ["alert_id"],
                "query": {"percolate": {"field": "alert_query", "documents": [d["_source"] for d in docs]}}}
        resp = client.search(index=name, body=body)
        for h in resp["hits"]["hits"]:
            slots = (h.get("fields") or {}).get("_percolator_document_slot", [])
            found.setdefault(int(h["_source"]["alert_id"]), set()).update(docs[s]["_id"] for s in slots)
    return found
