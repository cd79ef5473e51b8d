"""Streaming with worker processes: documents prepared by two workers (and
indexed in merged batches) give the same decisions as in-process preparation."""

from __future__ import annotations

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
