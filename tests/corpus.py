"""The French test corpus: every dispatch the tests index, written by hand, and how to index it.

One module, several small sets, each written for the exact behaviours its tests count (changing a
record changes numbers asserted elsewhere: add a record to the set that needs it, or a new set):

- ``SEARCH_RECORDS`` (+ the seed dispatch): elision (l'Alliance), accents (États-Unis /
  Etats-Unis), a phrase (Pays-Bas) beside its words far apart, sources in two spellings, people
  and places with accents, dates of every precision, a dispatch with HTML in its text and one
  longer than Whoosh's 32 K highlight window;
- ``PLAIN_DISPATCHES`` and ``EXTRA_RECORDS``: the seed's plain-text format (date line, lead,
  sub-heads, ``/ATS`` credit) beside JSON Lines, a title-less dispatch;
- ``WEB_DISPATCHES``: what the web pages count and page through (« munitions »), one hostile
  record, an id with a space and accents, an undated dispatch;
- ``STORY_RECORDS`` / ``STORY_UPDATE``: a running story in versions, and what is not a version;
- ``ENTITY_RECORDS``: people and places pages with counts small enough to check by hand;
- ``AGENCY_BATCHES``: NewsML-style agency items in versions, a kill, an English item, an embargo;
- ``DEEP_RECORDS``: 110 dispatches that all have « grève » and « dockers », in texts of every
  length, with and without a lead, the words near or far: pages past the re-ranked 100 best.

Fixtures indexing these live in conftest.py; this module holds data and plain functions only.
"""
from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

from search import indexing

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_46166f39458f7f75.txt"
SEED_ID = SEED.stem

# ---------------------------------------------------------------- the search set

FILLER = (
    "Le conseil municipal a examiné le budget annexe consacré à l'entretien des routes communales, "
    "sans qu'aucune décision ne soit prise sur le calendrier des travaux. "
)

SEARCH_RECORDS = [
    {
        "id": "otan-munitions",
        "title": "L'Otan veut reconstituer ses stocks de munitions",
        "date": "2023-06-14",
        "chapo": "L'Alliance atlantique veut reconstituer ses stocks de munitions, a indiqué Jens Stoltenberg.",
        "body": "Les ministres de la Défense discuteront des armements fournis à l'Ukraine.\n\n"
        "Le sommet de Vilnius aura lieu en juillet, avec les États-Unis et les Pays-Bas.",
        "source": "ATS",
        "people": ["Jens Stoltenberg"],
        "places": ["Vilnius", "Pays-Bas", "États-Unis"],
    },
    {
        "id": "otan-obus",
        "title": "Des obus pour Kiev",
        "date": "2023-06-20",
        "chapo": "Les Etats-Unis livreront des obus de 155 mm à l'Ukraine, selon le Pentagone.",
        "body": "Jens Stoltenberg a salué l'annonce. Les munitions arriveront avant l'hiver.",
        "source": "AFP",
        "people": ["Jens Stoltenberg", "Lloyd Austin"],
        "places": ["Ukraine", "Etats-Unis"],
    },
    {
        "id": "prix-bas",
        "title": "Les prix du blé au plus bas",
        "date": "2023-01-10",
        "chapo": "Les cours du blé sont au plus bas depuis dix ans.",
        "body": "Les agriculteurs s'inquiètent dans tout le pays, où la récolte a été abondante.",
        "source": "afp",
        "places": ["France"],
    },
    {
        "id": "geneve-sommet",
        "title": "Sommet de la paix à Genève",
        "date": "2022-11",
        "chapo": "Emmanuel Macron et Olaf Scholz se retrouveront à Genève pour parler de défense européenne.",
        "body": "La défense aérienne du continent sera au cœur des discussions.",
        "source": "Reuters",
        "people": ["Emmanuel Macron", "Olaf Scholz"],
        "places": ["Genève"],
    },
    {
        "id": "lyon-ecole",
        "title": "Une école de Lyon ferme après un incendie",
        "date": "2023-05",
        "chapo": "Une école de Lyon ferme ses portes après un incendie.",
        "body": "Les élèves seront accueillis dans un autre établissement dès lundi.",
        "source": "AFP",
        "places": ["Lyon"],
    },
    {
        "id": "marseille-port",
        "title": "Grève au port de Marseille",
        "date": "2022",
        "chapo": "Les dockers de Marseille sont en grève depuis lundi.",
        "body": "Le trafic des conteneurs est paralysé.",
        "source": "Reuters",
        "places": ["Marseille"],
    },
    {
        "id": "html-dispatch",
        "title": "Un site piraté affiche <script>alert(1)</script>",
        "date": "2021-03-02",
        "chapo": "Des pirates ont inséré <script>alert('munitions')</script> dans la page d'accueil & le menu.",
        "body": "Le responsable du site a promis une enquête sur ces munitions numériques.",
        "source": "ATS",
    },
    {
        "id": "long-dispatch",
        "title": "Le conseil municipal examine le budget",
        "chapo": "Une longue séance du conseil municipal.",
        "body": FILLER * 300 + "Au détour d'une phrase, un élu a évoqué le pangolin du zoo municipal. " + FILLER * 20,
        "source": "ATS",
    },
    {
        "id": "macron-hollande",
        "title": "François Hollande critique Emmanuel Macron",
        "date": "2023-02-01",
        "chapo": "L'ancien président François Hollande a critiqué la réforme des retraites.",
        "body": "Emmanuel Macron n'a pas répondu. La défense de la réforme revient au gouvernement.",
        "source": "AFP",
        "people": ["François Hollande", "Emmanuel Macron", "emmanuel macron"],
        "places": ["Paris"],
    },
]


