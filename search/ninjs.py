"""Reading IPTC ninjs (News in JSON), generations 1.x and 2.x, told apart by their field names.

=================  ==============================  ==================================
Dispatch / meta    ninjs 1.x                       ninjs 2.x
=================  ==============================  ==================================
id, guid           uri                             uri
title              headline                        headlines[role main, else first]
lead               description_text / _html        descriptions[role summary, else first]
body, subheads     body_html / body_xml / _text    bodies[HTML first, else text]
subjects           subject[{code, scheme, name}]   subjects[{uri | literal, name}]
genre              genre[{code, name}]             genres[{uri | literal, name}]
source, provider   infosource / copyrightholder    infosources[{name}] / copyrightholder
=================  ==============================  ==================================

Shared by both: version, firstcreated, versioncreated, pubstatus, embargoed, urgency, language,
slugline, located. A ``.json`` file is ninjs when its whole content parses as one ninjs object or
an array of objects; a ``.json`` file whose first line is a whole object stays JSON Lines, and a
JSON Lines line that is a ninjs object (no ``id``, ninjs keys) is read here too.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from . import agency
from .documents import (AgencyMeta, BadRecord, Dispatch, Item, Rejection, _decode, _lines, whole_file,
                        _JSON_MESSAGES, from_record, read_jsonl, repair_text)

# Keys only a ninjs object has (our JSON Lines records have ``id`` and none of these).
NINJS_KEYS = frozenset({"uri", "versioncreated", "firstcreated", "pubstatus", "headlines", "bodies",
                        "body_text", "body_html", "body_xml", "headline", "standard", "descriptions",
                        "description_text", "description_html"})


def is_ninjs(obj) -> bool:
    """Whether a JSON object is a ninjs item rather than one of our records."""
    return isinstance(obj, dict) and "id" not in obj and not NINJS_KEYS.isdisjoint(obj)


def _string(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadRecord(f"{key} : texte attendu, reçu {type(value).__name__}")
    text = repair_text(" ".join(str(value).split()))
    return text or None


def _list(obj: dict, key: str) -> list[dict]:
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRecord(f"{key} : liste d'objets attendue")
    return value


def _pick(entries: list[dict], roles: tuple[str, ...]) -> dict | None:
    """The entry whose role is one of ``roles`` (or has no role), else the first one."""
    for entry in entries:
        if (entry.get("role") or roles[0]).rsplit(":", 1)[-1].lower() in roles:
            return entry
    return entries[0] if entries else None


def _blocks(value, contenttype: str | None) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, str):
        raise BadRecord(f"corps : texte attendu, reçu {type(value).__name__}")
    if contenttype and ("html" in contenttype or "xml" in contenttype):
        return agency.html_blocks(value)
    return agency.text_blocks(value)


def _body(obj: dict) -> list[tuple[str, str]]:
    bodies = _list(obj, "bodies")
    if bodies:
        marked = [b for b in bodies if "html" in str(b.get("contenttype") or "") or "xml" in str(b.get("contenttype") or "")]
        chosen = _pick(marked, ("main",)) or _pick(bodies, ("main",))
        contenttype = str(chosen.get("contenttype") or "")
        value = chosen.get("value")
        if not contenttype and isinstance(value, str) and value.lstrip().startswith("<"):
            contenttype = "text/html"
        return _blocks(value, contenttype)
    for key, contenttype in (("body_html", "text/html"), ("body_xml", "application/xhtml+xml"), ("body_text", "text/plain")):
        if obj.get(key) is not None:
            blocks = _blocks(obj.get(key), contenttype)
            if blocks:
                return blocks
    return []


def _summary(obj: dict) -> str | None:
    descriptions = _list(obj, "descriptions")
    if descriptions:
        chosen = _pick(descriptions, ("summary", "abstract", "lead"))
        blocks = _blocks(chosen.get("value"), str(chosen.get("contenttype") or ""))
        return " ".join(text for _, text in blocks) or None
    if obj.get("description_text") is not None:
        return _string(obj, "description_text")
    if obj.get("description_html") is not None:
        return " ".join(text for _, text in _blocks(obj.get("description_html"), "text/html")) or None
    return None


def _title(obj: dict) -> str | None:
    headlines = _list(obj, "headlines")
    if headlines:
        chosen = _pick(headlines, ("main",))
        return _string(chosen, "value")
    return _string(obj, "headline")


def _concept_code(entry: dict) -> str | None:
    code = entry.get("code") or entry.get("qcode") or entry.get("uri") or entry.get("literal")
    return agency.qcode_of(str(code), str(entry.get("scheme") or "")) if code else None


def _subjects(obj: dict, language: str | None) -> list[tuple[str, str]]:
    subjects = []
    for entry in _list(obj, "subjects") or _list(obj, "subject"):
        qcode = _concept_code(entry)
        name = _string(entry, "name")
        if qcode or name:
            # A ninjs name is in the item's language.
            subjects.append((qcode or "", agency.subject_name(qcode or name, [(language, name or "")])))
    return subjects


def _genre(obj: dict) -> str | None:
    for entry in _list(obj, "genres") or _list(obj, "genre"):
        label = _string(entry, "name") or _concept_code(entry)
        if label:
            return label
    return None


def _source(obj: dict) -> str | None:
    for entry in _list(obj, "infosources") or _list(obj, "infosource"):
        label = _string(entry, "name") or _string(entry, "literal")
        if label:
            return label
    return _string(obj, "copyrightholder")


def from_ninjs(obj, origin: str) -> Dispatch:
    """A Dispatch from one ninjs object; BadRecord with a French reason when it cannot be read."""
    if not isinstance(obj, dict):
        raise BadRecord("un item ninjs doit être un objet JSON")
    uri = obj.get("uri")
    if uri is None or (isinstance(uri, str) and not uri.strip()):
        raise BadRecord("uri manquant (l'identifiant d'un item ninjs)")
    if not isinstance(uri, str):
        raise BadRecord(f"uri : texte attendu, reçu {type(uri).__name__}")
    ident = agency.agency_id(uri)
    kind = _string(obj, "type")
    if kind and kind != "text":
        raise BadRecord(f"item ninjs de type {kind!r} : seuls les textes (type text) sont lus")
    status = agency.pub_status(_string(obj, "pubstatus"))
    first_created = agency.timestamp(_string(obj, "firstcreated"), "firstcreated")
    version_created = agency.timestamp(_string(obj, "versioncreated"), "versioncreated")
    language = agency.primary_language(_string(obj, "language"))
    located = _string(obj, "located")
    source = _source(obj)
    lead, body, subheads = agency.lead_body_subheads(_body(obj), _summary(obj))
    if not lead and not body and status == "usable":
        raise BadRecord("corps manquant : ni bodies / body_html / body_text ni description")
    meta = AgencyMeta(
        guid=uri.strip(),
        version=agency.version_number(obj.get("version")),
        first_created=first_created,
        version_created=version_created,
        pub_status=status,
        embargo=agency.embargo_utc(_string(obj, "embargoed")),
        urgency=agency.urgency_number(obj.get("urgency")),
        genre=_genre(obj),
        slugline=_string(obj, "slugline"),
        subjects=_subjects(obj, language),
        language=language,
        located=located,
        provider=source,
    )
    return Dispatch(
        id=ident,
        title=_title(obj),
        lead=lead,
        body=body,
        date=agency.day_of(version_created, first_created),
        source=source,
        subheads=subheads,
        places=[located] if located else [],
        origin=origin,
        agency=meta,
    )


def from_json_object(obj, origin: str) -> Dispatch:
    """A ninjs item or one of our records, whichever the object is."""
    return from_ninjs(obj, origin) if is_ninjs(obj) else from_record(obj, origin)


# ---------------------------------------------------------------- files


def _first_line(path: Path) -> str | None:
    for _, raw in _lines(path):
        if isinstance(raw, Rejection):
            return None
        if raw.strip():
            try:
                return _decode(raw, str(path), 1)
            except BadRecord:
                return None
    return None


def _is_one_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _document_error(text: str, e: json.JSONDecodeError) -> str:
    """Why a whole JSON document cannot be read, in French."""
    body = text.rstrip()
    if e.msg.startswith("Unterminated string") or e.pos >= len(body):
        return f"document JSON tronqué ou incomplet (il s'arrête à la ligne {body.count(chr(10)) + 1})"
    return f"JSON invalide à la ligne {e.lineno}, colonne {e.colno} : {_JSON_MESSAGES.get(e.msg, e.msg)}"


def read_json(path: Path) -> Iterator[Item]:
    """A ``.json`` file: JSON Lines when its first line is a whole object; otherwise one JSON
    document, a ninjs object or an array of objects (ninjs items or our records)."""
    origin = str(path)
    first = _first_line(path)
    if first is None or _is_one_object(first):
        yield from read_jsonl(path)
        return
    data = whole_file(path)
    if isinstance(data, Rejection):
        yield data
        return
    try:
        text = _decode(data, origin)
        document = json.loads(text)
    except BadRecord as e:
        yield Rejection(origin, None, str(e))
        return
    except RecursionError:
        yield Rejection(origin, None, "JSON imbriqué trop profondément")
        return
    except json.JSONDecodeError as e:
        start = first.strip()
        if start == "{" or start.startswith("["):  # a JSON document, not lines
            yield Rejection(origin, e.lineno, _document_error(text, e))
        else:
            yield from read_jsonl(path)
        return
    if isinstance(document, list):
        for n, obj in enumerate(document, 1):
            try:
                yield from_json_object(obj, f"{origin} (objet n° {n})")
            except BadRecord as e:
                yield Rejection(origin, None, f"objet n° {n} du tableau : {e}")
    else:
        try:
            yield from_json_object(document, origin)
        except BadRecord as e:
            yield Rejection(origin, None, str(e))
