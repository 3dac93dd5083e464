"""ninjs items (tests/data/agency/ninjs, written for these tests): 1.x and 2.x field names, HTML
bodies, French subject names, kills, withheld, embargoes, arrays, rejections, and how a .json file
is told apart from JSON Lines."""
from __future__ import annotations

import json
from pathlib import Path

from search.documents import Dispatch, Rejection, count_records, read_path, read_sources
from search.ninjs import is_ninjs

NINJS = Path(__file__).resolve().parent / "data" / "agency" / "ninjs"
LYON = "https://depeche.example/ninjs/2023/06/incendie-ecole-lyon"


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Dispatch)], [i for i in items if isinstance(i, Rejection)]


def one(path: Path) -> Dispatch:
    docs, rej = split(read_path(path))
    assert rej == []
    (doc,) = docs
    return doc


def test_ninjs_1_fields():
    d = one(NINJS / "ninjs1-v1.json")
    # A uri that is a URL gives an id without scheme or slashes; the guid keeps it as sent.
    assert d.id == "depeche.example:ninjs:2023:06:incendie-ecole-lyon" and d.agency.guid == LYON
    assert d.title == "Une école de Lyon fermée après un incendie"
    assert d.lead == ("Une école primaire du 8e arrondissement de Lyon restera fermée toute la semaine après un "
                      "incendie survenu dans la nuit.")
    # body_html: paragraphs and sub-heads; the <script> is not text.
    assert d.body == ("Le feu s'est déclaré vers deux heures du matin dans le préau, selon les pompiers.\n\n"
                      "Pas de blessé\n\n"
                      "Les élèves seront accueillis dès lundi dans un autre établissement, a indiqué la mairie.")
    assert d.subheads == ["Pas de blessé"] and "alert" not in d.body
    assert (d.date, d.source, d.places) == ("2023-05-22", "AFP", ["Lyon"])
    a = d.agency
    assert (a.version, a.pub_status, a.embargo, a.urgency, a.language) == (1, "usable", None, 3, "fr")
    assert (a.slugline, a.located, a.genre, a.provider) == ("LYON-INCENDIE", "Lyon", "Actualité", "AFP")
    assert (a.first_created, a.version_created) == ("2023-05-22T07:40:00+02:00", "2023-05-22T07:40:00+02:00")
    assert a.subjects == [
        ("medtop:05000000", "éducation"),
        ("medtop:03000000", "catastrophes, accidents et situations d'urgence"),  # bare code of the Media Topic scheme
        ("medtop:20000148", "incendie"),
    ]


def test_ninjs_1_kill_has_no_body_and_the_same_id():
    d = one(NINJS / "ninjs1-v2-canceled.json")
    assert d.id == "depeche.example:ninjs:2023:06:incendie-ecole-lyon"
    assert (d.agency.version, d.agency.pub_status, d.lead, d.body) == (2, "canceled", "", "")
    assert d.title == "ANNULATION - Incendie d'une école à Lyon" and d.date == "2023-05-22"


def test_ninjs_2_fields():
    d = one(NINJS / "ninjs2-v1.json")
    assert d.id == "urn:ninjs:depeche.example:2023:budget-geneve"
    assert d.title == "Genève présente un budget en léger excédent"  # the main headline, not the short one
    assert d.lead == "Le Conseil d'État genevois prévoit un excédent de 12 millions de francs pour l'an prochain."
    # The HTML body is preferred to the plain-text one; <p class="intertitre"> is a sub-head.
    assert d.body == ("Les recettes fiscales progressent de 3 %, selon le département des finances.\n\n"
                      "Critiques de la gauche\n\n"
                      "La gauche juge les investissements insuffisants.")
    assert d.subheads == ["Critiques de la gauche"]
    assert (d.date, d.source, d.places) == ("2023-11-03", "ATS", ["Genève"])
    a = d.agency
    assert (a.version, a.pub_status, a.urgency, a.language, a.slugline) == (3, "usable", 4, "fr", "GENEVE-BUDGET")
    assert a.embargo == "2023-11-03T09:00:00Z" and a.genre == "Actualité"
    assert a.subjects == [
        ("medtop:04000000", "économie, entreprises et finances"),  # the item is French: its own name
        ("medtop:11000000", "politique"),
        ("budget-cantonal", "budget cantonal"),
    ]


def test_ninjs_2_english_withheld():
    d = one(NINJS / "ninjs2-en-withheld.json")
    assert (d.agency.pub_status, d.agency.language) == ("withheld", "en")
    assert d.lead == "Tax revenue is up 3 percent, the finance department said."  # a body without contenttype, in HTML
    assert d.agency.subjects == [("medtop:04000000", "économie, entreprises et finance"), ("medtop:20000523", "budget")]


def test_array_keeps_the_valid_items_around_one_without_uri():
    docs, rej = split(read_path(NINJS / "ninjs-array.json"))
    assert [d.id for d in docs] == ["urn:ninjs:depeche.example:2023:tram-bale", "urn:ninjs:depeche.example:2023:port-marseille"]
    assert docs[0].agency.language == "de" and docs[0].lead == "Die neue Tramlinie verbindet den Bahnhof mit dem Messegelände."
    assert docs[1].agency.embargo == "2099-06-01T00:00:00Z" and docs[1].lead == "Les travaux dureront deux ans."
    assert [(r.line, r.reason) for r in rej] == [(None, "objet n° 2 du tableau : uri manquant (l'identifiant d'un item ninjs)")]
    assert str(rej[0]).startswith(str(NINJS / "ninjs-array.json") + ": objet n° 2")


