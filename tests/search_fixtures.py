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
