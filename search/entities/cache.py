"""The entity cache: results kept in SQLite across rebuilds, keyed by the extractor (cache_key)."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

Entities = tuple[list[str], list[str]]  # (people, places) display names of one text


class Cache:
    """sha1(MODEL_VERSION + text) → (people, places) in SQLite (WAL: safe for two processes)."""

    def __init__(self, path: str | os.PathLike) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(os.fspath(path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS entities (key BLOB PRIMARY KEY, value TEXT NOT NULL)")
        self.pending: list[tuple[bytes, str]] = []

    def get_many(self, keys: list[bytes]) -> dict[bytes, Entities]:
        """The cached results of those keys that are in the cache."""
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(
                f"SELECT key, value FROM entities WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            for key, value in rows:
                people, places = json.loads(value)
                out[bytes(key)] = (people, places)
        return out

    def put(self, key: bytes, value: Entities) -> None:
        """Stores a result, written with the next batch of 256."""
        self.pending.append((key, json.dumps(value, ensure_ascii=False)))
        if len(self.pending) >= 256:
            self.flush()

    def flush(self) -> None:
        """Writes the pending results in one transaction."""
        if self.pending:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO entities VALUES (?, ?)", self.pending)
            self.pending = []

    def close(self) -> None:
        """Flushes and closes the database."""
        self.flush()
        self.db.close()
