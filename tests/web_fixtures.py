"""The web tests' corpus and helpers: an indexed fixture corpus, apps, real servers, HTML checks.

Fixtures built on these live in conftest.py; test modules import helpers from here, never from
each other.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from search import indexing
from search.model import PARAGRAPH, Block, Segment

ROOT = Path(__file__).resolve().parent.parent

# Small French dispatches. Several mention "munitions" so facets and pagination have something
# to count; one is hostile (markup in every field); one has an id with a space and accents.
WEB_DISPATCHES = [
    {"id": "afp-001", "title": "Munitions : l'Otan veut reconstituer ses stocks", "date": "2023-06-14", "source": "AFP",
     "chapo": "Le secrétaire général de l'Otan, Jens Stoltenberg, a plaidé mercredi pour reconstituer les stocks de munitions.",
     "body": "Les ministres de la Défense se réunissent à Bruxelles.\n\nDes livraisons attendues\n\nLes livraisons d'obus à l'Ukraine seront au cœur des discussions.",
     "people": ["Jens Stoltenberg"], "places": ["Bruxelles", "Ukraine"], "url": "https://example.org/otan"},
    {"id": "afp-002", "title": "Kiev réclame davantage de munitions", "date": "2023-05-20", "source": "AFP",
     "chapo": "Le président ukrainien Volodymyr Zelensky a demandé de nouvelles livraisons de munitions d'artillerie.",
     "body": "Les combats se poursuivent dans l'est du pays, près de Bakhmout.",
     "people": ["Volodymyr Zelensky"], "places": ["Kiev", "Ukraine", "Bakhmout"]},
    {"id": "ats-003", "title": "Berne débat des exportations de munitions", "date": "2023-03-02", "source": "ATS",
     "chapo": "Le Parlement suisse s'est penché sur la réexportation de munitions vers l'Ukraine.",
     "body": "Alain Berset a rappelé la neutralité de la Suisse.",
     "people": ["Alain Berset"], "places": ["Berne", "Suisse", "Ukraine"]},
    {"id": "reu-004", "title": "La BCE relève encore ses taux directeurs", "date": "2023-02-10", "source": "Reuters",
     "chapo": "La Banque centrale européenne a relevé ses taux d'un demi-point pour lutter contre l'inflation.",
     "body": "Christine Lagarde a annoncé d'autres hausses à Francfort.",
     "people": ["Christine Lagarde"], "places": ["Francfort"]},
    {"id": "afp-005", "title": "Inondations meurtrières en Émilie-Romagne", "date": "2023-05-18", "source": "AFP",
     "chapo": "Des pluies diluviennes ont provoqué des inondations dans le nord de l'Italie.",
     "body": "Giorgia Meloni s'est rendue à Bologne.", "people": ["Giorgia Meloni"], "places": ["Italie", "Bologne"]},
    {"id": "ats-006", "title": "Le Conseil fédéral et l'aide à l'Ukraine", "date": "2023-01-25", "source": "ATS",
     "chapo": "Le gouvernement suisse a débloqué une aide humanitaire pour l'Ukraine.",
     "body": "Les armes et les munitions restent exclues, a précisé Alain Berset.",
     "people": ["Alain Berset"], "places": ["Ukraine", "Suisse"]},
    {"id": "afp-007", "title": "Une usine de munitions relance sa production à Bourges", "date": "2023-04-05", "source": "AFP",
     "chapo": "Emmanuel Macron a visité une usine d'obus de 155 mm.",
     "body": "La production de munitions doit doubler d'ici à la fin de l'année.",
     "people": ["Emmanuel Macron"], "places": ["Bourges", "France"]},
    {"id": "xss-008", "title": "<script>alert('titre')</script> Essai d'échappement des munitions", "date": "2023-04-12",
     "source": "Test & <b>Cie</b>", "section": "<i>essais</i>",
     "chapo": "Un texte avec <img src=x onerror=alert(1)> et des munitions.",
     "body": "Du balisage <a href=\"javascript:alert(2)\">piégé</a> dans le corps.",
     "people": ["<Personne> \"Piégée\""], "places": ["Lieu <svg onload=alert(3)>"], "url": "javascript:alert(4)"},
    {"id": "dépêche 9", "title": "Tour de France : étape à Bordeaux", "date": "2023-07-02", "source": "AFP",
     "chapo": "Le peloton a rallié Bordeaux sous la chaleur.", "body": "L'étape a été remportée au sprint.",
     "places": ["Bordeaux", "France"], "url": "https://example.org/tour"},
    {"id": "afp-010", "title": "Bilan de l'année en Ukraine", "date": "2022", "source": "AFP",
     "chapo": "Retour sur une année de guerre en Ukraine.", "body": "Les munitions ont manqué des deux côtés.",
     "places": ["Ukraine"]},
    {"id": "undated-011", "title": "Une dépêche sans date", "source": "ATS",
     "chapo": "Ce texte n'a pas de date connue.", "body": "Il parle de fromage et de montagnes."},
]

MUNITIONS_IDS = {d["id"] for d in WEB_DISPATCHES if "munitions" in json.dumps(d, ensure_ascii=False).lower()}


def write_corpus(folder: Path, records=WEB_DISPATCHES) -> Path:
    """Write records as a JSON Lines file in folder; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "web.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def build_index(root: Path, records=WEB_DISPATCHES) -> Path:
    """Build (or rebuild) an index of records in root, entities off; returns root."""
    corpus = write_corpus(root.parent / f"{root.name}-corpus-{time.monotonic_ns()}", records)
    indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
    return root


