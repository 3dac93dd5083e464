"""Chromium at phone width: the filters drawer, and excluding a place with « sauf »."""
from __future__ import annotations

import time

import pytest

from corpus import WEB_DISPATCHES
from servers import BROWSER_MARKS, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = BROWSER_MARKS


def wait_open(page):
    """Until the drawer has slid down (its transition done)."""
    expect(page.locator("#filtres")).to_have_css("transform", "none")
    expect(page.locator("#filtres")).to_be_visible()


def test_drawer_opens_traps_focus_and_excludes_a_place(web_server, phone):
    page, problems = phone
    page.goto(web_server + "/?q=munitions&place=Ukraine")
    toggle = page.locator(".filters-toggle")
    drawer = page.locator("#filtres")
    # The script turns the column into a drawer once it runs: wait for it, do not race it.
    expect(toggle).to_be_visible()
    expect(drawer).to_be_hidden()
    assert toggle.inner_text() == "Filtres (1)"
    expect(page.locator(".jump-filters")).to_be_hidden()
    assert toggle.get_attribute("aria-expanded") == "false" and toggle.get_attribute("aria-controls") == "filtres"
    # The button sits at the top of the results, above the first one.
    assert toggle.bounding_box()["y"] < page.locator(".result").first.bounding_box()["y"]

    shot(page, "drawer-closed-phone", full_page=False)
    toggle.click()
    wait_open(page)
    assert drawer.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert drawer.get_attribute("role") == "dialog" and drawer.get_attribute("aria-modal") == "true"
    assert page.evaluate("document.activeElement.className") == "drawer-close"
    # Focus stays in the drawer: Shift+Tab from the first control goes to the last, Tab from the last back.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.querySelector('#filtres').contains(document.activeElement)")
    for _ in range(60):
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('#filtres').contains(document.activeElement)")
    shot(page, "drawer-open-phone", full_page=False)
    # Échap closes it and gives focus back to the button.
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "filters-toggle"
    expect(drawer).to_have_css("visibility", "hidden")

    # Open again; the selected place's chip switches to « sauf Ukraine » from the keyboard.
    toggle.click()
    assert page.locator(".drawer-close").is_visible()
    page.locator(".drawer-close").click()
    assert toggle.get_attribute("aria-expanded") == "false"
    switch = page.locator(".chip-switch").first
    switch.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**not_place=Ukraine*")
    chip = page.locator(".chip-group.is-excluded .chip")
    assert " ".join(chip.inner_text().split()).startswith("Lieu : sauf Ukraine ×")
    ids = {d["id"] for d in WEB_DISPATCHES if "munitions" in (d["title"] + d.get("body", "")).lower() and "Ukraine" not in d.get("places", [])}
    assert int(page.locator("#result-count").get_attribute("data-total")) == len(ids) > 0

    # In the drawer, exclude one more place with its « sauf » link.
    page.locator(".filters-toggle").click()
    row = page.locator('[data-facet="places"] .facet-row', has=page.locator(".facet-item:not(.is-excluded)")).first
    value = row.locator(".facet-item").get_attribute("data-value")
    count = int(row.locator(".facet-item").get_attribute("data-count"))
    row.locator(".facet-exclude").click()
    page.wait_for_load_state()
    assert page.locator(".filters-toggle").inner_text() == "Filtres (2)"
    assert int(page.locator("#result-count").get_attribute("data-total")) == len(ids) - count
    assert page.locator(".chip-group.is-excluded").count() == 2
    page.locator(".filters-toggle").click()
    wait_open(page)
    excluded = page.locator('[data-facet="places"] .facet-item.is-excluded')
    assert {excluded.nth(i).get_attribute("data-value") for i in range(excluded.count())} == {"Ukraine", value}
    shot(page, "drawer-excluded-phone", full_page=False)
    assert not problems, problems


def test_the_closed_drawer_never_shows_while_the_page_loads(web_server, phone):
    """Turning the column into a drawer is not animated: no frame shows it sliding up over the results,
    even when the page was drawn before the script arrived (here the script is held back 300 ms)."""
    page, problems = phone
    page.add_init_script("""
        window.__drawerFrames = [];
        const start = performance.now();
        (function sample() {
            const drawer = document.getElementById('filtres');
            if (drawer && document.documentElement.classList.contains('has-drawer')) {
                const box = drawer.getBoundingClientRect();
                window.__drawerFrames.push(getComputedStyle(drawer).visibility === 'visible' && box.bottom > 0);
            }
            if (performance.now() - start < 1500) requestAnimationFrame(sample);
        })();
    """)

    def late(route):
        time.sleep(0.3)
        route.continue_()

    page.route("**/app.js*", late)
    page.goto(web_server + "/?q=munitions")
    expect(page.locator("html.has-drawer")).to_have_count(1)
    page.wait_for_timeout(500)  # frames sampled meanwhile (wait_for_function's eval is refused by the CSP)
    frames = page.evaluate("window.__drawerFrames")
    assert len(frames) > 5 and not any(frames), frames
    # Opening it is still animated.
    assert page.evaluate("getComputedStyle(document.getElementById('filtres')).transitionDuration") != "0s"
    assert not problems, problems


def test_without_script_the_filters_follow_the_results(browser, web_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(web_server + "/?q=munitions")
    assert not page.locator(".filters-toggle").is_visible() and page.locator(".jump-filters").is_visible()
    drawer = page.locator("#filtres")
    assert drawer.is_visible()
    assert drawer.bounding_box()["y"] > page.locator(".result").last.bounding_box()["y"]
    context.close()


def test_wide_screen_keeps_the_column(browser, web_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(web_server + "/?q=munitions")
    assert not page.locator(".filters-toggle").is_visible() and page.locator("#filtres").is_visible()
    assert not page.locator(".drawer-close").is_visible()
    context.close()
