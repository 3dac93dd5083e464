"""Scoring a plan's candidates (scoring.py): story leaders and story counts on synthetic snapshots."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from search import ranking, scoring


def _snapshot(rng, n: int, stories: int):
    """Documents in ``stories`` shared stories (some alone), with tied days."""
    story_of = rng.integers(0, stories + n, n)  # numbers past ``stories`` are mostly alone
    story_size = np.bincount(story_of, minlength=stories + n).astype(np.int32)
    return SimpleNamespace(n=n, day=rng.integers(20200101, 20200105, n).astype(np.int32), story_of=story_of,
                           story_size=story_size)


def test_the_best_leaders_are_the_head_of_every_leader_ranked():
    rng = np.random.default_rng(5)
    for trial in range(60):
        n = int(rng.choice([50, 2_000, 30_000]))
        snap = _snapshot(rng, n, int(rng.choice([3, n // 10 + 1, n])))
        cand = np.flatnonzero(rng.random(n) < rng.choice([0.1, 0.6, 1.0]))
        scores = (rng.integers(0, 30, len(cand)) / 3).astype(np.float32)  # many ties
        all_leaders = scoring._story_leaders(snap, cand, scores, "relevance")
        for want in (0, 1, 10, 100, len(cand)):
            ranked = all_leaders[ranking.top_order(scores[all_leaders], snap.day[cand[all_leaders]],
                                                    cand[all_leaders], want)]
            got = scoring._top_leaders(snap, cand, scores, want)
            assert got.tolist() == sorted(ranked.tolist()), (trial, want)


def test_story_count_is_the_distinct_stories_of_the_matches():
    rng = np.random.default_rng(9)
    for trial in range(40):
        n = int(rng.choice([100, 5_000]))
        snap = _snapshot(rng, n, int(rng.choice([2, n // 20 + 1])))
        cand = np.flatnonzero(rng.random(n) < rng.choice([0.001, 0.05, 0.9]))
        assert scoring.story_count(snap, cand) == len(set(snap.story_of[cand].tolist())), trial
