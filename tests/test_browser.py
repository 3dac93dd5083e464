"""A real browser (Debian's Chromium driven by Playwright) against the app on a loopback port."""
from __future__ import annotations

from servers import BROWSER_MARKS, shot

pytestmark = BROWSER_MARKS


def test_search_facet_and_document(web_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(web_server + "/")
    box = page.locator("#q")
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus
    box.type("munitions")
    box.press("Enter")
    page.wait_for_url("**/?q=munitions*")
    assert page.locator(".results mark").count() > 0
    assert page.locator("#q").input_value() == "munitions"
    assert page.locator(".histogram-chart a").count() > 0
    shot(page, "search-desktop")

    place = page.locator('[data-facet="places"] .facet-item:not(.is-selected)').first
    value, count = place.get_attribute("data-value"), int(place.get_attribute("data-count"))
    place.click()
    page.wait_for_load_state()
    assert int(page.locator("#result-count").get_attribute("data-total")) == count
    assert page.locator(".chip", has_text=value).count() == 1
    shown = page.locator("#result-count strong").inner_text().replace("\u202f", "")
    assert int(shown) == count
    shot(page, "search-facet")

    title = page.locator(".result-title a").first
    expected = title.inner_text()
    title.click()
    page.wait_for_load_state()
    assert "/doc/" in page.url
    assert page.locator("h1").inner_text() == expected
    assert page.locator(".dispatch mark").count() > 0
    assert page.locator(".related-list li").count() >= 1
    shot(page, "document-desktop")
    assert not problems, problems


def test_facet_values_or_and_the_sauf_toggle(web_server, page_and_problems):
    """Two places are either one (their counts add up as shown), a chip's « sauf » excludes it instead."""
    page, problems = page_and_problems

    def total() -> int:
        return int(page.locator("#result-count").get_attribute("data-total"))

    def place(value: str):
        return page.locator(f'[data-facet="places"] .facet-item[data-value="{value}"]')

    page.goto(web_server + "/")
    place("Suisse").click()
    page.wait_for_url("**place=Suisse*")
    assert total() == 2 == int(place("Suisse").get_attribute("data-count"))
    assert "is-selected" in place("Suisse").get_attribute("class")
    # Beside a chosen place, another one's count is what choosing it too adds (any of the places).
    adds = int(place("Kiev").get_attribute("data-count"))
    assert adds == 1 and int(place("Ukraine").get_attribute("data-count")) == 5
    if not place("Kiev").is_visible():  # under « Plus »
        page.locator('[data-facet="places"] .facet-more summary').click()
    place("Kiev").click()
    page.wait_for_url("**place=Kiev*")
    assert total() == 2 + adds
    assert page.locator(".chip-group:not(.is-excluded) .chip").count() == 2
    shot(page, "facets-or")

    # « sauf » on the Suisse chip: Kiev's dispatches that do not name Switzerland.
    page.locator(".chip-group", has_text="Suisse").locator(".chip-switch").click()
    page.wait_for_url("**not_place=Suisse*")
    assert "place=Suisse" not in page.url.replace("not_place=Suisse", "")
    assert total() == 1
    chip = page.locator(".chip-group.is-excluded")
    assert " ".join(chip.locator(".chip").inner_text().split()).startswith("Lieu : sauf Suisse")
    excluded = place("Suisse")
    assert "is-excluded" in excluded.get_attribute("class") and excluded.locator(".facet-sauf").text_content() == "sauf"
    shot(page, "facets-sauf")
    # And back: the chip's switch chooses it again.
    chip.locator(".chip-switch").click()
    page.wait_for_url(lambda url: "not_place" not in url)
    assert total() == 3
    assert not problems, problems


def test_autocomplete_and_keyboard(web_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(web_server + "/doc/afp-001")  # no autofocus here: keyboard navigation starts at the top
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.goto(web_server + "/")
    box = page.locator("#q")
    box.click()
    box.type("mun", delay=30)
    listbox = page.locator("#suggestions")
    listbox.wait_for(state="visible", timeout=5000)
    assert box.get_attribute("aria-expanded") == "true"
    options = page.locator('#suggestions [role="option"]')
    assert options.count() >= 1
    shot(page, "autocomplete")
    box.press("ArrowDown")
    assert page.locator('#suggestions [aria-selected="true"]').count() == 1
    box.press("Escape")
    assert listbox.is_hidden()
    assert not problems, problems


def test_phone_width(web_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(web_server + "/?q=munitions")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.locator(".results mark").count() > 0
        # With the script, the filters open as a drawer from « Filtres (N) » (test_browser_drawer.py).
        assert page.locator(".filters-toggle").is_visible() and not page.locator(".jump-filters").is_visible()
        shot(page, "search-phone")
        shot(page, "search-phone-top", full_page=False)
        page.goto(web_server + "/?q=munitoins+fromage+" + "contre-offensive" * 3)  # a correction, a partial match, a long word
        assert page.locator(".exact-search").is_visible() and page.locator(".partial-match").is_visible()
        # What a hit lacks is said as searched: the correction, not the typo.
        assert "munitoins" not in page.locator(".result-missing").first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "search-phone-explained", full_page=False)
        page.goto(web_server + "/doc/afp-001?q=munitions")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "document-phone")
        shot(page, "document-phone-top", full_page=False)
    finally:
        context.close()


def test_works_without_javascript(web_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(web_server + "/?q=munitions")
        more = page.locator('[data-facet="places"] .facet-item').first
        count = int(more.get_attribute("data-count"))
        more.click()
        page.wait_for_load_state()
        assert int(page.locator("#result-count").get_attribute("data-total")) == count
    finally:
        context.close()


def test_facet_filter_box_and_more(web_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(web_server + "/")  # all 11 dispatches: 13 places, more than the 10 shown
    places = page.locator('[data-facet="places"]')
    hidden_before = places.locator("details.facet-more .facet-item").first
    assert not hidden_before.is_visible()
    places.locator("summary").click()  # "Plus" opens the rest, no script needed
    assert hidden_before.is_visible()
    places.locator("summary").click()
    field = places.locator(".facet-filter")
    assert field.is_visible()  # shown by the script
    field.fill("bo")
    visible = [v for v in places.locator(".facet-item").all() if v.is_visible()]
    assert sorted(v.get_attribute("data-value") for v in visible) == ["Bologne", "Bordeaux", "Bourges"]
    assert not problems, problems


def test_partial_match_and_applied_correction_are_said(web_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(web_server + "/?q=munitions+fromage")
    assert page.locator(".partial-match").inner_text() == "Aucune dépêche ne contient tous les mots\u00a0; résultats partiels."
    lacks = [t.replace("\u00a0", " ") for t in page.locator(".result-missing").all_inner_texts()]
    assert lacks and all(t.startswith("Manque : ") for t in lacks) and "Manque : fromage" in lacks
    shot(page, "search-partial-match")

    page.goto(web_server + "/?q=munitoins")
    assert "cherché comme «\u00a0munitions\u00a0»" in page.locator(".correction").inner_text()
    assert page.locator(".did-you-mean").count() == 0
    total = int(page.locator("#result-count").get_attribute("data-total"))
    assert total > 0
    shot(page, "search-correction-applied")
    page.locator(".exact-search").click()  # one click: the words as typed
    page.wait_for_load_state()
    assert "correct=0" in page.url and page.locator("#result-count").get_attribute("data-total") == "0"
    assert page.locator(".correction").count() == 0
    assert not problems, problems


def test_agency_items_urgency_slugline_history_and_withdrawn(agency_server, page_and_problems):
    page, problems = page_and_problems
    page.goto(agency_server + "/?q=kiev+OR+ministers")
    first = page.locator(".result", has=page.locator(".urgency.is-high"))
    assert first.count() == 1
    badge = first.locator(".urgency.is-high")
    assert badge.inner_text() == "FLASH"
    # Stronger for 1-2: a filled red badge, white text.
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    assert first.locator(".slugline").inner_text() == "UKRAINE-EXPLOSION"
    english = page.locator(".result", has=page.locator(".lang-badge"))
    assert english.count() == 1 and english.locator(".lang-badge").inner_text() == "EN"
    assert english.locator(".result-title a").get_attribute("lang") == "en"
    assert english.locator(".urgency").inner_text() == "Urgence 4"
    for name, label in (("urgency", "Urgence"), ("genre", "Genre"), ("subjects", "Sujets"), ("language", "Langue"), ("slugline", "Slugline")):
        assert page.locator(f'[data-facet="{name}"] h3').text_content() == label
    shot(page, "search-agency")
    page.locator('[data-facet="language"] .facet-item[data-value="en"]').click()
    page.wait_for_load_state()
    assert "language=en" in page.url and page.locator(".chip", has_text="anglais").count() == 1
    assert page.locator("#result-count").get_attribute("data-total") == "1"

    page.goto(agency_server + "/?q=kiev")
    page.locator(".result-title a").first.click()
    page.wait_for_load_state()
    versions = page.locator(".version-list .version")
    assert [versions.nth(i).get_attribute("data-version") for i in range(versions.count())] == ["3", "2", "1"]
    assert "1er mars 2024 à 10:45" in versions.first.inner_text()
    assert page.locator(".agency-meta dt").all_inner_texts() == ["Urgence", "Genre", "Sujets", "Slugline", "Langue"]
    shot(page, "document-agency")

    response = page.goto(agency_server + "/doc/urn:newsml:afp:rumeur")
    assert response.status == 410
    assert page.locator("h1").inner_text() == "Dépêche retirée"
    assert page.locator(".version-list .version").count() == 2
    shot(page, "document-withdrawn")
    # Chromium logs a failed resource for the 410 document itself: nothing else may be reported.
    assert not [p for p in problems if "status of 410" not in p], problems


def test_agency_items_at_phone_width(agency_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="fr-FR")
    page = context.new_page()
    try:
        for path in ("/?q=kiev+OR+ministers", "/doc/urn:newsml:afp:kiev", "/doc/urn:newsml:afp:rumeur"):
            page.goto(agency_server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        shot(page, "document-withdrawn-phone", full_page=False)
        page.goto(agency_server + "/doc/urn:newsml:afp:kiev")
        shot(page, "document-agency-phone")
    finally:
        context.close()
