"""Crashes and concurrent writers: kill -9 of a rebuild at random points, two rebuilds at once."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search import indexing

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("gouvernement annonce réforme retraites syndicats manifestation Paris Lyon munitions Ukraine "
         "Otan ministre défense armée sommet Vilnius élections député Assemblée budget hôpital école").split()


def write_corpus(path: Path, n: int, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            body = " ".join(rnd.choice(WORDS) for _ in range(250))
            fh.write(json.dumps({"id": f"d{i}", "date": "2023-01-%02d" % (1 + i % 28), "chapo": f"Dépêche {i}.",
                                 "body": body, "source": "ATS"}, ensure_ascii=False) + "\n")
    return path


def start_rebuild(index: Path, source: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", "--index", str(index), "index", "rebuild", "--no-entities", str(source)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def search_count(index: Path, word: str) -> int:
    """Live documents having ``word`` in their body, read from a fresh snapshot of the live generation."""
    from search.analysis import terms
    from search.engine import Engine

    return len(Engine(index).snapshot().term(terms(word)[0]).fields["body"].ids)


def wait_for_free_lock(index: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with indexing.writer_lock(index):
                return
        except indexing.IndexLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("src") / "big.jsonl", 2500)


def test_kill_9_at_random_points_never_hurts_the_live_index(built_index, big_source, corpus_dir):
    rnd = random.Random(2026)
    before = search_count(built_index, "munitions")
    for delay in sorted(rnd.uniform(0.05, 2.5) for _ in range(6)):
        proc = start_rebuild(built_index, big_source)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # Whatever the crash point, readers get a complete generation that answers.
        st = indexing.stats(built_index)
        assert st["documents"] in (7, 2500)
        if st["documents"] == 7:
            assert st["generation"] == 1 and search_count(built_index, "munitions") == before
        else:  # killed after the swap: the new generation is complete
            assert search_count(built_index, "munitions") > before
    # The killed writer's pool workers die asynchronously (proc.wait() reaps only the parent):
    # the lock is free as soon as the kernel has closed their files.
    wait_for_free_lock(built_index)
    # The next rebuild succeeds and leaves no temporary directory or stale lock behind.
    report = indexing.rebuild([corpus_dir], built_index, entities=False, procs=2, progress=False)
    assert report.indexed == 7
    assert not list(built_index.glob("*.tmp-*")) and not list(built_index.glob(".current.*"))
    assert len(list(built_index.glob("gen-*"))) <= 1 + indexing.KEEP_OLD_GENERATIONS
    with indexing.writer_lock(built_index):  # acquirable at once: the kernel dropped the dead holders' locks
        pass
    assert search_count(built_index, "munitions") == before


def test_two_rebuilds_at_once_second_refuses(built_index, big_source):
    first = start_rebuild(built_index, big_source)
    deadline = time.time() + 20
    while not list(built_index.glob("gen-*.tmp-*")) and time.time() < deadline:
        time.sleep(0.02)
    second = start_rebuild(built_index, big_source)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert f"depeche: un autre processus Dépêche (pid {first.pid}) écrit dans {built_index}/" in err and "Traceback" not in err
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert indexing.stats(built_index)["documents"] == 2500


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_for_children(proc: subprocess.Popen, timeout: float = 30.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while not (kids := children(proc.pid)):
        assert time.monotonic() < deadline and proc.poll() is None, "the rebuild never started its indexing processes"
        time.sleep(0.02)
    return kids


def test_kill_9_of_the_writer_alone_frees_the_lock_at_once(built_index, big_source):
    proc = start_rebuild(built_index, big_source)
    kids = wait_for_children(proc)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
    proc.wait()
    wait_for_free_lock(built_index, timeout=3.0)
    deadline = time.monotonic() + 3.0
    while any(Path(f"/proc/{k}").exists() and "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2] for k in kids):
        assert time.monotonic() < deadline, "indexing processes outlived their writer"
        time.sleep(0.05)
    assert indexing.stats(built_index)["documents"] == 7


def test_a_killed_indexing_process_fails_the_rebuild(built_index, big_source):
    proc = start_rebuild(built_index, big_source)
    kids = wait_for_children(proc)
    os.kill(kids[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, (out, err)
    assert "depeche: un processus d'indexation s'est arrêté en cours de route" in err and "Traceback" not in err
    assert indexing.stats(built_index)["documents"] == 7
