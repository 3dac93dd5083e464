"""The web front end's HTML pages, configuration, security headers, and index refresh.

The fixture corpus and helpers are in web_helpers.py (JSON Lines records may carry people and
places, so facets are tested without the NER model); the fixtures in conftest.py.
"""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from search.model import SearchResponse
from corpus import WEB_DISPATCHES, build_index
from servers import ROOT, get_json, gunicorn_server
from web_helpers import make_app, page

# ---------------------------------------------------------------- configuration


def test_config_defaults_environment_then_mapping(monkeypatch, web_index):
    from web import config

    monkeypatch.delenv("DEPECHE_INDEX", raising=False)
    assert config.load()["INDEX"] == "index"
    monkeypatch.setenv("DEPECHE_INDEX", "/from/env")
    monkeypatch.setenv("DEPECHE_PER_PAGE", "25")
    settings = config.load()
    assert settings["INDEX"] == "/from/env" and settings["PER_PAGE"] == 25
    assert config.load({"INDEX": "/from/test"})["INDEX"] == "/from/test"
    monkeypatch.setenv("DEPECHE_PER_PAGE", "beaucoup")
    with pytest.raises(ValueError, match="DEPECHE_PER_PAGE"):
        config.load()


def test_app_uses_environment_index(monkeypatch, web_index):
    from web import create_app

    monkeypatch.setenv("DEPECHE_INDEX", str(web_index))
    app = create_app({"TESTING": True})
    assert app.config["INDEX"] == str(web_index)
    assert app.test_client().get("/healthz").status_code == 200


def test_never_debug_mode(web_app):
    assert web_app.debug is False
    r = web_app.test_client().get("/api/search?page=0")
    assert "Traceback" not in r.get_data(as_text=True)


def test_one_engine_per_app(web_app):
    from web import ENGINE_KEY

    engine = web_app.extensions[ENGINE_KEY]
    client = web_app.test_client()
    client.get("/?q=munitions")
    client.get("/api/search?q=munitions")
    assert web_app.extensions[ENGINE_KEY] is engine


