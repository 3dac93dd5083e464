"""Reading dispatches: plain-text dispatches, JSON Lines, CSV, folders of them, and .gz of any.

Every reader yields either a ``Dispatch`` or a ``Rejection`` naming the file, the line and the
reason, so that bad input is reported and never silently dropped, and every valid document of a
file survives the bad ones around it. Reasons are in French: they are shown to the user as is.

Lone UTF-16 surrogates (a JSON ``"\ud83d"`` escape without its pair, or an undecodable file name)
cannot be encoded as UTF-8, so nothing downstream can store or show them: in text fields they are
replaced by U+FFFD, here and only here; an id holding one is rejected.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Union

from . import dates
from .sources import normalize as normalize_source

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
XML_SUFFIXES = (".xml",)  # NewsML-G2 (search/newsml.py); ninjs .json files: search/ninjs.py
MAX_ID_LENGTH = 200
# A lead of fewer words is a dateline ("6 mars") or a kicker, not a summary of the story.
MIN_LEAD_WORDS = 4
# A body without sentence punctuation is not one long lead sentence.
MAX_SUMMARY_WORDS = 60
# Characters that could turn an id into a path or break a URL.
_BAD_ID = re.compile(r"[\x00-\x1f\x7f/\\]")
# Lone surrogates: valid in a Python str, not encodable as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"
READ_CHUNK = 1 << 20


@dataclass
class AgencyMeta:
    """What an agency item (IPTC NewsML-G2 or ninjs) says about itself beyond its text."""

    guid: str  # the item's identity across versions (also the Dispatch id)
    version: int = 1
    first_created: str | None = None  # ISO 8601 with offset, as sent
    version_created: str | None = None
    pub_status: str = "usable"  # usable | withheld | canceled (a kill)
    embargo: str | None = None  # ISO 8601 UTC release time; not searchable before it
    urgency: int | None = None  # 1 (flash) .. 9
    genre: str | None = None  # label, e.g. « Actualité », or the qcode when no name is given
    slugline: str | None = None
    subjects: list[tuple[str, str]] = field(default_factory=list)  # (qcode, name in French when known)
    language: str | None = None  # BCP 47 primary tag: fr, en, de...
    dateline: str | None = None
    located: str | None = None
    provider: str | None = None  # provider / creditline


@dataclass
class Dispatch:
    """One news dispatch, as indexed and shown."""

    id: str
    lead: str
    body: str
    title: str | None = None
    date: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD (its precision is its length)
    source: str | None = None
    section: str | None = None
    url: str | None = None
    subheads: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    origin: str = ""  # file:line it was read from, for messages
    agency: AgencyMeta | None = None  # set for NewsML-G2 and ninjs items
    byline: str | None = None  # who signed it, when the source field named a writer

    def __post_init__(self) -> None:
        # Every format's source field read one way: the agency or outlet, the byline apart.
        self.source, signed = normalize_source(self.source)
        self.byline = self.byline or signed

    @property
    def has_real_lead(self) -> bool:
        """Whether the lead summarises the story (not missing, not a dateline such as "6 mars")."""
        return len(self.lead.split()) >= MIN_LEAD_WORDS

    @property
    def display_title(self) -> str:
        """The title, or one derived from the lead (or the body) when the dispatch has none."""
        return self.title or derive_title(self.lead if self.has_real_lead else self.body)

    @property
    def summary(self) -> str:
        """Title-less dispatches are summarised by their lead, completed by the body's first sentence when it is not a real lead."""
        if self.has_real_lead:
            return self.lead
        opening = first_sentence(self.body).split()
        return "\n".join((self.lead, " ".join(opening[:MAX_SUMMARY_WORDS]))).strip()

    @property
    def date_precision(self) -> str:
        """'day', 'month', 'year' or '' for an undated dispatch."""
        return {10: "day", 7: "month", 4: "year"}.get(len(self.date or ""), "")


@dataclass
class Rejection:
    """A record that could not be read, and why."""

    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


Item = Union[Dispatch, Rejection]


class BadRecord(ValueError):
    """A record whose content is invalid (the message is the reason shown to the user)."""


# ---------------------------------------------------------------- small pure helpers


