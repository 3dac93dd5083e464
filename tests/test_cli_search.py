"""The `depeche search` and `depeche eval` commands."""
from __future__ import annotations

import json

from click.testing import CliRunner

from search.cli import main


def run(*args, **kw):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)


def test_search_prints_results_with_marks_as_brackets(search_index):
    r = run("--index", str(search_index), "search", "alliance", "munitions")
    assert r.exit_code == 0, r.output
    assert " résultats (" in r.output or "1 résultat (" in r.output
    assert "[munitions]" in r.output and "[otan-munitions]" in r.output


def test_search_json_and_facet_options(search_index):
    r = run("--index", str(search_index), "search", "--json", "--place", "geneve", "")
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["total"] == 1 and data["hits"][0]["id"] == "geneve-sommet"
    # The places facet lists the other places too (OR: what choosing one more would add).
    assert {"value": "Genève", "count": 1, "selected": True, "excluded": False} in data["facets"]["places"]
    assert len(data["facets"]["places"]) > 1
    # Excluded values leave the results and stay in their facet, marked.
    r = run("--index", str(search_index), "search", "--json", "--not-place", "geneve", "Macron")
    data = json.loads(r.output)
    assert "geneve-sommet" not in [h["id"] for h in data["hits"]] and data["total"] >= 1
    assert {"value": "Genève", "count": 0, "selected": False, "excluded": True} in data["facets"]["places"]


def test_search_notice(search_index):
    assert "note : " in run("--index", str(search_index), "search", '"munitions').output


def test_search_errors(search_index, tmp_path):
    r = CliRunner().invoke(main, ["--index", str(search_index), "search", "--from", "2023-13", "x"])
    assert r.exit_code == 2
    assert r.output == "depeche: date invalide : --from et --to veulent AAAA, AAAA-MM ou AAAA-MM-JJ, --from au plus tard --to (bad_date)\n"
    r = CliRunner().invoke(main, ["--index", str(tmp_path / "none"), "search", "x"])
    assert r.exit_code == 1 and "pas encore d'index dans" in r.output


def test_eval_command(tmp_path, fake_shared):
    shared = fake_shared
    out = tmp_path / "run.txt"
    r = run("eval", "--corpus", "orangesum", "--shared", str(shared), "--workdir", str(tmp_path / "w"), "--run", str(out))
    assert r.exit_code == 0, r.output
    assert "orangesum  keywords" in r.output and "MRR@10=1.000" in r.output
    assert " requêtes, recherche p50 " in r.output
    # The halves of the tuning protocol: A = T1, A1 (found first); B = K1 (first), T2 (missed).
    assert "orangesum  half A      n=    2  MRR@10=1.000" in r.output
    assert "orangesum  half B      n=    2  MRR@10=0.500" in r.output
    assert "A1 Q0 lyon-ecole 1 " in out.read_text()


def test_eval_without_shared_material(tmp_path):
    r = CliRunner().invoke(main, ["eval", "--corpus", "piaf", "--shared", str(tmp_path)])
    assert r.exit_code == 1 and r.output.startswith("depeche: matériel d'évaluation introuvable (")


def test_search_collapses_story_versions_and_says_both_counts(story_web_index):
    root = str(story_web_index)
    r = run("--index", root, "search", '"massif des Maures"')
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("4 résultats en 2 histoires (une ligne par histoire ; --collapse none pour chaque version) (")
    assert sum(1 for line in lines if line.startswith("     + 2 autres versions (histoire ")) == 1
    assert sum(1 for line in lines if line[:5].strip().rstrip(".").isdigit()) == 2
    r = run("--index", root, "search", "--collapse", "none", '"massif des Maures"')
    lines = r.output.splitlines()
    assert lines[0].startswith("4 résultats en 2 histoires (")
    assert sum(1 for line in lines if line[:5].strip().rstrip(".").isdigit()) == 4
    r = run("--index", root, "search", "--collapse", "histoire", "feu")
    assert r.exit_code == 2 and "histoire" in r.output