def make_app(index: Path, **extra):
    """An app on the given index directory, in testing mode."""
    from web import create_app

    return create_app({"INDEX": str(index), "TESTING": True, **extra})


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(base: str, path: str):
    """(status, decoded JSON) of a GET on a running server."""
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return r.status, json.loads(r.read())


@contextlib.contextmanager
def gunicorn_server(root: Path, logdir: Path, **env_extra):
    """Real gunicorn (gunicorn.conf.py) on a free loopback port serving ``root``; yields its base URL."""
    port = free_port()
    env = dict(os.environ, DEPECHE_INDEX=str(root), DEPECHE_BIND=f"127.0.0.1:{port}", DEPECHE_ACCESS_LOG="", **env_extra)
    base = f"http://127.0.0.1:{port}"
    with open(logdir / "gunicorn.log", "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "web:create_app()"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    get_json(base, "/healthz")
                    break
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


class _Tags(HTMLParser):
    """Collects (tag, attrs) of an HTML page, to check markup rules."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags(html: str) -> list[tuple[str, dict]]:
    """The start tags of a page with their attributes."""
    p = _Tags()
    p.feed(html)
    return p.tags


def assert_no_inline_code(html: str) -> None:
    """No inline scripts, handlers, styles or javascript: URLs: what the CSP would refuse anyway."""
    for tag, attrs in tags(html):
        assert tag != "style", "inline <style>"
        if tag == "script":
            assert attrs.get("src"), "inline <script>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name != "style", f"style attribute on <{tag}>"
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith("javascript:"), f"javascript: URL on <{tag}>"


def page(client, url: str, status: int = 200) -> str:
    """GET an HTML page, check status and content type; returns its text."""
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert_no_inline_code(html)
    return html




@contextlib.contextmanager
def serve_app(app):
    """Serve a Flask app with werkzeug on a free loopback port, in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(10)


CHROMIUM = "/usr/bin/chromium"
# No sandbox: tests may run as root in a container; the rest keeps Chromium off the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium); never downloaded"),
]


