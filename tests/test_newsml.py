"""NewsML-G2 items (tests/data/agency/newsml, written for these tests): fields, bodies, French
subject names, versions, kills, embargoes, languages, rejections, and hostile XML refused."""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from search.documents import Dispatch, Rejection, count_records, read_path, read_sources

AGENCY = Path(__file__).resolve().parent / "data" / "agency"
NEWSML = AGENCY / "newsml"
HOSTILE = AGENCY / "hostile"
OTAN = "urn:newsml:depeche.example:20230614:otan-munitions"


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Dispatch)], [i for i in items if isinstance(i, Rejection)]


def one(name: str) -> Dispatch:
    docs, rej = split(read_path(NEWSML / name))
    assert rej == []
    (doc,) = docs
    return doc


def test_first_version_maps_every_field():
    d = one("otan-v1.xml")
    assert d.id == OTAN
    assert d.title == "L'Otan veut reconstituer ses stocks de munitions"
    # No description: the first paragraph is the lead and leaves the body.
    assert d.lead == ("L'Alliance atlantique veut reconstituer ses stocks de munitions, a indiqué mercredi son "
                      "secrétaire général à Bruxelles.")
    assert d.body == (
        "Les ministres de la Défense discuteront jeudi des livraisons d'armes à l'Ukraine.\n\n"
        "Un sommet en juillet\n\n"
        "Le sommet de Vilnius réunira les chefs d'État et de gouvernement en juillet.\n\n"
        "Des commandes groupées\n\n"
        "Plusieurs pays envisagent des commandes groupées d'obus de 155 mm. Rien n'est signé."
    )
    # <h2> and <p class="subhead"> are sub-heads; the <head><title> is not text.
    assert d.subheads == ["Un sommet en juillet", "Des commandes groupées"]
    assert "Otan : munitions" not in d.body
    assert (d.date, d.source, d.places) == ("2023-06-14", "ATS", ["Bruxelles"])
    assert d.origin.endswith("otan-v1.xml:5")  # libxml2 gives the line where the start tag ends
    a = d.agency
    assert (a.guid, a.version, a.pub_status, a.embargo) == (OTAN, 1, "usable", None)
    assert (a.first_created, a.version_created) == ("2023-06-14T10:12:00+02:00", "2023-06-14T10:12:00+02:00")
    assert (a.urgency, a.genre, a.slugline, a.language) == (3, "Actualité", "OTAN-MUNITIONS", "fr")
    assert (a.dateline, a.located, a.provider) == ("BRUXELLES, 14 juin", "Bruxelles", "ATS")


def test_subject_names_are_french_when_known():
    assert one("otan-v1.xml").agency.subjects == [
        ("medtop:16000000", "conflits, guerres et paix"),  # English name only: our table
        ("medtop:20000653", "défense"),  # the item's own French name
        ("medtop:11000000", "politique"),  # no name at all: our table
        ("medtop:20000638", "international organisation"),  # not top level, no French name: its name
        ("medtop:20000999", "medtop:20000999"),  # nothing known: the qcode
    ]


def test_update_uses_the_summary_as_lead_and_the_main_headline():
    d = one("otan-v2.xml")
    assert d.id == OTAN and d.agency.version == 2
    assert d.title == "L'Otan commande des munitions pour deux milliards d'euros"
    assert d.lead == ("Les pays de l'Otan ont annoncé mercredi une commande groupée de munitions pour deux "
                      "milliards d'euros.")
    # With a summary, every paragraph stays in the body.
    assert d.body.startswith("L'annonce a été faite")
    assert d.body.endswith("missiles sol-air.")
    assert d.agency.genre == "Mise à jour"  # a name without xml:lang is in the item's language (fr)
    assert d.agency.urgency == 2 and d.agency.version_created == "2023-06-14T12:40:00+02:00"


def test_correction_is_a_later_version_dated_by_its_version():
    d = one("otan-v3-correction.xml")
    assert (d.id, d.agency.version, d.agency.pub_status) == (OTAN, 3, "usable")
    assert d.date == "2023-06-15" and d.agency.first_created == "2023-06-14T10:12:00+02:00"
    assert "2,4 milliards" in d.title and "2,4 milliards" in d.lead


