"""The rewrite signal: key terms, background weights, sentence alignment, seeds."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

import newsdedup
from newsdedup.rewrite import (
    CORPUS_MIN_DOCS,
    background_weight,
    corpus_caps,
    key_hashes,
    rewrite_doc,
    rewrite_score,
    split_sentences,
    stem,
)

from .conftest import SEED_000, SEED_001, corpus_path, read_jsonl_gz


def test_seeds_are_one_story_linked_as_rewrite() -> None:
    r = newsdedup.cluster([str(SEED_000), str(SEED_001)])
    assert len(r.clusters) == 1
    (m,) = r.pairs
    assert m.relation == "rewrite"
    assert m.jaccard < 0.01  # no 5-word phrase in common to speak of
    assert 0.4 <= m.score <= 1.0


def test_seeds_unlinked_without_the_rewrite_signal() -> None:
    r = newsdedup.cluster([str(SEED_000), str(SEED_001)], rewrite=False)
    assert len(r.clusters) == 2


def test_rewrite_score_is_symmetric_and_bounded(seed_texts: tuple[str, str]) -> None:
    a, b = rewrite_doc(seed_texts[0]), rewrite_doc(seed_texts[1])
    ab, ba = rewrite_score(a, b), rewrite_score(b, a)
    assert ab.score == pytest.approx(ba.score)
    assert 0.0 <= ab.score <= 1.0
    assert {"massoud", "dashti", "panjshir"} <= set(ab.shared_entities)
    assert {"200000", "1996", "2001"} <= set(ab.shared_figures)
    self_score = rewrite_score(a, a)
    assert self_score.score >= 0.99


def test_background_weights_need_no_corpus() -> None:
    assert background_weight("the") == 0.0
    assert background_weight("panjshir") > background_weight("province") > 0.0
    assert background_weight("xqzvtr") == 6.0  # unknown word: maximal weight


def test_corpus_caps_only_for_large_corpora() -> None:
    assert corpus_caps([{"a"}, {"a", "b"}]) is None
    sets = [{"common", f"rare{i}"} for i in range(CORPUS_MIN_DOCS)]
    caps = corpus_caps(sets)
    assert caps is not None
    assert caps["common"] == pytest.approx(0.0)
    assert caps["rare0"] == pytest.approx(6.0)


def test_stem_and_sentences() -> None:
    assert stem("fighters") == "fighter"
    assert stem("killed") == "kill"
    assert stem("cats") == "cats"  # short words are left alone
    text = "First sentence here. Second one follows! Third?\nA new line"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "First sentence here.", "Second one follows!", "Third?", "A new line"]


def test_key_hashes_sorted_unique_uint32() -> None:
    h = key_hashes(["b", "a", "b", "#2001"])
    assert h.dtype == np.uint32 and len(h) == 3 and np.all(np.diff(h.astype(np.int64)) > 0)


def test_rewrite_result_does_not_depend_on_input_order(seed_texts: tuple[str, str]) -> None:
    other = ("Manchester United beat Arsenal 2-1 at Old Trafford on Sunday, with goals from "
             "Wayne Rooney and Cristiano Ronaldo in a match played in heavy rain before a "
             "crowd of 67,000. Arsenal manager Arsene Wenger said his side deserved a draw.")
    docs = [{"id": "s0", "text": seed_texts[0]}, {"id": "s1", "text": seed_texts[1]},
            {"id": "o", "text": other}]
    a = newsdedup.cluster(docs)
    b = newsdedup.cluster(list(reversed(docs)))
    assert [c.members for c in a.clusters] == [c.members for c in b.clusters]
    assert a.pairs == b.pairs


@pytest.mark.corpora
def test_same_topic_different_stories_rarely_linked() -> None:
    path = corpus_path("wikiref220", "wikiref220.jsonl.gz")
    recs = list(read_jsonl_gz(path))
    r = newsdedup.cluster([{"id": x["id"], "title": x["title"], "text": x["text"]}
                           for x in recs])
    label = {x["id"]: x["label"] for x in recs}
    same_topic = linked = 0
    for a, b in itertools.combinations(sorted(label), 2):
        if label[a] == label[b]:
            same_topic += 1
            linked += r.cluster_of(a).id == r.cluster_of(b).id
    assert same_topic > 3000
    assert linked / same_topic < 0.01


def test_same_source_needs_stronger_rewrite_evidence(seed_texts: tuple[str, str]) -> None:
    docs = [{"id": "a", "text": seed_texts[0], "source": "wire"},
            {"id": "b", "text": seed_texts[1], "source": "wire"}]
    same = newsdedup.cluster(docs)
    assert len(same.clusters) == 2  # an outlet's follow-up: rewrite score ~0.47 < 0.9
    assert "(same source)" in same.explain("a", "b").reason
    docs[1]["source"] = "other outlet"
    assert len(newsdedup.cluster(docs).clusters) == 1
    relaxed = newsdedup.cluster(
        [dict(d, source="wire") for d in docs], same_source_rewrite_threshold=0.4)
    assert len(relaxed.clusters) == 1


@pytest.mark.parametrize("index", [None, ":memory:", "sqlite"])
def test_an_outlet_is_the_source_or_else_the_url_host(
    seed_texts: tuple[str, str], index: str | None, tmp_path: Path
) -> None:
    """Without ``source``, two stories under one URL host are one outlet's and
    need the same-source bar, in the batch run, in compare() and in the stream
    (whose index stores the outlet); hosts differ in case or ``www.`` only, and
    a ``source`` given decides over the host."""
    def linked(url_a: str | None, url_b: str | None, **sources: str) -> bool:
        docs = [{"id": k, "text": t} | ({"url": u} if u else {})
                | ({"source": sources[k]} if k in sources else {})
                for k, t, u in (("a", seed_texts[0], url_a), ("b", seed_texts[1], url_b))]
        if index is None:
            batch = len(newsdedup.cluster(docs).clusters) == 1
            assert newsdedup.compare(docs[0], docs[1]).linked == batch
            return batch
        where = str(tmp_path / f"{len(list(tmp_path.iterdir()))}.db") if index == "sqlite" \
            else index
        with newsdedup.Deduper.open(where) as d:
            d.add(docs[0])
            return bool(d.add(docs[1]))

    assert linked("https://one.example/a", "https://two.example/b")
    assert not linked("https://www.One.example/a", "http://one.example/b?x=1")
    assert linked(None, "https://one.example/b")  # one outlet unknown
    assert linked("https://one.example/a", "https://one.example/b", a="wire", b="agency")
    assert not linked("https://one.example/a", "https://two.example/b", a="wire", b="wire")
    # a source and a host that name one outlet
    assert not linked("https://one.example/a", "https://two.example/b", a="two.example")


def test_url_hosts() -> None:
    from newsdedup.types import url_host

    assert newsdedup.Article(id="a", text="x", url="https://WWW.News.example:8080/p").outlet \
        == "news.example"
    assert newsdedup.Article(id="a", text="x", source="Wire", url="https://a.example").outlet \
        == "Wire"
    for bad in (None, "", "/relative/path", "not a url", "http://[::1"):
        assert url_host(bad) is None


def test_dated_rewrite_must_be_close_in_time(seed_texts: tuple[str, str]) -> None:
    def run(second: str) -> int:
        docs = [{"id": "a", "text": seed_texts[0], "published": "2021-09-06T08:00:00"},
                {"id": "b", "text": seed_texts[1], "published": second}]
        return len(newsdedup.cluster(docs).clusters)

    assert run("2021-09-06T15:00:00") == 1
    assert run("2021-09-20T15:00:00") == 2  # two weeks later: a later story on the subject


@pytest.mark.parametrize(
    ("text", "credits", "expected"),
    [
        ("Cocoa prices rose.\n Reuter\n", (), "reuters"),
        ("Cocoa prices rose.\nREUTER...", (), "reuters"),
        ("WASHINGTON (AP) \u2014 The Senate voted.", (), "ap"),
        ("The Senate voted.", ("LONDON (Reuters) - ",), "reuters"),
        ("Prices rose, AP said.\nMore to come.", (), None),
        ("The Reuters building was sold.", (), None),
    ],
)
def test_wire_origin(text: str, credits: tuple[str, ...], expected: str | None) -> None:
    from newsdedup.entities import wire_origin

    assert wire_origin(text, credits) == expected


def test_two_stories_of_one_agency_need_the_same_source_bar(
    seed_texts: tuple[str, str],
) -> None:
    """The seeds link as a rewrite (score about 0.47); signed off by one agency
    they are one newsroom's story and its follow-up and need
    ``same_source_rewrite_threshold``; signed by two agencies they link again."""
    a, b = seed_texts
    same = newsdedup.compare(a + "\nReuter\n", b + "\nReuter\n")
    assert same.relation == "distinct"
    assert "same source" in same.reason
    assert newsdedup.compare(a + "\nReuter\n", b + "\nAFP\n").relation == "rewrite"
    low = newsdedup.compare(a + "\nReuter\n", b + "\nReuter\n", same_source_rewrite_threshold=0.4)
    assert low.relation == "rewrite"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_term_table_gives_the_same_result_as_terms_per_pair(
    workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge reads content terms from the term table that ``link`` builds
    (in two forked workers when there are two): the clusters and pairs are the
    same as when each judged document's terms are computed from its text."""
    from newsdedup import score

    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:1200]
    docs = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in recs]
    monkeypatch.setattr(score.TermTable, "capped", lambda self, i, cap: None)
    monkeypatch.setattr(score.TermTable, "capped_row", lambda self, i, cap: None)
    per_pair = newsdedup.cluster(docs)
    monkeypatch.undo()
    monkeypatch.setattr(score, "PARALLEL_TERMS_MIN", 0)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", workers)
    used: list[int] = []
    real_fork_map = score.fork_map

    def spy(fn, state, blocks, n, **kw):  # type: ignore[no-untyped-def]
        if fn is score._term_block:
            used.append(n)
        return real_fork_map(fn, state, blocks, n, **kw)

    monkeypatch.setattr(score, "fork_map", spy)
    table = newsdedup.cluster(docs)
    assert used == [int(workers)]
    assert any(m.relation == "rewrite" for m in per_pair.pairs)
    assert [c.members for c in table.clusters] == [c.members for c in per_pair.clusters]
    assert table.pairs == per_pair.pairs
    assert {k: (v.match, v.reason) for k, v in table.verdicts.items()} == {
        k: (v.match, v.reason) for k, v in per_pair.verdicts.items()}


