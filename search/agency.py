"""What the two IPTC agency formats (NewsML-G2 in ``newsml.py``, ninjs in ``ninjs.py``) share.

Publication statuses, versions, urgencies and dates checked the same way; subject names in French
(the item's own French name, else our table of the top-level Media Topics); an agency id made safe
for the index; and XHTML or HTML bodies turned into the paragraphs and sub-heads of a ``Dispatch``.
Reasons are in French, raised as ``BadRecord`` like the other readers'.
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from lxml import etree, html

from .documents import BadRecord, clean_id, is_subhead, parse_date, repair_text

PUB_STATUSES = ("usable", "withheld", "canceled")
MEDIATOPIC_URI = "http://cv.iptc.org/newscodes/mediatopic/"
_MEDIATOPICS_FILE = Path(__file__).resolve().parent / "data" / "mediatopics_fr.tsv"


# ---------------------------------------------------------------- values


def pub_status(value: str | None) -> str:
    """``usable``, ``withheld`` or ``canceled`` from a qcode (``stat:canceled``), a URI or a bare word."""
    if value is None or not str(value).strip():
        return "usable"  # both standards' default
    raw = str(value).strip()
    word = raw.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()
    word = {"cancelled": "canceled"}.get(word, word)
    if word not in PUB_STATUSES:
        raise BadRecord(f"statut de publication inconnu {raw!r} (attendu : usable, withheld ou canceled)")
    return word


def version_number(value) -> int:
    """A version: a positive integer (ninjs sends it as a string); 1 when absent."""
    if value is None or value == "":
        return 1
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if isinstance(value, bool) or isinstance(value, float) or number < 1:
        raise BadRecord(f"version {value!r} invalide (entier positif attendu)")
    return number


def urgency_number(value) -> int | None:
    """An urgency from 1 (flash) to 9; None when absent."""
    if value is None or value == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        number = 0.0
    if isinstance(value, bool) or number != int(number) or not 1 <= number <= 9:
        raise BadRecord(f"urgence {value!r} invalide (entier de 1 à 9 attendu)")
    return int(number)


def timestamp(value, name: str) -> str | None:
    """An ISO 8601 date-time as sent (checked, not converted); None when absent."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parse_date(text)
        except BadRecord as e:
            if str(e).startswith("date impossible"):
                raise BadRecord(f"{name} : {e}") from None
        raise BadRecord(f"{name} {text!r} : date et heure ISO 8601 attendues") from None
    return text


def embargo_utc(value) -> str | None:
    """The embargo's release time in UTC (``2023-06-14T10:00:00Z``); one without a time zone is refused."""
    text = timestamp(value, "embargo")
    if text is None:
        return None
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise BadRecord(f"embargo {text!r} sans fuseau horaire : l'heure de levée serait ambiguë")
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_of(*values: str | None) -> str | None:
    """YYYY-MM-DD of the first date-time given (as sent, in its own time zone)."""
    for value in values:
        if value:
            return parse_date(value)
    return None


def primary_language(tag) -> str | None:
    """The primary subtag of a BCP 47 tag, lower-case: ``fr-CH`` → ``fr``."""
    if not isinstance(tag, str) or not tag.strip():
        return None
    return tag.strip().replace("_", "-").split("-")[0].lower() or None


def is_french(tag) -> bool:
    return primary_language(tag) == "fr"


def agency_id(guid) -> str:
    """The Dispatch id of an agency item: its guid, or, for a guid that is a URL (ninjs uris often
    are), the same without the scheme and with ``:`` for ``/``: one guid always gives one id."""
    if guid is None or (isinstance(guid, str) and not guid.strip()):
        raise BadRecord("id manquant")
    text = str(guid).strip()
    if "/" in text:
        scheme, sep, rest = text.partition("://")
        text = (rest if sep else text).strip("/").replace("/", ":")
    return clean_id(text)


# ---------------------------------------------------------------- subjects


@functools.cache
def _mediatopics_fr() -> dict[str, str]:
    table = {}
    for line in _MEDIATOPICS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            qcode, _, name = line.partition("\t")
            table[qcode.strip()] = name.strip()
    return table


def mediatopic_fr(qcode: str | None) -> str | None:
    """The French name of a top-level Media Topic (``medtop:11000000`` → ``politique``)."""
    return _mediatopics_fr().get(qcode or "")


def qcode_of(code: str | None, scheme: str | None = None) -> str | None:
    """A subject's qcode: Media Topic URIs and bare codes of the Media Topic scheme become
    ``medtop:NNNNNNNN``; anything else is kept as sent."""
    code = (code or "").strip()
    if not code:
        return None
    if code.startswith(MEDIATOPIC_URI) or code.startswith(MEDIATOPIC_URI.replace("http:", "https:")):
        return "medtop:" + code.rstrip("/").rsplit("/", 1)[-1]
    if ":" not in code and scheme and "mediatopic" in scheme:
        return "medtop:" + code
    return code


