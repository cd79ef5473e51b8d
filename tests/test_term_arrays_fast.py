"""The compiled path of ``rewrite.content_term_arrays`` (chunks found and hashed
by ``_kernels.chunk_hashes``, looked up in ``_native.HashTable``, reduced by
``_kernels.reduce_terms``) against Python's ``str.split`` and the plain path."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup import _native
from newsdedup import rewrite as R

from .conftest import corpus_path, read_jsonl_gz

pytestmark = pytest.mark.skipif(not _native.available(), reason="numba is not installed")

#: Every character ``str.split()`` splits on, and characters whose UTF-8 bytes
#: start like one of them without being whitespace (U+200B, U+2080, U+1681,
#: U+3001, U+00C2, U+0100, U+205E, U+2030), a lone surrogate, an astral letter.
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
LOOKALIKES = ["\u200b", "\u2080", "\u1681", "\u3001", "\u00c2", "\u0100", "\u205e", "\u2030",
              "\u2027", "\u202e", "\u0084", "\ud800", "\U0001d400"]
ALPHABET = SPACES + LOOKALIKES + list("aZ9.,'\u2019\u201c-é")


def _chunks(texts: list[str]) -> list[list[str]]:
    hashes, starts, lens, ends, buf = _native.chunk_hashes(texts)
    raw = buf.tobytes()
    out, lo = [], 0
    for hi in ends.tolist():
        out.append([raw[a : a + n].decode("utf-8", "surrogatepass")
                    for a, n in zip(starts[lo:hi].tolist(), lens[lo:hi].tolist(), strict=True)])
        assert len(set(hashes[lo:hi].tolist())) == hi - lo
        lo = hi
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(ALPHABET), max_size=40), max_size=6))
def test_chunk_hashes_are_the_distinct_chunks_of_str_split(texts: list[str]) -> None:
    for text, got in zip(texts, _chunks(texts), strict=True):
        assert got == list(dict.fromkeys(text.split()))  # the text's order


def test_chunk_hashes_on_every_space_and_corpus_text() -> None:
    texts = [f"a{s}b{s}a" for s in SPACES] + [f"x{c}y" for c in LOOKALIKES] + ["", " ", "\u3000"]
    recs = read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz"))
    texts += [r["text"] for _, r in zip(range(300), recs, strict=False)]
    for text, got in zip(texts, _chunks(texts), strict=True):
        assert got == list(dict.fromkeys(text.split()))
    # the same chunk hashes alike in every text, different chunks differently
    hashes, starts, lens, _ends, buf = _native.chunk_hashes(texts)
    raw = buf.tobytes()
    of: dict[int, bytes] = {}
    for h, a, n in zip(hashes.tolist(), starts.tolist(), lens.tolist(), strict=True):
        assert of.setdefault(h, raw[a : a + n]) == raw[a : a + n]
    assert len(set(of.values())) == len(of)


def test_hash_table_finds_what_was_put() -> None:
    rnd = np.random.default_rng(3)
    table = _native.HashTable(capacity=8)
    want: dict[int, int] = {}
    for step in range(30):
        keys = np.unique(rnd.integers(0, 2**64, size=int(rnd.integers(1, 400)), dtype=np.uint64))
        keys = keys[[k not in want for k in keys.tolist()]]
        vals = np.arange(len(want), len(want) + len(keys), dtype=np.int64)
        table.put(keys, vals)
        want.update(zip(keys.tolist(), vals.tolist(), strict=True))
        probe = np.concatenate([np.array(list(want), dtype=np.uint64),
                                rnd.integers(0, 2**64, size=50, dtype=np.uint64)])
        got = table.find(probe).tolist()
        assert got == [want.get(k, -1) for k in probe.tolist()], step
    assert len(table) == len(want) and 2 * len(want) <= len(table.keys)


def _texts() -> list[str]:
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:400]
    rnd = random.Random(7)
    odd = ["", " \u3000 ", "The the and of", "Zyx Qwv 1,200 Zyx\u00a0zyx", "\ud800abc 12 twelve"]
    made = ["".join(rnd.choice(ALPHABET + ["Taliban", " Kabul", "12", " fighters"])
                    for _ in range(rnd.randrange(60))) for _ in range(200)]
    return odd + [r["text"] for r in recs] + made


def _plain(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple:  # type: ignore[type-arg]
    with monkeypatch.context() as m:
        m.setattr(_native, "available", lambda: False)
        return R.content_term_arrays(iter(texts))


def _same(a: tuple, b: tuple) -> None:  # type: ignore[type-arg]
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:], strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_compiled_term_arrays_equal_the_plain_path(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(R, "TERM_BATCH_DOCS", batch)
    monkeypatch.setattr(R, "_REGISTRY", R._ChunkRegistry())
    texts = _texts()
    want = _plain(texts, monkeypatch)
    assert int(want[1].sum()) > 10_000
    _same(R.content_term_arrays(iter(texts)), want)
    # again, every chunk now known; then a part, reversed (new first-seen order)
    _same(R.content_term_arrays(texts), want)
    part = texts[::-3]
    _same(R.content_term_arrays(part), _plain(part, monkeypatch))
    assert R.content_term_arrays([])[0] == []


def test_registry_starts_again_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = R._ChunkRegistry()
    monkeypatch.setattr(R, "_REGISTRY", registry)
    monkeypatch.setattr(R._ChunkRegistry, "LIMIT", 500)
    texts = _texts()
    first, second = texts[:150], texts[150:]
    _same(R.content_term_arrays(first), _plain(first, monkeypatch))
    assert len(registry.known) > 500
    _same(R.content_term_arrays(second), _plain(second, monkeypatch))  # after a reset
    assert len(registry.known) == len({c for t in second for c in t.split()})
    _same(R.content_term_arrays(first), _plain(first, monkeypatch))


def test_content_terms_many_equals_content_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream's batch of ``content_terms`` (a document and its stored
    candidates): the same terms, weights, order and key terms, one text at a
    time or many, with the kernels and without."""
    monkeypatch.setattr(R, "_REGISTRY", R._ChunkRegistry())
    texts = _texts()
    want = [R.content_terms(t) for t in texts]
    for native in (True, False):
        with monkeypatch.context() as m:
            if not native:
                m.setattr(_native, "available", lambda: False)
            for size in (1, 5, 1000):
                got = [t for i in range(0, len(texts), size)
                       for t in R.content_terms_many(texts[i : i + size])]
                assert [list(d.items()) for d, _k in got] == [list(d.items()) for d, _k in want]
                assert [k for _d, k in got] == [k for _d, k in want]


