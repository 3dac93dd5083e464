"""Text and keys: the text entities are read from, what the recogniser is fed, folding, display forms.

Shared by the people and places rules; nothing here loads data or a model.
"""
from __future__ import annotations

import collections
import re
import unicodedata
from functools import lru_cache

from ..folding import fold_key
from ..folding import fold_words as fold  # noqa: F401 - the entity modules compare words with it

# The recogniser needs ~1 GB of scratch memory per 100k characters on long inputs; news copy is
# far shorter (the longest OrangeSum article is 20k characters), so a longer text is cut here.
MAX_CHARS = 100_000


def document_text(title: str | None, lead: str, body: str) -> str:
    """title (when not empty) + lead + "\\n" + body — the text entities are read from."""
    head = (title or "").strip()
    # A newline after the title: concatenating it straight onto the lead glues words together
    # ("RoyalPour"), which the recogniser then reads as one name.
    return (head + "\n" if head else "") + (lead or "") + "\n" + (body or "")


@lru_cache(maxsize=1 << 17)
def entity_key(name: str) -> str:
    """Case/accent/punctuation-folded key used for facet filtering and to merge display forms."""
    # The same key as the index's facet fields, so merging here and filtering there agree.
    return fold_key(name)


def accent_count(s: str) -> int:
    """The number of accents (combining marks) in ``s``."""
    return sum(1 for c in unicodedata.normalize("NFD", s) if unicodedata.combining(c))


def choose_display(forms: "collections.Counter[str]") -> str:
    """Pick one display form per entity: properly cased, then most accented, then most frequent."""
    if not forms:
        raise ValueError("no forms")

    def rank(item: tuple[str, int]):
        form, count = item
        letters = [c for c in form if c.isalpha()]
        # "ÉTATS-UNIS" and "états-unis" are worse than "États-Unis" whatever their counts.
        cased = bool(letters) and form[:1].isupper() and not all(c.isupper() for c in letters)
        words = re.findall(r"\w+", form)
        capitals = sum(1 for w in words if w[:1].isupper())
        # Missing accents are the usual defect of wire copy ("Etats-Unis"), so they outrank counts.
        return (cased, accent_count(form), count, capitals, form)

    return max(forms.items(), key=rank)[0]


def strip_accents(s: str) -> str:
    """``s`` without its combining marks ("Etats-Unis" for "États-Unis")."""
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


# --------------------------------------------------------------------------------------------
# Preparing the text for the recogniser

_JSON = re.compile(r"\{[^{}]*\}")
_SCRIPT = re.compile(r"window\.[\w$.]+\s*=[^\n]*")
_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*|@\w+")
# Paragraphs of the corpus are often glued ("BordeauxLe maire", "AFP.Le"): the recogniser then
# reads one word. Break after three lower-case letters (keeps "McCain", "DiCaprio", "LeBron").
_GLUE_WORD = re.compile(r"([a-zà-öø-ÿ]{3})(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])")
# "BFMTVLa", "SNCFLe": an acronym glued to the next sentence's first word.
_GLUE_ACRONYM = re.compile(
    r"([A-Z]{3})(?=(?:Le|La|Les|Un|Une|Il|Ils|Elle|Elles|En|Au|Aux|Des|Du|Ce|Cette|Selon|Pour|"
    r"Dans|Après|Alors|Depuis|Mais|Sur)\b)"
)
_GLUE_PUNCT = re.compile(r"([^\W_]{2}[.!?»”\"])(?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])")
# "Le ministre (Oleksiy) Reznikov": a first name added in parentheses inside a quotation.
_PAREN_NAME = re.compile(r"\(([A-ZÀ-ÖØ-Þ][\w'’-]+)\)(?=\s+[A-ZÀ-ÖØ-Þ])")


def prepare_text(text: str) -> str:
    """The text fed to the recogniser: capped, URLs blanked, glued words and paragraphs split."""
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[: cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    if "window." in text:
        text = _SCRIPT.sub(" ", text)  # embedded video players: window.pvp_… = new Pvp(…)
    if "{" in text:
        text = _JSON.sub(" ", text)  # embedded player settings: {'domNode': "pvpContainer..."}
    text = _URL.sub(" ", text)
    text = _GLUE_WORD.sub("\\1\n", text)
    text = _GLUE_PUNCT.sub("\\1\n", text)
    text = _GLUE_ACRONYM.sub("\\1\n", text)
    # No extra spaces: the model reads "ministre  Oleksiy  Reznikov" (two spaces) as an organisation.
    return _PAREN_NAME.sub(r"\1", text)


# --------------------------------------------------------------------------------------------
# Positions and spans, shared by the people and places rules

EDGE_PUNCT = "\"'«»“”‘’()[]{}.,;:!?—–-_/*•·… \n\t"
SPACES = re.compile(r"\s+")


def sentence_initial(text: str, start: int) -> bool:
    """True when the word at ``start`` opens a sentence, a line, a quote or a title."""
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0":
        i -= 1
    return i < 0 or text[i] in ".!?…:;\"«»“”'’\n—–-(•*"


def glued(text: str, start: int) -> bool:
    """True when ``start`` is inside a word (or after a hyphen): no match can begin there."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-_")
