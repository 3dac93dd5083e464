"""The search page's dates: « Du » / « Au » inputs, the zooming histogram, sort by date."""
from __future__ import annotations

import re

from web_helpers import page


def test_date_inputs_keep_the_search_and_its_filters(client):
    html = page(client, "/?q=munitions&source=AFP&sort=oldest&from=2023&to=2023-05")
    form = re.search(r'<form class="date-range".*?</form>', html, re.S).group(0)
    assert '<span>Du</span> <input type="date" name="from" id="date-from" value="2023-01-01"' in form
    assert '<span>Au</span> <input type="date" name="to" id="date-to" value="2023-05-31"' in form
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert hidden == [("q", "munitions"), ("source", "AFP"), ("sort", "oldest")]
    assert 'class="date-clear" href="/?q=munitions&amp;source=AFP&amp;sort=oldest"' in form
    # What the form sends: a day range, read as it is.
    days = page(client, "/?q=munitions&source=AFP&sort=oldest&from=2023-04-01&to=2023-05-31")
    assert "Période :</span> du 1er avril 2023 au 31 mai 2023" in days
    # A whole month (or year) typed by its days is named as such.
    assert "Période :</span> mai 2023" in page(client, "/?q=munitions&from=2023-05-01&to=2023-05-31")
    assert "Période :</span> 2023<" in page(client, "/?q=munitions&from=2023-01-01&to=2023-12-31")


def test_bad_dates_from_the_form_are_the_400_page(client):
    for url in ("/?from=2023-06-10&to=2023-06-01", "/?from=2023-02-30"):
        html = page(client, url, status=400)
        assert "date" in html
    # An end before the start, from the form: said with the form's words, and the way back keeps the
    # search (its words in the box, its filters), without the dates.
    html = page(client, "/?q=munitions&place=Ukraine&sort=oldest&from=2023-06-10&to=2023-06-01&page=2", status=400)
    assert "la date de début (« from », « Du ») est postérieure à la date de fin (« to », « Au »)" in html
    assert '<a class="error-back" href="/?q=munitions&amp;place=Ukraine&amp;sort=oldest">Revenir à la recherche, sans ces dates</a>' in html
    assert 'id="q" name="q" type="search" value="munitions"' in html
    # The API says the same in JSON; other bad parameters keep the plain way back.
    r = client.get("/api/search?from=2023-06-10&to=2023-06-01")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_date"
    assert "error-back" not in page(client, "/?q=munitions&sort=bad", status=400)


def test_histogram_zooms_and_keeps_filters(client):
    html = page(client, "/?q=munitions&source=AFP")
    assert 'data-grain="month"' in html
    links = dict(re.findall(r'href="([^"]+)" title="[^"]*" aria-label="[^"]*" data-value="([^"]+)"', html))
    url = next(u for u, v in links.items() if v == "2023-05").replace("&amp;", "&")
    assert url == "/?q=munitions&source=AFP&from=2023-05&to=2023-05"
    month = page(client, url)
    assert 'data-grain="day"' in month and "Dépêches par jour" in month
    assert '<a class="histogram-up" href="/?q=munitions&amp;source=AFP&amp;from=2023&amp;to=2023">↑ 2023</a>' in month
    crumbs = re.search(r'<nav class="histogram-crumbs".*?</nav>', month, re.S).group(0)
    assert re.findall(r">([^<>]+)</(?:a|span)>", crumbs) == ["Toutes les années", "2023", "mai 2023"]
    day = re.search(r'href="([^"]+)" title="20 mai 2023 : 1 dépêche"', month).group(1).replace("&amp;", "&")
    chosen = page(client, day)
    assert 'data-total="1"' in chosen
    # The month stays around the chosen day, which is marked and leads back to its month.
    assert re.search(r'class="histogram-link is-selected" href="/\?q=munitions&amp;source=AFP&amp;from=2023-05&amp;to=2023-05"', chosen)
    around = page(client, "/?from=2023-05-20&to=2023-05-20")
    assert re.search(r'class="histogram-link is-context" href="/\?from=2023-05-18&amp;to=2023-05-18"', around)


def test_sort_by_date_keeps_filters_and_puts_dates_first(client):
    html = page(client, "/?q=munitions&source=AFP&from=2023-04&to=2023-06")
    sort_nav = re.search(r'<nav class="sort".*?</nav>', html, re.S).group(0)
    assert 'href="/?q=munitions&amp;source=AFP&amp;from=2023-04&amp;to=2023-06&amp;sort=newest">Plus récentes' in sort_nav
    assert 'href="/?q=munitions&amp;source=AFP&amp;from=2023-04&amp;to=2023-06&amp;sort=oldest">Plus anciennes' in sort_nav
    newest = page(client, "/?q=munitions&source=AFP&from=2023-04&to=2023-06&sort=newest")
    titles = re.findall(r'<h2 class="result-title" id="hit-\d+">(<time class="hit-date" datetime="([^"]+)">[^<]+</time>)', newest)
    assert titles and [d for _, d in titles] == sorted((d for _, d in titles), reverse=True)
    assert 'data-total="3"' in newest and "Source :</span> AFP" in newest
    # By relevance the date stays in the line under the title.
    assert 'class="hit-date"' not in page(client, "/?q=munitions")


def test_api_says_the_grain(client):
    body = client.get("/api/search?from=2023-05&to=2023-05").json
    assert body["date_grain"] == "day"
    assert {it["value"] for it in body["facets"]["dates"]} == {"2023-05-18", "2023-05-20"}
    assert client.get("/api/search").json["date_grain"] == "month"
