"""A small French archive for the people and places pages: counts small enough to check by hand.

Emmanuel Macron is named in three dispatches of 2019, « Macron » alone in one more (2019): the
surname joins him (Brigitte Macron is named only in 2012, outside the period). Marine and
Jean-Marie Le Pen are both named in 2019, so « Le Pen » alone stays apart. Co-occurrences of
Emmanuel Macron over the archive: Édouard Philippe 2, Angela Merkel 1; Paris 3, Lyon 1, Berlin 1.
"""
from __future__ import annotations

import json
from pathlib import Path

from search import indexing

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


def build_entity_index(root: Path) -> Path:
    """Index ENTITY_RECORDS (entities off: the records carry their people and places) in root."""
    corpus = root.parent / f"{root.name}-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "entities.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ENTITY_RECORDS), encoding="utf-8")
    indexing.rebuild([corpus], root, entities=False, procs=1, progress=False)
    return root
