"""Stories on the cluster: each dispatch written carries its story id, grouped as the Whoosh writer groups.

The rules are those of ``search/stories.py`` (signatures, band keys, headline key, the
window, ``best_story``): one definition. What differs is where the signatures live. The Whoosh
writer keeps them in a SQLite file beside its generation; on the cluster every dispatch carries
its own: its band keys as an indexed ``story_bands`` field, its signature, day and headline key
in ``story_member`` (kept in the source, never searched). A rebuild compares each dispatch with
those written before it in the same rebuild (in memory); ``index add`` first fetches, in one
``msearch``, the indexed dispatches sharing a band key with the new ones, so that new dispatches
join stories already on the cluster and the dispatches already indexed are never rewritten.
"""
from __future__ import annotations

import base64
from typing import Iterable

import numpy as np

from .. import stories
from ..dates import day_number
from ..documents import Dispatch

# Indexed dispatches fetched per band-key look-up of ``index add``: the candidates of one new
# dispatch (LSH keeps them few; a headline shared by a long daily series is the most).
CANDIDATES_PER_DOC = 200
MSEARCH_CHUNK = 100  # look-ups per msearch request


def _encode(sig: np.ndarray) -> str:
    return base64.b64encode(sig.astype(np.uint32).tobytes()).decode("ascii")


def _decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.uint32)


class ClusterStories:
    """Story ids for the dispatches of one write (a rebuild or an ``index add``), in writing order."""

    def __init__(self) -> None:
        self.members: dict[str, stories.Member] = {}
        self.buckets: dict[int, list[str]] = {}

    @staticmethod
    def _key_parts(doc: Dispatch) -> tuple[np.ndarray, int | None, int | None, list[int]]:
        sig = stories.signature(stories.story_text(doc.title, doc.lead, doc.body))
        head = stories.title_key(doc.title)
        return sig, day_number(doc.date), head, stories.band_keys(sig) + ([head] if head is not None else [])

    def _remember(self, member: stories.Member, keys: Iterable[int]) -> None:
        self.members[member.doc] = member
        for key in keys:
            self.buckets.setdefault(key, []).append(member.doc)

    def preload(self, client, alias: str, docs: list[Dispatch]) -> None:
        """Fetch the indexed dispatches that share a band key with ``docs`` (``index add``); the
        dispatches being replaced (same id) are not candidates, as in the Whoosh writer."""
        replaced = {d.id for d in docs}
        keys = [self._key_parts(d)[3] for d in docs]
        for i in range(0, len(keys), MSEARCH_CHUNK):
            body: list[dict] = []
            for ks in keys[i:i + MSEARCH_CHUNK]:
                body += [{"index": alias}, {
                    "size": CANDIDATES_PER_DOC, "_source": ["id", "story", "story_member"],
                    "query": {"bool": {"filter": [{"terms": {"story_bands": ks}}], "must_not": [{"ids": {"values": sorted(replaced)}}]}},
                }]
            for resp in client.msearch(body=body)["responses"]:
                for h in (resp.get("hits") or {}).get("hits", []):
                    src = h["_source"]
                    m = src.get("story_member") or {}
                    if src.get("id") in self.members or not m.get("signature") or not src.get("story"):
                        continue
                    sig = _decode(m["signature"])
                    member = stories.Member(src["id"], src["story"], m.get("day"), sig, m.get("title"))
                    self._remember(member, stories.band_keys(sig) + ([member.title] if member.title is not None else []))

    def assign(self, doc: Dispatch) -> dict:
        """The story fields of a dispatch being written: the story of its most similar recent
        near-duplicate or namesake headline, else a new one (``stories.best_story``)."""
        self.members.pop(doc.id, None)
        sig, day, head, keys = self._key_parts(doc)
        seen: dict[str, stories.Member] = {}
        for key in keys:
            for other in self.buckets.get(key, ()):
                if other != doc.id and other in self.members:
                    seen.setdefault(other, self.members[other])
        story, _ = stories.best_story(sig, day, seen.values(), head)
        story = story or stories.story_id(doc.id)
        self._remember(stories.Member(doc.id, story, day, sig, head), keys)
        return {"story": story, "story_bands": keys,
                "story_member": {"signature": _encode(sig), "day": day, "title": head}}