def repair_text(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD, so that it can be encoded as UTF-8."""
    return _SURROGATE.sub(REPLACEMENT_CHARACTER, text)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"'A-ZÀ-ÖØ-Þ0-9])")
_ABBREVIATIONS = re.compile(r"(?:\b(?:M|MM|Mme|Mmes|Mlle|Dr|Pr|Me|St|Ste|av|J\.-C|etc|cf|p|n°)\.|\b[A-Z]\.)$")


def first_sentence(text: str) -> str:
    """The first sentence of a text (abbreviations like ``M.`` do not end a sentence)."""
    text = " ".join(text.split())
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[: m.start()]
        if _ABBREVIATIONS.search(candidate) or len(candidate) - start < 15:
            continue
        return candidate
    return text


def derive_title(lead: str, limit: int = 110) -> str:
    """A display title from a lead: its first sentence, cut at a word boundary near ``limit``."""
    sentence = first_sentence(lead or "").strip()
    if len(sentence) <= limit:
        return sentence.rstrip(" .")
    cut = sentence[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else sentence[:limit]
    return cut.rstrip(" ,;:–-") + "…"


def parse_date(value) -> str | None:
    """Normalise a date to YYYY[-MM[-DD]] (``dates``); raise BadRecord for an impossible one."""
    try:
        return dates.parse_date(value)
    except dates.DateError as e:
        raise BadRecord(str(e)) from None


def clean_id(value) -> str:
    """Validate a document id: non-empty, short, no control characters, slashes or lone surrogates."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BadRecord("id manquant")
    ident = str(value).strip()
    if len(ident) > MAX_ID_LENGTH:
        raise BadRecord(f"id de plus de {MAX_ID_LENGTH} caractères")
    if _BAD_ID.search(ident) or ident in (".", ".."):
        raise BadRecord(f"l'id {ident!r} contient une barre oblique ou un caractère de contrôle")
    if _SURROGATE.search(ident):
        raise BadRecord(f"l'id {ident!r} contient un demi-caractère Unicode isolé (substitut), impossible à encoder en UTF-8")
    return ident


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"texte attendu, reçu {type(value).__name__}")
    return repair_text(value.replace("\r\n", "\n").replace("\x00", "")).strip()


def _optional(value) -> str | None:
    text = _text(value)
    return text or None


def _names(value) -> list[str]:
    """People/places given with a record: a list of names, or one string separated by ';' (CSV)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRecord("people/places doit être une liste de noms")
    return [repair_text(" ".join(v.split())) for v in value if v.strip()]


def from_record(rec: dict, origin: str) -> Dispatch:
    """Build a dispatch from a JSON/CSV record (fields id, title, date, chapo|lead, body, ...)."""
    if not isinstance(rec, dict):
        raise BadRecord("un enregistrement doit être un objet JSON")
    ident = clean_id(rec.get("id"))
    body = _text(rec.get("body"))
    lead = _text(rec.get("chapo") if rec.get("chapo") is not None else rec.get("lead"))
    if not body and not lead:
        raise BadRecord("corps (body) manquant")
    if not body:
        body, lead = lead, ""
    date = parse_date(rec.get("date") or rec.get("published"))
    return Dispatch(
        people=_names(rec.get("people")),
        places=_names(rec.get("places")),
        id=ident,
        title=_optional(rec.get("title")),
        lead=lead,
        body=body,
        date=date,
        source=_optional(rec.get("source")),
        section=_optional(rec.get("section")),
        url=_optional(rec.get("url")),
        origin=origin,
        agency=_agency(rec.get("agency"), ident),
    )


def _agency(value, ident: str) -> AgencyMeta | None:
    """An optional ``"agency": {...}`` object of a JSON record (AgencyMeta's field names; subjects
    as [qcode, name] pairs, {"qcode", "name"} objects or names); the guid is the record's id."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRecord("agency doit être un objet JSON")
    known = AgencyMeta.__dataclass_fields__
    meta = AgencyMeta(guid=ident, **{k: v for k, v in value.items() if k in known and k not in ("guid", "subjects")})
    try:
        meta.version = int(meta.version)
        meta.urgency = int(meta.urgency) if meta.urgency is not None else None
    except (TypeError, ValueError):
        raise BadRecord("agency : version et urgency doivent être des nombres entiers") from None
    for s in value.get("subjects") or []:
        pair = (s.get("qcode"), s.get("name")) if isinstance(s, dict) else tuple(s) if isinstance(s, list) else (None, s)
        meta.subjects.append((pair[0] or "", pair[-1] or pair[0] or ""))
    return meta


# ---------------------------------------------------------------- plain-text dispatches

_CREDIT = re.compile(r"^/\s*([A-Za-zÀ-ÿ][\w .&'-]{0,40})$")
_DATE_LINE = re.compile(r"^\s*date\s+(\S+)\s*(.*)$", re.IGNORECASE | re.DOTALL)
_FINAL_PUNCT = tuple(".!?:;…,")


def is_subhead(paragraph: str) -> bool:
    """A short one-line paragraph without final punctuation is a sub-head."""
    p = paragraph.strip()
    return 0 < len(p) <= 100 and "\n" not in p and not p.endswith(_FINAL_PUNCT)


