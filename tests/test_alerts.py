"""Saved searches and alerts (issue 12 §3): the store, matching only what an add brings, the CLI,
the API (checked against its OpenAPI description), the feed of an alert and webhook delivery."""
from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import alerts, indexing
from search.cli import main

ROOT = Path(__file__).resolve().parent.parent
AGENCY = ROOT / "tests" / "data" / "agency" / "ninjs"
LYON_GUID = "depeche.example:ninjs:2023:06:incendie-ecole-lyon"


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


NEW = [
    {"id": "n-muni", "title": "Nouvelles livraisons de munitions", "date": "2023-07-01", "source": "AFP",
     "chapo": "Des munitions d'artillerie partent vers l'Ukraine.", "body": "Les stocks de munitions baissent."},
    {"id": "n-autre", "title": "La BCE garde ses taux", "date": "2023-07-02", "source": "Reuters",
     "chapo": "La Banque centrale européenne ne bouge pas.", "body": "Christine Lagarde s'est exprimée."},
]


def add(root: Path, tmp_path: Path, records: list[dict], name: str = "new.jsonl") -> indexing.BuildReport:
    return indexing.add([write_jsonl(tmp_path / name, records)], root, entities=False)


# ---------------------------------------------------------------- the store and matching


def test_store_create_list_delete_and_refusals(tmp_path):
    store = alerts.AlertStore(tmp_path / "ix")
    assert store.list() == [] and not store.exists()  # reading creates nothing
    a = store.create("défense-ue", {"q": "  munitions\t Otan ", "place": ["Ukraine", "Ukraine"]}, "https://hooks.example/x")
    assert a.request == {"q": "munitions Otan", "person": [], "place": ["Ukraine"], "source": [], "urgency": [],
                         "genre": [], "subject": [], "language": [], "slugline": [], "not_person": [], "not_place": [],
                         "not_source": [], "from": None, "to": None}
    assert [x.name for x in store.list()] == ["défense-ue"]
    with pytest.raises(alerts.AlertExists) as e:
        store.create("défense-ue", {"q": "x"})
    assert e.value.code == "alert_exists" and e.value.status == 409
    for name, request, hook, code in [
        ("a b", {"q": "x"}, None, "bad_alert_name"), ("", {"q": "x"}, None, "bad_alert_name"),
        ("-x", {"q": "x"}, None, "bad_alert_name"), ("x" * 65, {"q": "x"}, None, "bad_alert_name"),
        ("ok", {"q": "x"}, "ftp://a/b", "bad_webhook"), ("ok", {"q": "x"}, "file:///etc/passwd", "bad_webhook"),
        ("ok", {"q": "x"}, "http://", "bad_webhook"), ("ok", {"q": "x"}, "http://a b", "bad_webhook"),
        ("ok", {"q": "x", "from": "2023-02-30"}, None, "bad_date"), ("ok", {"q": "x", "lieu": ["a"]}, None, "bad_alert"),
        ("ok", {"q": "x" * 1001}, None, "query_too_long"), ("ok", {"person": "Macron"}, None, "bad_filter"),
        ("ok", {"urgency": ["10"]}, None, "bad_filter"), ("ok", {"q": None}, None, "bad_query"),
    ]:
        with pytest.raises(alerts.AlertError) as e:
            store.create(name, request, hook)
        assert e.value.code == code and e.value.status == 400, (name, request, hook)
    store.delete("défense-ue")
    assert store.list() == []
    with pytest.raises(alerts.AlertNotFound):
        store.delete("défense-ue")


def test_an_add_alerts_only_on_the_new_dispatches(built_index, tmp_path):
    store = alerts.AlertStore(built_index)
    store.create("munitions", {"q": "munitions"})  # ats_otan, already indexed, has the word
    store.create("afp", {"source": ["AFP"]})
    store.create("rien", {"q": "pangolin"})
    report = add(built_index, tmp_path, NEW)
    assert sorted(report.ids) == ["n-autre", "n-muni"]
    found = alerts.run(built_index, report.ids, spawn=False)
    assert found == {"afp": ["n-muni"], "munitions": ["n-muni"]}
    assert store.matches("munitions") and [d for d, _ in store.matches("munitions")] == ["n-muni"]
    # The same batch again (the watcher's on_batch is at least once): nothing new, nothing twice.
    assert alerts.run(built_index, report.ids, spawn=False) == {}
    assert {a.name: a.matches for a in store.list()} == {"afp": 1, "munitions": 1, "rien": 0}


