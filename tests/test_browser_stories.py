"""Chromium: a story's « 2 autres versions » expands in place, newest first, with what changed."""
from __future__ import annotations

import pytest

from servers import BROWSER_MARKS, shot

expect = pytest.importorskip("playwright.sync_api").expect


pytestmark = BROWSER_MARKS


def test_other_versions_expand_in_place(story_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(story_server + '/?q="massif des Maures"')
    results = page.locator(".result")
    expect(results).to_have_count(2)  # the running story collapsed, and the 2019 dispatch
    details = page.locator("details.story-versions")
    expect(details).to_have_count(1)
    summary = details.locator("summary")
    expect(summary).to_have_text("2 autres versions")
    versions = details.locator(".story-version")
    expect(versions.first).to_be_hidden()
    url_before = page.url
    summary.click()
    expect(versions).to_have_count(3)
    expect(versions.first).to_be_visible()
    assert page.url == url_before  # in place: no navigation
    # Newest first, each saying what changed from the one before.
    expect(versions.nth(0).locator(".story-changed")).to_have_text("Titre modifié, 1 paragraphe modifié")
    expect(versions.nth(1).locator(".story-changed")).to_have_text("Titre modifié, 1 paragraphe ajouté")
    expect(versions.nth(2).locator(".story-changed")).to_have_text("Première version")
    expect(versions.nth(0).locator(".para-added")).to_contain_text("Le feu a été fixé samedi matin")
    expect(versions.nth(0).locator(".para-removed")).to_contain_text("Le maire de Vidauban")
    # The expansion sits inside the hit, right under it: before the next result.
    box = details.bounding_box()
    hit_box = page.locator(".result", has=details).bounding_box()
    assert hit_box["y"] <= box["y"] and box["y"] + box["height"] <= hit_box["y"] + hit_box["height"] + 1
    shot(page, "story-versions")
    summary.click()
    expect(versions.first).to_be_hidden()
    assert problems == []