# ---------------------------------------------------------------- plain-text dispatches (the seed's format) and JSON Lines

# Small dispatches in the seed's format: date line + lead, paragraphs, sub-heads, credit.
PLAIN_DISPATCHES = {
    "ats_otan": (
        "date 2023-06-14 L'Alliance atlantique veut reconstituer ses stocks de munitions, a indiqué "
        "mercredi Jens Stoltenberg à Bruxelles.\n\n"
        "Les ministres de la Défense discuteront des armements fournis à l'Ukraine.\n\n"
        "Un sommet à Vilnius\n\n"
        "Le sommet de Vilnius aura lieu en juillet, avec les États-Unis et les Pays-Bas.\n\n/ATS\n"
    ),
    "afp_ecole": (
        "date 2023-05 Une école de Lyon ferme ses portes après un incendie.\n\n"
        "Les élèves seront accueillis dans un autre établissement dès lundi, selon la mairie.\n\n/AFP\n"
    ),
    "ats_est": (
        "date 2022-11-03 Les pays d'Europe de l'Est renforcent leur défense aérienne.\n\n"
        "Varsovie a commandé des obus de 155mm et des systèmes sol-air.\n\n/ATS\n"
    ),
    "reuters_coeur": (
        "date 2021-02-10 Le cœur du réacteur a été inspecté par l'O.N.U. jusqu'où les experts ont pu aller.\n\n"
        "Les inspecteurs de l'Onu ont rendu leur rapport aujourd'hui.\n\n/Reuters\n"
    ),
}

# Beside the plain-text files of the same folder: a dispatch with people and places, one without a title.
EXTRA_RECORDS = [
    {"id": "j1", "title": "Contre-offensive ukrainienne dans le Donbass", "date": "2023-06-20",
     "chapo": "La contre-offensive se poursuit.", "body": "Les forces ukrainiennes progressent près de Bakhmout.",
     "source": "AFP", "people": ["Volodymyr Zelensky"], "places": ["Ukraine", "Bakhmout"]},
    {"id": "j2", "title": None, "date": "2020-03-01",
     "chapo": "Les Pays-Bas annoncent un plan de relance. Il sera présenté demain.",
     "body": "Le gouvernement néerlandais a détaillé ses mesures.", "source": "AFP", "places": ["Pays-Bas"]},
]


