"""Stories: near-duplicate dispatches grouped at index time, collapsed in results, listed with what changed."""
from __future__ import annotations

import sqlite3

import pytest

from search import indexing, stories
from search.engine import Engine
from search.generations import STORIES_FILE
from search.model import InvalidRequest, SearchRequest
from corpus import STORY_RECORDS, STORY_UPDATE, write_corpus


MAURES = '"massif des Maures"'  # the running story's versions and the 2019 dispatch have it


def _story_of(engine: Engine, doc_id: str) -> str:
    snap = engine.snapshot()
    return stories.story_name(int(snap.story_value[snap.docnum(doc_id)]))


def _text(record: dict) -> str:
    return stories.story_text(record["title"], record["chapo"], record["body"])


# ---------------------------------------------------------------- the grouping rule


def test_shingles_are_analyzed_terms_so_spelling_variants_do_not_count():
    assert stories.shingles("L'État a décidé de fermer les écoles") == stories.shingles("l’Etat a DECIDE de fermer l'école")
    assert stories.shingles("munitions") == {b"munit"}
    assert stories.shingles("") == set()


def test_similarity_estimates_jaccard_of_shingles():
    a = " ".join(f"mot{i} suivant{i} autre{i}" for i in range(60))
    assert stories.similarity(stories.signature(a), stories.signature(a)) == 1.0
    assert stories.similarity(stories.signature(a), stories.signature("La BCE relève ses taux directeurs")) < 0.1


def test_story_ids_are_the_index_column_numbers():
    sid = stories.story_id("feu-v1")
    assert len(sid) == 16 and stories.story_name(stories.story_number(sid)) == sid
    assert stories.story_number("feu-v1") is None and stories.story_number("0" * 16) is None
    assert stories.story_number("ABCDEF0123456789") is None  # ids are lower case


def test_date_window_needs_two_dates_to_the_day_a_few_days_apart():
    d = stories.day_number
    assert stories.within_window(d("2023-08-10"), d("2023-08-13"))
    assert stories.within_window(d("2023-08-13"), d("2023-08-10"))
    assert not stories.within_window(d("2023-08-10"), d("2023-09-10"))
    assert not stories.within_window(d("2019-08-10"), d("2023-08-10"))
    assert d("2023-08") is None and d(None) is None and d("2023-02-30") is None
    assert not stories.within_window(d("2023-08"), d("2023-08-10"))


def test_three_versions_days_apart_form_one_story_not_the_same_text_years_before(tmp_path):
    ix = stories.StoryIndex(tmp_path, fresh=True)
    got = {r["id"]: ix.assign(r["id"], r["date"], _text(r)) for r in STORY_RECORDS}
    ix.commit()
    ix.close()
    assert got["feu-v1"] == got["feu-v2"] == got["feu-v3"] == stories.story_id("feu-v1")
    # The same text as the first version, four years earlier: a story of its own.
    assert got["feu-2019"] == stories.story_id("feu-2019")
    # The same subject the same days written otherwise, and an unrelated dispatch: their own.
    assert got["feu-autre"] == stories.story_id("feu-autre")
    assert got["bce-taux"] == stories.story_id("bce-taux")
    members = {m.doc: m.story for m in stories.read_members(tmp_path)}
    assert members == got


def test_best_story_takes_the_most_similar_eligible_candidate():
    sig = stories.signature(_text(STORY_RECORDS[1]))
    day = stories.day_number("2023-08-11")
    far = stories.Member("far", "old-story", stories.day_number("2019-08-10"), sig)  # identical, years away
    near = stories.Member("near", "story-1", day, stories.signature(_text(STORY_RECORDS[0])))
    assert stories.best_story(sig, day, [far, near])[0] == "story-1"
    assert stories.best_story(sig, day, [far])[0] is None
    unrelated = stories.Member("bce", "story-2", day, stories.signature(_text(STORY_RECORDS[5])))
    story, best = stories.best_story(sig, day, [unrelated])
    assert story is None and best < stories.THRESHOLD


# ---------------------------------------------------------------- index time


