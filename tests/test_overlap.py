"""overlap.Stage: a stage's value or exception, computed on a second thread or at once."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from search.overlap import Stage


@pytest.mark.parametrize("apart", [True, False])
def test_the_value_is_the_functions_whichever_thread_computes_it(apart):
    seen = []

    def fn():
        seen.append(threading.current_thread())
        return {"personnes": 3}

    stage = Stage(fn, apart=apart)
    assert stage.result() == {"personnes": 3}
    assert (seen[0] is not threading.current_thread()) is apart


@pytest.mark.parametrize("apart", [True, False])
def test_an_exception_is_raised_on_the_callers_thread(apart):
    def fn():
        raise LookupError("facette inconnue")

    stage = Stage(fn, apart=apart)
    stage.wait()  # waiting says nothing of the outcome
    with pytest.raises(LookupError, match="facette inconnue"):
        stage.result()


def test_a_stage_apart_runs_while_the_caller_goes_on():
    started, release = threading.Event(), threading.Event()

    def fn():
        started.set()
        assert release.wait(10)
        return "fini"

    stage = Stage(fn, apart=True)
    assert started.wait(10)  # under way before the caller asks for it
    release.set()
    assert stage.result() == "fini"


def test_while_the_helper_is_busy_a_stage_apart_runs_at_once_on_the_callers_thread():
    release = threading.Event()
    first = Stage(lambda: release.wait(10), apart=True)
    try:
        second = Stage(threading.current_thread, apart=True)
        assert second.result() is threading.current_thread()
    finally:
        release.set()
    assert first.result() is True
    third = Stage(threading.current_thread, apart=True)  # the helper is free again
    assert third.result() is not threading.current_thread()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_helper():
    assert Stage(threading.current_thread, apart=True).result() is not threading.current_thread()  # the parent's started
    pid = os.fork()
    if pid == 0:  # the child: its stages apart still run, on a thread of its own
        ok = False
        try:
            ok = Stage(threading.current_thread, apart=True).result() is not threading.current_thread()
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 10
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if done[0] == 0:  # waiting for a thread the fork did not copy
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child's stage never ran")
    assert os.waitstatus_to_exitcode(done[1]) == 0