def test_web_never_loads_spacy_and_search_never_imports_flask(web_index):
    code = (
        "import sys\n"
        "import search.engine, search.indexing, search.model\n"
        "assert 'flask' not in sys.modules, 'search imported flask'\n"
        "from web import create_app\n"
        f"app = create_app({{'INDEX': {str(web_index)!r}}})\n"
        "c = app.test_client()\n"
        "for url in ('/?q=munitions', '/api/search?q=munitions', '/doc/afp-001', '/api/suggest?q=mun', '/healthz'):\n"
        "    assert c.get(url).status_code == 200, url\n"
        "bad = [m for m in sys.modules if m == 'spacy' or m.startswith('spacy.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)
    # The library may use search.entities' cheap helpers; the web layer never names it.
    for path in (ROOT / "web").rglob("*.py"):
        imports = r"^\s*(?:from|import)\s+(?:search\.entities|spacy)\b|^\s*from\s+search\s+import\s+.*\bentities\b"
        assert not re.search(imports, path.read_text(), re.M), path


def test_gunicorn_conf(monkeypatch):
    def load():
        ns: dict = {}
        exec((ROOT / "gunicorn.conf.py").read_text(), ns)
        return ns

    monkeypatch.delenv("DEPECHE_BIND", raising=False)
    monkeypatch.delenv("DEPECHE_WORKERS", raising=False)
    conf = load()
    assert conf["bind"] == "127.0.0.1:8000" and conf["workers"] == 2 and conf["timeout"] > 2
    assert conf["worker_class"] == "web.serve.Worker"
    monkeypatch.setenv("DEPECHE_BIND", "127.0.0.1:9999")
    assert load()["bind"] == "127.0.0.1:9999"


# ---------------------------------------------------------------- search page


def test_home_page_has_search_box_and_landmarks(client):
    html = page(client, "/")
    assert '<html lang="fr">' in html
    assert re.search(r'<input[^>]*id="q"[^>]*autofocus', html)
    assert '<label for="q"' in html
    assert 'role="search"' in html and "<main" in html and "<header" in html
    assert 'name="viewport"' in html
    assert 'class="skip-link" href="#contenu"' in html


def test_search_results_highlighted_with_count_time_and_facets(client):
    html = page(client, "/?q=munitions")
    assert 'value="munitions"' in html  # the box keeps the query
    assert "<mark>" in html
    total = int(re.search(r'id="result-count" data-total="(\d+)"', html).group(1))
    assert total >= 5
    assert re.search(r"\d+ ms\)", html)
    for heading in ("Personnes", "Lieux", "Sources"):
        assert heading in html
    assert 'href="/doc/afp-001?q=munitions"' in html
    assert "14 juin 2023" in html  # French dates


def test_facet_links_toggle_and_chips_remove(client):
    html = page(client, "/?q=munitions")
    link = re.search(r'<a class="facet-item" href="([^"]*place=Ukraine[^"]*)"[^>]*data-count="(\d+)"', html)
    assert link, "no place facet link for Ukraine"
    url, count = link.group(1).replace("&amp;", "&"), int(link.group(2))
    filtered = page(client, url)
    assert f'data-total="{count}"' in filtered
    assert 'class="facet-item is-selected"' in filtered
    chip = re.search(r'<a class="chip" href="([^"]*)"><span class="chip-label">Lieu :</span> Ukraine', filtered)
    assert chip, "selected place not shown as a removable chip"
    back = page(client, chip.group(1).replace("&amp;", "&"))
    assert 'class="chip"' not in back
    assert f'data-total="{count}"' not in back or count == int(re.search(r'data-total="(\d+)"', back).group(1))


def test_more_expands_to_fifty_and_filter_box(web_index, tmp_path):
    # 30 people in one dispatch each: more than the 10 shown, fewer than the 50 behind "plus".
    records = [
        {"id": f"p{i:02d}", "title": f"Dépêche {i}", "chapo": "Un sommet sur les munitions.", "body": "Texte.",
         "date": "2023-01-01", "source": "AFP", "people": [f"Personne {i:02d}"]}
        for i in range(30)
    ]
    app = make_app(build_index(tmp_path / "index", records))
    html = page(app.test_client(), "/?q=munitions")
    people = html.split('data-facet="people"')[1].split("</section>")[0]
    assert people.count('class="facet-item"') == 30
    assert '<details class="facet-more">' in people and "(20)" in people
    assert 'class="facet-filter"' in people and 'class="facet-filter-box" hidden' in people


def test_histogram_bars_filter_by_month(client):
    html = page(client, "/?q=munitions")
    svg = re.search(r'<ol class="histogram-chart".*?</ol>', html, re.S)
    assert svg, "no month histogram"
    bars = re.findall(r'<a class="histogram-link[^"]*" href="([^"]+)" title="[^"]*" aria-label="([^"]+)"', svg.group(0))
    assert bars
    url, label = next((u, l) for u, l in bars if "mai 2023" in l)
    url = url.replace("&amp;", "&")
    assert "from=2023-05" in url and "to=2023-05" in url
    n = int(re.search(r": (\d+) dépêche", label).group(1))
    month = page(client, url)
    assert f'data-total="{n}"' in month
    assert "Période :</span> mai 2023" in month


def test_sort_links_and_order(client):
    html = page(client, "/?q=munitions&sort=newest")
    assert re.search(r'aria-current="true" class="is-current">Plus récentes<', html)
    # Sorted by date, each hit opens with its date (tests/test_web_dates.py).
    dates = re.findall(r'<time class="hit-date" datetime="([^"]+)"', html.split('class="results by-date"')[1])
    assert dates and dates == sorted(dates, reverse=True)
    assert 'href="/?q=munitions&amp;sort=oldest"' in html
    assert 'href="/?q=munitions"' in html  # relevance is the default: no sort parameter


def test_pagination(client):
    html = page(client, "/?q=munitions&per_page=2")
    assert 'aria-label="Pages de résultats"' in html
    assert 'rel="next"' in html and 'aria-current="page"' in html
    second = page(client, "/?q=munitions&per_page=2&page=2")
    assert 'rel="prev"' in second
    assert re.search(r'<ol class="results" start="3">', second)


def test_empty_state_gives_tips(client):
    html = page(client, "/?q=zzzqqxyzzy")
    assert "Aucune dépêche ne correspond à « zzzqqxyzzy »" in html
    assert 'class="tips"' in html
    filtered = page(client, "/?q=zzzqqxyzzy&source=AFP")
    assert "Chercher sans les filtres" in filtered


def test_did_you_mean_notice_and_partial_are_shown(web_index, monkeypatch):
    from web import ENGINE_KEY

    app = make_app(web_index)
    canned = SearchResponse(
        query="munitoins", total=0, page=1, per_page=10, took_ms=1.5, hits=[],
        facets={"people": [], "places": [], "sources": [], "dates": []},
        corrected_query="munitions", notice="Requête mal formée : cherchée comme des mots simples.", partial=True,
    )
    monkeypatch.setattr(app.extensions[ENGINE_KEY], "search", lambda req: canned)
    html = page(app.test_client(), "/?q=munitoins&source=AFP")
    assert 'Vouliez-vous dire <a href="/?q=munitions&amp;source=AFP">«&nbsp;munitions&nbsp;»</a>' in html
    assert "Requête mal formée" in html
    assert "résultats peuvent être incomplets" in html


def test_everything_is_escaped(client):
    html = page(client, "/?q=%3Cscript%3Ealert(1)%3C/script%3E+munitions")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hostile = page(client, "/?q=%C3%A9chappement")
    assert "<script>alert('titre')" not in hostile and "&lt;script&gt;" in hostile
    assert "<b>Cie</b>" not in hostile
    doc = page(client, "/doc/xss-008?q=munitions")
    for raw in ("<script>alert", "<img src=x", "<a href=\"javascript", "<svg onload", "<i>essais</i>", "<Personne>"):
        assert raw not in doc, raw
    assert "javascript:alert(4)" not in doc  # a javascript: source URL is not turned into a link


def test_segments_render_as_escaped_text_and_marks_only():
    from search.model import PARAGRAPH, SUBHEAD, Block, Segment
    from web.present import body_html, marked

    assert marked([Segment("a "), Segment("b", True), Segment(" & c")]) == "a <mark>b</mark> &amp; c"
    assert marked([Segment("x", True), Segment("<script>alert(1)</script>")]) == "<mark>x</mark>&lt;script&gt;alert(1)&lt;/script&gt;"
    assert marked([Segment("<b>gras</b> l'eau \"&amp;\"")]) == "&lt;b&gt;gras&lt;/b&gt; l&#x27;eau &quot;&amp;amp;&quot;"
    assert marked([Segment("</mark><img src=x onerror=alert(1)>", True)]) == "<mark>&lt;/mark&gt;&lt;img src=x onerror=alert(1)&gt;</mark>"
    assert marked([]) == marked(None) == ""
    assert body_html([Block(PARAGRAPH, [Segment("a "), Segment("b", True)]), Block(SUBHEAD, [Segment("T")])]) == \
        '<p>a <mark>b</mark></p>\n<h3 class="subhead">T</h3>'
    assert body_html([Block(PARAGRAPH, [Segment('<p onclick="x">a</p><h3 class="evil">')])]) == \
        "<p>&lt;p onclick=&quot;x&quot;&gt;a&lt;/p&gt;&lt;h3 class=&quot;evil&quot;&gt;</p>"


# ---------------------------------------------------------------- dispatch page


def test_document_page(client):
    html = page(client, "/doc/afp-001?q=munitions")
    assert "<mark>" in html
    assert "<p>Les ministres de la Défense se réunissent à Bruxelles.</p>" in html
    assert "<p>Des livraisons attendues</p>" in html
    assert "&lt;p&gt;" not in html and "&amp;#" not in html
    assert "Jens Stoltenberg" in html and "reconstituer" in html
    assert 'href="/?person=Jens+Stoltenberg"' in html
    assert 'href="/?place=Bruxelles"' in html
    assert "Dépêches proches" in html
    related = re.findall(r'<li>\s*<a href="/doc/([^"?]+)"', html.split('class="related-list"')[1])
    assert 1 <= len(related) <= 5 and "afp-001" not in related
    assert 'href="https://example.org/otan"' in html
    assert "Retour aux résultats" in html


def test_document_page_without_query_has_no_marks(client):
    html = page(client, "/doc/afp-001")
    assert "<mark>" not in html.split('class="related"')[0]


def test_document_id_with_space_and_accents(client):
    html = page(client, "/?q=Bordeaux")
    assert 'href="/doc/d%C3%A9p%C3%AAche%209?q=Bordeaux"' in html
    doc = page(client, "/doc/d%C3%A9p%C3%AAche%209")
    assert "Tour de France" in doc


@pytest.mark.parametrize("path", ["/doc/nope", "/doc/..", "/doc/%2e%2e%2fetc%2fpasswd", "/doc/..%2F..%2Fetc%2Fpasswd",
                                  "/doc/%00", "/doc/" + "x" * 300, "/doc/a%5Cb"])
def test_unknown_or_hostile_document_ids_are_404_pages(client, path):
    html = page(client, path, 404)
    assert "Revenir à la recherche" in html
    assert "root:" not in html


def test_unknown_page_and_method_are_html(client):
    assert "Page introuvable" in page(client, "/nulle-part", 404)
    r = client.post("/")
    assert r.status_code == 405 and r.mimetype == "text/html"


def test_invalid_parameters_on_the_page_are_400_pages(client):
    for url in ("/?page=0", "/?page=abc", "/?from=2023-13", "/?sort=pertinence", "/?q=" + "a" * 2000, "/?page=1&page=2"):
        html = page(client, url, 400)
        assert "Requête invalide" in html


# ---------------------------------------------------------------- security headers


@pytest.mark.parametrize("url", ["/", "/?q=munitions", "/doc/afp-001", "/doc/nope", "/api/search?q=x",
                                 "/api/search?page=0", "/api/nope", "/healthz", "/api/openapi.json"])
def test_security_headers_everywhere(client, url):
    r = client.get(url)
    csp = r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]