def test_rebuild_stores_each_dispatch_story_and_the_story_index(story_index):
    engine = Engine(story_index)
    assert {_story_of(engine, i) for i in ("feu-v1", "feu-v2", "feu-v3")} == {stories.story_id("feu-v1")}
    assert _story_of(engine, "feu-2019") == stories.story_id("feu-2019")
    gen = indexing.current_generation(story_index)
    with sqlite3.connect(gen / STORIES_FILE) as conn:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone()[0] == len(STORY_RECORDS)
        headlines = sum(stories.title_key(r["title"]) is not None for r in STORY_RECORDS)
        assert conn.execute("SELECT COUNT(*) FROM bands").fetchone()[0] == len(STORY_RECORDS) * len(stories.BAND_RANGES) + headlines


def test_index_add_joins_an_existing_story_without_a_rebuild(story_index, tmp_path):
    gen_before = indexing.current_generation(story_index)
    report = indexing.add([write_corpus(tmp_path / "update", [STORY_UPDATE])], story_index, entities=False)
    assert report.indexed == 1
    assert indexing.current_generation(story_index) == gen_before  # no new generation
    engine = Engine(story_index)
    assert _story_of(engine, "feu-v4") == stories.story_id("feu-v1")
    resp = engine.search(SearchRequest(q=MAURES))
    first = next(h for h in resp.hits if h.story == stories.story_id("feu-v1"))
    assert first.other_versions == 3
    assert {m.doc for m in stories.read_members(gen_before)} == {r["id"] for r in STORY_RECORDS} | {"feu-v4"}


def test_the_watched_folder_joins_a_version_landing_there_to_its_story(story_index, tmp_path):
    from search.watch import Watcher

    inbox = tmp_path / "arrivee"
    write_corpus(inbox, [STORY_UPDATE])
    batches = Watcher(inbox, story_index, entities=False, settle=0.0, batch_seconds=0.0, say=lambda _m: None,
                      use_events=False).run(once=True)
    assert [b.indexed for b in batches] == [1]
    assert _story_of(Engine(story_index), "feu-v4") == stories.story_id("feu-v1")


def test_index_add_replacing_a_version_keeps_it_in_its_story(story_index, tmp_path):
    changed = dict(STORY_RECORDS[1], title="Incendie dans le massif des Maures : campings évacués")
    indexing.add([write_corpus(tmp_path / "again", [changed])], story_index, entities=False)
    engine = Engine(story_index)
    assert _story_of(engine, "feu-v2") == stories.story_id("feu-v1")
    assert sorted(m.doc for m in stories.read_members(indexing.current_generation(story_index))).count("feu-v2") == 1


def test_delete_takes_the_dispatch_out_of_its_story(story_index):
    indexing.delete(["feu-v3"], story_index)
    engine = Engine(story_index)
    resp = engine.search(SearchRequest(q=MAURES))
    assert next(h for h in resp.hits if h.story == stories.story_id("feu-v1")).other_versions == 1
    assert "feu-v3" not in {m.doc for m in stories.read_members(indexing.current_generation(story_index))}


# ---------------------------------------------------------------- search


def test_results_collapse_each_story_to_its_best_version_and_count_both(story_index):
    engine = Engine(story_index)
    resp = engine.search(SearchRequest(q=MAURES))
    assert resp.collapse == "story"
    assert resp.total == 4  # the three versions and the 2019 dispatch
    assert resp.stories == 2
    assert len(resp.hits) == 2
    by_story = {h.story: h for h in resp.hits}
    assert by_story[stories.story_id("feu-v1")].other_versions == 2
    assert by_story[stories.story_id("feu-2019")].other_versions == 0
    flat = engine.search(SearchRequest(q=MAURES, collapse="none"))
    assert flat.total == 4 and flat.stories == 2 and len(flat.hits) == 4
    assert {h.id for h in flat.hits} == {"feu-v1", "feu-v2", "feu-v3", "feu-2019"}
    # The version shown is the one that ranks first among the story's versions.
    best = next(h.id for h in flat.hits if h.story == stories.story_id("feu-v1"))
    assert by_story[stories.story_id("feu-v1")].id == best


