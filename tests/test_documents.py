"""Reading dispatches: the seed format, JSON Lines, CSV, folders, .gz, and bad input."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from search.documents import (
    BadRecord,
    Dispatch,
    Rejection,
    count_records,
    derive_title,
    parse_date,
    parse_dispatch_text,
    read_path,
    read_sources,
)

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_46166f39458f7f75.txt"


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Dispatch)], [i for i in items if isinstance(i, Rejection)]


def test_seed_dispatch_is_parsed_as_it_came():
    docs, rej = split(read_path(SEED))
    assert rej == []
    (d,) = docs
    assert d.id == "000_46166f39458f7f75"
    assert d.date == "2023-06" and d.date_precision == "month"
    assert d.source == "ATS"
    assert d.lead.startswith("Le secrétaire général de l'Otan, Jens Stoltenberg, a plaidé")
    assert "Nouvelles annonces" in d.subheads
    assert "'Les combats sont acharnés'" in d.subheads
    assert "/ATS" not in d.body
    assert d.title is None
    # A title derived from the lead, cut at a word boundary.
    assert d.display_title.startswith("Le secrétaire général de l'Otan, Jens Stoltenberg")
    assert d.display_title.endswith("…") and len(d.display_title) <= 112
    assert not d.display_title[:-1].endswith(" ")


def test_derive_title_takes_first_sentence():
    assert derive_title("M. Macron est arrivé à Lyon. Il repart demain.") == "M. Macron est arrivé à Lyon"
    assert derive_title("Court") == "Court"
    long = "mot " * 60
    t = derive_title(long, limit=50)
    assert t.endswith("…") and len(t) <= 51 and "mo…" not in t


def test_dispatch_without_title_or_real_lead_is_summarised_by_its_opening():
    body = "Le groupe automobile a présenté mardi sa nouvelle berline électrique. Elle sera vendue en 2021."
    dateline = Dispatch(id="d", lead="6 mars", body=body)
    assert not dateline.has_real_lead
    assert dateline.display_title == "Le groupe automobile a présenté mardi sa nouvelle berline électrique"
    assert dateline.summary == "6 mars\nLe groupe automobile a présenté mardi sa nouvelle berline électrique."
    no_lead = Dispatch(id="n", lead="", body=body)
    assert no_lead.summary == "Le groupe automobile a présenté mardi sa nouvelle berline électrique."
    real = Dispatch(id="r", lead="La berline électrique arrive en concession.", body=body)
    assert real.has_real_lead and real.summary == real.lead
    assert real.display_title == "La berline électrique arrive en concession"
    # A body without sentence punctuation does not become one huge lead.
    assert len(Dispatch(id="p", lead="", body="mot " * 500).summary.split()) == 60


@pytest.mark.parametrize("value,expected", [
    ("2023-06", "2023-06"), ("2023-06-14", "2023-06-14"), ("2023", "2023"),
    ("2020-07-02T19:19:33+02:00", "2020-07-02"), (None, None), ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2023-02-30", "2023-13", "2023-00-10", "hier", "23-06-2023"])
def test_impossible_dates_are_rejected(value):
    with pytest.raises(BadRecord):
        parse_date(value)


def test_dispatch_without_date_line_is_accepted_undated():
    d = parse_dispatch_text("Une dépêche sans date.\n\nDeuxième paragraphe.\n\n/AFP", "x", "x.txt")
    assert d.date is None and d.source == "AFP" and d.lead == "Une dépêche sans date."


def test_jsonl_csv_and_gz(tmp_path):
    rec = {"id": "a1", "title": None, "date": "2020-01-02", "chapo": "Le chapo.", "body": "Le corps.",
           "source": "AFP", "section": "Monde", "url": "https://example.org/a1"}
    (tmp_path / "a.jsonl").write_text(json.dumps(rec) + "\n")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({**rec, "id": "b1", "lead": "Lead", "chapo": None}) + "\n")
    (tmp_path / "c.csv").write_text('id,title,date,lead,body,source\nc1,Un titre,2021-05,"Le lead, avec virgule",Le corps,ATS\n')
    docs, rej = split(read_sources([tmp_path]))
    assert rej == []
    by_id = {d.id: d for d in docs}
    assert set(by_id) == {"a1", "b1", "c1"}
    assert by_id["a1"].lead == "Le chapo." and by_id["a1"].section == "Monde"
    assert by_id["b1"].lead == "Lead"
    assert by_id["c1"].title == "Un titre" and by_id["c1"].lead == "Le lead, avec virgule" and by_id["c1"].date == "2021-05"


def test_bad_input_is_listed_and_valid_documents_survive(tmp_path):
    good = {"id": "ok1", "date": "2020-01-01", "chapo": "Bon.", "body": "Texte valide."}
    lines = [
        json.dumps(good).encode(),
        b'{"id": "trunc", "body": "coup',  # truncated JSON line
        json.dumps({"id": "nobody", "date": "2020-01-01"}).encode(),  # missing body
        json.dumps({**good, "id": "baddate", "date": "2021-02-30"}).encode(),
        json.dumps(good).encode(),  # duplicate id
        b'{"id": "latin1", "body": "caf\xe9"}',  # invalid UTF-8
        json.dumps({**good, "id": "ok2"}).encode(),
    ]
    (tmp_path / "mix.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin.txt").write_bytes("date 2023-01 Caf\xe9".encode("latin-1"))
    with gzip.open(tmp_path / "cut.jsonl.gz", "wb") as fh:
        fh.write((json.dumps({**good, "id": "gz1"}) + "\n").encode() * 1 + (json.dumps({**good, "id": "gz2"}) + "\n").encode() * 1)
    data = (tmp_path / "cut.jsonl.gz").read_bytes()
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) - 12])  # truncated gzip

    docs, rej = split(read_sources([tmp_path]))
    ids = [d.id for d in docs]
    assert "ok1" in ids and "ok2" in ids
    reasons = {(Path(r.source).name, r.line): r.reason for r in rej}
    assert reasons[("mix.jsonl", 2)] == "ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 29)"
    assert reasons[("mix.jsonl", 3)] == "corps (body) manquant"
    assert reasons[("mix.jsonl", 4)] == "date impossible '2021-02-30'"
    assert reasons[("mix.jsonl", 5)].startswith("id 'ok1' en double (déjà lu en ")
    assert reasons[("mix.jsonl", 6)] == "UTF-8 invalide à l'octet 29"
    assert reasons[("empty.txt", None)] == "fichier vide"
    assert reasons[("latin.txt", 1)] == "UTF-8 invalide à l'octet 16"
    assert any(name == "cut.jsonl.gz" and "tronquées" in reason for (name, _), reason in reasons.items())
    # every message names the file and, where there is one, the line
    assert all(str(r).startswith(str(tmp_path)) for r in rej)


@pytest.mark.parametrize("bad_id", ["../etc/passwd", "a/b", "nul\x00byte", "", "x" * 300])
def test_ids_that_could_reach_the_file_system_are_rejected(tmp_path, bad_id):
    (tmp_path / "ids.jsonl").write_text(json.dumps({"id": bad_id, "body": "texte"}) + "\n")
    docs, rej = split(read_path(tmp_path / "ids.jsonl"))
    assert docs == [] and len(rej) == 1


def test_unknown_format_and_missing_path(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    _, rej = split(read_path(tmp_path / "notes.docx"))
    assert rej[0].reason == "format inconnu (attendu : .txt, .jsonl, .json, .csv, .xml, éventuellement en .gz)"
    _, rej = split(read_path(tmp_path / "absent"))
    assert rej[0].reason == "fichier ou dossier introuvable"


def test_people_and_places_given_with_a_record(tmp_path):
    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "p", "body": "x", "people": ["Jens Stoltenberg"], "places": "Vilnius; Bruxelles"}) + "\n")
    (d,), _ = split(read_path(tmp_path / "p.jsonl"))
    assert d.people == ["Jens Stoltenberg"] and d.places == ["Vilnius", "Bruxelles"]


def test_lone_surrogates_are_repaired_in_text_and_rejected_in_ids(tmp_path):
    # Written as JSON escapes, as a broken exporter does: json.loads gives lone surrogates.
    src = tmp_path / "sur.jsonl"
    src.write_text(
        '{"id": "avant", "body": "Texte normal."}\n'
        '{"id": "sur-id-\\ud83d", "body": "texte"}\n'
        '{"id": "sur-texte", "title": "Titre \\udc80", "body": "Un \\ud83d emoji coupé.", "people": ["Jo\\ud83d"]}\n'
        '{"id": "apres", "body": "Texte normal."}\n'
    )
    docs, rej = split(read_path(src))
    assert [d.id for d in docs] == ["avant", "sur-texte", "apres"]
    (bad,) = rej
    assert (bad.line, bad.reason) == (2, "l'id 'sur-id-\\ud83d' contient un demi-caractère Unicode isolé (substitut), impossible à encoder en UTF-8")
    repaired = docs[1]
    assert (repaired.title, repaired.body, repaired.people) == ("Titre \ufffd", "Un \ufffd emoji coupé.", ["Jo\ufffd"])
    repaired.body.encode("utf-8")  # what the index and the web pages need


def test_undecodable_file_name_gives_a_rejected_id(tmp_path):
    # Linux file names are bytes: Python shows an undecodable one with surrogates.
    os.makedirs(tmp_path / "src")
    with open(os.path.join(os.fsencode(tmp_path / "src"), b"caf\xe9.txt"), "w") as fh:
        fh.write("date 2023-01 Une dépêche au nom de fichier en Latin-1.\n")
    docs, rej = split(read_sources([tmp_path / "src"]))
    assert docs == [] and len(rej) == 1
    assert rej[0].reason == "l'id 'caf\\udce9' contient un demi-caractère Unicode isolé (substitut), impossible à encoder en UTF-8"


@pytest.mark.parametrize("line,reason", [
    ('{"id": "cut", "body": "Unterminated string starting at', "ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 54)"),
    ('{"id": "x", "body": ', "ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 19)"),
    ('{"id": "x", "body": "abc\\ud8', "ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 28)"),
    ('tronqué", "source": "AFP"}', "ce n'est pas du JSON (colonne 1)"),
    ('{"id": "x" "body": "y"}', "JSON invalide à la colonne 12 : virgule attendue"),
    ('{"id": "x", "body": "y"} {}', "JSON invalide à la colonne 26 : texte en trop après l'objet"),
    ("[" * 100_000, "JSON imbriqué trop profondément"),
])
def test_json_errors_name_the_real_problem(tmp_path, line, reason):
    (tmp_path / "e.jsonl").write_text(line + "\n")
    _, (rej,) = split(read_path(tmp_path / "e.jsonl"))
    assert rej.reason == reason
    assert "at at" not in rej.reason


def test_count_records_reads_every_format_cheaply(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"id": "1"}\n{"id": "2"}\n{"id": "3"}')  # no final newline
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as fh:
        fh.write('{"id": "4"}\n' * 5)
    (tmp_path / "c.csv").write_text("id,body\nc1,x\nc2,y\n")
    (tmp_path / "d.txt").write_text("date 2023-01 Une dépêche.\n\nSuite.\n")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    assert count_records([tmp_path]) == 3 + 5 + 2 + 1
    assert count_records([tmp_path / "a.jsonl", tmp_path / "absent.jsonl"]) == 3
