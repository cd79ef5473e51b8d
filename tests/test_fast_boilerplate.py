"""The fast boilerplate learner and lookup give exactly what the references give.

:func:`newsdedup.boilerplate.learn_from_articles` against
:func:`newsdedup.boilerplate.learn_from_articles_reference` (the same model),
:func:`newsdedup.boilerplate.normalized_lines` against ``normalize`` per line,
and strip()'s learned-line lookup (:func:`newsdedup.strip.rule_pass`, which
skips normalising ASCII lines whose word count no learned line has) against
the reference path (:func:`newsdedup.strip.strip_with_reference`), on the L3S-GN1 pages (with their
sites' learned lines), BBC, Reuters and generated corpora.
"""

from __future__ import annotations

import importlib
import os
import random
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.normalize import normalize
from newsdedup.types import Article

from .conftest import corpus_path, read_jsonl_gz

B = importlib.import_module("newsdedup.boilerplate")
S = importlib.import_module("newsdedup.strip")

_LINE_BITS = st.sampled_from(
    ["Follow us", "follow  US", " Follow us ", "Share `this`", "\tShare 'this'", "Caf\u00e9 news",
     "CAF\u00c9 NEWS", "\u201cQuoted\u201d", "a\u00a0b", "zero\u200bwidth", "", " ", "x\x0by",
     "Stra\u00dfe", "The council approved the budget on Tuesday after a long debate.",
     "the council approved the budget on tuesday after a long debate.",
     "\u00a0", " \u200b ", "\u0130stanbul news", "Cafe\u0301 news"]
)


@given(st.lists(_LINE_BITS, max_size=8), st.sampled_from(["\n", "\r\n", "\r", "\x1c", "\n\n"]))
@settings(max_examples=300, deadline=None)
def test_normalized_lines_equal_normalize_per_line(bits: list[str], sep: str) -> None:
    text = sep.join(bits)
    assert B.normalized_lines(text) == [normalize(x) for x in text.splitlines()]


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_normalized_lines_equal_normalize_per_line_on_any_text(text: str) -> None:
    assert B.normalized_lines(text) == [normalize(x) for x in text.splitlines()]


_ASCII_BITS = st.text(alphabet="aZ `'_9.,\t\x1f\n\r\x0b\x0c\x1c\x1d\x1e", max_size=40)


@given(st.lists(_ASCII_BITS, min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_compiled_ascii_line_hashes_equal_hashes_of_normalized_lines(texts: list[str]) -> None:
    """One compiled pass over ASCII texts gives, per text, the line hash and the
    word count of each distinct non-empty line of ``normalized_lines``."""
    native = importlib.import_module("newsdedup._native")
    if not native.available():
        pytest.skip("numba is not installed (the compiled pass is not used)")
    hashes, words, sizes = native.ascii_line_hashes(texts)
    at = 0
    for text, n in zip(texts, sizes.tolist(), strict=True):
        lines = [x.encode() for x in dict.fromkeys(B.normalized_lines(text)) if x]
        assert hashes[at : at + n].tolist() == native.line_hashes(lines).tolist()
        want = [len(S._WORD.findall(x.decode())) for x in lines]
        assert words[at : at + n].tolist() == want
        at += n
    assert at == len(hashes)


def _same_model(articles: list[Article], forked: bool = False, **kw: object) -> object:
    fast = B.learn_from_articles(articles, **kw)  # type: ignore[arg-type]
    ref = B.learn_from_articles_reference(articles, **kw)  # type: ignore[arg-type]
    assert dict(fast.sources) == dict(ref.sources)
    assert fast.to_json() == ref.to_json()
    native = importlib.import_module("newsdedup._native")
    if native.available():  # and without numba: xxh3 of each line, not the compiled pass
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(native, "available", lambda: False)
            plain = B.learn_from_articles(articles, **kw)  # type: ignore[arg-type]
        assert plain.to_json() == ref.to_json()
    if forked:  # lines read by two forked workers: the same model
        two = B.learn_from_articles(articles, workers=2, **kw)  # type: ignore[arg-type]
        assert two.to_json() == ref.to_json()
    return fast


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.lists(_LINE_BITS, min_size=1, max_size=6),
        ),
        min_size=0, max_size=30,
    ),
    st.integers(min_value=2, max_value=4),
)
@settings(max_examples=200, deadline=None)
def test_learner_equals_reference_on_generated_corpora(
    docs: list[tuple[str | None, list[str]]], min_docs: int
) -> None:
    # ids repeat (every 7th): documents without a source are keyed by id
    arts = [Article(id=f"d{i % 7}", text="\n".join(lines), source=src)
            for i, (src, lines) in enumerate(docs)]
    _same_model(arts, min_docs=min_docs, min_share=0.0, syndication_min_words=2)


