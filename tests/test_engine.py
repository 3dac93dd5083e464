"""The Engine on a small French index: matching, operators, ranking exactness, requests, generations."""
from __future__ import annotations

import json
import random
import threading
import time

import numpy as np
import pytest

from search.analysis import SCHEMA_VERSION
from search import engine as engine_module, indexing, ranking
from search.engine import Engine
from search.model import (
    MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, PARAGRAPH, SUBHEAD, Block, InvalidRequest, SearchRequest, Segment,
)

from corpus import SEARCH_RECORDS, build_index

SEED_ID = "000_46166f39458f7f75"


def ids(engine, q, **kw):
    return [h.id for h in engine.search(SearchRequest(q=q, per_page=100, **kw)).hits]


# ---------------------------------------------------------------- French matching


def test_elision_and_case(engine):
    assert "otan-munitions" in ids(engine, "alliance")  # text: L'Alliance
    assert "otan-munitions" in ids(engine, "ALLIANCE")


def test_accents_both_ways(engine):
    with_accent = set(ids(engine, "États-Unis"))
    without = set(ids(engine, "etats-unis"))
    assert with_accent == without
    assert {"otan-munitions", "otan-obus"} <= without  # "États-Unis" and "Etats-Unis" in the texts


def test_plural_and_singular(engine):
    assert {"otan-munitions", "otan-obus", SEED_ID} <= set(ids(engine, "munition"))


def test_long_natural_query_finds_the_dispatch(engine):
    # Not every word is in the seed dispatch: the search falls back to ranked partial matches.
    assert ids(engine, "Stoltenberg plaide pour un soutien accru à l'Ukraine")[0] == SEED_ID


def test_all_words_first_then_partial(engine):
    # Both dispatches have "munitions" and "Stoltenberg"; other documents have only one word.
    res = engine.search(SearchRequest(q="Stoltenberg munitions", per_page=100))
    got = [h.id for h in res.hits]
    assert set(got[:3]) == {"otan-munitions", "otan-obus", SEED_ID}


def test_a_partial_match_says_so_and_names_what_each_hit_lacks(engine):
    # No dispatch has both « Macron » and « pangolin »: ranked partial matches, each hit saying
    # which word it lacks, so 209 results never pass for results about both.
    res = engine.search(SearchRequest(q="Macron pangolin", per_page=100))
    assert res.match == "some" and res.total >= 3
    by_id = {h.id: h.missing for h in res.hits}
    assert by_id["long-dispatch"] == ["Macron"]
    assert by_id["macron-hollande"] == ["pangolin"]
    assert by_id["geneve-sommet"] == ["pangolin"]


def test_a_full_match_lists_nothing_missing(engine):
    res = engine.search(SearchRequest(q="munitions"))
    assert res.match == "all" and res.total >= 3 and all(h.missing == [] for h in res.hits)
    # Fewer than ten dispatches have both words: partial, but those having both lack nothing.
    res = engine.search(SearchRequest(q="Stoltenberg munitions"))
    assert res.match == "some" and all(h.missing == [] for h in res.hits[:3])
    # With ET every word is required: never partial, here nothing.
    res = engine.search(SearchRequest(q="Macron ET pangolin"))
    assert res.match == "none" and res.total == 0
    assert engine.search(SearchRequest(q="Macron ET Hollande")).match == "all"
    # Only stop words: nothing to match.
    assert engine.search(SearchRequest(q="le la les")).match == "none"


def test_partial_or_and_phrase_clauses_are_named_as_typed(engine):
    res = engine.search(SearchRequest(q='pangolin "défense aérienne" OR Vilnius', per_page=100))
    assert res.match == "some"
    lacks = {h.id: h.missing for h in res.hits}
    assert lacks["long-dispatch"] == ["« défense aérienne » OU Vilnius"]


def test_plural_verb_finds_other_forms_but_nouns_in_ent_stay_themselves(tmp_path):
    texts = {
        "v1": "Les pêcheurs manifestent devant la préfecture de Brest.",
        "v2": "Le syndicat manifeste sa colère à Lorient.",
        "v3": "Une manifestation a réuni mille personnes à Quimper.",
        "v4": "Les agriculteurs vont manifester lundi à Rennes.",
        "p1": "Le président du club a démissionné.",
        "p2": "Le président de la région était absent.",
        "p3": "La réunion était présidée par le maire.",
    }
    records = [{"id": k, "chapo": v, "body": "Texte de la dépêche."} for k, v in texts.items()]
    engine = Engine(build_index(tmp_path / "index", records))
    assert set(ids(engine, "manifestent")) == {"v1", "v2", "v3", "v4"}
    assert ids(engine, "manifestent")[0] == "v1"  # the form typed first
    assert set(ids(engine, "président")) == {"p1", "p2"}  # a noun is not a verb form of "présider"


