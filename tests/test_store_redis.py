"""The Redis index, against a real redis-server the tests start on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from newsdedup import Deduper, IncompatibleSignatureError
from newsdedup.store import IndexConnectionError, RedisStore
from tests.test_stream import make_corpus

redis = pytest.importorskip("redis", reason="the redis client is not installed (extra 'redis')")

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server not found on PATH (`make test` installs it with apt)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.025)
        else:
            pytest.fail("redis-server did not start")
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def url(redis_port: int) -> Iterator[str]:
    client = redis.Redis(port=redis_port, db=3)
    client.flushdb()
    client.close()
    yield f"redis://127.0.0.1:{redis_port}/3"


def test_redis_index_gives_the_in_memory_results_and_persists(url: str) -> None:
    docs = make_corpus(31, stories=20)
    expected = Deduper().add_many(docs)
    half = len(docs) // 2
    with Deduper.open(url) as d:
        got = d.add_many(docs[:half])
    with Deduper.open(url) as d:  # a new connection sees the same index
        got += [d.add_many([x])[0] for x in docs[half:]]
        probe = dict(docs[0], id="probe")
        assert any(docs[0]["id"] in (m.a, m.b) for m in d.query(probe)) or len(
            docs[0]["text"].split()) < 5
        # A story with copies: removing one member keeps the others in the shared buckets.
        story = next(x for x in docs if x["id"].endswith("-exact"))
        sprobe = dict(story, id="probe")
        before = {m.a if m.b == "probe" else m.b for m in d.query(sprobe)}
        assert len(before) >= 2
        assert d.remove(story["id"])
        after = {m.a if m.b == "probe" else m.b for m in d.query(sprobe)}
        assert after == before - {story["id"]}
        d.add(story)  # put it back
        assert d.remove(docs[0]["id"]) and not d.remove(docs[0]["id"])
        assert all(docs[0]["id"] not in (m.a, m.b) for m in d.query(probe))
        cutoff = datetime.fromisoformat(docs[10]["published"])
        assert d.expire(before=cutoff) == 9  # docs[1..9]; docs[0] was removed
    assert [(x.id, x.cluster_id, x.duplicate_of, x.relation, x.score) for x in got] == [
        (x.id, x.cluster_id, x.duplicate_of, x.relation, x.score) for x in expected
    ]
    store = RedisStore(url)
    try:
        assert len(store) == len(docs) - 10
    finally:
        store.close()


def test_redis_refuses_a_different_configuration(url: str) -> None:
    with Deduper.open(url) as d:
        d.add(make_corpus(32, stories=1)[0])
    with pytest.raises(IncompatibleSignatureError, match="num_perm: index has 128, this Dedup"):
        Deduper.open(url, num_perm=256)


def test_unreachable_redis_is_a_clear_quick_error() -> None:
    port = _free_port()  # nothing listens there
    t = time.monotonic()
    with pytest.raises(IndexConnectionError, match=f"cannot reach Redis at redis://127.0.0.1:{port}"):
        Deduper.open(f"redis://127.0.0.1:{port}/0")
    assert time.monotonic() - t < 5


def test_a_server_that_goes_away_is_a_clear_error(tmp_path: Path) -> None:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server not found on PATH (`make test` installs it with apt)")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.025)
        client.close()
        d = Deduper.open(f"redis://127.0.0.1:{port}/0")
        d.add(make_corpus(33, stories=1)[0])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    try:
        t = time.monotonic()
        with pytest.raises(IndexConnectionError, match="Redis"):
            d.add(make_corpus(34, stories=1)[0])
        assert time.monotonic() - t < 10
    finally:
        d.close()


_WORKER = r"""
import sys
sys.path.insert(0, {root!r})
from newsdedup import Deduper
from tests.test_stream import make_corpus
docs = [dict(d, id=f"w{worker}-{{n}}-{{d['id']}}")
        for n in range(6) for d in make_corpus(n, stories=15)]
with Deduper.open({url!r}) as d:
    for start in range(0, len(docs), 5):
        d.add_many(docs[start:start + 5])
