"""Per-document arrays laid out by the writer for every process to map (docarrays.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from corpus import STORY_RECORDS, build_agency_index, write_corpus
from search import docarrays, indexing
from search.engine import Engine
from search.generations import DOCARRAYS_PREFIX, current_generation
from search.model import SearchRequest


def _folders(gen: Path) -> list[str]:
    return sorted(p.name for p in gen.iterdir() if p.name.startswith(DOCARRAYS_PREFIX))


def _same(mapped: docarrays.DocArrays, computed: docarrays.DocArrays) -> None:
    for f in mapped.lengths:
        assert np.array_equal(mapped.lengths[f], computed.lengths[f]), f
    assert np.array_equal(mapped.day, computed.day) and np.array_equal(mapped.release, computed.release)
    assert list(mapped.facets) == list(computed.facets) == list(docarrays.FACET_FIELDS)
    for name, fc in mapped.facets.items():
        other = computed.facets[name]
        assert fc.keys == other.keys, name
        for attr in ("doc_of_pair", "key_of_pair", "starts"):
            assert np.array_equal(getattr(fc, attr), getattr(other, attr)), (name, attr)
    for name, a in mapped.stories.items():
        assert np.array_equal(a, computed.stories[name]), name


def _check(root: Path) -> Engine:
    """The live commit's arrays are mapped, and equal to what a reader computes itself."""
    engine = Engine(root)
    snap = engine.snapshot()
    assert snap.arrays.mapped
    assert _folders(snap.gen_dir) == [f"{DOCARRAYS_PREFIX}{snap.reader.generation()}"]
    _same(snap.arrays, docarrays.compute(snap.leaves, snap.segments, snap.live))
    return engine


def _facets(engine: Engine, q: str) -> dict:
    resp = engine.search(SearchRequest(q=q))
    return {name: [(i.value, i.count) for i in items] for name, items in resp.facets.items()} | {"total": resp.total}


def test_every_write_lays_out_its_commits_arrays(tmp_path: Path):
    root = build_agency_index(tmp_path / "index")  # a rebuild, then adds
    engine = _check(root)
    assert engine.snapshot().arrays.facets["people"].keys  # a real facet, not empty arrays
    indexing.add([write_corpus(tmp_path / "stories", STORY_RECORDS)], root, entities=False)
    engine = _check(root)
    story = engine.snapshot().story_size
    assert (story > 1).any()  # the running stories are grouped
    before = engine.snapshot().n_live
    indexing.delete([STORY_RECORDS[0]["id"]], root)
    engine = _check(root)
    assert engine.snapshot().n_live == before - 1


def test_a_commit_without_arrays_is_computed_and_answers_the_same(tmp_path: Path):
    root = build_agency_index(tmp_path / "index")
    mapped = Engine(root)
    want = [_facets(mapped, q) for q in ("OTAN", "incendie", "")]
    gen = current_generation(root)
    for name in _folders(gen):
        shutil.rmtree(gen / name)
    computed = Engine(root)
    assert not computed.snapshot().arrays.mapped
    assert [_facets(computed, q) for q in ("OTAN", "incendie", "")] == want


def test_arrays_for_another_commit_are_not_used(tmp_path: Path):
    root = build_agency_index(tmp_path / "index")
    gen = current_generation(root)
    (name,) = _folders(gen)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        stale = gen / f"{DOCARRAYS_PREFIX}{r.generation() + 1}"
    (gen / name).rename(stale)  # as if laid out for a later commit than the one readers see
    assert not Engine(root).snapshot().arrays.mapped
