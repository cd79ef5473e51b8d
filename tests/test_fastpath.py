"""The fast paths give exactly what the plain reference implementations give.

Compiled kernels (numba, optional) against xxhash, ``re`` and the numpy path;
the batch signature path against datasketch; sort-based LSH against the
brute-force reference; the ASCII/Unicode normalisation shortcut against
``normalize``; streaming preparation in worker processes against the
in-process path; and clustering results independent of chunking and workers.
"""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

import newsdedup
from newsdedup import _native, chunks
from newsdedup.config import Config
from newsdedup.index import LSHParams, candidate_pairs, candidate_pairs_reference
from newsdedup.normalize import normalize, normalize_fast
from newsdedup.shingle import ShingleBatch, Shingler, shingle_set_reference, tokenize
from newsdedup.sign import SignatureSpec, Signer

from .conftest import corpus_path, read_jsonl_gz

native = pytest.mark.skipif(not _native.available(), reason="numba is not installed")

WORDS = ["the", "minister", "said", "on", "tuesday", "café", "straße", "x" * 130, "日本",
         "année", "42", "co_op", "naïve", "ελλάδα", "über", "a"]


def _text(rng: random.Random, n: int) -> str:
    seps = [" ", " ", " ", ", ", ". ", "\n", " - ", "'", "\u2019"]
    return "".join(rng.choice(WORDS) + rng.choice(seps) for _ in range(n))


# --------------------------------------------------------------------------
# kernels


@native
def test_xxh3_kernel_matches_xxhash_for_every_length() -> None:
    rng = random.Random(7)
    blobs = [bytes(rng.getrandbits(8) for _ in range(n)) for n in range(0, 129) for _ in range(3)]
    buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    lens = np.array([len(b) for b in blobs], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    got = _native.kernels()["hash_spans"](buf, starts, lens)
    want = np.array([xxhash.xxh3_64_intdigest(b) for b in blobs], dtype=np.uint64)
    assert np.array_equal(got, want)


@native
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=6))
def test_native_tokens_match_re(texts: list[str]) -> None:
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    ends = np.cumsum([len(e) for e in encoded]).astype(np.int64)
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    starts, lens, ntok = _native.kernels()["token_spans"](buf, ends, _native.word_table())
    got = [buf[s : s + n].tobytes().decode("utf-8", "surrogatepass")
           for s, n in zip(starts.tolist(), lens.tolist(), strict=True)]
    want = [tok for t in texts for tok in tokenize(t)]
    assert got == want
    assert ntok.tolist() == [len(tokenize(t)) for t in texts]


@native
def test_native_tokens_at_their_densest() -> None:
    # one-byte tokens with one-byte gaps: (b + 1) // 2 tokens in b bytes, the
    # most there can be (the kernel allocates its arrays at that bound)
    texts = ["a b c d e", "x", "", "1 2 3 4", "ab c", "a\u00e9 b"]
    encoded = [t.encode() for t in texts]
    ends = np.cumsum([len(e) for e in encoded]).astype(np.int64)
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    starts, lens, ntok = _native.kernels()["token_spans"](buf, ends, _native.word_table())
    assert ntok.tolist() == [5, 1, 0, 4, 2, 2]
    assert len(starts) == len(lens) == 14
    assert starts.tolist()[:6] == [0, 2, 4, 6, 8, 9]


@native
def test_intersections_kernel_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    arrays = [np.unique(rng.integers(0, 300, size=rng.integers(0, 80))).astype(np.uint32)
              for _ in range(40)]
    batch = ShingleBatch.from_arrays(arrays, np.zeros(40, dtype=np.int64))
    left = rng.integers(0, 40, size=200)
    right = rng.integers(0, 40, size=200)
    got = _native.kernels()["intersections"](batch.values, batch.offsets, left, right)
    want = [len(np.intersect1d(arrays[a], arrays[b])) for a, b in zip(left, right, strict=True)]
    assert got.tolist() == want


# --------------------------------------------------------------------------
# shingles and signatures: compiled batch == plain path == scalar reference


def _both(texts: list[str], min_tokens: int = 0) -> tuple[tuple[ShingleBatch, np.ndarray], ...]:
    signer = Signer(SignatureSpec())
    plain = signer.sign_texts(texts, min_tokens=min_tokens, native=False)
    if not _native.available():
        return (plain,)
    return plain, signer.sign_texts(texts, min_tokens=min_tokens, native=True)


