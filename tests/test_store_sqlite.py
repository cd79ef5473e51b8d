"""The SQLite index: persistence, configuration fingerprint, durability under SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from newsdedup import Deduper, IncompatibleSignatureError
from newsdedup.store import INDEX_FORMAT, IndexClosedError, IndexConnectionError, SQLiteStore
from tests.test_stream import make_corpus

ROOT = Path(__file__).resolve().parent.parent


def _state(d: Deduper, docs: list[dict]) -> list[list[tuple[str, str, str, float]]]:
    return [
        [(m.a, m.b, m.relation, round(m.score, 9)) for m in d.query(dict(x, id="probe"))]
        for x in docs
    ]


@pytest.mark.parametrize("merge_min", [500_000, 300])
def test_reopen_restores_the_exact_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_min: int
) -> None:
    # merge_min=300: the recent band table is merged into the main one many times.
    monkeypatch.setattr("newsdedup.store._MERGE_MIN", merge_min)
    docs = make_corpus(21, stories=25)
    half = len(docs) // 2
    db = tmp_path / "index.db"
    memory = Deduper()
    expected = memory.add_many(docs)
    with Deduper.open(db) as d:
        got = d.add_many(docs[:half])
    with Deduper.open(db) as d:  # reopened: the second half sees the first
        got += [d.add_many([x])[0] for x in docs[half:]]
        assert _state(d, docs) == _state(memory, docs)
        assert d.remove(docs[0]["id"]) and not d.remove(docs[0]["id"])
    assert [(x.id, x.cluster_id, x.duplicate_of, x.relation, x.score) for x in got] == [
        (x.id, x.cluster_id, x.duplicate_of, x.relation, x.score) for x in expected
    ]
    with Deduper.open(db) as d:
        assert all(m.a != docs[0]["id"] and m.b != docs[0]["id"]
                   for m in d.query(dict(docs[0], id="probe")))
    store = SQLiteStore(db)
    try:
        assert store.integrity() == []
        assert len(store) == len(docs) - 1
        main = store._con.execute("SELECT count(*) FROM bands").fetchone()[0]
        assert (main > 0) is (merge_min < 1000)
    finally:
        store.close()


def test_a_different_configuration_is_refused_naming_the_differences(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    with Deduper.open(db, num_perm=128) as d:
        d.add(make_corpus(22, stories=1)[0])
    with pytest.raises(IncompatibleSignatureError) as info:
        Deduper.open(db, num_perm=64, shingle_size=4)
    msg = str(info.value)
    for part in ("num_perm: index has 128, this Deduper has 64",
                 "shingle_size: index has 5, this Deduper has 4", "bands", str(db)):
        assert part in msg
    # Options that only change verification are fine.
    with Deduper.open(db, containment_threshold=0.9, window=None) as d:
        assert d.config.containment_threshold == 0.9


def test_format_version_and_foreign_files_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    Deduper.open(db).close()
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE meta SET value = replace(value, ?, '\"index_format\": 99')",
        (f'"index_format": {INDEX_FORMAT}',),
    )
    con.commit()
    con.close()
    with pytest.raises(IncompatibleSignatureError, match="index format 99; this newsdedup reads"):
        Deduper.open(db)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(IncompatibleSignatureError, match="not a newsdedup index"):
        Deduper.open(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(IndexConnectionError, match="cannot open index"):
        Deduper.open(junk)


def test_expire_on_disk(tmp_path: Path) -> None:
    from datetime import datetime

    docs = make_corpus(23, stories=10)
    db = tmp_path / "index.db"
    with Deduper.open(db) as d:
        d.add_many(docs)
        cutoff = datetime.fromisoformat(docs[len(docs) // 2]["published"])
        removed = d.expire(before=cutoff)
    assert removed == len(docs) // 2
    store = SQLiteStore(db)
    try:
        assert len(store) == len(docs) - removed and store.integrity() == []
    finally:
        store.close()


_CHILD = r"""
import sys
sys.path.insert(0, {root!r})
from newsdedup import Deduper
from tests.test_stream import make_corpus
docs = [dict(d, id=f"{{n}}-{{d['id']}}") for n in range(40) for d in make_corpus(n, stories=20)]
batch = {batch}
with Deduper.open({db!r}) as d:
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        if batch == 1:
            d.add(chunk[0])
        else:
            d.add_many(chunk)
        print(*[x["id"] for x in chunk], flush=True)
