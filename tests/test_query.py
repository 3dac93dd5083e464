"""The query language: what each syntax parses to, and malformed queries degrading to words."""
from __future__ import annotations

from search import query
from search.query import Field, Not, Or, Phrase, Prefix, Word, parse


def words(pq):
    return [c.terms for c in pq.clauses]


def test_plain_words_are_analysed_like_the_text():
    pq = parse("Stoltenberg plaide pour un soutien accru à l'Ukraine")
    assert pq.notice is None and not pq.strict
    assert [t for c in pq.clauses for t in c.terms] == ["stoltenberg", "plaid", "soutien", "accru", "ukrain"]


def test_phrase_exclusion_or_prefix_and_fields():
    pq = parse('"Pays-Bas" -munitions obus OR missiles munit* personne:"Jens Stoltenberg" lieu:Genève source:AFP')
    assert pq.notice is None
    kinds = [type(c) for c in pq.clauses]
    assert kinds == [Phrase, Or, Prefix, Field, Field, Field]
    assert pq.clauses[0].terms == ("pay", "bas")
    assert [c.terms for c in pq.clauses[1].children] == [("obus",), ("missil",)]
    assert pq.clauses[2].folded == "munit"
    assert (pq.clauses[3].name, pq.clauses[3].value) == ("people", "Jens Stoltenberg")
    assert (pq.clauses[4].name, pq.clauses[4].value) == ("places", "Genève")
    assert (pq.clauses[5].name, pq.clauses[5].value) == ("source", "AFP")
    assert [e.terms for e in pq.exclusions] == [("munit",)]


def test_french_operators_ou_et():
    pq = parse("Lyon OU Marseille")
    assert len(pq.clauses) == 1 and isinstance(pq.clauses[0], Or)
    pq = parse("otan ET munitions")
    assert pq.strict and words(pq) == [("otan",), ("munit",)]
    # Lower-case "ou" and "et" are ordinary (stop) words.
    assert parse("Lyon ou Marseille").clauses[0].terms == ("lyon",)
    assert len(parse("Lyon ou Marseille").clauses) == 2


def test_dates_single_and_ranges():
    assert parse("date:2023-06").clauses[0].value == (20230600, 20230699)
    assert parse("date:2023-01..2023-06").clauses[0].value == (20230100, 20230699)
    assert parse("date:2023").clauses[0].value == (20230000, 20239999)
    assert parse("date:2023-06-14").clauses[0].value == (20230614, 20230614)
    assert parse("date:..2022").clauses[0].value == (0, 20229999)


def test_malformed_queries_become_plain_words_with_a_notice():
    for text in ['"Pays-Bas', "munitions OR", "OU munitions", "a OR OR b", "ET", "foo:bar otan", "date:2023-13"]:
        pq = parse(text)
        assert pq.notice, text
        assert "mal formée" in pq.notice
        assert all(isinstance(c, Word) for c in pq.clauses), text
    assert [c.terms for c in parse('"Pays-Bas').clauses] == [("pay", "bas")]
    assert [t for c in parse("foo:bar otan").clauses for t in c.terms] == ["foo", "bar", "otan"]


def test_punctuation_is_not_syntax():
    # A dash between words, a colon followed by a space, a pasted link: no notice.
    for text in ["Macron - Merkel", "Australie: les arnaques", "Hennessey Venom F5 : les 500 km/h", "https://www.example.org/x"]:
        assert parse(text).notice is None, text
    assert [c.terms for c in parse("Pays-Bas").clauses] == [("pay", "bas")]


def test_question_words_are_not_searched():
    pq = parse("De quelle langue est issue le mot mycélium ?")
    assert "quel" not in [t for c in pq.clauses for t in c.terms]
    # ...unless nothing else is left.
    assert [c.terms for c in parse("comment").clauses] == [("comment",)]


def test_positive_terms_skip_exclusions():
    pq = parse('munitions -Vilnius "Pays-Bas"')
    assert pq.positive_terms() == ["munit", "pay", "bas"]
    assert isinstance(pq.exclusions[0], Word)


def test_date_range_helper():
    assert query.date_range("2023-06", "2023-06") == (20230600, 20230699)
    assert query.date_range(None, None) == (0, 99999999)
    for bad in ("2023-13", "juin", "2023/06"):
        try:
            query.date_range(bad, None)
        except query.Malformed:
            pass
        else:  # pragma: no cover
            raise AssertionError(bad)


def test_not_node_unused_by_parser_is_importable():
    assert Not(Word("x", ("x",))).child.terms == ("x",)


def test_place_exclusion_as_typed_anywhere():
    """« -lieu:Paris », and the same with the minus a word processor or a phone types, or with SAUF."""
    want = [Field("places", "Paris", "Paris")]
    for text in ["grève -lieu:Paris", "grève –lieu:Paris", "grève −lieu:Paris", "grève SAUF lieu:Paris",
                 "grève NOT lieu:Paris", "grève -lieux:Paris", "grève -lieu:«Paris»"]:
        pq = parse(text)
        assert pq.notice is None, text
        assert words(pq) == [("grev",)] and pq.exclusions == want, text
    assert parse('SAUF lieu:"Le Havre" grève').exclusions == [Field("places", "Le Havre", "Le Havre")]
    assert [e.terms for e in parse("Otan SAUF munitions").exclusions] == [("munit",)]
    # Lower-case « sauf » is a word; a dash alone, or inside a word, stays punctuation.
    assert words(parse("tout sauf Paris")) == [("tout",), ("sauf",), ("paris",)]
    for text in ["Macron – Merkel", "Macron − Merkel", "saison 2019–2020"]:
        pq = parse(text)
        assert pq.notice is None and pq.exclusions == [], text
    # SAUF with nothing to exclude is malformed: searched as words, said so.
    for text in ["grève SAUF", "SAUF OU Paris", "grève SAUF SAUF Paris", "Lyon OU SAUF Paris"]:
        pq = parse(text)
        assert pq.notice and "mal formée" in pq.notice and pq.exclusions == [], text