def test_missing_uri_and_truncated_document():
    _, rej = split(read_path(NINJS / "ninjs-missing-uri.json"))
    assert [(r.line, r.reason) for r in rej] == [(None, "uri manquant (l'identifiant d'un item ninjs)")]
    docs, rej = split(read_path(NINJS / "ninjs-truncated.json"))
    assert docs == [] and [(r.line, r.reason) for r in rej] == [(4, "document JSON tronqué ou incomplet (il s'arrête à la ligne 4)")]


def test_json_lines_stay_json_lines(tmp_path):
    """A .json file whose first line is a whole object is JSON Lines; a line may be a ninjs item."""
    lines = [
        {"id": "r1", "body": "Un enregistrement ordinaire."},
        {"uri": "urn:ninjs:x:1", "headline": "Un item ninjs sur une ligne", "body_text": "Son texte."},
        {"uri": "urn:ninjs:x:2", "pubstatus": "brouillon", "body_text": "x"},
        {"title": "Ni id ni ninjs", "body": "x"},
    ]
    (tmp_path / "lines.json").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n")
    docs, rej = split(read_path(tmp_path / "lines.json"))
    assert [d.id for d in docs] == ["r1", "urn:ninjs:x:1"]
    assert docs[0].agency is None and docs[1].agency.guid == "urn:ninjs:x:1"
    assert [(r.line, r.reason) for r in rej] == [
        (3, "statut de publication inconnu 'brouillon' (attendu : usable, withheld ou canceled)"),
        (4, "id manquant"),
    ]
    # A JSON Lines file with a broken first line is still read line by line.
    (tmp_path / "broken.json").write_text('{"id": "cut", "body": "tronq\n{"id": "ok", "body": "Bon."}\n')
    docs, rej = split(read_path(tmp_path / "broken.json"))
    assert [d.id for d in docs] == ["ok"] and [r.line for r in rej] == [1]
    # A one-line ninjs file is read too.
    (tmp_path / "single.json").write_text(json.dumps({"uri": "urn:ninjs:x:3", "body_text": "Seul."}))
    assert one(tmp_path / "single.json").id == "urn:ninjs:x:3"


def test_pretty_printed_array_of_our_records_and_bad_documents(tmp_path):
    (tmp_path / "records.json").write_text(json.dumps([{"id": "a", "body": "Texte."}, {"id": "b"}], indent=2))
    docs, rej = split(read_path(tmp_path / "records.json"))
    assert [d.id for d in docs] == ["a"] and [r.reason for r in rej] == ["objet n° 2 du tableau : corps (body) manquant"]
    (tmp_path / "bad.json").write_text('{\n  "uri": "urn:x"\n  "body_text": "virgule oubliée"\n}\n')
    _, rej = split(read_path(tmp_path / "bad.json"))
    assert [(r.line, r.reason) for r in rej] == [(3, "JSON invalide à la ligne 3, colonne 3 : virgule attendue")]


def test_bad_values_are_named(tmp_path):
    cases = {
        "picture": ({"uri": "urn:p", "type": "picture"}, "item ninjs de type 'picture' : seuls les textes (type text) sont lus"),
        "nobody": ({"uri": "urn:n", "headline": "Titre seul"}, "corps manquant : ni bodies / body_html / body_text ni description"),
        "urgency": ({"uri": "urn:u", "urgency": 0, "body_text": "x"}, "urgence 0 invalide (entier de 1 à 9 attendu)"),
        "version": ({"uri": "urn:v", "version": "1.2", "body_text": "x"}, "version '1.2' invalide (entier positif attendu)"),
        "date": ({"uri": "urn:d", "versioncreated": "2023-02-30T10:00:00Z", "body_text": "x"}, "versioncreated : date impossible '2023-02-30T10:00:00Z'"),
        "subjects": ({"uri": "urn:s", "subjects": "politique", "body_text": "x"}, "subjects : liste d'objets attendue"),
        "headline": ({"uri": "urn:h", "headline": ["a"], "body_text": "x"}, "headline : texte attendu, reçu list"),
    }
    for name, (obj, reason) in cases.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(obj, indent=1))
        docs, rej = split(read_path(tmp_path / f"{name}.json"))
        assert docs == [] and [r.reason for r in rej] == [reason], name


def test_is_ninjs_and_folders(tmp_path):
    assert is_ninjs({"uri": "x"}) and is_ninjs({"versioncreated": "2023"})
    assert not is_ninjs({"id": "x", "uri": "y"}) and not is_ninjs({"title": "t"}) and not is_ninjs([])
    for name in ("ninjs1-v1.json", "ninjs2-v1.json"):
        (tmp_path / name).write_bytes((NINJS / name).read_bytes())
    docs, rej = split(read_sources([tmp_path]))
    assert rej == [] and len(docs) == 2
    assert count_records([tmp_path]) > 0
