"""Spelling-correction accuracy on realistic French typing errors made from the archive's own words.

A misspelling set is drawn from the word table of an OrangeSum index (``words.tsv.gz`` of the
live generation; built if needed like ``depeche eval`` does): words seen at least
``--min-count`` times, 5 to 15 letters, each given one error of a kind a French typist makes:

* ``undouble``: a doubled letter typed once (``philipe``), ``double``: a single consonant doubled
  (``apeller``), ``swap``: two neighbouring letters swapped, ``omit``: a letter left out,
  ``neighbour``: a letter replaced by its AZERTY neighbour, ``insert``: a neighbour key hit too,
  ``phonetic``: ``ph``/``f``, ``qu``/``k``, ``an``/``en``, ``au``/``o``, ``ai``/``é`` spellings.

An error that makes another word of the archive is left out (no speller can tell it from a
word typed on purpose; a word the archive has is never corrected). Accent errors are left out
too: folding makes them free by construction.

Success means the search meets what the typist meant: the stem searched (the correction's, or
the typed word's when none is made) is the intended word's stem. The set is split in two halves
by a hash of the word: tune on ``A``, report ``B`` beside it (``--half``). ``--before`` also
scores the previous method (edit-distance variants of the stem vocabulary, kept here only as
the baseline).

Usage: python bench/spelling_accuracy.py [--index DIR] [--n 2000] [--seed 1] [--cost-weight W ...]
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from search import evaluation, spelling  # noqa: E402
from search.analysis import STOP_WORDS, stem  # noqa: E402
from search.indexing import current_generation  # noqa: E402

AZERTY = ["azertyuiop", "qsdfghjklm", "wxcvbn"]
VOWELS = set("aeiouy")
PHONETIC = [("ph", "f"), ("f", "ph"), ("qu", "k"), ("an", "en"), ("en", "an"), ("au", "o"), ("ai", "e"), ("eau", "o"), ("c", "k")]


def neighbours() -> dict[str, str]:
    """Letters next to each key on a French keyboard (same row and the rows above and below)."""
    pos = {c: (r, i) for r, row in enumerate(AZERTY) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in pos.items():
        out[c] = "".join(d for d, (r2, i2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(i2 - i) <= 1)
    return out


NEAR = neighbours()


def misspell(word: str, kind: str, rnd: random.Random) -> str | None:
    """One error of ``kind`` in ``word`` (never on the first letter: people get that right), or None."""
    n = len(word)
    if kind == "undouble":
        spots = [i for i in range(1, n) if word[i] == word[i - 1]]
        return None if not spots else (lambda i: word[:i] + word[i + 1 :])(rnd.choice(spots))
    if kind == "double":
        spots = [i for i in range(1, n - 1) if word[i] not in VOWELS and word[i - 1] in VOWELS and word[i + 1] in VOWELS]
        return None if not spots else (lambda i: word[: i + 1] + word[i:])(rnd.choice(spots))
    if kind == "swap":
        spots = [i for i in range(1, n - 1) if word[i] != word[i + 1]]
        return None if not spots else (lambda i: word[:i] + word[i + 1] + word[i] + word[i + 2 :])(rnd.choice(spots))
    if kind == "omit":
        i = rnd.randrange(1, n)
        return word[:i] + word[i + 1 :]
    if kind == "neighbour":
        i = rnd.randrange(1, n)
        if word[i] not in NEAR:
            return None
        return word[:i] + rnd.choice(NEAR[word[i]]) + word[i + 1 :]
    if kind == "insert":
        i = rnd.randrange(1, n)
        if word[i] not in NEAR:
            return None
        return word[:i] + rnd.choice(NEAR[word[i]]) + word[i:]
    if kind == "phonetic":
        options = [(a, b) for a, b in PHONETIC if a in word[1:]]
        if not options:
            return None
        a, b = rnd.choice(options)
        i = word.index(a, 1)
        return word[:i] + b + word[i + len(a) :]
    raise ValueError(kind)


KINDS = ("undouble", "double", "swap", "omit", "neighbour", "insert", "phonetic")


def half_of(word: str) -> str:
    """A or B, fixed by the word (not by the draw), so the halves never share a word."""
    return "A" if hashlib.sha1(word.encode()).digest()[0] % 2 == 0 else "B"


def make_set(counts: Counter, n: int, seed: int, min_count: int) -> list[tuple[str, str, str]]:
    """(kind, typed, meant) triples, ``n`` of them, kinds in turn."""
    rnd = random.Random(seed)
    pool = sorted(w for w, c in counts.items() if c >= min_count and 5 <= len(w) <= 15 and w.isalpha() and w not in STOP_WORDS)
    out = []
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        kind = KINDS[len(out) % len(KINDS)]
        word = rnd.choice(pool)
        typed = misspell(word, kind, rnd)
        if not typed or typed == word or counts.get(typed, 0) > 0:
            continue
        out.append((kind, typed, word))
    return out


def legit_unseen(shared: Path, counts: Counter, stem_df: Counter) -> list[str]:
    """Real words the archive lacks as written but has the stem of: PIAF's Wikipedia words
    (seen twice there) that OrangeSum never spells so. Correcting one is a false correction."""
    import gzip
    import json

    path = shared / "corpus" / "piaf_passages.jsonl.gz"
    if not path.exists():
        return []
    other: Counter = Counter()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            spelling.count_words(" ".join(str(rec.get(k) or "") for k in ("title", "body")), other)
    words = spelling.folded_counts(other)
    return sorted(w for w, c in words.items() if c >= 2 and 5 <= len(w) <= 15 and w.isalpha()
                  and w not in counts and stem_df.get(stem(w), 0) > 0)


def searched_stem_new(sp: spelling.Speller, typed: str, stem_df: dict) -> str:
    got = sp.correct(typed, stem_df.get(stem(typed), 0))
    return stem(got.word) if got else stem(typed)


def score(cases, fix) -> tuple[float, dict]:
    ok = 0
    per: dict = defaultdict(lambda: [0, 0])
    for kind, typed, meant in cases:
        good = fix(typed) == stem(meant)
        ok += good
        per[kind][0] += good
        per[kind][1] += 1
    return ok / max(1, len(cases)), {k: v[0] / v[1] for k, v in sorted(per.items())}


def old_method(stem_df: dict):
    """The previous corrector: edits of the folded word looked up as stems (baseline only)."""
    letters = "abcdefghijklmnopqrstuvwxyz"

    def edits1(word):
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        return set([a + b[1:] for a, b in splits if b] + [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
                   + [a + c + b[1:] for a, b in splits if b for c in letters] + [a + c + b for a, b in splits for c in letters])

    def best(cands, own_stem):
        b = None
        for c in cands:
            t = stem(c)
            if t == own_stem:
                continue
            f = stem_df.get(t, 0)
            if f and (b is None or (f, c) > (b[1], b[0])):
                b = (t, f, c)
        return b

    def fix(typed):
        own = stem_df.get(stem(typed), 0)
        if own >= 4 or len(typed) < 4:
            return stem(typed)
        first = edits1(typed)
        b = best(first, stem(typed))
        if b is None and own == 0 and len(typed) >= 6:
            cands = set()
            for v in first:
                cands.update(v[:i] + v[i + 1 :] for i in range(len(v)))
                cands.update(v[:i] + v[i + 1] + v[i] + v[i + 2 :] for i in range(len(v) - 1))
            b = best(cands - first, typed)
        if b is None or (own and b[1] < 50 * own):
            return stem(typed)
        return b[0]

    return fix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, help="an OrangeSum index (default: the evaluation index, built if needed)")
    ap.add_argument("--shared", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-count", type=int, default=20)
    ap.add_argument("--before", action="store_true", help="also score the previous method (slow: seconds a word)")
    ap.add_argument("--cost-weight", type=float, nargs="*", help="try these COST_WEIGHT values (tuning, on half A)")
    ap.add_argument("--keep-cost", type=float, nargs="*", help="try these KEEP_COST values (tuning, on half A)")
    args = ap.parse_args()

    if args.index:
        root = args.index
    else:
        shared = evaluation.shared_dir(args.shared)
        if not (shared / "corpus").exists():
            print(f"skipped: {shared}/corpus not found (the shared corpus is needed)")
            return
        root = evaluation.ensure_index("orangesum", shared, evaluation.work_dir(args.workdir))
    gen = current_generation(Path(root))
    counts = spelling.read_words(gen)
    if not counts:
        sys.exit(f"{gen} has no {spelling.WORDS_FILE}: rebuild the index with this version")
    stem_df: Counter = Counter()
    for w, c in counts.items():
        stem_df[stem(w)] += c
    t0 = time.perf_counter()
    sp = spelling.Speller(counts)
    print(f"speller: {len(sp.words):,} target words, {len(sp._keys):,} keys, built in {time.perf_counter() - t0:.2f} s")
    cases = make_set(counts, args.n, args.seed, args.min_count)
    halves = {h: [c for c in cases if half_of(c[2]) == h] for h in "AB"}
    print(f"misspelling set: {len(cases)} ({len(halves['A'])} in A, {len(halves['B'])} in B), seed {args.seed}")

    legit = legit_unseen(evaluation.shared_dir(args.shared), counts, stem_df)
    grid = [(w, k) for w in (args.cost_weight or [spelling.COST_WEIGHT]) for k in (args.keep_cost or [spelling.KEEP_COST])]
    for w, k in grid:
        spelling.COST_WEIGHT, spelling.KEEP_COST = w, k
        t0 = time.perf_counter()
        res = {h: score(halves[h], lambda typed: searched_stem_new(sp, typed, stem_df)) for h in "AB"}
        ms = (time.perf_counter() - t0) * 1000 / max(1, len(cases))
        false = sum(1 for x in legit if searched_stem_new(sp, x, stem_df) != stem(x))
        print(f"new  COST_WEIGHT={w:<4} KEEP_COST={k:<4}  A {res['A'][0]:.3f}  B {res['B'][0]:.3f}   ({ms:.2f} ms a word)"
              f"   unseen real words corrected: {false}/{len(legit)}")
        if len(grid) == 1:
            for kind in KINDS:
                print(f"       {kind:10s} A {res['A'][1].get(kind, 0):.3f}  B {res['B'][1].get(kind, 0):.3f}")
    present = [w for w in list(counts)[:: max(1, len(counts) // 5000)] if spelling.MIN_WORD <= len(w) <= spelling.MAX_WORD]
    wrong = [w for w in present if sp.correct(w, stem_df.get(stem(w), 0)) is not None]
    print(f"words the archive has, corrected: {len(wrong)} of {len(present)}")
    if args.before:
        fix = old_method(stem_df)
        t0 = time.perf_counter()
        res = {h: score(halves[h], fix) for h in "AB"}
        ms = (time.perf_counter() - t0) * 1000 / max(1, len(cases))
        print(f"before            A {res['A'][0]:.3f}  B {res['B'][0]:.3f}   ({ms:.1f} ms a word)")
        for kind in KINDS:
            print(f"       {kind:10s} A {res['A'][1].get(kind, 0):.3f}  B {res['B'][1].get(kind, 0):.3f}")
    print("target (issue 10): >= 0.90")


if __name__ == "__main__":
    main()
