"""Did you mean, and autocomplete: from the index vocabulary, shown with accents."""
from __future__ import annotations

from collections import Counter

import pytest

from search import suggest
from search.engine import Engine
from search.model import SearchRequest, plain_text

from corpus import SEARCH_RECORDS, build_index


@pytest.mark.parametrize(
    "typed,corrected",
    [
        ("Stoltemberg", "Stoltenberg"),
        ("munitons", "munitions"),
        ("defence", "défense"),
        ("Stoltemberg munitons", "Stoltenberg munitions"),
        ("sommet Vilnuis", "sommet Vilnius"),
    ],
)
def test_words_no_dispatch_has_are_read_as_the_archive_spells_them(engine, typed, corrected):
    res = engine.search(SearchRequest(q=typed))
    # Applied, so not offered again as « Vouliez-vous dire » (the page would say it twice).
    assert res.corrected_query is None
    assert all(c.applied for c in res.corrections)
    fixed = typed
    for c in res.corrections:
        fixed = fixed.replace(c.word, c.replacement)
    assert fixed == corrected
    # Undone: searched exactly as typed, and the correction offered instead.
    exact = engine.search(SearchRequest(q=typed, correct=False))
    assert exact.corrected_query == corrected
    assert not any(c.applied for c in exact.corrections)
    assert exact.notice is None or "cherché comme" not in exact.notice


def test_a_word_no_dispatch_has_is_searched_as_its_correction(engine):
    res = engine.search(SearchRequest(q="Stoltemberg"))
    assert res.total > 0 and all("Stoltenberg" in h.title + plain_text(h.snippet_segments) for h in res.hits[:3])
    assert "« Stoltemberg » n'apparaît dans aucune dépêche : cherché comme « Stoltenberg »" in res.notice
    assert [(c.word, c.replacement, c.applied) for c in res.corrections] == [("Stoltemberg", "Stoltenberg", True)]
    assert engine.search(SearchRequest(q="Stoltemberg", correct=False)).total == 0
    # A rare but real word is searched as typed.
    assert engine.search(SearchRequest(q="pangolin")).notice is None
    assert engine.search(SearchRequest(q="zzqxw")).total == 0


def test_known_words_are_not_corrected(engine):
    for q in ("munitions", "Stoltenberg", "défense aérienne", "pangolin", "l'Alliance"):
        res = engine.search(SearchRequest(q=q))
        assert res.corrected_query is None and res.corrections == [], q


def test_correction_keeps_the_rest_of_the_query(engine):
    res = engine.search(SearchRequest(q='munitons -Vilnius "Pays-Bas"', correct=False))
    assert res.corrected_query == 'munitions -Vilnius "Pays-Bas"'


def test_a_rare_word_gets_a_suggestion_not_a_correction(tmp_path):
    # « Philipe » is in the archive (one dispatch, a typo of its own), « Philippe » far more often:
    # searched as typed, with « Vouliez-vous dire » offering the frequent spelling.
    records = [{"id": f"p{i}", "date": "2020-01-01", "title": f"Édouard Philippe à Matignon ({i})",
                "chapo": "Le Premier ministre Édouard Philippe a présenté son plan.", "body": "Un discours."}
               for i in range(60)]
    records += [{"id": f"t{i}", "date": "2020-01-02", "title": f"Philipe Martin ({i})", "chapo": "Philipe Martin témoigne.",
                 "body": "Un récit."} for i in range(1)]
    engine = Engine(build_index(tmp_path / "index", records))
    res = engine.search(SearchRequest(q="Philipe"))
    assert [(c.word, c.replacement, c.applied) for c in res.corrections] == [("Philipe", "Philippe", False)]
    assert res.corrected_query == "Philippe"
    assert res.notice is None


def test_corrections_cost_nothing_for_long_words(engine):
    import time

    for n in (40, 80, 160, 1000):
        t0 = time.perf_counter()
        res = engine.search(SearchRequest(q="m" * n))
        assert time.perf_counter() - t0 < 1.0 and res.total == 0 and res.corrections == []


def test_autocomplete_terms_people_places(engine):
    got = engine.suggest("muni")
    assert got["terms"][0] == "munitions"
    assert "municipal" in got["terms"]
    assert engine.suggest("stol")["people"] == ["Jens Stoltenberg"]
    assert engine.suggest("gen")["places"] == ["Genève"]
    assert engine.suggest("emm")["people"] == ["Emmanuel Macron"]
    # Accents and case of the prefix do not matter; display forms keep theirs.
    assert engine.suggest("DÉFEN")["terms"][0] == "défense"
    assert engine.suggest("etats")["places"] == ["États-Unis"]


def test_autocomplete_by_frequency_and_limit(engine):
    terms = engine.suggest("m", limit=3)["terms"]
    assert terms == []  # one letter is too short to complete
    got = engine.suggest("mi", limit=2)["terms"]
    assert len(got) <= 2 and got[0] == "ministres"


def test_word_display_prefers_the_accented_lower_case_form():
    forms = Counter({"Défense": 3, "défense": 5, "defense": 4, "DEFENSE": 1})
    assert suggest.word_display(forms) == "défense"
    assert suggest.word_display(Counter({"Stoltenberg": 7, "STOLTENBERG": 1})) == "Stoltenberg"
    assert suggest.word_display(Counter({"munition": 2, "munitions": 5}), want="munition") == "munition"


def test_vocabulary_prefixes():
    vocab = suggest.Vocabulary({"munit": 50, "stoltenberg": 10, "defens": 30})
    assert vocab.with_prefix("mu") == ["munit"]
    assert vocab.completions("muniti") == ["munit"]


def test_words_of_an_opening_indexed_as_lead_are_shown(tmp_path):
    # The opening sentence of a dispatch without title or lead is indexed as its lead but not
    # stored as one: the displayed word comes from the body.
    records = [{"id": f"etna-{i}", "chapo": "", "date": "2023-05-0" + str(i + 1),
                "body": f"L'Etna est entré en éruption pour la {i + 2}e fois. Les vols sont suspendus."} for i in range(8)]
    engine = Engine(build_index(tmp_path / "index", records))
    assert engine.suggest("erup")["terms"] == ["éruption"]
    assert engine.search(SearchRequest(q="eruptoin", correct=False)).corrected_query == "éruption"


def test_a_new_generation_keeps_correcting_while_its_speller_is_built(tmp_path, monkeypatch):
    import threading

    from search import indexing, spelling

    root = build_index(tmp_path / "index", SEARCH_RECORDS, seed=True)
    engine = Engine(root)
    assert engine.search(SearchRequest(q="Stoltemberg")).corrections  # first generation, built
    # An update (as `index watch` makes every second) opens a new snapshot whose speller is
    # slow to build: the previous one answers meanwhile, nothing is cut short.
    release = threading.Event()
    real_build = spelling.build
    monkeypatch.setattr(spelling, "build", lambda gen: release.wait(10) and real_build(gen))
    extra = tmp_path / "extra.jsonl"
    extra.write_text('{"id": "n1", "title": "Nouvelle dépêche", "chapo": "Un ajout.", "body": "Rien de plus."}\n')
    indexing.add([extra], root, entities=False)
    # The budget covers opening the new generation too (a loaded machine takes a few hundred ms);
    # the speller being built would cut the corrections whatever the budget (it waits 10 s).
    res = engine.search(SearchRequest(q="Stoltemberg", time_budget_ms=3000))
    release.set()
    assert [c.replacement for c in res.corrections] == ["Stoltenberg"]
    assert "corrections" not in res.timed_out and res.generation == engine.snapshot().meta.get("generation")