# ---------------------------------------------------------------- operators


def test_phrase_needs_adjacent_words(engine):
    phrase = set(ids(engine, '"Pays-Bas"'))
    assert "otan-munitions" in phrase
    assert "prix-bas" not in phrase  # "bas ... pays" far apart and in the other order
    assert "prix-bas" in ids(engine, "pays bas")  # as plain words it matches


def test_a_phrase_checked_once_is_answered_the_same_from_the_cache_as_doc_numbers(engine):
    first = ids(engine, '"Pays-Bas"')
    cache = engine.snapshot().phrase_masks
    held = [v for k, v in cache.items() if k == ("pay", "bas")]
    # Doc numbers, not a mask the size of the archive, for each phrase kept.
    assert held and held[0].dtype == np.int32 and len(held[0]) < engine.snapshot().n
    assert ids(engine, '"Pays-Bas"') == first and "prix-bas" not in first


def test_phrase_with_stop_words_inside(engine):
    assert ids(engine, '"ministres de la Défense"')[:1] in (["otan-munitions"], [SEED_ID])
    assert "geneve-sommet" not in ids(engine, '"ministres de la Défense"')


def test_phrase_absent_everywhere_falls_back_to_words_with_notice(engine):
    res = engine.search(SearchRequest(q='"munitions de Genève"'))
    assert res.notice and "expression exacte" in res.notice
    assert res.total > 0


def test_exclusion(engine):
    got = ids(engine, "munitions -Vilnius")
    assert "otan-obus" in got
    assert "otan-munitions" not in got and SEED_ID not in got
    assert "otan-munitions" not in ids(engine, 'munitions -"Pays-Bas"')


def test_or_ou_and_et(engine):
    assert set(ids(engine, "Lyon OU Marseille")) == {"lyon-ecole", "marseille-port"}
    assert set(ids(engine, "Lyon OR Marseille")) == {"lyon-ecole", "marseille-port"}
    # OR binds tighter than the implicit AND; with few documents having everything, partial
    # matches follow the complete one.
    got = ids(engine, "école OU dockers incendie")
    assert got[0] == "lyon-ecole" and set(got) == {"lyon-ecole", "marseille-port"}
    assert ids(engine, "école OU dockers ET incendie") == ["lyon-ecole"]
    # ET: every word required, no fallback even when nothing has them all.
    assert ids(engine, "Lyon ET Marseille") == []


def test_prefix(engine):
    got = set(ids(engine, "munit*"))
    assert {"otan-munitions", "otan-obus", SEED_ID, "html-dispatch"} <= got
    assert "lyon-ecole" not in got
    assert "otan-munitions" in ids(engine, "muniti*")  # longer than the stem "munit"


def test_a_search_leaves_no_reference_cycle_behind(engine):
    # Whatever a search leaves in a cycle (its masks with it) waits for the garbage collector.
    import gc

    engine.snapshot().vocabulary(wait=30)
    requests = [dict(q="munitions Stoltenberg"), dict(q="(munit* OU obus) -Lyon"), dict(q='"munitions pour l\'Ukraine"'),
                dict(q="munitons"), dict(q="otan OU fran*", collapse="story"), dict(q="", date_from="2023-06-15"),
                dict(q="munitions", sort="newest", people=["Jens Stoltenberg"])]
    left = []
    # A cycle the searches make shows at every try; one let go meanwhile by another test's
    # thread (an engine of its own ending), at one try at most.
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            for kw in requests:
                engine.search(SearchRequest(**kw))
            left.append(gc.collect())
        finally:
            gc.enable()
        if left[-1] == 0:
            break
    assert left[-1] == 0, left


def test_fields(engine):
    assert set(ids(engine, "personne:Stoltenberg")) == {"otan-munitions", "otan-obus"}
    assert set(ids(engine, 'personne:"jens stoltenberg"')) == {"otan-munitions", "otan-obus"}
    assert ids(engine, "lieu:geneve") == ["geneve-sommet"]
    assert set(ids(engine, "source:afp")) == {"otan-obus", "prix-bas", "lyon-ecole", "macron-hollande"}
    assert set(ids(engine, "munitions source:ATS")) == {"otan-munitions", "html-dispatch", SEED_ID}
    assert ids(engine, "titre:obus") == ["otan-obus"]


