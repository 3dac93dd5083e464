"""The postings layout (postings.py) and the one module reading Whoosh's internals."""
from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import whoosh.writing
from whoosh import index as whoosh_index

from search import analysis, indexing, memory, postings, ranking, snapshot
from search import whoosh_internals as wi
from search.engine import Engine
from search.generations import POSTINGS_PREFIX, current_generation
from search.model import SearchRequest

from corpus import build_agency_index


def _layouts(root: Path) -> list[str]:
    return sorted(p.name for p in current_generation(root).iterdir() if p.name.startswith(POSTINGS_PREFIX))


def _keyword_postings(sr, field: str) -> dict[str, list[int]]:
    """A keyword field's term -> documents, from each stored document's values (the reference)."""
    out: dict[str, list[int]] = {}
    for doc in range(sr.doc_count_all()):
        sf = sr.stored_fields(doc)
        date = sf.get("date") or ""
        values = {"id": [sf["id"]], "places": sf.get("places") or [], "source": [sf["source"]] if "source" in sf else [],
                  "month": [date[:7]] if len(date) >= 7 else []}[field]
        for value in dict.fromkeys(values):
            out.setdefault(value, []).append(doc)
    return out


def _analysed_postings(sr) -> dict:
    """field -> term -> (ids, frequencies, positions), from each stored document's own analysis (the reference)."""
    out = {f: {} for f in postings.TEXT_FIELDS}
    for doc in range(sr.doc_count_all()):
        for f, text in postings.indexed_texts(sr.stored_fields(doc)).items():
            for term, pos in analysis.positions_by_term(text).items():
                ids, tfs, poss = out[f].setdefault(term, ([], [], []))
                ids.append(doc)
                tfs.append(len(pos))
                poss.append(pos)
    return out


def _check_every_posting(gen: Path) -> int:
    r = whoosh_index.open_dir(str(gen)).reader()
    checked = 0
    for sr, _ in r.leaf_readers():
        seg = postings.segment_postings(gen, sr)
        want = _analysed_postings(sr)
        for field in ("title", "lead", "body", "id", "places", "source", "month"):
            fa = seg.field(field)
            assert fa is not None, field
            terms = fa.terms.all()
            assert terms == sorted(terms, key=lambda t: t.encode())
            if field in postings.TEXT_FIELDS:
                assert set(terms) == set(want[field]), field
            else:
                keywords = _keyword_postings(sr, field)
                assert set(terms) == set(keywords), field
            for term in terms:
                ids, tf, vstart, values = seg.postings(field, term)
                if field in postings.TEXT_FIELDS:
                    want_ids, want_tf, want_pos = want[field][term]
                    assert list(ids) == want_ids, (field, term)
                    assert list(tf) == want_tf
                    got = [postings.decode_positions(values[a:b]) for a, b in zip(vstart[:-1], vstart[1:])]
                    assert got == want_pos, (field, term)
                else:
                    assert list(ids) == keywords[term], (field, term)
                checked += 1
        for f in postings.TEXT_FIELDS:
            lengths = [sum(len(p) for p in analysis.positions_by_term(postings.indexed_texts(sr.stored_fields(d))[f]).values())
                       for d in range(sr.doc_count_all())]
            assert np.asarray(seg.lengths[f]).tolist() == lengths, f
    r.close()
    return checked


def test_rebuild_lays_out_every_segment_and_the_engine_maps_them(built_index: Path):
    gen = current_generation(built_index)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        segs = [wi.segment_id(sr) for sr, _ in r.leaf_readers()]
    assert _layouts(built_index) == sorted(POSTINGS_PREFIX + s for s in segs)
    snap = Engine(built_index).snapshot()
    assert snap.segments and all(seg.mapped for seg, _ in snap.segments)


def test_every_posting_equals_the_analysis_of_its_document(built_index: Path):
    assert _check_every_posting(current_generation(built_index)) > 200