def test_learner_equals_reference_on_sites_with_footers() -> None:
    rng = random.Random(3)
    words = ["the", "a", "council", "budget", "vote", "city", "mayor", "said", "on",
             "tuesday", "plan", "tax", "school"]
    footers = ["Follow the Planet on Twitter", "Copyright Planet Media 2024",
               "Read more: local news", "Sign up for our daily newsletter today"]
    arts = []
    for i in range(400):
        src = rng.choice(["planet", "globe", "herald", None])
        story = " ".join(rng.choice(words) for _ in range(rng.randint(4, 30)))
        lines = [story.capitalize() + "."]
        if rng.random() < 0.7:
            lines.append(rng.choice(footers))
        if rng.random() < 0.3:
            lines.append(" ".join(rng.choice(words) for _ in range(12)))
        arts.append(Article(id=f"{i:04d}", text="\n".join(lines), source=src))
    model = _same_model(arts, forked=True)
    assert len(model) > 0  # type: ignore[arg-type]


_POOL = [" ".join(f"w{k}" for k in range(j, j + n)) for j, n in
         enumerate((1, 2, 3, 5, 8, 8, 9, 12, 15, 20, 30, 40))]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.lists(st.tuples(st.sampled_from(_POOL),
                               st.sampled_from([True, True, True, True, False])),
                     min_size=1, max_size=8),
            st.integers(min_value=0, max_value=30),
        ),
        min_size=0, max_size=30,
    ),
    st.integers(min_value=2, max_value=4),
)
@settings(max_examples=200, deadline=None)
def test_learner_equals_reference_when_learned_lines_cover_most_of_documents(
    docs: list[tuple[str | None, list[tuple[str, bool]], int]], min_docs: int
) -> None:
    """Documents made of repeated lines of 1 to 40 words (most of them marked
    with the document's source, so not syndicated) and a line of their own (0 to
    30 words), so the learned lines cover anything from none to all of a
    document's words: the MAX_LEARNED_SHARE check is decided both ways (it
    changes the model in about a fifth of such corpora)."""
    arts = []
    for i, (src, lines, own) in enumerate(docs):
        text = [f"{src} {x}" if mark else x for x, mark in lines]
        text.append(" ".join(f"d{i}x{k}" for k in range(own)))
        arts.append(Article(id=f"d{i}", text="\n".join(text), source=src))
    _same_model(arts, min_docs=min_docs, min_share=0.0, syndication_min_words=2)