def _assert_same(a: tuple[ShingleBatch, np.ndarray], b: tuple[ShingleBatch, np.ndarray]) -> None:
    assert np.array_equal(a[0].values, b[0].values)
    assert np.array_equal(a[0].offsets, b[0].offsets)
    assert np.array_equal(a[0].n_tokens, b[0].n_tokens)
    assert np.array_equal(a[1], b[1])


@native
@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5), st.integers(0, 8))
def test_sign_texts_native_equals_plain_on_any_text(texts: list[str], min_tokens: int) -> None:
    plain, fast = _both([normalize(t) for t in texts], min_tokens)
    _assert_same(plain, fast)


def test_sign_texts_equals_reference_and_plain_sign() -> None:
    rng = random.Random(11)
    texts = [normalize(_text(rng, rng.randint(0, 120))) for _ in range(60)]
    results = _both(texts, min_tokens=5)
    for res in results[1:]:
        _assert_same(results[0], res)
    batch, sigs = results[-1]
    signer = Signer(SignatureSpec())
    shingler = Shingler(5)
    for i, t in enumerate(texts):
        tokens = tokenize(t)
        want = shingle_set_reference(tokens, 5) if len(tokens) >= 5 else set()
        assert set(batch[i].tolist()) == want
        assert len(batch[i]) == len(want)  # unique
        assert list(batch[i]) == sorted(batch[i])
        if want:
            assert np.array_equal(sigs[i], signer.sign_one_reference(shingler.shingles(tokens)))
        else:
            assert (sigs[i] == 0xFFFFFFFF).all()


def test_batch_signatures_are_datasketch_minhashes() -> None:
    from datasketch import MinHash

    from newsdedup.shingle import shingle_hash, shingle_strings

    rng = random.Random(5)
    texts = [normalize(_text(rng, 80)) for _ in range(4)]
    _batch, sigs = _both(texts)[-1]
    for i, t in enumerate(texts):
        m = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=shingle_hash)
        for s in shingle_strings(tokenize(t), 5):
            m.update(s.encode("utf-8"))
        assert np.array_equal(m.hashvalues.astype(np.uint32), sigs[i])


def test_sign_texts_on_real_articles() -> None:
    path = corpus_path("bbc-news", "bbc-news.jsonl.gz")
    texts = []
    for k, rec in enumerate(read_jsonl_gz(path)):
        if k % 7 == 0:
            texts.append(normalize(f"{rec.get('title') or ''}\n{rec['text']}"))
    results = _both(texts, min_tokens=5)
    for res in results[1:]:
        _assert_same(results[0], res)
    assert len(results[0][0]) == len(texts) > 300


def test_shingle_batch_concatenate_and_views() -> None:
    parts = [ShingleBatch.from_arrays([np.array([1, 5], np.uint32), np.zeros(0, np.uint32)],
                                      np.array([6, 0])),
             ShingleBatch.from_arrays([np.array([2, 3, 9], np.uint32)], np.array([7]))]
    whole = ShingleBatch.concatenate(parts)
    assert len(whole) == 3
    assert [whole[i].tolist() for i in range(3)] == [[1, 5], [], [2, 3, 9]]
    assert whole.sizes().tolist() == [2, 0, 3]
    assert whole.n_tokens.tolist() == [6, 0, 7]


# --------------------------------------------------------------------------
# normalisation shortcut


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_normalize_fast_equals_normalize(text: str) -> None:
    assert normalize_fast(text) == normalize(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(
    "aB `'\u00ad\u200b\u2018\u201c\u2014\u00a8\u0308\ufb01 \t\n\x1c\u3000\u00a0\u0130\u00df\uff0d"
    "\u1fef\u1fed\u00b4\u2032\u212a\u2160"
))))
def test_normalize_fast_on_tricky_characters(text: str) -> None:
    assert normalize_fast(text) == normalize(text)


# --------------------------------------------------------------------------
# LSH: sort-based banding == brute force


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidate_pairs_equal_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, num_perm = 120, 24
    sigs = rng.integers(0, 4, size=(n, num_perm), dtype=np.uint32)  # many band collisions
    params = LSHParams(bands=6, rows=4, threshold=0.5)
    eligible = rng.random(n) > 0.1
    fast = candidate_pairs(sigs, params, eligible=eligible, max_bucket=10_000)
    ref = candidate_pairs_reference(sigs, params, eligible=eligible)
    assert {(int(a), int(b)) for a, b in fast} == ref
    assert len(ref) > 100


