"""The stream's array path for gathering candidates (``Stream.fast``,
:class:`newsdedup.stream._Lookup`) against the plain key-by-key path: the same
candidates, hence the same decisions and query results."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from newsdedup import Deduper
from newsdedup.store import BucketTable, MemoryStore
from newsdedup.stream import Stream, _Lookup

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def _pool(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(8, 16))).capitalize() + "."
            for _ in range(n)]


def shared_sentence_corpus(seed: int, n: int = 260) -> list[dict[str, Any]]:
    """Articles of sentences drawn from a small pool (so that passage samples
    are shared by many articles and crowd their buckets), with exact copies,
    light edits and cuts of earlier articles, often in the same batch."""
    rng = random.Random(seed)
    pool = _pool(rng, 120)
    texts: list[str] = []
    docs = []
    for i in range(n):
        r = rng.random()
        if texts and r < 0.15:
            text = texts[rng.randrange(max(0, len(texts) - 8), len(texts))]  # a recent one
        elif texts and r < 0.3:
            words = rng.choice(texts).split(" ")
            words = [w for w in words if rng.random() > 0.03]
            text = " ".join(words[: int(len(words) * rng.choice((0.8, 1.0)))])
        else:
            text = " ".join(rng.choice(pool) for _ in range(rng.randint(8, 14)))
        texts.append(text)
        docs.append({"id": f"d{i:04d}", "title": " ".join(text.split(" ")[:6]), "text": text,
                     "source": rng.choice(["wire", "a", "b"]),
                     "published": (T0 + timedelta(minutes=i)).isoformat()})
    return docs


def _decisions(d: Deduper, docs: list[dict[str, Any]], fast: bool) -> list[Any]:
    stream = d._streamer()
    stream.fast = fast
    out = []
    for start in range(0, len(docs), 40):
        for x in d.add_many(docs[start : start + 40]):
            out.append((x.id, x.cluster_id, x.duplicate_of, x.relation, x.score,
                        x.is_representative, x.matches))
    probes = [dict(x, id=f"q-{x['id']}") for x in docs[::7]]
    out.append(stream.query_many(probes))
    return out


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("options", [{}, {"rewrite": False}, {"max_bucket": 3}])
def test_fast_path_decides_as_the_plain_path(backend: str, options: dict[str, Any],
                                             tmp_path: Path) -> None:
    docs = shared_sentence_corpus(11)
    got = []
    for fast in (True, False):
        d = (Deduper(**options) if backend == "memory"
             else Deduper.open(tmp_path / f"{fast}.db", **options))
        with d:
            got.append(_decisions(d, docs, fast))
    assert got[0] == got[1]
    assert any(x[3] is not None for x in got[0][:-1])  # matches were found


@pytest.mark.parametrize("limit", [2, 3, 100])
def test_lookup_gathers_what_the_plain_path_gathers(limit: int) -> None:
    """Per document of a chunk, with members pending from earlier documents of
    the chunk (some of them exact copies, stored under their copy keys only)."""
    from newsdedup import Config

    docs = shared_sentence_corpus(5, n=200)
    stream = Stream(Config(max_bucket=limit), MemoryStore())
    with stream.store.transaction():
        stream._index_chunk(stream._prepare([_art(x) for x in docs[:120]]), docs[:120])
    items = stream._prepare([_art(x) for x in docs[120:]])
    keys = np.concatenate([k for it in items for k in (it.keys, it.pkeys, it.rkeys)])
    table = stream.store.bucket_table(keys, limit)
    stored = table.as_dict()
    assert BucketTable.from_dict(stored).as_dict() == stored
    look = _Lookup(items, table, limit)
    assert look.later.any()  # keys shared inside the chunk
    assert limit == 100 or (look.count >= limit).any()  # crowded keys
    look.restrict(np.array(sorted(stream.store._docs), dtype=np.int64), True)
    pending_fast: dict[int, list[int]] = {}
    pending_plain: dict[int, list[int]] = {}
    rng = random.Random(3)
    for n, it in enumerate(items):
        want = stream._gather(it, stored, pending_plain)
        assert look.gathered(n, pending_fast) == want, n
        seq, leads = 10_000 + n, rng.random() < 0.7
        look.add_pending(n, seq, leads, pending_fast)
        for k in (np.concatenate([it.keys, it.pkeys, it.rkeys]) if leads else it.keys).tolist():
            pending_plain.setdefault(k, []).append(seq)
    assert any(len(v) > 1 for v in pending_plain.values())
    assert {k: v for k, v in pending_plain.items() if k in pending_fast} == pending_fast


def _art(x: dict[str, Any]) -> Any:
    from newsdedup.stream import as_article

    return as_article(x)


def test_sqlite_sample_counts_follow_inserts_removals_and_rollbacks(tmp_path: Path) -> None:
    """The connection's cache of passage-sample counts answers as the file does."""
    from newsdedup.store import SQLiteStore, StoredDoc

    def doc(seq: int) -> StoredDoc:
        return StoredDoc(seq=seq, id=f"x{seq}", published=None, source=None, n_words=50,
                         exact=seq, cluster=0, rep=None, samples=seq % 7,
                         shingles=np.array([seq], dtype=np.uint32))

    store = SQLiteStore(tmp_path / "s.db")
    other = SQLiteStore(tmp_path / "s.db")
    no_keys = np.zeros(0, dtype=np.uint64)
    with store.transaction():
        store.insert([doc(s) for s in range(1, 40)], [no_keys] * 39)
    probe = np.array([3, 5, 39, 40, 41, 3, 1 << 30], dtype=np.int64)

    def check(s: SQLiteStore) -> None:
        want = s.samples_of(sorted(set(probe.tolist())))
        found, counts = s.sample_counts(probe)
        assert found.tolist() == [int(q) in want for q in probe.tolist()]
        assert counts[found].tolist() == [want[int(q)] for q in probe[found].tolist()]

    check(store)
    check(other)
    store.delete([doc(5)], [no_keys])
    check(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.insert([doc(40)], [no_keys])
        check(store)
        raise RuntimeError("roll back")
    check(store)
    with store.transaction():
        store.insert([StoredDoc(seq=40, id="y40", published=None, source=None, n_words=50,
                                exact=1, cluster=0, rep=None, samples=3,
                                shingles=np.array([1], dtype=np.uint32))], [no_keys])
    check(store)
    assert store.sample_counts(np.array([40], dtype=np.int64))[1].tolist() == [3]
    store.close()
    other.close()


def test_texts_compressed_from_a_primed_copy_are_those_of_a_new_compressor() -> None:
    import zlib

    from newsdedup._zdict import ZDICT
    from newsdedup.store import _TEXT_LEVEL, compress_texts, decode_payload, encode_payload

    for x in shared_sentence_corpus(2, n=20):
        blob = compress_texts(x["title"], x["text"], x["text"][5:])
        fresh = zlib.compressobj(_TEXT_LEVEL, zlib.DEFLATED, -15, zdict=ZDICT)
        head = zlib.decompressobj(-15, zdict=ZDICT).decompress(blob)
        assert blob == fresh.compress(head) + fresh.flush()
        assert decode_payload(encode_payload(None, "", "", texts=blob)) == (
            x["title"], x["text"], x["text"][5:])


def test_rewrite_band_keys_are_checked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The band table keeps 32 bits of each rewrite band key; a candidate found
    on those alone is checked on the whole keys. Keeping only 3 bits (so that
    nearly every document is a false rewrite candidate of every other) decides
    as the whole keys do."""
    import newsdedup.stream as stream_mod

    docs = shared_sentence_corpus(7, n=160)
    opts = {"max_bucket": 100_000}  # no crowded bucket even with 3-bit keys
    with Deduper(**opts) as d:
        want = _decisions(d, docs, True)
    coarse = stream_mod.stored_rewrite_keys

    def three_bits(full: np.ndarray) -> np.ndarray:
        return coarse(full & np.uint64(0x7 << 32)) if len(full) else full

    monkeypatch.setattr(stream_mod, "stored_rewrite_keys", three_bits)
    with Deduper(**opts) as d:
        got = _decisions(d, docs, True)
    assert got == want
    assert any(m.relation == "rewrite" for x in want[:-1] for m in x[6])


def test_tagged_keys_survive_merges_and_removals(tmp_path: Path) -> None:
    """Passage and rewrite keys (tagged, 4 bytes in the merged groups) and plain
    keys, through a merge and removals, answer as in the memory store."""
    from newsdedup import store as store_mod
    from newsdedup.store import PASSAGE_TAG, REWRITE_TAG, MemoryStore, SQLiteStore, StoredDoc

    rng = np.random.default_rng(4)
    pool = np.concatenate([
        rng.integers(0, 1 << 63, 300, dtype=np.int64).astype(np.uint64),
        (np.uint64(PASSAGE_TAG << 48)
         | (rng.integers(0, 1 << 32, 300, dtype=np.int64).astype(np.uint64) << np.uint64(16))),
        (np.uint64(REWRITE_TAG << 48)
         | (rng.integers(0, 1 << 32, 300, dtype=np.int64).astype(np.uint64) << np.uint64(16))),
    ])
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(store_mod, "_MERGE_MIN", 500)
    try:
        memory, sqlite = MemoryStore(), SQLiteStore(tmp_path / "t.db")
        docs, keys = [], []
        for seq in range(1, 121):
            docs.append(StoredDoc(seq=seq, id=f"d{seq}", published=None, source=None,
                                  n_words=50, exact=seq, cluster=0, rep=None, samples=1,
                                  shingles=np.array([seq], dtype=np.uint32)))
            keys.append(np.unique(rng.choice(pool, 12)))
        for st in (memory, sqlite):
            with st.transaction():
                st.insert(docs[:60], keys[:60])
            with st.transaction():
                st.insert(docs[60:], keys[60:])
            with st.transaction():
                st.delete(docs[10:30], keys[10:30])
        assert sqlite._counter("main_rows") > 0  # merged
        assert sqlite.buckets(pool, 1000) == memory.buckets(pool, 1000)
        assert sqlite.buckets(pool, 3) == memory.buckets(pool, 3)
        assert sqlite.integrity() == []
        sqlite.close()
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("capped", [False, True])
def test_prefilter_of_many_pairs_is_the_prefilter_of_each(
    capped: bool, dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdedup import stream
    from newsdedup.stream import _Caps, _key_sets, _prefilter, _prefilter_pairs

    if not dense:  # the binary-search lookup instead of the table
        monkeypatch.setattr(stream, "_DENSE_MAX", 0)

    rng = random.Random(9)
    universe = list(range(1, 60)) + [2**32 - 1, 2**31]
    df = {h: rng.randrange(1, 12) for h in universe}
    caps = _Caps(n=5000, min_df=8, df=df) if capped else None
    items = []
    for _ in range(30):
        full = frozenset(rng.sample(universe, rng.randrange(0, 12)))
        kept = frozenset(h for h in full if not capped or df[h] + 1 < 8)
        items.append(_Item_like(kept, full))
    stored = np.array(sorted(rng.sample(range(1, 10_000), 40)), dtype=np.int64)
    hashes = [np.array(sorted(rng.sample(universe, rng.randrange(0, 14))), dtype=np.uint32)
              for _ in stored]
    docs = np.array([rng.randrange(len(items)) for _ in range(500)], dtype=np.int64)
    seqs = stored[[rng.randrange(len(stored)) for _ in range(500)]]
    got = _prefilter_pairs(items, docs, seqs, stored, hashes, caps).tolist()  # type: ignore[arg-type]
    where = {int(s): i for i, s in enumerate(stored.tolist())}
    want = [_prefilter(items[d], *_key_sets(hashes[where[s]].tolist(), caps))  # type: ignore[arg-type]
            for d, s in zip(docs.tolist(), seqs.tolist(), strict=True)]
    assert got == want
    assert any(want) and not all(want)


class _Item_like:
    def __init__(self, key_set: frozenset[int], key_all: frozenset[int]):
        self.key_set, self.key_all = key_set, key_all


def test_band_keys_of_every_band_at_once_are_index_band_keys() -> None:
    from newsdedup.index import LSHParams
    from newsdedup.index import _band_keys_at_once as _band_keys
    from newsdedup.index import _band_keys_per_band as band_keys

    rng = np.random.default_rng(0)
    for bands, rows, perm in ((64, 2, 128), (42, 3, 128), (1, 1, 4), (10, 5, 64)):
        sig = rng.integers(0, 2**32, (17, perm), dtype=np.int64).astype(np.uint32)
        p = LSHParams(bands=bands, rows=rows, threshold=0.5)
        assert np.array_equal(band_keys(sig, p), _band_keys(sig, p))


def test_stored_key_bits_depend_on_every_row_of_a_band() -> None:
    """The band table keeps part of each key (40 bits of a copy-LSH key, 32 of
    a rewrite key): of the mixed key, so bands that differ only in their last
    row still get different stored keys (the raw keys' top bits see that row
    only through carries)."""
    from newsdedup.index import LSHParams, band_keys
    from newsdedup.store import _short_keys
    from newsdedup.stream import _mix, copy_keys, stored_rewrite_keys

    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**32, 3, dtype=np.int64).astype(np.uint32)
    sigs = np.repeat(base[None, :], 4000, axis=0)
    sigs[:, -1] = rng.choice(2**32, 4000, replace=False).astype(np.uint32)
    full = band_keys(sigs, LSHParams(bands=1, rows=3, threshold=0.5))[:, 0]
    assert len(np.unique(full)) == 4000
    assert len(np.unique(_short_keys(copy_keys(full)))) >= 3990
    assert len(np.unique(stored_rewrite_keys(full))) >= 3990
    raw = (full >> np.uint64(24)).astype(np.int64)  # 40 bits of the raw keys
    assert len(np.unique(raw)) < 3990  # what the mixing is for
    # a bijection: equal keys equal, different keys different
    some = rng.integers(0, 2**63, 10_000, dtype=np.int64).astype(np.uint64)
    assert len(np.unique(_mix(some))) == len(np.unique(some))
    assert np.array_equal(_mix(some[:5]), _mix(some[:5].copy()))


def test_judge_view_verdicts_are_a_plain_judges() -> None:
    """The stream's judge (a chunk's new documents and stored ones, whose texts
    come back from their payloads) gives every verdict, reason and signals
    included, of a plain Judge over the same documents, for pairs on either
    side of the key-term prefilter (unrelated stories; rewrites and edits)."""
    from newsdedup import Config
    from newsdedup import stream as st
    from newsdedup.score import PREFILTER_KEY_JACCARD, Judge
    from newsdedup.store import StoredDoc
    from tests.conftest import corpus_path, read_jsonl_gz

    recs = [r for r in read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz"))
            if len(r["text"].split()) > 200][:24]
    rng = random.Random(4)
    docs = []
    for n, r in enumerate(recs):
        docs.append({"id": f"a{n:02d}", "title": r.get("title"), "text": r["text"]})
        sents = r["text"].split(". ")
        if n % 3 == 0:  # a rewrite: every other sentence, and another story's
            other = recs[(n + 1) % len(recs)]["text"].split(". ")
            docs.append({"id": f"b{n:02d}", "title": r.get("title"),
                         "text": ". ".join(sents[::2] + other[1::3])})
        if n % 4 == 0:  # a light edit
            words = [w for w in r["text"].split(" ") if rng.random() > 0.03]
            docs.append({"id": f"c{n:02d}", "title": r.get("title"), "text": " ".join(words)})
    cfg = Config()
    items = st._Preparer(cfg)([st.as_article(d) for d in docs])
    assert all(it.terms is not None for it in items)
    view = st._JudgeView(cfg)
    new = [view.add_new(it, -1) for it in items[::2]]
    stored = [view.add_stored(StoredDoc(
        seq=seq, id=it.article.id, published=it.published, source=it.article.source,
        n_words=it.n_words, exact=it.exact, cluster=0, rep=None, shingles=it.shingles,
        payload=it.payload(), samples=len(it.pkeys)))
        for seq, it in enumerate(items[1::2], start=1)]
    plain = Judge(ids=view.ids, texts=view.texts, titles=view.titles,
                  published=view.published, shingles=view.shingles, n_words=view.n_words,
                  config=cfg, caps=None, originals=view.originals, sources=view.sources)
    kinds: set[object] = set()
    for i in new:
        for j in stored:
            got = view.verdict(i, j)
            a, b = (i, j) if view.ids[i] < view.ids[j] else (j, i)
            assert got == plain._judge(a, b)
            kj = got.signals.get("key_jaccard")
            if kj is not None:
                kinds.add(kj < PREFILTER_KEY_JACCARD)
            if got.match.relation != "distinct":
                kinds.add(got.match.relation)
    assert {True, False} <= kinds and kinds & {"near_duplicate", "rewrite", "containment"}


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("options", [{}, {"rewrite": False}])
def test_pairs_left_unjudged_are_ones_the_verdict_calls_distinct(
    workers: int, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """_JudgeView.may_link leaves out pairs whose verdict it can tell is
    "distinct" (nothing in common as copies, and key terms too far apart for a
    rewrite): decisions and query results are those of judging every pair."""
    from newsdedup.stream import _JudgeView

    docs = shared_sentence_corpus(3, 400)
    real = _JudgeView.may_link
    said: list[bool] = []

    def counted(self: _JudgeView, *args: Any) -> bool:
        out = real(self, *args)
        said.append(out)
        return out

    got = []
    for check in (counted, lambda self, *args: True):
        monkeypatch.setattr(_JudgeView, "may_link", check)
        with Deduper(workers=workers, **options) as d:
            got.append(_decisions(d, docs, True))
    assert got[0] == got[1]
    assert said.count(False) >= 20 and said.count(True) >= 20  # both kinds of pairs
    assert any(x[3] is not None for x in got[0][:-1])
