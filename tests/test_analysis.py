"""The French analyzer: every rule pinned both ways (query form ↔ text form)."""
from __future__ import annotations

import pickle

import pytest

from search.analysis import SCHEMA_VERSION, STOP_WORDS, FrenchAnalyzer, positions_by_term, terms, tokens

from analysis_cases import ONE_WAY, PAIRS


def finds(query: str, text: str) -> bool:
    """Every analyzed term of the query occurs in the analyzed text."""
    q = terms(query)
    return bool(q) and set(q) <= set(terms(text))


@pytest.mark.parametrize("query,text", ONE_WAY)
def test_query_finds_longer_text(query, text):
    assert finds(query, text)


@pytest.mark.parametrize("query,text", PAIRS)
def test_query_form_finds_text_and_back(query, text):
    assert finds(query, text)
    assert finds(text, query)


def test_elision_drops_the_article_only():
    assert terms("l'Alliance") == terms("Alliance")
    assert terms("qu'ils jusqu'où lorsqu'il puisqu'elle") == []
    assert terms("d’armes") == terms("armes")


def test_aujourdhui_stays_one_word():
    assert terms("aujourd'hui") == terms("aujourd’hui") == ["aujourd'hui"]
    assert "hui" not in terms("aujourd'hui")


def test_hyphenated_name_gives_consecutive_positions():
    toks = list(tokens("les Pays-Bas et la France"))
    assert [(t[0], t[1]) for t in toks] == [("pay", 0), ("bas", 1), ("franc", 2)]


def test_char_offsets_cover_the_word_not_the_article():
    text = "Selon l'Alliance, les États-Unis"
    spans = [text[s:e] for _, _, s, e in tokens(text)]
    assert spans == ["Selon", "Alliance", "États", "Unis"]


def test_whoosh_stop_list_is_not_used():
    for word in ("est", "as", "son", "été"):
        assert terms(word), word
    for word in ("le", "la", "les", "de", "des", "et"):
        assert terms(word) == []


def test_numbers_keep_their_groups():
    assert terms("134.700 euros") == terms("134.700 euros")
    assert terms("15,6%") == ["15.6"]
    assert "155" in terms("155mm") and "mm" in terms("155mm")


def test_oe_ae_ligatures():
    assert terms("œuvre") == terms("oeuvre")
    assert terms("Lætitia") == terms("laetitia")


def test_positions_by_term_matches_tokens():
    text = "Les munitions et les munitions de l'Alliance, dit l'Alliance."
    expected: dict[str, list[int]] = {}
    for term, pos, _, _ in tokens(text):
        expected.setdefault(term, []).append(pos)
    assert positions_by_term(text) == expected


def test_whoosh_analyzer_yields_same_terms_with_chars():
    ana = FrenchAnalyzer()
    text = "L’Alliance et les États-Unis"
    out = [(t.text, t.pos, t.startchar, t.endchar) for t in ana(text, positions=True, chars=True)]
    assert out == list(tokens(text))


def test_analyzer_pickles_for_worker_processes():
    ana = pickle.loads(pickle.dumps(FrenchAnalyzer()))
    assert [t.text for t in ana("munitions")] == terms("munitions")


def test_schema_version_is_a_string():
    assert isinstance(SCHEMA_VERSION, str) and SCHEMA_VERSION


def test_acronym_offsets_cover_the_whole_acronym():
    text = "Selon l'O.N.U. hier"
    assert [text[s:e] for _, _, s, e in tokens(text)] == ["Selon", "O.N.U.", "hier"]


@pytest.mark.parametrize("text", [
    "L'O.N.U. et l’U.E. réunies", "U.S.A.", "fin de phrase. Début… et ... puis a.b", "x² vaut ½ de Ⅻ.Ⅻ.",
    "snake_case.m.a.", "3.5.6 et 1,5 M.", "aujourd'hui l'A.F.P. écrit", "", "....", "a.", "é.É.é",
])
def test_the_faster_word_pattern_splits_as_the_full_one(text):
    from search.analysis import _WORD, word_pattern

    assert word_pattern(text).findall(text) == _WORD.findall(text)
    assert (word_pattern(text) is _WORD) == ("." in text and any(
        text[i - 1].isalnum() and text[i + 1 : i + 2].isalnum() and text[i + 2 : i + 3] == "." for i in range(1, len(text)) if text[i] == "."))