# --------------------------------------------------------------------------
# streaming preparation and the pipeline


def _records(n: int, seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    base = [_text(rng, 60) for _ in range(n // 3)]
    out = []
    for i in range(n):
        text = base[i % len(base)]
        if i >= len(base):  # a light edit of an earlier story
            words = text.split(" ")
            words[rng.randrange(len(words))] = "edited"
            text = " ".join(words)
        out.append({"id": f"d{(i * 37) % n:04d}", "title": f"Story {i % len(base)}",
                    "text": text})
    return out


def test_prepare_stream_workers_equal_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 16)
    arts = list(newsdedup.load.iter_articles(_records(90)))
    config = Config(boilerplate="off")
    one = chunks.prepare_stream(arts, config, workers=1)
    two = chunks.prepare_stream(arts, config, workers=2)
    assert two.workers == 2 and two.spool_dir is not None
    a, b = one.finish(), two.finish()
    try:
        assert one.ids == two.ids
        assert np.array_equal(a.signatures, b.signatures)
        assert np.array_equal(a.shingles.values, b.shingles.values)
        assert np.array_equal(a.shingles.offsets, b.shingles.offsets)
        assert a.keys == b.keys
        assert [a.texts[i] for i in range(90)] == [b.texts[i] for i in range(90)]
    finally:
        b.close()


def test_cluster_independent_of_chunks_and_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _records(120)
    monkeypatch.setenv(chunks.WORKERS_ENV, "1")
    ref = newsdedup.cluster(recs, threshold=0.6, progress=False)
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 16)
    monkeypatch.setenv(chunks.WORKERS_ENV, "2")
    got = newsdedup.cluster(list(reversed(recs)), threshold=0.6, progress=False)
    assert [c.members for c in got.clusters] == [c.members for c in ref.clusters]
    assert got.pairs == ref.pairs
    assert got.documents == ref.documents
    # (made through the slots' setters: every field set, equal to __init__'s)
    import dataclasses

    from newsdedup.types import DocumentInfo, Removal

    for d in got.documents.values():
        assert d == DocumentInfo(**{f.name: getattr(d, f.name) for f in dataclasses.fields(d)})
        for r in d.removed:
            assert r == Removal(start=r.start, end=r.end, text=r.text, rule=r.rule)
    assert len(ref.duplicates) >= 10


def test_cluster_deletes_its_spool_before_returning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # worker mode spools the cleaned texts to a temporary directory, deleted in
    # a thread while the result is made: gone (and the thread joined) on return
    import tempfile
    import threading

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 16)
    monkeypatch.setenv(chunks.WORKERS_ENV, "2")
    made: list[str] = []
    real = chunks.SpooledTexts.__init__

    def spy(self: Any, directory: str, parts: Any, lock: int | None = None) -> None:
        made.append(directory)
        real(self, directory, parts, lock)

    monkeypatch.setattr(chunks.SpooledTexts, "__init__", spy)
    got = newsdedup.cluster(_records(90), threshold=0.6, progress=False)
    assert made and all(d.startswith(str(tmp_path)) for d in made)
    assert len(got.documents) == 90
    assert list(tmp_path.iterdir()) == []
    assert threading.active_count() == 1


