"""Reading IPTC NewsML-G2: a ``newsItem``, or a ``newsMessage`` holding several in its ``itemSet``.

Parsed by lxml with a hardened parser (no entity expansion, no DTD loading, no network, no huge
trees). A document declaring a DOCTYPE (entities, an external DTD) or holding an XInclude is refused
before anything in it is expanded or fetched: agency items need neither. Never a regex on XML.

Each newsItem becomes a ``Dispatch`` with its ``AgencyMeta``; each one that cannot be read becomes a
``Rejection`` naming the file, the item's line and, in a message, its number, and the other items of
the message survive it. Killed (``stat:canceled``), withheld and embargoed items are read like any
other: the index decides what to do with them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from lxml import etree

from . import agency
from .documents import AgencyMeta, BadRecord, Dispatch, Item, Rejection, whole_file

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XINCLUDE_NS = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
OTHER_ITEMS = ("packageItem", "conceptItem", "knowledgeItem", "planningItem", "catalogItem")


class _Refused(Exception):
    """Raised by the guard to stop the parser at the first construct we refuse."""


class _Guard:
    """Parser target of the first pass: stops at a DOCTYPE before its internal subset is read (so
    no entity of a billion-laughs or XXE document is ever defined) and at an XInclude element."""

    def doctype(self, name, pubid, system):
        what = f"qui appelle la DTD externe {system!r}" if system else "avec des déclarations d'entités ou une DTD"
        raise _Refused(f"document XML refusé : déclaration DOCTYPE {what} (ni chargée ni développée ; "
                       "un item NewsML-G2 n'en a pas besoin)")

    def start(self, tag, attrib, nsmap=None):
        if tag.startswith("{") and tag[1:].split("}")[0] in XINCLUDE_NS:
            raise _Refused("document XML refusé : inclusion XInclude d'une ressource externe (non suivie)")

    def end(self, tag):
        pass

    def data(self, data):
        pass

    def comment(self, text):
        pass

    def pi(self, target, data=None):
        pass

    def close(self):
        return None


def _parser(target=None) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True, target=target)


def _syntax_reason(e: etree.XMLSyntaxError, data: bytes) -> str:
    line, column = e.position if e.position else (e.lineno or 0, 0)
    last_line = data.rstrip().count(b"\n") + 1
    if line >= last_line and ("end" in str(e).lower() or "not found" in str(e) or "expected" in str(e)
                              or "Couldn't find end" in str(e) or "not finished" in str(e)):
        return f"XML tronqué ou incomplet (il s'arrête à la ligne {last_line})"
    message = str(e.msg if hasattr(e, "msg") else e).split(", line ")[0]
    return f"XML mal formé à la ligne {line}, colonne {column} (libxml2 : {message})"


def parse_xml(data: bytes) -> etree._Element:
    """The root of an XML document, parsed safely; BadRecord with a French reason otherwise."""
    try:
        etree.fromstring(data, _parser(_Guard()))
        return etree.fromstring(data, _parser())
    except _Refused as e:
        raise BadRecord(str(e)) from None
    except etree.XMLSyntaxError as e:
        raise BadRecord(_syntax_reason(e, data)) from None


# ---------------------------------------------------------------- element helpers


def _local(element) -> str | None:
    return etree.QName(element).localname if isinstance(element.tag, str) else None


def _children(element, name: str) -> list:
    return [c for c in element if _local(c) == name] if element is not None else []


def _child(element, name: str):
    found = _children(element, name)
    return found[0] if found else None


def _text(element) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _lang(element) -> str | None:
    """The xml:lang in force on an element (its own, else its nearest ancestor's)."""
    while element is not None:
        lang = element.get(XML_LANG)
        if lang:
            return lang
        element = element.getparent()
    return None


def _names(element) -> list[tuple[str | None, str]]:
    return [(_lang(n), _text(n) or "") for n in _children(element, "name")]


def _label(element) -> str | None:
    """A concept's label: its French name, else its first name, else its literal or qcode."""
    if element is None:
        return None
    code = element.get("qcode") or element.get("literal") or element.get("uri")
    names = [(lang, name) for lang, name in _names(element) if name]
    for lang, name in names:
        if agency.is_french(lang):
            return name
    return names[0][1] if names else code


def _party(element) -> str | None:
    """A provider or info source: its name, else its literal, else the code of its qcode (``nprov:AFP`` → AFP)."""
    if element is None:
        return None
    names = [name for _, name in _names(element) if name]
    if names:
        return names[0]
    if element.get("literal"):
        return element.get("literal").strip() or None
    qcode = (element.get("qcode") or "").strip()
    return qcode.rsplit(":", 1)[-1] or None


# ---------------------------------------------------------------- one newsItem


def _body_blocks(item) -> list[tuple[str, str]]:
    content_set = _child(item, "contentSet")
    for inline in _children(content_set, "inlineXML"):
        blocks = agency.body_blocks(inline)
        if blocks:
            return blocks
    for inline in _children(content_set, "inlineData"):
        blocks = agency.text_blocks(inline.text or "")
        if blocks:
            return blocks
    return []


def item_to_dispatch(item, origin: str) -> Dispatch:
    """A Dispatch from a newsItem element; BadRecord with a French reason when it cannot be read."""
    guid = (item.get("guid") or "").strip()
    if not guid:
        raise BadRecord("guid manquant (attribut guid du newsItem)")
    ident = agency.agency_id(guid)
    item_meta, content_meta = _child(item, "itemMeta"), _child(item, "contentMeta")
    item_class = (_child(item_meta, "itemClass").get("qcode") or "") if _child(item_meta, "itemClass") is not None else ""
    if item_class and item_class.rsplit(":", 1)[-1].rsplit("/", 1)[-1] != "text":
        raise BadRecord(f"newsItem de nature {item_class!r} : seuls les textes (ninat:text) sont lus")
    status_element = _child(item_meta, "pubStatus")
    status = agency.pub_status(status_element.get("qcode") or status_element.get("uri") if status_element is not None else None)
    first_created = agency.timestamp(_text(_child(item_meta, "firstCreated")), "firstCreated")
    version_created = agency.timestamp(_text(_child(item_meta, "versionCreated")), "versionCreated")
    language_element = _child(content_meta, "language")
    language = agency.primary_language(language_element.get("tag") if language_element is not None else None) \
        or agency.primary_language(_lang(item))
    located = _label(_child(content_meta, "located"))
    creditline = _text(_child(content_meta, "creditline"))
    provider = _party(_child(item_meta, "provider"))
    info_source = _party(_child(content_meta, "infoSource"))
    subjects = []
    for subject in _children(content_meta, "subject"):
        qcode = agency.qcode_of(subject.get("qcode") or subject.get("literal") or subject.get("uri"))
        if qcode:
            subjects.append((qcode, agency.subject_name(qcode, _names(subject))))
    headline = _text(_child(content_meta, "headline"))
    for candidate in _children(content_meta, "headline"):
        if (candidate.get("role") or "hlrole:main").endswith("main"):
            headline = _text(candidate)
            break
    summary = None
    for description in _children(content_meta, "description"):
        if (description.get("role") or "drol:summary").rsplit(":", 1)[-1] in ("summary", "abstract"):
            summary = _text(description)
            break
    lead, body, subheads = agency.lead_body_subheads(_body_blocks(item), summary)
    if not lead and not body and status == "usable":
        raise BadRecord("corps manquant : ni texte (inlineXML, inlineData) ni résumé")
    meta = AgencyMeta(
        guid=guid,
        version=agency.version_number(item.get("version")),
        first_created=first_created,
        version_created=version_created,
        pub_status=status,
        embargo=agency.embargo_utc(_text(_child(item_meta, "embargoed"))),
        urgency=agency.urgency_number(_text(_child(content_meta, "urgency"))),
        genre=_label(_child(content_meta, "genre")),
        slugline=_text(_child(content_meta, "slugline")),
        subjects=subjects,
        language=language,
        dateline=_text(_child(content_meta, "dateline")),
        located=located,
        provider=provider or creditline,
    )
    return Dispatch(
        id=ident,
        title=headline,
        lead=lead,
        body=body,
        date=agency.day_of(version_created, first_created),
        source=creditline or provider or info_source,
        subheads=subheads,
        places=[located] if located else [],
        origin=origin,
        agency=meta,
    )


# ---------------------------------------------------------------- files


def read_newsml(path: Path) -> Iterator[Item]:
    """Dispatches from a NewsML-G2 file (``.xml``, possibly gzipped): one newsItem or a newsMessage."""
    origin = str(path)
    data = whole_file(path)
    if isinstance(data, Rejection):
        yield data
        return
    try:
        root = parse_xml(data)
    except BadRecord as e:
        yield Rejection(origin, None, str(e))
        return
    kind = _local(root)
    if kind == "newsItem":
        items = [root]
    elif kind == "newsMessage":
        items = [i for item_set in _children(root, "itemSet") for i in item_set if _local(i) is not None]
        if not items:
            yield Rejection(origin, root.sourceline, "newsMessage sans aucun item (itemSet vide ou absent)")
            return
    else:
        yield Rejection(origin, root.sourceline, f"ni newsItem ni newsMessage NewsML-G2 (élément racine <{kind}>)")
        return
    numbered = kind == "newsMessage"
    for n, item in enumerate(items, 1):
        where = f"newsItem n° {n} : " if numbered else ""
        name = _local(item)
        try:
            if name != "newsItem":
                raise BadRecord(f"<{name}> non lu : seuls les newsItem portent des dépêches")
            yield item_to_dispatch(item, f"{origin}:{item.sourceline}")
        except BadRecord as e:
            label = f"item n° {n} : " if numbered and name != "newsItem" else where
            yield Rejection(origin, item.sourceline, f"{label}{e}")
