"""The version store: every version of every agency item received, beside the index.

An agency item (NewsML-G2, ninjs) keeps its guid across versions: an update, a correction, a
kill (``canceled``) or a ``withheld`` notice is a new version of the same guid. The index holds
only the latest usable version of a guid (its Dispatch id is the guid); this store keeps them
all, for the story's history on the document page and to know, when a version arrives late,
that a newer one was already received (it is then recorded but never indexed).

One SQLite file in the index directory (``generations.VERSIONS_FILE``), kept across rebuilds,
in WAL mode: the single writer (``index add``, ``rebuild``, ``watch``, under the writer lock)
records what it read; readers (the engine) open it read-only.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path

from .documents import AgencyMeta, Dispatch
from .generations import VERSIONS_FILE

USABLE = "usable"
WITHDRAWN = ("canceled", "withheld")  # removed from search at once

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    guid TEXT NOT NULL,
    version INTEGER NOT NULL,
    version_created TEXT,
    pub_status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    title TEXT,
    lead TEXT,
    body TEXT,
    metadata TEXT NOT NULL,
    origin TEXT,
    PRIMARY KEY (guid, version)
)
"""
_COLUMNS = "guid, version, version_created, pub_status, received_at, title, lead, body, metadata, origin"


def store_path(root: Path) -> Path:
    """Where the version store of an index directory is."""
    return Path(root) / VERSIONS_FILE


def is_withdrawn(pub_status: str | None) -> bool:
    """A killed or withheld item: out of search."""
    return (pub_status or USABLE) in WITHDRAWN


def metadata(doc: Dispatch) -> dict:
    """What a version says beyond its title and text, JSON-ready (enough to rebuild the Dispatch)."""
    return {
        "date": doc.date, "source": doc.source, "byline": doc.byline, "section": doc.section, "url": doc.url,
        "subheads": doc.subheads, "people": doc.people, "places": doc.places,
        "title_given": doc.title is not None,
        "agency": asdict(doc.agency) if doc.agency else None,
    }