def test_dates_in_query_and_request(engine):
    assert set(ids(engine, "date:2023-06")) == {"otan-munitions", "otan-obus", SEED_ID}
    assert set(ids(engine, "date:2023-01..2023-05")) == {"prix-bas", "lyon-ecole", "macron-hollande"}
    assert set(ids(engine, "date:2022")) == {"geneve-sommet", "marseille-port"}
    assert set(ids(engine, "", date_from="2023-06-15", date_to="2023-06-30")) == {"otan-obus"}
    assert set(ids(engine, "munitions", date_from="2023")) == {"otan-munitions", "otan-obus", SEED_ID}


def test_malformed_query_is_searched_as_words(engine):
    res = engine.search(SearchRequest(q='"munitions Vilnius'))
    assert res.notice and "mal formée" in res.notice
    assert res.hits and res.hits[0].id in ("otan-munitions", SEED_ID)
    res = engine.search(SearchRequest(q="inconnu:valeur munitions"))
    assert res.notice and res.total > 0


def test_empty_query_lists_everything_newest_first(engine):
    res = engine.search(SearchRequest(q="", per_page=100))
    assert res.total == len(SEARCH_RECORDS) + 1
    dates = [h.date for h in res.hits if h.date]
    assert dates[0] == "2023-06-20"
    assert res.hits[-1].date is None  # undated last


def test_stop_words_only_find_nothing(engine):
    assert engine.search(SearchRequest(q="le la les")).total == 0


# ---------------------------------------------------------------- sorting, paging, exactness


def test_sort_by_date(engine):
    newest = [h.date for h in engine.search(SearchRequest(q="munitions", sort="newest", per_page=100)).hits]
    oldest = [h.date for h in engine.search(SearchRequest(q="munitions", sort="oldest", per_page=100)).hits]
    assert newest == ["2023-06-20", "2023-06-14", "2023-06", "2021-03-02"]
    assert oldest == ["2021-03-02", "2023-06", "2023-06-14", "2023-06-20"]


def test_hits_carry_display_fields(engine):
    hit = engine.search(SearchRequest(q="Genève")).hits[0]
    assert hit.id == "geneve-sommet" and hit.source == "Reuters" and hit.date == "2022-11"
    assert hit.people == ["Emmanuel Macron", "Olaf Scholz"] and hit.places == ["Genève"]
    assert hit.title_segments == [Segment("Sommet de la paix à "), Segment("Genève", True)]
    assert hit.score > 0


def _random_records(n: int, seed: int = 7):
    rnd = random.Random(seed)
    vocab = ("guerre paix accord traité sommet ministre défense armée munitions obus frontière élection vote "
             "réforme retraite grève usine emploi salaire prix inflation récolte blé pluie orage incendie forêt").split()
    out = []
    for i in range(n):
        words = [rnd.choice(vocab) for _ in range(rnd.randint(5, 40))]
        out.append({"id": f"r{i:04d}", "title": " ".join(rnd.sample(vocab, 3)) if i % 3 else None,
                    "date": f"20{rnd.randint(10, 23)}-{rnd.randint(1, 12):02d}", "chapo": " ".join(words[:6]) if i % 4 else "",
                    "body": " ".join(words[6:]) or "texte", "source": rnd.choice(["AFP", "ATS"])})
    return out


def test_top_k_is_the_top_of_the_full_ranking(tmp_path):
    """Whoosh's block-quality shortcut can return another top 10 for limit=10 than limit=None
    (issue #413); the engine ranks every match, so any page size gives the same order."""
    root = build_index(tmp_path / "index", _random_records(400))
    engine = Engine(root)
    rnd = random.Random(3)
    vocab = "guerre paix accord ministre défense munitions obus élection réforme grève prix récolte incendie".split()
    for _ in range(25):
        q = " ".join(rnd.sample(vocab, rnd.randint(1, 4)))
        full = engine.search(SearchRequest(q=q, per_page=100, page=1)).hits + engine.search(SearchRequest(q=q, per_page=100, page=2)).hits
        full_ids = [h.id for h in full]
        assert len(full_ids) == len(set(full_ids))
        for k in (1, 3, 10, 25):
            assert [h.id for h in engine.search(SearchRequest(q=q, per_page=k)).hits] == full_ids[:k], (q, k)
        paged = []
        for page in range(1, 8):
            paged += [h.id for h in engine.search(SearchRequest(q=q, per_page=7, page=page)).hits]
        assert paged == full_ids[: len(paged)]
        # Beyond the re-ranked head the order is the stage-1 BM25F order, checked independently.
        depth = ranking.DEFAULT_PARAMS.rerank_depth
        tail = full[depth:]
        assert all(a.score >= b.score for a, b in zip(tail, tail[1:])), q
        if len(full) > depth:
            assert min(h.score for h in full[:depth]) >= 0