# ---------------------------------------------------------------- the web set

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


# ---------------------------------------------------------------- running stories

# A running story sent three times as it developed (days apart), the same first version sent
# again four years later (a new story, not a version), and a text on the same subject written
# otherwise (not a version either). Stories tests and the web tests' story corpus use these.
_FEU_P1 = ("Un incendie s'est déclaré jeudi après-midi dans le massif des Maures, entre Le Luc et "
           "Vidauban, et a déjà parcouru plusieurs centaines d'hectares de pinède selon les pompiers du Var.")
_FEU_P2 = ("Attisé par un mistral soufflant en rafales à plus de soixante kilomètres à l'heure, le feu "
           "progresse vers le sud en direction de la plaine agricole, où des campings ont été évacués par précaution.")
_FEU_P3 = ("Près de six cents sapeurs-pompiers, appuyés par des bombardiers d'eau venus de Marignane, "
           "luttent contre les flammes, a indiqué la préfecture, qui déconseille de circuler sur les routes départementales.")
_FEU_P4 = ("Le maire de Vidauban a ouvert le gymnase municipal pour accueillir les vacanciers évacués "
           "pendant la nuit, et la Croix-Rouge distribue de l'eau et des repas aux familles.")
_FEU_P5 = ("Le feu a été fixé samedi matin après avoir parcouru près de deux mille hectares ; aucune "
           "victime n'est à déplorer, mais trois maisons et un hangar agricole ont été détruits.")
_FEU_P6 = ("Une enquête a été ouverte par le parquet de Draguignan pour déterminer l'origine du sinistre, "
           "qui pourrait être une ligne électrique tombée au sol selon les premiers éléments.")

STORY_RECORDS = [
    {"id": "feu-v1", "title": "Incendie dans le massif des Maures", "date": "2023-08-10", "source": "AFP",
     "chapo": _FEU_P1, "body": "\n\n".join([_FEU_P2, _FEU_P3]), "places": ["Var"]},
    {"id": "feu-v2", "title": "Incendie dans le massif des Maures : des campings évacués", "date": "2023-08-11",
     "source": "AFP", "chapo": _FEU_P1, "body": "\n\n".join([_FEU_P2, _FEU_P3, _FEU_P4]), "places": ["Var"]},
    {"id": "feu-v3", "title": "Incendie dans le massif des Maures : le feu est fixé", "date": "2023-08-13",
     "source": "AFP", "chapo": _FEU_P1, "body": "\n\n".join([_FEU_P2, _FEU_P3, _FEU_P5]), "places": ["Var"]},
    # The first version's text again, four years earlier: not a version of the 2023 story.
    {"id": "feu-2019", "title": "Incendie dans le massif des Maures", "date": "2019-08-10", "source": "AFP",
     "chapo": _FEU_P1, "body": "\n\n".join([_FEU_P2, _FEU_P3]), "places": ["Var"]},
    # The same subject, the same days, written otherwise: another story.
    {"id": "feu-autre", "title": "Les pompiers du Var mobilisés", "date": "2023-08-11", "source": "Var-Matin",
     "chapo": "Les soldats du feu varois enchaînent les interventions depuis le début de l'été, faute de pluie.",
     "body": "Le service départemental d'incendie et de secours rappelle les consignes : pas de barbecue, "
             "pas de mégot jeté par la fenêtre des voitures, et l'accès aux massifs forestiers est réglementé.",
     "places": ["Var"]},
    {"id": "bce-taux", "title": "La BCE relève ses taux", "date": "2023-08-10", "source": "Reuters",
     "chapo": "La Banque centrale européenne a relevé ses taux directeurs d'un quart de point.",
     "body": "Christine Lagarde a laissé la porte ouverte à une pause lors de la prochaine réunion."},
]
# The fourth version of the running story, sent later by `index add`.
STORY_UPDATE = {"id": "feu-v4", "title": "Incendie des Maures : une enquête ouverte", "date": "2023-08-14",
                "source": "AFP", "chapo": _FEU_P1, "body": "\n\n".join([_FEU_P2, _FEU_P3, _FEU_P5, _FEU_P6]),
                "places": ["Var"]}