def test_learner_equals_reference_on_copies_beside_footers() -> None:
    """Sites whose stories share a footer, and whose copies of one story each carry
    an edited paragraph: the same model, with the footers learned and the copied
    stories' lines not (which they would be without the MAX_LEARNED_SHARE check)."""
    rng = random.Random(5)
    words = ["council", "budget", "river", "storm", "court", "police", "school", "market",
             "strike", "train", "bridge", "harvest", "airport", "union", "league"]

    def para(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."

    arts = []
    for site in ("planet", "globe", "herald"):
        footer = f"Follow the {site} on social media for all the news from the valley"
        for i in range(30):
            arts.append(Article(id=f"{site}-{i}", text=f"{para(rng.randint(5, 60))}\n{footer}",
                                source=site))
        for s in range(3):
            body = [para(25) for _ in range(6)]
            for c in range(4):
                lines = list(body)
                lines[c] += f" Updated with figures number {c} from the {site} desk."
                arts.append(Article(id=f"{site}-s{s}-c{c}", title=f"Story {s} of the {site}",
                                    text="\n".join([*lines, footer]), source=site))
    model = _same_model(arts, forked=True)
    for site in ("planet", "globe", "herald"):
        assert model.sources[site] == {  # type: ignore[attr-defined]
            normalize(f"Follow the {site} on social media for all the news from the valley")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(B, "MAX_LEARNED_SHARE", 1.0)  # no document is covered more than all of it
        unguarded = _same_model(arts)
    assert len(unguarded) > len(model) + 3 * 3 * 4  # type: ignore[arg-type]


def _l3s_articles() -> list[Article]:
    path = corpus_path("l3s-gn1", "l3s-gn1-blocks.jsonl.gz")
    return [Article(id=r["id"], text=r["page_text"], title=r.get("title"), url=r["url"])
            for r in read_jsonl_gz(path)]


@pytest.mark.corpora
def test_learner_equals_reference_on_l3s_pages() -> None:
    model = _same_model(_l3s_articles(), forked=True)
    assert len(model) > 100  # type: ignore[arg-type]


@pytest.mark.corpora
def test_learner_equals_reference_on_bbc_and_reuters() -> None:
    arts = []
    for r in read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz")):
        arts.append(Article(id=r["id"], text=r["text"], title=r["title"], source=r["label"]))
    path = corpus_path("reuters21578", "reuters21578.jsonl.gz")
    for i, r in enumerate(read_jsonl_gz(path)):
        if i == 4000:
            break
        arts.append(Article(id=f"r{r['id']}", text=r["text"], title=r["title"],
                            source=(r.get("dateline") or "x").split(",")[0][:12]))
    _same_model(arts)


BENCH = Path(os.path.expanduser("~/.cache/newsdedup-bench/news-2000-s1.jsonl"))


def test_learner_equals_reference_on_the_speed_corpus(tmp_path: Path) -> None:
    """The speed benchmark's 2,000-article corpus (benchmarks/speed/corpus.py, built
    here from ../shared/corpora when the benchmark has not written it)."""
    import subprocess
    import sys

    from newsdedup.load import iter_articles

    path = BENCH
    if not path.exists():
        corpus_path("bbc-news", "bbc-news.jsonl.gz")  # skips without ../shared/corpora
        script = Path(__file__).resolve().parent.parent / "benchmarks" / "speed" / "corpus.py"
        out = subprocess.run(
            [sys.executable, str(script), "--docs", "2000", "--seed", "1", "--out", str(tmp_path)],
            capture_output=True, text=True, check=True,
        )
        path = Path(out.stdout.strip().splitlines()[-1])
    model = _same_model(list(iter_articles(str(path))), forked=True)
    assert len(model) > 0  # type: ignore[arg-type]


@pytest.mark.corpora
def test_strip_with_learned_lines_equals_reference() -> None:
    arts = _l3s_articles()
    model = B.learn_from_articles(arts)
    docs = [(a.full_text, B.source_of(a)) for a in arts]
    fast = [S.strip(t, source=src, model=model) for t, src in docs]
    ref = [S.strip_with_reference(t, source=src, model=model) for t, src in docs]
    assert fast == ref
    assert sum(r.rule == "learned_boilerplate" for s in fast for r in s.removed) > 100


def test_learned_lookup_of_non_ascii_and_odd_lines() -> None:
    learned = frozenset({"follow us on twitter", "caf\u00e9 news", "share this"})
    model = B.BoilerplateModel(sources={"s": learned})
    lines = ["Headline here", "Intro line", "Third", "Fourth", "FOLLOW  us on Twitter",
             "Caf\u00e9 News", "Cafe\u0301 news", "Share `this`", " share this ",
             "share\u00a0this", "The council approved the budget on Tuesday after a debate."]
    text = "\n".join(lines)
    fast = S.strip(text, source="s", model=model)
    ref = S.strip_with_reference(text, source="s", model=model)
    assert fast == ref
    assert sum(r.rule == "learned_boilerplate" for r in fast.removed) >= 4


def test_a_text_repeated_in_a_chunk_is_stripped_per_source() -> None:
    # prepare_chunk strips a repeated text once per set of learned lines: the
    # copies from a source that learned "serving the valley since 1887" lose that line,
    # those from another source keep it, exactly as stripping each alone.
    from newsdedup.chunks import prepare_chunk
    from newsdedup.config import Config

    learned = frozenset({"serving the valley since 1887"})
    model = B.BoilerplateModel(sources={"learned.example": learned})
    text = ("The council approved the new budget on Tuesday after a long debate about "
            "funding for schools, roads and the public library system.\n"
            "Serving the valley since 1887")
    sources = ["learned.example", "other.example", "learned.example", None, "other.example"]
    records = [(f"d{k}", None, text, src) for k, src in enumerate(sources)]
    state = prepare_chunk(records, Config(), None, model)
    alone = [S.strip(text, source=src, model=model) for src in sources]
    assert state.removed.tuples() == [s.removed for s in alone]
    assert [len(r) for r in state.removed.tuples()] == [1, 0, 1, 0, 0]
    assert state.texts == [s.text for s in alone]


@pytest.mark.parametrize("papers", [9, 10, 11])  # 45, 50, 55 documents with the footer
def test_fast_and_reference_agree_about_a_network_footer(papers: int) -> None:
    # SYNDICATION_MAX_DOCS: a long line in several sources is kept as syndication
    # below 50 documents and learned from 50 on, the same way on both paths.
    rng = random.Random(11)
    words = ["river", "council", "budget", "school", "road", "mayor", "vote", "bridge",
             "park", "water"]
    footer = ("This story comes from the regional network of local papers that share "
              "their reporting and photographs every day across the valley.")
    arts = [Article(id=f"n{k}-{i}", source=f"paper{k}",
                    text=" ".join(rng.choice(words) for _ in range(40)) + ".\n" + footer)
            for k in range(papers) for i in range(5)]
    model = _same_model(arts)
    learned = model.lines_for("paper0") or frozenset()  # type: ignore[attr-defined]
    assert (normalize(footer) in learned) == (papers * 5 >= B.SYNDICATION_MAX_DOCS)


def test_learning_in_workers_loads_the_kernels_here_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """With forked workers, learning loads the compiled kernels in this process
    before forking them, so the workers inherit them (and so does preparation,
    which loads them here anyway before forking its own workers)."""
    chunks = importlib.import_module("newsdedup.chunks")
    forked = importlib.import_module("newsdedup.forked")
    order: list[str] = []
    real_init, real_map = chunks._init_worker, forked.fork_map
    monkeypatch.setattr(chunks, "_init_worker", lambda: (order.append("load"), real_init()))
    monkeypatch.setattr(forked, "fork_map", lambda *a, **k: (order.append("fork"),
                                                             real_map(*a, **k))[1])
    arts = [Article(id=f"d{i}", source="s", text=f"Story {i} here.\nFollow us") for i in range(40)]
    B.learn_from_articles(arts, workers=2)
    assert order[0] == "load" and order.count("load") == 1 and "fork" in order
    order.clear()
    B.learn_from_articles(arts, workers=1)
    assert "load" not in order  # one process: nothing to load ahead


def _footer_sites(n: int) -> list[Article]:
    rng = random.Random(8)
    words = ["the", "a", "council", "budget", "vote", "city", "mayor", "said", "on", "tax"]
    footers = ["Follow the Planet on Twitter", "Copyright Planet Media 2024",
               "Read more: local news", "Caf\u00e9 \u201cdeals\u201d of the week"]
    return [Article(id=f"{i:04d}", source=rng.choice(["planet", "globe", "herald"]),
                    text=" ".join(rng.choice(words) for _ in range(20)).capitalize() + ".\n"
                    + rng.choice(footers))
            for i in range(n)]


def _read_ahead(arts: list[Article], block: int, at_once: int,
                monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """Articles appended one by one as a reader does, lines hashed ahead."""
    monkeypatch.setattr(B, "LEARN_BLOCK_DOCS", block)
    monkeypatch.setattr(B, "AHEAD_AT_ONCE", at_once)
    pending: list[Article] = []
    ahead = B.LineHashesAhead(pending, 2)
    try:
        for a in arts:
            pending.append(a)
            if len(pending) >= ahead.next_at:
                ahead.step()
        return ahead, ahead.parts()
    finally:
        ahead.close()


def test_read_ahead_blocks_grow_with_the_input(monkeypatch: pytest.MonkeyPatch) -> None:
    # blocks of LEARN_BLOCK_DOCS, then of an eighth of the articles handed out
    # before: one after the other, every article handed once
    forked = importlib.import_module("newsdedup.forked")
    monkeypatch.setattr(B, "LEARN_BLOCK_DOCS", 10)
    monkeypatch.setattr(forked, "fork_available", lambda: True)
    pending: list[Article] = []
    ahead = B.LineHashesAhead(pending, 2)
    handed: list[tuple[int, int]] = []

    def start(lo: int, hi: int) -> None:  # (no child: the blocks only)
        handed.append((lo, hi))
        ahead._handed = hi  # type: ignore[attr-defined]

    monkeypatch.setattr(ahead, "_start", start)
    for i in range(3000):
        pending.append(Article(id=str(i), source="s", text="x"))
        ahead.step()
    sizes = [hi - lo for lo, hi in handed]
    assert [lo for lo, _ in handed] == [0, *[hi for _, hi in handed[:-1]]]
    assert sizes == [max(10, lo // B.AHEAD_GROWTH) for lo, _ in handed]
    assert sizes[:9] == [10] * 9 and sizes[-1] > 300 and handed[-1][1] > 2600


def test_read_ahead_hashes_the_rest_before_waiting_for_its_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # parts(): the articles no child took are hashed while the children still
    # busy finish (then a core is not left idle waiting for the last one)
    calls: list[str] = []
    real_parts, real_collect = B._line_hash_parts, B.LineHashesAhead._collect
    monkeypatch.setattr(B, "_line_hash_parts", lambda *a, **k: (calls.append("rest"),
                                                                real_parts(*a, **k))[1])
    monkeypatch.setattr(B.LineHashesAhead, "_collect", lambda self, wait: (
        calls.append(f"collect wait={wait}"), real_collect(self, wait))[1])
    arts = _footer_sites(300)
    _ahead, parts = _read_ahead(arts, 50, 2, monkeypatch)
    assert parts is not None and sum(len(p[2]) for p in parts) == len(arts)
    assert calls.index("rest") < calls.index("collect wait=True")


@pytest.mark.parametrize(("block", "at_once"), [(7, 1), (50, 2), (333, 2)])
def test_line_hashes_read_ahead_give_the_same_model(
    block: int, at_once: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # blocks hashed by children forked while articles were still coming in,
    # the rest by the usual workers: the same hashes in the same order
    arts = _footer_sites(3000)
    ahead, parts = _read_ahead(arts, block, at_once, monkeypatch)
    assert parts is not None
    assert ahead._handed >= block  # type: ignore[attr-defined]
    # blocks of `block` articles, then of an eighth of those handed out before
    sizes = [len(p[2]) for p in parts]
    want, at = [], 0  # (the parts after them: the rest, hashed at the end)
    while at < ahead._handed:  # type: ignore[attr-defined]
        want.append(max(block, at // B.AHEAD_GROWTH))
        at += want[-1]
    assert sizes[: len(want)] == want and sum(sizes) == len(arts)
    whole = B._line_hashes(arts, (0, len(arts)))
    got = [np.concatenate([p[k] for p in parts]) for k in range(3)]
    assert np.array_equal(got[2], whole[2])  # lines per article
    doc = np.repeat(np.arange(len(arts)), whole[2])
    # each article's (hash, words) alike (within an article their order is not used)
    for (h, w), (h2, w2) in [((got[0], got[1]), (whole[0], whole[1]))]:
        a, b = np.lexsort((h, doc)), np.lexsort((h2, doc))
        assert np.array_equal(h[a], h2[b]) and np.array_equal(w[a], w2[b])
    model = B.learn_from_articles(arts, line_parts=parts)
    assert model.to_json() == B.learn_from_articles(arts, workers=1).to_json()
    assert len(model) > 0


def test_line_hashes_ahead_do_nothing_for_a_small_input(monkeypatch: pytest.MonkeyPatch) -> None:
    ahead, parts = _read_ahead(_footer_sites(30), 50, 2, monkeypatch)
    assert parts is None and ahead._handed == 0  # type: ignore[attr-defined]


def test_line_hashes_ahead_do_nothing_without_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    # learning needs sources: without any in the first block, no child is started
    arts = [Article(id=a.id, text=a.text) for a in _footer_sites(300)]
    ahead, parts = _read_ahead(arts, 50, 2, monkeypatch)
    assert parts is None and ahead._handed == 0  # type: ignore[attr-defined]


def test_a_read_ahead_child_that_dies_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    errors = importlib.import_module("newsdedup.errors")
    real = B._line_hashes

    def dies_on_the_first_block(arts: list[Article], bounds: tuple[int, int]) -> object:
        if bounds[0] == 0:
            os._exit(3)
        return real(arts, bounds)

    monkeypatch.setattr(B, "_line_hashes", dies_on_the_first_block)
    with pytest.raises(errors.WorkerError, match=r"articles 0 on; .*code 3"):
        _read_ahead(_footer_sites(1000), 100, 1, monkeypatch)


def test_closing_stops_the_read_ahead_children(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(B, "LEARN_BLOCK_DOCS", 100)
    monkeypatch.setattr(B, "_line_hashes", lambda arts, bounds: time.sleep(60))
    pending: list[Article] = []
    ahead = B.LineHashesAhead(pending, 2)
    pending += _footer_sites(250)
    ahead.step()
    ahead.step()
    procs = [p for _lo, p, _c in ahead._running]  # type: ignore[attr-defined]
    assert len(procs) == 2 and all(p.is_alive() for p in procs)
    ahead.close()
    assert not any(p.is_alive() for p in procs)
    assert [p.exitcode for p in procs] == [-signal.SIGTERM] * 2  # stopped, not waited for


def test_read_ahead_hashes_are_not_kept_after_learning(monkeypatch: pytest.MonkeyPatch) -> None:
    # the caller keeps its LineHashesAhead until the run ends: the hashes it
    # handed over (hundreds of MB at a million articles) must not stay with it
    ahead, parts = _read_ahead(_footer_sites(500), 100, 2, monkeypatch)
    assert parts and ahead._parts == []  # type: ignore[attr-defined]