def test_stage_one_scores_match_a_naive_bm25f(tmp_path):
    """The numpy scores equal a plain per-document BM25F computed from each document's own
    analysed text (lengths rounded to one byte as Whoosh stored them when the ranking was tuned)."""
    from collections import Counter

    from whoosh.util.numeric import byte_to_length, length_to_byte

    from search import analysis, postings

    root = build_index(tmp_path / "index", _random_records(150, seed=11))
    params = ranking.RankingParams(rerank_depth=0, and_min_results=10**9)  # stage 1, OR
    engine = Engine(root, params=params)
    ix, _, _ = indexing.open_generation(root)
    with ix.searcher() as s:
        n = s.doc_count_all()
        stored = [s.stored_fields(doc) for doc in range(n)]
    counts = [{f: Counter(analysis.terms(text)) for f, text in postings.indexed_texts(sf).items()} for sf in stored]
    exact = [{f: sum(c[f].values()) for f in ranking.TEXT_FIELDS} for c in counts]
    avg = {f: sum(e[f] for e in exact) / n for f in ranking.TEXT_FIELDS}
    rounded = [{f: byte_to_length(length_to_byte(e[f])) for f in ranking.TEXT_FIELDS} for e in exact]
    for q in ("munitions obus", "réforme", "guerre paix accord"):
        terms = list(dict.fromkeys(analysis.terms(q)))
        expected = {}
        for doc in range(n):
            total = 0.0
            for t in terms:
                df = sum(1 for c in counts if any(c[f][t] for f in ranking.TEXT_FIELDS))
                xs = {}
                for f in ranking.TEXT_FIELDS:
                    tf = counts[doc][f][t]
                    length = rounded[doc][f]
                    xs[f] = tf / (1 - params.b[f] + params.b[f] * length / avg[f]) if tf else 0.0
                # Without a lead, the title is the summary and weighs as such.
                w_title = params.weights["title"] if exact[doc]["lead"] else params.weights["lead"]
                tfw = max(w_title * xs["title"], params.weights["lead"] * xs["lead"]) + params.weights["body"] * xs["body"]
                total += ranking.idf(df, n, params.idf_power) * tfw / (params.k1 + tfw)
            if total > 0:
                expected[stored[doc]["id"]] = total
        hits = engine.search(SearchRequest(q=q, per_page=100)).hits + engine.search(SearchRequest(q=q, per_page=100, page=2)).hits
        got = {h.id: h.score for h in hits}
        assert set(got) == set(expected), q
        for k, v in expected.items():
            assert got[k] == pytest.approx(v, rel=1e-3, abs=1e-3), (q, k)
        assert [h.score for h in hits] == sorted(got.values(), reverse=True)


# ---------------------------------------------------------------- requests


@pytest.mark.parametrize(
    "kw,code",
    [
        ({"page": 0}, "bad_page"),
        ({"page": MAX_PAGE + 1}, "bad_page"),
        ({"per_page": 0}, "bad_per_page"),
        ({"per_page": MAX_PER_PAGE + 1}, "bad_per_page"),
        ({"sort": "random"}, "bad_sort"),
        ({"date_from": "2023-13"}, "bad_date"),
        ({"date_from": "hier"}, "bad_date"),
        ({"date_from": "2023-06", "date_to": "2023-01"}, "bad_date"),
        ({"q": "x" * (MAX_QUERY_LENGTH + 1)}, "query_too_long"),
        ({"facet_size": 0}, "bad_facet_size"),
        ({"facet_size": 101}, "bad_facet_size"),
    ],
)
def test_invalid_requests(engine, kw, code):
    with pytest.raises(InvalidRequest) as e:
        engine.search(SearchRequest(**kw))
    assert e.value.code == code and e.value.message


def test_deep_page_is_empty_not_an_error(engine):
    res = engine.search(SearchRequest(q="munitions", page=MAX_PAGE))
    assert res.hits == [] and res.total == 4 and res.pages == 1