def test_static_files_are_served_with_headers_and_cache(client):
    html = page(client, "/")
    css = re.search(r'href="(/static/style\.css\?v=[0-9a-f]+)"', html).group(1)
    js = re.search(r'src="(/static/app\.js\?v=[0-9a-f]+)"', html).group(1)
    for url in (css, js):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age" in r.headers.get("Cache-Control", "")


# ---------------------------------------------------------------- missing index


def test_missing_index(tmp_path):
    client = make_app(tmp_path / "no-index").test_client()
    r = client.get("/api/search?q=munitions")
    assert r.status_code == 503 and r.json["error"]["code"] == "index_missing"
    assert r.headers["Retry-After"]
    assert client.get("/healthz").status_code == 503
    html = page(client, "/?q=munitions", 503)
    assert "Recherche indisponible" in html and str(tmp_path) not in html
    page(client, "/doc/afp-001", 503)


def test_index_appearing_later_is_served(tmp_path):
    client = make_app(tmp_path / "index").test_client()
    assert client.get("/api/search?q=munitions").status_code == 503
    build_index(tmp_path / "index", WEB_DISPATCHES)
    r = client.get("/api/search?q=munitions")
    assert r.status_code == 200 and r.json["total"] >= 5


# ---------------------------------------------------------------- new generations, no restart