"""


@pytest.mark.parametrize("batch", [1, 25])
def test_sigkill_in_the_middle_of_a_stream_loses_nothing_committed(
    tmp_path: Path, batch: int
) -> None:
    db = tmp_path / "index.db"
    code = _CHILD.format(root=str(ROOT), db=str(db), batch=batch)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    committed: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(committed) < 400 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed += line.split()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(committed) >= 400, "the child did not get far enough"
    store = SQLiteStore(db)
    try:
        assert store.integrity() == []
        present = store.seqs_of(committed)
        assert set(present) == set(committed)  # every committed document is there
        n = len(store)
        assert n >= len(committed)
        if batch > 1:
            assert n % batch == 0  # batches are all-or-nothing
    finally:
        store.close()
    from tests.test_stream import make_corpus as corpus

    docs = {f"{n}-{d['id']}": d for n in range(40) for d in corpus(n, stories=20)}
    with Deduper.open(db) as d:  # queries still find them
        for ident in committed[:: max(1, len(committed) // 40)]:
            doc = docs[ident]
            if len(doc["text"].split()) < 5:
                continue
            found = {m.a if m.b == "probe" else m.b for m in d.query(dict(doc, id="probe"))}
            assert ident in found
        d.add({"id": "after-the-crash", "text": docs[committed[0]]["text"]})


def test_two_processes_writing_one_file_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    Deduper.open(db).close()
    code = r"""
import sys
sys.path.insert(0, {root!r})
from newsdedup import Deduper
from tests.test_stream import make_corpus
docs = [dict(d, id=f"w{worker}-{{n}}-{{d['id']}}")
        for n in range(6) for d in make_corpus(n, stories=15)]
with Deduper.open({db!r}) as d:
    for start in range(0, len(docs), 7):
        d.add_many(docs[start:start + 7])
"""
    procs = [
        subprocess.Popen([sys.executable, "-c", code.format(root=str(ROOT), db=str(db), worker=w)])
        for w in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    per_worker = sum(len(make_corpus(n, stories=15)) for n in range(6))
    store = SQLiteStore(db)
    try:
        assert len(store) == 2 * per_worker
        assert store.integrity() == []
    finally:
        store.close()


def test_a_second_connection_sees_the_first_ones_writes(tmp_path: Path) -> None:
    """Two connections on one file: each sees what the other committed (the
    present-keys bitmap of a connection must not hide the other's entries)."""
    docs = make_corpus(24, stories=6)
    story = next(x for x in docs if x["id"] == "s000")
    db = tmp_path / "index.db"
    with Deduper.open(db) as a, Deduper.open(db) as b:
        a.add_many([x for x in docs if not x["id"].startswith("s000")])
        assert a.query(dict(story, id="probe")) == []  # a has built its bitmap
        b.add(story)
        assert [m.b for m in a.query(dict(story, id="probe"))] == ["s000"]
        decision = a.add_many([dict(story, id="copy")])[0]
        assert decision.duplicate_of == "s000" and decision.relation == "exact"
        assert [m.relation for m in b.query(dict(story, id="probe"))] == ["exact", "exact"]


@pytest.mark.parametrize("merge_min", [500_000, 50])
def test_grouped_band_table_answers_as_the_memory_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_min: int
) -> None:
    """Band entries in the two levels (recent rows, merged groups): buckets give
    the members in seq order, capped at the limit, through merges, crowded keys,
    seqs of several byte widths and removals, as the in-memory store does."""
    import random

    import numpy as np

    from newsdedup.store import MemoryStore, StoredDoc

    monkeypatch.setattr("newsdedup.store._MERGE_MIN", merge_min)
    rng = random.Random(5)
    pool = [rng.getrandbits(64) for _ in range(300)]
    pool += [(p & ~((1 << 46) - 1)) | rng.getrandbits(20) for p in pool[:20]]  # same group
    sqlite, memory = SQLiteStore(tmp_path / "b.db"), MemoryStore()
    docs: list[tuple[StoredDoc, np.ndarray]] = []
    for seq in [*range(1, 200), *range(70_000, 70_100), *range(2**33, 2**33 + 40)]:
        keys = np.array(sorted(set(rng.sample(pool, rng.randint(0, 12)))), dtype=np.uint64)
        doc = StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=1,
                        exact=seq, cluster=0, rep=None, shingles=np.array([seq % 2**32], np.uint32))
        docs.append((doc, keys))
    probe = np.array(pool + [12345], dtype=np.uint64)

    def check() -> None:
        for limit in (3, 1000):
            want = memory.buckets(probe, limit)
            got = sqlite.buckets(probe, limit)
            assert got == want
        assert sqlite.band_rows() == sum(len(v) for v in memory._bands.values())
        assert sqlite.integrity() == []

    try:
        for start in range(0, len(docs), 37):
            part = docs[start : start + 37]
            for store in (sqlite, memory):
                with store.transaction():
                    store.insert([d for d, _k in part], [k for _d, k in part])
            check()
        with sqlite.transaction():
            sqlite._merge()  # every entry in groups, seqs of 1 to 34 bits
        check()
        gone = docs[::3]
        for store in (sqlite, memory):
            with store.transaction():
                store.delete([d for d, _k in gone], [k for _d, k in gone])
        check()
        bits = {r[0][0] for r in sqlite._con.execute("SELECT entries FROM bands")}
        assert len(bits) > 1  # groups written with different seq widths
    finally:
        sqlite.close()