def test_kill_without_body_is_read_with_its_status():
    d = one("otan-v4-kill.xml")
    assert (d.id, d.agency.version, d.agency.pub_status) == (OTAN, 4, "canceled")
    assert (d.lead, d.body, d.title) == ("", "", "ANNULATION - Otan : munitions")
    assert d.date == "2023-06-15" and d.source == "ATS"  # provider qcode nprov:ATS


def test_withheld_item_is_read_with_its_status():
    d = one("withheld.xml")
    assert d.agency.pub_status == "withheld" and d.agency.version == 2
    assert d.lead == "Le tribunal correctionnel de Lyon rendra son jugement vendredi." and d.source == "AFP"


def test_embargo_is_given_in_utc_future_or_past():
    assert one("embargo-future.xml").agency.embargo == "2099-01-01T05:00:00Z"
    assert one("embargo-past.xml").agency.embargo == "2023-06-15T06:00:00Z"
    assert one("embargo-past.xml").date == "2023-06-14"  # the date is the version's, not the embargo's


def test_other_languages():
    en = one("lang-en.xml")
    assert en.agency.language == "en" and en.title == "NATO wants to rebuild its ammunition stocks"
    assert en.agency.subjects == [("medtop:16000000", "conflits, guerres et paix"), ("medtop:20000653", "defence")]
    assert en.agency.located == "Bruxelles"  # located's French name is preferred
    assert (en.source, en.agency.provider, en.agency.urgency, en.agency.genre) == ("Depeche Example Wire", "Depeche Example Wire", 5, "Current")
    de = one("lang-de.xml")
    assert de.agency.language == "de"
    assert de.agency.subjects == [("medtop:16000000", "conflits, guerres et paix"), ("medtop:20000653", "Verteidigung")]
    # inlineData: plain text, paragraphs by blank lines, a short unpunctuated line is a sub-head.
    assert de.lead == "Die Nato will ihre Munitionsvorräte auffüllen, sagte der Generalsekretär am Mittwoch."
    assert de.subheads == ["Gemeinsame Bestellungen"]
    assert (de.source, de.places) == ("Depesche Beispiel", ["Brüssel"])


def test_news_message_keeps_the_valid_items_around_a_bad_one():
    docs, rej = split(read_path(NEWSML / "message.xml"))
    assert [d.id for d in docs] == ["urn:newsml:depeche.example:20230614:meteo", "urn:newsml:depeche.example:20230614:football"]
    assert [d.agency.subjects for d in docs] == [[("medtop:17000000", "météo")], [("medtop:15000000", "sport")]]
    (bad,) = rej
    assert (Path(bad.source).name, bad.line) == ("message.xml", 24)
    assert bad.reason == "newsItem n° 2 : versionCreated : date impossible '2023-02-30T17:00:00+01:00'"


def test_missing_guid_and_truncated_xml_are_rejected_in_french():
    docs, rej = split(read_path(NEWSML / "missing-guid.xml"))
    assert docs == [] and [(r.line, r.reason) for r in rej] == [(3, "guid manquant (attribut guid du newsItem)")]
    docs, rej = split(read_path(NEWSML / "truncated.xml"))
    assert docs == [] and [(r.line, r.reason) for r in rej] == [(None, "XML tronqué ou incomplet (il s'arrête à la ligne 18)")]


@pytest.mark.parametrize("name,reason", [
    ("billion-laughs.xml", "document XML refusé : déclaration DOCTYPE avec des déclarations d'entités ou une DTD "
                           "(ni chargée ni développée ; un item NewsML-G2 n'en a pas besoin)"),
    ("xxe.xml", "document XML refusé : déclaration DOCTYPE avec des déclarations d'entités ou une DTD "
                "(ni chargée ni développée ; un item NewsML-G2 n'en a pas besoin)"),
    ("external-dtd.xml", "document XML refusé : déclaration DOCTYPE qui appelle la DTD externe "
                         "'http://127.0.0.1:9/newsml.dtd' (ni chargée ni développée ; un item NewsML-G2 n'en a pas besoin)"),
    ("xinclude.xml", "document XML refusé : inclusion XInclude d'une ressource externe (non suivie)"),
])
def test_hostile_xml_is_refused_not_expanded_or_fetched(name, reason):
    start = time.monotonic()
    docs, rej = split(read_path(HOSTILE / name))
    assert time.monotonic() - start < 1
    assert docs == [] and [r.reason for r in rej] == [reason]
    assert "root:" not in str(rej)  # nothing of /etc/passwd


