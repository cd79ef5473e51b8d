"""The fast stripping path gives exactly what the reference path gives.

The fast path, :func:`newsdedup.strip.strip_with`: per-line counts (tokens,
stopwords, the feature regexes) in one compiled pass, the feature matrix
filled in place (:func:`newsdedup.strip.base_features_fast`), a cache of the
rules that apply to a line's word count (:func:`newsdedup.strip.match_rule`).
The reference: :func:`newsdedup.strip.strip_with_reference` (with
:func:`newsdedup.strip.base_features` and :func:`newsdedup.strip.match_rule_reference`).
Compared on the seeds, BBC articles, L3S-GN1 page texts and Reuters-21578
(corpus tests skip with the reason when ../shared/corpora is absent): the
feature matrices bit for bit, and strip()'s text and removals.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup import _native

from .conftest import SEED_000, SEED_001, corpus_path, read_jsonl_gz

S = importlib.import_module("newsdedup.strip")

needs_native = pytest.mark.skipif(not _native.available(), reason="numba is not installed")

_REGEXES = ("_ALPHA_WORD", "_CAP_WORD", "_UPPER_WORD", "_DIGIT", "_SEPS")


def _ref_counts(line: str) -> list[int]:
    """What _native.line_counts computes, in plain Python (strip's own expressions)."""
    toks = S._WORD.findall(line)
    stop = S.STOPWORDS["en"]
    x = line.strip()
    f = x[:1]
    flags = [
        S._END_PUNCT.search(line) is not None, S._LIST_ITEM.match(line) is not None,
        S._URLISH.search(line) is not None, line.count(","), len(line), x.endswith(":"),
        x.endswith(("...", "\u2026")), f.islower(),
        bool(f) and not f.isalnum() and f not in "\"'\u201c\u2018([",
        f in "\"'\u201c\u2018" or '"' in line or "\u201c" in line,
    ]
    return [len(getattr(S, name).findall(line)) for name in _REGEXES] + [
        sum(map(len, toks)), len(toks), sum(t.lower() in stop for t in toks)
    ] + [int(v) for v in flags]


# Characters at the edges of the regexes' classes: sentence ends and closing
# quotes, list bullets, URL and quote characters, capitals and the non-word
# multiplication sign inside [A-Z\u00c0-\u00de], digits of other scripts,
# underscore, separators, white space of several kinds.
_TRICKY = (
    ".!?)]\u201d\u2019\u2026*\u25aa\u2013@(["
    "theofTHEaZzAB\u00c0\u00d7\u00de\u00df\u00e9_09\u0663 \t\u00a0\u3000"
    "|\u00bb\u203a\u2022\u00b7>:.,-'\"\u201c\u212a\U0001d400"
)


@needs_native
@given(st.lists(st.text(alphabet=_TRICKY, max_size=14), min_size=1, max_size=6))
@settings(max_examples=400, deadline=None)
def test_line_counts_equal_the_regexes_on_tricky_text(lines: list[str]) -> None:
    got = _native.line_counts(lines, S.STOPWORDS["en"])
    assert got.tolist() == [_ref_counts(s) for s in lines]


@needs_native
@given(st.lists(st.text(max_size=40), min_size=1, max_size=4))
@settings(max_examples=200, deadline=None)
def test_line_counts_equal_the_regexes_on_any_text(lines: list[str]) -> None:
    lines = ["".join(s.splitlines()) for s in lines]
    got = _native.line_counts(lines, S.STOPWORDS["en"])
    assert got.tolist() == [_ref_counts(s) for s in lines]


_WORDS = st.sampled_from(
    ["http://x", "https://", "www.a", "a.com", "b.co.uk", ".comb", "@x", "1.", "12)", "123.",
     "- ", "...", "the", "THE", "The", "li\u212ae", "LIKE", "themselves", "\u0130t", "it",
     "a_b", "a1",
     "caf\u00e9", "yourselves", "x", "OF", "of\u00df", "\u212a"]
)


@needs_native
@given(st.lists(st.lists(_WORDS, max_size=8), min_size=1, max_size=4),
       st.sampled_from([" ", "-", ", ", "\u00a0"]))
@settings(max_examples=300, deadline=None)
def test_line_counts_count_stopwords_like_lower_and_the_set(
    words: list[list[str]], sep: str
) -> None:
    lines = [sep.join(w) for w in words]
    got = _native.line_counts(lines, S.STOPWORDS["en"])
    assert got.tolist() == [_ref_counts(s) for s in lines]


def _seed_texts() -> Iterator[tuple[str, str | None]]:
    for path in (SEED_000, SEED_001):
        yield path.read_text(encoding="utf-8"), None


def _bbc(limit: int) -> Iterator[tuple[str, str | None]]:
    for i, r in enumerate(read_jsonl_gz(corpus_path("bbc-news", "bbc-news.jsonl.gz"))):
        if i == limit:
            return
        yield f"{r['title']}\n{r['text']}", r["title"]


def _l3s(limit: int) -> Iterator[tuple[str, str | None]]:
    path = corpus_path("l3s-gn1", "l3s-gn1-blocks.jsonl.gz")
    for i, r in enumerate(read_jsonl_gz(path)):
        if i == limit:
            return
        yield r["page_text"], None
        yield "\n".join(b[1].strip() for b in r["blocks"] if b[1].strip()), r.get("title")
        yield r["text"], r.get("title")


def _reuters(limit: int) -> Iterator[tuple[str, str | None]]:
    path = corpus_path("reuters21578", "reuters21578.jsonl.gz")
    for i, r in enumerate(read_jsonl_gz(path)):
        if i == limit:
            return
        yield f"{r['title']}\n{r['text']}", r["title"]


class _Capture:
    """Records the arguments of every call made through it."""

    def __init__(self, fn: Any):
        self.fn = fn
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kw: Any) -> np.ndarray:
        self.calls.append((args, kw))
        return self.fn(*args, **kw)  # type: ignore[no-any-return]


