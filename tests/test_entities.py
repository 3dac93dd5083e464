"""People and places (issue 6): exact French behaviour on small fixture dispatches.

The model is loaded once per module (n_process=1: spawning workers costs more than these few
texts). Nothing here reads ../shared.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from search.entities import EntityExtractor, entity_key
from search.entities import extractor as E

ROOT = Path(__file__).resolve().parents[1]

# Written like the seed dispatch (ATS, June 2023), with its traps: "Ramstein" and "Le ministre"
# tagged as people, "la Défense", "Les", "Nouvelles", "A", "Ukrainiens" as places, "(Oleksiy)".
SEED_LIKE = """Le secrétaire général de l'Otan, Jens Stoltenberg, a plaidé mercredi pour un soutien militaire accru de l'Alliance aux forces ukrainiennes face à la Russie.

Les ministres de la Défense de l'Alliance retrouveront jeudi leur homologue ukrainien, avant le sommet prévu dans un mois à Vilnius.

'Le ministre (Oleksiy) Reznikov et les commandants militaires ukrainiens vont informer des besoins urgents', a expliqué Jens Stoltenberg, de retour de Washington.

Le groupe de contact pour l'Ukraine, dit groupe de Ramstein, dirigé par les Etats-Unis, se réunira au siège de l'Otan à Bruxelles.

Nouvelles annonces

Stoltenberg attend de 'nouvelles annonces' après celles faites par les Etats-Unis, le Danemark, les Pays-Bas et l'Allemagne. Les Ukrainiens progressent, a-t-il souligné.

