"""Streaming with worker processes: documents prepared by two workers (and
indexed in the in-process path's batches) give the same decisions as
in-process preparation."""

from __future__ import annotations

from typing import Any

import pytest

from newsdedup import Deduper

from .test_stream import make_corpus


def test_workers_give_the_same_decisions(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsdedup.stream import _JudgeView

    docs = make_corpus(4, stories=160)
    assert len(docs) >= 4 * 64  # several worker chunks, merged into index batches
    half = len(docs) // 2  # (the second call's documents have indexed candidates)
    with Deduper() as d:
        one = d.add_many(docs[:half]) + d.add_many(docs[half:])
    ahead: list[int] = []  # pairs judged ahead, in this process and the workers
    judge_ahead = _JudgeView.judge_ahead

    def spy(self: _JudgeView, pairs: list[tuple[int, int]], pool: object, parts: int) -> None:
        ahead.append(len(pairs))
        judge_ahead(self, pairs, pool, parts)

    monkeypatch.setattr(_JudgeView, "judge_ahead", spy)
    with Deduper(workers=2) as d:
        two = d.add_many(docs[:half]) + d.add_many(docs[half:])
        assert d._streamer()._pool is not None  # the workers did prepare them
    assert sum(ahead) >= 20  # and judged pairs
    key = [(x.id, x.cluster_id, x.duplicate_of, x.relation, x.score, x.matches) for x in one]
    assert key == [
        (x.id, x.cluster_id, x.duplicate_of, x.relation, x.score, x.matches) for x in two
    ]
    assert sum(not x.is_representative for x in one) >= 40


def test_worker_batches_keep_order_and_the_callers_articles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsdedup import stream as stream_mod
    from newsdedup.stream import as_article

    batch = 90  # batches that worker chunks (64 documents) do not divide
    monkeypatch.setattr(stream_mod, "_BATCH_CHUNK", batch)
    docs = make_corpus(4, stories=160)
    articles = [as_article(d) for d in docs]
    assert len(articles) > 3 * batch
    with Deduper(workers=2) as d:
        stream = d._streamer()
        batches = list(stream._prepared_chunks(articles))
        assert stream._pool is not None
    # the in-process path's batches (where a batch starts can change decisions)
    assert [len(b) for b in batches] == [
        len(articles[i : i + batch]) for i in range(0, len(articles), batch)]
    items = [it for b in batches for it in b]
    # every document once, in order, with the caller's own Article (the workers
    # do not send articles back)
    assert len(items) == len(articles)
    assert all(it.article is a for it, a in zip(items, articles, strict=True))
    one = Deduper()._streamer()._prep(articles)
    assert [(it.exact, it.keys.tolist(), it.cleaned) for it in items] == [
        (it.exact, it.keys.tolist(), it.cleaned) for it in one
    ]


def test_verdicts_judged_elsewhere_are_the_views_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's verdicts (rebuilt from :meth:`_JudgeView.doc_state`) equal the
    view's own, reasons, signals and rewrite evidence included."""
    from newsdedup import stream as stream_mod
    from newsdedup.config import Config

    from .conftest import SEED_000, SEED_001

    config = Config()
    prep = stream_mod._Preparer(config)
    monkeypatch.setattr(stream_mod, "_WORKER", prep)
    docs = make_corpus(6, stories=8) + [
        {"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in (SEED_000, SEED_001)]
    items = prep([stream_mod.as_article(d) for d in docs])
    view = stream_mod._JudgeView(config)
    pos = [view.add_new(it, n) for n, it in enumerate(items) if it.exact is not None]
    pairs = [(a, b) for a in pos for b in pos if a != b]
    mine = [view.verdict(i, j) for i, j in pairs]
    theirs = stream_mod._worker_verdicts([view.doc_state(p) for p in range(len(view.ids))],
                                         pairs)
    assert theirs == mine
    relations = {v.match.relation for v in mine}
    assert {"rewrite", "near_duplicate", "distinct"} <= relations
    assert any(v.rewrite is not None and v.rewrite.aligned for v in mine)



def test_a_killed_worker_stops_the_call_and_the_next_call_starts_new_ones(
    tmp_path: Any,
) -> None:
    """A worker killed between calls: the next call raises WorkerError and keeps
    nothing of its documents (SQLite rolls the transaction back); the call after
    it starts new workers and decides as a run that never lost one."""
    import os
    import signal
    import time

    from newsdedup import WorkerError

    docs = make_corpus(8, stories=200)
    first, second = docs[:150], docs[150:300]
    with Deduper() as d:
        d.add_many(first)
        want = d.add_many(second)
    with Deduper.open(str(tmp_path / "index.db"), workers=2) as d:
        d.add_many(first)
        stream = d._streamer()
        assert stream._pool is not None
        os.kill(next(iter(stream._pool._processes)), signal.SIGKILL)
        time.sleep(0.5)  # (the pool notices the death)
        with pytest.raises(WorkerError, match="worker process of the stream ended before"):
            d.add_many(second)
        assert len(stream) == len(first)  # none of the second call's documents
        assert stream._pool is None
        got = d.add_many(second)
        assert stream._pool is not None  # new workers
    key = [(x.id, x.cluster_id, x.duplicate_of, x.relation, x.score, x.matches) for x in want]
    assert key == [
        (x.id, x.cluster_id, x.duplicate_of, x.relation, x.score, x.matches) for x in got
    ]