@pytest.mark.parametrize("expect", [None, 1, 90, 500])
def test_chunks_placed_as_they_come_equal_chunks_concatenated(expect: int | None) -> None:
    # Prepared.add copies each chunk's values and signatures into the run's
    # arrays at once (grown when the room made from the first chunk and
    # ``expect`` is short): finish() gives what concatenating the chunks gives
    arts = list(newsdedup.load.iter_articles(_records(90)))
    config = Config(boilerplate="off")
    recs = [(a.id, a.title, a.text, None) for a in arts]
    states = [chunks.prepare_chunk(recs[k : k + n], config) for k, n in
              [(0, 7), (7, 0), (7, 40), (47, 1), (48, 42)]]
    values = np.concatenate([st_.shingles.values for st_ in states])
    sizes = np.concatenate([np.diff(st_.shingles.offsets) for st_ in states])
    sigs = np.concatenate([st_.signatures for st_ in states if len(st_.n_words)])
    placed = chunks.Prepared(expect=expect)
    for st_ in states:
        placed.add(st_)
    got = placed.finish()
    assert np.array_equal(got.shingles.values, values)
    assert np.array_equal(got.shingles.offsets, np.r_[0, np.cumsum(sizes)])
    assert np.array_equal(got.signatures, sigs)
    assert got.signatures.shape == (90, sigs.shape[1])
    assert got.keys == [k for st_ in states for k in st_.keys]
    assert got.texts == [t for st_ in states for t in st_.texts or []]
    assert np.array_equal(got.n_words, np.concatenate([st_.n_words for st_ in states]))
    # no chunk at all: empty columns
    empty = chunks.Prepared().finish()
    assert len(empty.shingles.values) == 0 and empty.signatures.shape[0] == 0
    assert len(empty.shingles.offsets) == 1 and empty.keys == []


def test_removals_as_columns_give_back_the_same_objects() -> None:
    import pickle

    from newsdedup.types import Removal

    rng = random.Random(3)
    docs = [tuple(Removal(start=rng.randrange(900), end=rng.randrange(900, 999),
                          text=rng.choice(["Share this", "READ: more", "", "caf\u00e9 \u2028"]),
                          rule=rng.choice(["line_model", "related_link"]))
                  for _ in range(rng.choice([0, 0, 1, 2, 5])))
            for _ in range(40)]
    cols = chunks.Removals.of(docs)
    assert len(cols) == 40 and cols.tuples() == docs
    back = pickle.loads(pickle.dumps(cols))
    assert back.tuples() == docs
    parts = [chunks.Removals.of(docs[:7]), chunks.Removals.of([]), chunks.Removals.of(docs[7:])]
    assert chunks.Removals.concatenate(parts).tuples() == docs
    assert chunks.Removals.concatenate([]).tuples() == []
    assert chunks.Removals.of([(), ()]).tuples() == [(), ()]


