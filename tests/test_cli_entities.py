"""`depeche personne` and `depeche lieu`: a person's or place's page on the terminal, in French."""
from __future__ import annotations

import json

from click.testing import CliRunner

from search.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_person_page_on_the_terminal(entity_index):
    r = run("--index", str(entity_index), "personne", "Macron")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "Emmanuel Macron : 4 dépêches (aussi « Macron »)"
    assert lines[1] == "Mentions par mois :"
    assert lines[2].split() == ["2019-01", "████████████████████", "1"]
    assert "Personnes citées avec : Édouard Philippe (2), Angela Merkel (1)" in lines
    assert "Lieux cités avec : Paris (3), Berlin (1), Lyon (1)" in lines
    assert lines[lines.index("Dernières dépêches :") + 1].split()[-1] == "[macron-seul]"


def test_place_json_and_unknown_name(entity_index):
    r = run("--index", str(entity_index), "lieu", "paris", "--json", "--size", "1", "--latest", "1")
    data = json.loads(r.output)
    assert data["name"] == "Paris" and data["total"] == 4
    assert data["people"] == [{"value": "Emmanuel Macron", "count": 3, "selected": False, "excluded": False}]
    assert [h["id"] for h in data["latest"]] == ["macron-seul"]
    r = CliRunner().invoke(main, ["--index", str(entity_index), "lieu", "Atlantide"])
    assert r.exit_code == 1 and "aucune dépêche ne cite « Atlantide »" in r.output
