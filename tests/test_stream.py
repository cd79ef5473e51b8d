"""Streaming Deduper (in-memory index): add, query, remove, expire, filter, and
equivalence with the batch cluster()."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup import Config, Deduper, cluster
from newsdedup.cli import main
from newsdedup.store import (
    DuplicateIdError,
    StoredDoc,
    decode_payload,
    decode_record,
    decode_shingles,
    encode_payload,
    encode_record,
    encode_shingles,
    payload_band_hashes,
    payload_key_hashes,
)
from newsdedup.stream import Decision

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)

# ----------------------------------------------------------------------------- data


def _vocab(rng: random.Random, n: int = 4000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def make_text(rng: random.Random, vocab: list[str], words: int) -> str:
    sentences, left = [], words
    while left > 0:
        k = min(left, rng.randint(8, 20))
        sentences.append(" ".join(rng.choice(vocab) for _ in range(k)).capitalize() + ".")
        left -= k
    return " ".join(sentences)


def edit(rng: random.Random, text: str, rate: float) -> str:
    """Light random word edits (substitute or drop) at ``rate``."""
    out = []
    for w in text.split(" "):
        r = rng.random()
        if r < rate / 2:
            continue
        out.append("edited" if r < rate else w)
    return " ".join(out)


def make_corpus(seed: int, stories: int = 60, words: int = 150) -> list[dict[str, Any]]:
    """Distinct stories, plus exact copies, light edits and long excerpts of some,
    shuffled; ``published`` increases along the list (one hour apart)."""
    rng = random.Random(seed)
    vocab = _vocab(rng)
    docs: list[dict[str, Any]] = []
    for s in range(stories):
        text = make_text(rng, vocab, words)
        docs.append({"id": f"s{s:03d}", "title": f"Story {s}", "text": text, "source": "wire"})
        if s % 3 == 0:
            docs.append({"id": f"s{s:03d}-exact", "title": f"Story {s}", "text": text,
                         "source": "paper-a"})
        if s % 4 == 0:
            docs.append({"id": f"s{s:03d}-edit", "title": f"Story {s}",
                         "text": edit(rng, text, 0.04), "source": "paper-b"})
        if s % 5 == 0:
            cut = text.split(" ")
            docs.append({"id": f"s{s:03d}-cut", "title": f"Story {s}",
                         "text": " ".join(cut[: int(len(cut) * 0.85)]), "source": "paper-c"})
    docs.append({"id": "short-1", "text": "Too short."})
    docs.append({"id": "short-2", "text": "Too short."})
    rng.shuffle(docs)
    for i, d in enumerate(docs):
        d["published"] = (T0 + timedelta(hours=i)).isoformat()
    return docs


def copy_tier_options() -> dict[str, Any]:
    """Options that restrict the batch run to the copy tier the stream verifies
    (only those the Config of this checkout has)."""
    names = {f.name for f in dataclasses.fields(Config)}
    wanted = {"rewrite": False, "chain_guard": False}
    return {k: v for k, v in wanted.items() if k in names}


def groups_of(decisions: list[Decision]) -> list[tuple[str, ...]]:
    by_story: dict[int, list[str]] = {}
    for d in decisions:
        by_story.setdefault(d.cluster_id, []).append(d.id)
    return sorted(tuple(sorted(g)) for g in by_story.values())


# ----------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("seed", [1, 2])
def test_filter_matches_batch_cluster_in_the_same_order(seed: int) -> None:
    docs = make_corpus(seed)
    opts = copy_tier_options()
    batch = cluster(docs, representative="earliest", progress=False, **opts)
    decisions = list(Deduper(**opts).filter(docs))
    assert [d.id for d in decisions] == [d["id"] for d in docs]
    # Same stories.
    assert groups_of(decisions) == sorted(c.members for c in batch.clusters)
    assert sum(len(c.members) > 1 for c in batch.clusters) >= 20
    # Same representative (the earliest = first seen) and duplicate_of; the same
    # relation and score wherever the document links directly to its representative.
    # (The batch run records no link from an exact copy to a third document, and
    # an exact group is led by its first id in batch but by its first arrival here
    # (this input is shuffled), so "directly" means linked directly in both.)
    records = {r["id"]: r for r in batch.to_records()}
    batch_edges = {(m.a, m.b) for m in batch.pairs}
    direct = 0
    for d in decisions:
        r = records[d.id]
        assert d.is_representative == r["is_representative"], d.id
        assert d.duplicate_of == r["duplicate_of"], d.id
        pair = tuple(sorted((d.id, d.duplicate_of or "")))
        if d.duplicate_of is not None and pair in batch_edges and pair in {
            (m.a, m.b) for m in d.matches
        }:
            direct += 1
            assert d.relation == r["relation"], d.id
            assert d.score == pytest.approx(r["score"], abs=1e-6), d.id
    assert direct >= 30


def test_results_do_not_depend_on_batching() -> None:
    docs = make_corpus(3, stories=30)
    one_by_one = Deduper()
    singles = [one_by_one.add_many([d])[0] for d in docs]
    together = Deduper().add_many(docs)
    assert [(d.id, d.cluster_id, d.duplicate_of, d.relation, d.score) for d in singles] == [
        (d.id, d.cluster_id, d.duplicate_of, d.relation, d.score) for d in together
    ]
    chunked = list(Deduper()._streamer().filter(docs, batch=7))
    assert [(d.id, d.duplicate_of) for d in chunked] == [(d.id, d.duplicate_of) for d in together]


# ----------------------------------------------------------------------------- API


def test_add_returns_verified_matches_and_query_does_not_insert() -> None:
    docs = make_corpus(4, stories=10)
    d = Deduper()
    story = next(x for x in docs if x["id"] == "s000")
    copy = dict(story, id="copy-of-s000")
    assert d.add(story) == []
    found = d.query(copy)
    assert [(m.a, m.b, m.relation, m.score) for m in found] == [
        ("copy-of-s000", "s000", "exact", 1.0)
    ]
    assert d.query(copy) == found  # query inserted nothing
    matches = d.add(copy)
    assert [m.relation for m in matches] == ["exact"]
    edited = dict(story, id="edit", text=edit(random.Random(0), story["text"], 0.05))
    m = d.query(edited)
    assert {x.relation for x in m} == {"near_duplicate"}
    assert all(0.5 <= x.score < 1.0 and x.score == x.jaccard for x in m)


def test_drop_duplicates_yields_only_first_seen_copies() -> None:
    docs = make_corpus(5, stories=20)
    kept = list(Deduper().filter(docs, drop_duplicates=True))
    assert all(d.is_representative and d.duplicate_of is None for d in kept)
    all_ = list(Deduper().filter(docs))
    assert [d.id for d in kept] == [d.id for d in all_ if d.is_representative]
    # Every story keeps a copy, and a kept document has no verified link to any
    # document seen before it (two first-seen copies of a story stay only when a
    # later document bridges them).
    batch = cluster(docs, progress=False)
    kept_ids = {d.id for d in kept}
    assert all(kept_ids & set(c.members) for c in batch.clusters)
    position = {d["id"]: i for i, d in enumerate(docs)}
    for m in batch.pairs:
        later = m.a if position[m.a] > position[m.b] else m.b
        assert later not in kept_ids, m
    assert len(batch.clusters) <= len(kept) <= len(batch.clusters) + 3


def test_too_short_documents_stay_singletons() -> None:
    d = Deduper()
    a = d.add_many([{"id": "a", "text": "Too short."}, {"id": "b", "text": "Too short."}])
    assert [x.is_representative for x in a] == [True, True]
    assert a[0].cluster_id != a[1].cluster_id


def test_duplicate_id_raises_and_stores_nothing() -> None:
    docs = make_corpus(6, stories=5)
    d = Deduper()
    d.add(docs[0])
    with pytest.raises(DuplicateIdError, match=repr(docs[0]["id"])):
        d.add_many([docs[1], docs[0]])
    assert d.query(dict(docs[1], id="probe")) == []  # docs[1] was not stored either
    with pytest.raises(DuplicateIdError, match="twice"):
        d.add_many([docs[2], docs[2]])
    with pytest.raises(TypeError, match="expected an Article or a record dict"):
        d.add("a plain text has no id")


def test_remove() -> None:
    docs = make_corpus(7, stories=5)
    story = next(x for x in docs if x["id"] == "s000")
    d = Deduper()
    d.add(story)
    probe = dict(story, id="probe")
    assert len(d.query(probe)) == 1
    assert d.remove("s000") is True
    assert d.remove("s000") is False
    assert d.query(probe) == []
    assert d.add(story) == []  # the id is free again


def _story_pair(seed: int = 8) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = random.Random(seed)
    text = make_text(rng, _vocab(rng), 120)
    return {"id": "a", "text": text, "source": "x"}, {"id": "b", "text": text, "source": "y"}


def test_window_limits_matches_to_nearby_publication_times() -> None:
    a, b = _story_pair()
    a["published"] = T0.isoformat()
    for hours, linked in [(24, True), (5 * 24, False)]:
        d = Deduper(window=timedelta(days=3))
        d.add(a)
        later = dict(b, published=(T0 + timedelta(hours=hours)).isoformat())
        assert bool(d.add(later)) is linked, hours
    d = Deduper(window=timedelta(days=3))
    d.add(a)
    assert d.add(dict(b, published=None)), "an undated document is not constrained"


def test_source_match() -> None:
    a, b = _story_pair()
    same_source = dict(b, source="x")
    for how, other, linked in [
        ("different", b, True), ("different", same_source, False),
        ("same", b, False), ("same", same_source, True), ("any", b, True),
    ]:
        d = Deduper(source_match=how)
        d.add(a)
        assert bool(d.query(other)) is linked, (how, other["source"])
    # an outlet is the source, else the URL's host
    a_url = dict(a, url="https://www.site.example/1")
    a_url.pop("source", None)
    for how, url, linked in [("different", "https://site.example/2", False),
                             ("different", "https://other.example/2", True),
                             ("same", "https://site.example/2", True),
                             ("same", "https://other.example/2", False)]:
        d = Deduper(source_match=how)
        d.add(a_url)
        other = dict(b, url=url)
        other.pop("source", None)
        assert bool(d.query(other)) is linked, (how, url)
    with pytest.raises(Exception, match="'source_match' parameter of Config must be one of"):
        Deduper(source_match="cross")
    with pytest.raises(Exception, match="'window' parameter of Config must be None or a pos"):
        Deduper(window=3)


def test_expire_removes_old_documents_only() -> None:
    docs = make_corpus(9, stories=12)
    d = Deduper()
    d.add_many(docs)
    undated = {"id": "undated", "text": docs[0]["text"]}
    d.add(undated)
    cutoff = T0 + timedelta(hours=10)
    n_old = sum(datetime.fromisoformat(x["published"]) < cutoff for x in docs)
    assert d.expire(before=cutoff) == n_old
    assert d.expire(before=cutoff) == 0
    for x in docs:
        hits = {m.a if m.b == "probe" else m.b for m in d.query(dict(x, id="probe"))}
        if datetime.fromisoformat(x["published"]) < cutoff:
            assert x["id"] not in hits
        else:
            assert x["id"] in hits or len(x["text"].split()) < 5
    with pytest.raises(TypeError, match="expects a datetime"):
        d.expire(before="yesterday")  # type: ignore[arg-type]


def test_decision_record_keeps_every_input_field() -> None:
    docs = make_corpus(10, stories=3)
    docs[0]["extra"] = {"nested": [1, 2]}
    out = [d.to_record() for d in Deduper().filter(docs)]
    for src, rec in zip(docs, out, strict=True):
        for k, v in src.items():
            assert rec[k] == v
        assert set(rec) - set(src) == {
            "cluster_id", "duplicate_of", "relation", "score", "is_representative"
        }


# ----------------------------------------------------------------------------- coding


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 2**32 - 1), max_size=600))
def test_shingle_coding_round_trips(values: set[int]) -> None:
    arr = np.array(sorted(values), dtype=np.uint32)
    blob = encode_shingles(arr)
    assert np.array_equal(decode_shingles(blob), arr)
    if len(arr) >= 64:
        assert len(blob) < 4 * len(arr)  # smaller than raw uint32


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 2**32 - 1), max_size=600) | st.sets(
    st.integers(0, 2**32 - 1), min_size=1, max_size=3))
def test_compiled_shingle_coding_is_the_numpy_coding(values: set[int]) -> None:
    """The compiled Elias-Fano kernels (ef_encode, ef_decode) give the bytes
    and values of the numpy code (sets of 1 to 3 values: 31 and 32 low bits)."""
    from newsdedup import _native
    from newsdedup.store import _encode_shingles

    if not _native.available():
        pytest.skip("numba is not installed (the compiled path is optional)")
    arr = np.array(sorted(values), dtype=np.uint32)
    blob = _encode_shingles(arr, native=False)
    assert _encode_shingles(arr, native=True) == blob
    assert decode_shingles(blob, native=True).tolist() == arr.tolist()
    assert decode_shingles(blob, native=False).tolist() == arr.tolist()


def test_record_round_trips() -> None:
    sh = np.array([1, 5, 2**32 - 1], dtype=np.uint32)
    for doc in [
        StoredDoc(seq=7, id="é/1", published=1.5e9, source="AP", n_words=12, exact=-3,
                  cluster=2, rep="x", shingles=sh,
                  payload=encode_payload("Héadline", "Héadline\nBody.", "Body.")),
        StoredDoc(seq=1, id="", published=None, source=None, n_words=0, exact=None,
                  cluster=0, rep=None, shingles=sh[:0]),
        StoredDoc(seq=9, id="copy", published=None, source=None, n_words=3, exact=5,
                  cluster=7, rep="é/1", lead=False, samples=2, shingles=sh,
                  payload=encode_payload(None, "x", "x", np.array([3, 8], dtype=np.uint32),
                                         np.array([False, True]))),
    ]:
        back = decode_record(encode_record(doc))
        assert back.code is not None  # decoded on first use
        assert np.array_equal(back.shingle_set(), doc.shingles) and back.code is None
        assert dataclasses.astuple(back)[:-2] == dataclasses.astuple(doc)[:-2]
        assert back.payload == doc.payload
    assert decode_payload(encode_payload(None, "a\x00b", "")) == (None, "a\x00b", "")
    assert payload_band_hashes(doc.payload).tolist() == [8]
    assert payload_key_hashes(doc.payload).tolist() == [3, 8]


# ----------------------------------------------------------------------------- CLI


def _jsonl(docs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(d) + "\n" for d in docs)


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue().splitlines(), capsys.readouterr().err


def _counts(err: str) -> tuple[int, int, int, int]:
    line = next(ln for ln in err.splitlines() if ln.startswith("newsdedup filter: read"))
    nums = [int(w.strip(",()")) for w in line.split() if w.strip(",()").isdigit()]
    return nums[0], nums[1], nums[2], nums[-1]


def test_cli_filter_marks_and_keeps_fields(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    docs = make_corpus(11, stories=15)
    code, lines, err = _run(["filter"], _jsonl(docs), monkeypatch, capsys)
    assert code == 0
    recs = [json.loads(x) for x in lines]
    assert [r["id"] for r in recs] == [d["id"] for d in docs]
    assert all({k: r[k] for k in d} == d for r, d in zip(recs, docs, strict=True))
    marked = sum(r["duplicate_of"] is not None for r in recs)
    assert marked > 5
    assert _counts(err) == (len(docs), len(docs), marked, 0)

    code, lines, err = _run(["filter", "--drop-duplicates"], _jsonl(docs), monkeypatch, capsys)
    read, kept, _marked, dropped = _counts(err)
    assert code == 0 and read == kept + dropped == len(docs) and dropped == marked
    assert len(lines) == kept and all(json.loads(x)["is_representative"] for x in lines)


def test_cli_filter_with_workers_writes_the_same_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any,
) -> None:
    docs = make_corpus(12, stories=200)
    assert len(docs) > 2 * 150  # batches the workers take part in (128 or more)
    outs = []
    for extra in ([], ["--workers", "2"]):
        index = str(tmp_path / f"index{len(extra)}.db")
        code, lines, err = _run(["filter", "--index", index, "--batch", "150", *extra],
                                _jsonl(docs), monkeypatch, capsys)
        assert code == 0, err
        outs.append(lines)
    assert outs[0] == outs[1]
    assert sum(json.loads(x)["duplicate_of"] is not None for x in outs[0]) > 20
    code, _lines, err = _run(["filter", "--workers", "0"], _jsonl(docs[:3]), monkeypatch,
                             capsys)
    assert code != 0 and "workers" in err


def test_cli_filter_stops_at_a_malformed_line(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str],
                                              tmp_path: Any) -> None:
    docs = make_corpus(12, stories=4)
    text = _jsonl(docs[:3]) + "{not json\n" + _jsonl(docs[3:])
    db = str(tmp_path / "idx.db")
    code, lines, err = _run(["filter", "--index", db], text, monkeypatch, capsys)
    assert code == 1
    assert "<stdin>:4: not valid JSON" in err
    assert [json.loads(x)["id"] for x in lines] == [d["id"] for d in docs[:3]]
    # Nothing before the bad line was lost: the three are in the index.
    with Deduper.open(db) as d:
        assert set(d._streamer().store.seqs_of([x["id"] for x in docs])) == {
            x["id"] for x in docs[:3]
        }

    code, lines, err = _run(["filter", "--on-error", "skip"], text, monkeypatch, capsys)
    assert code == 0
    assert lines[3] == "{not json"
    assert "warning: <stdin>:4" in err
    read, kept, _m, dropped = _counts(err)
    assert read == len(docs) + 1 == kept + dropped


def test_cli_filter_reports_a_repeated_id_with_its_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    docs = make_corpus(13, stories=3)
    path = tmp_path / "in.jsonl"
    path.write_text(_jsonl(docs + [docs[0]]), encoding="utf-8")
    code, lines, err = _run(["filter", str(path)], "", monkeypatch, capsys)
    assert code == 1
    assert f"{path}:{len(docs) + 1}: document id {docs[0]['id']!r} is already" in err
    assert len(lines) == len(docs)


def test_cli_filter_reads_files_as_cluster_does(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    # A byte-order mark, a .gz file, CRLF line ends and a line separator
    # (U+2028) inside a JSON string: the same output as the plain file.
    docs = make_corpus(9, stories=3)
    docs[1]["text"] = docs[1]["text"].replace(" ", "\u2028", 1)
    plain = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    paths = [tmp_path / "plain.jsonl", tmp_path / "bom.jsonl", tmp_path / "crlf.jsonl",
             tmp_path / "packed.jsonl.gz"]
    paths[0].write_bytes(plain.encode("utf-8"))
    paths[1].write_bytes(b"\xef\xbb\xbf" + plain.encode("utf-8"))
    paths[2].write_bytes(plain.replace("\n", "\r\n").encode("utf-8"))
    paths[3].write_bytes(gzip.compress(plain.encode("utf-8")))
    outputs = []
    for path in paths:
        out = io.StringIO()
        assert main(["filter", str(path)], stdout=out) == 0, capsys.readouterr().err
        outputs.append(out.getvalue().split("\n")[:-1])  # (not splitlines: U+2028)
    assert len(outputs[0]) == len(docs)
    assert json.loads(outputs[0][1])["text"] == docs[1]["text"]
    assert all(out == outputs[0] for out in outputs[1:])


def test_cli_filter_stops_at_or_passes_through_a_line_that_is_not_utf8(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    docs = make_corpus(4, stories=2)
    bad = b'{"id": "latin", "text": "price \xa3 5"}'
    data = (_jsonl(docs[:2]).encode("utf-8") + bad + b"\n" + _jsonl(docs[2:]).encode("utf-8"))
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(data)
    code, lines, err = _run(["filter", str(path)], "", monkeypatch, capsys)
    assert code == 1
    at = bad.index(b"\xa3")
    assert f"{path}:3: invalid UTF-8 at byte {at} of the line (byte 0xa3)" in err
    assert [json.loads(x)["id"] for x in lines] == [d["id"] for d in docs[:2]]
    # skip: the line's very bytes are written through, from a file or stdin
    for argv, stdin in ((["filter", "--on-error", "skip", str(path)], b""),
                        (["filter", "--on-error", "skip"], data)):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        assert main(argv, stdout=out) == 0
        out.flush()
        written = out.buffer.getvalue().split(b"\n")  # type: ignore[attr-defined]
        assert written[2] == bad
        assert [json.loads(x)["id"] for x in written[:2] + written[3:-1]] == [
            d["id"] for d in docs]
        err = capsys.readouterr().err
        assert "invalid UTF-8" in err and "passed through untouched" in err
        assert _counts(err) == (len(docs) + 1, len(docs) + 1, _counts(err)[2], 0)


def test_cli_filter_reports_a_damaged_gzip_file(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    docs = make_corpus(3, stories=1)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(_jsonl(docs).encode("utf-8"))[:-12])
    code, _lines, err = _run(["filter", str(path)], "", monkeypatch, capsys)
    assert code == 1
    assert f"{path}: not a valid gzip file" in err
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- default options
# With default options the stream judges pairs with the batch run's own Judge:
# rewrites, passage candidates and the template guard included.

SEED_DIR = Path(__file__).resolve().parent.parent / "seeds"
NOTICE = ("Qtly div 10 cts vs 10 cts prior\nPay April 1\nRecord March 15\n"
          "The board said the dividend reflects continued confidence in the company's cash "
          "flow and its plans for the coming year, and that it expects to review the payout "
          "again at its next regular meeting.\nReuter")


def _seeds() -> list[dict[str, Any]]:
    return [{"id": f"seed-{p.stem[:3]}", "text": p.read_text(encoding="utf-8")}
            for p in sorted(SEED_DIR.glob("*.txt"))]


def _look_alikes() -> list[dict[str, Any]]:
    return [
        {"id": "div-esy", "title": "E-SYSTEMS INC <ESY> SETS QUARTERLY", "text": NOTICE},
        {"id": "div-trn", "title": "TRINITY INDUSTRIES <TRN> SETS QUARTERLY", "text": NOTICE},
    ]


def test_seeds_added_one_after_the_other_are_a_rewrite() -> None:
    first, second = _seeds()
    d = Deduper()
    assert d.add(first) == []
    (m,) = d.add(second)
    assert m.relation == "rewrite"
    assert 0.4 <= m.score <= 1.0 and m.jaccard < 0.01
    batch = cluster([first, second], progress=False)
    assert [(p.a, p.b, p.relation, p.score) for p in batch.pairs] == [(m.a, m.b, m.relation,
                                                                       m.score)]


def test_template_look_alike_not_linked_in_streaming() -> None:
    esy, trn = _look_alikes()
    d = Deduper()
    d.add(esy)
    assert d.add(trn) == []  # same body, another company in the headline
    assert d.query(dict(esy, id="div-esy-2"))[0].relation == "exact"  # its own resend links
    # The copy tier alone would link them: the guard is what keeps them apart.
    assert [m.relation for m in Deduper(rewrite=False).query(trn)] == []  # guard in both tiers
    assert len(cluster([esy, trn], progress=False).clusters) == 2


def mixed_corpus() -> list[dict[str, Any]]:
    """Copies, edits, excerpts (make_corpus), the seed rewrite pair, a rewrite of a
    planted story and template look-alikes, in id order, published an hour apart."""
    docs = make_corpus(3, stories=30, words=160) + _seeds() + _look_alikes()
    for d in [x for x in docs if x["id"] in ("s002", "s007", "s011")]:
        words = d["text"].split(" ")  # an excerpt from the middle: containment
        docs.append({"id": d["id"] + "-excerpt", "text": " ".join(words[40:90])})
    docs += [{"id": "fed-mon", "title": FED_TITLE, "text": FED.format(amt="1.5", rate="6-1/4")},
             {"id": "fed-tue", "title": FED_TITLE, "text": FED.format(amt="2.5", rate="6-3/16")}]
    docs.sort(key=lambda x: x["id"])
    for i, d in enumerate(docs):
        d["published"] = (T0 + timedelta(hours=i)).isoformat()
    return docs


FED = ("The Federal Reserve entered the U.S. Government securities market to arrange {amt} "
       "billion dlrs of customer repurchase agreements, a Fed spokesman said. Dealers said "
       "Federal funds were trading at {rate} pct when the Fed began its temporary and indirect "
       "supply of reserves to the banking system. Reuter")
FED_TITLE = "FED ADDS RESERVES VIA CUSTOMER REPURCHASES"


def check_default_parity(d: Deduper) -> None:
    """Stream the mixed corpus through ``d`` (default options) and compare with batch."""
    docs = mixed_corpus()
    batch = cluster(docs, representative="earliest", progress=False)
    with d:
        decisions = list(d.filter(docs, batch=7))
    key = lambda m: (m.a, m.b, m.relation, m.score, m.jaccard, m.containment)  # noqa: E731
    streamed = sorted({key(m) for x in decisions for m in x.matches})
    # Documented exception: the chain guard is a whole-cluster decision the
    # stream cannot take back; a weak rewrite link it refused in batch is a
    # match in the stream (and joins the two stories).
    refused = [batch.verdicts[(a, b)].match for a, b, _r in batch.refused]
    assert all(m.relation == "rewrite" for m in refused)
    assert streamed == sorted(key(m) for m in [*batch.pairs, *refused])
    relations = {m[2] for m in streamed}
    assert relations == {"exact", "near_duplicate", "containment", "rewrite"}
    expected = {c.members for c in batch.clusters}
    for m in refused:
        ga = next(g for g in expected if m.a in g)
        gb = next(g for g in expected if m.b in g)
        expected = (expected - {ga, gb}) | {tuple(sorted(ga + gb))}
    assert groups_of(decisions) == sorted(expected)
    assert batch.refused == []  # on this corpus: the clusters are the batch ones
    records = {r["id"]: r for r in batch.to_records()}
    for x in decisions:
        assert x.is_representative == records[x.id]["is_representative"], x.id
        assert x.duplicate_of == records[x.id]["duplicate_of"], x.id
    linked = {(m[0], m[1]) for m in streamed}
    assert ("div-esy", "div-trn") not in linked and ("fed-mon", "fed-tue") not in linked
    assert ("seed-000", "seed-001") in linked


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_default_options_match_batch(backend: str, tmp_path: Path) -> None:
    check_default_parity(Deduper() if backend == "memory" else Deduper.open(tmp_path / "i.db"))
