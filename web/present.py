"""Presenting a SearchResponse: facet toggle URLs, chips, pagination, the month histogram, French dates.

Both the JSON API and the HTML page use these, so a facet's ``toggle_url`` means the same thing
in both; only the endpoint differs.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields
from datetime import datetime
from urllib.parse import urlencode

from flask import Flask
from markupsafe import Markup

from search.indexing import fold_key
from search.model import PARAGRAPH, SUBHEAD, Block, FacetItem, Hit, SearchRequest, SearchResponse, Segment

from .params import EXCLUDE_PARAM, EXCLUDES, FACET_PARAM, query_string, replaced, state, toggled, with_month

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

# How each kind of body block is written on the page (the library gives paragraphs and sub-heads).
BLOCK_TAGS = {PARAGRAPH: ("<p>", "</p>"), SUBHEAD: ('<h3 class="subhead">', "</h3>")}


def _escaped(text: str) -> str:
    # The escaping the API's *_html fields have always had (&#x27; &quot;), so they keep their bytes.
    return html.escape(text, quote=True)


def segments_html(segments: list[Segment] | None) -> str:
    """Segments as HTML: every character of text escaped, marked runs in <mark>."""
    return "".join(f"<mark>{_escaped(s.text)}</mark>" if s.mark else _escaped(s.text) for s in segments or ())


def blocks_html(blocks: list[Block] | None) -> str:
    """A dispatch body as HTML: <p> paragraphs and <h3 class="subhead"> sub-heads, marks in <mark>."""
    return "\n".join(BLOCK_TAGS[b.kind][0] + segments_html(b.segments) + BLOCK_TAGS[b.kind][1] for b in blocks or ())


def marked(segments: list[Segment] | None) -> Markup:
    """Template filter: segments as safe HTML (the only markup is the <mark> written here)."""
    return Markup(segments_html(segments))


def body_html(blocks: list[Block] | None) -> Markup:
    """Template filter: a dispatch body as safe HTML."""
    return Markup(blocks_html(blocks))


def segments_json(segments: list[Segment] | None) -> list[dict]:
    """Segments as JSON: ``{"text": …, "mark": true|false}`` each."""
    return [{"text": s.text, "mark": s.mark} for s in segments or ()]


def hit_dict(hit: Hit) -> dict:
    """A hit as the JSON API gives it: its fields, title and snippet both as HTML (escaped text,
    <mark>) and as segments."""
    out = dict(vars(hit))
    out["title_html"] = segments_html(hit.title_segments)
    out["title_segments"] = segments_json(hit.title_segments)
    out["snippet_html"] = segments_html(hit.snippet_segments)
    out["snippet_segments"] = segments_json(hit.snippet_segments)
    return out


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


# Versions listed under a hit on the search page (the newest); /api/story/<id> lists more. Each
# costs a stored document read, so a page of 100 hits reads at most 100 x (this + 1).
PAGE_STORY_VERSIONS = 5
# Characters of an added or removed paragraph shown on the page.
CHANGE_EXCERPT = 240


def story_versions(engine, hits) -> dict[str, dict]:
    """The versions of each hit's story that has others, for « N autres versions » (story id -> story)."""
    out = {}
    for hit in hits:
        if hit.other_versions and hit.story and hit.story not in out:
            got = engine.story(hit.story, limit=PAGE_STORY_VERSIONS)
            if got is not None:
                out[hit.story] = got
    return out


