"""Clusters.verdicts keeps every judged pair's verdict packed (newsdedup.verdicts)."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

import newsdedup
from newsdedup import score
from newsdedup import verdicts as vmod
from newsdedup.score import Verdict
from newsdedup.types import Match
from newsdedup.verdicts import PACK_SIZE, Packer, Verdicts

from .conftest import corpus_path, read_jsonl_gz


def _verdict(a: str, b: str, k: int) -> Verdict:
    relation = "distinct" if k % 3 else "near_duplicate"
    return Verdict(match=Match(a=a, b=b, relation=relation, score=(k % 97) / 97,  # type: ignore[arg-type]
                               jaccard=(k % 13) / 13, containment=(k % 7) / 7),
                   reason=f"reason {k}", signals={"jaccard": (k % 13) / 13, "k": float(k)})


def _table(ids: list[str], pairs: list[tuple[int, int]], n_blocks: int, seed: int = 0
           ) -> tuple[Verdicts, dict[tuple[str, str], Verdict]]:
    """Verdicts of ``pairs`` (document indices), packed by ``n_blocks`` blocks
    that take the pairs at random (as link() lays out its judging blocks), and
    the same verdicts as a dict."""
    n = len(ids)
    pairs = sorted({(min(i, j), max(i, j)) for i, j in pairs if i != j})
    codes = np.array([i * n + j for i, j in pairs], dtype=np.int64)
    block = np.array([random.Random(seed + k).randrange(n_blocks) for k in range(len(pairs))])
    where = np.zeros(len(pairs), dtype=np.int64)
    packs: list[bytes] = []
    want = {}
    for b in range(n_blocks):
        sel = np.flatnonzero(block == b)
        packer = Packer()
        for rank, pos in enumerate(sel.tolist()):
            i, j = pairs[pos]
            a, c = min(ids[i], ids[j]), max(ids[i], ids[j])
            v = want[(a, c)] = _verdict(a, c, pos)
            packer.add(v)
            where[pos] = ((len(packs) + rank // PACK_SIZE) << 16) | (rank % PACK_SIZE)
        packs.extend(packer.flush())
    return Verdicts(ids, codes, where, packs), want


@pytest.mark.parametrize("sorted_ids", [True, False])
@pytest.mark.parametrize("n_blocks", [1, 3, 40])
def test_verdicts_read_back_as_judged(sorted_ids: bool, n_blocks: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # more blocks than packs kept unpacked: items() still reads each right
    monkeypatch.setattr(vmod, "UNPACKED_PACKS", 4)
    rng = random.Random(7)
    ids = [f"doc-{k:05d}" for k in range(900)]
    if not sorted_ids:
        rng.shuffle(ids)
    pairs = [(rng.randrange(900), rng.randrange(900)) for _ in range(6000)]
    table, want = _table(ids, pairs, n_blocks)
    assert len(table) == len(want) > 5 * PACK_SIZE
    assert dict(table.items()) == want  # items(), in windows
    # keys in the order of the pairs' document indices: (id_a, id_b) order when
    # the ids are sorted by index, as cluster() numbers its documents
    assert sorted(table) == sorted(want) and len(list(table)) == len(want)
    assert (list(table) == sorted(want)) == sorted_ids
    assert list(table.values()) == [want[k] for k in table]
    keys = list(want)
    rng.shuffle(keys)
    for k in keys[:2000]:  # one by one, in any order (packs unpacked and dropped)
        assert k in table and table[k] == want[k] and table.get(k) == want[k]
    assert table == want and table.keys() == want.keys()


def test_verdicts_missing_keys() -> None:
    ids = ["a", "b", "c", "d"]
    table, want = _table(ids, [(0, 1), (2, 3)], 1)
    extra = _verdict("a", "c", 5)
    with_extra = Verdicts(ids, table._codes, table._where, table._packs, {("a", "c"): extra})
    assert list(with_extra) == [("a", "c"), ("a", "b"), ("c", "d")]  # extra first
    assert with_extra[("a", "c")] is extra and len(with_extra) == 3
    for key in [("b", "a"), ("a", "d"), ("a", "zz"), ("a", "a"), "ab", ("a",), (1, 2), None]:
        assert key not in table
        with pytest.raises(KeyError):
            table[key]  # type: ignore[index]
        assert table.get(key) is None  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 pair codes but 2 places"):
        Verdicts(ids, np.arange(3), np.arange(2), [])
    with pytest.raises(ValueError, match="2 pair codes but 2 places and 1 in the order"):
        Verdicts(ids, np.arange(2), np.arange(2), [], order=np.arange(1))


def test_verdicts_in_the_order_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # iteration follows ``order`` (link() gives its judging order), items()
    # and values() too, and still unpack each pack at most twice
    monkeypatch.setattr(vmod, "UNPACKED_PACKS", 1)
    rng = random.Random(11)
    ids = [f"{k:04d}" for k in range(400)]
    table, want = _table(ids, [(rng.randrange(400), rng.randrange(400)) for _ in range(5000)], 1)
    order = np.array(rng.sample(range(len(want)), len(want)), dtype=np.int64)
    keys = list(table)
    shuffled = Verdicts(ids, table._codes, table._where, table._packs, order=order)
    assert list(shuffled) == [keys[k] for k in order.tolist()]
    assert list(shuffled.items()) == [(k, want[k]) for k in shuffled]
    assert list(shuffled.values()) == [want[k] for k in shuffled]
    unpacked: list[bytes] = []
    real = vmod.unpack
    monkeypatch.setattr(vmod, "unpack", lambda data: unpacked.append(data) or real(data))
    # packed in the order of iteration (as link()'s blocks pack): each pack
    # unpacked at most twice by items()
    by_order = Packer()
    where = np.zeros(len(want), dtype=np.int64)
    for rank, k in enumerate(order.tolist()):
        by_order.add(want[keys[k]])
        where[k] = ((rank // PACK_SIZE) << 16) | (rank % PACK_SIZE)
    in_order = Verdicts(ids, table._codes, where, by_order.flush(), order=order)
    assert dict(in_order.items()) == want
    assert len(unpacked) <= 2 * len(in_order._packs)


def test_verdicts_pickle_round_trip() -> None:
    ids = [f"{k:03d}" for k in range(60)]
    rng = random.Random(3)
    table, want = _table(ids, [(rng.randrange(60), rng.randrange(60)) for _ in range(900)], 2)
    assert next(iter(table.values())) is not None  # some packs unpacked before pickling
    back = pickle.loads(pickle.dumps(table))
    assert back == want and list(back) == list(table)


def test_cluster_verdicts_are_the_judged_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1,500 BBC stories (rewrite signal on), judged in one process and in two
    # workers: every verdict read back from the result is the one the judge
    # reached for that pair, and packed they take less than 40 % of their pickles one by one
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:1500]
    docs = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in recs]
    judged: dict[tuple[str, str], Verdict] = {}
    real = score.Judge.judge

    def record(self: score.Judge, i: int, j: int) -> Verdict:
        v = real(self, i, j)
        judged[(v.match.a, v.match.b)] = v
        return v

    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    with monkeypatch.context() as mp:
        mp.setattr(score.Judge, "judge", record)
        one = newsdedup.cluster(docs)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    monkeypatch.setattr(score, "PARALLEL_MIN_PAIRS", 0)
    two = newsdedup.cluster(docs)
    assert isinstance(one.verdicts, Verdicts) and len(one.verdicts) > PACK_SIZE
    assert one.stats.verified == len(one.verdicts)
    assert sum(v.match.relation == "rewrite" for v in one.verdicts.values()) > 5
    assert one.verdicts.keys() <= judged.keys()
    assert dict(one.verdicts.items()) == {k: judged[k] for k in one.verdicts}
    assert dict(two.verdicts.items()) == dict(one.verdicts.items())
    assert two.pairs == one.pairs and two.refused == one.refused
    packed = sum(map(len, one.verdicts._packs))  # type: ignore[attr-defined]
    one_by_one = sum(len(pickle.dumps(v)) for v in one.verdicts.values())
    assert packed < 0.4 * one_by_one
    # and the result's linked pairs are the verdicts' links
    linked = {k: v.match for k, v in one.verdicts.items() if v.match.relation != "distinct"}
    refused = {(a, b) for a, b, _r in one.refused}
    assert {(m.a, m.b): m for m in one.pairs if m.relation != "exact"} == {
        k: m for k, m in linked.items() if k not in refused}