@pytest.mark.parametrize("seed", range(6))
def test_exact_groups_equal_reference(seed: int) -> None:
    from newsdedup.pipeline import exact_groups, exact_groups_reference

    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 400))
    pool = [xxhash.xxh3_128_digest(str(k).encode()) for k in range(max(1, n // 3))]
    keys = [pool[int(k)] for k in rng.integers(0, len(pool), n)]
    order = rng.permutation(n).astype(np.int64)
    eligible = rng.random(n) < 0.9
    lead, edges = exact_groups(keys, order, eligible)
    ref_lead, ref_edges = exact_groups_reference(keys, order, eligible)
    assert np.array_equal(lead, ref_lead)
    assert edges == ref_edges
    assert n < 10 or edges  # (some groups)
    odd = [k[: 8 + int(rng.integers(0, 9))] for k in keys]  # keys of other lengths
    assert exact_groups(odd, order, eligible)[1] == exact_groups_reference(odd, order,
                                                                            eligible)[1]


def test_large_inputs_do_not_keep_article_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = _records(30)
    small = newsdedup.cluster(recs, progress=False)
    assert len(small.articles) == 30
    monkeypatch.setattr(chunks, "KEEP_ARTICLES_MAX", 10)
    large = newsdedup.cluster(recs, progress=False)
    assert large.articles == {}
    assert [c.members for c in large.clusters] == [c.members for c in small.clusters]


# --------------------------------------------------------------------------
# streamed JSONL reading == whole-file reading (lines, errors, offsets), lines
# ending at universal newlines


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(["a", "\u00e9", "\r", "\n", "\r\n", "\u2028", "x\x1cy",
                                       '{"id": 1}', "\ufeff", "\u65e5"]), max_size=12),
       cut=st.integers(0, 40), bad=st.sampled_from([b"", b"\x80", b"\xff", b"\xc3", b"\xe6"]),
       bom=st.booleans(), block=st.integers(1, 9))
def test_streamed_jsonl_lines_equal_whole_file(
    parts: list[str], cut: int, bad: bytes, bom: bool, block: int, tmp_path_factory: Any
) -> None:
    import gzip

    from newsdedup import load
    from newsdedup.errors import InputError

    data = "".join(parts).encode()
    cut = min(cut, len(data))
    data = (b"\xef\xbb\xbf" if bom else b"") + data[:cut] + bad + data[cut:]
    path = tmp_path_factory.mktemp("jl") / "f.jsonl.gz"
    path.write_bytes(gzip.compress(data))

    def whole() -> tuple[str, Any]:
        try:
            text = load._decode(gzip.decompress(path.read_bytes()), str(path))
            # records end at "\n", "\r\n" or "\r" only (U+2028 may stand in a string)
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            return "ok", lines[:-1] if lines[-1] == "" else lines
        except InputError as err:
            return "error", str(err)

    def streamed() -> tuple[str, Any]:
        try:
            load._check_jsonl(str(path))
            return "ok", list(load._jsonl_lines(str(path)))
        except InputError as err:
            return "error", str(err)

    old_block = load._BLOCK
    load._BLOCK = block  # tiny blocks: characters split across reads
    try:
        assert streamed() == whole()
    finally:
        load._BLOCK = old_block


def test_code_point_tables_equal_per_character_definitions() -> None:
    """The tables are built over blocks of code points; each equals its
    per-code-point definition."""
    everything = _native._every_character()
    assert everything == "".join(map(chr, range(0x110000)))
    want = np.zeros(0x110000, dtype=np.uint8)
    for cp in range(0x110000):
        low = chr(cp).lower()
        if len(low) == 1 and "a" <= low <= "z":
            want[cp] = ord(low) - 96
    got = _native.lower_letter_table()
    assert np.array_equal(got, want)
    assert got[0x212A] == ord("k") - 96 and got[0x130] == 0  # Kelvin sign; "İ" lowers to two


def test_compiled_overlap_equals_intersect1d() -> None:
    from newsdedup import _native
    from newsdedup.score import overlap

    if not _native.available():
        pytest.skip("numba is not installed: overlap uses np.intersect1d only")
    rng = np.random.default_rng(12)
    size = _native.kernels()["intersection_size"]
    for _ in range(300):
        a = np.unique(rng.integers(0, 500, size=int(rng.integers(0, 200)))).astype(np.uint32)
        b = np.unique(rng.integers(0, 500, size=int(rng.integers(0, 200)))).astype(np.uint32)
        want = int(np.intersect1d(a, b, assume_unique=True).size)
        assert size(a, b) == want
        assert overlap(a, b).inter == want


def test_chunk_size_gives_every_worker_as_many_chunks() -> None:
    size_of = chunks.chunk_size
    assert size_of(None, 2) == chunks.CHUNK_DOCS
    assert size_of(10_000, 1) == chunks.CHUNK_DOCS
    assert size_of(2 * chunks.CHUNK_DOCS, 2) == chunks.CHUNK_DOCS  # small: as before
    for n in (4001, 5000, 10_000, 30_000, 99_999, 100_000, 1_000_000):
        for workers in (2, 3):
            per = size_of(n, workers)
            k = -(-n // per)
            assert per <= chunks.CHUNK_DOCS and k % workers == 0, (n, workers, per)
    assert size_of(10_000, 2) == 1667 and size_of(100_000, 2) == chunks.CHUNK_DOCS


def test_prepare_stream_with_a_size_equals_without(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 16)
    arts = list(newsdedup.load.iter_articles(_records(90)))
    config = Config(boilerplate="off")
    plain = chunks.prepare_stream(arts, config, workers=2)
    sized = chunks.prepare_stream(arts, config, workers=2, size=len(arts))
    assert [len(c.n_words) for c in plain.chunks] == [16] * 5 + [10]
    assert [len(c.n_words) for c in sized.chunks] == [15] * 6
    a, b = plain.finish(), sized.finish()
    try:
        assert plain.ids == sized.ids
        assert np.array_equal(a.signatures, b.signatures)
        assert np.array_equal(a.shingles.values, b.shingles.values)
        assert a.keys == b.keys
        assert [a.texts[i] for i in range(90)] == [b.texts[i] for i in range(90)]
    finally:
        a.close()
        b.close()


@native
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
       | st.text(alphabet="AbCdé É ǅǆǄ ΣΊσ ﬁ Ⅻⅻ İ_1'\u2019-", max_size=40))
def test_name_share_compiled_equals_regex(text: str) -> None:
    from newsdedup.score import name_share, name_share_reference

    assert name_share(text) == name_share_reference(text)


@native
def test_name_table_filled_in_on_demand() -> None:
    from newsdedup.score import name_share, name_share_reference

    # a text whose highest code point is in the last plane fills the table to its end
    text = "Zoë Ab CD \U0010fffd Ǆx ǅx \U0001d400\U0001d41a Résumé"
    assert name_share(text) == name_share_reference(text) == 5 / 7  # CD and ǅx are not
    assert _native._NAME_UPTO[0] == 0x110000
    table = _native.name_table()
    everything = "".join(map(chr, range(0x1D400, 0x1D800)))  # mathematical letters
    assert [bool(table[ord(c)] & 2) for c in everything] == [c.isupper() for c in everything]


#: Characters that test the character maps: ones a composition joins to the
#: character before (combining marks, Hangul vowels and finals, a Bengali
#: length mark) and what they join to, maps of several characters or none,
#: invisible ones, white space of every kind, a surrogate, another plane.
_MAP_TRICKY = (
    " \t\n\x0b\x0c\r\x1c\x1f`AbZz'\u2019\u00e9\u00a0\u0301\u00a8\u0130\u00df\ufb01\u00bd"
    "\u2026\u00ad\u200b\u3000\u2028\u1100\u1161\u11a8\uac00\u09c7\u09be\u212b\ud800"
    "\U0001d400\u03a3\u03c2\u0345"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" a_9-\u00e9\u2019\n\u65e5", max_size=30) | st.text(max_size=20),
                max_size=6))