class VersionStore:
    """The store, opened for writing (one writer, under the index lock) or read-only."""

    def __init__(self, root: Path, readonly: bool = False):
        path = store_path(root)
        self.conn: sqlite3.Connection | None = None
        if readonly:
            if path.exists():
                self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        else:
            # The cluster writer records versions from the thread that prepares its bulk while
            # the caller's thread commits afterwards: one thread at a time, never both.
            self.conn = sqlite3.connect(str(path), check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(_SCHEMA)
            self.conn.commit()
        if self.conn is not None:
            self.conn.row_factory = sqlite3.Row

    def __enter__(self) -> "VersionStore":
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            if exc[0] is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def record(self, doc: Dispatch, received_at: str | None = None) -> None:
        """Record one version as read (not committed: the caller commits once the index has it).
        The same version received again replaces its content and keeps its first reception time."""
        a = doc.agency
        assert a is not None and self.conn is not None
        self.conn.execute(
            f"INSERT INTO versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guid, version) DO UPDATE SET version_created = excluded.version_created, "
            "pub_status = excluded.pub_status, title = excluded.title, lead = excluded.lead, body = excluded.body, "
            "metadata = excluded.metadata, origin = excluded.origin",
            (doc.id, a.version, a.version_created, a.pub_status or USABLE,
             received_at or time.strftime("%Y-%m-%dT%H:%M:%S%z"), doc.title, doc.lead, doc.body,
             json.dumps(metadata(doc), ensure_ascii=False), doc.origin),
        )

    def commit(self) -> None:
        if self.conn is not None:
            self.conn.commit()

    def rollback(self) -> None:
        if self.conn is not None:
            self.conn.rollback()

    def latest(self, guid: str) -> sqlite3.Row | None:
        """The newest version received of a guid (highest version number), or None."""
        if self.conn is None:
            return None
        return self.conn.execute(
            f"SELECT {_COLUMNS} FROM versions WHERE guid = ? ORDER BY version DESC LIMIT 1", (guid,)).fetchone()

    def row(self, guid: str, version: int) -> sqlite3.Row | None:
        """One version of a guid as received, or None."""
        if self.conn is None:
            return None
        return self.conn.execute(
            f"SELECT {_COLUMNS} FROM versions WHERE guid = ? AND version = ?", (guid, version)).fetchone()

    def rows(self, guid: str) -> list[sqlite3.Row]:
        """Every version received of a guid, oldest version first."""
        if self.conn is None:
            return []
        return self.conn.execute(f"SELECT {_COLUMNS} FROM versions WHERE guid = ? ORDER BY version", (guid,)).fetchall()

    def history(self, guid: str) -> list[dict]:
        """The story's versions for display: version, version_created, pub_status, title, changed."""
        out = []
        prev = None
        for row in self.rows(guid):
            out.append({
                "version": row["version"],
                "version_created": row["version_created"],
                "pub_status": row["pub_status"],
                "title": row["title"] or _derived_title(row),
                "changed": changes(prev, row),
            })
            prev = row
        return out


def _derived_title(row) -> str:
    from .documents import derive_title

    return derive_title(row["lead"] or row["body"] or "")


def to_dispatch(row) -> Dispatch:
    """A recorded version as the Dispatch it was read as."""
    meta = json.loads(row["metadata"])
    agency = dict(meta.get("agency") or {})
    agency["subjects"] = [tuple(s) for s in agency.get("subjects") or []]
    return Dispatch(
        id=row["guid"], title=row["title"] if meta.get("title_given", True) else None,
        lead=row["lead"] or "", body=row["body"] or "",
        date=meta.get("date"), source=meta.get("source"), byline=meta.get("byline"), section=meta.get("section"), url=meta.get("url"),
        subheads=list(meta.get("subheads") or []), people=list(meta.get("people") or []),
        places=list(meta.get("places") or []), origin=row["origin"] or "",
        agency=AgencyMeta(**agency) if agency else AgencyMeta(guid=row["guid"], version=row["version"]),
    )


def paragraphs(*texts: str | None) -> list[str]:
    """The paragraphs of a dispatch's texts (lead, body): blank-line separated, spaces normalised."""
    text = "\n\n".join(x for x in texts if x)
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _paragraphs(row) -> list[str]:
    return paragraphs(row["lead"], row["body"])


def paragraph_diff(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """(paragraphs added, paragraphs removed) from ``old`` to ``new``, each in its text's order."""
    return [p for p in new if p not in old], [p for p in old if p not in new]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def paragraph_changes(old: list[str], new: list[str]) -> list[str]:
    """What changed between two versions' paragraphs, in a few French words (empty: nothing)."""
    added, removed = (len(x) for x in paragraph_diff(old, new))
    parts = []
    if added and added == removed and len(old) == len(new):
        parts.append(_count(added, "paragraphe modifié", "paragraphes modifiés"))
    else:
        if added:
            parts.append(_count(added, "paragraphe ajouté", "paragraphes ajoutés"))
        if removed:
            parts.append(_count(removed, "paragraphe retiré", "paragraphes retirés"))
    if not added and not removed and old != new:
        parts.append("paragraphes réordonnés")
    return parts


def story_listing(shown: list[dict], complete: bool) -> list[dict]:
    """A story's versions, newest first, each with what it changed from the one before it.

    ``shown``: the newest versions, oldest first, each a dict with ``id``, ``title``, ``lead``,
    ``body``, ``date``, ``source``, ``url``; ``complete``: they are the whole story (else the
    first one only tells what the next one changed, and is not listed).
    """
    out, prev = [], None
    for i, sf in enumerate(shown):
        paras = paragraphs(sf.get("lead"), sf.get("body"))
        if prev is None and i == 0 and complete:
            added, removed, changed = [], [], "première version"
        elif prev is None:
            prev = (sf.get("title") or "", paras)
            continue
        else:
            added, removed = paragraph_diff(prev[1], paras)
            parts = (["titre modifié"] if prev[0] != (sf.get("title") or "") else [])
            parts += paragraph_changes(prev[1], paras)
            changed = ", ".join(parts) or "texte inchangé"
        out.append({
            "id": sf.get("id"), "title": sf.get("title") or "", "date": sf.get("date"),
            "source": sf.get("source"), "url": sf.get("url"),
            "changed": changed, "added": added, "removed": removed,
        })
        prev = (sf.get("title") or "", paras)
    out.reverse()
    return out


def changes(prev, cur) -> str:
    """What a version changed from the previous one, in a few French words."""
    status = cur["pub_status"]
    if status == "canceled":
        return "retirée par l'agence"
    if status == "withheld":
        return "retenue par l'agence"
    if prev is None:
        return "première version"
    parts = []
    if is_withdrawn(prev["pub_status"]):
        parts.append("remise en service")
    if (prev["title"] or "") != (cur["title"] or ""):
        parts.append("titre modifié")
    parts += paragraph_changes(_paragraphs(prev), _paragraphs(cur))
    pu = (json.loads(prev["metadata"]).get("agency") or {}).get("urgency")
    cu = (json.loads(cur["metadata"]).get("agency") or {}).get("urgency")
    if pu != cu and cu is not None:
        parts.append(f"urgence {pu} → {cu}" if pu is not None else f"urgence {cu}")
    return ", ".join(parts) if parts else "texte inchangé"