def parse_dispatch_text(text: str, ident: str, origin: str) -> Dispatch:
    """Parse the seed format: ``date YYYY-MM[-DD] lead``, paragraphs, sub-heads, ``/ATS`` credit."""
    text = repair_text(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    if not paragraphs:
        raise BadRecord("dépêche vide")
    date = None
    m = _DATE_LINE.match(paragraphs[0])
    if m:
        date = parse_date(m.group(1))
        paragraphs[0] = m.group(2).strip()
        if not paragraphs[0]:
            paragraphs.pop(0)
    source = None
    if paragraphs:
        credit = _CREDIT.match(paragraphs[-1])
        if credit:
            source = credit.group(1).strip()
            paragraphs.pop()
    if not paragraphs:
        raise BadRecord("corps (body) manquant")
    lead, rest = paragraphs[0], paragraphs[1:]
    subheads = [p for p in rest if is_subhead(p)]
    return Dispatch(
        id=clean_id(ident),
        lead=lead,
        body="\n\n".join(rest) if rest else "",
        date=date,
        source=source,
        subheads=subheads,
        origin=origin,
    )


# ---------------------------------------------------------------- files


def _decode(raw: bytes, origin: str, line: int | None = None) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRecord(f"UTF-8 invalide à l'octet {e.start}") from None
    return text.lstrip("\ufeff") if line in (None, 1) else text


def _open_bytes(path: Path) -> io.BufferedIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _inner_suffix(path: Path) -> str:
    return Path(path.stem).suffix.lower() if path.suffix == ".gz" else path.suffix.lower()


def _lines(path: Path) -> Iterator[tuple[int, bytes | Rejection]]:
    """Numbered raw lines; a damaged gzip ends with a Rejection instead of an exception."""
    n = 0
    try:
        with _open_bytes(path) as fh:
            for n, raw in enumerate(fh, 1):
                yield n, raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        yield n + 1, Rejection(str(path), n + 1, f"données compressées illisibles ou tronquées ({e.__class__.__name__}) : le reste du fichier est perdu")
    except OSError as e:
        yield n + 1, Rejection(str(path), n + 1, f"fichier illisible ({e.strerror or e.__class__.__name__}) : le reste du fichier est perdu")


def whole_file(path: Path) -> bytes | Rejection:
    """The whole (decompressed) file, or a Rejection saying why it cannot be read or is empty."""
    try:
        with _open_bytes(path) as fh:
            data = fh.read()
        return data if data.strip() else Rejection(str(path), None, "fichier vide")
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        return Rejection(str(path), None, f"fichier compressé illisible ou tronqué ({e.__class__.__name__})")
    except OSError as e:
        return Rejection(str(path), None, f"fichier illisible ({e.strerror or e.__class__.__name__})")


# What Python's json module says, in French.
_JSON_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendu",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Extra data": "texte en trop après l'objet",
    "Invalid control character at": "caractère de contrôle dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
}


def json_error_reason(line: str, e: json.JSONDecodeError) -> str:
    """Why a JSON line cannot be read, in French: truncated, not JSON at all, or where it breaks."""
    text = line.rstrip()
    start = len(line) - len(line.lstrip())
    if e.pos <= start and e.msg == "Expecting value":
        return f"ce n'est pas du JSON (colonne {e.colno})"
    # An escape cut short (``\ud8``) is as much the end of a line as an unclosed string.
    cut_escape = e.msg.startswith("Invalid \\uXXXX") and len(text) - e.pos < len("\\uXXXX")
    if e.msg.startswith("Unterminated string") or e.pos >= len(text) or cut_escape:
        return f"ligne JSON tronquée ou incomplète (elle s'arrête à la colonne {len(text)})"
    return f"JSON invalide à la colonne {e.colno} : {_JSON_MESSAGES.get(e.msg, e.msg)}"


def read_jsonl(path: Path) -> Iterator[Item]:
    """Dispatches from a JSON Lines file, one object per line."""
    origin = str(path)
    seen_any = False
    for n, raw in _lines(path):
        if isinstance(raw, Rejection):
            yield raw
            return
        if not raw.strip():
            continue
        seen_any = True
        try:
            line = _decode(raw, origin, n)
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise BadRecord(json_error_reason(line, e)) from None
            except RecursionError:
                raise BadRecord("JSON imbriqué trop profondément") from None
            if isinstance(rec, dict) and "id" not in rec:  # perhaps a ninjs item on one line
                from .ninjs import from_json_object

                yield from_json_object(rec, f"{origin}:{n}")
            else:
                yield from_record(rec, f"{origin}:{n}")
        except BadRecord as e:
            yield Rejection(origin, n, str(e))
    if not seen_any:
        yield Rejection(origin, None, "fichier vide")


