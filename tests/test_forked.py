"""Judging in forked workers gives what judging in one process gives."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

import newsdedup
from newsdedup import forked, score

from .conftest import corpus_path, read_jsonl_gz

needs_fork = pytest.mark.skipif(not forked.fork_available(), reason="fork is not available")


def _square_sum(state: int, block: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(state * x * x for x in block)


@needs_fork
def test_fork_map_equals_map_and_uses_workers() -> None:
    blocks = [list(range(k, k + 50)) for k in range(0, 1000, 50)]
    serial = forked.fork_map(_square_sum, 3, blocks, workers=1)
    parallel = forked.fork_map(_square_sum, 3, blocks, workers=2)
    assert [s for _, s in parallel] == [s for _, s in serial]
    assert {pid for pid, _ in serial} == {os.getpid()}
    assert os.getpid() not in {pid for pid, _ in parallel}
    # here=True: this process computes the first block, one worker the others
    here = forked.fork_map(_square_sum, 3, blocks, workers=2, here=True)
    assert [s for _, s in here] == [s for _, s in serial]
    assert here[0][0] == os.getpid()
    assert len({pid for pid, _ in here[1:]}) == 1 and os.getpid() not in {
        pid for pid, _ in here[1:]}


def _grow(state: dict[int, int], block: list[int]) -> int:
    state.update(dict.fromkeys(block, 1))  # a cache the block leaves behind
    return len(state)


@needs_fork
def test_fork_map_here_leaves_this_process_what_its_block_cached() -> None:
    cache: dict[int, int] = {}
    out = forked.fork_map(_grow, cache, [[1, 2], [3, 4, 5], [6]], workers=2, here=True)
    assert sorted(cache) == [1, 2]  # what the worker cached stays in the worker
    # the worker was forked before this process's block ran (it did not see 1
    # and 2), and took both other blocks
    assert out == [2, 3, 4]


def _die_on_seven(state: int, block: list[int]) -> int:
    if 7 in block:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return state + sum(block)


@needs_fork
def test_a_worker_killed_in_fork_map_raises_worker_error() -> None:
    from newsdedup import WorkerError

    blocks = [[k] for k in range(10)]
    with pytest.raises(WorkerError, match="_die_on_seven ended before its work was done"):
        forked.fork_map(_die_on_seven, 1, blocks, workers=2)
    with pytest.raises(WorkerError, match="_die_on_seven ended before its work was done"):
        forked.fork_map(_die_on_seven, 1, blocks, workers=2, here=True)
    # the same blocks without the killing one still run
    assert forked.fork_map(_die_on_seven, 1, blocks[:7], workers=2) == [1 + k for k in range(7)]


class _DYING:  # what _dying_prepare needs (set by the test; forked workers inherit it)
    parent = 0
    real: Any = None


def _dying_prepare(records: Any, *args: Any, **kwargs: Any) -> Any:
    if os.getpid() != _DYING.parent and any(r[0] == "doc-0120" for r in records):
        os.kill(os.getpid(), signal.SIGKILL)  # a worker, never the test's process
    return _DYING.real(records, *args, **kwargs)


@needs_fork
def test_a_worker_killed_while_preparing_raises_worker_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsdedup import WorkerError, chunks
    from newsdedup.config import Config

    monkeypatch.setattr(_DYING, "parent", os.getpid())
    monkeypatch.setattr(_DYING, "real", chunks.prepare_chunk)
    monkeypatch.setattr(chunks, "prepare_chunk", _dying_prepare)
    monkeypatch.setattr(chunks, "chunk_size", lambda size, workers: 50)
    arts = [newsdedup.Article(id=f"doc-{i:04d}", text=f"story {i} " + "word " * 40)
            for i in range(300)]
    with pytest.raises(WorkerError, match="preparing documents"):
        chunks.prepare_stream(arts, Config(), workers=2)
    assert len(chunks.prepare_stream(arts[:100], Config(), workers=2).chunks) == 2


def _signature(res: Any) -> tuple[Any, ...]:
    clusters = sorted(tuple(sorted(c.members)) for c in res.clusters)
    pairs = [(m.a, m.b, m.relation, m.score) for m in res.pairs]
    verdicts = sorted((k, v.match.relation, v.match.score, v.reason, tuple(sorted(v.signals)))
                      for k, v in res.verdicts.items())
    return clusters, pairs, verdicts, res.refused


@needs_fork
def test_link_in_workers_equals_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"id": r["id"], "title": r["title"], "text": r["text"]}
            for r in read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz"))]
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = newsdedup.cluster(docs, progress=False)
    calls: list[int] = []
    real = forked.fork_map

    def spy(fn: Any, state: Any, blocks: Any, workers: int, **kw: Any) -> Any:
        calls.append(workers)
        return real(fn, state, blocks, workers, **kw)

    monkeypatch.setattr(score, "fork_map", spy)
    monkeypatch.setattr(score, "PARALLEL_MIN_PAIRS", 10)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    two = newsdedup.cluster(docs, progress=False)
    assert calls[-1] == 2  # judging in two workers (passage candidates: too few here)
    # (663 verdicts: the rewrite family's pairs with too little shared vocabulary
    # are not judged, score._vocabulary_pass)
    assert len(one.verdicts) > 500 and any(m.relation == "rewrite" for m in one.pairs)
    assert _signature(two) == _signature(one)


def _cluster_in_pool_worker(n: int) -> list[list[str]]:
    docs = [{"id": str(i), "text": f"Story {i // 2} about the harbour crane number {i // 2} "
             "which the port authority said would be replaced next spring at a cost of "
             f"{i // 2} million after an inspection found cracks in its frame."}
            for i in range(n)]
    res = newsdedup.cluster(docs, progress=False)
    return sorted(sorted(c.members) for c in res.clusters)


@needs_fork
def test_cluster_in_a_daemonic_pool_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A multiprocessing.Pool worker may not start processes: prepare and link
    run in it without workers, with the same result."""
    import multiprocessing as mp

    monkeypatch.setattr(score, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr("newsdedup.chunks.CHUNK_DOCS", 10)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    here = _cluster_in_pool_worker(60)
    with mp.get_context("fork").Pool(1) as pool:
        there = pool.apply(_cluster_in_pool_worker, (60,))
    assert there == here
    assert sum(len(c) == 2 for c in here) == 30


def _gc_state(_state: object, _block: int) -> bool:
    import gc

    return gc.isenabled()


@pytest.mark.parametrize("workers", [1, 2])
def test_blocks_run_with_the_collector_paused_and_it_is_restored(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fork_map runs each block with the cyclic garbage collector paused (in the
    workers and in this process), and leaves it as it found it: enabled, or
    disabled by the caller. ``NEWSDEDUP_GC=on`` keeps it running."""
    import gc

    from newsdedup.forked import fork_map, paused_gc

    assert gc.isenabled()
    assert fork_map(_gc_state, None, [1, 2, 3], workers) == [False, False, False]
    assert gc.isenabled()
    assert fork_map(_gc_state, None, [1, 2, 3], workers, here=True) == [False, False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()
    monkeypatch.setenv("NEWSDEDUP_GC", "on")
    assert fork_map(_gc_state, None, [1, 2], workers) == [True, True]
    assert gc.isenabled()


def test_prepare_chunk_runs_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from newsdedup import chunks
    from newsdedup.config import Config

    seen: list[bool] = []
    real = chunks.strip_many

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks, "strip_many", spy)
    state = chunks.prepare_chunk([("a", None, "Some text of a few words here.", None)],
                                 Config())
    assert seen == [False] and gc.isenabled() and len(state.n_words) == 1


def test_cluster_links_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from newsdedup import pipeline

    seen: list[bool] = []
    real = pipeline.link

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "link", spy)
    res = newsdedup.cluster(["A story about the harbour and its ships.",
                             "A story about the harbour and its ships."], min_words=3)
    assert seen == [False] and gc.isenabled() and len(res.clusters) == 1