def test_texts_dictionary_is_frozen_with_the_format() -> None:
    """Stored texts are deflated against ZDICT: changing it makes every stored
    text unreadable, so it may change only with INDEX_FORMAT."""
    import zlib

    from newsdedup._zdict import ZDICT, ZDICT_CRC32
    from newsdedup.store import compress_texts, decode_payload, encode_payload

    assert (INDEX_FORMAT, zlib.crc32(ZDICT)) == (10, ZDICT_CRC32)  # formats 8-10: a 32 KB ZDICT
    text = "The government said on Tuesday that the minister would resign."
    for cleaned in (text, text[4:], ""):
        blob = encode_payload("Minister to resign", text, cleaned)
        assert decode_payload(blob) == ("Minister to resign", text, cleaned)
    assert len(compress_texts(None, text, text)) < len(zlib.compress(text.encode(), 9))


def test_a_rolled_back_insert_leaves_no_band_entries(tmp_path: Path) -> None:
    """The recent band entries a connection holds in memory follow a rollback."""
    import numpy as np

    from newsdedup.store import StoredDoc

    def doc(seq: int) -> StoredDoc:
        return StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=1,
                         exact=seq, cluster=0, rep=None, shingles=np.array([seq], np.uint32))

    keys = np.array([11 << 28, 12 << 28, 13 << 28], dtype=np.uint64)  # distinct in 40 bits
    store = SQLiteStore(tmp_path / "r.db")
    try:
        with store.transaction():
            store.insert([doc(1)], [keys[:2]])
        with pytest.raises(RuntimeError), store.transaction():
            store.insert([doc(2), doc(3)], [keys, keys[1:]])
            assert store.buckets(keys, 10) == {int(keys[0]): [1, 2], int(keys[1]): [1, 2, 3],
                                               int(keys[2]): [2, 3]}
            raise RuntimeError("abort the batch")
        assert store.buckets(keys, 10) == {int(keys[0]): [1], int(keys[1]): [1]}
        assert len(store) == 1 and store.band_rows() == 2 and store.integrity() == []
    finally:
        store.close()


def test_two_connections_keep_their_recent_band_entries_in_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each connection holds the recent band entries in memory: it reads the rows
    another one added, and everything again after another one merged or removed."""
    import random

    import numpy as np

    from newsdedup.store import MemoryStore, StoredDoc

    monkeypatch.setattr("newsdedup.store._MERGE_MIN", 400)
    rng = random.Random(9)
    pool = np.array([rng.getrandbits(64) for _ in range(120)], dtype=np.uint64)
    a, b, memory = SQLiteStore(tmp_path / "c.db"), SQLiteStore(tmp_path / "c.db"), MemoryStore()
    try:
        for step in range(60):
            writer = (a, b)[rng.random() < 0.5]
            first = writer.reserve(5)
            memory.reserve(5)
            docs = [StoredDoc(seq=s, id=f"d{s}", published=None, source=None, n_words=1,
                              exact=s, cluster=0, rep=None, shingles=np.array([s], np.uint32))
                    for s in range(first, first + 5)]
            keys = [np.unique(pool[rng.sample(range(len(pool)), 8)]) for _ in docs]
            for store in (writer, memory):
                with store.transaction():
                    store.insert(docs, keys)
            if step % 7 == 6:  # a removal by either connection
                remover = (a, b)[rng.random() < 0.5]
                gone = [docs[0]]
                for store in (remover, memory):
                    with store.transaction():
                        store.delete(gone, keys[:1])
            for reader in (a, b):
                assert reader.buckets(pool, 1000) == memory.buckets(pool, 1000), step
        assert a._counter("main_rows") > 0  # merges happened on the way
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("n", [0, 1, 2, 63, 64, 300])
def test_payload_key_part_round_trips(n: int) -> None:
    """The key-term part's varint head (format 8) with and without a banded mask."""
    import numpy as np

    from newsdedup.store import (
        decode_payload,
        encode_payload,
        payload_band_hashes,
        payload_key_hashes,
        split_payload,
    )

    rng = np.random.default_rng(n)
    hashes = np.unique(rng.integers(0, 2**32, n, dtype=np.int64)).astype(np.uint32)
    for banded in (None, rng.random(len(hashes)) < 0.6):
        blob = encode_payload("T", "the text", "the text", hashes, banded)
        keys, texts = split_payload(blob)
        assert keys + texts == blob
        for b in (blob, keys):
            assert payload_key_hashes(b).tolist() == hashes.tolist()
            want = hashes if banded is None or banded.all() else hashes[banded]
            assert payload_band_hashes(b).tolist() == want.tolist()
        assert decode_payload(blob) == ("T", "the text", "the text")


