"""A Deduper shared by threads: calls that touch the index run one at a time, so
nothing is lost; and what pickling does."""

from __future__ import annotations

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import newsdedup

BASE = ("Officials in district {0} said on Tuesday that the council approved the new budget "
        "after a long debate about funding for schools, roads and library {0}.")


def test_threads_adding_to_one_sqlite_index_lose_nothing(tmp_path: Path) -> None:
    # sqlite3's same-thread check is off (the stream's workers need it), and the
    # threads' transactions interleaved: documents reported added were missing,
    # others reported failed were committed, and raw sqlite3 errors escaped.
    path = str(tmp_path / "t.db")
    with newsdedup.Deduper.open(path) as d:
        def go(k: int) -> int:
            for j in range(10):
                d.add({"id": f"t{k}-{j}", "text": BASE.format(f"{k}x{j}")})
            return k

        with ThreadPoolExecutor(4) as pool:
            assert sorted(pool.map(go, range(4))) == [0, 1, 2, 3]
    with newsdedup.Deduper.open(path) as d:
        assert len(d._streamer().store) == 40


def test_threads_making_the_first_call_share_one_in_memory_index() -> None:
    # The in-memory index is made at the first call; threads making it at once
    # each made their own, and all but one's documents were lost.
    for _trial in range(20):
        d = newsdedup.Deduper()
        barrier = threading.Barrier(4)

        def go(k: int, d: newsdedup.Deduper = d, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            d.add({"id": f"doc{k}", "text": BASE.format(k)})

        threads = [threading.Thread(target=go, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(d._streamer().store) == 4


def test_pickling_a_deduper(tmp_path: Path) -> None:
    d = newsdedup.Deduper()
    d.add({"id": "a", "text": BASE.format(1)})
    copy = pickle.loads(pickle.dumps(d))  # an independent copy of an in-memory index
    assert [m.a for m in copy.add({"id": "b", "text": BASE.format(1)})] == ["a"]
    with (newsdedup.Deduper.open(str(tmp_path / "p.db")) as persistent,
          pytest.raises(TypeError, match=r"persistent index .* cannot be pickled")):
        pickle.dumps(persistent)


def _child_adds(d: newsdedup.Deduper, q: object) -> None:
    import os

    from newsdedup import store

    d.add({"id": "child", "text": BASE.format("child")})
    found = [m.a for m in d.query({"id": "probe", "text": BASE.format(1)})]
    st = d._streamer().store
    q.put((st._pid == os.getpid(), len(store._INHERITED), found))  # type: ignore[attr-defined]


def test_a_forked_child_uses_an_sqlite_index_through_its_own_connection(
    tmp_path: Path,
) -> None:
    # A connection used across fork() can corrupt the file (SQLite's advice): a
    # child now opens its own, and leaves the inherited one alone.
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    ctx = mp.get_context("fork")
    path = str(tmp_path / "f.db")
    with newsdedup.Deduper.open(path) as d:
        d.add({"id": "parent", "text": BASE.format(1)})
        q = ctx.Queue()
        child = ctx.Process(target=_child_adds, args=(d, q))
        child.start()
        own, inherited, found = q.get(timeout=60)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert own and inherited == 1 and "parent" in found
        # the parent's connection is intact and sees the child's document
        assert len(d._streamer().store) == 2
        assert d._streamer().store.integrity() == []
        assert "child" in {m.a for m in d.query({"id": "q", "text": BASE.format("child")})}