def test_undefined_entity_and_bad_root_and_other_items(tmp_path):
    (tmp_path / "entity.xml").write_text('<newsItem guid="g"><contentMeta><headline>&secret;</headline></contentMeta></newsItem>')
    (tmp_path / "root.xml").write_text("<rss><channel/></rss>")
    (tmp_path / "pkg.xml").write_text(
        '<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><itemSet>'
        '<packageItem guid="p"/>'
        '<newsItem guid="pic"><itemMeta><itemClass qcode="ninat:picture"/></itemMeta></newsItem>'
        '<newsItem guid="t"><contentSet><inlineXML><p xmlns="http://www.w3.org/1999/xhtml">Un texte court.</p></inlineXML></contentSet></newsItem>'
        '<newsItem guid="vide"/>'
        "</itemSet></newsMessage>")
    docs, rej = split(read_sources([tmp_path]))
    assert [d.id for d in docs] == ["t"]
    reasons = [(Path(r.source).name, r.reason) for r in rej]
    assert reasons[0][0] == "entity.xml" and reasons[0][1].startswith("XML mal formé à la ligne 1, colonne ")
    assert reasons[1:] == [
        ("pkg.xml", "item n° 1 : <packageItem> non lu : seuls les newsItem portent des dépêches"),
        ("pkg.xml", "newsItem n° 2 : newsItem de nature 'ninat:picture' : seuls les textes (ninat:text) sont lus"),
        ("pkg.xml", "newsItem n° 4 : corps manquant : ni texte (inlineXML, inlineData) ni résumé"),
        ("root.xml", "ni newsItem ni newsMessage NewsML-G2 (élément racine <rss>)"),
    ]


def test_bad_values_are_named(tmp_path):
    def item(guid, meta="", content="", attrs=""):
        return (f'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="{guid}" {attrs}><itemMeta>{meta}</itemMeta>'
                f"<contentMeta>{content}</contentMeta><contentSet><inlineXML><html xmlns=\"http://www.w3.org/1999/xhtml\">"
                "<body><p>Un texte.</p></body></html></inlineXML></contentSet></newsItem>")

    cases = {
        "status": (item("a", '<pubStatus qcode="stat:draft"/>'), "statut de publication inconnu 'stat:draft' (attendu : usable, withheld ou canceled)"),
        "version": (item("b", attrs='version="deux"'), "version 'deux' invalide (entier positif attendu)"),
        "urgency": (item("c", content="<urgency>12</urgency>"), "urgence '12' invalide (entier de 1 à 9 attendu)"),
        "embargo": (item("d", "<embargoed>2023-06-14T10:00:00</embargoed>"), "embargo '2023-06-14T10:00:00' sans fuseau horaire : l'heure de levée serait ambiguë"),
        "when": (item("e", "<versionCreated>hier</versionCreated>"), "versionCreated 'hier' : date et heure ISO 8601 attendues"),
    }
    for name, (xml, reason) in cases.items():
        (tmp_path / f"{name}.xml").write_text(xml)
        docs, rej = split(read_path(tmp_path / f"{name}.xml"))
        assert docs == [] and [r.reason for r in rej] == [reason], name


def test_uri_guids_become_safe_ids_and_status_uris_are_understood(tmp_path):
    (tmp_path / "u.xml").write_text(
        '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="https://depeche.example/items/2023/42/" version="7">'
        '<itemMeta><pubStatus uri="http://cv.iptc.org/newscodes/pubstatusg2/canceled"/></itemMeta></newsItem>')
    (d,), _ = split(read_path(tmp_path / "u.xml"))
    assert (d.id, d.agency.guid, d.agency.version, d.agency.pub_status) == (
        "depeche.example:items:2023:42", "https://depeche.example/items/2023/42/", 7, "canceled")


def test_gzipped_items_and_folders_are_read_and_counted(tmp_path):
    (tmp_path / "a.xml.gz").write_bytes(gzip.compress((NEWSML / "otan-v1.xml").read_bytes()))
    (tmp_path / "b.xml").write_bytes((NEWSML / "message.xml").read_bytes())
    docs, rej = split(read_sources([tmp_path]))
    assert [d.id for d in docs] == [OTAN, "urn:newsml:depeche.example:20230614:meteo", "urn:newsml:depeche.example:20230614:football"]
    assert len(rej) == 1
    assert count_records([tmp_path]) == 2  # one per XML file
