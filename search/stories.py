"""Stories: near-duplicate dispatches grouped at index time (the versions of one running story).

Agencies resend a story as it develops (URGENT, first lead, write-thru, correction) and the same
copy runs under several sources. Two dispatches are versions of one story when

* their texts are near-duplicates: the Jaccard similarity of their shingles (``SHINGLE``
  consecutive terms of the French analyzer, so accents, elisions, plurals and stop words do not
  count) is at least ``THRESHOLD``, estimated by MinHash signatures (``datasketch``);
* or they carry the same headline (its analyzed terms, at least ``TITLE_MIN_TERMS`` of them)
  at most ``TITLE_WINDOW_DAYS`` apart: a running story's daily updates (« Coronavirus : le
  point sur la pandémie dans le monde ») share their headline and little else;
* and they are at most ``WINDOW_DAYS`` days apart (both dated to the day): the same text a year
  later is a new story (an anniversary, a recurring notice), not a version.

Candidates come from LSH banding (``datasketch.MinHashLSH`` chooses the bands for
``LSH_THRESHOLD``, a little under ``THRESHOLD`` so that few true pairs are missed): a dispatch
is compared only with the dispatches sharing one of its band keys, so grouping costs the same
per dispatch whatever the archive's size. A dispatch joins the story of its most similar
eligible candidate, else starts its own; a story's id is derived from its first dispatch's id
and never changes, so ``index add`` joins new dispatches to existing stories without touching
the dispatches already indexed.

Each generation keeps its signatures and band keys in ``generations.STORIES_FILE`` (SQLite),
written with the generation by the single writer; the story id of each dispatch is also a 64-bit
column of the index (``story``), which the engine reads in one pass to collapse results.
"""
from __future__ import annotations

import hashlib
import sqlite3
from array import array
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from datasketch import MinHash, MinHashLSH

from . import analysis
from .dates import day_number  # noqa: F401 - re-exported
from .generations import STORIES_FILE

SHINGLE = 3  # terms per shingle: word 3-grams tell a rewrite from a new text on the same subject
NUM_PERM = 128  # MinHash permutations: the similarity is estimated within about ±0.04
SEED = 1
# Chosen with the judged OrangeSum pairs (bench/stories.py, bench/results/stories_judged.md): at
# 0.3 about 97 % of the pairs grouped are one story (rewrites, updates with new figures, another
# outlet's write-up); lower, distinct developments of one affair start to be grouped.
THRESHOLD = 0.3
# The bands (28 of 2 rows) make a pair at the threshold a candidate 93 % of the time.
LSH_THRESHOLD = 0.2
WINDOW_DAYS = 7  # versions of one story are days apart; the same text a year later is another story
# A headline this short (« Météo », « En bref ») names a rubric, not a story.
TITLE_MIN_TERMS = 3
# Updates under one headline come daily; a weekly rubric (« Qui a dit… ? Les petites phrases de
# la semaine ») reuses its headline seven days on, for new content.
TITLE_WINDOW_DAYS = 3
# Stored with the signatures: an index written with other parameters is not compared with new ones.
PARAMS = (f"shingle={SHINGLE};perm={NUM_PERM};seed={SEED};lsh={LSH_THRESHOLD};scheme=affine32;"
          f"title={TITLE_MIN_TERMS},{TITLE_WINDOW_DAYS}")
STORY_ID_LENGTH = 16  # hex digits of a story id: a 64-bit number, the index's ``story`` column
# Band rows handed to SQLite at a commit are turned into Python integers this many at a time,
# not a million dispatches' 30 million at once.
KEY_ROWS_CHUNK = 1 << 20

# Bands refer to members by number and are clustered by key (WITHOUT ROWID): a band look-up is
# one index range, and the table costs about 12 bytes a band (32 bands a dispatch).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    n INTEGER PRIMARY KEY,
    doc TEXT NOT NULL UNIQUE,
    story TEXT NOT NULL,
    day INTEGER,
    signature BLOB NOT NULL,
    title INTEGER
);
CREATE TABLE IF NOT EXISTS bands (key INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, n)) WITHOUT ROWID;
"""

_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED)
_LSH = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
BAND_RANGES: tuple[tuple[int, int], ...] = tuple(_LSH.hashranges)


def story_id(first_doc_id: str) -> str:
    """The id of the story a dispatch starts: short, URL-safe, stable, never all zeros."""
    digest = hashlib.blake2b(first_doc_id.encode("utf-8", "surrogatepass"), digest_size=STORY_ID_LENGTH // 2).digest()
    return (digest if any(digest) else b"\x00" * (len(digest) - 1) + b"\x01").hex()


def story_number(story: str) -> int | None:
    """A story id as the number the index's ``story`` column holds; None if it is not a story id."""
    if not isinstance(story, str) or len(story) != STORY_ID_LENGTH or story.strip("0123456789abcdef"):
        return None
    return int(story, 16) or None


def story_name(number: int) -> str:
    """The story id of a ``story`` column value."""
    return f"{number:0{STORY_ID_LENGTH}x}"