def test_token_counts_equal_the_regex(texts: list[str]) -> None:
    # the compiled count of \w+ tokens (learning's word counts of lines that
    # are not ASCII), text by text
    if not _native.available():
        pytest.skip("numba is not installed")
    want = [len(re.findall(r"\w+", t)) for t in texts]
    assert _native.token_counts(texts).tolist() == want


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=40)
                | st.text(alphabet=_MAP_TRICKY, max_size=20)
                | st.text(max_size=20),
                max_size=6))
def test_normalized_encoded_equals_normalize(texts: list[str]) -> None:
    # with numba: the ASCII texts in one compiled pass, most others in another
    # (character maps), the rest one by one
    want = [normalize(t).encode("utf-8", "surrogatepass") for t in texts]
    assert chunks.normalized_encoded(texts) == want


def _composition_pairs() -> list[str]:
    """Every two-character canonical decomposition whose second character is
    a starter (what a composition can join although no mark is involved)."""
    import unicodedata

    pairs = []
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        parts = d.split() if d and d[0] != "<" else []
        if len(parts) == 2 and unicodedata.combining(chr(int(parts[1], 16))) == 0:
            pairs.append("".join(chr(int(p, 16)) for p in parts))
    return pairs


@native
def test_character_maps_agree_with_normalize_everywhere() -> None:
    # Every code point of the first two planes (and every 13th beyond) between
    # other characters, some of which it could compose with: where each
    # character of a text has a map, the compiled pass must be normalize().
    from newsdedup.normalize import char_map

    pairs = _composition_pairs()
    assert len(pairs) >= 15  # Indic length marks, Tibetan, ... (Unicode 15: 26)
    rng = random.Random(5)
    context = [*_MAP_TRICKY, "A", "\u0915", *("".join(p) for p in pairs)]
    texts, mapped = [], 0
    for cp in [*range(0x20000), *range(0x20000, 0x110000, 13)]:
        c = chr(cp)
        mapped += char_map(c) is not None
        x, y = rng.choice(context), rng.choice(context)
        texts += [c, x + c + y, c + c + " " + c.upper() + x]
    for first, second in pairs:  # each pair whole: its parts must not both map
        texts.append(first + second)
    got = _native.mapped_normalized(texts)
    done = 0
    for text, out in zip(texts, got, strict=True):
        if out is not None:
            done += 1
            assert out == normalize(text).encode("utf-8", "surrogatepass"), text
    assert mapped > 100_000 and done > 200_000  # most characters have a map
    # a composition's two halves never both have one (else "\u09c7\u09be" would
    # be joined by normalize() and not by the maps)
    assert all(char_map(p[0]) is None or char_map(p[1]) is None for p in pairs)