def test_date_orders_show_the_newest_or_oldest_version(story_index):
    engine = Engine(story_index)
    newest = engine.search(SearchRequest(q=MAURES, sort="newest"))
    assert [h.id for h in newest.hits] == ["feu-v3", "feu-2019"]
    oldest = engine.search(SearchRequest(q=MAURES, sort="oldest"))
    assert [h.id for h in oldest.hits] == ["feu-2019", "feu-v1"]


def test_pages_count_stories_when_collapsed(story_index):
    engine = Engine(story_index)
    resp = engine.search(SearchRequest(q=MAURES, per_page=1, page=2))
    assert resp.pages == 2 and [h.id for h in resp.hits] == ["feu-2019"]
    assert engine.search(SearchRequest(q=MAURES, per_page=1, page=3)).hits == []
    assert engine.search(SearchRequest(q=MAURES, per_page=1, collapse="none")).pages == 4


def test_export_results_collapse_too_and_carry_the_story(story_index):
    engine = Engine(story_index)
    resp, hits = engine.results(SearchRequest(q=MAURES, sort="oldest"), 100)
    rows = list(hits)
    assert resp.total == 4 and resp.stories == 2
    assert [(h.id, h.story) for h in rows] == [("feu-2019", stories.story_id("feu-2019")),
                                                ("feu-v1", stories.story_id("feu-v1"))]
    _, every = engine.results(SearchRequest(q=MAURES, sort="oldest", collapse="none"), 100)
    assert [h.id for h in every] == ["feu-2019", "feu-v1", "feu-v2", "feu-v3"]


def test_bad_collapse_is_refused(story_index):
    with pytest.raises(InvalidRequest) as e:
        Engine(story_index).search(SearchRequest(q="incendie", collapse="histoire"))
    assert e.value.code == "bad_collapse"


def test_story_lists_versions_newest_first_with_what_changed(story_index):
    engine = Engine(story_index)
    got = engine.story(stories.story_id("feu-v1"))
    assert got["total"] == 3
    assert [v["id"] for v in got["versions"]] == ["feu-v3", "feu-v2", "feu-v1"]
    v3, v2, v1 = got["versions"]
    assert v1["changed"] == "première version" and v1["added"] == [] and v1["removed"] == []
    assert v2["changed"] == "titre modifié, 1 paragraphe ajouté"
    assert v2["added"] == [STORY_UPDATE_P4] and v2["removed"] == []
    assert v3["changed"] == "titre modifié, 1 paragraphe modifié"
    assert v3["removed"] == [STORY_UPDATE_P4] and v3["added"][0].startswith("Le feu a été fixé samedi matin")
    assert v3["date"] == "2023-08-13" and v3["source"] == "AFP"
    assert engine.story("inconnue") is None


def test_story_is_capped_to_its_newest_versions(story_index):
    got = Engine(story_index).story(stories.story_id("feu-v1"), limit=2)
    assert got["total"] == 3
    assert [v["id"] for v in got["versions"]] == ["feu-v3", "feu-v2"]
    assert got["versions"][1]["changed"] == "titre modifié, 1 paragraphe ajouté"  # still against v1


STORY_UPDATE_P4 = STORY_RECORDS[1]["body"].split("\n\n")[2]


# ---------------------------------------------------------------- one headline, a running story

POINT = "Coronavirus : le point sur la pandémie dans le monde"
DAILY = [
    ("2020-04-01", "Le virus a fait plus de 40 000 morts, dont 12 000 en Italie, selon un comptage."),
    ("2020-04-03", "Les États-Unis comptent désormais 6 000 décès ; New York installe des hôpitaux de campagne."),
    ("2020-04-06", "L'Inde prolonge son confinement de deux semaines et le Japon déclare l'urgence sanitaire."),
    ("2020-04-08", "La Chine rouvre Wuhan tandis que l'Espagne autorise la reprise de certains chantiers."),
]