GREVES = [
    {"id": "g-paris", "title": "Grève du métro à Paris", "date": "2023-07-03", "source": "AFP", "places": ["Paris"],
     "chapo": "Une grève perturbe le métro.", "body": "La RATP prévoit un trafic perturbé."},
    {"id": "g-lyon", "title": "Grève des trams à Lyon", "date": "2023-07-04", "source": "AFP", "places": ["Lyon"],
     "chapo": "Une grève touche les trams.", "body": "Les TCL annoncent un service minimum."},
    {"id": "g-ats", "title": "Grève à Genève", "date": "2023-07-05", "source": "ATS", "places": ["Genève"],
     "chapo": "Une grève des transports publics.", "body": "Les TPG sont à l'arrêt."},
]


def test_a_saved_search_keeps_its_exclusions(built_index, tmp_path):
    """« Grève, sauf Paris » as the page or the API says it (not_place), from the CLI (--sauf-lieu) or the API."""
    from web_helpers import make_app

    feedparser = pytest.importorskip("feedparser")
    r = cli("--index", str(built_index), "alerte", "creer", "greves", "grève", "--sauf-lieu", "Paris", "--sauf-source", "ATS")
    assert r.exit_code == 0 and r.output == "alerte « greves » créée : « grève », lieu : sauf Paris, source : sauf ATS\n"
    c = make_app(built_index).test_client()
    r = c.post("/api/alerts", json={"name": "greves-api", "q": "grève", "not_place": ["paris"]})
    assert r.status_code == 201 and r.json["not_place"] == ["paris"] and r.json["not_person"] == []
    _validate("/api/alerts", "post", 201, r)
    found = alerts.run(built_index, add(built_index, tmp_path, GREVES).ids, spawn=False)
    assert found == {"greves": ["g-lyon"], "greves-api": ["g-ats", "g-lyon"]}
    # The feed's page link is the same search, exclusions included.
    parsed = feedparser.parse(c.get("/alerts/greves/feed.atom").data)
    assert [e.id.rsplit("/doc/", 1)[1] for e in parsed.entries] == ["g-lyon"]
    page = next(link.href for link in parsed.feed.links if link.rel == "alternate")
    assert "not_place=Paris" in page and "not_source=ATS" in page
    # Matched by one run: the newest dispatch first, as in a search feed.
    parsed = feedparser.parse(c.get("/alerts/greves-api/feed.atom").data)
    assert [e.id.rsplit("/doc/", 1)[1] for e in parsed.entries] == ["g-ats", "g-lyon"]
    r = c.post("/api/alerts", json={"name": "x", "q": "grève", "not_place": "Paris"})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_filter"


def test_partial_matches_do_not_alert(built_index, tmp_path):
    """A dispatch with only some of the words is not a match, even when the archive falls back to partial results."""
    alerts.AlertStore(built_index).create("deux", {"q": "munitions pangolin"})
    report = add(built_index, tmp_path, NEW)
    assert alerts.run(built_index, report.ids, spawn=False) == {}


def test_a_killed_item_never_alerts(built_index, tmp_path):
    alerts.AlertStore(built_index).create("lyon", {"q": "incendie école"})
    src = tmp_path / "ninjs"
    src.mkdir()
    for name in ("ninjs1-v1.json", "ninjs1-v2-canceled.json"):
        shutil.copy(AGENCY / name, src / name)
    report = indexing.add([src], built_index, entities=False)
    assert report.withdrawn == 1 and report.ids == []
    # Even told about the guid (as a watch batch lists every id it read), the engine does not see it.
    assert alerts.run(built_index, [LYON_GUID, *report.ids], spawn=False) == {}
    # The usable version alone does alert.
    only_v1 = tmp_path / "v1"
    only_v1.mkdir()
    shutil.copy(AGENCY / "ninjs1-v1.json", only_v1 / "v1.json")
    root2 = tmp_path / "ix2"
    indexing.rebuild([tmp_path / "corpus"], root2, entities=False, procs=1, progress=False)
    alerts.AlertStore(root2).create("lyon", {"q": "incendie école"})
    report = indexing.add([only_v1], root2, entities=False)
    assert alerts.run(root2, report.ids, spawn=False) == {"lyon": [LYON_GUID]}


