"""Hostile and malformed queries against the parser and the engine, and the cost limits."""
from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import indexing, query
from search.engine import MAX_PREFIX_TERMS, MAX_QUERY_PREFIX_TERMS, Engine
from search.model import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, InvalidRequest, SearchRequest, Segment, plain_text
from web.present import segments_html

OPERATORS = ['"', "(", ")", "-", "*", "OR", "OU", "ET", "AND", ":", "personne:", "lieu:", "source:", "date:",
             "date:2023-01..", "..", "inconnu:", "\\", "'", "’", "«", "»"]
WORDS = ["munitions", "l'Alliance", "États-Unis", "Otan", "Pays-Bas", "a", "de", "mm", "155mm", "O.N.U."]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),  # arbitrary Unicode, control characters, RTL, emoji, surrogates excluded by encoders
    st.lists(st.sampled_from(OPERATORS + WORDS), max_size=25).map(" ".join),
    st.lists(st.sampled_from(OPERATORS + WORDS + [" "]), max_size=40).map("".join),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Mn", "So", "Lo"]), max_size=80),
)

# Counted by the fuzz tests below for the closing note.
FUZZ_EXAMPLES = 400


@given(HOSTILE_TEXT)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
def test_parser_never_raises(text):
    pq = query.parse(text)
    assert isinstance(pq, query.ParsedQuery)
    assert pq.notice is None or "mal formée" in pq.notice or pq.notice


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    src = root / "src.jsonl"
    words = [f"zu{b}{c}" for b in string.ascii_lowercase for c in string.ascii_lowercase]  # 676 words starting with "zu"
    recs = [{"id": f"d{i}", "date": "2023-%02d-01" % (1 + i % 12), "title": f"Dépêche {i} munitions",
             "chapo": "L'Alliance et les États-Unis.", "body": " ".join(words[i * 7 % len(words):][:120]),
             "source": "AFP" if i % 2 else "ATS", "people": ["Jens Stoltenberg"], "places": ["Pays-Bas"]}
            for i in range(300)]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n")
    indexing.rebuild([src], root / "ix", entities=False, procs=1, progress=False)
    return Engine(root / "ix")


@given(HOSTILE_TEXT)
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_engine_answers_or_refuses_cleanly(hostile_engine, text):
    try:
        resp = hostile_engine.search(SearchRequest(q=text))
    except InvalidRequest as e:
        assert e.code and e.message
        return
    assert resp.total >= 0 and len(resp.hits) <= resp.per_page
    for h in resp.hits:
        # Titles and snippets are data: the title's text as written, whatever the query.
        assert plain_text(h.title_segments) == h.title
        assert all(isinstance(s, Segment) and isinstance(s.text, str) and s.text for s in h.title_segments + h.snippet_segments)
        # Rendered for a page, only <mark> is markup.
        for segments in (h.title_segments, h.snippet_segments):
            assert "<" not in segments_html(segments).replace("<mark>", "").replace("</mark>", "")


def test_ten_thousand_character_query_is_refused_with_a_reason(hostile_engine):
    with pytest.raises(InvalidRequest) as e:
        hostile_engine.search(SearchRequest(q="munitions " * 1000))
    assert e.value.code == "query_too_long"
    assert hostile_engine.search(SearchRequest(q="m" * MAX_QUERY_LENGTH)).total == 0


def test_prefix_expansion_is_capped(hostile_engine, monkeypatch):
    import search.plan as plan

    seen = []
    real = plan.expand_prefix
    monkeypatch.setattr(plan, "expand_prefix", lambda snap, folded, *rest: seen.append(real(snap, folded, *rest)) or seen[-1])
    resp = hostile_engine.search(SearchRequest(q="zu*"))
    assert resp.total > 0  # still answers, with the most frequent expansions
    assert seen and 0 < len(seen[0]) <= MAX_PREFIX_TERMS < 676
    # A one-letter prefix is not expanded at all.
    seen.clear()
    hostile_engine.search(SearchRequest(q="z*"))
    assert seen == []


@pytest.mark.parametrize("field,value", [("per_page", MAX_PER_PAGE + 1), ("per_page", 0), ("page", MAX_PAGE + 1), ("page", 0)])
def test_page_limits(hostile_engine, field, value):
    with pytest.raises(InvalidRequest):
        hostile_engine.search(SearchRequest(q="munitions", **{field: value}))
    assert hostile_engine.search(SearchRequest(q="munitions", per_page=MAX_PER_PAGE, page=MAX_PAGE)).hits == []


