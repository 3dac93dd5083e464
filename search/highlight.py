"""Highlighting from the analyzer's own character offsets (exact, any document length).

Every word of the stored text whose analysed term is one of the query's terms is marked:
query ``munition`` marks ``munitions``, ``etats-unis`` marks ``États-Unis`` (one mark over the
hyphenated name), ``alliance`` marks the word of ``l'Alliance`` but not the elided article.
The result is data, not markup: a list of ``Segment`` (text, marked or not), and a body a list
of ``Block`` (paragraphs and sub-heads); the web layer renders them as HTML, the CLI as text.

Whoosh's highlighter only looks at the first 32 K characters of a field; this one reads the
offsets of ``analysis.tokens`` over the whole text, so a long dispatch still gets snippets
from where its words are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import analysis, folding
from .model import PARAGRAPH, SUBHEAD, Block, Segment

FRAGMENT_CHARS = 200
MAX_FRAGMENTS = 3
ELLIPSIS = "…"
_JOINERS = set("-‐‑'’")
_SENTENCE_END = re.compile(r"[.!?…](?:[»\")\]]*)\s+|\n+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def unmarked(text: str) -> list[Segment]:
    """The text as segments with nothing marked (none for an empty text)."""
    return [Segment(text)] if text else []


def find_marks(text: str, terms, phrases=()) -> list[tuple[int, int, str]]:
    """(start, end, term) of every word of ``text`` whose term is in ``terms``; hyphenated runs merged.

    ``phrases`` (tuples of terms) are marked only where their words follow each other, as one
    mark from the first word to the last (``ministre de la Défense``).
    """
    if (not terms and not phrases) or not text:
        return []
    phrases = [tuple(p) for p in phrases if p]
    if phrases:
        raw = _phrase_marks(text, set(terms), phrases)
    else:
        raw = [[s, e, t] for t, s, e in _candidate_tokens(text, frozenset(terms))]
    out: list[list] = []
    for m in raw:
        if out and out[-1][1] < m[0] and m[0] - out[-1][1] == 1 and text[out[-1][1]] in _JOINERS:
            out[-1][1] = m[1]  # États-Unis, one mark
        else:
            out.append(m)
    return [tuple(x) for x in out]


def _phrase_marks(text: str, terms: set, phrases) -> list[list]:
    firsts = {p[0] for p in phrases}
    toks = list(analysis.tokens(text))
    raw: list[list] = []
    skip_until = -1
    for i, (term, _, start, end) in enumerate(toks):
        if i <= skip_until:
            continue
        if term in firsts:
            best = None
            for ph in phrases:
                if ph[0] == term and i + len(ph) <= len(toks) and all(toks[i + j][0] == ph[j] for j in range(len(ph))):
                    if best is None or len(ph) > len(best):
                        best = ph
            if best is not None:
                raw.append([start, toks[i + len(best) - 1][3], term])
                skip_until = i + len(best) - 1
                continue
        if term in terms:
            raw.append([start, end, term])
    return raw


# Fast path: a word can only have term ``t`` if its folded form starts with ``t`` minus its
# last letters (Snowball only rewrites endings). A regex reading the lower-case text as folded
# (accent classes, offsets unchanged) finds the few candidate words, and only their
# whitespace-delimited chunks go through the analyzer: exact, and several times faster than
# analysing every word of a long dispatch.
_FOLD = folding.one_for_one()
_FOLD_CHARS = {chr(k): v for k, v in _FOLD.items() if k >= 0x80}
# Accented letters the candidate regex reads as their ASCII letter: Latin-1 only, as larger
# character classes make each compile slow; a word with any other letter is found by _FOREIGN.
_CLASS_CHARS = {c: f for c, f in _FOLD_CHARS.items() if ord(c) <= 0xFF}
_FOLDED_AWAY = "".join(re.escape(c) for c in sorted(_CLASS_CHARS))
_SPACE = re.compile(r"\s")
# A character the letter classes do not read as ASCII (œ, Greek…): words of other scripts fold
# to ASCII terms (Αθήνα: athen) that no prefix finds, so their chunks are always candidates.
_FOREIGN = re.compile(r"[^\x00-\x7f\s" + _FOLDED_AWAY + "]")
_NON_SPACE = re.compile(r"\S*")
_CHUNK = re.compile(r"\S+")


def _letter_classes() -> dict[str, str]:
    """For each ASCII letter, a regex class of the lower-case letters that fold to it (e: eéèêë)."""
    groups: dict[str, list[str]] = {}
    for c, f in sorted(_CLASS_CHARS.items()):
        if c == c.lower():
            groups.setdefault(f, []).append(re.escape(c))
    return {f: "[" + f + "".join(cs) + "]" for f, cs in groups.items()}


_LETTER_CLASS = _letter_classes()


def _unfolded(folded: str) -> str:
    """A regex matching, in lower-case text, what ``folded`` matches in the folded text
    (folding is one character for one, so offsets are those of the text itself)."""
    return "".join(_LETTER_CLASS.get(c, re.escape(c)) for c in folded)


def _prefix_of(term: str) -> str:
    k = len(term) - 2 if len(term) > 4 else len(term) - 1
    return term[: max(1, k)]


def _variants(prefix: str) -> set[str]:
    """The prefix as it looks in the one-for-one folded text (œ→o, æ→a, ß→s lose a letter)."""
    out = {prefix}
    for a, b in (("oe", "o"), ("ae", "a"), ("ss", "s")):
        out |= {v.replace(a, b) for v in out}
    return out


_CANDIDATES: dict[frozenset, re.Pattern] = {}


def _candidate_regex(terms: frozenset) -> re.Pattern | None:
    """Where in the lower-case text a word of ``terms`` may start: a prefix of a plain term,
    accents aside (kept small: a regex is compiled per set of terms)."""
    rx = _CANDIDATES.get(terms)
    if rx is None:
        plain = [t for t in terms if _plain(t)]
        prefixes = sorted({v for t in plain for v in _variants(_prefix_of(t))}, key=len, reverse=True)
        letters = [_unfolded(p) for p in prefixes if not p[0].isdigit()]
        # A decimal term (5.5) is written 5,5 or 5.5: its integer part is the prefix.
        digits = sorted({re.escape(p.split(".")[0]) for p in prefixes if p[0].isdigit()}, key=len, reverse=True)
        parts = []
        if letters:
            # Not after a letter. Where that differs from "not after a letter folding gives"
            # (after a Greek letter, say), _FOREIGN finds the word anyway.
            parts.append(r"(?<![^\W\d_])(?:" + "|".join(letters) + ")")
        if digits:
            parts.append("(?:" + "|".join(digits) + ")")
        rx = re.compile("|".join(parts)) if parts else None
        if len(_CANDIDATES) > 512:
            _CANDIDATES.clear()
        _CANDIDATES[terms] = rx
    return rx


_ASCII_WORD = re.compile(r"[a-z0-9.'\-]*")


def _plain(term: str) -> bool:
    """A term the prefix regex finds: ASCII letters and digits (dots of acronyms aside)."""
    return term.isascii() and term.replace(".", "").isalnum()


def _foreign(term: str) -> bool:
    """A term no all-ASCII word gives (an ASCII word's term keeps to [a-z0-9.'-]): it comes
    from a word with a character the folding leaves outside ASCII (Cyrillic, Han…)."""
    return _ASCII_WORD.fullmatch(term) is None


_PREFILTERABLE: dict[frozenset, bool] = {}


def _prefilterable(terms: frozenset) -> bool:
    """Whether the candidate regex finds every word of ``terms`` (cached per set of terms)."""
    got = _PREFILTERABLE.get(terms)
    if got is None:
        got = all(_plain(t) or _foreign(t) for t in terms)
        if len(_PREFILTERABLE) > 512:
            _PREFILTERABLE.clear()
        _PREFILTERABLE[terms] = got
    return got


_CHUNKS: dict[str, tuple] = {}
MAX_CACHED_CHUNKS = 200_000  # space-delimited chunks analyzed, kept (words repeat from text to text)


def _chunk_tokens(chunk: str) -> tuple:
    """(term, start, end) of the words of a space-free chunk of text, memoised."""
    got = _CHUNKS.get(chunk)
    if got is None:
        got = tuple((t, s, e) for t, _, s, e in analysis.tokens(chunk))
        if len(_CHUNKS) >= MAX_CACHED_CHUNKS:
            _CHUNKS.clear()
        _CHUNKS[chunk] = got
    return got


_TOKENS: dict[tuple[str, frozenset], list] = {}
MAX_TOKENS_MEMO = 64  # texts: a query's best are read by the typed-forms bonus, then their snippets
MAX_MEMO_CHARS = 100_000  # longer texts are read again rather than held (64 of them at most otherwise)


def _candidate_tokens(text: str, terms: frozenset):
    """(term, start, end) of the words of ``text`` whose term is in ``terms``, in order (the
    last few texts' remembered: the caller must not change the list)."""
    if not terms:
        return []
    if len(text) > MAX_MEMO_CHARS:  # a very long dispatch is not kept alive for its next reading
        return _scan_candidates(text, terms)
    key = (text, terms)
    got = _TOKENS.get(key)
    if got is None:
        got = _scan_candidates(text, terms)
        if len(_TOKENS) >= MAX_TOKENS_MEMO:
            try:
                _TOKENS.pop(next(iter(_TOKENS)))
            except (StopIteration, KeyError, RuntimeError):  # another thread evicted it first
                pass
        _TOKENS[key] = got
    return got


def snippet_text(lead: str | None, body: str | None) -> str:
    """The text snippets are cut from: the lead, then the body."""
    return (lead or "") + ("\n\n" if lead and body else "") + (body or "")


def _scan_candidates(text: str, terms: frozenset) -> list:
    # The regex reads the lower-case text as if it were folded (accents off, one for one).
    folded = text.lower()
    if len(folded) != len(text) or not _prefilterable(terms):
        # No prefilter for these terms (or a character whose lower case is longer, İ): every
        # chunk is analyzed, as words never span a space.
        return [(t, m.start() + s, m.start() + e) for m in _CHUNK.finditer(text)
                for t, s, e in _chunk_tokens(m.group()) if t in terms]
    out = []
    done_until = -1
    rx = _candidate_regex(terms)
    starts = [m.start() for m in rx.finditer(folded)] if rx is not None else []
    foreign = [m.start() for m in _FOREIGN.finditer(folded)]
    if foreign:
        starts = sorted(starts + foreign)
    for i in starts:
        if i < done_until:
            continue
        a = max(text.rfind(" ", 0, i), text.rfind("\n", 0, i), text.rfind("\t", 0, i)) + 1
        if _SPACE.search(text, a, i):  # another kind of space in between: the slow, exact way
            a = i
            while a > 0 and not text[a - 1].isspace():
                a -= 1
        b = _NON_SPACE.match(text, i).end()
        for t, s, e in _chunk_tokens(text[a:b]):
            if t in terms:
                out.append((t, a + s, a + e))
        done_until = b
    return out


def mark_span(text: str, marks, start: int = 0, end: int | None = None) -> list[Segment]:
    """Segments of ``text[start:end]``, the given marks (absolute offsets) marked."""
    end = len(text) if end is None else end
    parts: list[Segment] = []
    pos = start
    for s, e, _ in marks:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        if s > pos:
            parts.append(Segment(text[pos:s]))
        parts.append(Segment(text[s:e], True))
        pos = e
    if end > pos:
        parts.append(Segment(text[pos:end]))
    return parts


def highlight(text: str, terms, phrases=()) -> list[Segment]:
    """The whole text as segments, query words marked."""
    return mark_span(text, find_marks(text, terms, phrases))


def body_blocks(body: str, subheads, terms, phrases=()) -> list[Block]:
    """A dispatch's body as paragraphs and sub-heads (a paragraph whose text is one of
    ``subheads``), words marked; blank lines separate them."""
    heads = set(subheads or [])
    out = []
    for para in _PARAGRAPH_BREAK.split(body or ""):
        para = para.strip()
        if para:
            out.append(Block(SUBHEAD if para in heads else PARAGRAPH, highlight(para, terms, phrases)))
    return out


def _sentence_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _word_start(text: str, pos: int) -> int:
    """Move ``pos`` back to the start of the word it is in."""
    while pos > 0 and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _word_end(text: str, pos: int) -> int:
    """Move ``pos`` back to the end of the previous whole word (never cuts a word)."""
    if pos >= len(text):
        return len(text)
    if text[pos].isspace():
        return pos
    p = pos
    while p > 0 and not text[p - 1].isspace():
        p -= 1
    return p if p > 0 else pos


@dataclass
class _Window:
    start: int
    end: int
    terms: frozenset


def _window_at(text: str, anchor: int, starts: list[int], size: int) -> tuple[int, int]:
    """A window of about ``size`` characters containing ``anchor``, cut at sentence or word boundaries."""
    # Start at the sentence start if it is close enough, else a word boundary shortly before.
    import bisect

    i = bisect.bisect_right(starts, anchor) - 1
    sent = starts[max(i, 0)]
    if anchor - sent <= size * 0.6:
        start = sent
    else:
        start = _word_start(text, max(0, anchor - size // 4))
    end = min(len(text), start + size)
    # End at a sentence end if one is near, else at a word boundary.
    j = bisect.bisect_right(starts, end) - 1
    sent_end = starts[j] if j >= 0 else 0
    if sent_end > anchor + 20 and end - sent_end < size * 0.3:
        end = sent_end
    elif end < len(text):
        end = _word_end(text, end)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, max(end, min(len(text), anchor + 1))


def snippet(lead: str, body: str, terms, phrases=(), size: int = FRAGMENT_CHARS, max_fragments: int = MAX_FRAGMENTS) -> list[Segment]:
    """1–3 fragments of about ``size`` characters from lead and body, query words marked.

    Fragments are chosen to cover as many different query words as possible; without any
    match the snippet is the opening of the dispatch.
    """
    text = snippet_text(lead, body)
    if not text:
        return []
    marks = find_marks(text, terms, phrases)
    starts = _sentence_starts(text)
    if not marks:
        s, e = _window_at(text, 0, starts, size)
        return _render(text, [(s, e)], [])
    # Candidate windows around each match; greedy cover of distinct terms.
    windows: list[_Window] = []
    seen_anchor = -10**9
    for s, e, _ in marks:
        if s - seen_anchor < size // 3:
            continue
        seen_anchor = s
        ws, we = _window_at(text, s, starts, size)
        inside = frozenset(t for ms, me, t in marks if ms >= ws and me <= we)
        windows.append(_Window(ws, we, inside))
        if len(windows) >= 200:
            break
    chosen: list[_Window] = []
    covered: set = set()
    while len(chosen) < max_fragments:
        best, best_key = None, None
        for w in windows:
            if any(not (w.end <= c.start or w.start >= c.end) for c in chosen):
                continue
            new = len(w.terms - covered)
            if chosen and new == 0:
                continue
            key = (new, len(w.terms), -w.start)
            if best_key is None or key > best_key:
                best, best_key = w, key
        if best is None:
            break
        chosen.append(best)
        covered |= best.terms
        if covered >= {t for _, _, t in marks}:
            break
    chosen.sort(key=lambda w: w.start)
    return _render(text, [(w.start, w.end) for w in chosen], marks)


def _render(text: str, spans, marks) -> list[Segment]:
    """The spans as one line of segments, an ellipsis where a span cuts the text."""
    out: list[Segment] = []
    for i, (s, e) in enumerate(spans):
        before = ELLIPSIS + " " if s > 0 and text[s - 1] not in "\n" and not _starts_sentence(text, s) else ""
        after = " " + ELLIPSIS if e < len(text) and text[e - 1] not in ".!?…»\"" else ""
        out.append(Segment((" " if i else "") + before))
        out.extend(Segment(p.text.replace("\n\n", " ").replace("\n", " "), p.mark) for p in mark_span(text, marks, s, e))
        out.append(Segment(after))
    # Marks are words, so two ellipses meeting (one span's end, the next one's start) are
    # always within one run of unmarked text.
    return [Segment(p.text.replace(ELLIPSIS + " " + ELLIPSIS, ELLIPSIS), p.mark) for p in merged(out)]


def merged(segments) -> list[Segment]:
    """The segments with neighbouring unmarked ones joined and empty unmarked ones dropped
    (neighbouring marks stay apart: two words, two marks)."""
    out: list[Segment] = []
    for seg in segments:
        if seg.mark:
            out.append(seg)
        elif seg.text:
            if out and not out[-1].mark:
                out[-1] = Segment(out[-1].text + seg.text)
            else:
                out.append(seg)
    return out


def _starts_sentence(text: str, pos: int) -> bool:
    p = pos - 1
    while p >= 0 and text[p].isspace():
        p -= 1
    return p < 0 or text[p] in ".!?…\n"
