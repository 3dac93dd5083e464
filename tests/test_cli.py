"""The `depeche index` commands: summaries, rejections with file and line, exit codes."""
from __future__ import annotations

import json
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
    assert "read 7, indexed 7, rejected 0" in r.output
    r = run("--index", ix, "index", "stats", "--json")
    assert json.loads(r.output)["documents"] == 7
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"id": "n1", "body": "Une dépêche de plus."}) + "\n")
    r = run("--index", ix, "index", "add", "--no-entities", str(extra))
    assert r.exit_code == 0 and "indexed 1" in r.output
    r = run("--index", ix, "index", "delete", "n1", "absent")
    assert r.exit_code == 1 and "deleted 1" in r.output and "not found: absent" in r.output


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
    assert f"rejected {bad}:2: invalid JSON" in r.output
    assert "read 8, indexed 8, rejected 1" in r.output
    r = run("--index", ix, "index", "rebuild", "--no-entities", "--strict", str(corpus_dir))
    assert r.exit_code == 1 and "--strict" in r.output
    assert indexing.stats(ix)["generation"] == 1


def test_locked_index_gives_clear_error(tmp_path, corpus_dir):
    ix = tmp_path / "ix"
    with indexing.writer_lock(ix):
        r = run("--index", str(ix), "index", "rebuild", "--no-entities", str(corpus_dir))
    assert r.exit_code == 2 and "is writing to" in r.output


def test_stats_without_index(tmp_path):
    r = run("--index", str(tmp_path / "none"), "index", "stats")
    assert r.exit_code == 1 and "depeche index rebuild" in r.output


def test_python_dash_m_search_is_the_cli():
    out = subprocess.run([sys.executable, "-m", "search", "--help"], capture_output=True, text=True, check=True)
    assert "Dépêche" in out.stdout and "index" in out.stdout


def test_bench_command_runs_a_benchmark_script(tmp_path):
    # Without the shared corpus the index benchmark says so and exits cleanly.
    out = subprocess.run([sys.executable, "-m", "search", "bench", "index", "--corpus", str(tmp_path / "absent.jsonl.gz")],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "skipped" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "search", "bench", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nope" in bad.stderr