def test_daily_updates_under_one_headline_form_one_story_however_their_texts_differ(tmp_path):
    ix = stories.StoryIndex(tmp_path, fresh=True)
    got = [ix.assign(f"point-{i}", date, f"{POINT}\n\n{text}", POINT) for i, (date, text) in enumerate(DAILY)]
    # Its texts share nothing: only the headline ties them, each a few days after the last.
    assert stories.similarity(stories.signature(DAILY[0][1]), stories.signature(DAILY[3][1])) < stories.THRESHOLD
    assert got == [stories.story_id("point-0")] * 4
    # The same headline two months later, and a rubric's short headline, are stories of their own.
    later = ix.assign("point-juin", "2020-06-15", f"{POINT}\n\nLe Brésil dépasse le million de cas.", POINT)
    forecasts = ["Du soleil sur la Bretagne et des orages en Alsace.", "Pluie sur tout le pays, neige dans les Alpes."]
    meteo = [ix.assign(f"meteo-{d}", f"2020-04-0{d}", f"Météo\n\n{text}", "Météo") for d, text in enumerate(forecasts, 1)]
    assert later == stories.story_id("point-juin")
    assert meteo == [stories.story_id("meteo-1"), stories.story_id("meteo-2")]
    ix.commit()
    ix.close()
    # index add: a new day's update joins the stored story through its headline.
    with stories.StoryIndex(tmp_path) as ix2:
        assert ix2.assign("point-5", "2020-04-10", f"{POINT}\n\nL'Europe prépare le déconfinement.", POINT) == stories.story_id("point-0")
        # A weekly rubric's headline a week on: new content, a story of its own.
        quiz = "Qui a dit ? Les petites phrases de la semaine"
        first = ix2.assign("quiz-1", "2020-04-03", f"{quiz}\n\nMacron, Le Pen et Mélenchon ont fait parler.", quiz)
        assert ix2.assign("quiz-2", "2020-04-10", f"{quiz}\n\nLa réforme des retraites a occupé l'Assemblée.", quiz) != first


def test_a_story_index_written_before_headlines_counted_is_opened(tmp_path):
    with sqlite3.connect(tmp_path / STORIES_FILE) as conn:
        conn.executescript("CREATE TABLE members (n INTEGER PRIMARY KEY, doc TEXT NOT NULL UNIQUE, story TEXT NOT NULL, "
                           "day INTEGER, signature BLOB NOT NULL);")
    with stories.StoryIndex(tmp_path) as ix:
        assert ix.assign("point-0", "2020-04-01", POINT, POINT) == stories.story_id("point-0")
        ix.commit()
    assert [m.title for m in stories.read_members(tmp_path)] == [stories.title_key(POINT)]


def test_commit_stores_every_band_key_of_every_member_across_commits(tmp_path, monkeypatch):
    monkeypatch.setattr(stories, "KEY_ROWS_CHUNK", 5)  # rows handed to SQLite in several chunks
    texts = {f"d{i}": f"Dépêche numéro {i} : le conseil municipal de Lyon vote le budget {i * 7} de la ville" for i in range(6)}
    with stories.StoryIndex(tmp_path, fresh=True) as ix:
        for doc in ["d0", "d1", "d2"]:
            ix.assign(doc, "2020-04-01", texts[doc], f"Budget de Lyon {doc}")
        ix.commit()
    with stories.StoryIndex(tmp_path) as ix:
        for doc in ["d3", "d4", "d5"]:
            ix.assign(doc, "2020-04-02", texts[doc], f"Budget de Lyon {doc}")
        ix.commit()
    with sqlite3.connect(tmp_path / STORIES_FILE) as conn:
        number = dict(conn.execute("SELECT doc, n FROM members"))
        stored = set(conn.execute("SELECT key, n FROM bands"))
    want = {(k, number[doc]) for doc in texts
            for k in stories.band_keys(stories.signature(texts[doc])) + [stories.title_key(f"Budget de Lyon {doc}")]}
    assert sorted(number) == sorted(texts) and stored == want
