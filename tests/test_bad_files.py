"""A corpus of valid and broken files: every valid dispatch is indexed, every broken one reported."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner

from search import indexing
from search.cli import main


def make_mixed_corpus(d: Path) -> set[str]:
    """Write good and bad files into ``d``; return the ids that must end up indexed."""
    valid = set()

    def good(i, counted=True):
        if counted:
            valid.add(f"ok{i}")
        return {"id": f"ok{i}", "date": "2023-03-%02d" % (i % 28 + 1), "chapo": f"Dépêche valide {i}.",
                "body": f"Le ministre a parlé de défense et de munitions, numéro {i}.", "source": "AFP"}

    # JSON Lines: good records around a truncated line, an impossible date, a duplicate id, bad UTF-8.
    lines = [json.dumps(good(1)).encode(), b'{"id": "cut", "body": "tronqu', json.dumps(good(2)).encode(),
             json.dumps({"id": "bad-date", "date": "2023-02-30", "body": "x"}).encode(),
             json.dumps({"id": "ok1", "body": "doublon"}).encode(),
             '{"id": "latin", "body": "d\u00e9fense"}'.encode("latin-1"),
             json.dumps({"id": "nobody", "title": "Sans corps"}).encode(),
             json.dumps(good(3)).encode()]
    (d / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    # A gzip cut in the middle: the lines before the cut still count.
    payload = "".join(json.dumps(good(i, counted=False)) + "\n" for i in range(10, 40)).encode()
    blob = gzip.compress(payload)
    (d / "cut.jsonl.gz").write_bytes(blob[: len(blob) * 2 // 3])
    # Plain-text dispatches: one good, one empty, one in Latin-1, one with an impossible date.
    (d / "ok100.txt").write_text("date 2023-06-14 L'Otan veut des munitions.\n\nSuite du texte.\n\n/ATS\n")
    valid.add("ok100")
    (d / "empty.txt").write_bytes(b"")
    (d / "latin1.txt").write_bytes("date 2023-06 Défense européenne.".encode("latin-1"))
    (d / "baddate.txt").write_text("date 2023-13-01 Une date impossible.\n\n/ATS\n")
    # A 20 MB dispatch is valid and must be indexed whole.
    para = "Les ministres de la Défense discutent des stocks de munitions et de la contre-offensive. " * 12
    big = "date 2023-06-15 Un très long compte rendu.\n\n" + "\n\n".join([para] * (20_000_000 // len(para))) + "\n\nMot final: zygomatique.\n\n/AFP\n"
    (d / "ok_big.txt").write_text(big)
    valid.add("ok_big")
    # CSV with one good row and one row with a missing body.
    (d / "rows.csv").write_text("id,date,lead,body\nok200,2022-01-05,Un lead,Un corps de texte\nempty-row,2022-01-06,,\n")
    valid.add("ok200")
    return valid


def test_mixed_corpus_loses_nothing_valid(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    valid = make_mixed_corpus(src)
    # Lines 1..k of the cut gzip survive; we do not know k in advance, but they must all be indexed.
    result = CliRunner().invoke(main, ["--index", str(tmp_path / "ix"), "index", "rebuild", "--no-entities", str(src)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"rejeté {src / 'mixed.jsonl'}:2: ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 29)\n" in out
    assert f"rejeté {src / 'mixed.jsonl'}:4: date impossible '2023-02-30'\n" in out
    assert f"rejeté {src / 'mixed.jsonl'}:5: id 'ok1' en double (déjà lu en {src / 'mixed.jsonl'}:1)\n" in out
    assert f"rejeté {src / 'mixed.jsonl'}:6: UTF-8 invalide à l'octet 26\n" in out
    assert f"rejeté {src / 'mixed.jsonl'}:7: corps (body) manquant\n" in out
    assert f"rejeté {src / 'empty.txt'}: fichier vide\n" in out
    assert f"rejeté {src / 'latin1.txt'}:1: UTF-8 invalide à l'octet 14\n" in out
    assert f"rejeté {src / 'baddate.txt'}:1: date impossible '2023-13-01'\n" in out
    assert f"rejeté {src / 'rows.csv'}:3: corps (body) manquant\n" in out
    assert f"rejeté {src / 'cut.jsonl.gz'}:" in out and "données compressées illisibles ou tronquées" in out
    assert "Traceback" not in out

    ix, _, _ = indexing.open_generation(tmp_path / "ix")
    with ix.searcher() as s:
        indexed = {f["id"] for f in s.all_stored_fields()}
    survivors_from_gzip = {i for i in indexed if i.startswith("ok") and i[2:].isdigit() and 10 <= int(i[2:]) < 40}
    assert survivors_from_gzip, "the lines before the gzip cut must be indexed"
    assert valid <= indexed
    assert indexed == valid | survivors_from_gzip
    summary = [line for line in out.splitlines() if line.startswith("reconstruit :")][0]
    rejected = sum(1 for line in out.splitlines() if line.startswith("rejeté "))
    assert f", {len(indexed)} indexées, {rejected} rejetées en " in summary
    # The big dispatch is indexed whole: its last word is found.
    from search.analysis import terms
    from search.engine import Engine

    snap = Engine(tmp_path / "ix").snapshot()
    assert [snap.stored(d)["id"] for d in snap.term(terms("zygomatique")[0]).fields["body"].ids] == ["ok_big"]
