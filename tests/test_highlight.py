"""Snippets and marks: every matched form marked, text returned as data (never as markup), any document length."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import search
from search import highlight
from search.model import PARAGRAPH, SUBHEAD, Block, SearchRequest, Segment, plain_text

from corpus import FILLER


def marked(segments: list[Segment]) -> list[str]:
    return [s.text for s in segments if s.mark]


def test_marks_cover_the_word_not_the_elided_article():
    got = highlight.highlight("Le sommet de l'Alliance et d’Alliance", {"allianc"})
    assert got == [Segment("Le sommet de l'"), Segment("Alliance", True), Segment(" et d’"), Segment("Alliance", True)]


def test_accents_case_and_plural_forms_are_marked():
    got = highlight.highlight("Les États-Unis et les Etats-Unis livrent des munitions.", {"etat", "unis", "munit"})
    assert marked(got) == ["États-Unis", "Etats-Unis", "munitions"]


def test_text_stays_text_whatever_it_holds():
    # Escaping is the renderer's job (web/present.py): the library gives the text as written.
    got = highlight.highlight('<script>alert("munitions")</script> & <b> &amp;', {"munit"})
    assert got == [Segment('<script>alert("'), Segment("munitions", True), Segment('")</script> & <b> &amp;')]


def test_nothing_to_mark_gives_the_text_in_one_segment():
    assert highlight.highlight("Une école ferme.", set()) == [Segment("Une école ferme.")]
    assert highlight.highlight("", {"ecol"}) == []


def test_phrases_are_marked_only_where_they_hold():
    text = "Aux Pays-Bas, le prix est bas dans tout le pays. Les ministres de la Défense se réunissent."
    got = highlight.highlight(text, set(), [("pay", "bas"), ("ministr", "defens")])
    assert marked(got) == ["Pays-Bas", "ministres de la Défense"]
    assert plain_text(got) == text


def test_body_blocks_are_paragraphs_and_subheads_in_order():
    body = "Les munitions arrivent.\n\nNouvelles annonces\n\n  \n\nD'autres munitions suivront.\n"
    got = highlight.body_blocks(body, ["Nouvelles annonces"], {"munit"})
    assert got == [
        Block(PARAGRAPH, [Segment("Les "), Segment("munitions", True), Segment(" arrivent.")]),
        Block(SUBHEAD, [Segment("Nouvelles annonces")]),
        Block(PARAGRAPH, [Segment("D'autres "), Segment("munitions", True), Segment(" suivront.")]),
    ]
    assert highlight.body_blocks("", [], {"munit"}) == []


def test_snippet_fragments_are_short_cut_at_word_boundaries_and_cover_the_words():
    lead = "Le gouvernement a présenté son budget."
    body = (FILLER * 5) + "Le ministre évoque les munitions livrées à l'Ukraine. " + (FILLER * 5) + \
        "Plus loin, il parle du pangolin du zoo. " + FILLER * 5
    got = highlight.snippet(lead, body, {"munit", "pangolin"})
    assert marked(got) == ["munitions", "pangolin"]
    text = plain_text(got)
    fragments = [f for f in text.split(" … ") if f]
    assert 1 <= len(fragments) <= 3
    words = set(re.findall(r"\w+", lead + " " + body))
    # Never a cut word: every word of the snippet is a word of the text.
    assert set(re.findall(r"\w+", text)) <= words
    assert len(text) < 3 * 230
    # One line, no empty segment, no two unmarked segments side by side.
    assert "\n" not in text and all(s.text for s in got)
    assert all(a.mark or b.mark for a, b in zip(got, got[1:]))


def test_snippet_ellipses_meet_as_one():
    body = " ".join(f"Phrase numéro {i} sans fin" for i in range(80)) + " les munitions " + \
        " ".join(f"autre phrase {i} qui continue" for i in range(80)) + " le pangolin " + " ".join(["suite"] * 200)
    text = plain_text(highlight.snippet("", body, {"munit", "pangolin"}))
    assert text.count("…") == 3 and "… …" not in text and text.startswith("… ")


def test_snippet_without_match_is_the_opening():
    got = highlight.snippet("Une école ferme ses portes.", "Les élèves iront ailleurs.", {"zebr"})
    assert plain_text(got).startswith("Une école ferme ses portes.")
    assert not marked(got)
    assert highlight.snippet("", "", {"zebr"}) == []


def test_hit_snippet_and_title_through_the_engine(engine):
    hit = engine.search(SearchRequest(q="alliance munitions")).hits[0]
    assert marked(hit.snippet_segments)
    res = engine.search(SearchRequest(q="etats-unis"))
    hit = next(h for h in res.hits if h.id == "otan-munitions")
    assert "États-Unis" in marked(hit.snippet_segments)


def test_document_text_with_html_comes_back_as_written(engine):
    hit = next(h for h in engine.search(SearchRequest(q="pirates munitions")).hits if h.id == "html-dispatch")
    assert plain_text(hit.title_segments) == hit.title == "Un site piraté affiche <script>alert(1)</script>"
    assert "munitions" in marked(hit.snippet_segments)
    assert "<script>alert('" in plain_text(hit.snippet_segments)
    doc = engine.document("html-dispatch", "munitions")
    assert plain_text(doc["lead_segments"]) == doc["lead"]
    assert "& le menu" in doc["lead"] and "munitions" in marked(doc["lead_segments"])
    assert [b.kind for b in doc["body_blocks"]] == [PARAGRAPH]


def test_long_document_gets_a_snippet_where_the_word_is(engine):
    res = engine.search(SearchRequest(q="pangolin"))
    hit = res.hits[0]
    assert hit.id == "long-dispatch"
    doc_len = len(FILLER) * 320
    assert doc_len > 32 * 1024
    assert "pangolin" in marked(hit.snippet_segments)
    assert len(plain_text(hit.snippet_segments)) < 700


def test_no_highlight_requested(engine):
    hit = engine.search(SearchRequest(q="alliance", highlight=False)).hits[0]
    assert not marked(hit.snippet_segments + hit.title_segments)
    assert hit.title_segments == [Segment(hit.title)]


# ---------------------------------------------------------------- the library returns data, not HTML

LIBRARY = Path(search.__file__).parent
# The one module allowed to read markup: the OpenSearch highlighter's tagged strings, parsed into segments.
MARKUP_PARSER = LIBRARY / "opensearch" / "highlighted.py"
RENDERING_MODULES = {"flask", "markupsafe", "jinja2"}
# What building HTML looks like: a mark tag, an escaping call (agency.py reads <p>, <h3> … as input).
HTML_BUILDING = re.compile(r"<\s*/?\s*mark\b|html\.escape\(", re.IGNORECASE)


def _library_modules() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_no_library_module_writes_mark_tags():
    """``<mark`` (or an escaping call) in a library module would mean it builds HTML again."""
    offenders = []
    for path in _library_modules():
        if path == MARKUP_PARSER:
            continue
        text = path.read_text(encoding="utf-8")
        if HTML_BUILDING.search(text):
            offenders.append(str(path.relative_to(LIBRARY)))
    assert offenders == []


def test_no_library_module_imports_a_rendering_library():
    offenders = []
    for path in _library_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            offenders += [f"{path.relative_to(LIBRARY)}: {n}" for n in names if n.split(".")[0] in RENDERING_MODULES]
    assert offenders == []


def test_the_check_would_catch_a_module_building_html():
    """The checks above are not vacuous: the ways the library used to build HTML are caught."""
    for line in ('parts.append("<mark>" + escape(text[s:e]) + "</mark>")', "return html.escape(text, quote=True)"):
        assert HTML_BUILDING.search(line), line
    assert HTML_BUILDING.search(MARKUP_PARSER.read_text(encoding="utf-8"))


def _all_tokens(text: str, terms) -> list[tuple[str, int, int]]:
    from search import analysis

    return [(t, s, e) for t, _, s, e in analysis.tokens(text) if t in terms]


@pytest.mark.parametrize("text, query", [
    ("Le taux est passé de 5,5 % à 5.9 %, puis 10,25 %.", "5,5 5.9 10,25"),  # decimals written with a comma
    ("La délégation d'Αθήνα et de Москва arrive à 東京 demain.", "Αθήνα Москва 東京"),  # other scripts
    ("publics\u3000a\ufeffura\xa0東京vote\tΑθήνα selon\u3000maison", "publics ura selon maison 東京vote Αθήνα"),  # odd spaces
    ("Mac\u200bron, l’État et « Paris »", "Macron État Paris"),
    ("Le cœur de Łódź et Recep Tayyip Erdoğan, avec SŒUR et Ærø.", "coeur Lodz Erdogan soeur aero"),
])
def test_the_prefilter_finds_exactly_what_analysing_every_word_finds(text, query):
    from search import analysis

    terms = frozenset(analysis.terms(query))
    want = _all_tokens(text, terms)
    assert want, "the case must have matches"
    assert highlight._candidate_tokens(text, terms) == want