def test_term_rows_give_the_term_dicts_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rewrite prefilter reads key-term and weighted Jaccards, term sums and
    figure shares off arrays (``Judge.term_row``): the same floats, bit for bit,
    as from the term dicts, so the same verdicts with the same signals."""
    from newsdedup import score

    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:900]
    docs = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in recs]
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    # every rewrite-family pair judged (most of those that end "too little shared
    # vocabulary" are otherwise left out before judging: _vocabulary_pass)
    monkeypatch.setattr(score, "_vocabulary_pass",
                        lambda pairs, *a: np.ones(len(pairs), dtype=bool))
    rows = newsdedup.cluster(docs)
    monkeypatch.setattr(score.Judge, "term_row", lambda self, i: None)
    dicts = newsdedup.cluster(docs)
    prefiltered = [k for k, v in rows.verdicts.items() if "weighted_jaccard" in v.signals]
    assert len(prefiltered) > 100
    assert any("too little shared vocabulary" in rows.verdicts[k].reason for k in prefiltered)
    assert {k: (v.match, v.reason, v.signals) for k, v in rows.verdicts.items()} == {
        k: (v.match, v.reason, v.signals) for k, v in dicts.verdicts.items()}


@pytest.mark.parametrize("native", [True, False])
def test_pairs_left_out_unjudged_are_those_too_little_shared_vocabulary(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewrite-family pairs whose verdict can only be "distinct" for too little
    shared vocabulary are left out before judging (``_vocabulary_pass``): the
    same pairs, clusters and other verdicts as when every one is judged, and each
    pair left out had that verdict (with the compiled kernels and without)."""
    from newsdedup import _native, score

    if not native:
        monkeypatch.setattr(_native, "available", lambda: False)
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:1300]
    docs = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in recs]
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    capped_by: list[object] = []  # the corpus caps apply (from CORPUS_MIN_DOCS documents)
    real_caps = score.caps_from_df

    def caps_spy(df: dict[str, int], n: int) -> dict[str, float] | None:
        capped_by.append(real_caps(df, n))
        return real_caps(df, n)

    monkeypatch.setattr(score, "caps_from_df", caps_spy)
    passed = newsdedup.cluster(docs)
    assert capped_by and capped_by[0] is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(score, "_vocabulary_pass", lambda pairs, *a: np.ones(len(pairs), dtype=bool))
        every = newsdedup.cluster(docs)
    assert passed.pairs == every.pairs
    assert [c.members for c in passed.clusters] == [c.members for c in every.clusters]
    assert passed.refused == every.refused
    left_out = every.verdicts.keys() - passed.verdicts.keys()
    assert passed.verdicts.keys() <= every.verdicts.keys()
    assert len(left_out) > 100
    assert passed.stats.candidates == every.stats.candidates - len(left_out)
    for k in left_out:
        v = every.verdicts[k]
        assert v.match.relation == "distinct"
        assert "too little shared vocabulary" in v.reason, v.reason
    for k, v in passed.verdicts.items():
        assert (v.match, v.reason, v.signals) == (
            every.verdicts[k].match, every.verdicts[k].reason, every.verdicts[k].signals)


