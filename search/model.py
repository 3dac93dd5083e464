"""The request and response objects shared by the search library, the CLI and the web layer."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

SORTS = ("relevance", "newest", "oldest")
# "story": each story (stories.py) shows as its best-ranked version; "none": every dispatch.
COLLAPSES = ("story", "none")
# Versions of one story listed at most (``Engine.story``), the newest: a running story resent
# every day for a year must not make one answer read hundreds of dispatches.
MAX_STORY_VERSIONS = 50
MAX_PER_PAGE = 100
MAX_PAGE = 100  # deep pages cost a full ranking; 100 x 100 results is plenty for a person
MAX_QUERY_LENGTH = 1000
MAX_FACET_SIZE = 100
# The longest a full response may take, every stage included (search/budget.py): a person
# waiting, and the worst query anyone can type (bench/worst_case.py), stay under a second.
DEFAULT_TIME_BUDGET_MS = 1000
FACETS = ("people", "places", "sources", "dates")
# Facets of agency items' metadata: in a response only when the index holds agency items.
# urgency "1".."9", genre and subjects (Media Topic names) and slugline as the agency wrote them,
# language a BCP 47 primary tag ("fr", "en").
AGENCY_FACETS = ("urgency", "genre", "subjects", "language", "slugline")
# The SearchRequest field filtering on each agency facet.
AGENCY_FILTERS = {"urgency": "urgencies", "genre": "genres", "subjects": "subjects", "language": "languages", "slugline": "sluglines"}


class InvalidRequest(ValueError):
    """A search request with an invalid parameter; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SearchRequest:
    """What to search for: query text, facet selections, date range, sort and page."""

    q: str = ""
    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facet_size: int = 10
    highlight: bool = True
    time_budget_ms: int | None = DEFAULT_TIME_BUDGET_MS
    # False: search the words exactly as typed, no automatic spelling correction (the undo of
    # « cherché comme … »).
    correct: bool = True
    # Agency metadata filters (OR within one, AND across), values as the facets give them.
    urgencies: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sluglines: tuple[str, ...] = ()
    # Facet values excluded: a dispatch having any of them is left out (before facets are
    # counted), whatever the selections above; matched like them (case, accents ignored).
    exclude_people: tuple[str, ...] = ()
    exclude_places: tuple[str, ...] = ()
    exclude_sources: tuple[str, ...] = ()
    collapse: str = "story"


# Facet name -> the SearchRequest field excluding its values.
EXCLUDE_FILTERS = {"people": "exclude_people", "places": "exclude_places", "sources": "exclude_sources"}


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of displayed text; ``mark``: it is (part of) a query word, to highlight.

    The library returns text as data: the web layer renders segments as HTML (escaped text,
    marks highlighted), the CLI as [brackets], an export as plain text.
    """

    text: str
    mark: bool = False


# The kinds of a body ``Block``.
PARAGRAPH = "paragraph"
SUBHEAD = "subhead"


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph or a sub-head of a dispatch's body, as segments."""

    kind: str  # PARAGRAPH or SUBHEAD
    segments: list[Segment]


def plain_text(segments: list[Segment]) -> str:
    """The text of segments, marks dropped."""
    return "".join(s.text for s in segments)


@dataclass
class Hit:
    """One result: display fields, title and snippet as segments (query words marked)."""

    id: str
    title: str
    title_segments: list[Segment]
    date: str | None
    source: str | None
    url: str | None
    snippet_segments: list[Segment]
    score: float
    people: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    # Query words (as typed) this dispatch does not contain: set when the response's match is
    # "some", so a partial match never passes for a full one.
    missing: list[str] = field(default_factory=list)
    # Agency items: urgency 1 (flash) .. 9, slugline, language (BCP 47 primary tag), version.
    urgency: int | None = None
    slugline: str | None = None
    language: str | None = None
    version: int | None = None
    # The story this dispatch is a version of (None for an index built before stories), and how
    # many other dispatches of the archive are versions of it.
    story: str | None = None
    other_versions: int = 0


@dataclass
class Correction:
    """A query word read as another spelling: searched as it (``applied``) or only suggested."""

    word: str  # as typed
    replacement: str  # as the archive spells it
    applied: bool  # True: the search used the replacement; ``correct=False`` undoes it


@dataclass
class FacetItem:
    """A facet value with its count over all matching documents (Datasette style)."""

    value: str
    count: int
    selected: bool = False
    excluded: bool = False  # the request excludes this value (its count is then 0)


@dataclass
class SearchResponse:
    """Everything one search returns; rendered as JSON or HTML by the web layer."""

    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetItem]]
    corrected_query: str | None = None
    notice: str | None = None  # e.g. the query was malformed and searched as plain words
    partial: bool = False  # the time budget ran out: results may be incomplete
    sort: str = "relevance"
    generation: int | None = None
    # "all": every hit has every query word; "some": too few dispatches have them all, hits are
    # ranked partial matches (each hit lists what it lacks in ``missing``); "none": no dispatch
    # matches.
    match: str = "all"
    corrections: list[Correction] = field(default_factory=list)
    # Stages the time budget cut short ("expansion", "scoring", "reranking", "facets",
    # "snippets", "corrections"): ``partial`` is true whenever this is not empty.
    timed_out: list[str] = field(default_factory=list)
    # The dates facet's grain: "year" (values YYYY), "month" (YYYY-MM) or "day" (YYYY-MM-DD); a
    # dispatch dated only by its year or month counts at that precision (a YYYY value among months).
    date_grain: str = "year"
    # Stories among the matching dispatches (``total`` counts the dispatches; None: not counted);
    # with ``collapse`` "story" the hits are one per story, so the pages count stories.
    stories: int | None = None
    collapse: str = "story"

    @property
    def shown_total(self) -> int:
        """What the hits enumerate: stories when collapsed, else dispatches."""
        return self.stories if self.collapse == "story" and self.stories is not None else self.total

    @property
    def pages(self) -> int:
        """Number of result pages, capped at MAX_PAGE."""
        return min(MAX_PAGE, max(1, -(-self.shown_total // self.per_page)))

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)