def raw_http(base: str, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to a loopback server, read the answer until it closes: (status, headers, body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# ---------------------------------------------------------------- agency items (issue 13), for a stub engine
# What the engine gives for NewsML-G2 / ninjs items, by its contract: hits with urgency, slugline,
# language and version; agency facets; documents with status, versions and agency metadata, or
# {"status": "withdrawn"} for a killed or withheld item.


def agency_hit(ident: str, *, urgency=None, slugline=None, language=None, version=None, title=None):
    from search.model import Hit

    title = title or f"Titre {ident}"
    return Hit(id=ident, title=title, title_segments=[Segment(title)], date="2023-06-14", source="AFP", url=None,
               snippet_segments=[Segment(f"Extrait de {ident}.")], score=1.0, urgency=urgency, slugline=slugline, language=language,
               version=version)


def agency_response(hits=None, facets=None, **fields):
    """A SearchResponse over an index holding agency items: all nine facets."""
    from search.model import FacetItem, SearchResponse

    if hits is None:
        hits = [
            agency_hit("flash-1", urgency=1, slugline="UKRAINE-CONFLIT", language="fr", version=3,
                       title="Explosion à Kiev"),
            agency_hit("urgent-2", urgency=2, slugline="SUISSE-VOTE", language="fr", version=1),
            agency_hit("en-4", urgency=4, slugline="NATO-SUMMIT", language="en", version=2,
                       title="Nato leaders meet in Vilnius"),
            agency_hit("plain", title="Une dépêche ordinaire"),
        ]
    if facets is None:
        facets = {
            "people": [], "places": [FacetItem("Ukraine", 2)], "sources": [FacetItem("AFP", 4)], "dates": [FacetItem("2023-06", 4)],
            "urgency": [FacetItem("1", 1), FacetItem("2", 1), FacetItem("4", 1)],
            "genre": [FacetItem("Actualité", 3)],
            "subjects": [FacetItem("conflit armé", 2), FacetItem("élection", 1)],
            "language": [FacetItem("fr", 2), FacetItem("en", 1)],
            "slugline": [FacetItem("UKRAINE-CONFLIT", 1), FacetItem("NATO-SUMMIT", 1)],
        }
    base = dict(query="", total=len(hits), page=1, per_page=10, took_ms=2.0, hits=hits, facets=facets)
    return SearchResponse(**{**base, **fields})


AGENCY_VERSIONS = [
    {"version": 1, "version_created": "2023-06-14T08:02:00+00:00", "pub_status": "usable",
     "title": "Explosion à Kiev", "changed": "première version"},
    {"version": 3, "version_created": "2023-06-14T09:45:00Z", "pub_status": "usable",
     "title": "Explosion à Kiev : au moins trois morts", "changed": "titre modifié, 1 paragraphe modifié, urgence 2 → 1"},
    {"version": 2, "version_created": "2023-06-14T08:30:00+00:00", "pub_status": "usable",
     "title": "Explosion à Kiev : des victimes", "changed": "titre modifié, 1 paragraphe ajouté"},
]

AGENCY_DOCUMENTS = {
    "flash-1": {
        "id": "flash-1", "title": "Explosion à Kiev : au moins trois morts", "title_segments": [Segment("Explosion à Kiev : au moins trois morts")],
        "title_derived": False, "lead": "Une explosion a secoué le centre de Kiev.", "lead_segments": [Segment("Une explosion a secoué le centre de Kiev.")],
        "body_blocks": [Block(PARAGRAPH, [Segment("Les secours sont sur place.")])], "date": "2023-06-14", "source": "AFP", "section": None, "url": None,
        "people": [], "places": ["Kiev"], "generation": 1,
        "status": "usable", "versions": AGENCY_VERSIONS, "urgency": 1, "genre": "Actualité", "slugline": "UKRAINE-CONFLIT",
        "subjects": ["conflit armé", "catastrophe"], "language": "fr", "embargo": None, "shown_version": 3,
    },
    "en-4": {
        "id": "en-4", "title": "Nato leaders meet in Vilnius", "title_segments": [Segment("Nato leaders meet in Vilnius")],
        "title_derived": False, "lead": "Leaders gathered on Tuesday.", "lead_segments": [Segment("Leaders gathered on Tuesday.")],
        "body_blocks": [Block(PARAGRAPH, [Segment("The summit opens.")])], "date": "2023-07-11", "source": "Reuters", "section": None, "url": None,
        "people": [], "places": [], "generation": 1,
        "status": "usable", "versions": [{"version": 1, "version_created": "2023-07-11T06:00:00+02:00", "pub_status": "usable",
                                          "title": "Nato leaders meet in Vilnius", "changed": "première version"}],
        "urgency": 4, "genre": None, "slugline": "NATO-SUMMIT", "subjects": [], "language": "en",
        "embargo": "2023-07-11T04:00:00Z", "shown_version": 1,
    },
    "killed-9": {
        "id": "killed-9", "status": "withdrawn", "pub_status": "canceled", "title": "Rumeur démentie",
        "withdrawn_at": "2023-06-15T11:30:00+00:00",
        "versions": [
            {"version": 1, "version_created": "2023-06-15T10:00:00+00:00", "pub_status": "usable", "title": "Rumeur démentie",
             "changed": "première version"},
            {"version": 2, "version_created": "2023-06-15T11:30:00+00:00", "pub_status": "canceled", "title": "Rumeur démentie",
             "changed": "retirée par l'agence"},
        ],
    },
}


# Earlier versions of flash-1 (?version=N), as the engine gives them from the version store.
AGENCY_EARLIER = {
    ("flash-1", 1): {**AGENCY_DOCUMENTS["flash-1"], "title": "Explosion à Kiev", "title_segments": [Segment("Explosion à Kiev")],
                     "lead": "Une explosion a été entendue à Kiev.", "lead_segments": [Segment("Une explosion a été entendue à Kiev.")],
                     "body_blocks": [Block(PARAGRAPH, [Segment("Premières informations.")])], "urgency": 2, "shown_version": 1},
    ("flash-1", 2): {**AGENCY_DOCUMENTS["flash-1"], "title": "Explosion à Kiev : des victimes",
                     "title_segments": [Segment("Explosion à Kiev : des victimes")],
                     "body_blocks": [Block(PARAGRAPH, [Segment("Les secours arrivent.")])],
                     "urgency": 2, "shown_version": 2},
}


def agency_document(doc_id: str, q: str = "", version: int | None = None) -> dict | None:
    """The stub engine's document(): by the engine's contract, a withdrawn item whatever the version."""
    doc = AGENCY_DOCUMENTS.get(doc_id)
    if doc is None or version is None or doc.get("status") == "withdrawn" or version == doc.get("shown_version"):
        return doc
    return AGENCY_EARLIER.get((doc_id, version))


def agency_stub(app, responses: list, seen: list | None = None):
    """Make the app's engine answer ``responses[0]`` to searches and AGENCY_DOCUMENTS to documents."""
    from web import ENGINE_KEY

    eng = app.extensions[ENGINE_KEY]
    seen = [] if seen is None else seen
    eng.search = lambda req: seen.append(req) or responses[0]
    eng.document = agency_document
    eng.related = lambda doc_id, k=5, **kw: [] if doc_id == "killed-9" else [agency_hit("en-4", language="en", title="Nato leaders meet in Vilnius")]
    return seen


# Agency records (JSON Lines with an "agency" object), added in arrival order by build_agency_index:
# a story in three versions, a story then its kill, an English item, and one under embargo until 2999.
def _item(guid, version, title, lead, body, created, **agency):
    return {"id": guid, "title": title, "chapo": lead, "body": body, "date": created[:10], "source": "AFP",
            "agency": {"version": version, "version_created": created, "first_created": "2024-03-01T08:00:00Z", **agency}}


_KIEV = dict(urgency=1, genre="Actualité", slugline="UKRAINE-EXPLOSION", language="fr",
             subjects=[["medtop:16000000", "conflit, guerre et paix"]])
AGENCY_BATCHES = [
    [
        _item("urn:newsml:afp:kiev", 1, "Explosion à Kiev", "Une forte explosion a retenti à Kiev.",
              "Les secours se rendent sur place.", "2024-03-01T08:00:00Z", **_KIEV),
        _item("urn:newsml:afp:rumeur", 1, "Démission annoncée du maire de Lyon", "Le maire de Lyon démissionnerait.",
              "La mairie ne confirme pas.", "2024-03-01T09:00:00Z", urgency=3, genre="Actualité", slugline="LYON-MAIRE",
              language="fr"),
        _item("urn:newsml:reu:nato", 1, "Nato ministers meet in Brussels", "Nato defence ministers met on Friday.",
              "They discussed ammunition stocks for Ukraine.", "2024-03-01T10:00:00Z", urgency=4, genre="Actualité",
              slugline="NATO-DEFENCE", language="en", subjects=[["medtop:11000000", "politique"]]),
        _item("urn:newsml:afp:embargo", 1, "Prix Nobel de la paix attribué", "Le prix Nobel de la paix a été attribué.",
              "Le comité Nobel a annoncé son choix.", "2024-03-01T11:00:00Z", urgency=2, language="fr",
              embargo="2999-01-01T00:00:00Z"),
    ],
    [
        _item("urn:newsml:afp:kiev", 2, "Explosion à Kiev : des victimes", "Une forte explosion a fait des victimes à Kiev.",
              "Les secours se rendent sur place.\n\nLe maire a appelé au calme.", "2024-03-01T08:30:00Z", **_KIEV),
        _item("urn:newsml:afp:rumeur", 2, "Démission annoncée du maire de Lyon", "Le maire de Lyon démissionnerait.",
              "La mairie ne confirme pas.", "2024-03-01T09:40:00Z", urgency=3, genre="Actualité", slugline="LYON-MAIRE",
              language="fr", pub_status="canceled"),
    ],
    [
        _item("urn:newsml:afp:kiev", 3, "Explosion à Kiev : au moins trois morts", "Une forte explosion a fait trois morts à Kiev.",
              "Les secours se rendent sur place.\n\nLe maire a appelé au calme.", "2024-03-01T09:45:00Z", **_KIEV),
    ],
]


def build_agency_index(root: Path) -> Path:
    """The web corpus, then the agency items added batch by batch (as an agency feed sends them)."""
    build_index(root)
    for i, batch in enumerate(AGENCY_BATCHES):
        folder = root.parent / f"{root.name}-agency-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "items.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in batch), encoding="utf-8")
        indexing.add([path], root, entities=False)
    return root