@pytest.mark.parametrize("native", [True, False])
def test_vocabulary_pass_keeps_an_excerpt(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An excerpt of a long story shares little of its weighted vocabulary but is
    contained in it: the pass keeps it for the copy half to judge, and leaves out
    an unrelated pair (shingles as arrays or as the run's batch, in id order)."""
    from newsdedup import _native, score
    from newsdedup.chunks import Permuted
    from newsdedup.normalize import normalize
    from newsdedup.shingle import ShingleBatch, Shingler, tokenize

    if not native:
        monkeypatch.setattr(_native, "available", lambda: False)
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))
    longs = [r["text"] for r in recs if len(r["text"].split()) > 900][:2]
    excerpt = " ".join(longs[0].split()[200:300])
    texts = [longs[0], excerpt, longs[1]]
    table = score.TermTable.build(texts, np.arange(3, dtype=np.int64))
    rows = [table.capped_row(i, None) for i in range(3)]
    assert rows[0] is not None and rows[1] is not None and rows[2] is not None
    assert rows[0].weighted_jaccard(rows[1]) < score.PREFILTER_WEIGHTED_JACCARD
    assert rows[0].weighted_jaccard(rows[2]) < score.PREFILTER_WEIGHTED_JACCARD
    sh = Shingler(5)
    arrays = [sh.shingles(tokenize(normalize(t))) for t in texts]
    assert score.overlap(arrays[0], arrays[1]).containment > 0.9
    offsets = np.zeros(4, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    batch = ShingleBatch(values=np.concatenate(arrays), offsets=offsets,
                         n_tokens=np.zeros(3, dtype=np.int64))
    pairs = np.array([[0, 1], [1, 0], [0, 2]], dtype=np.int64)
    cfg = newsdedup.Config()
    n_words = [len(t.split()) for t in texts]
    for shingles in (arrays, Permuted(batch, np.arange(3, dtype=np.int64))):
        kept = score._vocabulary_pass(pairs, table, None, shingles, n_words, cfg)
        assert kept.tolist() == [True, True, False]
    # a pair too short or too long for a rewrite is left to the judge
    short = [n_words[0], n_words[1], cfg.min_rewrite_words - 1]
    assert score._vocabulary_pass(pairs, table, None, arrays, short, cfg).tolist() == [
        True, True, True]
    assert score._vocabulary_pass(pairs[2:], table, None, arrays, n_words,
                                  newsdedup.Config(max_rewrite_words=900)).tolist() == [True]
    # a document outside the table is kept
    assert score._vocabulary_pass(np.array([[0, 5]]), table, None, arrays + [arrays[2]] * 3,
                                  n_words + [n_words[2]] * 3, cfg).tolist() == [True]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("native", [True, False])
def test_term_table_equals_content_terms(
    workers: int, native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row by row the table holds ``content_terms`` (same terms, weights, order
    and keys), capped as ``capped`` caps them; its key-hash sets are
    ``key_hashes`` of ``capped_keys``, and its key-Jaccard prefilter decides as
    ``_set_jaccard`` does (with the compiled kernel and without)."""
    import random

    import numpy as np

    from newsdedup import _native, score
    from newsdedup.rewrite import (
        capped,
        capped_keys,
        caps_from_df,
        content_terms,
        key_hashes,
    )

    if not native:
        monkeypatch.setattr(_native, "available", lambda: False)
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:2100]
    texts = [r["text"] for r in recs] + ["", "a b", "The the and of", "Zyx Qwv 12 Zyx"]
    docs = np.arange(1, len(texts), 2, dtype=np.int64)  # every other document
    table = score.TermTable.build(texts, docs, workers)
    assert table.capped(0, None) is None
    df: dict[str, int] = {}
    for i in docs.tolist():
        terms, keys = content_terms(texts[i])
        got = table.capped(i, None)
        assert got is not None
        assert list(got[0].items()) == list(terms.items())
        assert got[1] == keys
        for t in terms:
            df[t] = df.get(t, 0) + 1
    assert table.document_frequencies() == df
    assert list(table.document_frequencies()) == list(df)  # first-seen order
    caps = caps_from_df(df, len(docs))
    assert caps is not None
    cap = table.cap_array(caps)
    offsets, vals = table.capped_keys(cap)
    keysets = []
    for r, i in enumerate(docs.tolist()):
        want = capped(*content_terms(texts[i]), caps)
        got = table.capped(i, cap)
        assert got is not None
        assert list(got[0].items()) == list(want[0].items())
        assert got[1] == want[1]
        row_keys = [table.vocab[g] for g in vals[offsets[r]:offsets[r + 1]].tolist()]
        assert sorted(row_keys) == sorted(want[1]) and len(set(row_keys)) == len(row_keys)
        keysets.append(capped_keys(content_terms(texts[i])[1], caps))
    rows = np.flatnonzero(np.diff(offsets) >= 1)
    for r, h in zip(rows.tolist(), table.key_hash_sets(offsets, vals, rows), strict=True):
        assert np.array_equal(h, key_hashes(keysets[r]))
    rnd = random.Random(5)
    n = len(docs)
    pairs = [(rnd.randrange(n), rnd.randrange(n)) for _ in range(3000)]
    pairs += [(r, r) for r in range(n)] + [(0, n - 1), (n - 1, n - 2)]
    doc_pairs = docs[np.array(pairs, dtype=np.int64)]
    kept = score._key_jaccard_pass(doc_pairs, table, offsets, vals)
    want_kept = [score._set_jaccard(keysets[a], keysets[b]) >= score.PREFILTER_KEY_JACCARD
                 for a, b in pairs]
    # the vocabulary pass's weighted Jaccards: the term rows' (capped), up to rounding
    wj = score._pair_weighted_jaccards(doc_pairs, table, cap)
    for (a, b), got_wj in zip(doc_pairs.tolist(), wj.tolist(), strict=True):
        ra, rb = table.capped_row(a, cap), table.capped_row(b, cap)
        assert ra is not None and rb is not None
        assert got_wj == pytest.approx(ra.weighted_jaccard(rb), rel=1e-12, abs=1e-15)
    assert wj.min() < 0.15 < wj.max()
    uncapped = score._pair_weighted_jaccards(doc_pairs, table, None)
    assert (np.abs(uncapped - wj) > 1e-6).sum() > 100  # (the caps change many of them)
    assert kept.tolist() == want_kept
    assert 0 < sum(want_kept) < len(pairs)
    # the pairs split among forked workers (from PARALLEL_KEY_PASS_MIN_PAIRS pairs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(score, "PARALLEL_KEY_PASS_MIN_PAIRS", 10)
        for workers in (2, 3):
            split = score._key_jaccard_pass(doc_pairs, table, offsets, vals, workers)
            assert split.tolist() == want_kept


def _archive_inputs(seed_texts: tuple[str, str], n_filler: int) -> list[dict[str, str]]:
    """The two seeds (only the first signed "Reuter", as a story and a first take
    of it that ends before the sign-off) among ``n_filler`` Reuters-21578 stories."""
    docs = [{"id": "seed-a", "text": seed_texts[0].rstrip() + "\nReuter"},
            {"id": "seed-b", "text": seed_texts[1]}]
    recs = read_jsonl_gz(corpus_path("reuters21578", "reuters21578.jsonl.gz"))
    for r in itertools.islice((r for r in recs if len(r["text"].split()) > 60), n_filler):
        docs.append({"id": f"r{r['id']}", "title": r["title"], "text": r["text"]})
    return docs


def test_an_agency_archive_takes_unmarked_stories_as_the_agencys(
    seed_texts: tuple[str, str],
) -> None:
    from newsdedup import entities

    docs = _archive_inputs(seed_texts, 60)
    assert sum(entities.wire_origin(d["text"]) == "reuters" for d in docs) >= 0.8 * len(docs)
    # Alone, the two seeds are another outlet's rewrite of a Reuters story.
    alone = newsdedup.cluster(docs[:2])
    assert [m.relation for m in alone.pairs] == ["rewrite"]
    # In an input that is mostly Reuters stories, the unmarked one is taken as
    # Reuters' too: same source, so it needs the same-source bar (0.9).
    archive = newsdedup.cluster(docs)
    assert archive.cluster_of("seed-a").id != archive.cluster_of("seed-b").id
    why = archive.explain("seed-a", "seed-b").reason
    assert "mostly of reuters stories" in why and "below 0.9" in why
    # Sources given: they decide, nothing is assumed.
    sourced = newsdedup.cluster([dict(d, source="x" if d["id"] == "seed-b" else "reuters")
                                 for d in docs])
    assert sourced.cluster_of("seed-a").id == sourced.cluster_of("seed-b").id


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_content_term_arrays_equal_content_terms(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``content_term_arrays`` (entries reduced on arrays, ``batch`` texts at a
    time) gives each text's ``content_terms``: the same terms in the same order,
    the same weights and key terms; the vocabulary is every term used, in
    first-seen order."""
    from newsdedup import rewrite

    monkeypatch.setattr(rewrite, "TERM_BATCH_DOCS", batch)
    recs = list(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")))[:60]
    texts = ["", "the and of", "Said says saying SAYS said 12 twelve 12"]
    texts += [r["text"] for r in recs] + ["Zyx Qwv 1,200 Zyx", ""]
    vocab, sizes, ids, weights, key = rewrite.content_term_arrays(iter(texts))
    assert len(sizes) == len(texts) and int(sizes.sum()) == len(ids) == len(weights)
    seen: dict[str, None] = {}
    at = 0
    for text, n in zip(texts, sizes.tolist(), strict=True):
        terms, keys = rewrite.content_terms(text)
        names = [vocab[g] for g in ids[at : at + n].tolist()]
        assert list(zip(names, weights[at : at + n].tolist(), strict=True)) == list(terms.items())
        assert {t for t, k in zip(names, key[at : at + n].tolist(), strict=True) if k} == keys
        seen.update(dict.fromkeys(names))
        at += n
    assert vocab == list(seen)
    assert rewrite.content_term_arrays([])[0] == []


def test_weighted_jaccard_and_figure_share_do_not_depend_on_term_order() -> None:
    # Content terms come in the order of a set of chunks, which changes from
    # process to process with Python's string hashing: with plain sums these
    # gave 0.3, 0.30000000000000004 or 0.3000000000000001 depending on the order.
    import itertools

    from newsdedup.rewrite import figure_share, weighted_jaccard

    a = {"x": 0.1, "y": 0.2, "z": 0.3, "#5": 0.7}
    b = {"x": 0.1, "y": 0.2, "z": 0.3, "w": 0.7}
    jaccards, shares = set(), set()
    for pa in itertools.permutations(a.items()):
        shares.add(figure_share(dict(pa)))
        for pb in itertools.permutations(b.items()):
            jaccards.add(weighted_jaccard(dict(pa), dict(pb)))
    assert jaccards == {0.3}
    assert shares == {0.7 / 1.3}


def test_rewrite_scores_identical_under_other_string_hashing(tmp_path: Path) -> None:
    """The same input gives the same scores and signals to the last bit in two
    processes whose string hashing differs (PYTHONHASHSEED), with the rewrite
    signal on (its content terms come in the order of a set of strings)."""
    import subprocess
    import sys

    rows = list(itertools.islice(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")), 400))
    src = tmp_path / "bbc.jsonl"
    src.write_text("".join(json.dumps({"id": f"b{k:04d}", "title": r.get("title"),
                                       "text": r["text"]}) + "\n" for k, r in enumerate(rows)))
    script = (
        "import json, sys, newsdedup\n"
        "r = newsdedup.cluster(sys.argv[1], rewrite=True, progress=False)\n"
        "print(json.dumps({'pairs': [[m.a, m.b, m.relation, repr(m.score)] for m in r.pairs],"
        " 'signals': sorted([k[0], k[1], json.dumps(v.signals, sort_keys=True, default=repr)]"
        " for k, v in r.verdicts.items())}))\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script, str(src)], env=env,
                              capture_output=True, text=True, check=True)
        outs.append(json.loads(done.stdout))
    assert any(rel == "rewrite" for _a, _b, rel, _s in outs[0]["pairs"])
    assert any("weighted_jaccard" in sig for _a, _b, sig in outs[0]["signals"])
    assert outs[0] == outs[1]