def test_plain_band_keys_are_kept_to_40_bits(tmp_path: Path) -> None:
    """Format 8: a plain (copy-LSH) key is looked up by its top 40 bits, a
    tagged one by its tag and 32 bits; through the recent level and a merge."""
    import numpy as np

    from newsdedup import store as st
    from newsdedup.store import PASSAGE_TAG, StoredDoc

    def doc(seq: int) -> StoredDoc:
        return StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=1,
                         exact=seq, cluster=0, rep=None, shingles=np.array([seq], np.uint32))

    a = np.uint64(0x1234_5678_9ABC_0000)
    near = a | np.uint64(0xFF << 16)  # differs from a in the dropped bits only
    far = a ^ np.uint64(1 << 24)  # differs in a kept bit
    tag = np.uint64((PASSAGE_TAG << 48) | (0xDEADBEEF << 16))
    tag_far = tag ^ np.uint64(1 << 16)
    store = SQLiteStore(tmp_path / "k.db")
    try:
        with store.transaction():
            store.insert([doc(1)], [np.array([a, tag], dtype=np.uint64)])
        probe = np.array([near, far, a, tag, tag_far], dtype=np.uint64)
        want = {int(near): [1], int(a): [1], int(tag): [1]}
        assert store.buckets(probe, 10) == want
        with store.transaction():
            store._merge()
        assert store._con.execute("SELECT count(*) FROM bands_new").fetchone()[0] == 0
        assert store.buckets(probe, 10) == want
        keys, seqs = st._unpack_groups(list(store._con.execute(
            "SELECT grp, entries FROM bands ORDER BY grp")))
        assert sorted(keys.tolist()) == sorted(st._short_keys(np.array([a, tag])).tolist())
    finally:
        store.close()