def story_text(title: str | None, lead: str | None, body: str | None) -> str:
    """The text compared between versions: title, lead and body."""
    return "\n\n".join(x for x in (title, lead, body) if x)


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """The shingles of a text: ``size`` consecutive analyzed terms (all its terms when fewer)."""
    return shingles_of(analysis.terms(text), size)


def shingles_of(terms: list[str], size: int = SHINGLE) -> set[bytes]:
    """The shingles of a text given as its analyzed terms."""
    if len(terms) <= size:
        return {" ".join(terms).encode("utf-8", "surrogatepass")} if terms else set()
    runs = zip(*(terms[i:] for i in range(size)))  # each term with the size - 1 after it
    return {shingle.encode("utf-8", "surrogatepass") for shingle in map(" ".join, runs)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature of a text (``NUM_PERM`` uint32 values)."""
    return signature_of(analysis.terms(text))


def signature_of(terms: list[str]) -> np.ndarray:
    """The MinHash signature of a text given as its analyzed terms."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32, permutations=_TEMPLATE.permutations,
                scheme=_TEMPLATE.scheme)
    m.update_batch(shingles_of(terms))
    return m.hashvalues.astype(np.uint32, copy=False)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The Jaccard similarity two signatures estimate."""
    return float(np.count_nonzero(a == b)) / len(a)


def band_keys(sig: np.ndarray) -> list[int]:
    """The LSH band keys of a signature (signed 64-bit, as SQLite stores integers)."""
    out = []
    for i, (lo, hi) in enumerate(BAND_RANGES):
        h = hashlib.blake2b(bytes([i]) + sig[lo:hi].tobytes(), digest_size=8).digest()
        out.append(int.from_bytes(h, "big", signed=True))
    return out


def title_key(title: str | None) -> int | None:
    """A headline as a band key (its analyzed terms hashed); None when too short to name a story."""
    return title_key_of(analysis.terms(title) if title else [])


def title_key_of(terms: list[str]) -> int | None:
    """``title_key`` of a headline given as its analyzed terms."""
    if len(terms) < TITLE_MIN_TERMS:
        return None
    h = hashlib.blake2b(b"title\x00" + " ".join(terms).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(h, "big", signed=True)


def within_window(a: int | None, b: int | None, days: int = WINDOW_DAYS) -> bool:
    """Whether two dispatches are close enough in time to be versions of one story."""
    return a is not None and b is not None and abs(a - b) <= days


@dataclass(slots=True)
class Member:
    """A dispatch as the story index knows it."""

    doc: str
    story: str
    day: int | None
    signature: np.ndarray
    title: int | None = None  # title_key of its headline


def best_story(sig: np.ndarray, day: int | None, candidates: Iterable[Member],
               title: int | None = None) -> tuple[str | None, float]:
    """The story a dispatch joins among its LSH candidates (the most similar eligible one: a
    near-duplicate, or the same headline) and that similarity; (None, the best similarity seen)
    when none is eligible."""
    best, best_sim, seen = None, -1.0, 0.0
    for c in candidates:
        sim = similarity(sig, c.signature)
        seen = max(seen, sim)
        same_headline = title is not None and c.title == title and within_window(day, c.day, TITLE_WINDOW_DAYS)
        if (sim >= THRESHOLD or same_headline) and sim > best_sim and within_window(day, c.day):
            best, best_sim = c.story, sim
    return best, (best_sim if best is not None else seen)


class StoryIndex:
    """A generation's story index, opened by the single writer.

    ``fresh`` (a rebuild): the generation has none yet; everything is kept in memory and written
    on ``commit``. Otherwise (``index add``) the stored band keys are looked up for each new
    dispatch, and what the batch adds is written on ``commit``.
    """

    def __init__(self, gen: Path, fresh: bool = False, threads: bool = False):
        self.path = Path(gen) / STORIES_FILE
        self.fresh = fresh
        # ``threads``: another thread may commit (a rebuild does, one thread at a time).
        self.conn = sqlite3.connect(str(self.path), check_same_thread=not threads)
        self.conn.executescript(_SCHEMA)
        if "title" not in {r[1] for r in self.conn.execute("PRAGMA table_info(members)")}:
            self.conn.execute("ALTER TABLE members ADD COLUMN title INTEGER")  # written before headlines counted
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
        # Signatures made with other parameters cannot be compared: new dispatches only meet new ones.
        self.stored_usable = not fresh and row is not None and row[0] == PARAMS
        self.members: dict[str, Member] = {}
        # Kept for every dispatch of a rebuild until it commits: about 2.6 KB each, the band
        # keys in the buckets most of it (a list per band key and per member took 5.1 KB).
        self.keys: dict[str, array] = {}  # band keys of the members assigned
        self.buckets: dict[int, str | list[str]] = {}  # band key -> its member, or its members in order
        self.removed: set[str] = set()

    def __enter__(self) -> "StoryIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- reading

    def _candidates(self, keys: list[int], doc: str) -> list[Member]:
        seen: dict[str, Member] = {}
        for key in keys:
            got = self.buckets.get(key, ())
            for other in (got,) if isinstance(got, str) else got:
                if other != doc and other in self.members:
                    seen.setdefault(other, self.members[other])
        if self.stored_usable:
            marks = ",".join("?" * len(keys))
            rows = self.conn.execute(
                f"SELECT DISTINCT m.doc, m.story, m.day, m.signature, m.title FROM bands b JOIN members m ON m.n = b.n "
                f"WHERE b.key IN ({marks})", keys).fetchall()
            for row in rows:
                if row[0] != doc and row[0] not in self.removed and row[0] not in seen:
                    seen[row[0]] = _member(row)
        return list(seen.values())

    # -- writing

    def remove(self, doc: str) -> None:
        """Forget a dispatch (deleted, withdrawn, or about to be replaced); its story id stays its
        other versions' id."""
        self.members.pop(doc, None)
        self.keys.pop(doc, None)
        self.removed.add(doc)

    def assign(self, doc_id: str, date: str | None, text: str, title: str | None = None) -> str:
        """The story id of a dispatch being written: the story of its most similar recent
        near-duplicate or namesake headline, else a new one; recorded for ``commit``."""
        return self.assign_signature(doc_id, date, signature(text), title_key(title))

    def assign_signature(self, doc_id: str, date: str | None, sig: np.ndarray, head: int | None) -> str:
        """``assign`` for a text's signature and its headline's key, computed apart (the writer's
        analysing processes: writing_analysis.py)."""
        self.remove(doc_id)
        day = day_number(date)
        keys = band_keys(sig) + ([head] if head is not None else [])
        story, _ = best_story(sig, day, self._candidates(keys, doc_id), head)
        story = story or story_id(doc_id)
        self.removed.discard(doc_id)
        self.members[doc_id] = Member(doc_id, story, day, sig, head)
        self.keys[doc_id] = array("q", keys)
        buckets = self.buckets
        for key in keys:
            got = buckets.get(key)
            if got is None:
                buckets[key] = doc_id
            elif isinstance(got, str):
                buckets[key] = [got, doc_id]
            else:
                got.append(doc_id)
        return story

    def commit(self) -> None:
        """Write what was assigned and removed since opening, in one transaction."""
        c = self.conn
        with c:
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('params', ?)", (PARAMS,))
            if not self.stored_usable and not self.fresh:
                c.execute("DELETE FROM members")  # signatures of other parameters: useless now
                c.execute("DELETE FROM bands")
            elif not self.fresh:
                for doc in self.removed | set(self.members):  # replaced or removed: their old rows go
                    row = c.execute("SELECT n, signature, title FROM members WHERE doc = ?", (doc,)).fetchone()
                    if row is not None:
                        keys = band_keys(np.frombuffer(row[1], dtype=np.uint32)) + ([row[2]] if row[2] is not None else [])
                        c.executemany("DELETE FROM bands WHERE key = ? AND n = ?", ((k, row[0]) for k in keys))
                        c.execute("DELETE FROM members WHERE n = ?", (row[0],))
            first = c.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM members").fetchone()[0]
            numbered = list(enumerate(self.members.values(), first))
            c.executemany("INSERT INTO members (n, doc, story, day, signature, title) VALUES (?, ?, ?, ?, ?, ?)",
                          ((n, m.doc, m.story, m.day, m.signature.tobytes(), m.title) for n, m in numbered))
            c.executemany("INSERT OR IGNORE INTO bands (key, n) VALUES (?, ?)", _key_order(numbered, self.keys))
        self.stored_usable = True
        self.fresh = False
        self.rollback()

    def rollback(self) -> None:
        """Forget what was assigned since the last commit."""
        self.members.clear()
        self.keys.clear()
        self.buckets.clear()
        self.removed.clear()


