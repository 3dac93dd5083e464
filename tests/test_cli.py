"""The `depeche index` commands: summaries, rejections with file and line, exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from search import indexing
from search.cli import main


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_rebuild_stats_add_delete(tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    r = run("--index", ix, "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 0, r.output
    assert r.output.startswith("reconstruit : 7 dépêches lues, 7 indexées, 0 rejetée en ")
    r = run("--index", ix, "index", "stats", "--json")
    assert json.loads(r.output)["documents"] == 7
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"id": "n1", "body": "Une dépêche de plus."}) + "\n")
    r = run("--index", ix, "index", "add", "--no-entities", str(extra))
    assert r.exit_code == 0 and r.output.startswith("ajout : 1 dépêche lue, 1 indexée, 0 rejetée en ")
    r = run("--index", ix, "index", "delete", "n1", "absent")
    assert r.exit_code == 1 and "1 dépêche supprimée\n" in r.output and "introuvable : absent\n" in r.output


def test_index_from_environment(tmp_path, corpus_dir):
    ix = tmp_path / "envix"
    r = run("index", "rebuild", "--no-entities", str(corpus_dir), env={"DEPECHE_INDEX": str(ix)})
    assert r.exit_code == 0
    assert indexing.stats(ix)["documents"] == 7


def test_rejections_name_file_and_line_and_strict_fails(tmp_path, corpus_dir):
    bad = corpus_dir / "bad.jsonl"
    bad.write_text(json.dumps({"id": "ok", "body": "bon"}) + "\n" + '{"id": "cut", "bo\n')
    ix = str(tmp_path / "ix")
    r = run("--index", ix, "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 0
    assert f"rejeté {bad}:2: ligne JSON tronquée ou incomplète (elle s'arrête à la colonne 17)\n" in r.output
    assert "reconstruit : 8 dépêches lues, 8 indexées, 1 rejetée en " in r.output
    r = run("--index", ix, "index", "rebuild", "--no-entities", "--strict", str(corpus_dir))
    assert r.exit_code == 1
    assert "depeche: 1 enregistrement(s) rejeté(s) avec --strict : l'index en service n'a pas été modifié\n" in r.output
    assert indexing.stats(ix)["generation"] == 1


def test_locked_index_gives_clear_error(tmp_path, corpus_dir):
    ix = tmp_path / "ix"
    with indexing.writer_lock(ix):
        r = run("--index", str(ix), "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 2 and f"depeche: un autre processus Dépêche (pid {os.getpid()}) écrit dans {ix}/" in r.output


def test_stats_without_index(tmp_path):
    r = run("--index", str(tmp_path / "none"), "index", "stats")
    assert r.exit_code == 1 and r.output == f"depeche: pas encore d'index dans {tmp_path / 'none'}/ : lancez `depeche index rebuild`\n"


def test_python_dash_m_search_is_the_cli():
    out = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True, text=True, check=True)
    assert "Dépêche : recherche plein texte" in out.stdout and "index" in out.stdout


def test_bench_command_runs_a_benchmark_script(tmp_path):
    # Without the shared corpus the index benchmark says so and exits cleanly.
    out = subprocess.run([sys.executable, "-m", "search", "bench", "index", "--corpus", str(tmp_path / "absent.jsonl.gz")],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "skipped" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "search", "bench", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_eval_refuses_a_cluster_stemmer_for_the_whoosh_engine(tmp_path, fake_shared):
    r = run("eval", "--shared", str(fake_shared), "--stemmer", "light_french", env={"DEPECHE_BACKEND": "whoosh"})
    assert r.exit_code == 1
    assert "--stemmer light_french ne s'applique qu'au moteur opensearch" in r.output
