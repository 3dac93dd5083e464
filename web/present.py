"""Presenting a SearchResponse: facet toggle URLs, chips, pagination, the month histogram, French dates.

Both the JSON API and the HTML page use these, so a facet's ``toggle_url`` means the same thing
in both; only the endpoint differs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from urllib.parse import urlencode

from flask import Flask
from markupsafe import Markup, escape

from search.indexing import fold_key
from search.model import FacetItem, SearchRequest, SearchResponse

from .params import FACET_PARAM, query_string, replaced, state, toggled, with_month

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
MONTHS_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
FACET_LABELS = {
    "people": "Personnes", "places": "Lieux", "sources": "Sources", "dates": "Mois",
    # Agency items only: the engine gives these facets when the index holds some.
    "urgency": "Urgence", "genre": "Genre", "subjects": "Sujets", "language": "Langue", "slugline": "Slugline",
}
# The stages a time budget can cut short (SearchResponse.timed_out), as a reader would name them.
STAGE_LABELS = {
    "expansion": "l'extension des préfixes (mot*)",
    "scoring": "le classement",
    "reranking": "l'affinage du classement",
    "facets": "le décompte des filtres",
    "snippets": "les extraits",
    "corrections": "la correction orthographique",
}
CHIP_LABELS = {
    "person": "Personne", "place": "Lieu", "source": "Source",
    "urgency": "Urgence", "genre": "Genre", "subject": "Sujet", "language": "Langue", "slugline": "Slugline",
}
# Languages an agency is likely to send, by BCP 47 primary tag; any other is shown as its tag.
LANGUAGE_NAMES = {
    "fr": "français", "en": "anglais", "de": "allemand", "it": "italien", "es": "espagnol", "pt": "portugais",
    "nl": "néerlandais", "rm": "romanche", "ar": "arabe", "ru": "russe", "uk": "ukrainien", "zh": "chinois",
    "ja": "japonais", "pl": "polonais", "tr": "turc", "el": "grec", "sv": "suédois", "da": "danois",
    "no": "norvégien", "nb": "norvégien", "fi": "finnois", "cs": "tchèque", "hu": "hongrois", "ro": "roumain",
}
# What each pubStatus of a version means to a reader.
PUB_STATUS_LABELS = {"usable": "publiée", "withheld": "retenue par l'agence", "canceled": "retirée par l'agence"}
# Names the engine may give in a version's ``changed``, in French.
CHANGE_LABELS = {
    "title": "titre", "headline": "titre", "lead": "chapeau", "body": "texte", "text": "texte",
    "urgency": "urgence", "genre": "genre", "slugline": "slugline", "subjects": "sujets", "language": "langue",
    "date": "date", "embargo": "embargo", "pub_status": "statut", "status": "statut", "people": "personnes",
    "places": "lieux", "source": "source", "created": "première version", "first": "première version",
    "correction": "correction", "canceled": "retrait", "withheld": "retenue",
}
_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")

try:
    from zoneinfo import ZoneInfo

    PARIS = ZoneInfo("Europe/Paris")
except Exception:  # no time-zone data: times are shown at the offset they were sent with
    PARIS = None

_TAG = re.compile(r"(<[^<>]*>)")
INLINE_TAGS = frozenset({"<mark>", "</mark>"})
# A dispatch body from the library: paragraphs and sub-heads around the same <mark>s.
BODY_TAGS = INLINE_TAGS | {"<p>", "</p>", '<h3 class="subhead">', "</h3>"}


def marked(html: str | None, allowed: frozenset = INLINE_TAGS) -> Markup:
    """Library HTML (escaped text plus <mark>) marked safe; any other tag is escaped.

    The library promises only these exact tags; this checks the promise instead of trusting it,
    so that markup leaking through a bug upstream is shown as text, never run.
    """
    if not html:
        return Markup("")
    out = []
    for piece in _TAG.split(html):
        if piece in allowed:
            out.append(piece)
        else:
            # Text between tags is already escaped by the library (entities stay as they are);
            # only angle brackets could still open markup.
            out.append(piece.replace("<", "&lt;").replace(">", "&gt;"))
    return Markup("".join(out))


def body_html(html: str | None) -> Markup:
    """A dispatch body from the library: <p>, sub-head <h3> and <mark> only."""
    return marked(html, BODY_TAGS)


def french_date(date: str | None) -> str:
    """``2023-06-14`` → ``14 juin 2023``; ``2023-06`` → ``juin 2023``; ``2023`` stays."""
    if not date:
        return ""
    parts = date.split("-")
    try:
        if len(parts) == 3:
            day = int(parts[2])
            return f"{'1er' if day == 1 else day} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return date


def french_datetime(value: str | None) -> str:
    """An ISO 8601 time → ``14 juin 2023 à 10:32`` in Paris time (the newsroom's), or as sent when naive."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None and PARIS is not None:
        moment = moment.astimezone(PARIS)
    return f"{french_date(moment.date().isoformat())} à {moment:%H:%M}"


def lang_tag(language: str | None) -> str | None:
    """A language tag fit for a ``lang`` attribute (lower-case primary tag), or None."""
    if not language or not _LANG_TAG.fullmatch(language):
        return None
    return language.split("-")[0].lower()


def foreign_lang(language: str | None) -> str | None:
    """The ``lang`` of an item not in French (a label and a ``lang`` attribute are due), else None."""
    tag = lang_tag(language)
    return tag if tag and tag != "fr" else None


def language_name(language: str | None) -> str:
    """``en`` → ``anglais``; an unknown tag stays as it is."""
    tag = lang_tag(language)
    return LANGUAGE_NAMES.get(tag or "", language or "")


def urgency_label(urgency) -> str:
    """``1`` → ``Flash (urgence 1)``; ``3`` → ``Urgence 3``."""
    return f"Flash (urgence {urgency})" if str(urgency) == "1" else f"Urgence {urgency}"


def facet_value(value: str, facet: str) -> str:
    """A facet value as a reader names it: languages by name, urgency 1 as a flash."""
    if facet == "language":
        name = language_name(value)
        return f"{name} ({value})" if name != value else value
    if facet == "urgency":
        return "1 · flash" if value == "1" else value
    return value


def changed_text(changed) -> str:
    """A version's ``changed`` in French: the engine says it in French words (« titre modifié,
    1 paragraphe ajouté »); a list of field names is translated."""
    if not changed:
        return ""
    items = [changed] if isinstance(changed, str) else [str(c) for c in changed]
    return french_list([CHANGE_LABELS.get(c, c) for c in items])


def newest_first(versions) -> list[dict]:
    """A story's versions, the newest first (by version number)."""
    return sorted(versions or [], key=lambda v: v.get("version") or 0, reverse=True)


def french_number(n: int | float) -> str:
    """Thousands separated by a narrow no-break space, as French typography wants."""
    return f"{int(n):,}".replace(",", "\u202f")


def toggle_url(base: str, pairs: list[tuple[str, str]], facet: str, item: FacetItem) -> str:
    """The URL that selects the item if it is not selected, and deselects it if it is."""
    if facet == "dates":
        return base + query_string(with_month(pairs, None if item.selected else item.value))
    param = FACET_PARAM[facet]
    if item.selected:
        # The request may name the value in another case or without accents: match like the index does.
        key = fold_key(item.value)
        return base + query_string([p for p in pairs if p[0] != param or fold_key(p[1]) != key])
    return base + query_string(toggled(pairs, param, item.value))


def facets_with_urls(resp: SearchResponse, req: SearchRequest, base: str, *, keep_per_page: bool = False) -> dict[str, list[dict]]:
    """The response's facets as dicts, each item with its toggle_url."""
    pairs = state(req, keep_per_page=keep_per_page)
    # Most items add one value to the current URL: encode the current URL once for them all.
    current = base + query_string(pairs)
    joiner = "&" if pairs else "?"
    present = set(pairs)

    def url(facet: str, it: FacetItem) -> str:
        param = FACET_PARAM.get(facet)
        if param is None or it.selected or (param, it.value) in present:
            return toggle_url(base, pairs, facet, it)
        return current + joiner + urlencode([(param, it.value)])

    return {
        facet: [{"value": it.value, "count": it.count, "selected": it.selected, "toggle_url": url(facet, it)} for it in items]
        for facet, items in resp.facets.items()
    }


def response_dict(resp: SearchResponse, facets: dict[str, list[dict]]) -> dict:
    """The response as JSON-ready data, facets replaced by their toggle_url versions.

    A shallow copy: dataclasses.asdict deep-copies every hit and facet item, which cost more
    than the rest of the web layer together.
    """
    body = {f.name: getattr(resp, f.name) for f in fields(resp)}
    body["hits"] = [dict(vars(h)) for h in resp.hits]
    body["facets"] = facets
    body["pages"] = resp.pages
    return body


# What every document answer carries, agency item or not (the engine gives them for agency items).
DOCUMENT_DEFAULTS = {
    "status": "usable", "versions": [], "urgency": None, "genre": None, "slugline": None, "subjects": [],
    "language": None, "embargo": None, "shown_version": None,
}


def document_dict(doc: dict) -> dict:
    """A live document as the API gives it: the engine's dict, every agency field present."""
    out = dict(doc)
    for key, value in DOCUMENT_DEFAULTS.items():
        if out.get(key) is None:
            out[key] = value.copy() if isinstance(value, list) else value
    return out


def shown_version(versions: list[dict]) -> int | None:
    """The version a live agency item shows: its newest usable one."""
    return max((v.get("version") or 0 for v in versions if v.get("pub_status", "usable") == "usable"), default=None) or None


def is_withdrawn(doc: dict) -> bool:
    """A killed or withheld agency item: the engine keeps its history, the web answers 410."""
    return doc.get("status") == "withdrawn"


@dataclass
class Chip:
    """A selected filter shown above the results, with the URL that removes it."""

    label: str
    value: str
    remove_url: str


def chips(req: SearchRequest, base: str) -> list[Chip]:
    """The removable chips for the request's filters (people, places, sources, dates)."""
    pairs = state(req)
    out = []
    for name, value in pairs:
        if name in CHIP_LABELS:
            shown = facet_value(value, {"language": "language", "urgency": "urgency"}.get(name, name))
            out.append(Chip(CHIP_LABELS[name], shown, base + query_string(toggled(pairs, name, value))))
    if req.date_from or req.date_to:
        if req.date_from == req.date_to:
            label = french_date(req.date_from)
        elif req.date_from and req.date_to:
            label = f"du {french_date(req.date_from)} au {french_date(req.date_to)}"
        elif req.date_from:
            label = f"depuis {french_date(req.date_from)}"
        else:
            label = f"jusqu'à {french_date(req.date_to)}"
        out.append(Chip("Période", label, base + query_string(with_month(pairs, None))))
    return out


def page_links(page: int, pages: int, pairs: list[tuple[str, str]], base: str, around: int = 2) -> list[dict]:
    """Numbered pagination: first, last, and ``around`` pages either side; None marks a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    links, previous = [], 0
    for n in shown:
        if n - previous > 1:
            links.append({"gap": True})
        links.append({"number": n, "url": page_url(base, pairs, n), "current": n == page})
        previous = n
    return links


def page_url(base: str, pairs: list[tuple[str, str]], n: int) -> str:
    """URL of result page ``n``."""
    return base + query_string(replaced(pairs, "page", str(n)) if n > 1 else pairs)


def _month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    months = []
    while (y, m) <= (ly, lm) and len(months) < 600:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


@dataclass
class Bar:
    """One month of the histogram, in SVG user units."""

    month: str
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    url: str | None
    selected: bool


@dataclass
class Histogram:
    """The month histogram: bars plus the first and last month labels."""

    bars: list[Bar]
    years: list[float]  # x of each January after the first month: faint year separators
    width: int
    height: int
    first_label: str
    last_label: str
    max_count: int


def histogram(resp: SearchResponse, req: SearchRequest, base: str, width: int = 600, height: int = 80) -> Histogram | None:
    """Bars for every month from the first to the last one with results (empty months included)."""
    items = {it.value: it for it in resp.facets.get("dates", []) if re.fullmatch(r"\d{4}-\d{2}", it.value or "")}
    if not items:
        return None
    months = _month_range(min(items), max(items))
    top = max(it.count for it in items.values()) or 1
    pairs = state(req)
    step = width / len(months)
    gap = min(10.0, max(1.0, step * 0.12))
    bars = []
    for i, month in enumerate(months):
        it = items.get(month)
        count = it.count if it else 0
        h = 0 if not count else max(2.0, (height - 2) * count / top)
        bars.append(
            Bar(
                month=month,
                label=f"{french_date(month)} : {french_number(count)} dépêche{'s' if count > 1 else ''}",
                count=count,
                x=round(i * step + gap / 2, 2),
                y=round(height - h, 2),
                width=round(max(step - gap, 0.5), 2),
                height=round(h, 2),
                url=toggle_url(base, pairs, "dates", it) if it else None,
                selected=bool(it and it.selected),
            )
        )
    return Histogram(
        bars=bars,
        years=[round(i * step, 2) for i, month in enumerate(months) if i and month.endswith("-01")],
        width=width,
        height=height,
        first_label=f"{MONTHS_SHORT[int(months[0][5:]) - 1]} {months[0][:4]}",
        last_label=f"{MONTHS_SHORT[int(months[-1][5:]) - 1]} {months[-1][:4]}",
        max_count=top,
    )


def register(app: Flask) -> None:
    """Make the presentation helpers available to templates."""
    app.jinja_env.filters["facet_value"] = facet_value
    app.jinja_env.filters["french_datetime"] = french_datetime
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["lang_tag"] = lang_tag
    app.jinja_env.filters["foreign_lang"] = foreign_lang
    app.jinja_env.filters["urgency_label"] = urgency_label
    app.jinja_env.filters["changed_text"] = changed_text
    app.jinja_env.filters["capitalize_first"] = lambda t: (t[:1].upper() + t[1:]) if t else ""
    app.jinja_env.filters["pub_status"] = lambda v: PUB_STATUS_LABELS.get(v or "", v or "")
    app.jinja_env.filters["newest_first"] = newest_first
    app.jinja_env.filters["marked"] = marked
    app.jinja_env.filters["body_html"] = body_html
    app.jinja_env.filters["french_date"] = french_date
    app.jinja_env.filters["french_number"] = french_number
    app.jinja_env.filters["french_spaces"] = french_spaces
    app.jinja_env.globals["FACET_LABELS"] = FACET_LABELS


def french_list(items: list[str]) -> str:
    """``a``, ``a et b``, ``a, b et c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1] if items else ""