def excerpt(text: str, limit: int = CHANGE_EXCERPT) -> str:
    """The start of a paragraph, cut at a word boundary with an ellipsis when longer than ``limit``."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def french_number(n: int | float) -> str:
    """Thousands separated by a narrow no-break space, as French typography wants."""
    return f"{int(n):,}".replace(",", "\u202f")


def _without(pairs: list[tuple[str, str]], param: str | None, value: str) -> list[tuple[str, str]]:
    """The pairs without ``param=value``: the request may name the value in another case or
    without accents, so match like the index does."""
    key = fold_key(value)
    return [p for p in pairs if p[0] != param or fold_key(p[1]) != key]


def toggle_url(base: str, pairs: list[tuple[str, str]], facet: str, item: FacetItem) -> str:
    """The URL that selects the item if it is not selected (lifting its exclusion), and deselects it if it is."""
    if facet == "dates":
        return base + query_string(with_month(pairs, None if item.selected else item.value))
    param = FACET_PARAM[facet]
    if item.selected:
        return base + query_string(_without(pairs, param, item.value))
    if item.excluded:
        pairs = _without(pairs, EXCLUDE_PARAM.get(facet), item.value)
    return base + query_string(toggled(pairs, param, item.value))


def exclude_url(base: str, pairs: list[tuple[str, str]], facet: str, item: FacetItem) -> str | None:
    """The URL that excludes the item (lifting its selection), or lifts its exclusion if it is
    excluded; None for a facet whose values cannot be excluded."""
    param = EXCLUDE_PARAM.get(facet)
    if param is None:
        return None
    if item.excluded:
        return base + query_string(_without(pairs, param, item.value))
    return base + query_string(_without(pairs, FACET_PARAM[facet], item.value) + [(param, item.value)])


def facets_with_urls(resp: SearchResponse, req: SearchRequest, base: str, *, keep_per_page: bool = False) -> dict[str, list[dict]]:
    """The response's facets as dicts, each item with its toggle_url."""
    pairs = state(req, keep_per_page=keep_per_page)
    # Most items add one value to the current URL: encode the current URL once for them all.
    current = base + query_string(pairs)
    joiner = "&" if pairs else "?"
    present = set(pairs)

    def url(facet: str, it: FacetItem) -> str:
        param = FACET_PARAM.get(facet)
        if param is None or it.selected or it.excluded or (param, it.value) in present:
            return toggle_url(base, pairs, facet, it)
        return current + joiner + urlencode([(param, it.value)])

    def ex_url(facet: str, it: FacetItem) -> str | None:
        param = EXCLUDE_PARAM.get(facet)
        if param is None or it.selected or it.excluded or (FACET_PARAM[facet], it.value) in present:
            return exclude_url(base, pairs, facet, it)
        return current + joiner + urlencode([(param, it.value)])

    return {
        facet: [{"value": it.value, "count": it.count, "selected": it.selected, "excluded": it.excluded,
                 "toggle_url": url(facet, it), "exclude_url": ex_url(facet, it)} for it in items]
        for facet, items in resp.facets.items()
    }


def response_dict(resp: SearchResponse, facets: dict[str, list[dict]]) -> dict:
    """The response as JSON-ready data, facets replaced by their toggle_url versions.

    A shallow copy: dataclasses.asdict deep-copies every hit and facet item, which cost more
    than the rest of the web layer together.
    """
    body = {f.name: getattr(resp, f.name) for f in fields(resp)}
    body["hits"] = [hit_dict(h) for h in resp.hits]
    body["facets"] = facets
    body["pages"] = resp.pages
    return body


# What every document answer carries, agency item or not (the engine gives them for agency items).
DOCUMENT_DEFAULTS = {
    "byline": None, "status": "usable", "versions": [], "urgency": None, "genre": None, "slugline": None, "subjects": [],
    "language": None, "embargo": None, "shown_version": None,
}


def document_dict(doc: dict) -> dict:
    """A live document as the API gives it: the engine's dict, every agency field present."""
    out = dict(doc)
    for key, value in DOCUMENT_DEFAULTS.items():
        if out.get(key) is None:
            out[key] = value.copy() if isinstance(value, list) else value
    return out