"""


def test_two_worker_processes_lose_no_entries(url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER.format(root=str(ROOT), url=url, worker=w)])
        for w in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    docs = [d for n in range(6) for d in make_corpus(n, stories=15)]
    store = RedisStore(url)
    try:
        assert len(store) == 2 * len(docs)
        ids = [f"w{w}-{n}-{d['id']}" for w in range(2) for n in range(6)
               for d in make_corpus(n, stories=15)]
        seqs = store.seqs_of(ids)
        assert len(seqs) == len(ids) and len(set(seqs.values())) == len(ids)
    finally:
        store.close()
    # Each worker's copy of a story is found by the other worker's queries.
    with Deduper.open(url) as d:
        doc = next(x for x in make_corpus(0, stories=15) if x["id"] == "s000")
        found = {m.a if m.b == "probe" else m.b for m in d.query(dict(doc, id="probe"))}
        assert {"w0-0-s000", "w1-0-s000"} <= found


def test_default_options_match_batch_on_redis(url: str) -> None:
    from tests.test_stream import check_default_parity

    check_default_parity(Deduper.open(url))


def test_errors_the_server_answers_with_name_the_url_and_the_problem(
    url: str, redis_port: int
) -> None:
    """Out of memory (maxmemory with noeviction) and WRONGTYPE (a key of the
    index's prefix holding another type) are IndexConnectionErrors naming the
    URL and the server's message, not raw redis.exceptions."""
    docs = make_corpus(34, stories=3)
    client = redis.Redis(port=redis_port, db=3)
    saved = client.config_get("maxmemory*")
    try:
        with Deduper.open(url) as d:
            d.add(docs[0])
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", 1)  # every write is over the limit
            with pytest.raises(IndexConnectionError) as info:
                d.add(docs[1])
            assert str(info.value) == (
                f"Redis at {url} refused a command of the index (newsdedup:*): "
                "command not allowed when used memory > 'maxmemory'.")
            client.config_set("maxmemory", saved["maxmemory"])
            client.config_set("maxmemory-policy", saved["maxmemory-policy"])
            assert d.add(docs[1]) is not None and len(d._stream.store) == 2
        client.delete("newsdedup:ids")
        client.set("newsdedup:ids", "not a hash")
        with Deduper.open(url) as d:
            with pytest.raises(IndexConnectionError) as info:
                d.add(docs[2])
            assert str(info.value) == (
                f"Redis at {url} refused a command of the index (newsdedup:*): "
                "WRONGTYPE Operation against a key holding the wrong kind of value")
    finally:
        client.config_set("maxmemory", saved["maxmemory"])
        client.config_set("maxmemory-policy", saved["maxmemory-policy"])
        client.close()


def test_a_batch_that_fails_half_way_writes_nothing(url: str, redis_port: int) -> None:
    """Redis keeps what a script wrote before it failed. The index's sorted set
    of publication times holding another type (WRONGTYPE; no lookup reads it)
    used to fail the insert after the batch's ids and documents were written:
    the documents were in the index without band entries (never found again),
    and adding them again said their ids were taken. Every key's type is now
    checked before anything is written."""
    docs = make_corpus(35, stories=6)
    assert all(x.get("published") for x in docs[:9])
    client = redis.Redis(port=redis_port, db=3)
    try:
        with Deduper.open(url) as d:
            d.add_many(docs[:5])
            store = d._stream.store
            client.delete("newsdedup:pub")
            client.set("newsdedup:pub", "not a sorted set")
            for fail in (lambda: d.add_many(docs[5:8]), lambda: d.remove(docs[0]["id"])):
                with pytest.raises(IndexConnectionError, match="WRONGTYPE newsdedup:pub holds "
                                   "a string, not a zset"):
                    fail()
                assert len(store) == 5
                assert store.seqs_of([x["id"] for x in docs[5:8]]) == {}
                assert set(store.seqs_of([x["id"] for x in docs[:5]])) == {
                    x["id"] for x in docs[:5]}
            client.delete("newsdedup:pub")
            d.add_many(docs[5:8])  # (their ids were never taken)
            assert len(store) == 8  # (and the 3 new in the new sorted set of times:)
            assert len(store.published_before(1e12, 100)) == 3
    finally:
        client.close()


def test_a_damaged_meta_hash_is_a_clear_error(url: str, redis_port: int) -> None:
    docs = make_corpus(36, stories=4)
    client = redis.Redis(port=redis_port, db=3)
    try:
        with Deduper.open(url) as d:
            d.add_many(docs[:3])
        client.hset("newsdedup:meta", "term_docs", "many")
        with Deduper.open(url) as d, pytest.raises(
                IncompatibleSignatureError, match="its counter 'term_docs' holds b'many', "
                "not what newsdedup writes there"):
            d.add_many(docs[3:])
        client.hset("newsdedup:meta", "fingerprint", "[1, 2]")
        with pytest.raises(IncompatibleSignatureError, match=r"its fingerprint holds "
                           r"b'\[1, 2\]', not what newsdedup writes"):
            Deduper.open(url)
    finally:
        client.close()