def test_rebuild_is_served_from_the_next_request(tmp_path):
    root = build_index(tmp_path / "index", WEB_DISPATCHES[:3])
    client = make_app(root).test_client()
    first = client.get("/healthz").json
    assert client.get("/api/search?q=Bordeaux").json["total"] == 0
    build_index(root, WEB_DISPATCHES)
    second = client.get("/healthz").json
    assert second["generation"] > first["generation"] and second["documents"] == len(WEB_DISPATCHES)
    r = client.get("/api/search?q=Bordeaux")
    assert r.json["total"] == 1 and r.json["generation"] == second["generation"]
    assert client.get("/doc/d%C3%A9p%C3%AAche%209").status_code == 200


def test_no_failed_request_while_rebuilding(tmp_path):
    root = build_index(tmp_path / "index", WEB_DISPATCHES)
    app = make_app(root)
    failures: list = []
    statuses: list[int] = []
    stop = threading.Event()

    def hammer():
        c = app.test_client()
        urls = ["/api/search?q=munitions", "/?q=munitions&place=Ukraine", "/doc/afp-001?q=munitions", "/api/suggest?q=mun"]
        i = 0
        while not stop.is_set():
            url = urls[i % len(urls)]
            i += 1
            try:
                r = c.get(url)
                statuses.append(r.status_code)
                if r.status_code != 200:
                    failures.append((url, r.status_code, r.get_data(as_text=True)[:200]))
            except Exception as e:  # noqa: BLE001 - any exception is a failed request
                failures.append((url, repr(e)))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(4):
            build_index(root, WEB_DISPATCHES)
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures, failures[:5]
    assert len(statuses) > 20


@pytest.mark.slow
def test_gunicorn_workers_follow_a_rebuild(tmp_path):
    """Real gunicorn, 2 workers: a rebuild is served without restart and without a failed request."""
    root = build_index(tmp_path / "index", WEB_DISPATCHES[:3])
    with gunicorn_server(root, tmp_path) as base:

        def get(path):
            return get_json(base, path)

        generations = set()
        for _ in range(8):  # enough requests to reach both workers
            status, body = get("/healthz")
            assert status == 200
            generations.add(body["generation"])
        assert len(generations) == 1
        build_index(root, WEB_DISPATCHES)
        seen = []
        for _ in range(8):
            status, body = get("/api/search?q=Bordeaux")
            assert status == 200
            seen.append((body["generation"], body["total"]))
        assert all(g > max(generations) and total == 1 for g, total in seen), seen


def test_the_icon_answers_at_its_old_fixed_name(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200
    assert resp.mimetype == "image/svg+xml"
    assert resp.data.lstrip().startswith(b"<svg")