def test_a_merge_gives_the_freed_pages_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New files use incremental auto-vacuum: the recent level's pages, freed
    by a merge, leave the file at once (the answers do not change)."""
    import sqlite3

    import numpy as np

    from newsdedup import store as st
    from newsdedup.store import StoredDoc

    monkeypatch.setattr(st, "_MERGE_MIN", 20_000)
    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**63, 40_000, dtype=np.int64).astype(np.uint64)
    path = tmp_path / "v.db"
    store = SQLiteStore(path)
    try:
        asked = None
        for batch in range(12):
            docs, keys = [], []
            for i in range(100):
                seq = batch * 100 + i + 1
                docs.append(StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None,
                                      n_words=1, exact=seq, cluster=0, rep=None,
                                      shingles=np.array([seq], np.uint32)))
                keys.append(np.unique(rng.choice(pool, 40)))
            with store.transaction():
                store.insert(docs, keys)
            if asked is None and store._counter("main_rows") == 0:
                asked = store.buckets(pool[:2000], 1000)
        assert store._counter("main_rows") > 0  # merged
        assert store.integrity() == []
    finally:
        store.close()
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert con.execute("PRAGMA freelist_count").fetchone()[0] == 0
    finally:
        con.close()
    again = SQLiteStore(path)
    try:
        got = again.buckets(pool[:2000], 1000)
        assert asked is not None and all(got[k][: len(v)] == v for k, v in asked.items())
    finally:
        again.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_searching_group_rows_finds_what_decoding_them_does(seed: int) -> None:
    """_find_in_groups (the compiled search and its numpy twin) gives, for the
    wanted keys, the entries _unpack_groups decodes from whole rows (the first
    ``limit`` of each): plain and tagged keys of both tags, crowded keys, keys
    absent from their group, groups packed with different seq widths."""
    import numpy as np

    from newsdedup import _native
    from newsdedup import store as st
    from newsdedup.store import PASSAGE_TAG, REWRITE_TAG

    rng = np.random.default_rng(seed)
    # few groups (many entries per row) and few suffixes (crowded keys)
    plain = (rng.integers(0, 6, 3000) << 30) | (rng.integers(0, 40, 3000) << 8)
    tagged = ((np.where(rng.random(3000) < 0.5, PASSAGE_TAG, REWRITE_TAG) << 32)
              | (rng.integers(0, 3, 3000) << 14) | rng.integers(0, 40, 3000))
    keys = np.concatenate([plain, tagged]).astype(np.int64)
    seqs = rng.permutation(len(keys)).astype(np.int64) + 1
    rows = []
    # the groups in three runs packed apart, with seqs of 1, 12 and 34 bits
    for run, top in enumerate((1, 4000, 2**33)):
        sel = st._group_of(keys) % 3 == run
        kk, qq = keys[sel], np.minimum(seqs[sel], top)
        qq[-1] = top  # the largest seq sets the width
        order = np.lexsort((qq, kk))
        kk, qq = kk[order], qq[order]
        keep = np.r_[True, (kk[1:] != kk[:-1]) | (qq[1:] != qq[:-1])]
        rows += st._pack_groups(kk[keep], qq[keep])
    assert sorted({blob[0] for _g, blob in rows}) == [1, 12, 34]
    rows.sort()
    all_k, all_q = st._unpack_groups(rows)
    probes = np.concatenate([rng.choice(keys, 400), keys[:50] + 256, keys[-50:] ^ 1,
                             [(7 << 30)]]).astype(np.int64)
    probes = st.unique_sorted(probes)
    assert np.bincount(np.searchsorted(probes, all_k)).max() > 3  # crowded keys
    ways = [False, True] if _native.available() else [False]
    for limit in (1, 3, 1 << 30):
        lo = np.searchsorted(all_k, probes, "left")
        hi = np.searchsorted(all_k, probes, "right")
        want_k = np.repeat(probes, np.minimum(hi - lo, limit))
        want_q = np.concatenate([all_q[a : min(b, a + limit)] for a, b in zip(lo, hi, strict=True)])
        for native in ways:
            got_k, got_q = st._find_in_groups(rows, probes, limit, native)
            assert got_k.tolist() == want_k.tolist()
            assert got_q.tolist() == want_q.tolist()
    assert st._find_in_groups([], probes, 5)[0].tolist() == []


@pytest.mark.parametrize("cap", [256 << 20, 10_000])
def test_the_merged_level_in_memory_answers_as_the_file_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """A connection that keeps the bitmap keeps the merged rows in memory and
    looks keys up there: the same buckets as a connection that reads every
    lookup's rows from the file, through merges, removals, a rolled-back merge
    and another connection's write (after which it reads the file again); with a
    cap below the merged rows' size (``cap``) it keeps none."""
    import numpy as np

    from newsdedup import store as st
    from newsdedup.store import StoredDoc

    monkeypatch.setattr(st, "_MERGE_MIN", 3_000)
    monkeypatch.setattr(st, "_MERGED_MAX", cap)
    rng = np.random.default_rng(5)
    pool = _key_pool(rng, 3_000, 3_000)
    path = tmp_path / "m.db"
    store, plain_reader = SQLiteStore(path), SQLiteStore(path)
    plain_reader._bits_off = True  # every lookup from the file

    def doc(seq: int) -> StoredDoc:
        return StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=1,
                         exact=seq, cluster=0, rep=None, shingles=np.array([seq], np.uint32))

    def add(first: int, n: int) -> None:
        with store.transaction():
            store.insert([doc(q) for q in range(first, first + n)],
                         [np.unique(rng.choice(pool, 30)) for _ in range(n)])

    def same() -> None:
        probe = np.concatenate([rng.choice(pool, 800), rng.integers(0, 2**63, 50).astype(
            np.uint64)])
        for limit in (2, 1000):
            assert store.buckets(probe, limit) == plain_reader.buckets(probe, limit)

    try:
        for batch in range(8):
            add(batch * 100 + 1, 100)
            same()
        assert store._counter("main_rows") > 0  # merged
        if cap > 10_000:  # kept (read again after each merge)
            assert store._merged is not None and len(store._merged[0]) > 10_000
        else:  # grown beyond the cap: not kept any more
            assert store._merged is None and store._merged_off
        with store.transaction():
            store.delete([doc(q) for q in (3, 50, 120)],
                         [pool] * 3)  # keys a document does not have are no-ops
        same()
        with pytest.raises(RuntimeError), store.transaction():
            add(1000, 100)
            store._merge()
            assert store.buckets(pool, 1000)  # the merged rows of this transaction read
            assert (store._merged is not None) is (cap > 10_000)
            raise RuntimeError("roll back")
        same()
        other = SQLiteStore(path)
        try:
            with other.transaction():
                other.insert([doc(2000)], [pool[:40]])
        finally:
            other.close()
        same()
        assert store._merged is None and store._merged_off
        assert store.buckets(pool[:40], 10)[int(pool[0])][-1] == 2000
        assert store.integrity() == []
    finally:
        store.close()
        plain_reader.close()