def document_json(doc: dict) -> dict:
    """A live document as the API gives it (``document_dict``), its title, lead and body both as
    HTML (the ``*_html`` keys) and as data (segments, blocks of segments)."""
    out = document_dict(doc)
    out["title_html"] = segments_html(doc.get("title_segments"))
    out["title_segments"] = segments_json(doc.get("title_segments"))
    out["lead_html"] = segments_html(doc.get("lead_segments"))
    out["lead_segments"] = segments_json(doc.get("lead_segments"))
    out["body_html"] = blocks_html(doc.get("body_blocks"))
    out["body_blocks"] = [{"kind": b.kind, "segments": segments_json(b.segments)} for b in doc.get("body_blocks") or ()]
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
    # People, places, sources: the URL turning « Lieu : Paris » into « Lieu : sauf Paris » and back.
    switch_url: str | None = None
    excluded: bool = False
    page_url: str | None = None  # a chosen person or place: its own page


# A person's or place's page (web.coverage): its URL segment per kind.
ENTITY_SEGMENTS = {"people": "personne", "places": "lieu"}


def entity_url(kind: str, name: str, api: bool = False) -> str:
    """The page (or, ``api``, the JSON) of a person (``people``) or a place (``places``)."""
    from flask import url_for

    endpoint = "coverage.api_entity" if api else "coverage.entity_page"
    return url_for(endpoint, segment=ENTITY_SEGMENTS[kind], name=name)


def chips(req: SearchRequest, base: str) -> list[Chip]:
    """The removable chips for the request's filters (people, places, sources, dates)."""
    pairs = state(req)
    out = []
    chosen_to_excluded = {chosen: excluded for excluded, chosen in ((x, x[4:]) for x in EXCLUDES)}
    for name, value in pairs:
        remove = base + query_string(toggled(pairs, name, value))
        if name in chosen_to_excluded:
            switch = base + query_string(_without(pairs, name, value) + [(chosen_to_excluded[name], value)])
            kind = {"person": "people", "place": "places"}.get(name)
            out.append(Chip(CHIP_LABELS[name], value, remove, switch, page_url=entity_url(kind, value) if kind else None))
        elif name in EXCLUDES:
            chosen = name[4:]
            switch = base + query_string(_without(pairs, name, value) + [(chosen, value)])
            out.append(Chip(CHIP_LABELS[chosen], value, remove, switch, excluded=True))
        elif name in CHIP_LABELS:
            shown = facet_value(value, {"language": "language", "urgency": "urgency"}.get(name, name))
            out.append(Chip(CHIP_LABELS[name], shown, remove))
    if req.date_from or req.date_to:
        if req.date_from == req.date_to or chosen_period(req):  # « mars 2019 », typed by days or not
            label = french_date(chosen_period(req) or req.date_from)
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


GRAIN_CAPTIONS = {"year": "Dépêches par année", "month": "Dépêches par mois", "day": "Dépêches par jour"}
# The y-axis stops at this percentile of the non-empty bars when the tallest bars are far above it
# (a few huge months must not flatten the rest); bars above it are drawn full and marked as cut.
CAP_PERCENTILE = 95
# Only a real tower is cut: a bar a third taller than the next ones is information, not an outlier
# (at the day grain 5 beside 3 must stay 5; 877 beside 556 must look bigger).
CAP_RATIO = 3.0
MIN_BARS_FOR_CAP = 5
MIN_BAR_HEIGHT = 4.0  # percent: a day with one dispatch stays visible (3 px) beside a thousand


@dataclass
class Bar:
    """One slot of the date histogram: a bar (a year, a month or a day), or a gap of empty years."""

    value: str
    label: str  # on the axis (short)
    title: str  # the whole thing said: period and count
    count: int = 0
    height: float = 0.0  # percent of the chart's height
    url: str | None = None
    selected: bool = False
    context: bool = False  # outside the chosen range: shown for context only
    clipped: bool = False  # taller than the axis: drawn full, marked as cut
    gap: bool = False  # a run of empty years compressed into one « … » slot
    short: str = ""  # the label where the axis is narrow (a phone): a month's initial
    year_start: bool = False  # January on an axis of several years: the year is its label


