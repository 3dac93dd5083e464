"""Stories on the web: collapse in the API and on the page, « N autres versions », /api/story/<id>."""
from __future__ import annotations

import html as html_lib
import re

import jsonschema_rs
import pytest

from search import stories
from web.openapi import spec
from web_helpers import page

MAURES = '"massif des Maures"'
STORY = stories.story_id("feu-v1")


def _valid(name: str, body) -> None:
    """``body`` is valid against the OpenAPI document's schema ``name``."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec()["components"]}
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(body)]
    assert not errors, errors


def test_api_collapses_stories_by_default_and_says_both_totals(story_client):
    body = story_client.get("/api/search", query_string={"q": MAURES}).json
    _valid("SearchResponse", body)
    assert (body["total"], body["stories"], body["collapse"], body["pages"]) == (4, 2, "story", 1)
    assert len(body["hits"]) == 2
    running = next(h for h in body["hits"] if h["story"] == STORY)
    assert running["other_versions"] == 2 and running["id"] in {"feu-v1", "feu-v2", "feu-v3"}
    alone = next(h for h in body["hits"] if h["story"] != STORY)
    assert (alone["id"], alone["other_versions"]) == ("feu-2019", 0)


def test_api_collapse_none_lists_every_version(story_client):
    body = story_client.get("/api/search", query_string={"q": MAURES, "collapse": "none", "sort": "newest"}).json
    _valid("SearchResponse", body)
    assert (body["total"], body["stories"], body["collapse"]) == (4, 2, "none")
    assert [h["id"] for h in body["hits"]] == ["feu-v3", "feu-v2", "feu-v1", "feu-2019"]
    assert [h["other_versions"] for h in body["hits"]] == [2, 2, 2, 0]


def test_api_pages_count_stories(story_client):
    body = story_client.get("/api/search", query_string={"q": MAURES, "per_page": 1}).json
    assert body["pages"] == 2
    body = story_client.get("/api/search", query_string={"q": MAURES, "per_page": 1, "collapse": "none"}).json
    assert body["pages"] == 4


@pytest.mark.parametrize("value", ["histoire", "", "STORY"])
def test_bad_collapse_is_a_400(story_client, value):
    r = story_client.get("/api/search", query_string={"q": MAURES, "collapse": value})
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_collapse"
    assert r.json["error"]["message"] == "« collapse » doit valoir story ou none"


def test_api_story_lists_versions_newest_first_with_changes(story_client):
    r = story_client.get(f"/api/story/{STORY}")
    assert r.status_code == 200
    body = r.json
    _valid("Story", body)
    assert body["id"] == STORY and body["total"] == 3
    assert [v["id"] for v in body["versions"]] == ["feu-v3", "feu-v2", "feu-v1"]
    assert [v["changed"] for v in body["versions"]] == [
        "titre modifié, 1 paragraphe modifié", "titre modifié, 1 paragraphe ajouté", "première version"]
    assert body["versions"][1]["added"][0].startswith("Le maire de Vidauban a ouvert le gymnase")


def test_api_story_unknown_is_a_404(story_client):
    r = story_client.get("/api/story/0000000000000001")
    assert r.status_code == 404 and r.json["error"]["code"] == "story_not_found"
    assert r.json["error"]["message"] == "Aucune histoire ne porte cet identifiant."


def test_page_shows_other_versions_that_expand_in_place(story_client):
    text = page(story_client, "/?q=" + MAURES)
    assert 'data-stories="2"' in text and "en 2 histoires" in text
    assert "afficher chaque version" in text
    details = re.findall(r'<details class="story-versions" data-story="([0-9a-f]+)">\s*<summary>([^<]*)</summary>', text)
    assert details == [(STORY, "2 autres versions")]
    block = text[text.index('<details class="story-versions"'):text.index("</details>")]
    # Newest first, each with what it changed; the version shown above is marked, the others linked.
    titles = re.findall(r'class="story-version[^"]*">\s*<p class="story-version-head">.*?(?:<a href="[^"]*">|<span class="story-title">)([^<]*)<', block)
    assert [html_lib.unescape(t) for t in titles] == [
        "Incendie dans le massif des Maures : le feu est fixé",
        "Incendie dans le massif des Maures : des campings évacués",
        "Incendie dans le massif des Maures"]
    assert "Titre modifié, 1 paragraphe ajouté" in block and "Première version" in block
    assert block.count('class="para-added"') == 2 and block.count('class="para-removed"') == 1
    assert "(ci-dessus)" in block


def test_page_with_collapse_none_lists_every_version_and_offers_to_regroup(story_client):
    text = page(story_client, "/?collapse=none&q=" + MAURES)
    assert text.count('<li class="result">') == 4
    assert "regrouper les versions" in text
    # Links of the page keep the choice (sort, pagination).
    assert "collapse=none" in re.search(r'<nav class="sort".*?</nav>', text, re.S).group(0)