def applied_sentence(word: str, replacement: str) -> str:
    """What an applied correction did (the engine's notice says the same: it is shown once)."""
    return f"« {word} » n'apparaît dans aucune dépêche : cherché comme « {replacement} »."


def french_spaces(text: str | None) -> str:
    """No line break inside « guillemets » or before : ; ? ! (no-break spaces, as French typography wants)."""
    return re.sub(r"(«) | (»|:|;|\?|!)", lambda m: (m.group(1) or "") + "\u00a0" + (m.group(2) or ""), text or "")


@dataclass
class Explanation:
    """What the search did to the query and what the counts mean, for the page."""

    applied: list[str]  # one sentence per correction applied
    exact_url: str | None  # the same search with correct=0, when a correction was applied
    did_you_mean: str | None  # a suggestion not already applied
    did_you_mean_url: str | None
    notice: str | None  # the engine's notice without the sentences shown in ``applied``
    cut_short: str | None  # the stages the time budget cut short, in French
    searched: str  # the query as searched: the typed words with the applied corrections in place
    replacements: dict[str, str]  # typed word -> the word searched instead (a hit's missing words are typed ones)


def explanation(resp: SearchResponse, req: SearchRequest, base: str) -> Explanation:
    """Corrections, suggestion, notice and cut-short stages of a response, each said once."""
    pairs = state(req)
    applied = [c for c in resp.corrections if c.applied]
    sentences = [applied_sentence(c.word, c.replacement) for c in applied]
    notice = resp.notice
    for s in sentences:  # the engine says it in its notice too: say it once, beside the undo link
        notice = notice.replace(s, "") if notice else notice
    notice = " ".join((notice or "").split()) or None
    suggestion = resp.corrected_query if resp.corrected_query and not _only_applied(resp.corrected_query, req.q, applied) else None
    cut = [STAGE_LABELS.get(s, s) for s in resp.timed_out]
    return Explanation(
        applied=sentences,
        exact_url=base + query_string(replaced(pairs, "correct", "0")) if applied and req.correct else None,
        did_you_mean=suggestion,
        did_you_mean_url=base + query_string(replaced(pairs, "q", suggestion)) if suggestion else None,
        notice=notice,
        cut_short=french_list(cut) if cut else None,
        searched=_with_corrections(req.q, applied),
        replacements={c.word: c.replacement for c in applied},
    )


def _with_corrections(typed: str, applied: list) -> str:
    """The typed query with each applied correction's word replaced, so the count says what was counted."""
    out = typed
    for c in applied:
        out = re.sub(r"(?<!\w)" + re.escape(c.word) + r"(?!\w)", lambda _m, r=c.replacement: r, out, count=1)
    return out


def _only_applied(suggested: str, typed: str, applied: list) -> bool:
    """Whether a suggestion only repeats corrections already applied (or changes nothing)."""
    said, asked = suggested.casefold().split(), typed.casefold().split()
    if said == asked:
        return True
    if len(said) != len(asked):
        return False
    done = {(c.word.casefold(), c.replacement.casefold()) for c in applied}
    return all(a == s or (a, s) in done for a, s in zip(asked, said))
