"""A small French corpus for the search tests, and helpers to index it in a temporary folder.

Written for the exact behaviours the tests check: elision (l'Alliance), accents (États-Unis /
Etats-Unis), a phrase (Pays-Bas) beside its words far apart, sources in two spellings, people
and places with accents, dates of every precision, a dispatch with HTML in its text and one
longer than Whoosh's 32 K highlight window.
"""
from __future__ import annotations

import json
from pathlib import Path

from search import indexing

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_46166f39458f7f75.txt"

FILLER = (
    "Le conseil municipal a examiné le budget annexe consacré à l'entretien des routes communales, "
    "sans qu'aucune décision ne soit prise sur le calendrier des travaux. "
)

RECORDS = [
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


def write_corpus(folder: Path, records=RECORDS, seed: bool = True) -> Path:
    """Write the fixture records (JSON Lines) and the seed dispatch into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fixtures.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8"
    )
    if seed:
        (folder / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def build(tmp_path: Path, records=RECORDS, seed: bool = True, name: str = "index") -> Path:
    """Index the fixture corpus (entities off) under ``tmp_path``; returns the index directory."""
    corpus = write_corpus(tmp_path / f"corpus-{name}", records, seed)
    root = tmp_path / name
    indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
    return root


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