A un mois du sommet de Vilnius, plusieurs sujets divisent encore l'Alliance.
"""

# Titles, a typo, a first name standing for a fuller one, a later surname; places needing accents,
# institutions, an administrative prefix and a demonym.
POLITICS = """Municipales : la préfète de l'Ile-de-France reçoit les candidats
Mme Sandrine Morvan, candidate à la mairie de Besançon, a rencontré jeudi le président Emmanuel Macron à l'Élysée. Selon Mme Morvan, l'entretien a porté sur la ville.
Le député Julien Larcher, proche de Matignon, a défendu la réforme. Larcher a ensuite rejoint Lyon.
"Nous attendons des réponses", a déclaré Julian Larcher devant la presse, tandis que les Bisontins manifestaient. Le procureur de la République de Grasse a été saisi.
"""

OUTSIDE = """Le lac de Vassivière sous surveillance
Les pompiers de la Creuse sont intervenus samedi près du lac de Vassivière, dans le Limousin, où un incendie a menacé le village de Saint-Martin-Château. Les habitants de Limoges ont vu la fumée.
"""


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    path = tmp_path_factory.mktemp("entities") / "entities.sqlite"
    with EntityExtractor(path, n_process=1, batch_size=8) as ex:
        yield ex


def extract(ex: EntityExtractor, text: str):
    return next(ex.extract_many([text]))


def keys(names):
    return {entity_key(n) for n in names}


# --------------------------------------------------------------------------- pure functions


def test_import_does_not_load_spacy():
    code = "import sys, search.entities; assert 'spacy' not in sys.modules and 'thinc' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_cache_key_depends_on_model_version(monkeypatch):
    k = E.cache_key("texte")
    monkeypatch.setattr(E, "MODEL_VERSION", E.MODEL_VERSION + "x")
    assert E.cache_key("texte") != k


# --------------------------------------------------------------------------- with the model


def test_seed_like_dispatch(extractor):
    people, places = extract(extractor, SEED_LIKE)
    assert people == ["Jens Stoltenberg", "Oleksiy Reznikov"]
    assert {"Vilnius", "Washington", "Bruxelles", "États-Unis", "Danemark", "Pays-Bas", "Allemagne",
            "Ukraine", "Russie"} <= set(places)
    assert not keys(places) & keys(["Otan", "Alliance", "Défense", "la Défense", "Les", "Nouvelles",
                                    "A", "Ukrainiens"])
    assert "Etats-Unis" not in places  # accents restored from the gazetteer
    assert len(places) == len(set(keys(places)))  # one entry per place


def test_shipped_seed(extractor):
    seed = ROOT / "seeds" / "000_46166f39458f7f75.txt"
    if not seed.exists():
        pytest.skip("seed dispatch not in this checkout")
    people, places = extract(extractor, seed.read_text(encoding="utf-8"))
    assert people == ["Jens Stoltenberg", "Oleksiy Reznikov"]
    assert {"Vilnius", "Washington", "Bruxelles", "États-Unis", "Danemark", "Pays-Bas", "Allemagne",
            "Ukraine", "Russie"} <= set(places)
    assert not keys(places) & keys(["Otan", "Alliance", "Défense", "Les", "Nouvelles", "A", "Ukrainiens"])


def test_people_titles_typos_and_canonical_names(extractor):
    people, places = extract(extractor, POLITICS)
    # "Mme Morvan" → "Sandrine Morvan"; "Larcher" and the typo "Julian Larcher" → "Julien Larcher".
    assert people == ["Sandrine Morvan", "Emmanuel Macron", "Julien Larcher"]
    assert "Île-de-France" in places and "Ile-de-France" not in places
    assert {"Besançon", "Lyon"} <= set(places)
    assert not keys(places) & keys(["Élysée", "Matignon", "Bisontins", "République", "République de Grasse"])


def test_natural_places_and_demonyms(extractor):
    people, places = extract(extractor, OUTSIDE)
    assert people == []
    assert {"lac de Vassivière", "Creuse", "Limousin", "Limoges"} <= set(places)
    assert "Saint-Martin-Château" in places
    assert not keys(places) & keys(["Samedi", "Les", "pompiers"])


def test_empty_and_long_texts(extractor):
    assert extract(extractor, "") == ([], [])
    assert extract(extractor, "  \n ") == ([], [])
    long = ("Angela Merkel s'est rendue à Berlin. " * 40_000)  # 1.4 MB, capped before the model
    people, places = extract(extractor, long)
    assert people == ["Angela Merkel"] and places == ["Berlin"]


def test_order_progress_and_cache_hits(tmp_path, monkeypatch):
    texts = [SEED_LIKE, "", OUTSIDE, SEED_LIKE, POLITICS]
    path = tmp_path / "cache.sqlite"
    with EntityExtractor(path, n_process=1) as ex:
        done = []
        first = list(ex.extract_many(iter(texts), progress=done.append))
        assert sum(done) == len(texts)
        assert ex.model_runs == 4  # the empty text never reaches the model
    assert first[1] == ([], [])
    assert first[0] == first[3]

    # A rebuild over unchanged texts: every text is a cache hit, the model is never loaded.
    def boom(*a, **k):
        raise AssertionError("the model ran on a cached text")

    monkeypatch.setattr(E, "load_model", boom)
    monkeypatch.setattr(EntityExtractor, "_run_model", boom)
    with EntityExtractor(path, n_process=2) as ex:
        again = list(ex.extract_many(t for t in texts))
        assert ex.model_runs == 0
    assert again == first


def test_model_version_change_misses_the_cache(tmp_path, monkeypatch, extractor):
    path = tmp_path / "cache.sqlite"
    with EntityExtractor(path, n_process=1) as ex:
        ex._nlp = extractor.nlp  # share the loaded model
        list(ex.extract_many([OUTSIDE]))
        assert ex.model_runs == 1
    monkeypatch.setattr(E, "MODEL_VERSION", E.MODEL_VERSION + "+changed")
    with EntityExtractor(path, n_process=1) as ex:
        ex._nlp = extractor.nlp
        list(ex.extract_many([OUTSIDE]))
        assert ex.model_runs == 1


def test_two_writers_share_one_cache(tmp_path, extractor):
    path = tmp_path / "shared.sqlite"
    a, b = EntityExtractor(path, n_process=1), EntityExtractor(path, n_process=1)
    a._nlp = b._nlp = extractor.nlp
    try:
        ra = list(a.extract_many([SEED_LIKE]))
        rb = list(b.extract_many([OUTSIDE, SEED_LIKE]))
        assert rb[1] == ra[0] and b.model_runs == 1
    finally:
        a.close()
        b.close()


def test_no_cache_and_two_processes():
    with EntityExtractor(None, n_process=2, batch_size=2) as ex:
        out = list(ex.extract_many([SEED_LIKE, OUTSIDE, "", SEED_LIKE, OUTSIDE]))
    assert [o[0] for o in out] == [["Jens Stoltenberg", "Oleksiy Reznikov"], [], [],
                                   ["Jens Stoltenberg", "Oleksiy Reznikov"], []]


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_indexer_leaves_no_model_workers(tmp_path):
    """kill -9 of an indexer mid-extraction: its two model workers must not linger."""
    import os
    import signal
    import time

    script = (
        "import itertools, sys\n"
        "from search.entities import EntityExtractor\n"
        "texts = (f'Jens Stoltenberg est à Vilnius, jour {i}.' for i in itertools.count())\n"
        "with EntityExtractor(None, n_process=2, batch_size=4) as ex:\n"
        "    for i, _ in enumerate(ex.extract_many(texts)):\n"
        "        if i == 50: print('running', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "running"
        workers = _children(proc.pid)
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [w for w in workers if Path(f"/proc/{w}").exists()
                     and Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
        assert not alive, f"model workers {alive} outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_model_is_loaded_once_per_process():
    # `index watch` adds a batch every second: reloading spaCy each time cost a second a batch.
    from search.entities import load_model

    assert load_model() is load_model()


# ---------------------------------------------------------------- brands are no people, newspapers no places

BRANDS = [
    ("Hong Kong : une grenade découverte dans une usine de chips\nUne grenade a été découverte mardi dans "
     "l'usine de production de chips Calbee Snacks, a annoncé la police. L'engin a été neutralisé sans problème.",
     []),
    ("Mort de Stanley Ho, le magnat des casinos de Macao\nSon empire, la Sociedade de Jogos de Macau Holdings "
     "(SJM), reste un des principaux acteurs du jeu à Macao. Stanley Ho était la 13e fortune de Hong Kong.",
     ["Stanley Ho"]),
    ("Miss France : le best-of des moments gênants\nUne séquence à retrouver sur Non Stop Zapping. Stop Zapping "
     "vous propose aussi un best-of. Sylvie Tellier a réagi.",
     ["Sylvie Tellier"]),
]


@pytest.mark.parametrize("text, people", BRANDS)
def test_brands_and_companies_are_not_people(extractor, text, people):
    assert extract(extractor, text)[0] == people


@pytest.mark.parametrize("name, organisation", [
    ("Calbee Snacks", True),  # a plural noun where the surname should be
    ("Macau Holdings", True),  # a business noun last
    ("Air Lease Corporation", True),
    ("Stop Zapping", True),  # only capitalised common words
    ("Non Stop Zapping", True),  # « Non » is no first name here
    ("Olivier Berger", False),  # common words, but a first name first
    ("Laurent Blanc", False),
    ("Julia Roberts", False),  # « Roberts » is a plural noun, after a first name
    ("Bruno Le Maire", False),
    ("Le Pen", False),
    ("Evo Morales", False),
])
def test_organisation_name_rules(name, organisation):
    from search.entities.people import organisation_name

    assert organisation_name(name) is organisation


def test_newspaper_is_not_a_place(extractor):
    text = ("Une mygale dans un sac de riz\nUne habitante d'Arnhem, aux Pays-Bas, a trouvé une mygale, raconte "
            "Sud Ouest. Comme le rapporte Sud-Ouest, l'animal est inoffensif, selon le quotidien régional Sud Ouest.")
    assert extract(extractor, text)[1] == ["Arnhem", "Pays-Bas"]
    # With its article, the region is a place.
    text = "Orages dans le Sud-Ouest\nDe violents orages ont frappé le Sud-Ouest samedi, notamment à Bordeaux."
    assert "Sud-Ouest" in extract(extractor, text)[1]


def test_rules_are_part_of_the_cache_key():
    # Any edit of the entity modules or data/ changes MODEL_VERSION, so cached results of old rules are never read.
    assert f"+rules-{E._rules_digest()}" in E.MODEL_VERSION
    assert "company_words.txt" in [p.name for p in E.DATA.glob("*.txt")]
    assert "+names-" in E.MODEL_VERSION  # and the first-name dictionary's version
