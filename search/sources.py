"""Sources read as one agency or outlet, and bylines set apart.

Portals and feeds spell one source many ways: « Orange avec AFP », « Orange avec AFP-Services »,
« Source : AFP » are all AFP's copy; « BFM TV », « BFMTV.com », « Source BFMTV » one channel;
« 6Medias » and « 6 Médias » one agency. And a byline (« Philippe GRELARD », « Ivan Couronne »,
« Michel MOUTOT, avec les bureaux de l'AFP ») names who wrote the dispatch, not a source. One
function, applied to every dispatch read (search/documents.py), turns the raw field into
(source, byline): the source facet then counts agencies, not spellings.
"""
from __future__ import annotations

import re
from functools import lru_cache

_SPACES = re.compile(r"\s+")
# « Source : BFMTV », « source L'Opinion », « Sources: AFP ».
_SOURCE_PREFIX = re.compile(r"^sources?\s*:?\s+", re.IGNORECASE)
# « Orange avec AFP »: a portal's copy of another's; « X, avec les bureaux de l'AFP »: a byline and its agency.
_WITH = re.compile(r"\s*,?\s+avec\s+", re.IGNORECASE)
_BUREAUX = re.compile(r"^(?:les\s+)?bureaux\s+(?:de\s+l['’]|de\s+la\s+|du\s+|des\s+|de\s+)(?P<agency>[^,]+?)(?:\s+(?:dans|à|en)\b.*)?$",
                      re.IGNORECASE)
# « AFP-Services »: an agency's service for portals is the agency.
_SERVICE_SUFFIX = re.compile(r"^(?P<agency>[A-Z0-9]{2,})[- ]Services?$")
_DOMAIN = re.compile(r"\.(?:fr|com|net|org|info|tv|be|ch)$", re.IGNORECASE)
# « BFM TV »: capital-letter pieces of one acronym.
_ACRONYM_PIECES = re.compile(r"^(?:[A-Z]{2,}[ -])+[A-Z]{2,}$")
# « 6Medias » / « 6 Médias »: a number glued to a word is spaced as written out.
_DIGIT_GLUED = re.compile(r"(?<=\d)(?=[A-ZÀ-Ýa-zà-ÿ]{3})")
# A place after a byline: « Charlotte PLANTIVE à Washington ».
_DATELINE = re.compile(r"\s+à\s+[A-ZÀ-Ý][\w'’ -]*$")
_NAME_WORD = re.compile(r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)*")
# A surname in capitals, of three letters at least (« GRELARD »; « FR » in « Euronews FR » is a code).
_UPPER_WORD = re.compile(r"[A-ZÀ-Ý]{3,}(?:[-'’][A-ZÀ-Ý]+)*|(?:DE|DU|LA|LE|EL|AL|DA|DI)")


def normalize(raw: str | None) -> tuple[str | None, str | None]:
    """(source, byline) of a raw source field: the agency or outlet, and who signed, either may be None."""
    text = _SPACES.sub(" ", raw or "").strip(" ,;:-")
    text = _SOURCE_PREFIX.sub("", text).strip(" ,;:-")
    if not text:
        return None, None
    sources: list[str] = []
    bylines: list[str] = []
    for part in _WITH.split(text):
        part = part.strip(" ,;:-")
        if not part:
            continue
        bureaux = _BUREAUX.match(part)
        if bureaux:
            part = bureaux.group("agency").strip()
        name = byline(part)
        if name and not bureaux:
            bylines.append(name)
        else:
            sources.append(_clean(part))
    # « Orange avec AFP »: the copy is the last-named organisation's.
    return (sources[-1] if sources else None), (" et ".join(bylines) or None)


def _clean(name: str) -> str:
    """One spelling per source: no service suffix, web domain or spaced acronym."""
    name = _DOMAIN.sub("", name)
    m = _SERVICE_SUFFIX.match(name)
    if m:
        name = m.group("agency")
    if _ACRONYM_PIECES.match(name):
        name = re.sub(r"[ -]", "", name)
    return _DIGIT_GLUED.sub(" ", name)


def byline(text: str) -> str | None:
    """The writer's name when ``text`` is a byline (« Philippe GRELARD » → « Philippe Grelard »), else None.

    A byline is two to four words: a capitalised first name then the surname in capitals (the
    agencies' style), or a known first name that is no French word followed by capitalised names."""
    text = _DATELINE.sub("", text.strip())
    words = text.split(" ")
    if not 2 <= len(words) <= 4 or any(c.isdigit() or c in "./&@" for c in text):
        return None
    if not _NAME_WORD.fullmatch(words[0]):
        return None
    rest = words[1:]
    if any(_UPPER_WORD.fullmatch(w) and len(w) > 2 for w in rest) and all(_UPPER_WORD.fullmatch(w) or _NAME_WORD.fullmatch(w) for w in rest):
        return " ".join([words[0]] + [w if not _UPPER_WORD.fullmatch(w) else _title(w) for w in rest])
    if all(_NAME_WORD.fullmatch(w) for w in rest) and _first_name(words[0]):
        return text
    return None


def _title(word: str) -> str:
    """« GRELARD » → « Grelard », « BOTTOLLIER-DEPOIS » → « Bottollier-Depois »."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[:1] + m.group(0)[1:].lower(), word)


@lru_cache(maxsize=4096)
def _first_name(word: str) -> bool:
    # A first name that is no French word: « Paris Match » and « Public Sénat » are outlets.
    from .entities.lexicon import is_common_word, is_first_name

    return is_first_name(word) and not is_common_word(word)