def test_response_is_json_ready(engine):
    d = engine.search(SearchRequest(q="munitions")).to_dict()
    json.dumps(d)
    assert d["generation"] == 1 and set(d["facets"]) == {"people", "places", "sources", "dates"}


# ---------------------------------------------------------------- documents, related, health


def test_document_view(engine):
    doc = engine.document(SEED_ID, "munitions alliance")
    assert doc["id"] == SEED_ID and doc["source"] == "ATS" and doc["date"] == "2023-06"
    lead = doc["lead_segments"]
    assert "".join(s.text for s in lead) == doc["lead"]
    assert any(a.text.endswith("l'") and b == Segment("Alliance", True) for a, b in zip(lead, lead[1:]))
    blocks = doc["body_blocks"]
    assert Block(SUBHEAD, [Segment("Nouvelles annonces")]) in blocks
    assert sum(b.kind == PARAGRAPH for b in blocks) >= 10
    assert Segment("munitions", True) in [s for b in blocks for s in b.segments]
    plain = engine.document(SEED_ID)
    assert not any(s.mark for s in plain["lead_segments"] + [s for b in plain["body_blocks"] for s in b.segments])
    assert engine.document("nope") is None


def test_document_people_places_display_forms(engine):
    doc = engine.document("macron-hollande")
    assert doc["people"] == ["François Hollande", "Emmanuel Macron"]
    assert doc["places"] == ["Paris"]


def test_related(engine):
    rel = engine.related("otan-munitions", k=3)
    assert rel and rel[0].id in ("otan-obus", SEED_ID)
    assert "otan-munitions" not in [h.id for h in rel]
    assert engine.related("nope") == []


def test_health(engine):
    h = engine.health()
    assert h == {"generation": 1, "documents": len(SEARCH_RECORDS) + 1, "schema_version": SCHEMA_VERSION, "status": "ok"}


def test_missing_index(tmp_path):
    e = Engine(tmp_path / "none")
    with pytest.raises(indexing.IndexMissing):
        e.search(SearchRequest(q="x"))
    with pytest.raises(indexing.IndexMissing):
        e.health()


# ---------------------------------------------------------------- generations


def test_engine_picks_up_a_rebuilt_generation(tmp_path):
    root = build_index(tmp_path / "index", SEARCH_RECORDS[:2])
    engine = Engine(root)
    assert engine.search(SearchRequest(q="Lyon")).total == 0
    assert engine.health()["generation"] == 1
    build_index(tmp_path / "index", SEARCH_RECORDS)  # same index directory: a new generation is swapped in
    res = engine.search(SearchRequest(q="Lyon"))
    assert res.total == 1 and res.generation == 2
    assert engine.health() == {"generation": 2, "documents": len(SEARCH_RECORDS), "schema_version": SCHEMA_VERSION, "status": "ok"}


def test_engine_sees_added_and_deleted_documents(tmp_path):
    root = build_index(tmp_path / "index", SEARCH_RECORDS[:2])
    engine = Engine(root)
    assert engine.search(SearchRequest(q="munitions")).total == 2
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "new", "chapo": "Encore des munitions.", "body": "Vraiment."}) + "\n", encoding="utf-8")
    indexing.add([extra], root, entities=False)
    assert engine.search(SearchRequest(q="munitions")).total == 3
    indexing.delete(["otan-obus"], root)
    got = [h.id for h in engine.search(SearchRequest(q="munitions")).hits]
    assert sorted(got) == ["new", "otan-munitions"]


def test_rebuild_while_searching_never_fails(tmp_path):
    root = build_index(tmp_path / "index", SEARCH_RECORDS)
    engine = Engine(root)
    errors, totals = [], []
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            try:
                totals.append(engine.search(SearchRequest(q="munitions")).total)
            except Exception as e:  # pragma: no cover - the failure being tested
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            build_index(tmp_path / "index", SEARCH_RECORDS)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert set(totals) == {3}
    assert engine.health()["generation"] == 4


def test_a_budget_cut_keeps_the_rarest_words(engine, monkeypatch):
    import search.engine as eng

    # Every clock reading jumps a second: only the first clause read makes it into the plan,
    # and it is the rarer word (« pangolin », one dispatch, against three), not the first typed.
    engine.snapshot().vocabulary()  # the reading order comes from it: let its build finish
    ticks = iter(range(10**6))
    monkeypatch.setattr(eng.time, "perf_counter", lambda: float(next(ticks)))
    res = engine.search(SearchRequest(q="munitions pangolin", time_budget_ms=1))
    assert "planning" in res.timed_out
    assert [h.id for h in res.hits] == ["long-dispatch"]