def read_csv(path: Path) -> Iterator[Item]:
    """Dispatches from a CSV file with a header row (same field names as JSON Lines)."""
    origin = str(path)
    csv.field_size_limit(1 << 30)
    data = whole_file(path)
    if isinstance(data, Rejection):
        yield data
        return
    try:
        text = _decode(data, origin)
    except BadRecord as e:
        # Decode line by line so one bad row does not cost the whole file.
        text = data.decode("utf-8", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "id" not in [f.strip().lower() for f in reader.fieldnames]:
        yield Rejection(origin, 1, "l'en-tête CSV doit nommer une colonne « id »")
        return
    try:
        for row in reader:
            n = reader.line_num
            try:
                rec = {(k or "").strip().lower(): v for k, v in row.items()}
                for v in rec.values():
                    if isinstance(v, str) and any("\udc80" <= c <= "\udcff" for c in v):
                        raise BadRecord("UTF-8 invalide")
                yield from_record(rec, f"{origin}:{n}")
            except BadRecord as e:
                yield Rejection(origin, n, str(e))
    except csv.Error as e:
        yield Rejection(origin, reader.line_num, f"CSV mal formé ({e})")


def read_text_dispatch(path: Path) -> Iterator[Item]:
    """One plain-text dispatch per file; its id is the file name without extension."""
    origin = str(path)
    data = whole_file(path)
    if isinstance(data, Rejection):
        yield data
        return
    ident = path.name
    for suffix in (".gz", ".txt"):
        if ident.endswith(suffix):
            ident = ident[: -len(suffix)]
    try:
        yield parse_dispatch_text(_decode(data, origin), ident, origin)
    except BadRecord as e:
        yield Rejection(origin, 1, str(e))


def _folder_files(folder: Path) -> list[Path]:
    """The dispatch files of a folder, recursively, in name order."""
    # Hidden files and folders are not dispatches: a watched folder keeps what it has read in
    # .lu/ and .rejete/, which a rebuild from that folder must not read again.
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return [p for p in files if _inner_suffix(p) in TEXT_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES + XML_SUFFIXES]


def read_path(path: str | os.PathLike) -> Iterator[Item]:
    """Everything in a file or folder (recursively, in name order)."""
    path = Path(path)
    if path.is_dir():
        for p in _folder_files(path):
            yield from read_path(p)
        return
    if not path.exists():
        yield Rejection(str(path), None, "fichier ou dossier introuvable")
        return
    kind = _inner_suffix(path)
    if kind == ".json":  # one ninjs document (object or array), else JSON Lines
        from .ninjs import read_json

        yield from read_json(path)
    elif kind in XML_SUFFIXES:
        from .newsml import read_newsml

        yield from read_newsml(path)
    elif kind in JSONL_SUFFIXES:
        yield from read_jsonl(path)
    elif kind in CSV_SUFFIXES:
        yield from read_csv(path)
    elif kind in TEXT_SUFFIXES:
        yield from read_text_dispatch(path)
    else:
        yield Rejection(str(path), None, "format inconnu (attendu : .txt, .jsonl, .json, .csv, .xml, éventuellement en .gz)")


def read_sources(paths: Iterable[str | os.PathLike]) -> Iterator[Item]:
    """Dispatches from all sources, rejecting any id already seen in this run, except the
    versions of one agency item, which share their guid (the index keeps the newest)."""
    seen: dict[str, tuple[bool, str]] = {}
    for p in paths:
        for item in read_path(p):
            if isinstance(item, Dispatch):
                agency = item.agency is not None
                prev = seen.get(item.id)
                if prev is not None and not (agency and prev[0]):
                    src, _, line = item.origin.rpartition(":")
                    if not line.isdigit():
                        src, line = item.origin, ""
                    yield Rejection(src, int(line) if line else None, f"id {item.id!r} en double (déjà lu en {prev[1]})")
                    continue
                seen[item.id] = (agency, item.origin)
            yield item


# ---------------------------------------------------------------- counting, for progress bars


def _count_lines(path: Path) -> int:
    """Non-empty-ish lines of a (possibly gzipped) file, counted by newlines; 0 when unreadable."""
    n = 0
    last = b"\n"
    try:
        with _open_bytes(path) as fh:
            while chunk := fh.read(READ_CHUNK):
                n += chunk.count(b"\n")
                last = chunk[-1:]
    except (EOFError, zlib.error, OSError):
        pass
    return n + (last != b"\n")


def count_records(paths: Iterable[str | os.PathLike]) -> int:
    """About how many records the sources hold (JSON Lines lines, CSV rows, text files): a progress bar's total."""
    total = 0
    for p in map(Path, paths):
        for f in _folder_files(p) if p.is_dir() else [p]:
            kind = _inner_suffix(f)
            if kind in TEXT_SUFFIXES + XML_SUFFIXES:  # a newsMessage's several items count as one
                total += 1
            elif kind in JSONL_SUFFIXES:
                total += _count_lines(f)
            elif kind in CSV_SUFFIXES:
                total += max(0, _count_lines(f) - 1)  # the header; quoted multi-line fields make it an estimate
    return total