@dataclass
class Histogram:
    """The date histogram at the response's grain, with its way back up (breadcrumb)."""

    grain: str
    caption: str
    bars: list[Bar]
    crumbs: list[dict]  # {"label", "url"}: the last one is where we are (url None)
    up: dict | None  # the parent period: {"label": "↑ 2023", "url"}
    siblings: list[dict]  # the periods just before and after a chosen year, month or day: {"label", "url", "rel"}
    notes: list[str]  # dispatches dated only by their year (or month), outside the bars
    scale_max: int  # the count a full bar means
    max_count: int
    clipped: bool


def _grain_of(values: list[str]) -> str:
    longest = max((len(v) for v in values), default=4)
    return "day" if longest >= 10 else "month" if longest >= 7 else "year"


def _scale(counts: list[int]) -> tuple[int, bool]:
    """The count a full bar means: the max, or a high percentile when a few bars tower over it."""
    nz = sorted(c for c in counts if c > 0)
    if not nz:
        return 1, False
    top = nz[-1]
    if len(nz) < MIN_BARS_FOR_CAP:
        return top, False
    cap = nz[(len(nz) - 1) * CAP_PERCENTILE // 100]  # lower rank: one tower never sets its own cap
    if top > cap * CAP_RATIO:
        return max(cap, 1), True
    return top, False


def _bucket_span(value: str) -> tuple[str, str]:
    """First and last day (YYYY-MM-DD) of a year, month or day."""
    import calendar

    if len(value) == 4:
        return f"{value}-01-01", f"{value}-12-31"
    if len(value) == 7:
        return f"{value}-01", f"{value}-{calendar.monthrange(int(value[:4]), int(value[5:]))[1]:02d}"
    return value, value


def _in_range(value: str, req: SearchRequest) -> bool:
    """Whether any day of the bucket is within the request's range (always, without one)."""
    first, last = _bucket_span(value)
    lo = _bucket_span(req.date_from)[0] if req.date_from else "0000-00-00"
    hi = _bucket_span(req.date_to)[1] if req.date_to else "9999-99-99"
    return last >= lo and first <= hi


def _slots(grain: str, counted: dict[str, FacetItem]) -> list[str | tuple[str, str]]:
    """Every bucket of the axis in order; a run of two or more empty years is one (first, last) gap."""
    keys = sorted(counted)
    if grain == "year":
        years = [int(k) for k in keys]
        out: list[str | tuple[str, str]] = []
        for a, b in zip(years, years[1:] + [None]):
            out.append(f"{a:04d}")
            if b is not None and b - a == 2:
                out.append(f"{a + 1:04d}")  # one empty year: shown, as a zero bar
            elif b is not None and b - a > 2:
                out.append((f"{a + 1:04d}", f"{b - 1:04d}"))
        return out
    if grain == "month":
        y1, y2 = int(keys[0][:4]), int(keys[-1][:4])
        return [f"{y:04d}-{m:02d}" for y in range(y1, y2 + 1) for m in range(1, 13)]
    import calendar

    y, m = int(keys[0][:4]), int(keys[0][5:7])
    return [f"{y:04d}-{m:02d}-{d:02d}" for d in range(1, calendar.monthrange(y, m)[1] + 1)]


def _axis_label(grain: str, value: str, years: int = 1) -> str:
    if grain == "year":
        return value
    if grain == "month":
        # Over several years each January says its year, or « janv. » would repeat unexplained.
        return value[:4] if years > 1 and value[5:7] == "01" else MONTHS_SHORT[int(value[5:7]) - 1]
    day = int(value[8:])
    return str(day) if day == 1 or day % 5 == 0 else ""


def _short_label(grain: str, value: str, years: int) -> str:
    """A month's initial (« J »), January's year as « ’19 » on an axis of several years; else the label."""
    if grain != "month":
        return _axis_label(grain, value, years)
    if years > 1 and value[5:7] == "01":
        return "’" + value[2:4]
    return MONTHS_SHORT[int(value[5:7]) - 1][:1].upper()


def _dispatches(n: int) -> str:
    return f"{french_number(n)} dépêche{'s' if n > 1 else ''}"


def histogram(resp: SearchResponse, req: SearchRequest, base: str) -> Histogram | None:
    """The dates facet as a histogram: a click on a bar zooms in (a year to its months, a month to its
    days, a day filters), the breadcrumb goes back up; runs of empty years are compressed and the
    y-axis is capped at a high percentile, so that a few outliers neither stretch nor flatten it."""
    items = [it for it in resp.facets.get("dates", []) if re.fullmatch(r"\d{4}(-\d{2}){0,2}", it.value or "")]
    if not items:
        return None
    grain = _grain_of([it.value for it in items])
    size = {"year": 4, "month": 7, "day": 10}[grain]
    counted = {it.value: it for it in items if len(it.value) == size}
    coarser = [it for it in items if len(it.value) < size]
    if not counted:
        return None
    pairs = state(req)
    ranged = bool(req.date_from or req.date_to)
    slots = _slots(grain, counted)
    scale_max, clipped_any = _scale([it.count for it in counted.values()])
    years = len({s[:4] for s in slots if isinstance(s, str)})
    bars = []
    for slot in slots:
        if isinstance(slot, tuple):
            first, last = slot
            bars.append(Bar(value=f"{first}..{last}", label="…", gap=True,
                            title=f"{first} – {last} : aucune dépêche" if first != last else f"{first} : aucune dépêche"))
            continue
        it = counted.get(slot)
        count = it.count if it else 0
        selected = bool(it and it.selected)
        if selected:  # a second click on the chosen day (or period) goes back up to its parent
            url = base + query_string(with_month(pairs, _parent(slot)))
        else:
            url = base + query_string(with_month(pairs, slot)) if count else None
        clipped = count > scale_max
        bars.append(Bar(
            value=slot,
            label=_axis_label(grain, slot, years),
            short=_short_label(grain, slot, years),
            year_start=grain == "month" and years > 1 and slot[5:7] == "01",
            title=f"{french_date(slot)} : {_dispatches(count) if count else 'aucune dépêche'}",
            count=count,
            height=round(100.0 if clipped else (max(MIN_BAR_HEIGHT, 100.0 * count / scale_max) if count else 0.0), 1),
            url=url,
            selected=selected,
            context=ranged and not selected and not _in_range(slot, req),
            clipped=clipped,
        ))
    notes = []
    for it in coarser:
        what = f"de l'année {it.value}" if len(it.value) == 4 else f"de {french_date(it.value)}"
        notes.append(f"{_dispatches(it.count)} datée{'s' if it.count > 1 else ''} seulement {what}, hors histogramme.")
    crumbs, up = _crumbs(grain, slots, [b for b in bars if b.selected], pairs, base, ranged)
    return Histogram(
        grain=grain,
        caption=GRAIN_CAPTIONS[grain],
        bars=bars,
        crumbs=crumbs,
        up=up,
        siblings=siblings(req, pairs, base),
        notes=notes,
        scale_max=scale_max,
        max_count=max(it.count for it in counted.values()),
        clipped=clipped_any,
    )


def chosen_period(req: SearchRequest) -> str | None:
    """The one year, month or day a range covers exactly (``2023``, ``2023-06``, ``2023-06-14``),
    however it was written (``from=2023-06&to=2023-06`` or the whole month's days); else None."""
    if not (req.date_from and req.date_to):
        return None
    first, last = _bucket_span(req.date_from)[0], _bucket_span(req.date_to)[1]
    for period in (first[:4], first[:7], first):
        if _bucket_span(period) == (first, last):
            return period
    return None


def _shifted(period: str, step: int) -> str:
    """The year, month or day ``step`` periods after ``period``."""
    from datetime import date, timedelta

    if len(period) == 4:
        return f"{int(period) + step:04d}"
    if len(period) == 7:
        n = int(period[:4]) * 12 + int(period[5:]) - 1 + step
        return f"{n // 12:04d}-{n % 12 + 1:02d}"
    return (date.fromisoformat(period) + timedelta(days=step)).isoformat()


def siblings(req: SearchRequest, pairs, base: str) -> list[dict]:
    """« ‹ mai 2023 » and « juillet 2023 › » beside a chosen month (a year, a day likewise): a step
    sideways that keeps the query and filters, so a zoom never loses what surrounds it."""
    period = chosen_period(req)
    if period is None:
        return []
    out = []
    for step, rel in ((-1, "prev"), (1, "next")):
        other = _shifted(period, step)
        if not "1000" <= other[:4] <= "2999":  # the dates the API accepts
            continue
        label = french_date(other)
        out.append({"label": f"‹ {label}" if step < 0 else f"{label} ›", "url": base + query_string(with_month(pairs, other)),
                    "rel": rel, "value": other})
    return out


def _parent(value: str) -> str | None:
    """``2023-06-14`` → ``2023-06`` → ``2023`` → None (all years)."""
    return value[:7] if len(value) == 10 else value[:4] if len(value) == 7 else None


def _crumbs(grain: str, slots: list, selected: list[Bar], pairs, base: str, ranged: bool) -> tuple[list[dict], dict | None]:
    """« Toutes les années › 2023 › juin 2023 › 14 juin 2023 »: each a link but the last."""
    def link(value: str | None) -> str:
        return base + query_string(with_month(pairs, value))

    trail: list[tuple[str, str | None]] = [("Toutes les années", None)]
    if grain == "month":
        y1, y2 = slots[0][:4], slots[-1][:4]
        trail.append((y1 if y1 == y2 else f"{y1} – {y2}", y1 if y1 == y2 else None))
    elif grain == "day":
        trail += [(slots[0][:4], slots[0][:4]), (french_date(slots[0][:7]), slots[0][:7])]
    for bar in selected:
        if len(bar.value) == {"year": 4, "month": 7, "day": 10}[grain]:
            trail.append((french_date(bar.value), bar.value))
    if not ranged and len(trail) > 1:  # nothing chosen: « Toutes les années » would be this very page
        trail = trail[1:]
    crumbs = []
    for i, (label, value) in enumerate(trail):
        last = i == len(trail) - 1
        # The last crumb is where we are; « Toutes les années » is a link whenever a range is chosen.
        url = None if last else link(value)
        crumbs.append({"label": label, "url": url})
    up = None
    if len(trail) > 1 and ranged:
        label, value = trail[-2]
        up = {"label": f"↑ {label}", "url": link(value)}  # up a level; ‹ › are the periods beside
    return crumbs, up


def date_inputs(req: SearchRequest) -> dict:
    """The « Du » / « Au » inputs (type=date wants a whole day) and the fields that keep the rest of the search."""
    return {
        "from": _bucket_span(req.date_from)[0] if req.date_from else "",
        "to": _bucket_span(req.date_to)[1] if req.date_to else "",
        "hidden": [p for p in state(req) if p[0] not in ("from", "to")],
        "clear_url": query_string(with_month(state(req), None)),
    }


def register(app: Flask) -> None:
    """Make the presentation helpers available to templates."""
    app.jinja_env.filters["facet_value"] = facet_value
    app.jinja_env.globals["entity_url"] = entity_url
    app.jinja_env.filters["french_datetime"] = french_datetime
    app.jinja_env.filters["language_name"] = language_name
    app.jinja_env.filters["lang_tag"] = lang_tag
    app.jinja_env.filters["foreign_lang"] = foreign_lang
    app.jinja_env.filters["urgency_label"] = urgency_label
    app.jinja_env.filters["changed_text"] = changed_text
    app.jinja_env.filters["capitalize_first"] = lambda t: (t[:1].upper() + t[1:]) if t else ""
    app.jinja_env.filters["pub_status"] = lambda v: PUB_STATUS_LABELS.get(v or "", v or "")
    app.jinja_env.filters["newest_first"] = newest_first
    app.jinja_env.filters["excerpt"] = excerpt
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