def test_watch_batches_alert_through_on_batch(built_index, tmp_path):
    from search import watch

    alerts.AlertStore(built_index).create("munitions", {"q": "munitions"})
    folder = tmp_path / "depot"
    folder.mkdir()
    write_jsonl(folder / "lot.jsonl", NEW)
    said = []
    w = watch.Watcher(folder, built_index, entities=False, settle=0, use_events=False, say=said.append,
                      on_batch=alerts.on_batch(built_index, say=said.append))
    w.run(once=True)
    assert "alerte « munitions » : 1 nouvelle dépêche" in said
    assert [d for d, _ in alerts.AlertStore(built_index).matches("munitions")] == ["n-muni"]


# ---------------------------------------------------------------- CLI


def test_cli_create_list_delete_and_add(built_index, tmp_path):
    ix = str(built_index)
    r = cli("--index", ix, "alerte", "creer", "ukraine", "munitions", "--lieu", "Ukraine", "--source", "AFP")
    assert r.exit_code == 0 and r.output == "alerte « ukraine » créée : « munitions », lieu : Ukraine, source : AFP\n"
    r = cli("--index", ix, "alerte", "creer", "ukraine", "autre")
    assert r.exit_code == 1 and r.output == "depeche: une alerte nommée « ukraine » existe déjà\n"
    r = cli("--index", ix, "alerte", "creer", "hook", "munitions", "--webhook", "ftp://x")
    assert r.exit_code == 1 and r.output.startswith("depeche: le webhook doit être une adresse http:// ou https://")
    r = cli("--index", ix, "alerte", "creer", "tout-afp", "--source", "AFP")
    assert r.exit_code == 0
    r = cli("--index", ix, "alerte", "liste")
    assert r.exit_code == 0
    assert r.output.splitlines()[0].startswith("tout-afp : source : AFP ; 0 dépêche trouvée ; créée le ")
    assert r.output.splitlines()[1].startswith("ukraine : « munitions », lieu : Ukraine, source : AFP ; 0 dépêche trouvée")
    r = cli("--index", ix, "index", "add", "--no-entities", str(write_jsonl(tmp_path / "n.jsonl", NEW)))
    assert r.exit_code == 0 and r.output.splitlines()[1:] == ["alerte « tout-afp » : 1 nouvelle dépêche"]
    assert json.loads(cli("--index", ix, "alerte", "liste", "--json").output)[0]["matches"] == 1
    r = cli("--index", ix, "alerte", "supprimer", "ukraine")
    assert r.exit_code == 0 and r.output == "alerte « ukraine » supprimée\n"
    r = cli("--index", ix, "alerte", "supprimer", "ukraine")
    assert r.exit_code == 1 and r.output == "depeche: aucune alerte nommée « ukraine »\n"


# ---------------------------------------------------------------- API and feed


def _validate(path: str, method: str, status: int, r) -> None:
    import jsonschema_rs

    from web.openapi import spec

    responses = spec()["paths"][path][method]["responses"]
    assert str(status) in responses, (path, method, status)
    content = responses[str(status)].get("content")
    if content is None:
        assert r.data == b""
        return
    schema = content[r.mimetype]["schema"]
    if r.mimetype == "application/json":
        v = jsonschema_rs.validator_for({**schema, "components": spec()["components"]})
        assert not [e.message for e in v.iter_errors(r.json)]


