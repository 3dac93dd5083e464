"""Snippets and marks: every matched form marked, everything else escaped, any document length."""
from __future__ import annotations

import html as html_module
import re

import pytest

from search import highlight
from search.engine import Engine
from search.model import SearchRequest

from search_fixtures import FILLER, build


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return Engine(build(tmp_path_factory.mktemp("highlight")))


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_marks_cover_the_word_not_the_elided_article():
    html = highlight.highlight("Le sommet de l'Alliance et d’Alliance", {"allianc"})
    assert html == "Le sommet de l&#x27;<mark>Alliance</mark> et d’<mark>Alliance</mark>"


def test_accents_case_and_plural_forms_are_marked():
    html = highlight.highlight("Les États-Unis et les Etats-Unis livrent des munitions.", {"etat", "unis", "munit"})
    assert marked(html) == ["États-Unis", "Etats-Unis", "munitions"]


def test_everything_else_is_escaped():
    html = highlight.highlight('<script>alert("munitions")</script> & <b>', {"munit"})
    assert "<script>" not in html and "<b>" not in html
    assert html == '&lt;script&gt;alert(&quot;<mark>munitions</mark>&quot;)&lt;/script&gt; &amp; &lt;b&gt;'


def test_phrases_are_marked_only_where_they_hold():
    text = "Aux Pays-Bas, le prix est bas dans tout le pays. Les ministres de la Défense se réunissent."
    html = highlight.highlight(text, set(), [("pay", "bas"), ("ministr", "defens")])
    assert marked(html) == ["Pays-Bas", "ministres de la Défense"]


def test_snippet_fragments_are_short_cut_at_word_boundaries_and_cover_the_words():
    lead = "Le gouvernement a présenté son budget."
    body = (FILLER * 5) + "Le ministre évoque les munitions livrées à l'Ukraine. " + (FILLER * 5) + \
        "Plus loin, il parle du pangolin du zoo. " + FILLER * 5
    html = highlight.snippet(lead, body, {"munit", "pangolin"})
    assert marked(html) == ["munitions", "pangolin"]
    fragments = [f for f in html.split(" … ") if f]
    assert 1 <= len(fragments) <= 3
    text = html_module.unescape(re.sub(r"</?mark>", "", html))
    words = set(re.findall(r"\w+", lead + " " + body))
    # Never a cut word: every word of the snippet is a word of the text.
    assert set(re.findall(r"\w+", text)) <= words
    assert len(text) < 3 * 230


def test_snippet_without_match_is_the_opening():
    html = highlight.snippet("Une école ferme ses portes.", "Les élèves iront ailleurs.", {"zebr"})
    assert html.startswith("Une école ferme ses portes.")
    assert "<mark>" not in html


def test_hit_snippet_and_title_through_the_engine(engine):
    hit = engine.search(SearchRequest(q="alliance munitions")).hits[0]
    assert "<mark>" in hit.snippet_html
    res = engine.search(SearchRequest(q="etats-unis"))
    hit = next(h for h in res.hits if h.id == "otan-munitions")
    assert "<mark>États-Unis</mark>" in hit.snippet_html


def test_document_text_with_html_is_escaped(engine):
    hit = next(h for h in engine.search(SearchRequest(q="pirates munitions")).hits if h.id == "html-dispatch")
    for html in (hit.snippet_html, hit.title_html):
        assert "<script>" not in html
        assert set(re.findall(r"</?(\w+)", html)) <= {"mark"}
    assert "&lt;script&gt;" in hit.title_html
    assert "<mark>munitions</mark>" in hit.snippet_html
    doc = engine.document("html-dispatch", "munitions")
    assert "<script>" not in doc["lead_html"] + doc["body_html"] + doc["title_html"]
    assert "&amp; le menu" in doc["lead_html"]


def test_long_document_gets_a_snippet_where_the_word_is(engine):
    res = engine.search(SearchRequest(q="pangolin"))
    hit = res.hits[0]
    assert hit.id == "long-dispatch"
    doc_len = len(FILLER) * 320
    assert doc_len > 32 * 1024
    assert "<mark>pangolin</mark>" in hit.snippet_html
    assert len(re.sub(r"</?mark>", "", hit.snippet_html)) < 700


def test_no_highlight_requested(engine):
    hit = engine.search(SearchRequest(q="alliance", highlight=False)).hits[0]
    assert "<mark>" not in hit.snippet_html + hit.title_html


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