def subject_name(qcode: str, names: list[tuple[str | None, str]]) -> str:
    """The name shown for a subject: its French name, else ours for a top-level Media Topic, else its
    first name, else its qcode. ``names`` are (language, name) pairs."""
    names = [(lang, " ".join(name.split())) for lang, name in names if name and name.strip()]
    for lang, name in names:
        if is_french(lang):
            return name
    return mediatopic_fr(qcode) or (names[0][1] if names else qcode)


# ---------------------------------------------------------------- bodies

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6", "hl1", "hl2"}  # hl1/hl2: NITF's
_PARAGRAPHS = {"p", "li", "pre", "dt", "dd", "figcaption", "caption", "address", "td", "th"}
_BLOCKS = {"html", "body", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
           "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "figure", "nav", "body.content",
           "block", "inlinexml"}
_SKIPPED = {"head", "script", "style", "template", "noscript", "object", "embed", "iframe", "math", "svg"}
_SUBHEAD_CLASSES = ("subhead", "intertitre", "crosshead", "sous-titre", "soustitre", "intertitle")


def _localname(element) -> str | None:
    if not isinstance(element.tag, str):
        return None  # comment, processing instruction, entity
    return etree.QName(element).localname.lower()


def _flat(text: str) -> str:
    return repair_text(" ".join(text.split()))


def body_blocks(root) -> list[tuple[str, str]]:
    """The ('p' | 'h', text) blocks of an XHTML or HTML body, in order: ``<p>``, list items … are
    paragraphs; ``<h1>``…``<h6>`` and ``<p class="subhead">`` (or intertitre, crosshead) sub-heads;
    text loose in a container is a paragraph of its own."""
    blocks: list[tuple[str, str]] = []

    def raw_text(element) -> str:
        parts = []

        def walk(e):
            name = _localname(e)
            if name in _SKIPPED:
                return
            if name == "br":
                parts.append(" ")
            if name is not None and e.text:
                parts.append(e.text)
            for child in e:
                walk(child)
                if child.tail:
                    parts.append(child.tail)

        walk(element)
        return "".join(parts)

    def text_of(element) -> str:
        return _flat(raw_text(element))

    def add(kind: str, text: str) -> None:
        if text:
            blocks.append((kind, text))

    def visit(element) -> None:
        loose: list[str] = [element.text or ""]

        def flush() -> None:
            add("p", _flat("".join(loose)))
            loose.clear()

        for child in element:
            name = _localname(child)
            if name is None or name in _SKIPPED:
                loose.append(child.tail or "")
                continue
            if name in _HEADINGS or name in _PARAGRAPHS or name in _BLOCKS:
                flush()
                if name in _HEADINGS:
                    add("h", text_of(child))
                elif name in _PARAGRAPHS:
                    classes = (child.get("class") or "").lower()
                    add("h" if any(c in classes for c in _SUBHEAD_CLASSES) else "p", text_of(child))
                else:
                    visit(child)
                loose.append(child.tail or "")
            else:  # inline: <b>, <a>, <span> …
                loose.append(raw_text(child))
                loose.append(child.tail or "")
        flush()

    visit(root)
    return blocks


def text_blocks(text: str) -> list[tuple[str, str]]:
    """Blocks of a plain-text body: paragraphs separated by blank lines; a short line without final
    punctuation is a sub-head, as in the plain-text dispatches."""
    text = repair_text(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    blocks = []
    for para in text.split("\n\n"):
        flat = " ".join(para.split())
        if flat:
            blocks.append(("h" if is_subhead(flat) else "p", flat))
    return blocks


_HTML_PARSER = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                               huge_tree=False, default_doctype=False)


def html_blocks(fragment: str) -> list[tuple[str, str]]:
    """Blocks of an HTML fragment (ninjs ``body_html``), parsed by lxml's HTML parser without network."""
    if not fragment or not fragment.strip():
        return []
    try:
        root = html.fragment_fromstring(fragment.replace("\x00", ""), create_parent="div", parser=_HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise BadRecord(f"corps HTML illisible ({e})") from None
    return body_blocks(root)


def lead_body_subheads(blocks: list[tuple[str, str]], summary: str | None) -> tuple[str, str, list[str]]:
    """Lead, body and sub-heads from body blocks: the summary is the lead when the item has one,
    otherwise the first paragraph is (and leaves the body); sub-heads stay in the body's text."""
    blocks = list(blocks)
    lead = " ".join((summary or "").split())
    if not lead:
        for i, (kind, text) in enumerate(blocks):
            if kind == "p":
                lead = text
                del blocks[i]
                break
    body = "\n\n".join(text for _, text in blocks)
    return lead, body, [text for kind, text in blocks if kind == "h"]