# ---------------------------------------------------------------- many dispatches, for the ranking's bounds
# Words by how many dispatches use them: common (about a third), middling, rare (a few each).
_COMMON = ["gouvernement", "annonce", "France", "président", "réforme", "ministre"]
_MIDDLING = ["Ukraine", "munitions", "sommet", "élection", "budget", "grève", "tribunal", "incendie"]
_RARE = ["Vilnius", "Stoltenberg", "Marignane", "Draguignan", "Lagarde", "Perpignan", "Kiev", "Nanterre"]


def many_records(n: int = 600, seed: int = 7) -> list[dict]:
    """``n`` dispatches of common, middling and rare words (a seeded draw): enough candidates
    for the ranking's bounds to leave some unscored, and ties among them."""
    import random

    rng = random.Random(seed)

    def words(k: int) -> list[str]:
        out = []
        for _ in range(k):
            r = rng.random()
            pool = _COMMON if r < 0.6 else _MIDDLING if r < 0.96 else _RARE
            out.append(rng.choice(pool))
        return out

    records = [{"id": f"lot-{i:04d}", "title": " ".join(words(rng.randint(2, 5))).capitalize(),
                "date": f"{2019 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}", "source": rng.choice(["AFP", "Reuters", "ATS"]),
                "chapo": " le ".join(words(rng.randint(0, 6))),
                "body": " de la ".join(words(rng.randint(3, 25)))} for i in range(n)]
    # A running story of four versions, each naming the same rare words: the best of a query
    # for them are all one story.
    body = [_VILNIUS_P1, _VILNIUS_P2, _VILNIUS_P3, _VILNIUS_P4]
    records += [{"id": f"vilnius-v{v}", "title": "Stoltenberg et Lagarde au sommet de Vilnius", "date": f"2023-07-{10 + v}",
                 "source": "AFP", "chapo": _VILNIUS_LEAD, "body": "\n\n".join(body[:v])} for v in range(1, 5)]
    return records


_VILNIUS_LEAD = "Jens Stoltenberg et Christine Lagarde se retrouvent à Vilnius pour un sommet consacré au budget de l'Ukraine."
_VILNIUS_P1 = ("Les dirigeants de l'Alliance atlantique sont arrivés mardi dans la capitale lituanienne, "
               "où les mesures de sécurité ont été renforcées autour du centre de conférences.")
_VILNIUS_P2 = ("Le secrétaire général a rappelé que les livraisons de munitions à Kiev resteraient la priorité "
               "des alliés pendant toute la durée du conflit.")
_VILNIUS_P3 = ("La présidente de la Banque centrale européenne a plaidé pour un financement durable de la "
               "reconstruction, sans peser sur la stabilité des prix.")
_VILNIUS_P4 = ("Une déclaration commune a été adoptée mercredi soir, au terme de discussions qui ont duré "
               "plus longtemps que prévu.")


# ---------------------------------------------------------------- people and places
# Emmanuel Macron is named in three dispatches of 2019, « Macron » alone in one more (2019): the
# surname joins him (Brigitte Macron is named only in 2012, outside the period). Marine and
# Jean-Marie Le Pen are both named in 2019, so « Le Pen » alone stays apart. Co-occurrences of
# Emmanuel Macron over the archive: Édouard Philippe 2, Angela Merkel 1; Paris 3, Lyon 1, Berlin 1.

