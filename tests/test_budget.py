"""The one time budget of a request: shares, stages cut short, unbounded jobs."""
from __future__ import annotations

from search import budget as budget_module
from search.budget import MATCH_SHARE, Budget


def test_stages_are_cut_once_their_share_is_spent(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(budget_module.time, "perf_counter", lambda: now[0])
    b = Budget(1000)
    assert not b.spent("planning", MATCH_SHARE) and not b.partial
    now[0] += 0.7  # 700 ms: past the share for matching, not the whole budget
    assert b.spent("planning", MATCH_SHARE)
    assert not b.spent("snippets")
    now[0] += 0.4
    assert b.spent("snippets") and b.spent("snippets")
    assert b.cut == ["planning", "snippets"] and b.partial  # each stage named once, in order
    assert round(b.elapsed_ms()) == 1100


def test_an_unbounded_budget_never_cuts(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(budget_module.time, "perf_counter", lambda: now[0])
    b = Budget(None)
    now[0] += 10**6
    assert not b.spent("facets") and b.left() is None and b.cut == []


def test_a_stage_can_keep_time_in_reserve_for_what_must_follow(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(budget_module.time, "perf_counter", lambda: now[0])
    b = Budget(100)
    now[0] += 0.050
    assert not b.spent("snippets", 1.0, 0.040)  # 50 ms left, 40 kept
    now[0] += 0.015
    assert b.spent("snippets", 1.0, 0.040) and b.cut == ["snippets"]  # 35 ms left
    assert not Budget(None).spent("snippets", 1.0, 10.0)
