"""Streaming key-term caps: from CORPUS_MIN_DOCS indexed documents on, a key
term held by too many of them leaves the rewrite bands and the key-term
prefilter (as the batch run's corpus caps do); removal still finds every band
row, and the document frequencies follow adds and removals."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from newsdedup import Deduper
from newsdedup.rewrite import CORPUS_MIN_DOCS, key_hashes
from newsdedup.store import (
    MemoryStore,
    SQLiteStore,
    StoredDoc,
    encode_payload,
    payload_band_hashes,
    payload_key_hashes,
)
from newsdedup.stream import min_dropped_df


def _docs(n: int, seed: int = 5) -> list[dict[str, str]]:
    rng = random.Random(seed)
    letters = "bcdfghjklmnpqrstvwxz"
    vocab = ["".join(rng.choice(letters) for _ in range(7)) for _ in range(20000)]
    out = []
    for i in range(n):
        words = [rng.choice(vocab) for _ in range(110)] + ["qzxcommonterm"]
        out.append({"id": f"d{i:05d}", "text": " ".join(words) + "."})
    return out


def test_min_dropped_df_is_about_sqrt_2n() -> None:
    for n in (1000, 5000, 100_000):
        d = min_dropped_df(n)
        assert abs(d - (2 * n) ** 0.5) <= 1.5
        assert min_dropped_df(n) <= min_dropped_df(n * 2)


def test_common_key_term_leaves_the_bands_and_removal_stays_exact(tmp_path: Path) -> None:
    n = CORPUS_MIN_DOCS + 20
    docs = _docs(n)
    common = int(key_hashes(["qzxcommonterm"])[0])
    with Deduper.open(tmp_path / "i.db", strip=False) as d:
        d.add_many(docs)
        store = d._streamer().store
        assert isinstance(store, SQLiteStore)
        assert store.term_docs() == n
        assert store.term_df(np.array([common], dtype=np.uint64), 10**9) == {common: n}
        rows = store._con.execute("SELECT seq, keys FROM docs ORDER BY seq").fetchall()
        for pos, (_seq, payload) in enumerate(rows):
            keys = payload_key_hashes(payload).tolist()
            banded = payload_band_hashes(payload).tolist()
            assert common in keys
            # below CORPUS_MIN_DOCS indexed documents (at the start of a chunk of
            # 1,000) the bands use every key term (batch parity); from there on
            # the common one is dropped
            assert (common in banded) == (pos < CORPUS_MIN_DOCS), pos
        assert store.band_rows() > 0
        for doc in docs:
            assert d.remove(doc["id"])
        # every band row (capped rewrite bands included) was found again
        assert store.band_rows() == 0 and store.integrity() == []
        assert store.term_docs() == 0
        assert store._con.execute("SELECT count(*) FROM terms").fetchone()[0] == 0


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_term_df_follows_adds_and_removals(backend: str, tmp_path: Path) -> None:
    rng = random.Random(3)
    store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "t.db")
    docs = []
    for seq in range(1, 301):
        hashes = np.array(sorted(rng.sample(range(60), 12)), dtype=np.uint32)
        docs.append(StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None, n_words=120,
                              exact=seq, cluster=0, rep=None, lead=seq % 7 != 0,
                              shingles=np.array([seq], dtype=np.uint32),
                              payload=encode_payload(None, "", "", hashes)))
    with store.transaction():
        store.insert(docs, [np.zeros(0, dtype=np.uint64)] * len(docs))
    with store.transaction():
        store.delete(docs[::5], [np.zeros(0, dtype=np.uint64)] * len(docs[::5]))
    kept = [d for i, d in enumerate(docs) if i % 5 and d.lead]
    truth: dict[int, int] = {}
    for d in kept:
        for h in payload_key_hashes(d.payload).tolist():
            truth[h] = truth.get(h, 0) + 1
    assert store.term_docs() == len(kept)
    probe = np.array([1, 2, 999], dtype=np.uint64)
    for min_df in (1, 31, 32, 45, 60, 10**6):
        want = {h: c for h, c in truth.items() if c >= min_df or h in (1, 2)}
        assert store.term_df(probe, min_df) == want, min_df
    assert any(c >= 45 for c in truth.values()) and any(c < 45 for c in truth.values())
    store.close()