def _assert_fast_equals_reference(
    docs: Iterator[tuple[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> int:
    texts = list(docs)
    assert texts
    with monkeypatch.context() as m:
        cap = _Capture(S.base_features_batch)
        m.setattr(S, "base_features_batch", cap)
        fast = [S.strip_with(t, title=title) for t, title in texts]
        # all at once: the per-line counts and the classifier's features and
        # scores of every text computed together give each text's own result
        together = S.strip_many([(t, None, title) for t, title in texts])
    ref = [S.strip_with_reference(t, title=title) for t, title in texts]
    assert fast == ref
    assert together == ref
    assert S.strip_with is not S.strip_with_reference
    # the matrices themselves, bit for bit (not only the decisions drawn from them),
    # one text at a time and in the batch
    stop = S.STOPWORDS["en"]
    calls = 0
    for (items,), _kw in cap.calls:
        rows, starts = S.base_features_batch(items)
        for (lines, hits, counts), lo, hi in zip(items, starts[:-1], starts[1:], strict=True):
            a = S.base_features(lines, hits, stop)
            assert a.shape == rows[lo:hi].shape
            assert np.array_equal(a, rows[lo:hi])
            assert np.array_equal(a, S.base_features_fast(lines, hits, stop, counts=counts))
            calls += 1
    return calls


def test_seeds_fast_path_equals_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_fast_equals_reference(_seed_texts(), monkeypatch)


@pytest.mark.parametrize("cache_max", [100_000, 3])
def test_synthetic_pages_fast_path_equals_reference(
    cache_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pages repeat their widget lines: the rule pass's per-line caches are
    # hit, and with room for 3 lines they are also emptied again and again
    monkeypatch.setattr(S, "LINE_CACHE_MAX", cache_max)
    S._LINE_CACHES.clear()
    rng = random.Random(6)
    widgets = ["Share this", "READ MORE: other story", "Home | News | World", "By John Smith",
               "Follow us on Twitter", "Photo: AP", "\u00a9 2024 Daily Planet", "ADVERTISEMENT",
               "TAGS: politics", "12 comments", "We use cookies on this website", "UK \u00d7 EU"]
    para = ("The council approved the budget on Tuesday after a debate that lasted most "
            "of the evening, the mayor said.")
    pages = []
    for _ in range(60):
        lines = [
            rng.choice(widgets) if rng.random() < 0.4 else para
            for _ in range(rng.randint(1, 14))
        ]
        pages.append(("\n".join(lines), None))
    assert _assert_fast_equals_reference(iter(pages), monkeypatch) > 10


@pytest.mark.corpora
def test_bbc_fast_path_equals_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _assert_fast_equals_reference(_bbc(800), monkeypatch) > 0


@pytest.mark.corpora
def test_l3s_page_texts_fast_path_equals_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _assert_fast_equals_reference(_l3s(250), monkeypatch) > 100


@pytest.mark.corpora
def test_reuters_fast_path_equals_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_fast_equals_reference(_reuters(1500), monkeypatch)


def test_rules_for_is_one_tuple_per_language() -> None:
    assert S.rules_for("en") is S.rules_for("en")
    assert S.rules_for("en") == S.RULES["en"] + S.RULES["*"]


@given(st.text(max_size=60), st.integers(min_value=0, max_value=80))
@settings(max_examples=300, deadline=None)
def test_match_rule_equals_reference(line: str, n_words: int) -> None:
    rules = S.rules_for("en")
    assert S.match_rule(line, rules, n_words) == S.match_rule_reference(line, rules, n_words)


_RULE_BITS = st.sampled_from(
    ["We use cookies", "WE USE COOKIES", "we use cookie", "cookie policy", "COOKIE SETTINGS",
     "By continuing to use this site, you agree", "by using our website you accept",
     "This website uses cookies", "accept all cookies", "co\u212akie policy", "coo\u212aies",
     "WASHINGTON (AP) \u2014 ", "LONDON (Reuters) - ", "(AFP) -", "(ap)", "(AP)",
     "Home | News | World",
     "Home \u00bb News \u00bb World", "a > b > c", "x :: y :: z", "Share this", "READ MORE:",
     "The council approved the budget.", " ", "\u00e9", "Cookies", "by"]
)


@given(st.lists(_RULE_BITS, min_size=1, max_size=5), st.integers(min_value=0, max_value=70))
@settings(max_examples=500, deadline=None)
def test_match_rule_prefilters_equal_reference(bits: list[str], n_words: int) -> None:
    line = " ".join(bits)
    rules = S.rules_for("en")
    assert S.match_rule(line, rules, n_words) == S.match_rule_reference(line, rules, n_words)


def test_needles_name_existing_rules() -> None:
    names = {r.name for r in S.rules_for("en")}
    assert set(S._NEEDLES) <= names


@pytest.mark.corpora
def test_match_rule_equals_reference_on_corpus_lines() -> None:
    rules = S.rules_for("en")
    lines = [
        x for text, _ in [*_l3s(250), *_bbc(300), *_reuters(300)]
        for x in text.splitlines() if x.strip()
    ]
    hits = 0
    for x in lines:
        n = len(S._WORD.findall(x))
        got = S.match_rule(x, rules, n)
        assert got == S.match_rule_reference(x, rules, n)
        hits += got is not None
    assert hits > 50


def test_classifier_scores_of_a_batch_equal_one_text_at_a_time() -> None:
    """The line classifier's scores of texts batched together are, bit for bit,
    each text's own (rows summed one by one, neighbours taken inside a text)."""
    lm = S.line_model()
    assert lm is not None
    stop = S.STOPWORDS["en"]
    rng = random.Random(4)
    items = []
    for _ in range(40):
        lines = [rng.choice(["Share this", "Home | News", "ADVERTISEMENT", "By Jo Lee",
                             "The council approved the budget on Tuesday after a long debate, "
                             "the mayor said in a statement."]) for _ in range(rng.randint(0, 12))]
        hits = [rng.choice([None, None, "related_link", "byline"]) for _ in lines]
        counts = _native.line_counts(lines, stop) if lines else np.zeros((0, 18), dtype=np.int64)
        items.append((lines, hits, counts))
    rows, starts = S.base_features_batch(items)
    together = lm.scores(rows, starts)
    assert len(together) == sum(len(i[0]) for i in items) > 100
    assert np.array_equal(lm.scores_compiled(rows, starts), together)
    for item, lo, hi in zip(items, starts[:-1], starts[1:], strict=True):
        alone = lm.scores(S.base_features_batch([item])[0])
        assert np.array_equal(alone, together[lo:hi])
        if item[0]:  # (the reference does not take a text without lines)
            assert np.array_equal(rows[lo:hi], S.base_features(item[0], item[1], stop))


@needs_native
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=128),
       st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_compiled_row_sum_is_numpys_to_the_last_bit(values: list[float], scale: int) -> None:
    # the line model's weighted sums: numpy's pairwise summation, replicated
    row = np.asarray(values, dtype=np.float64) * 10.0 ** (-3 * scale)
    k = _native.kernels()
    ones = np.ones(len(row))
    z = k["line_model_stage1"](row.reshape(1, -1), np.zeros(len(row)), ones, ones, 0.0)
    assert z[0] == row.sum()


@needs_native
@given(st.lists(st.integers(0, 9), min_size=1, max_size=8), st.integers(0, 2**32 - 1))
@settings(max_examples=100, deadline=None)
def test_compiled_line_scores_equal_numpys(sizes: list[int], seed: int) -> None:
    # random feature rows (a wide range of magnitudes) in texts of 0-9 lines
    lm = S.line_model()
    assert lm is not None
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    base = rng.normal(lm.mean1, lm.scale1 * rng.uniform(0.1, 10), size=(n, len(lm.mean1)))
    base[rng.random(base.shape) < 0.3] = 0.0
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    assert np.array_equal(lm.scores_compiled(base, starts), lm.scores(base, starts))


_FEATURE_LINES = st.sampled_from([
    "Share this", "share this ", "Home | News | Sport", "ADVERTISEMENT", "By Jo Lee",
    "1. First item", "- a bullet point here", "Read more: https://example.com/x",
    "The council approved the budget on Tuesday after a long debate, the mayor said.",
    "Prices rose 4.5% to $12.30 in 2024, the highest since 1999.",
    "\u201cWe will win,\u201d she said.",
    "BREAKING NEWS: MARKETS FALL", "Contact: press@example.org", "Photo: AP ...",
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief.",
])


@needs_native
@given(st.lists(st.lists(st.tuples(_FEATURE_LINES, st.sampled_from(
    [None, None, None, "related_link", "byline", "share_widget"])), max_size=14),
    min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_batch_feature_rows_equal_reference(texts: list[list[tuple[str, str | None]]]) -> None:
    # the compiled rows (every column, good-line spans and distances, neighbours,
    # the words around, duplicates) equal base_features' numpy values, text by text
    stop = S.STOPWORDS["en"]
    items = []
    for text in texts:
        lines = [x for x, _ in text]
        counts = _native.line_counts(lines, stop) if lines else np.zeros((0, 18), np.int64)
        items.append((lines, [h for _, h in text], counts))
    rows, starts = S.base_features_batch(items)
    for (lines, hits, _c), lo, hi in zip(items, starts[:-1], starts[1:], strict=True):
        if lines:
            assert np.array_equal(rows[lo:hi], S.base_features(lines, hits, stop))


@pytest.mark.corpora
@needs_native
def test_batch_feature_rows_equal_reference_on_corpus_texts() -> None:
    stop = S.STOPWORDS["en"]
    items = []
    for text, _ in [*_l3s(150), *_bbc(100), *_reuters(100)]:
        lines = [x for x in text.splitlines() if x.strip()]
        if lines:
            items.append((lines, [None] * len(lines), _native.line_counts(lines, stop)))
    rows, starts = S.base_features_batch(items)
    assert len(rows) > 3000
    for (lines, hits, _c), lo, hi in zip(items, starts[:-1], starts[1:], strict=True):
        assert np.array_equal(rows[lo:hi], S.base_features(lines, hits, stop))


@pytest.mark.corpora
@needs_native
def test_compiled_line_scores_equal_numpys_on_corpus_texts() -> None:
    lm = S.line_model()
    assert lm is not None
    stop = S.STOPWORDS["en"]
    items = []
    for text, _ in [*_l3s(120), *_bbc(120)]:
        lines = [x for x in text.splitlines() if x.strip()]
        if lines:
            items.append((lines, [None] * len(lines), _native.line_counts(lines, stop)))
    rows, starts = S.base_features_batch(items)
    assert len(rows) > 2000
    assert np.array_equal(lm.scores_compiled(rows, starts), lm.scores(rows, starts))


def test_starts_name_existing_rules_and_fit_the_head() -> None:
    names = {r.name for r in S.rules_for("en")}
    assert set(S._STARTS) <= names
    for starts in S._STARTS.values():
        assert all(x == x.lower() and 0 < len(x) <= S._HEAD for x in starts)


_ASCII = st.characters(max_codepoint=127)


@pytest.mark.parametrize("name", sorted(S._STARTS))
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_lines_a_rule_matches_start_with_its_starts(name: str, data: st.DataObject) -> None:
    """Every ASCII line that a rule's pattern matches (generated from the pattern)
    starts, after white space and lower-cased, with one of the rule's
    :data:`_STARTS`, so skipping the rule on other lines loses no match; and
    match_rule decides such lines as the reference does."""
    rule = next(r for r in S.rules_for("en") if r.name == name)
    line = data.draw(st.from_regex(rule.pattern, alphabet=_ASCII))
    assert rule.pattern.search(line)
    assert line.lstrip()[: S._HEAD].lower().startswith(S._STARTS[name])
    rules = S.rules_for("en")
    n = len(S._WORD.findall(line))
    assert S.match_rule(line, rules, n) == S.match_rule_reference(line, rules, n)


_LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\n \n", "\n\t\u00a0\n", "\x0b", "\x0c",
                              "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\n\r\n"])


def test_line_break_tables_are_those_of_splitlines() -> None:
    # _nonempty_lines splits at "\n" alone when none of the other characters
    # str.splitlines breaks at is in the text: they must be all of them
    breaks = {c for c in map(chr, range(0x110000)) if len(f"a{c}b".splitlines()) == 2}
    assert breaks == {"\n", *S._ASCII_BREAKS, *S._WIDE_BREAKS}
    assert all(b.isascii() for b in S._ASCII_BREAKS)
    assert not any(b.isascii() for b in S._WIDE_BREAKS)
_LINE_BODIES = st.sampled_from([
    "", " ", "  \t", "Share this", "READ MORE: other story  ", "By John Smith\x0c",
    "The council approved the budget on Tuesday after a debate that lasted most of the "
    "evening, the mayor said.", " Photo: AP ", "(Reuters) - Shares rose on Tuesday after "
    "the bank said its profit would rise.", "\u00a9 2024 Daily Planet\u3000",
])


@given(st.lists(st.tuples(_LINE_BODIES, _LINE_ENDS), min_size=1, max_size=12), st.booleans())
@settings(max_examples=300, deadline=None)
def test_blank_lines_and_line_ends_fast_path_equals_reference(
    parts: list[tuple[str, str]], last_end: bool
) -> None:
    # the fast path keeps only the lines that are not blank, and where blank
    # lines stood between them: the same lines, offsets and blank-line separators
    text = "".join(body + end for body, end in parts)
    if not last_end:
        text = text[: len(text) - len(parts[-1][1])]
    lines = S._lines_with_offsets(text)
    nonempty, gaps = S._nonempty_lines(text)
    assert nonempty == [ln for ln in lines if ln.text.strip()]
    blank_before = []
    gap = False
    for ln in lines:
        if ln.text.strip():
            blank_before.append(gap)
            gap = False
        else:
            gap = True
    assert gaps == blank_before
    assert S.strip_many([(text, None, None)]) == [S.strip_with_reference(text)]


def _gate_reference(line: str, rules: tuple[Any, ...]) -> bool:
    """What the compiled rule gate computes, from strip's tables in plain Python."""
    if not line.isascii():
        return True
    head = line.lstrip()[: S._HEAD].lower()
    for r in rules:
        starts = S._STARTS.get(r.name)
        words, folded = S._NEEDLES.get(r.name, (None, False))
        if starts is not None:
            if head.startswith(starts):
                return True
        else:
            assert words is not None
            if any(w in (line.lower() if folded else line) for w in words):
                return True
    return False


_GATE_BITS = st.sampled_from(
    ["(", "|", ">", ":", "::", "cookie", "COOKIE", "CoOkIes", "by using", "By Continuing",
     "by", " ", "\t", "\u00a0", "\u00bb", "read more", "READ", "Share", "photo", "\u00a9",
     "the", "council", "A", "z", "1", "-", "\u212a", "\u0130", "e-mail", "tags:", "x" * 17]
)


@needs_native
@given(st.lists(_GATE_BITS, max_size=8))
@settings(max_examples=400, deadline=None)
def test_rule_gate_equals_its_reference(bits: list[str]) -> None:
    rules = S.rules_for("en")
    line = "".join(bits)
    counts, gate = _native.line_counts_gated([line, "plain words here"], frozenset(),
                                              S._gate_tables(rules))
    assert gate is not None
    assert bool(gate[0]) == _gate_reference(line, rules)
    assert not gate[1]
    if not gate[0]:  # a line the gate passes over matches no rule, whatever its length
        for n_words in (0, 3, 12, 80):
            assert S.match_rule(line, rules, n_words) is None


@needs_native
def test_rule_gate_on_corpus_lines() -> None:
    rules = S.rules_for("en")
    lines = [ln.text for text, _title in _seed_texts()
             for ln in S._nonempty_lines(text)[0]]
    lines += ["Follow us on Twitter", "(Reuters) - Shares rose.", "Home | News", "x"]
    _counts, gate = _native.line_counts_gated(lines, frozenset(), S._gate_tables(rules))
    assert gate is not None
    assert [bool(g) for g in gate] == [_gate_reference(x, rules) for x in lines]
    assert gate.sum() >= 3


_WIDE = ("The council approved the budget on Tuesday after a long debate, the mayor of "
         "the city said in a statement.")


@given(st.lists(st.tuples(st.integers(min_value=5, max_value=len(_WIDE)),
                          st.integers(min_value=0, max_value=12)), min_size=4, max_size=10))
@settings(max_examples=200, deadline=None)
def test_fixed_width_texts_fast_path_equals_reference(lines: list[tuple[int, int]]) -> None:
    # lines of at most _FIXED_WIDTH characters (trailing white space aside) are
    # fixed-width copy, left to the rules; longer ones go to the classifier
    text = "\n".join(_WIDE[:width] + " " * pad for width, pad in lines)
    assert S.strip_many([(text, None, None)]) == [S.strip_with_reference(text)]
