"""Chromium: from a facet chip to a person's page, its histogram and the names alongside; autocomplete's link."""
from __future__ import annotations

from servers import BROWSER_MARKS, shot

pytestmark = BROWSER_MARKS


def test_from_a_facet_chip_to_a_person_page(entity_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(entity_server + "/?q=r%C3%A9forme")
    # Choose the person in the facets: a chip appears, with the way to the person's page.
    page.locator('[data-facet="people"] .facet-item[data-value="Emmanuel Macron"]').click()
    page.wait_for_load_state()
    chip = page.locator(".chip-group", has_text="Emmanuel Macron")
    assert chip.count() == 1
    chip.locator(".chip-page").click()
    page.wait_for_url("**/personne/Emmanuel%20Macron")
    assert page.locator("h1.entity-name").inner_text() == "Emmanuel Macron"
    assert page.locator("#entity-total").get_attribute("data-total") == "4"
    # Mentions over time: the search page's histogram, one bar per month he is named in.
    bars = page.locator(".histogram-chart a.histogram-link")
    assert [bars.nth(i).get_attribute("data-value") for i in range(bars.count())] == ["2019-01", "2019-03", "2019-06", "2019-09"]
    assert page.locator(".histogram-bar").first.is_visible()
    # The names alongside, with their counts.
    people = page.locator('[data-kind="people"] .alongside-item')
    assert [people.nth(i).inner_text().split("\n")[0] for i in range(people.count())] == ["Édouard Philippe", "Angela Merkel"]
    assert people.first.locator(".alongside-count").get_attribute("data-count") == "2"
    assert page.locator('[data-kind="places"] .alongside-name').first.inner_text() == "Paris"
    shot(page, "person-page")
    # A bar opens the search for him in that month.
    bars.first.click()
    page.wait_for_url("**/?person=Emmanuel+Macron&from=2019-01&to=2019-01")
    assert page.locator("#result-count").get_attribute("data-total") == "1"
    # And a name alongside opens its own page.
    page.go_back()
    page.locator('[data-kind="people"] .alongside-name', has_text="Édouard Philippe").click()
    page.wait_for_url("**/personne/%C3%89douard%20Philippe")
    assert page.locator("#entity-total").get_attribute("data-total") == "2"
    assert not problems, problems


def test_autocomplete_opens_a_place_page(entity_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(entity_server + "/")
    box = page.locator("#q")
    box.click()
    box.type("perp", delay=30)
    link = page.locator("#suggestions .suggestion-page")
    link.first.wait_for(state="visible", timeout=5000)
    link.first.click()
    page.wait_for_url("**/lieu/Perpignan")
    assert page.locator("h1.entity-name").inner_text() == "Perpignan"
    assert not problems, problems