def test_segments_merged_by_adds_and_deletes_keep_every_posting(built_index: Path, tmp_path: Path):
    src = tmp_path / "new.jsonl"
    for i in range(12):
        src.write_text(json.dumps({"id": f"n{i}", "title": f"Crue de la Garonne numéro {i}", "date": "2024-01-0%d" % (i % 9 + 1),
                                   "body": f"La Garonne a débordé à Toulouse, {i} fois.", "source": "AFP"}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        indexing.add([src], built_index, entities=False)
        if i in (3, 7):
            indexing.delete([f"n{i - 1}", "ats_otan" if i == 3 else "n0"], built_index)
    gen = current_generation(built_index)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        # Whoosh merged segments that had deleted documents (renumbered, the deleted dropped).
        assert len(list(r.leaf_readers())) < 14 and r.doc_count() == 7 + 12 - 4
    assert _check_every_posting(gen) > 200
    resp = Engine(built_index).search(SearchRequest(q="Garonne", per_page=20))
    assert sorted(h.id for h in resp.hits) == sorted(f"n{i}" for i in range(12) if i not in (0, 2, 6))


def test_the_snapshot_reads_positions_across_segments_without_the_deleted(built_index: Path, tmp_path: Path,
                                                                          monkeypatch):
    # Segments kept apart and deletions left in place, as in a large archive's big segments
    # (Whoosh merges small ones at each commit).
    monkeypatch.setattr(whoosh.writing, "MERGE_SMALL", whoosh.writing.NO_MERGE)
    src = tmp_path / "new.jsonl"
    for i in range(5):
        src.write_text(json.dumps({"id": f"g{i}", "title": f"Crue de la Garonne {i}", "date": "2024-01-0%d" % (i + 1),
                                   "body": "Alerte. " * i + "La Garonne monte. La crue de la Garonne inquiète Agen.",
                                   "source": "AFP"}, ensure_ascii=False) + "\n", encoding="utf-8")
        indexing.add([src], built_index, entities=False)
    indexing.delete(["g1", "ats_otan"], built_index)
    snap = Engine(built_index).snapshot()
    assert len(snap.segments) > 1 and not snap.live.all()
    checked = 0
    for term in ("garon", "cru", "agen", "otan", "inquiet"):
        for f in postings.TEXT_FIELDS:
            fp = snap.term(term).fields[f]
            want = {}
            for doc in np.flatnonzero(snap.live):
                pos = analysis.positions_by_term(postings.indexed_texts(snap.stored(int(doc)))[f]).get(term)
                if pos:
                    want[int(doc)] = pos
            assert fp.ids.tolist() == sorted(want), (term, f)
            assert fp.tf.tolist() == [len(want[d]) for d in sorted(want)]
            assert [fp.positions_at(i) for i in range(len(fp))] == [want[d] for d in sorted(want)]
            # Read together (phrases): the same positions, from every segment, the deleted skipped.
            some = np.arange(0, len(fp), 2)
            counts, flat = fp.positions_many(some)
            assert counts.tolist() == [len(want[d]) for d in sorted(want)][::2]
            assert flat.tolist() == [p for d in sorted(want)[::2] for p in want[d]]
            checked += len(fp)
    assert checked > 20


def _segments_apart_with_deletions(built_index: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(whoosh.writing, "MERGE_SMALL", whoosh.writing.NO_MERGE)
    src = tmp_path / "more.jsonl"
    for i in range(4):
        src.write_text(json.dumps({"id": f"m{i}", "title": f"Munitions pour Kiev {i}", "date": "2024-02-0%d" % (i + 1),
                                   "lead": "" if i % 2 else "Les livraisons de munitions reprennent.",
                                   "body": "Munitions. " * i + "Le convoi de munitions est arrivé à Kiev.",
                                   "source": "ATS"}, ensure_ascii=False) + "\n", encoding="utf-8")
        indexing.add([src], built_index, entities=False)
    indexing.delete(["m1", "ats_otan"], built_index)


@pytest.mark.parametrize("dense_ratio", [0, 10**9])
@pytest.mark.parametrize("at_few_share", [0, 10**9])
def test_a_term_read_deferred_gives_what_it_gives_read_whole(built_index: Path, tmp_path: Path, monkeypatch,
                                                              at_few_share, dense_ratio):
    # Read at the documents asked (a binary search each), or whole at the first question; its
    # tf~ summed as over postings, or as over every document.
    _segments_apart_with_deletions(built_index, tmp_path, monkeypatch)
    monkeypatch.setattr(snapshot, "AT_FEW_SHARE", at_few_share)
    monkeypatch.setattr(ranking, "DENSE_MERGE_RATIO", dense_ratio)
    defer = snapshot.DEFER_POSTINGS
    snap = Engine(built_index).snapshot()
    assert len(snap.segments) > 1 and not snap.live.all()
    docs = np.arange(snap.n)[::-1]  # deleted ones among them, in no order
    live = np.flatnonzero(snap.live)
    checked = 0
    for term in ("munit", "kiev", "convoi", "otan", "livraison", "absentissime"):
        whole = snap._load_term(term)
        assert not whole.deferred
        monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 0)
        tp = snap._load_term(term)
        monkeypatch.setattr(snapshot, "DEFER_POSTINGS", defer)
        assert tp.deferred and tp.dense_form == (dense_ratio > 0 and whole.df > 0)
        assert np.array_equal(tp.mask(snap.n), whole.mask(snap.n)) and tp.df == whole.df
        assert tp.ids.tolist() == whole.ids.tolist() and tp.deferred  # its documents, its tf~ not computed
        for a, b in zip(tp.at(docs), whole.at(docs)):
            assert np.array_equal(a, b), term
        got, want = np.ones(snap.n, np.float32), np.ones(snap.n, np.float32)
        tp.add_to(got, 1.7, 1.2, live)
        whole.add_to(want, 1.7, 1.2, live)
        assert np.array_equal(got[live], want[live]), term
        assert tp.deferred == (at_few_share == 0)
        assert np.array_equal(tp.tfw, whole.tfw) and not tp.deferred
        checked += whole.df
    assert checked > 10


def test_a_deferred_term_counts_in_the_cache_what_it_finds(search_index, monkeypatch):
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 0)
    snap = Engine(search_index).snapshot()

    def counted():
        return sum(tp.size for tp in snap._cache.values())

    tp = snap.term("munit")
    start = snap._cache_size
    assert start == counted() and tp.deferred
    tp.mask(snap.n)
    assert snap._cache_size == start + snap.n == counted()  # its mask: a byte a document
    tp.tfw
    assert snap._cache_size == counted() > start + snap.n and not tp.deferred
    # Past the cache's size, the least recently used terms are let go as the others grow.
    monkeypatch.setattr(snapshot, "CACHE_BYTES", snap._cache_size + snap.n // 2)
    monkeypatch.setattr(snapshot, "KEEP_RECENT_TERMS", 1)
    snap.term("kiev").mask(snap.n)
    assert "munit" not in snap._cache and "kiev" in snap._cache and snap._cache_size == counted()


def test_a_terms_mask_is_shared_read_only_never_copied_nor_changed(search_index, monkeypatch):
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 0)
    snap = Engine(search_index).snapshot()
    tp = snap.term("munit")
    first, again = tp.mask(snap.n), tp.mask(snap.n)
    assert np.shares_memory(first, again) and first.any()  # the kept mask, not a copy a query
    with pytest.raises(ValueError, match="read-only"):
        first[0] = not first[0]
    monkeypatch.setattr(snapshot, "DEFER_POSTINGS", 1 << 40)
    rare = snap._load_term("kiev").mask(snap.n)
    assert not rare.flags.writeable and rare.any()


def test_positions_decoded_together_are_those_decoded_one_by_one():
    rng = np.random.default_rng(5)
    values = [b""]
    for k in (1, 1, 2, 3, 40):
        for top in (200, 4000, 70_000, 5_000_000):
            values.append(postings.encode_positions(sorted(rng.choice(top, k, replace=False).tolist())))
    offsets = np.cumsum([0] + [len(v) for v in values])
    buf = np.frombuffer(b"".join(values), dtype=np.uint8)
    pick = np.array([0, 1, 2, 5, 8, 13, 17, 20])
    counts, flat = postings.decode_many(buf, offsets[pick], offsets[pick + 1])
    want = [postings.decode_positions(values[i]) for i in pick]
    assert counts.tolist() == [len(w) for w in want] and flat.tolist() == [p for w in want for p in w]
    assert {values[i][0] for i in pick if values[i]} == {0, 1, 2}  # every width decoded


def test_positions_are_written_in_the_narrowest_width():
    assert postings.encode_positions([7]) == b"\x00\x07"
    assert postings.encode_positions([3, 300]) == b"\x01" + np.array([3, 297], dtype=np.uint16).tobytes()
    assert postings.encode_positions([70000]) == b"\x02" + np.array([70000], dtype=np.uint32).tobytes()
    for positions in ([0], [255], [256], [4095], [4096], [1, 2, 3], [5, 70000, 70001]):
        assert postings.decode_positions(postings.encode_positions(positions)) == positions


def test_a_term_absent_from_a_field_has_no_postings(built_index: Path):
    gen = current_generation(built_index)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        sr = next(iter(r.leaf_readers()))[0]
        seg = postings.segment_postings(gen, sr)
        assert seg.postings("body", "zzzzinexistant") is None
        assert seg.postings("body", "") is None
        assert seg.postings("nofield", "munition") is None
        term = analysis.terms("Vilnius")[0]
        assert seg.postings("body", term) is not None


def test_a_segment_not_in_the_whoosh3_layout_is_an_error_not_a_slow_path(built_index: Path):
    gen = current_generation(built_index)
    r = whoosh_index.open_dir(str(gen)).reader()
    sr = next(iter(r.leaf_readers()))[0]
    terms, sr._terms = sr._terms, object()  # what another codec would give
    try:
        with pytest.raises(wi.FastPathMissing, match="whoosh3"):
            wi.check_fast_path(sr)
    finally:
        sr._terms = terms
        r.close()


def test_index_add_lays_out_its_segment_and_removes_merged_ones(built_index: Path, tmp_path: Path):
    src = tmp_path / "new.jsonl"
    for i in range(12):
        src.write_text(json.dumps({"id": f"n{i}", "title": f"Crue de la Garonne numéro {i}", "date": "2024-01-0%d" % (i % 9 + 1),
                                   "body": "La Garonne a débordé à Toulouse.", "source": "AFP"}, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        indexing.add([src], built_index, entities=False)
    gen = current_generation(built_index)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        segs = sorted(POSTINGS_PREFIX + wi.segment_id(sr) for sr, _ in r.leaf_readers())
    # Whoosh merged small segments along the way: only the live ones keep a layout.
    assert _layouts(built_index) == segs
    engine = Engine(built_index)
    assert all(seg.mapped for seg, _ in engine.snapshot().segments)
    resp = engine.search(SearchRequest(q="Garonne", per_page=20))
    assert resp.total == 12
    assert sorted(h.id for h in resp.hits) == sorted(f"n{i}" for i in range(12))


def test_deleted_documents_leave_every_answer(built_index: Path):
    engine = Engine(built_index)
    queries = ["Vilnius", "munitions", "\"sommet de Vilnius\"", "Stoltenb*"]
    before = {q: [h.id for h in engine.search(SearchRequest(q=q)).hits] for q in queries}
    assert all("ats_otan" in ids for ids in before.values())
    deleted, _ = indexing.delete(["ats_otan"], built_index)
    assert deleted == ["ats_otan"]
    for q in queries:
        resp = engine.search(SearchRequest(q=q))
        assert [h.id for h in resp.hits] == [i for i in before[q] if i != "ats_otan"], q
        assert resp.total == len(before[q]) - 1


def test_a_missing_layout_is_built_in_memory_with_the_same_answers(built_index: Path, caplog):
    queries = ["munitions", "Pays-Bas", "\"défense aérienne\"", "lyon OR bruxelles", "réac*"]
    before = [[(h.id, round(h.score, 5)) for h in Engine(built_index).search(SearchRequest(q=q)).hits] for q in queries]
    for p in current_generation(built_index).glob(POSTINGS_PREFIX + "*"):
        shutil.rmtree(p)
    with caplog.at_level(logging.WARNING, logger="depeche.postings"):
        engine = Engine(built_index)
        snap = engine.snapshot()
    assert not any(seg.mapped for seg, _ in snap.segments)
    assert "no postings layout" in caplog.text
    after = [[(h.id, round(h.score, 5)) for h in engine.search(SearchRequest(q=q)).hits] for q in queries]
    assert after == before
    assert all(before)


def test_a_layout_of_another_segment_size_is_not_used(built_index: Path):
    gen = current_generation(built_index)
    layout = next(gen.glob(POSTINGS_PREFIX + "*"))
    meta = json.loads((layout / postings.META).read_text())
    meta["docs"] += 1
    (layout / postings.META).write_text(json.dumps(meta))
    assert postings.open_mapped(layout, meta["docs"] - 1) is None
    with whoosh_index.open_dir(str(gen)).reader() as r:
        assert postings.ensure(gen, r) == [layout.name[len(POSTINGS_PREFIX):]]
    assert postings.open_mapped(layout, meta["docs"] - 1) is not None


def test_columns_read_directly_match_whoosh(built_index: Path):
    gen = current_generation(built_index)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        for sr, _ in r.leaf_readers():
            days = wi.uint32_column(sr, "day")
            assert days.tolist() == list(sr.column_reader("day"))
            assert np.all(wi.uint32_column(sr, "absent_column") == 0)


def test_lengths_are_rounded_as_whoosh_stored_them():
    from whoosh.util.numeric import byte_to_length, length_to_byte

    exact = np.array([0, 1, 2, 7, 8, 9, 100, 101, 1000, 5000, 106373, 106374, 10**7])
    assert wi.rounded_lengths(exact).tolist() == [float(byte_to_length(length_to_byte(int(x)))) for x in exact]


def test_a_reader_follows_an_add_only_once_its_segments_are_laid_out(built_index: Path, tmp_path: Path, monkeypatch, caplog):
    engine = Engine(built_index)
    before = engine.search(SearchRequest(q="Garonne")).total
    real_ensure = postings.ensure
    during = []

    def ensure_after_a_search(gen, reader):
        # Whoosh has committed the batch; its segment has no layout yet.
        during.append(engine.search(SearchRequest(q="Garonne")).total)
        return real_ensure(gen, reader)

    monkeypatch.setattr(postings, "ensure", ensure_after_a_search)
    src = tmp_path / "crue.jsonl"
    src.write_text(json.dumps({"id": "crue", "title": "Crue de la Garonne", "date": "2024-01-05",
                               "body": "La Garonne a débordé à Toulouse.", "source": "AFP"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="depeche.postings"):
        indexing.add([src], built_index, entities=False)
        after = engine.search(SearchRequest(q="Garonne")).total
    assert during == [before] and after == before + 1
    assert "no postings layout" not in caplog.text
    assert all(seg.mapped for seg, _ in engine.snapshot().segments)


def test_the_layout_stores_counts_and_offsets_narrow(built_index: Path):
    layout = next(current_generation(built_index).glob(POSTINGS_PREFIX + "*"))
    assert np.load(layout / "body.tf.npy").dtype == np.uint16
    assert np.load(layout / "body.vstart.npy").dtype == np.uint32
    assert postings._narrow_tf(np.array([70000], dtype=np.uint32)).dtype == np.uint32
    assert postings._narrow_offsets(np.array([0, 2**33], dtype=np.int64)).dtype == np.int64


def test_a_lone_surrogate_finds_nothing_instead_of_failing(built_index: Path):
    engine = Engine(built_index)
    assert engine.document("ats_otan\ud83d") is None
    assert engine.snapshot().field_terms("id", "\ud800").size == 0


def test_a_layout_left_half_written_by_a_killed_writer_is_cleared(built_index: Path):
    gen = current_generation(built_index)
    layout = next(gen.glob(POSTINGS_PREFIX + "*"))
    stale = layout.with_name(layout.name + ".tmp-99999")
    stale.mkdir()
    (stale / "body.ids.npy").write_bytes(b"half")
    with whoosh_index.open_dir(str(gen)).reader() as r:
        assert postings.ensure(gen, r) == []
    assert not stale.exists() and layout.exists()


def test_a_layout_missing_a_file_is_not_used_and_is_rewritten(built_index: Path):
    gen = current_generation(built_index)
    layout = next(gen.glob(POSTINGS_PREFIX + "*"))
    (layout / "body.ids.npy").unlink()
    engine = Engine(built_index)
    assert engine.search(SearchRequest(q="munitions")).total >= 1  # laid out in memory meanwhile
    with whoosh_index.open_dir(str(gen)).reader() as r:
        assert postings.ensure(gen, r) == [layout.name[len(POSTINGS_PREFIX):]]
    assert (layout / "body.ids.npy").exists()


def test_segment_files_are_read_from_the_mapping_not_copied(built_index: Path):
    """Whoosh copies a mapped segment's files into private memory; every worker would hold its own copy."""
    from whoosh.filedb.structfile import BufferFile

    snap = Engine(built_index).snapshot()
    sr = snap.leaves[0][0]
    stored = sr._perdoc._get_column_file("_stored")[0]
    assert isinstance(stored, BufferFile) and isinstance(stored.file, wi.MappedFile)
    # Reading through the mapping gives what Whoosh's own copy gave.
    assert snap.stored(0)["id"] and snap.reader.stored_fields(0) == snap.stored(0)


def test_arrays_are_mapped_as_numpy_would_load_them(tmp_path: Path):
    arrays = {"u2": np.array([1, 2, 65535], dtype=np.uint16), "i8": np.arange(-5, 5, dtype=np.int64),
              "f4": np.array([0.5, 2.25], dtype=np.float32), "empty": np.zeros(0, dtype=np.uint32),
              "matrix": np.arange(6, dtype=np.int32).reshape(2, 3)}  # not one-dimensional: np.load's way
    for name, arr in arrays.items():
        np.save(tmp_path / f"{name}.npy", arr)
        got = postings.load_mapped(tmp_path / f"{name}.npy")
        assert got.dtype == arr.dtype and got.shape == arr.shape and np.array_equal(got, arr), name
    (tmp_path / "cut.npy").write_bytes((tmp_path / "i8.npy").read_bytes()[:-8])
    with pytest.raises(ValueError):
        postings.load_mapped(tmp_path / "cut.npy")


def _resident_kib(gen: Path) -> dict[str, int]:
    """This process's resident KiB of each file of ``gen`` it maps (/proc/self/smaps)."""
    out: dict[str, int] = {}
    path = None
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if len(head) >= 5 and "-" in head[0] and ":" in head[3]:
                path = head[5] if len(head) > 5 and head[5].startswith(str(gen)) else None
            elif path and head[0] == "Rss:":
                out[path] = out.get(path, 0) + int(head[1])
    return out


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's /proc")
def test_a_search_leaves_no_postings_or_stored_pages_mapped_in_the_worker(built_index: Path, monkeypatch):
    """A worker's resident memory must not grow with every posting its queries ever read: the
    pages go back to the page cache (shared by every process) once no search has run for a
    moment (kept meanwhile for the next search of a burst)."""
    monkeypatch.setattr(memory, "IDLE_RELEASE_SECONDS", 0.5)
    engine = Engine(built_index)
    snap = engine.snapshot()
    gen = snap.gen_dir.resolve()

    resp = engine.search(SearchRequest(q="munitions", highlight=True))
    marked = [s.text for s in resp.hits[0].snippet_segments if s.mark]
    assert resp.total > 0 and marked and marked[0].lower().startswith("munition")

    def postings_left() -> dict:
        return {p: kib for p, kib in _resident_kib(gen).items()
                if kib and p.endswith((".ids.npy", ".tf.npy", ".vstart.npy", ".values", ".seg"))}

    assert postings_left()  # just after the search: still mapped
    deadline = time.monotonic() + 10
    while postings_left() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not postings_left(), postings_left()
    # The mappings stay usable: the same search again gives the same answer.
    again = engine.search(SearchRequest(q="munitions", highlight=True))
    assert [h.id for h in again.hits] == [h.id for h in resp.hits] and again.hits[0].snippet_segments == resp.hits[0].snippet_segments


def test_a_terms_doc_numbers_and_frequencies_are_read_from_their_files_not_mapped_in(built_index: Path, tmp_path: Path,
                                                                                       monkeypatch):
    # Copied through the mapping, every page of a frequent term stayed in the worker's resident
    # memory until the next release; read by position, none is mapped.
    _segments_apart_with_deletions(built_index, tmp_path, monkeypatch)
    snap = Engine(built_index).snapshot()
    gen = snap.gen_dir.resolve()
    assert len(snap.segments) > 1
    for seg, _ in snap.segments:
        for f in postings.TEXT_FIELDS:
            fa = seg.field(f)
            assert fa.ids_file is not None and fa.tf_file is not None
    snap.release_pages()
    tp = snap.term("munit")
    for f in postings.TEXT_FIELDS:
        fp = tp.fields[f]
        # What the mapped arrays hold, segment after segment, the deleted left out.
        ids, tf = [], []
        for seg, off in snap.segments:
            got = seg.field(f).span("munit")
            if got is not None:
                ids += (np.asarray(seg.field(f).ids[got[0]:got[1]]) + off).tolist()
                tf += seg.field(f).tf[got[0]:got[1]].tolist()
        live = [i for i, (d, _) in enumerate(zip(ids, tf)) if snap.live[d]]
        assert fp.ids.tolist() == [ids[i] for i in live] and fp.tf.tolist() == [tf[i] for i in live] and live, f
    snap.release_pages()
    assert snap.term("convoi").df  # a term read afresh, after the release
    resident = _resident_kib(gen)
    assert not [p for p, kib in resident.items() if kib and p.endswith(tuple(f"{f}.ids.npy" for f in postings.TEXT_FIELDS))]


def test_a_postings_file_read_by_position_checks_its_bounds_and_length(tmp_path: Path):
    np.save(tmp_path / "ids.npy", np.arange(100, 200, dtype=np.int32))
    arr = postings.load_mapped(tmp_path / "ids.npy")
    fa = postings.file_array(tmp_path / "ids.npy", arr)
    out = np.empty(10, np.int32)
    fa.read_into(out, 90)
    assert out.tolist() == list(range(190, 200))
    fa.read_into(out[:0], 100)  # nothing asked, nothing read
    with pytest.raises(ValueError, match="outside"):
        fa.read_into(out, 95)
    # Cut short after it was opened (a disk full, a file damaged): an error naming the file.
    with open(tmp_path / "ids.npy", "r+b") as fh:
        fh.truncate(fh.seek(0, 2) - 40)
    with pytest.raises(OSError, match="ids.npy"):
        fa.read_into(out, 90)
    # A header numpy writes another way: no file, the mapped array is copied instead.
    assert postings.file_array(tmp_path / "ids.npy", np.zeros(3, np.int64)) is None


def test_postings_gathered_in_several_runs_are_those_of_one(tmp_path: Path, monkeypatch):
    schema = indexing.make_schema()
    # One document long enough for gaps of every width (one byte, two, four).
    texts = ["Munitions livrées à Kiev", "", "munitions " + "pluie " * 300 + "munitions " + "vent " * 70_000 + "munitions",
             "La livraison des munitions", "Kiev Kiev Kiev"]
    docs = [{"title": t, "lead": "", "body": t[::-1] if i % 2 else t, "meta": {}} for i, t in enumerate(texts)]

    def laid_out(run_tokens: int):
        monkeypatch.setattr(postings, "RUN_TOKENS", run_tokens)
        layout = postings.SegmentLayout(schema, tmp_path)
        for n, fields in enumerate(docs):
            layout.add(n, fields)
        return layout.arrays()

    one, lengths = laid_out(1 << 30)
    several, lengths_again = laid_out(3)
    assert {f: v.tolist() for f, v in lengths.items()} == {f: v.tolist() for f, v in lengths_again.items()}
    for f in postings.TEXT_FIELDS:
        a, b = one[f], several[f]
        assert a["terms"] == b["terms"] == sorted(a["terms"])
        for key in ("start", "ids", "tf", "vstart"):
            assert np.asarray(a[key]).tolist() == np.asarray(b[key]).tolist(), (f, key)
        assert a["vblob"] == b["vblob"]
    body = one["body"]
    i = body["terms"].index(b"munit")
    assert body["ids"][body["start"][i]:body["start"][i + 1]].tolist() == [0, 2]  # the odd documents have their body reversed
    value = body["vblob"][body["vstart"][body["start"][i] + 1]:body["vstart"][body["start"][i] + 2]]
    assert value == postings.encode_positions([0, 301, 70_302]) and value[0] == 2
    assert {v[0] for v in (body["vblob"][a:b] for a, b in zip(body["vstart"][:-1], body["vstart"][1:]))} == {0, 1, 2}


def test_terms_are_found_in_every_position_of_their_block_and_absent_ones_are_not():
    words = sorted(f"{a}{b}".encode("utf-8") for a in "abcdefghij" for b in "éklmnopqrs")
    blob = b"".join(words)
    offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
    terms = postings._Terms(postings._Blob(blob), offsets)
    assert len(words) > 3 * postings.TERMS_STRIDE
    assert [terms.find(w) for w in words] == list(range(len(words)))
    for absent in [b"", b"0", b"a", b"ab", b"a\xc3", b"jz", b"z", words[-1] + b"a", words[postings.TERMS_STRIDE] + b"!"]:
        assert terms.find(absent) is None, absent


def _keyword_arrays(gen: Path) -> dict:
    """segment -> keyword field -> term -> documents, as the segments' layouts hold them."""
    out = {}
    with whoosh_index.open_dir(str(gen)).reader() as r:
        for sr, _ in r.leaf_readers():
            seg = postings.segment_postings(gen, sr)
            out[wi.segment_id(sr)] = {
                name: {t: seg.postings(name, t)[0].tolist() for t in seg.field(name).terms.all()}
                for name in postings.KEYWORD_FIELDS if seg.field(name) is not None}
    return out


def _drop_layouts(gen: Path) -> None:
    for p in gen.glob(POSTINGS_PREFIX + "*"):
        shutil.rmtree(p)


def test_every_keyword_field_is_laid_out_again_from_the_stored_values(tmp_path: Path):
    root = build_agency_index(tmp_path / "index")
    gen = current_generation(root)
    before = _keyword_arrays(gen)
    seen = {name for fields in before.values() for name, terms in fields.items() if terms}
    assert seen == set(postings.KEYWORD_FIELDS)  # every field has terms somewhere: all are checked
    _drop_layouts(gen)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        postings.ensure(gen, r)
    assert _keyword_arrays(gen) == before


_MAKE_SCHEMA = indexing.make_schema


def _schema_indexing_keywords():
    """The schema before the keyword fields left Whoosh (every keyword field indexed by Whoosh
    too, numbers as sortable NUMERIC fields): indexes written with it must keep working."""
    from whoosh.fields import ID, KEYWORD, NUMERIC

    schema = _MAKE_SCHEMA()
    for name in ("date", "source", "section"):
        schema.remove(name)
        schema.add(name, ID(stored=True))
    for name in ("month", "urgency", "genre", "language", "slugline"):
        schema.remove(name)
        schema.add(name, ID())
    for name, stored in (("people", True), ("places", True), ("subjects", False)):
        schema.remove(name)
        schema.add(name, KEYWORD(commas=True, stored=stored, scorable=False))
    for name in ("day", "release"):
        schema.remove(name)
        schema.add(name, NUMERIC(int, bits=32, sortable=True, signed=False))
    return schema


def test_an_index_whose_keywords_whoosh_indexed_still_searches_adds_and_is_laid_out_again(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(indexing, "make_schema", _schema_indexing_keywords)
    legacy = build_agency_index(tmp_path / "legacy")
    monkeypatch.undo()
    current = build_agency_index(tmp_path / "current")
    gen = current_generation(legacy)
    assert whoosh_index.open_dir(str(gen)).schema["month"].indexed
    assert not whoosh_index.open_dir(str(current_generation(current))).schema["month"].indexed

    def answers(root: Path) -> list:
        engine = Engine(root)
        out = []
        for req in (SearchRequest(q="munitions"), SearchRequest(q="Vilnius", per_page=50),
                    SearchRequest(q="", per_page=50, people=("jens stoltenberg",)),
                    SearchRequest(q="", per_page=50, date_from="2023-07-01", date_to="2023-07-31")):
            resp = engine.search(req)
            out.append(([h.id for h in resp.hits], resp.total, resp.facets))
        return out

    assert answers(legacy) == answers(current)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        columns = [(wi.uint32_column(sr, "day").tolist(), wi.uint32_column(sr, "release").tolist())
                   for sr, _ in r.leaf_readers()]
    with whoosh_index.open_dir(str(current_generation(current))).reader() as r:
        assert columns == [(wi.uint32_column(sr, "day").tolist(), wi.uint32_column(sr, "release").tolist())
                           for sr, _ in r.leaf_readers()]
    before = _keyword_arrays(gen)
    _drop_layouts(gen)
    with whoosh_index.open_dir(str(gen)).reader() as r:
        postings.ensure(gen, r)
    assert _keyword_arrays(gen) == before


def test_whoosh_indexes_the_id_alone():
    schema = indexing.make_schema()
    assert [name for name, field in schema.items() if field.indexed] == ["id"]
    assert set(postings.KEYWORD_FIELDS) <= {name for name, field in schema.items() if field.stored}


def test_list_fields_split_on_commas_as_whoosh_did():
    assert postings.keyword_terms("people", "jens stoltenberg, emmanuel macron,,jens stoltenberg") == [
        "jens stoltenberg", "emmanuel macron"]
    assert postings.keyword_terms("places", ["vilnius", "kiev"]) == ["vilnius", "kiev"]
    assert postings.keyword_terms("source", "agence france presse, paris") == ["agence france presse, paris"]
    assert postings.keyword_terms("month", None) == []
