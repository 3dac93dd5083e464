"""Chromium: the date histogram zooms year → month → day by clicks and back up; desktop and phone."""
from __future__ import annotations

import pytest

from corpus import build_index
from servers import BROWSER_MARKS, serve_app, shot
from web_helpers import make_app

pytestmark = BROWSER_MARKS

# Eight 2011 outliers, then 2019-2024 by month, a busy June 2023.
RECORDS = (
    [{"id": f"old-{i}", "title": f"Archive de 2011 numéro {i}", "chapo": "Une vieille dépêche sur l'Otan.",
      "date": f"2011-03-0{i + 1}", "source": "ATS"} for i in range(8)]
    + [{"id": f"m-{y}-{m}-{k}", "title": f"L'Otan en {m}/{y} ({k})", "chapo": "Une dépêche sur l'Otan.",
        "date": f"{y}-{m:02d}-{(k * 7) % 27 + 1:02d}", "source": "AFP"}
       for y in range(2019, 2025) for m in range(1, 13) for k in range((y + m) % 4 + 1)]
    + [{"id": f"june-{k}", "title": f"Sommet de l'Otan, jour {k}", "chapo": "Le sommet de l'Otan.",
        "date": f"2023-06-{k % 20 + 1:02d}", "source": "AFP"} for k in range(60)]
)


@pytest.fixture(scope="module")
def dates_server(tmp_path_factory):
    with serve_app(make_app(build_index(tmp_path_factory.mktemp("dates-browser") / "index", RECORDS))) as base:
        yield base


def grain(page) -> str:
    return page.locator("figure.histogram").get_attribute("data-grain")


@pytest.mark.parametrize("width", [1280, 375])
def test_zoom_year_month_day_and_back(dates_server, browser, width):
    phone = width < 700
    context = browser.new_context(viewport={"width": width, "height": 900 if not phone else 812}, locale="fr-FR",
                                  is_mobile=phone, device_scale_factor=2 if phone else 1)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    name = "phone" if phone else "desktop"
    page.goto(dates_server + "/?q=otan")
    assert grain(page) == "year"
    # The eight 2011 dispatches do not stretch the axis: 2012-2018 are one « … » slot.
    assert page.locator(".histogram-gap").count() == 1
    bar = page.locator('.histogram-link[data-value="2011"]')
    box = bar.bounding_box()
    assert box["width"] >= 14  # readable, on a phone too
    page.locator("figure.histogram").scroll_into_view_if_needed()
    shot(page, f"dates-years-{name}", full_page=False)

    page.locator('.histogram-link[data-value="2023"]').click()
    page.wait_for_url("**from=2023&to=2023*")
    assert grain(page) == "month"
    assert page.locator(".histogram-crumbs").inner_text().split("\n")[0].startswith("Toutes les années")
    assert page.locator(".histogram-slot").count() == 12  # the whole year around: empty months too
    # June towers over the other months: capped, marked as cut.
    assert "is-clipped" in page.locator('.histogram-link[data-value="2023-06"]').get_attribute("class")
    page.locator('.histogram-link[data-value="2023-05"]').hover()
    shot(page, f"dates-months-{name}", full_page=False)

    page.locator('.histogram-link[data-value="2023-06"]').click()
    page.wait_for_url("**from=2023-06&to=2023-06*")
    assert grain(page) == "day"
    assert page.locator(".histogram-slot").count() == 30
    page.locator('.histogram-link[data-value="2023-06-05"]').click()
    page.wait_for_url("**from=2023-06-05&to=2023-06-05*")
    assert int(page.locator("#result-count").get_attribute("data-total")) == 3
    chosen = page.locator('.histogram-link[data-value="2023-06-05"]')
    assert "is-selected" in chosen.get_attribute("class")
    assert page.locator('.histogram-link.is-context[data-value="2023-06-06"]').count() == 1
    # Selected and hovered bars look different; keyboard focus is visible.
    page.locator('.histogram-link[data-value="2023-06-06"]').hover()
    fill = page.evaluate("""() => [...document.querySelectorAll('.histogram-link')]
        .filter(a => ['2023-06-05', '2023-06-06'].includes(a.dataset.value))
        .map(a => getComputedStyle(a.querySelector('.histogram-bar')).fill)""")
    assert fill[0] != fill[1], fill
    page.locator('.histogram-link[data-value="2023-06-07"]').focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    shot(page, f"dates-days-{name}", full_page=False)

    # Back up: « ↑ juin 2023 », then the breadcrumb's « 2023 », then « Toutes les années ».
    page.locator(".histogram-up").click()
    page.wait_for_url("**from=2023-06&to=2023-06*")
    assert grain(page) == "day"
    # Sideways: the month after and back, the query kept (the zoom never loses its surroundings).
    page.locator(".histogram-next").click()
    page.wait_for_url("**from=2023-07&to=2023-07*")
    assert "q=otan" in page.url and grain(page) == "day"
    assert page.locator(".histogram-crumbs [aria-current]").inner_text() == "juillet 2023"
    page.locator(".histogram-prev").click()
    page.wait_for_url("**from=2023-06&to=2023-06*")
    page.locator(".histogram-crumbs a", has_text="2023").click()
    page.wait_for_url("**from=2023&to=2023*")
    assert grain(page) == "month"
    page.locator(".histogram-crumbs a", has_text="Toutes les années").click()
    page.wait_for_load_state()
    assert grain(page) == "year" and "from=" not in page.url and "q=otan" in page.url

    # The « Du » / « Au » inputs, by day, keep the query.
    page.fill("#date-from", "2023-06-03")
    page.fill("#date-to", "2023-06-04")
    page.locator(".date-apply").click()
    page.wait_for_url("**from=2023-06-03&to=2023-06-04*")
    assert "q=otan" in page.url and grain(page) == "day"
    # An end before the start is refused by the browser itself: nothing is sent.
    before = page.url
    page.fill("#date-to", "2023-05-01")
    page.locator(".date-apply").click()
    page.wait_for_timeout(300)
    assert page.url == before and not page.evaluate("document.querySelector('#date-to').validity.valid")
    page.fill("#date-to", "2023-06-04")
    page.locator(".sort a", has_text="Plus anciennes").click()
    page.wait_for_url("**sort=oldest*")
    assert "from=2023-06-03" in page.url
    assert page.locator(".result-title .hit-date").first.inner_text() == "3 juin 2023"
    shot(page, f"dates-sorted-{name}", full_page=False)
    if phone:
        # A late day of the month, chosen: its bar is scrolled into view, not left off-screen.
        page.goto(dates_server + "/?q=otan&from=2023-06-20&to=2023-06-20")
        inside = page.evaluate("""() => {
            const box = document.querySelector('.histogram-scroll').getBoundingClientRect();
            const bar = document.querySelector('.histogram-link.is-selected').getBoundingClientRect();
            return bar.left >= box.left && bar.right <= box.right;
        }""")
        assert inside
        assert page.evaluate("document.querySelector('.histogram-scroll').scrollLeft") > 0
        # Months of three years, none chosen: the latest ones are in view, not January 2019.
        page.goto(dates_server + "/?q=otan&from=2022-01&to=2024-12")
        assert grain(page) == "month"
        edge = page.evaluate("""() => {
            const box = document.querySelector('.histogram-scroll');
            return [box.scrollWidth > box.clientWidth, Math.round(box.scrollLeft + box.clientWidth) >= box.scrollWidth - 1];
        }""")
        assert edge == [True, True]
    assert not problems, problems
    context.close()
