"""What the CLI prints, in French: search responses, version, progress totals, bad arguments."""
from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from search import cli, indexing
from search.analysis import SCHEMA_VERSION
from search.model import Correction, FacetItem, Hit, SearchRequest, SearchResponse, Segment


def run(*args):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def hit(ident: str, missing=()) -> Hit:
    return Hit(id=ident, title=f"Titre {ident}", title_segments=[Segment("Titre "), Segment(ident, True)], date="2023-06-14",
               source="ATS", url=None, snippet_segments=[Segment("Les "), Segment("loups", True), Segment(" & les brebis")], score=1.0,
               missing=list(missing))


def response(**kw) -> SearchResponse:
    base = dict(query="loups ours", total=2, page=1, per_page=10, took_ms=3.25, hits=[], facets={})
    return SearchResponse(**{**base, **kw})


def test_partial_match_says_so_and_names_missing_words():
    resp = response(match="some", hits=[hit("a", ["ours"]), hit("b", ["loups"])],
                    facets={"places": [FacetItem("Genève", 1234)], "people": []})
    assert cli.response_lines(resp) == [
        "Aucune dépêche ne contient tous les mots : résultats partiels",
        "2 résultats (3,2 ms)",
        "  1. Titre [a]  [a]  2023-06-14 · ATS",
        "     Les [loups] & les brebis",
        "     Manque : ours",
        "  2. Titre [b]  [b]  2023-06-14 · ATS",
        "     Les [loups] & les brebis",
        "     Manque : loups",
        "lieux : Genève (1\u202f234)",
    ]


def test_corrections_suggestions_notice_and_time_outs():
    resp = response(total=1, notice="requête mal formée : cherchée comme de simples mots",
                    corrections=[Correction("Stoltemberg", "Stoltenberg", True), Correction("otn", "otan", False)],
                    corrected_query="otan", timed_out=["facets", "snippets"], partial=True)
    assert cli.response_lines(resp) == [
        "note : requête mal formée : cherchée comme de simples mots",
        "cherché comme « Stoltenberg » ; --exact pour chercher « Stoltemberg » tel quel",
        "Vouliez-vous dire : otan ?",
        "1 résultat (3,2 ms)",
        "résultats incomplets, temps dépassé pour : facettes, extraits",
    ]
    assert cli.response_lines(response(total=0, match="none")) == ["0 résultat (3,2 ms)"]
    assert cli.response_lines(response(total=12345, partial=True))[:2] == [
        "12\u202f345 résultats, page 1 sur 100 (3,2 ms)", "résultats incomplets : temps de recherche dépassé"]


def test_search_end_to_end_in_french(built_index):
    r = run("--index", str(built_index), "search", "munitions")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert any(line.endswith(" ms)") and " résultat" in line for line in lines)
    assert any("[munitions]" in line for line in lines)
    assert "result(s)" not in r.output and "did you mean" not in r.output


def test_exact_turns_spelling_correction_off(built_index, monkeypatch):
    from search.engine import Engine

    seen = []

    def fake_search(self, req: SearchRequest):
        seen.append(req.correct)
        return response(total=0)

    monkeypatch.setattr(Engine, "search", fake_search)
    run("--index", str(built_index), "search", "--exact", "Stoltemberg")
    run("--index", str(built_index), "search", "Stoltemberg")
    assert seen == [False, True]


def test_version_names_package_and_analyzer():
    r = run("--version")
    assert (r.exit_code, r.output) == (0, f"depeche 0.1.0 (analyseur {SCHEMA_VERSION})\n")


def test_bad_request_is_french_with_its_code(built_index):
    r = run("--index", str(built_index), "search", "--page", "1000", "x")
    assert (r.exit_code, r.output) == (2, "depeche: --page doit être un nombre entier entre 1 et 100 (bad_page)\n")


def test_argument_that_is_not_utf8_is_refused_cleanly(built_index):
    r = run("--index", str(built_index), "search", "caf\udce9")
    assert (r.exit_code, r.output) == (2, "depeche: l'argument 'caf\\udce9' n'est pas de l'UTF-8 valide\n")
    # The same from a real command line, where the bytes arrive undecoded.
    out = subprocess.run([sys.executable, "-m", "search", "--index", str(built_index), "index", "delete", b"caf\xe9"],
                         capture_output=True)
    assert out.returncode == 2
    assert out.stderr.decode() == "depeche: l'argument 'caf\\udce9' n'est pas de l'UTF-8 valide\n"


def test_rebuild_progress_bar_knows_its_total(tmp_path, corpus_dir, monkeypatch):
    totals = []

    class Bar:
        def update(self, n):
            pass

        def close(self):
            pass

    def progress(total, desc):
        totals.append(total)
        return Bar()

    monkeypatch.setattr(indexing, "_progress", progress)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    indexing.rebuild([corpus_dir], tmp_path / "ix", entities=False, procs=1)
    assert totals == [7]  # 5 text dispatches and 2 JSON Lines records


def test_agency_hits_show_urgency_slugline_and_language_and_facets_in_french():
    h = hit("a")
    h.urgency, h.slugline, h.language = 1, "OTAN-SOMMET", "en"
    resp = response(total=1, hits=[h], facets={"urgency": [FacetItem("1", 1)], "language": [FacetItem("en", 1)]})
    assert cli.response_lines(resp)[1:] == [
        "  1. Titre [a]  [a]  2023-06-14 · ATS · urgence 1 · OTAN-SOMMET · EN",
        "     Les [loups] & les brebis",
        "urgence : 1 (1)",
        "langue : en (1)",
    ]
    h.language = "fr"
    assert cli.response_lines(response(total=1, hits=[h]))[1].endswith("ATS · urgence 1 · OTAN-SOMMET")