@pytest.mark.parametrize("cap", [256 << 20, 12_000])
def test_a_merge_keeps_the_merged_level_in_memory_as_the_file_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """A connection that keeps the merged rows in memory merges from them and
    keeps the merged level after the merge without reading the file again:
    byte for byte the rows the file then holds, which are those a connection
    merging from the file writes. Once they grow beyond ``cap`` it keeps none."""
    import numpy as np

    from newsdedup import store as st
    from newsdedup.store import StoredDoc

    monkeypatch.setattr(st, "_MERGE_MIN", 2_000)
    monkeypatch.setattr(st, "_MERGED_MAX", cap)
    rng = np.random.default_rng(11)
    pool = _key_pool(rng, 4_000, 2_000)
    kept, plain_store = SQLiteStore(tmp_path / "kept.db"), SQLiteStore(tmp_path / "plain.db")
    plain_store._bits_off = True  # merges from the file, keeps nothing

    def doc(seq: int) -> StoredDoc:
        return StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=1,
                         exact=seq, cluster=0, rep=None, shingles=np.array([seq], np.uint32))

    def rows(store: SQLiteStore) -> list[tuple[int, bytes]]:
        return store._con.execute("SELECT grp, entries FROM bands ORDER BY grp").fetchall()

    loads = []
    real_load = SQLiteStore._load_merged

    def load(self: SQLiteStore, building: bool = False) -> None:
        loads.append(building)
        real_load(self, building)

    monkeypatch.setattr(SQLiteStore, "_load_merged", load)
    merges = 0
    try:
        for batch in range(14):
            keys = [np.unique(rng.choice(pool, 25)) for _ in range(60)]
            docs = [doc(batch * 60 + i + 1) for i in range(60)]
            for store in (kept, plain_store):
                before = store._counter("main_rows")
                with store.transaction():
                    store.insert(docs, keys)
                    probe = rng.choice(pool, 400)
                    assert store.buckets(probe, 1000) is not None
                merged = store._counter("main_rows") != before
            merges += merged
            assert rows(kept) == rows(plain_store)
            if kept._merged is not None:
                want = st._merged_level(rows(kept))
                for have, should in zip(kept._merged, want, strict=True):
                    assert np.array_equal(have, should)
        assert merges >= 3
        probe = np.concatenate([rng.choice(pool, 800), rng.integers(0, 2**63, 50).astype(
            np.uint64)])
        assert kept.buckets(probe, 1000) == plain_store.buckets(probe, 1000)
        if cap > 12_000:
            assert kept._merged is not None and len(kept._merged[0]) > 12_000
            assert loads == [True]  # read once, when the bitmap was built
        else:
            assert kept._merged is None and kept._merged_off
        assert kept.integrity() == [] and plain_store.integrity() == []
    finally:
        kept.close()
        plain_store.close()


