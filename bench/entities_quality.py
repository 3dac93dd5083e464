"""People/places quality on the hand-annotated OrangeSum dev articles (issue 6).

    .venv/bin/python bench/entities_quality.py [--errors]

Runs the extractor on the 20 articles of ../shared/eval/entities_dev.jsonl (text = title +
chapo + "\\n" + body, see ENTITIES.md) and prints the official scorer's output
(../shared/eval/score_entities.py). --errors also lists, per article, the false positives and
false negatives after folding. --half A (the file's first 10 articles, dev ranks 1-10: the half
rules are tuned on) or --half B (ranks 11-20: held apart, reported beside it) scores one half.
Targets: people F1 >= 0.93, places F1 >= 0.85. Skips politely when ../shared is missing.
"""
from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.entities import EntityExtractor, document_text, entity_key  # noqa: E402

SHARED = ROOT.parent / "shared"
GOLD = SHARED / "eval" / "entities_dev.jsonl"
SCORER = SHARED / "eval" / "score_entities.py"
CORPUS = SHARED / "corpus" / "orangesum.jsonl.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--errors", action="store_true", help="list false positives and negatives")
    ap.add_argument("--gold", type=Path, default=GOLD)
    ap.add_argument("--half", choices=("A", "B"), help="A: the first half of the articles (tuning), B: the second")
    args = ap.parse_args()
    if not (args.gold.exists() and SCORER.exists() and CORPUS.exists()):
        print(f"skipped: {SHARED} (gold, scorer or corpus) not found")
        return 0
    gold = [json.loads(line) for line in args.gold.open(encoding="utf-8")]
    if args.half:
        middle = len(gold) // 2
        gold = gold[:middle] if args.half == "A" else gold[middle:]
    wanted = {g["id"] for g in gold}
    docs = {}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["id"] in wanted:
                docs[d["id"]] = d
    texts = [document_text(docs[g["id"]].get("title"), docs[g["id"]]["chapo"], docs[g["id"]]["body"])
             for g in gold]
    with EntityExtractor(None, n_process=1) as ex:
        results = list(ex.extract_many(texts))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as out:
        for g, (people, places) in zip(gold, results):
            out.write(json.dumps({"id": g["id"], "people": people, "places": places}, ensure_ascii=False) + "\n")
    if args.errors:
        for g, (people, places) in zip(gold, results):
            for kind, pred in (("people", people), ("places", places)):
                gk, pk = {entity_key(x) for x in g[kind]}, {entity_key(x) for x in pred}
                fp = [x for x in pred if entity_key(x) not in gk]
                fn = [x for x in g[kind] if entity_key(x) not in pk]
                if fp or fn:
                    print(f"{g['id']} {kind}: FP {fp} FN {fn}")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as gold_file:
        for g in gold:
            gold_file.write(json.dumps(g, ensure_ascii=False) + "\n")
    done = subprocess.run([sys.executable, str(SCORER), gold_file.name, out.name], text=True,
                          capture_output=True)
    Path(out.name).unlink()
    Path(gold_file.name).unlink()
    print(done.stdout, end="")
    if done.returncode:
        print(done.stderr, file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