ENTITY_RECORDS = [
    {"id": "macron-1", "title": "Emmanuel Macron reçoit les maires à l'Élysée", "date": "2019-01-15", "source": "AFP",
     "chapo": "Le président Emmanuel Macron a reçu les maires de France.", "body": "Édouard Philippe était présent à Paris.",
     "people": ["Emmanuel Macron", "Édouard Philippe"], "places": ["Paris"]},
    {"id": "macron-2", "title": "Réforme des retraites : le gouvernement consulte", "date": "2019-03-02", "source": "AFP",
     "chapo": "Emmanuel Macron et Édouard Philippe ont reçu les syndicats à Paris.", "body": "La concertation reprend à Lyon.",
     "people": ["Emmanuel Macron", "Édouard Philippe"], "places": ["Paris", "Lyon"]},
    {"id": "macron-3", "title": "Emmanuel Macron rencontre Angela Merkel", "date": "2019-06-20", "source": "Reuters",
     "chapo": "Emmanuel Macron et Angela Merkel se sont vus à Berlin.", "body": "Les deux dirigeants parlent d'Europe.",
     "people": ["Emmanuel Macron", "Angela Merkel"], "places": ["Berlin"]},
    {"id": "macron-seul", "title": "Macron défend sa réforme", "date": "2019-09-10", "source": "AFP",
     "chapo": "Macron a défendu sa réforme devant la presse à Paris.", "body": "Le chef de l'État a promis des annonces.",
     "people": ["Macron"], "places": ["Paris"]},
    {"id": "brigitte-2012", "title": "Une enseignante au lycée d'Amiens", "date": "2012-05-04", "source": "AFP",
     "chapo": "Brigitte Macron enseigne le français à Amiens.", "body": "Ses élèves saluent son énergie.",
     "people": ["Brigitte Macron"], "places": ["Amiens"]},
    {"id": "marine", "title": "Marine Le Pen en meeting", "date": "2019-04-01", "source": "AFP",
     "chapo": "Marine Le Pen a tenu un meeting à Perpignan.", "body": "Elle a parlé des élections européennes.",
     "people": ["Marine Le Pen"], "places": ["Perpignan"]},
    {"id": "jean-marie", "title": "Jean-Marie Le Pen publie ses mémoires", "date": "2019-05-01", "source": "AFP",
     "chapo": "Jean-Marie Le Pen publie le second tome de ses mémoires.", "body": "Le livre sort en librairie.",
     "people": ["Jean-Marie Le Pen"], "places": []},
    {"id": "le-pen-seul", "title": "Le Pen réagit", "date": "2019-06-01", "source": "AFP",
     "chapo": "Le Pen a réagi aux résultats du scrutin.", "body": "Le parti s'est réuni à Nanterre.",
     "people": ["Le Pen"], "places": ["Nanterre"]},
    {"id": "paris-sans-date", "title": "Paris sous la neige", "source": "AFP",
     "chapo": "Paris s'est réveillée sous la neige.", "body": "Les transports ont été perturbés.",
     "people": [], "places": ["Paris"]},
]


# ---------------------------------------------------------------- agency items

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


# ---------------------------------------------------------------- the deep set

_DEEP_FILLER = [
    "Le trafic reste perturbé sur plusieurs lignes de la région.",
    "La direction a proposé une nouvelle réunion en fin de semaine.",
    "Les syndicats attendent des engagements écrits sur les salaires.",
    "Plusieurs navires patientent au large depuis mardi matin.",
    "Le ministère des Transports suit la situation de près.",
    "Les entreprises de logistique redoutent des retards importants.",
    "Une manifestation est prévue devant la préfecture jeudi.",
    "Les négociations avaient échoué le mois dernier.",
    "Le préfet appelle les deux parties au dialogue.",
    "Les exportations de céréales sont ralenties.",
]
_DEEP_WORDS = [
    "La grève se poursuit.", "Les grèves se multiplient.", "Les dockers tiennent bon.", "Un docker témoigne.",
    "La grève des dockers se durcit.", "Les dockers votent la grève.",
]