def test_reading_order_does_not_change_the_ranking(engine):
    # The same words typed in another order score the same documents the same way (in lower
    # case: a capital inside the query marks a name, which weighs more).
    engine.snapshot().vocabulary()
    a = engine.search(SearchRequest(q="munitions stoltenberg vilnius", per_page=20))
    b = engine.search(SearchRequest(q="vilnius munitions stoltenberg", per_page=20))
    assert [(h.id, h.score) for h in a.hits] == [(h.id, h.score) for h in b.hits]


# ---------------------------------------------------------------- facets counted beside the ranking


def _whole_answer(engine, **kw):
    d = engine.search(SearchRequest(time_budget_ms=60_000, **kw)).to_dict()
    d.pop("took_ms")
    return d


OVERLAP_REQUESTS = [
    dict(q="munitions"), dict(q="otan munitions ukraine alliance obus"), dict(q=""),
    dict(q="", date_from="2024-01-01"), dict(q="munitions", sort="newest"), dict(q="", collapse="story"),
]


def test_facets_counted_on_a_second_thread_answer_as_on_the_requests_own(engine, monkeypatch):
    monkeypatch.setattr(engine_module, "OVERLAP_MATCHES", 10**12)
    inline = [_whole_answer(engine, **kw) for kw in OVERLAP_REQUESTS]
    place = next(it.value for it in engine.search(SearchRequest(q="")).facets["places"])
    inline.append(_whole_answer(engine, q="", places=[place]))
    monkeypatch.setattr(engine_module, "OVERLAP_MATCHES", 0)
    apart = [_whole_answer(engine, **kw) for kw in OVERLAP_REQUESTS] + [_whole_answer(engine, q="", places=[place])]
    assert apart == inline
    assert all(a["facets"]["sources"] for a in apart[:3]) and apart[-1]["facets"]["places"][0]["selected"]


def test_a_facet_stage_that_fails_apart_fails_the_search_after_the_ranking_has_finished(engine, monkeypatch):
    monkeypatch.setattr(engine_module, "OVERLAP_MATCHES", 0)
    ranked = threading.Event()
    real_ranked = engine_module.scoring.ranked

    def ranking_then_note(*a, **kw):
        out = real_ranked(*a, **kw)
        ranked.set()
        return out

    def failing(*a, **kw):
        time.sleep(0.2)  # still counting when the ranking is done
        raise MemoryError("facettes")

    monkeypatch.setattr(engine_module.scoring, "ranked", ranking_then_note)
    monkeypatch.setattr(Engine, "_facets", failing)
    with pytest.raises(MemoryError, match="facettes"):
        engine.search(SearchRequest(q="munitions"))
    assert ranked.is_set()


@pytest.mark.parametrize("q, sort", [("", "relevance"), ("incendie feu", "relevance"), ("incendie feu", "oldest")])
def test_collapsed_pages_list_each_storys_first_version_once_up_to_past_the_last(story_index, q, sort):
    engine = Engine(story_index)
    whole = engine.search(SearchRequest(q=q, sort=sort, per_page=100))
    leaders = [h.id for h in whole.hits]
    assert whole.stories == len(leaders) < whole.total  # some stories have several versions
    paged = []
    for page in range(1, whole.stories // 2 + 3):
        resp = engine.search(SearchRequest(q=q, sort=sort, per_page=2, page=page))
        assert (resp.total, resp.stories) == (whole.total, whole.stories)
        paged += [h.id for h in resp.hits]
    assert paged == leaders


def test_snippets_are_marked_only_while_the_rest_of_the_page_can_still_be_shown(engine, monkeypatch):
    req = SearchRequest(q="munitions", per_page=3, time_budget_ms=5_000)
    marked = engine.search(req)
    assert len(marked.hits) >= 2 and "snippets" not in marked.timed_out
    assert any(s.mark for h in marked.hits for s in h.snippet_segments)
    # Each hit still to come keeps more time than the budget has: every snippet plain, said so.
    monkeypatch.setattr(engine_module, "PLAIN_HIT_SECONDS", 5.0)
    plain = engine.search(req)
    assert "snippets" in plain.timed_out and plain.partial
    assert [h.id for h in plain.hits] == [h.id for h in marked.hits]
    assert not any(s.mark for h in plain.hits for s in h.snippet_segments)