@pytest.mark.parametrize("seed", [0, 1])
def test_packed_group_rows_are_the_entries_byte_by_byte(seed: int) -> None:
    """_pack_groups' rows, against a packer that writes each entry on its own:
    per group (in order) the seq width byte, then per entry in group order
    ``suffix << bits | seq`` in its whole bytes, little-endian."""
    import numpy as np

    from newsdedup import store as st
    from newsdedup.store import PASSAGE_TAG, REWRITE_TAG

    rng = np.random.default_rng(seed)
    plain = rng.integers(0, 2**63, 3_000, dtype=np.int64).astype(np.uint64)
    tags = np.array([PASSAGE_TAG, REWRITE_TAG], dtype=np.uint64)[rng.integers(0, 2, 1_000)]
    tagged = (tags << np.uint64(48)) | (rng.integers(0, 2**32, 1_000).astype(np.uint64)
                                        << np.uint64(16))
    for top in (5, 300, 70_000, 2**30):
        pick = rng.integers(0, 4_000, 2_500)
        keys = st._short_keys(np.concatenate([plain, tagged])[pick])
        seqs = rng.integers(1, top + 1, len(keys)).astype(np.int64)
        order = np.lexsort((seqs, keys))
        keys, seqs = keys[order], seqs[order]
        keep = np.r_[True, (keys[1:] != keys[:-1]) | (seqs[1:] != seqs[:-1])]
        keys, seqs = keys[keep], seqs[keep]
        rows = st._pack_groups(keys, seqs)
        bits = max(1, int(seqs.max()).bit_length())
        gk, gq = st._by_group(keys, seqs)
        want: dict[int, bytearray] = {}
        for q, g, tag, suffix in zip(gq.tolist(), st._group_of(gk).tolist(),
                                     (st._tag_kind(gk) > 0).tolist(),
                                     st._suffix_of(gk).tolist(), strict=True):
            sbits = st._TAG_SUFFIX_BITS if tag else st._PLAIN_SUFFIX_BITS
            row = want.setdefault(g, bytearray([bits]))
            row += ((suffix << bits) | q).to_bytes((sbits + bits + 7) // 8, "little")
        assert rows == [(g, bytes(b)) for g, b in sorted(want.items())]
        back_k, back_q = st._unpack_groups(rows)
        assert back_k.tolist() == keys.tolist() and back_q.tolist() == seqs.tolist()


def _key_pool(rng: Any, n_plain: int, n_tagged: int) -> Any:
    """Band keys for the merge tests: ``n_plain`` plain 64-bit keys, then
    ``n_tagged`` passage or rewrite keys (tag in the top 16 bits)."""
    import numpy as np

    from newsdedup.store import PASSAGE_TAG, REWRITE_TAG

    plain = rng.integers(0, 2**63, n_plain, dtype=np.int64).astype(np.uint64)
    tags = np.array([PASSAGE_TAG, REWRITE_TAG], dtype=np.uint64)[rng.integers(0, 2, n_tagged)]
    tagged = (tags << np.uint64(48)) | (rng.integers(0, 2**32, n_tagged).astype(np.uint64)
                                        << np.uint64(16))
    return np.concatenate([plain, tagged])


def _after_close(d: Deduper) -> dict[str, Any]:
    """Every index operation of a closed Deduper, to be called."""
    from datetime import datetime, timezone

    doc = {"id": "new", "text": "words enough to be shingled and compared here"}
    return {
        "add": lambda: d.add(doc),
        "add_many": lambda: d.add_many([doc]),
        "query": lambda: d.query(doc),
        "remove": lambda: d.remove("a"),
        "expire": lambda: d.expire(before=datetime(2100, 1, 1, tzinfo=timezone.utc)),
        "filter": lambda: list(d.filter([doc])),
    }


def test_a_closed_sqlite_index_raises_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    d = Deduper.open(db)
    d.add({"id": "a", "text": "the quick brown fox jumps over the lazy dog once more"})
    d.close()
    d.close()  # idempotent
    for name, call in _after_close(d).items():
        with pytest.raises(IndexClosedError) as info:
            call()
        assert str(info.value) == (
            f"the index {str(db)!r} is closed: open it again (Deduper.open) to use it"
        ), name
    with Deduper.open(db) as again:  # nothing was changed
        assert again.remove("a") and not again.remove("new")


def test_a_write_lock_held_too_long_is_a_clear_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holding the file's write lock for longer than the timeout:
    every write path (add, add_many, filter, remove, expire, a merge) raises
    IndexConnectionError naming the file, not sqlite3's "database is locked";
    once the lock is released the same Deduper works again."""
    from datetime import datetime

    monkeypatch.setattr("newsdedup.store.SQLITE_TIMEOUT", 0.2)
    monkeypatch.setattr("newsdedup.store._MERGE_MIN", 50)  # the next add_many merges
    docs = make_corpus(25, stories=8)
    db = tmp_path / "index.db"
    with Deduper.open(db) as d:
        d.add_many(docs[:-1])
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            cutoff = datetime.fromisoformat(docs[2]["published"])
            calls = {
                "add": lambda: d.add(docs[-1]),
                "add_many": lambda: d.add_many(docs[-1:]),
                "filter": lambda: list(d.filter(docs[-1:])),
                "remove": lambda: d.remove(docs[0]["id"]),
                "expire": lambda: d.expire(before=cutoff),
            }
            for name, call in calls.items():
                started = time.monotonic()
                with pytest.raises(IndexConnectionError) as info:
                    call()
                assert time.monotonic() - started < 5, name
                assert str(info.value) == (
                    f"cannot write to index {str(db)!r}: it was locked by another writer "
                    "(another connection or process writing the file) for longer than the "
                    "timeout (0.2 s); try again once that writer is done"
                ), name
        finally:
            holder.rollback()
            holder.close()
        assert len(d._stream.store) == len(docs) - 1  # nothing was written
        d.add(docs[-1])  # works again (and merges: see _MERGE_MIN above)
        assert [m.b for m in d.query(dict(docs[-1], id="probe"))].count(docs[-1]["id"]) == 1
        assert d.remove(docs[0]["id"])
        assert d.expire(before=cutoff) == 1  # docs[1]
    store = SQLiteStore(db)
    try:
        assert len(store) == len(docs) - 2 and store.integrity() == []
        assert store._con.execute("SELECT count(*) FROM bands").fetchone()[0] > 0
    finally:
        store.close()


def test_the_boilerplate_model_is_part_of_the_configuration(tmp_path: Path) -> None:
    """A model changes the stored shingle sets: an index built with one is refused
    without it or with another (an equal model read back from JSON is the same);
    an index whose fingerprint predates the entry counts as built without one."""
    import json
    import random

    from newsdedup import BoilerplateModel, learn_boilerplate
    from tests.test_stream import _vocab, make_text

    rng = random.Random(26)
    vocab = _vocab(rng)
    footer = "Follow the Daily Planet for more local news every day and night"
    model = learn_boilerplate([
        {"id": f"p{i}", "source": "planet", "text": make_text(rng, vocab, 80) + "\n" + footer}
        for i in range(6)
    ])
    assert len(model) == 1
    other = BoilerplateModel(sources={"planet": frozenset({"another learned line here"})})
    body = make_text(rng, vocab, 40)  # short: the footer weighs on its shingles
    story = {"id": "a", "source": "planet", "text": body + "\n" + footer}
    db = tmp_path / "index.db"
    with Deduper.open(db, boilerplate=model) as d:
        d.add(story)
    for options, now in (({}, "None"), ({"boilerplate": other}, "'sha256:")):
        with pytest.raises(IncompatibleSignatureError) as info:
            Deduper.open(db, **options)
        assert "boilerplate: index has 'sha256:" in str(info.value)
        assert f"this Deduper has {now}" in str(info.value)
        assert str(db) in str(info.value)
    same = BoilerplateModel.from_json(model.to_json())  # another object, same lines
    with Deduper.open(db, boilerplate=same) as d:
        assert [(m.relation, m.score) for m in d.add(dict(story, id="b"))] == [("exact", 1.0)]
    # An index made before the fingerprint had a boilerplate entry: no model.
    old = tmp_path / "old.db"
    with Deduper.open(old) as d:
        d.add(story)
    con = sqlite3.connect(old)
    fp = json.loads(con.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()[0])
    assert fp.pop("boilerplate") is None
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint'", (json.dumps(fp),))
    con.close()
    with Deduper.open(old) as d:
        assert [m.relation for m in d.add(dict(story, id="b"))] == ["exact"]
    with pytest.raises(IncompatibleSignatureError,
                       match="boilerplate: index has None, this Deduper has 'sha256:"):
        Deduper.open(old, boilerplate=model)


def test_a_full_disk_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file cannot grow (SQLite's page limit stands in for a full disk): the
    batch fails with an IndexConnectionError naming the file, none of it is
    written, and the index works on once there is room."""
    docs = make_corpus(21, stories=60)
    path = tmp_path / "full.db"
    with Deduper.open(path) as d:
        d.add_many(docs[:20])
        before = _state(d, docs[:20])
        con = d._streamer().store._con
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count={pages + 2}")
        with pytest.raises(IndexConnectionError, match=r"cannot write to index .*full\.db.*"
                           r"full.*nothing of this transaction was written"):
            d.add_many(docs[20:])
        assert len(d._streamer()) == 20 and _state(d, docs[:20]) == before
        assert d._streamer().store.integrity() == []
        con.execute("PRAGMA max_page_count=1073741823")
        d.add_many(docs[20:])
        assert len(d._streamer()) == len(docs)
        after = _state(d, docs)
    with Deduper.open(path) as d:
        assert len(d._streamer()) == len(docs) and _state(d, docs) == after


def test_a_damaged_meta_table_is_a_clear_error(tmp_path: Path) -> None:
    """Values newsdedup did not write in the index's meta table (a damaged file,
    another program) are IncompatibleSignatureErrors naming the index and the
    field, not raw JSON or int() errors."""
    docs = make_corpus(22, stories=5)
    path = tmp_path / "meta.db"
    with Deduper.open(path) as d:
        d.add_many(docs[:3])
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = 'many' WHERE key = 'term_docs'")
    con.commit()
    with Deduper.open(path) as d, pytest.raises(
            IncompatibleSignatureError, match=r"meta\.db'?: its counter 'term_docs' holds "
            r"'many', not what newsdedup writes there"):
        d.add_many(docs[3:])
    con.execute("UPDATE meta SET value = '{\"index_format\": ' WHERE key = 'fingerprint'")
    con.commit()
    con.close()
    with pytest.raises(IncompatibleSignatureError, match="its fingerprint holds "
                       "'{\"index_format\": ', not what newsdedup writes there"):
        Deduper.open(path)