def _deep_records(n: int = 110) -> list[dict]:
    rng = random.Random(14)
    out = []
    for i in range(n):
        body = [rng.choice(_DEEP_FILLER) for _ in range(rng.randint(2, 14))]
        for _ in range(rng.randint(1, 4)):
            body.insert(rng.randint(0, len(body)), rng.choice(_DEEP_WORDS))
        body.insert(rng.randint(0, len(body)), "La grève continue." if rng.random() < 0.5 else "Les dockers manifestent.")
        body.insert(rng.randint(0, len(body)), "Les dockers sont en grève." if rng.random() < 0.3 else "Une grève touche des dockers.")
        rec = {"id": f"deep-{i:03d}", "title": f"{rng.choice(['Grève au port', 'Port bloqué', 'Conflit social', 'Quais à l’arrêt', 'Les dockers inquiets'])} ({i})",
               "date": f"{2020 + i // 40}-{1 + i % 40 // 4:02d}-{1 + i % 4 * 7:02d}", "body": " ".join(body)}
        if rng.random() < 0.75:
            lead = [rng.choice(_DEEP_FILLER) for _ in range(rng.randint(1, 2))]
            if rng.random() < 0.5:
                lead.insert(rng.randint(0, len(lead)), rng.choice(_DEEP_WORDS))
            rec["chapo"] = " ".join(lead)
        out.append(rec)
    return out


DEEP_RECORDS = _deep_records()


# ---------------------------------------------------------------- indexing


def write_corpus(folder: Path, records, seed: bool = False) -> Path:
    """Write records as one JSON Lines file in folder (and the seed dispatch beside it if asked); returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dispatches.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    if seed:
        (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def write_plain_corpus(folder: Path) -> Path:
    """PLAIN_DISPATCHES as .txt files, the seed dispatch and EXTRA_RECORDS as JSON Lines, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for ident, text in PLAIN_DISPATCHES.items():
        (folder / f"{ident}.txt").write_text(text, encoding="utf-8")
    (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "extra.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in EXTRA_RECORDS) + "\n", encoding="utf-8")
    return folder


def build_index(root: Path, records, seed: bool = False) -> Path:
    """Build (or rebuild: a new generation) an index of records in root, entities off; returns root."""
    # A fresh corpus folder beside root for each build, so that a rebuild reads only its records.
    corpus = write_corpus(root.parent / f"{root.name}-corpus-{time.monotonic_ns()}", records, seed)
    indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
    return root


def build_agency_index(root: Path) -> Path:
    """The web set, then the agency items added batch by batch (as an agency feed sends them)."""
    build_index(root, WEB_DISPATCHES)
    for i, batch in enumerate(AGENCY_BATCHES):
        folder = root.parent / f"{root.name}-agency-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "items.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in batch), encoding="utf-8")
        indexing.add([path], root, entities=False)
    return root


def write_fake_shared(shared: Path) -> Path:
    """A stand-in for ../shared: SEARCH_RECORDS as the OrangeSum corpus, four queries and their answers."""
    (shared / "corpus").mkdir(parents=True)
    (shared / "eval").mkdir()
    with gzip.open(shared / "corpus" / "orangesum.jsonl.gz", "wt", encoding="utf-8") as fh:
        for r in SEARCH_RECORDS:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    queries = [
        ("T1", "title", "Sommet de la paix à Genève"),
        ("K1", "keywords", "dockers grève conteneurs"),
        ("A1", "accentless", "une ecole de lyon ferme apres un incendie"),
        ("T2", "title", "rien de rien"),
    ]
    (shared / "eval" / "orangesum_queries.tsv").write_text("".join(f"{a}\t{b}\t{c}\n" for a, b, c in queries), encoding="utf-8")
    qrels = [("T1", "geneve-sommet"), ("K1", "marseille-port"), ("A1", "lyon-ecole"), ("T2", "prix-bas")]
    (shared / "eval" / "orangesum_qrels.txt").write_text("".join(f"{q} 0 {d} 1\n" for q, d in qrels), encoding="utf-8")
    return shared