def test_api_create_list_get_delete(built_index):
    from web_helpers import make_app

    c = make_app(built_index).test_client()
    r = c.get("/api/alerts")
    assert r.status_code == 200 and r.json == {"alerts": []}
    _validate("/api/alerts", "get", 200, r)
    body = {"name": "otan", "q": "munitions", "place": ["Vilnius"], "webhook": "http://127.0.0.1:9/hook"}
    r = c.post("/api/alerts", json=body)
    assert r.status_code == 201, r.json
    _validate("/api/alerts", "post", 201, r)
    assert r.headers["Location"] == "/api/alerts/otan"
    assert r.json["feed_url"] == "http://localhost/alerts/otan/feed.atom" and r.json["place"] == ["Vilnius"]
    for payload, status, code in [
        (body, 409, "alert_exists"), ({"name": "x y", "q": "a"}, 400, "bad_alert_name"),
        ({"name": "x", "q": "a", "webhook": "javascript:alert(1)"}, 400, "bad_webhook"),
        ({"name": "x", "q": "a", "mots": "b"}, 400, "bad_alert"), ({"name": "x", "from": "2023-13"}, 400, "bad_date"),
        ({"name": "x", "from": "2023-06", "to": "2023-01"}, 400, "bad_date"), ([1, 2], 400, "bad_json"),
    ]:
        r = c.post("/api/alerts", json=payload)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), (payload, r.json)
        _validate("/api/alerts", "post", status, r)
    r = c.post("/api/alerts", data="name=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_json"
    r = c.post("/api/alerts", data=json.dumps({"name": "x", "q": "a" * 70000}), content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large"
    r = c.get("/api/alerts/otan")
    assert r.status_code == 200 and r.json["name"] == "otan" and r.json["matches"] == 0
    _validate("/api/alerts/{name}", "get", 200, r)
    assert c.get("/api/alerts").json["alerts"][0]["name"] == "otan"
    r = c.options("/api/alerts")
    assert set(r.allow) >= {"GET", "POST"}
    r = c.delete("/api/alerts/otan")
    assert r.status_code == 204 and r.data == b""
    r = c.delete("/api/alerts/otan")
    assert r.status_code == 404 and r.json["error"]["code"] == "alert_not_found"
    _validate("/api/alerts/{name}", "delete", 404, r)
    assert c.get("/api/alerts/a%20b").status_code == 400


def test_feed_of_an_alert(built_index, tmp_path):
    feedparser = pytest.importorskip("feedparser")
    from web_helpers import make_app

    store = alerts.AlertStore(built_index)
    store.create("munitions", {"q": "munitions"})
    alerts.run(built_index, add(built_index, tmp_path, NEW[:1], "a.jsonl").ids, spawn=False)
    time.sleep(1.1)  # matched_at has one-second precision: the second batch is newer
    later = [{"id": "n-muni2", "title": "Encore des munitions", "date": "2020-01-01", "source": "ATS",
              "chapo": "Une usine de munitions ouvre.", "body": "Elle produira des obus."}]
    alerts.run(built_index, add(built_index, tmp_path, later, "b.jsonl").ids, spawn=False)
    c = make_app(built_index).test_client()
    r = c.get("/alerts/munitions/feed.atom")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    parsed = feedparser.parse(r.data)
    assert not parsed.bozo and parsed.version == "atom10"
    assert parsed.feed.title == "Dépêche — alerte « munitions »"
    # Newest match first, even though its dispatch is older; ats_otan (in the archive before) is absent.
    assert [e.id.rsplit("/doc/", 1)[1] for e in parsed.entries] == ["n-muni2", "n-muni"]
    assert parsed.entries[1].published.startswith("2023-07-01")
    assert c.get("/alerts/absente/feed.atom").status_code == 404
    assert c.get("/alerts/a%20b/feed.atom").status_code == 400
    # A dispatch deleted since leaves the feed.
    indexing.delete(["n-muni"], built_index)
    parsed = feedparser.parse(c.get("/alerts/munitions/feed.atom").data)
    assert [e.id.rsplit("/doc/", 1)[1] for e in parsed.entries] == ["n-muni2"]


# ---------------------------------------------------------------- webhooks


class Receiver:
    """A local HTTP receiver answering the statuses given in turn (then 200), recording every body."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(json.loads(body))
                outer.headers.append(dict(self.headers))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        r = Receiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


FAST = {"backoff": (0.01, 0.05), "timeout": 5.0}


def test_webhook_delivered(built_index, tmp_path, receiver):
    rec = receiver()
    alerts.AlertStore(built_index).create("munitions", {"q": "munitions"}, rec.url)
    alerts.run(built_index, add(built_index, tmp_path, NEW).ids, spawn=False)
    report = alerts.deliver(built_index, **FAST)
    assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
    (body,) = rec.bodies
    assert body["alert"] == "munitions" and body["request"]["q"] == "munitions"
    assert [m["id"] for m in body["matches"]] == ["n-muni"] and body["matches"][0]["title"] == NEW[0]["title"]
    assert rec.headers[0]["Content-Type"].startswith("application/json") and rec.headers[0]["X-Depeche-Delivery"]
    (row,) = alerts.AlertStore(built_index).deliveries()
    assert (row["state"], row["attempts"]) == ("delivered", 1)


def test_webhook_retried_after_a_500(built_index, tmp_path, receiver):
    rec = receiver([500])
    alerts.AlertStore(built_index).create("munitions", {"q": "munitions"}, rec.url)
    alerts.run(built_index, add(built_index, tmp_path, NEW).ids, spawn=False)
    report = alerts.deliver(built_index, **FAST)
    assert (report.delivered, report.retried, report.failed) == (1, 1, 0)
    assert len(rec.bodies) == 2 and rec.bodies[0] == rec.bodies[1]
    (row,) = alerts.AlertStore(built_index).deliveries()
    assert (row["state"], row["attempts"]) == ("delivered", 2)


def test_webhook_receiver_down_gives_up_and_records_it(built_index, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    alerts.AlertStore(built_index).create("munitions", {"q": "munitions"}, f"http://127.0.0.1:{port}/hook")
    alerts.run(built_index, add(built_index, tmp_path, NEW).ids, spawn=False)
    t0 = time.monotonic()
    report = alerts.deliver(built_index, max_attempts=3, **FAST)
    assert time.monotonic() - t0 < 10
    assert (report.delivered, report.retried, report.failed) == (0, 2, 1)
    (row,) = alerts.AlertStore(built_index).deliveries()
    assert row["state"] == "failed" and row["attempts"] == 3 and "refused" in row["last_error"].lower()
    r = cli("--index", str(built_index), "alerte", "liste")
    assert "0 envoi réussi, 0 en attente, 1 abandonné" in r.output


def test_pending_delivery_survives_and_is_sent_by_the_next_run(built_index, tmp_path, receiver):
    rec = receiver()
    alerts.AlertStore(built_index).create("munitions", {"q": "munitions"}, rec.url)
    alerts.run(built_index, add(built_index, tmp_path, NEW).ids, spawn=False)  # as if the worker died at once
    assert alerts.AlertStore(built_index).pending_count() == 1 and rec.bodies == []
    r = cli("--index", str(built_index), "alerte", "envoyer")
    assert r.exit_code == 0 and r.output == "1 envoi réussi, 0 nouvelle tentative, 0 envoi abandonné\n"
    assert len(rec.bodies) == 1


def test_index_add_returns_at_once_and_a_detached_worker_delivers(built_index, tmp_path, receiver):
    rec = receiver()
    cli("--index", str(built_index), "alerte", "creer", "munitions", "munitions", "--webhook", rec.url)
    t0 = time.monotonic()
    r = cli("--index", str(built_index), "index", "add", "--no-entities", str(write_jsonl(tmp_path / "n.jsonl", NEW)))
    assert r.exit_code == 0 and "alerte « munitions » : 1 nouvelle dépêche" in r.output
    assert time.monotonic() - t0 < 10
    deadline = time.monotonic() + 20
    while not rec.bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["id"] for m in rec.bodies[0]["matches"]] == ["n-muni"]
    deadline = time.monotonic() + 10
    while alerts.AlertStore(built_index).pending_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [row["state"] for row in alerts.AlertStore(built_index).deliveries()] == ["delivered"]