def test_registry_calls_from_threads_give_the_plain_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The registry is shared by the process and its kernels release the GIL:
    four threads at once (term arrays, term dicts, rewrite views) give what the
    plain path gives."""
    from concurrent.futures import ThreadPoolExecutor

    registry = R._ChunkRegistry()
    monkeypatch.setattr(R, "_REGISTRY", registry)
    monkeypatch.setattr(R, "TERM_BATCH_DOCS", 25)
    texts = _texts()
    parts = [texts[k::4] for k in range(4)]
    want = [_plain(p, monkeypatch) for p in parts]
    want_dicts = [[R.content_terms(t) for t in p] for p in parts]

    def work(k: int) -> None:
        for _ in range(3):
            _same(R.content_term_arrays(parts[k]), want[k])
            got = R.content_terms_many(parts[k])
            assert [list(d.items()) for d, _ in got] == [list(d.items()) for d, _ in
                                                         want_dicts[k]]
            for text in parts[k][:20]:
                doc = R.rewrite_doc(text)
                R._support(doc, doc)

    with ThreadPoolExecutor(4) as pool:
        for f in [pool.submit(work, k) for k in range(4)]:
            f.result()


def test_sentences_ignore_weights_of_terms_no_sentence_has() -> None:
    # rewrite_doc's sentences take each term's weight from the document's
    # weights; a weight given for a term the registry has never seen (no
    # sentence holds it) must not land on another term (the registry's first)
    registry = R._ChunkRegistry()
    text = "Ministers approved the harbour budget. Harbour workers cheered loudly."
    first_terms = registry.term_dicts([text])[0][0]
    weights = dict.fromkeys(first_terms, 1.0)
    weights["zzqxunseenterm"] = 7.0
    parts, _arrays = registry.sentence_parts(text, R.split_sentences(text), weights)
    sentences = R._sentences_of(parts)
    got = {t: w for s in sentences for t, w in s.terms.items()}
    assert got and set(got) <= set(first_terms) and set(got.values()) == {1.0}