@native
def test_mapped_normalized_fills_tables_on_demand_and_declines() -> None:
    texts = ["Caf\u00e9 \u201cOK\u201d\u2014 \u00bd", "\U0001d400\U0001d41b", "\u0130stanbul",
             "e\u0301", "", "\u00a0 \u3000", "a\u0360\u0334"]
    got = _native.mapped_normalized(texts)
    assert got[0] == 'caf\u00e9 "ok"- 1\u20442'.encode()
    assert got[1] == b"ab"  # mathematical letters: a block filled in on demand
    # a map would need the neighbours: a dotted capital I folds to i and a
    # combining dot, an acute joins the e, two marks are put in class order
    assert got[2] is None and got[3] is None and got[6] is None
    assert normalize(texts[6]) == "a\u0334\u0360"
    assert got[4] == b"" and got[5] == b""


@pytest.mark.skipif(not _native.available(), reason="numba is not installed")
def test_kernels_load_without_a_writable_cache_place(tmp_path: Any) -> None:
    # As another user with no home, numba finds no writable place for the
    # kernels' disk cache (the package's __pycache__ is not theirs) and refused
    # to make them: every cluster() failed with "cannot cache function".
    import os
    import shutil
    import subprocess
    import sys

    setpriv = shutil.which("setpriv")
    if not hasattr(os, "getuid") or os.getuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to run a process as another user")
    code = ("import newsdedup; r = newsdedup.cluster(['The city council approved the new "
            "budget on Tuesday.', 'The city council approved the new budget on Tuesday.']); "
            "print(len(r.clusters))")
    env = {**os.environ, "HOME": "/nonexistent"}
    env.pop("NUMBA_CACHE_DIR", None)
    as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    os.chmod(tmp_path, 0o777)
    pre = subprocess.run([*as_nobody, "-c", "import newsdedup._native"], capture_output=True,
                         text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)
    if pre.returncode != 0:
        pytest.skip(f"the package cannot be read as uid 65534 here: {pre.stderr[-300:]}")
    run = subprocess.run([*as_nobody, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path), timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "1"


@native
def test_mapped_normalized_from_threads_filling_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    # Threads filling in blocks of the maps while others' kernels (which run
    # without the GIL) read them: each kernel reads one consistent set of tables.
    import threading

    fresh = (np.full(0x110000, 255, dtype=np.uint8), np.zeros(0x110000, dtype=np.int32),
             np.zeros(0x110000, dtype=np.uint8), np.zeros(0, dtype=np.uint32), frozenset())
    monkeypatch.setattr(_native, "_MAP_STATE", [fresh])
    rng = random.Random(9)
    alphabets = ["\u00e9\u00fc\u2019 ab", "\u0416\u0436\u0449 xy", "\u03a3\u03c3\u03c2 q",
                 "\U0001d400\U0001d41a z", "\u0561\u0562 w", "\u10d0\u10d1 v"]
    texts = [[" ".join("".join(rng.choice(a) for _ in range(6)) for _ in range(200))
              for _ in range(20)] for a in alphabets]
    errors: list[str] = []

    def run(batch: list[str]) -> None:
        for _ in range(5):
            got = _native.mapped_normalized(batch)
            for t, g in zip(batch, got, strict=True):
                if g != normalize(t).encode("utf-8"):
                    errors.append(t[:20])

    threads = [threading.Thread(target=run, args=(b,)) for b in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _native._MAP_STATE[0][4] == {0, 1, 2, 0x1D}  # the threads filled those in


_UTF8_PIECES = [b"a", b"\xc3\xa9", b"\xe2\x80\x99", b"\xf0\x9f\x98\x80", b"\xed\x9f\xbf",
                b"\xed\xa0\x80", b"\xe0\x9f\x80", b"\xe0\xa0\x80", b"\xf0\x8f\xbf\xbf",
                b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xc0\x80", b"\xc1\xbf", b"\xc2\x80",
                b"\xf5\x80\x80\x80", b"\xff", b"\x80", b"\xc3", b"\xe2\x80", b"abcdefgh"]


@native
@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=40) | st.lists(st.sampled_from(_UTF8_PIECES), max_size=12).map(b"".join))
def test_compiled_utf8_check_agrees_with_the_codec(data: bytes) -> None:
    # overlong forms, surrogates, code points above U+10FFFF, cut sequences
    try:
        data.decode("utf-8")
        ok = True
    except UnicodeDecodeError:
        ok = False
    assert _native.utf8_valid(data) is ok
