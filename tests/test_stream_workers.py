"""Streaming with worker processes: documents prepared by two workers (and
indexed in the in-process path's batches) give the same decisions as
in-process preparation."""

from __future__ import annotations

import pytest

from newsdedup import Deduper

from .test_stream import make_corpus


def test_workers_give_the_same_decisions() -> None:
    docs = make_corpus(4, stories=160)
    assert len(docs) >= 4 * 64  # several worker chunks, merged into index batches
    one = Deduper().add_many(docs)
    with Deduper(workers=2) as d:
        two = d.add_many(docs)
        assert d._streamer()._pool is not None  # the workers did prepare them
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
