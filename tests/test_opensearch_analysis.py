"""The French analysis promises through the cluster's own ``_analyze`` API (search/opensearch/mapping.py)."""
from __future__ import annotations

import pytest

from analysis_cases import ONE_WAY, PAIRS
from cluster_fixtures import drop, unique_alias
from search import analysis
from search.opensearch import mapping, writer

pytestmark = pytest.mark.opensearch


@pytest.fixture(scope="module", params=sorted(mapping.STEMMERS))
def analyze(request, opensearch_url):
    """``analyze(text, analyzer)``: (token, position, covered text) of each token, from the cluster."""
    client = writer.connect(opensearch_url)
    alias = unique_alias("analysis")
    index = f"{alias}-000001"
    client.indices.create(index=index, body=mapping.index_body(1, 0, request.param))

    def run(text: str, analyzer: str = mapping.ANALYZER):
        toks = client.indices.analyze(index=index, body={"analyzer": analyzer, "text": text})["tokens"]
        return [(t["token"], t["position"], text[t["start_offset"]:t["end_offset"]]) for t in toks]

    run.stemmer = request.param
    yield run
    drop(client, alias)


def terms(analyze, text):
    return [t for t, _, _ in analyze(text)]


def finds(analyze, query, text):
    q = terms(analyze, query)
    return bool(q) and set(q) <= set(terms(analyze, text))


@pytest.mark.parametrize("query,text", ONE_WAY)
def test_query_finds_longer_text(analyze, query, text):
    assert finds(analyze, query, text)


@pytest.mark.parametrize("query,text", PAIRS)
def test_query_form_finds_text_and_back(analyze, query, text):
    if analyze.stemmer == "light_french" and (query, text) in LIGHT_FRENCH_MISSES:
        assert not finds(analyze, query, text) or not finds(analyze, text, query)
        return
    assert finds(analyze, query, text)
    assert finds(analyze, text, query)


# Savoy's light stemmer leaves the passé simple alone and keeps « première » apart from « premier »:
# the promises Snowball keeps and it does not.
LIGHT_FRENCH_MISSES = {("tentèrent", "tenter"), ("première", "premier"), ("premieres", "premier")}


def test_elision_drops_the_article_only(analyze):
    assert terms(analyze, "l'Alliance") == terms(analyze, "Alliance")
    assert terms(analyze, "qu'ils jusqu'où lorsqu'il puisqu'elle") == []
    assert terms(analyze, "d’armes") == terms(analyze, "armes")
    assert terms(analyze, "L’ALLIANCE") == terms(analyze, "alliance")


def test_aujourdhui_stays_one_word(analyze):
    assert terms(analyze, "aujourd'hui") == terms(analyze, "aujourd’hui") == ["aujourd'hui"]


def test_hyphenated_name_gives_consecutive_positions(analyze):
    toks = analyze("les Pays-Bas et la France")
    assert [s for _, _, s in toks] == ["Pays", "Bas", "France"]
    assert toks[1][1] == toks[0][1] + 1  # the phrase "Pays-Bas" holds


def test_char_offsets_cover_each_word(analyze):
    # The standard tokenizer reads « l'Alliance » as one token before elision: its mark covers the article too.
    assert [s for _, _, s in analyze("Selon l'Alliance, les États-Unis")] == ["Selon", "l'Alliance", "États", "Unis"]


def test_project_stop_list_not_a_stock_one(analyze):
    for word in ("est", "as", "son", "été"):
        assert terms(analyze, word), word
    for word in ("le", "la", "les", "de", "des", "et"):
        assert terms(analyze, word) == []
    # The stop list is the project's own, read from search/analysis.py.
    assert all(terms(analyze, w) == [] for w in sorted(analysis.STOP_WORDS))


def test_numbers_keep_their_groups_and_units_split(analyze):
    assert terms(analyze, "15,6%") == ["15.6"]
    assert terms(analyze, "134.700 euros")[0] == "134.700"
    toks = analyze("des obus de 155mm")
    assert [(t, s) for t, _, s in toks][-2:] == [("155", "155"), ("mm", "mm")]


def test_dotted_acronyms_join(analyze):
    assert terms(analyze, "O.N.U.") == terms(analyze, "ONU") == terms(analyze, "l'O.N.U.") == ["onu"]


def test_oe_ae_ligatures(analyze):
    assert terms(analyze, "œuvre") == terms(analyze, "oeuvre")
    assert terms(analyze, "Lætitia") == terms(analyze, "laetitia")


def test_snowball_agrees_with_the_python_analyzer(analyze):
    """The cluster's Snowball chain gives the Whoosh engine's terms (Lucene's Snowball is an older
    release of the same algorithm: a few words like « français » differ, none here)."""
    if analyze.stemmer != "snowball":
        pytest.skip("only the Snowball chain mirrors the Python analyzer")
    text = ("L'Alliance atlantique veut reconstituer ses stocks de munitions, a indiqué mercredi Jens Stoltenberg "
            "à Bruxelles. Les ministres de la Défense discuteront des armements fournis à l'Ukraine aujourd’hui ; "
            "les États-Unis et les Pays-Bas ont adopté 15,6 % de hausse, des obus de 155mm, l'O.N.U. s'inquiète.")
    assert terms(analyze, text) == analysis.terms(text)


def test_folded_subfield_keeps_words_whole(analyze):
    # Prefixes and the did-you-mean suggester read the folded, unstemmed words.
    assert [t for t, _, _ in analyze("L’Alliance des États-Unis", mapping.FOLDED_ANALYZER)] == ["alliance", "des", "etats", "unis"]