def test_time_budget_returns_partial_results_flagged(hostile_engine, monkeypatch):
    import search.engine as eng

    # A clock that jumps a second at each reading: any budget runs out at once.
    ticks = iter(range(10**6))
    monkeypatch.setattr(eng.time, "perf_counter", lambda: float(next(ticks)))
    resp = hostile_engine.search(SearchRequest(q="munitions alliance", time_budget_ms=1))
    assert resp.partial is True
    assert resp.total == 300 and resp.hits  # results are still there, flagged
    # Every stage after the first word was cut short, and the response names them.
    assert {"planning", "facets", "snippets"} <= set(resp.timed_out)
    assert all(v == [] for v in resp.facets.values())


def test_no_stage_runs_past_the_budget(hostile_engine, monkeypatch):
    import search.engine as eng

    # The clock advances 10 ms a reading: a 300 ms budget lasts about 30 steps of work, so the
    # stages that come late (facets, snippets) must still find it spent and stop.
    ticks = iter(range(10**7))
    monkeypatch.setattr(eng.time, "perf_counter", lambda: next(ticks) / 100)
    q = " OR ".join(f"zu{a}{b}" for a in "abcdefg" for b in "abcdefghijklmnopqrstuvwxyz")[:MAX_QUERY_LENGTH]
    resp = hostile_engine.search(SearchRequest(q=q, time_budget_ms=300))
    assert resp.partial and "planning" in resp.timed_out
    assert resp.took_ms <= 300 + 10 * 30  # a few steps past the deadline at most, never the whole query


def test_many_prefixes_share_one_cap(hostile_engine):
    q = " ".join(f"{a}{b}*" for a in "abcdefghijklm" for b in "aeiouyrlsn")  # 130 two-letter prefixes
    resp = hostile_engine.search(SearchRequest(q=q))
    assert resp.took_ms < 2000
    # A query's prefixes together expand to at most MAX_QUERY_PREFIX_TERMS terms.
    from search.budget import Budget
    from search.plan import plan_query

    plan = plan_query(hostile_engine.snapshot(), query.parse("zu* " * 10), Budget(None))
    assert sum(len(g) for g in plan.groups) <= MAX_QUERY_PREFIX_TERMS


LONG_WORDS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàç", min_size=20, max_size=MAX_QUERY_LENGTH),
    st.lists(st.sampled_from(["munitions", "zuaa", "Stoltemberg", "anticonstitutionnellement", "m" * 300, "zu*",
                              '"', "OR", "-", "é" * 50]), max_size=60).map(" ".join).map(lambda s: s[:MAX_QUERY_LENGTH]),
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=15, max_size=120), max_size=20)
    .map(" ".join).map(lambda s: s[:MAX_QUERY_LENGTH]),
)


@given(LONG_WORDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_within_the_length_limit_answers_within_its_budget(hostile_engine, text):
    import time

    budget_ms = 1000
    t0 = time.perf_counter()
    resp = hostile_engine.search(SearchRequest(q=text, time_budget_ms=budget_ms))
    wall = (time.perf_counter() - t0) * 1000
    # The budget holds with room for one unit of work past it (this index is small).
    assert wall < budget_ms * 1.5, (len(text), wall, resp.timed_out)


def test_a_query_of_many_words_searches_its_rarest(hostile_engine):
    from search.engine import MAX_QUERY_CLAUSES

    words = [f"zu{a}{b}" for a in "ab" for b in "abcdefghijklmnopqrstu"][:40]
    resp = hostile_engine.search(SearchRequest(q="munitions " + " ".join(words)))
    assert f"Requête de 41 termes : seuls les {MAX_QUERY_CLAUSES} plus rares ont été cherchés." in resp.notice
    resp = hostile_engine.search(SearchRequest(q=" OU ".join(words)))
    assert f"OU de 40 termes : seuls les {MAX_QUERY_CLAUSES} plus rares ont été cherchés." in resp.notice
    assert resp.total > 0


def test_a_long_quotation_is_found_by_its_opening_words():
    pq = query.parse('"' + " ".join(f"mot{i}" for i in range(50)) + '"')
    assert len(pq.clauses[0].terms) == query.MAX_PHRASE_TERMS


def test_every_prefix_of_a_query_gets_its_share(hostile_engine):
    from search.budget import Budget
    from search.plan import plan_query

    plan = plan_query(hostile_engine.snapshot(), query.parse("zua* zub* zuc* zud*"), Budget(None))
    sizes = [len(g) for g in plan.groups]
    assert len(sizes) == 4 and all(0 < s <= MAX_QUERY_PREFIX_TERMS // 4 for s in sizes)
