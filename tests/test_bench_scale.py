"""bench/scale.py's helpers for the cluster run: the store figures read from `_stats`, the Whoosh figures beside."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCALE = Path(__file__).resolve().parent.parent / "bench" / "scale.py"


@pytest.fixture(scope="module")
def scale():
    spec = importlib.util.spec_from_file_location("bench_scale", SCALE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stats_response(primaries: int, total: int, docs: int, deleted: int = 0) -> dict:
    """The part of an `_stats/store,docs` answer the benchmark reads, shaped as OpenSearch sends it."""
    every = {"primaries": {"docs": {"count": docs, "deleted": deleted}, "store": {"size_in_bytes": primaries}},
             "total": {"docs": {"count": 2 * docs, "deleted": 2 * deleted}, "store": {"size_in_bytes": total}}}
    return {"_shards": {"total": 4, "successful": 4, "failed": 0}, "_all": every,
            "indices": {"depeche-scale-34k-000001": {"uuid": "x", **every}}}


def test_store_figures_give_primaries_and_every_copy_against_the_raw_text(scale):
    mib = 2**20
    fig = scale.store_figures(stats_response(300 * mib, 610 * mib, 34_000, deleted=12), raw=150 * mib)
    assert fig["index"] == "depeche-scale-34k-000001"
    assert fig["documents"] == 34_000 and fig["deleted"] == 12
    assert fig["primaries_mib"] == 300 and fig["total_mib"] == 610
    assert fig["primaries_ratio"] == 2.0
    assert fig["total_ratio"] == pytest.approx(610 / 150)


def test_each_size_has_its_own_alias_and_generations(scale):
    from search.opensearch import writer

    small, large = scale.os_alias("34k"), scale.os_alias("340k")
    assert small != large
    # The generations of one size are not taken for the other's (os_drop deletes only its own).
    assert not writer.generation_index(large, 1).startswith(small + "-")


def test_whoosh_figures_come_from_the_last_whoosh_run_of_that_size(scale, tmp_path):
    (tmp_path / "build-34k.json").write_text(json.dumps({"rebuild": {"docs_per_second": 499.3}, "built_at": "2026-12-02T07:31"}))
    (tmp_path / "last.json").write_text(json.dumps({"started": "2026-12-02 07:36:04", "commit": "cfd189e", "results": [
        {"size": "34k", "index_mib": 166.9, "index_ratio": 2.24, "latency": {"p50_ms": 15.8}, "add": {"seconds": 9.5}},
        {"size": "1m", "index_mib": 4900.0, "index_ratio": 2.2, "latency": {"p50_ms": 41.0}, "add": {"seconds": 20.1}},
    ]}))
    w = scale.whoosh_beside(tmp_path, "34k")
    assert w["rebuild"]["docs_per_second"] == 499.3
    assert w["latency"]["p50_ms"] == 15.8 and w["index_mib"] == 166.9 and w["add"]["seconds"] == 9.5
    assert w["run"] == "2026-12-02 07:36:04" and w["commit"] == "cfd189e"
    assert scale.whoosh_beside(tmp_path, "1m")["latency"]["p50_ms"] == 41.0
    # A size never run: nothing; a size built but not measured in the last run: its rebuild only.
    assert scale.whoosh_beside(tmp_path, "340k") is None
    (tmp_path / "build-340k.json").write_text(json.dumps({"rebuild": {"docs_per_second": 217.0}}))
    assert scale.whoosh_beside(tmp_path, "340k") == {"rebuild": {"docs_per_second": 217.0}, "built_at": None}


def test_whoosh_figures_survive_a_damaged_last_run(scale, tmp_path):
    (tmp_path / "build-1m.json").write_text(json.dumps({"rebuild": {"docs_per_second": 182.0}}))
    (tmp_path / "last.json").write_text("{tronqué")
    assert scale.whoosh_beside(tmp_path, "1m") == {"rebuild": {"docs_per_second": 182.0}, "built_at": None}


def test_latency_is_split_by_match_mode(scale):
    got = scale.by_match([5.0, 40.0, 7.0, 60.0, 50.0, 9.0], ["all", "some", "all", "some", "some", "error"])
    assert got == {"all": {"queries": 2, "p50_ms": 6.0, "p95_ms": 7.0},
                   "error": {"queries": 1, "p50_ms": 9.0, "p95_ms": 9.0},
                   "some": {"queries": 3, "p50_ms": 50.0, "p95_ms": 60.0}}


def test_the_latency_worker_reports_each_match_mode_of_its_queries(scale, search_index, fake_shared, capsys):
    scale.latency_worker(search_index, 4, fake_shared)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["queries"] == 4 and out["error_count"] == 0
    assert sum(v["queries"] for v in out["by_match"].values()) == 4
    assert set(out["by_match"]) <= {"all", "some", "none"}
    assert all(v["p50_ms"] <= v["p95_ms"] <= out["max_ms"] for v in out["by_match"].values())


def test_interleaved_figures_put_each_size_against_the_first(scale):
    got = scale.interleaved_figures({"34k": [4.0, 10.0, 6.0], "1m": [9.0, 30.0, 12.0]}, "34k")
    assert got["34k"] == {"p50_ms": 6.0, "p95_ms": 10.0, "ratio": 1.0}
    assert got["1m"] == {"p50_ms": 12.0, "p95_ms": 30.0, "ratio": 2.0}


def test_the_answer_worker_times_each_query_it_is_given(scale, search_index, fake_shared):
    import io

    out = io.StringIO()
    scale.answer_worker(search_index, fake_shared, io.StringIO('"munitions"\n"Stoltenberg OTAN"\n'), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "ready" and len(lines) == 3
    assert all(0 < float(x) < 60_000 for x in lines[1:])


def test_two_sizes_interleaved_answer_every_query_each(scale, search_index, fake_shared):
    queries = ["munitions", "Genève", "otan"]
    got = scale.interleaved({"34k": search_index, "copie": search_index}, queries, fake_shared)
    assert set(got) == {"34k", "copie"} and got["34k"]["ratio"] == 1.0
    assert all(v["p50_ms"] > 0 and v["p95_ms"] >= v["p50_ms"] for v in got.values())