def _key_order(numbered: list[tuple[int, Member]], keys: dict[str, array]):
    """The (band key, member number) rows of ``numbered`` in the bands table's order: inserted
    in key order, each lands beside the last instead of anywhere in the tree (a million
    dispatches' 30 million rows, inserted as they came, took about three minutes)."""
    if not numbered:
        return iter(())
    held = [keys[m.doc] for _, m in numbered]
    key = np.frombuffer(b"".join(a.tobytes() for a in held), dtype=np.int64)
    n = np.repeat(np.fromiter((n for n, _ in numbered), dtype=np.int64, count=len(numbered)), [len(a) for a in held])
    o = np.lexsort((n, key))
    return _rows(key, n, o)


def _rows(key: np.ndarray, n: np.ndarray, order: np.ndarray):
    for a in range(0, len(order), KEY_ROWS_CHUNK):
        part = order[a : a + KEY_ROWS_CHUNK]
        yield from zip(key[part].tolist(), n[part].tolist())


def _member(row) -> Member:
    return Member(row[0], row[1], row[2], np.frombuffer(row[3], dtype=np.uint32), row[4] if len(row) > 4 else None)


def read_members(gen: Path) -> list[Member]:
    """Every dispatch of a generation's story index (for the benchmark and checks)."""
    path = Path(gen) / STORIES_FILE
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [_member(r) for r in conn.execute("SELECT doc, story, day, signature, title FROM members")]
    finally:
        conn.close()
