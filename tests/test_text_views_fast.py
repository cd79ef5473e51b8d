"""The chunk-cached text views give exactly what the plain regex versions give.

:func:`newsdedup.entities.facts` and :func:`newsdedup.rewrite.content_terms`
read each distinct whitespace-separated chunk of a text once (a token, a
capitalised word and a revision word never span whitespace) and cache what it
holds; :func:`newsdedup.rewrite.split_sentences` uses a pattern without a
lookbehind; :func:`newsdedup.rewrite._support` adds each shared term's weight
once per document pair; :func:`newsdedup.entities.fact_conflict` counts
differing words with set algebra. The references below are the plain versions
these replaced, compared on the seeds, BBC News, Reuters-21578 (corpus tests
skip with the reason when ../shared/corpora is absent), adversarial strings
and generated text.
"""

from __future__ import annotations

import random
import re
from itertools import islice, product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup import entities as E
from newsdedup import rewrite as R

from .conftest import SEED_000, SEED_001, corpus_path, read_jsonl_gz

# --------------------------------------------------------------------------- references


def facts_reference(text: str, title: str | None = None) -> tuple[object, ...]:
    toks = set(E._TOKEN_RE.findall(text))
    if title:
        toks.update(E._TOKEN_RE.findall(title))
    words = frozenset(t.lower() for t in toks)
    figures = frozenset(E.normalize_number(t) for t in toks if t[0].isdigit()) | frozenset(
        E.NUMBER_WORDS[w] for w in words.intersection(E.NUMBER_WORDS)
    )
    entities: set[str] = set()
    for line in text.splitlines():
        head = line[:300]
        lower = sum(c in "abcdefghijklmnopqrstuvwxyz" for c in head)
        upper = sum(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for c in head)
        if lower + upper == 0 or lower < 0.4 * (lower + upper):
            continue
        for m in E._CAPWORD_RE.finditer(line):
            j = m.start() - 1
            while j >= 0 and line[j].isspace():
                j -= 1
            if j < 0 or line[j] in E._SENTENCE_END:
                continue
            low = E._unpossessive(m.group().lower())
            if E.zipf(low) < 5.0:
                entities.add(low)
    head_text = title if title else text.lstrip().split("\n", 1)[0][:200]
    head_keys = set()
    for t in E._TOKEN_RE.findall(head_text or ""):
        low = t.lower()
        if t[0].isdigit() or low in E.NUMBER_WORDS:
            head_keys.add(E.normalize_number(t))
        elif len(low) > 1 and E.zipf(low) <= E.RARE_ZIPF:
            head_keys.add(low)
    entities |= {k for k in head_keys if not k[0].isdigit()}
    all_words = words | {E._unpossessive(w) for w in words if w.endswith(("'s", "\u2019s"))}
    revision = bool(E._REVISION_RE.search(text))
    return all_words, figures, frozenset(entities), frozenset(head_keys), revision


def _fields(f: E.Facts) -> tuple[object, ...]:
    return f.words, f.figures, f.entities, f.headline_keys, f.revision


def copy_shortcut_reference(
    ta: str, ha: str | None, tb: str, hb: str | None, pa: object, pb: object,
) -> bool:
    """copy_conflict_impossible with each side's chunks as one union (text and
    headline), as first written."""
    if not ha or not hb or "\u00d7" in ta or "\u00d7" in tb:
        return False
    ca, cb = set(ta.split()), set(tb.split())
    all_a, all_b = ca | set(ha.split()), cb | set(hb.split())
    a_in_b, b_in_a = set(ha.split()) <= all_b, set(hb.split()) <= all_a
    if not (a_in_b or b_in_a):
        return False
    missing_a, missing_b = all_a - all_b, all_b - all_a
    clean_a = not any(E._chunk(ch).figures for ch in missing_a)
    clean_b = not any(E._chunk(ch).figures for ch in missing_b)
    if not (clean_a or clean_b):
        return False
    apart = None if pa is None or pb is None else abs((pa - pb).total_seconds()) / 3600  # type: ignore[operator]
    if apart is not None and apart > 36.0 and not (clean_a and clean_b):
        return False

    def few(head_in: bool, missing: set[str], chunks: set[str]) -> bool:
        names: set[str] = set()
        for ch in missing & chunks:
            c = E._chunk(ch)
            names.update(([c.lead_name] if c.lead_name else []) + list(c.inner_names))
        return head_in and len(names) < 2

    return few(a_in_b, missing_a, ca) or few(b_in_a, missing_b, cb)


def same_words_reference(fa: E.Facts, fb: E.Facts) -> bool:
    plain_a = {w for w in fa.words if not w[0].isdigit() and w not in E.NUMBER_WORDS}
    plain_b = {w for w in fb.words if not w[0].isdigit() and w not in E.NUMBER_WORDS}
    return len(plain_a ^ plain_b) <= max(2, 0.05 * len(plain_a | plain_b))


def content_terms_reference(text: str) -> tuple[dict[str, float], frozenset[str]]:
    terms: dict[str, float] = {}
    keys = set()
    for tok in set(R._TOKEN_RE.findall(text)):
        c = R.classify(tok)
        if c is None:
            continue
        term, w, is_key = c
        if terms.get(term, -1.0) < w:
            terms[term] = w
        if is_key:
            keys.add(term)
    return terms, frozenset(keys)


_SENT_REF = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]?\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])|\n+")


def split_sentences_reference(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for m in _SENT_REF.finditer(text):
        if text[pos : m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def sentence_terms_reference(text: str, term_w: dict[str, float]) -> list[tuple[object, ...]]:
    out = []
    for s, e in split_sentences_reference(text):
        st_: dict[str, float] = {}
        for tok in R._TOKEN_RE.findall(text[s:e]):
            c = R.classify(tok)
            if c is None:
                continue
            w = term_w.get(c[0], 0.0)
            if w > 0.0:
                st_[c[0]] = w
        if st_:
            out.append((s, e, list(st_.items())))
    return out


def support_reference(src: R.RewriteDoc, dst: R.RewriteDoc) -> tuple[object, ...]:
    index, dst_weights = dst.sentence_index()
    _, src_weights = src.sentence_index()
    covered = total = 0.0
    aligned = []
    for i, s in enumerate(src.sentences):
        w_s = src_weights[i]
        total += w_s
        acc: dict[int, float] = {}
        for t, w in s.terms.items():
            for j in index.get(t, ()):
                acc[j] = acc.get(j, 0.0) + min(w, dst.sentences[j].terms[t])
        if not acc:
            continue
        j, shared = max(acc.items(), key=lambda kv: (kv[1], -kv[0]))
        if shared < R.ALIGN_MIN_WEIGHT:
            continue
        sim = shared / min(w_s, dst_weights[j])
        if sim >= R.ALIGN_SHARE:
            covered += w_s * min(1.0, sim / (2 * R.ALIGN_SHARE))
            aligned.append((i, j, min(1.0, sim)))
    return (covered / total if total > 0 else 0.0), aligned


# --------------------------------------------------------------------------- inputs

ODD = [
    "",
    "   \n\t ",
    "Hello World's end. update2 corrected_x Mr. Smith said\tthe U.S.-based firm's CEO "
    "John O'Neil, 10:31 2,028,000 two\u2028Next Line Also, Paris\x0bRome\x1cOslo\x85Bern",
    "ALL CAPS LINE HERE\nlower Line With Names Here. Then Smith.\n(Reuters) - Fed's Update: x",
    "He said \"Stop.\" Then \"Go!\" (Really.) A b... C d?! E\n\nF. 3 g.\u201d \u201cH one's half",
    "QTLY DIV 10 CTS\nqtly div 10 cts vs 10 cts prior\nPay April 1\nRecord March 15\nReuter",
    "Caf\u00e9 \u00c9lys\u00e9e said M\u00fcller's \u00dcber-deal, "
    "\u00bfQu\u00e9? \u00c0 bient\u00f4t.",
    "x?!  Y. 12.5% rise; clarifying amended-revised figures: one two Three's",
    # 16 of 33 letters lower case: just above the all-caps line bar
    "ACME CORP SAYS Smith And Jones Will Lead\nACME CORP SAYS SMITH AND JONES WILL LEAD",
]


def _texts(limit_bbc: int = 400, limit_reuters: int = 400) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [(t, None) for t in ODD]
    out += [(t, "Update: Some Title 3") for t in ODD]
    for p in (SEED_000, SEED_001):
        text = p.read_text(encoding="utf-8")
        out.append((text, text.split("\n", 1)[0]))
    for path, n in ((corpus_path("bbc-news", "bbc-news.jsonl.gz"), limit_bbc),
                    (corpus_path("reuters21578", "reuters21578.jsonl.gz"), limit_reuters)):
        for r in islice(read_jsonl_gz(path), n):
            title = r.get("title") or None
            body = r.get("text") or ""
            out.append(((title + "\n" + body) if title else body, title))
            out.append((body, title))  # the headline given apart from the text
    return out


@pytest.fixture(scope="module")
def texts() -> list[tuple[str, str | None]]:
    return _texts()


# --------------------------------------------------------------------------- tests


def test_facts_equal_reference(texts: list[tuple[str, str | None]]) -> None:
    for text, title in texts:
        assert _fields(E.facts(text, title)) == facts_reference(text, title), text[:80]


def test_facts_names_between_every_kind_of_space() -> None:
    # the names' places are found in a compiled pass (_kernels.name_mentions)
    # that splits lines and chunks itself: every character str.split() and
    # str.splitlines() split at, and lines around the 300 characters the
    # capitals test reads
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    assert len(spaces) == 29
    for ws in spaces:
        for text in (f"Officials said{ws}Smith met the Jones family{ws}in Paris.",
                     f"{ws}Smith said{ws}(Jones{ws}met Brown.{ws}Smith left.",
                     f"TALKS SAID{ws}Smith MET Jones{ws}" + "and then it all began " * 3):
            for title in (None, "A headline"):
                assert _fields(E.facts(text, title)) == facts_reference(text, title), repr(ws)
    for caps in (95, 100, 105, 120, 200, 280, 299, 300, 301):
        line = "X" * caps + " said Smith and Jones" + " were here" * 30
        text = f"The talks began.\n{line}\nIt ended."
        assert _fields(E.facts(text)) == facts_reference(text), caps
    # 119 lower-case and 180 capital letters are a capitals line; one more
    # lower-case letter as the 300th character is not (as the 301st, it is)
    for line in ("a" * 119 + "B" * 180 + "a met Smith and Jones",
                 "a" * 119 + "B" * 180 + " a met Smith and Jones"):
        text = f"The talks began.\n{line}\nIt ended."
        assert _fields(E.facts(text)) == facts_reference(text)
    line = "a" * 119 + "B" * 180 + "a met Smith and Jones"
    assert {"smith", "jones"} <= E.facts(f"x\n{line}").entities


def test_sentence_spans_at_every_kind_of_ending() -> None:
    # split_sentences scans in compiled code (_kernels.sentence_spans) what the
    # pattern matches: each mark, closing quote, white space run, opening quote
    # and next character, and runs of line feeds
    marks, closers = [".", "!", "?", ",", "x"], ["", '"', "'", "\u201d", "\u2019", ")", "]"]
    spaces = ["", " ", "  ", "\n", "\n\n", "\t \n", "\u2028", "\xa0", "\x1f"]
    openers = ["", '"', "'", "\u201c", "\u2018", "(", "["]
    for mark, closer, space, opener, nxt in product(marks, closers, spaces, openers,
                                                    ["A", "a", "9", " ", ""]):
        for text in (f"Word one{mark}{closer}{space}{opener}{nxt}rest of it\n\n\nNext line\n",
                     f"{mark}{closer}{space}{opener}{nxt}"):
            assert R.split_sentences(text) == split_sentences_reference(text), repr(text)


def test_headline_revision_word_is_not_the_texts() -> None:
    assert not E.facts("Shares rose on Monday.", "UPDATE 1-Shares rise").revision
    assert E.facts("Shares rose on Monday (corrected).", "Shares rise").revision


def test_same_words_rule_equal_reference(texts: list[tuple[str, str | None]]) -> None:
    facts = [E.facts(t, ti) for t, ti in texts]
    rnd = random.Random(7)
    pairs = [(i, i + 1) for i in range(len(facts) - 1)]  # headline-in-text and apart
    pairs += [(rnd.randrange(len(facts)), rnd.randrange(len(facts))) for _ in range(1500)]
    checked = 0
    for i, j in pairs:
        fa, fb = facts[i], facts[j]
        numeric = fa.numeric | fb.numeric
        fast_differ = len((fa.words ^ fb.words) - numeric)
        fast_same = fast_differ <= max(2, 0.05 * (len(fa.words | fb.words) - len(numeric)))
        assert fast_same == same_words_reference(fa, fb)
        checked += fast_same
    assert checked > 0  # some pairs do reach the "same words" rule


@pytest.mark.parametrize("native", [True, False])
def test_content_terms_and_sentences_equal_reference(
    texts: list[tuple[str, str | None]], native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Content terms, sentences and each sentence's terms (with their order) as
    the reference reads them: with the compiled sentence terms (chunk registry,
    ``_kernels.reduce_terms`` with document weights) and without; the support arrays the compiled
    path makes are those made again from the sentences."""
    import numpy as np

    from newsdedup import _native

    if not native:
        monkeypatch.setattr(_native, "available", lambda: False)
    elif not _native.available():
        pytest.skip("numba is not installed")
    for text, title in texts:
        terms = R.content_terms(text)
        assert terms == content_terms_reference(text)
        assert R.split_sentences(text) == split_sentences_reference(text)
        doc = R.rewrite_doc(text, title)
        got = [(s.start, s.end, list(s.terms.items())) for s in doc.sentences]
        assert got == sentence_terms_reference(text, doc.terms)
        if native:
            made = doc.support_arrays()
            doc._arrays = None
            again = doc.support_arrays()
            assert all(np.array_equal(x, y) for x, y in zip(made, again, strict=True))


@pytest.mark.parametrize("native", [True, False])
def test_support_equal_reference(
    texts: list[tuple[str, str | None]], native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_support`` (the compiled kernel on term-id arrays, and the plain
    loop) gives the reference's coverage and alignments to the last bit."""
    from newsdedup import _native

    if not native:
        monkeypatch.setattr(_native, "available", lambda: False)
    elif not _native.available():
        pytest.skip("numba is not installed")
    docs = [R.rewrite_doc(t, ti) for t, ti in texts[: 2 * len(ODD) + 300]]
    rnd = random.Random(3)
    pairs = [(i, i + 1) for i in range(len(docs) - 1)]
    pairs += [(rnd.randrange(len(docs)), rnd.randrange(len(docs))) for _ in range(1000)]
    aligned = 0
    for i, j in pairs:
        got = R._support(docs[i], docs[j])
        assert got == support_reference(docs[i], docs[j])
        aligned += bool(got[1])
    assert aligned > 0


def test_support_after_the_term_ids_start_again(
    texts: list[tuple[str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk registry (whose term ids the arrays use) starts again past
    ``LIMIT`` chunks: arrays made before are made again, so documents built on
    either side still align as the reference."""
    from newsdedup import _native

    if not _native.available():
        pytest.skip("numba is not installed")
    registry = R._ChunkRegistry()
    monkeypatch.setattr(R, "_REGISTRY", registry)
    monkeypatch.setattr(R._ChunkRegistry, "LIMIT", 300)
    docs = [R.rewrite_doc(t, ti) for t, ti in texts[len(ODD) : len(ODD) + 80]]
    aligned = 0
    for i in range(len(docs)):
        for j in (i - 1, i + 1, len(docs) - 1 - i):
            if 0 <= j < len(docs):
                got = R._support(docs[i], docs[j])
                assert got == support_reference(docs[i], docs[j])
                aligned += bool(got[1])
    assert registry.generation >= 3 and aligned > 0


_ALPHABET = st.sampled_from(
    list("aAbBzZ eE\n\t\r\x1c\x1f\x85.!?,'\u2019\"():;-/0123456789_")
    + list("\u00e9\u00c9\u2028\x0b\u201c\u201d")
    + ["Smith", "update", "The", "one", "'s", "2,028,000", "U.S.", "  ", "'tis", "dogs'",
       "(Smith", "\u2019Smith", "\u00d7", "\u00bd", "e\u0301", "\u00deor", "[", "\u201c"]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join),
       st.one_of(st.none(), st.lists(_ALPHABET, max_size=12).map("".join)))
def test_generated_text_equal_reference(text: str, title: str | None) -> None:
    assert _fields(E.facts(text, title)) == facts_reference(text, title)
    assert R.content_terms(text) == content_terms_reference(text)
    assert R.split_sentences(text) == split_sentences_reference(text)


# --------------------------------------------------------------------------- copy shortcut


def _mutate(text: str, rnd: random.Random, pool: list[str], rate: float) -> str:
    """``text`` with words dropped, swapped for words of ``pool`` (names,
    figures, plain words) or inserted, at ``rate``; line breaks kept."""
    lines = []
    for line in text.split("\n"):
        out = []
        for w in line.split(" "):
            r = rnd.random()
            if r < rate / 3:
                continue
            out.append(rnd.choice(pool) if r < 2 * rate / 3 else w)
            if 2 * rate / 3 <= r < rate:
                out.append(rnd.choice(pool))
        lines.append(" ".join(out))
    return "\n".join(lines)


def _copy_pairs(texts: list[tuple[str, str | None]]) -> list[tuple[object, ...]]:
    """(text, title, published) pairs: lightly edited copies, retitled copies,
    excerpts, neighbours and random pairs, with and without times."""
    from datetime import datetime, timedelta, timezone

    rnd = random.Random(11)
    pool = sorted({w for t, _ in texts[:200] for w in t.split()} | {
        "Smith", "Jones", "12", "2,028,000", "two", "half", "\u00d7", "Paris's", "U.S.", "the",
        "said", "update", "corrected", "ACME", "-", "(Reuters)"})
    when = datetime(2024, 3, 1, tzinfo=timezone.utc)
    docs = [(t, ti or t.split("\n", 1)[0][:80]) for t, ti in texts if t.strip()]
    out: list[tuple[object, ...]] = []
    for k, (text, title) in enumerate(docs):
        for _ in range(3):
            copy = _mutate(text, rnd, pool, rnd.choice((0.0, 0.005, 0.02, 0.05, 0.2)))
            if rnd.random() < 0.2:
                lines = copy.split("\n")
                copy = "\n".join(lines[: max(1, len(lines) // 2)])  # an excerpt
            r = rnd.random()
            new_title = (title.upper() if r < 0.2 else title + " - update" if r < 0.4
                         else _mutate(title, rnd, pool, 0.3) if r < 0.6 else title)
            hours = rnd.choice((None, 0, 30, 40, 24 * 9))
            pa = None if hours is None else when
            pb = None if hours is None else when + timedelta(hours=hours)
            out.append((text, title, pa, copy, new_title, pb))
        # the same notice with other figures (or with one name swapped for another)
        renum = re.sub(r"\d+", lambda m: str(int(m.group()) + rnd.randrange(1, 9)), text)
        out.append((text, title, None, renum, title, None))
        out.append((text, title, None, renum.replace("Smith", "Jones"), title, None))
        out.append((text, "Qtly div " + title, None, text, "Zyxcorp " + title, None))
        other = docs[(k + 1) % len(docs)] if rnd.random() < 0.5 else rnd.choice(docs)
        out.append((text, title, None, other[0], other[1], None))
        out.append((text, title, None, other[0], title, None))  # one headline, two stories
    return out


def test_copy_conflict_shortcut_never_hides_a_conflict(
    texts: list[tuple[str, str | None]],
) -> None:
    said_none = conflicts = 0
    for ta, ha, pa, tb, hb, pb in _copy_pairs(texts):
        ca, cb = E.chunk_set(ta), E.chunk_set(tb)
        assert E.facts(ta, ha, ca) == E.facts(ta, ha)
        conflict = E.fact_conflict(E.facts(ta, ha), E.facts(tb, hb), published_a=pa,
                                   published_b=pb, kind="copy")
        conflicts += conflict is not None
        shortcut = E.copy_conflict_impossible(ta, ha, ca, tb, hb, cb, published_a=pa,
                                              published_b=pb)
        assert shortcut == copy_shortcut_reference(ta, ha, tb, hb, pa, pb), (ta[:60], tb[:60])
        if shortcut:
            said_none += 1
            assert conflict is None, (ta[:60], tb[:60], ha, hb, conflict)
    # not vacuous: the shortcut decides many pairs, and the sample has conflicts
    assert said_none > 300 and conflicts > 50, (said_none, conflicts)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, min_size=1, max_size=40).map("".join),
       st.lists(st.tuples(st.integers(0, 39), _ALPHABET, st.booleans()), max_size=4),
       st.lists(_ALPHABET, min_size=1, max_size=8).map("".join),
       st.lists(_ALPHABET, max_size=3).map("".join),
       st.sampled_from([None, 0, 40]))
def test_copy_conflict_shortcut_generated(
    text: str, edits: list[tuple[int, str, bool]], title: str, suffix: str, hours: int | None,
) -> None:
    from datetime import datetime, timedelta

    parts = text.split(" ")
    for pos, piece, replace in edits:
        if replace:
            parts[pos % len(parts)] = piece
        else:
            parts.insert(pos % (len(parts) + 1), piece)
    other = " ".join(parts)
    pa = None if hours is None else datetime(2024, 1, 1)
    pb = None if hours is None else datetime(2024, 1, 1) + timedelta(hours=hours)
    for (ta, ha), (tb, hb) in (((text, title), (other, title + suffix)),
                               ((other, title + suffix), (text, title))):
        shortcut = E.copy_conflict_impossible(ta, ha, E.chunk_set(ta), tb, hb, E.chunk_set(tb),
                                              published_a=pa, published_b=pb)
        assert shortcut == copy_shortcut_reference(ta, ha, tb, hb, pa, pb)
        if shortcut:
            assert E.fact_conflict(E.facts(ta, ha), E.facts(tb, hb), published_a=pa,
                                   published_b=pb, kind="copy") is None


_EDGES = st.text(alphabet=list(E._EDGE_PUNCTUATION), max_size=3)
_WORDS = st.sampled_from(["Smith", "smith", "The", "the", "Two", "two", "UPDATE", "corrected",
                          "\u00c9lys\u00e9e", "\u00c0", "\u00deor", "I", "a", "Zyx", "\u0130zmir",
                          "Stra\u00dfe", "\u01c5x", "half", "Reuters", "Paris"])


@settings(max_examples=500, deadline=None)
@given(_EDGES, _WORDS, _EDGES)
def test_word_chunk_equals_the_regex_path(before: str, word: str, after: str) -> None:
    """A chunk that is letters between edge punctuation ("(Smith,", "'The", "two.")
    is read without regexes: the same as the general path."""
    chunk = before + word + after
    core = chunk.strip(E._EDGE_PUNCTUATION)
    assert core.isalpha()
    assert E._word_chunk(chunk, core) == E._any_chunk(chunk)


def test_word_chunk_equals_the_regex_path_on_corpus_chunks(
    texts: list[tuple[str, str | None]],
) -> None:
    checked = 0
    for text, _title in texts:
        for chunk in set(text.split()):
            core = chunk.strip(E._EDGE_PUNCTUATION)
            if core.isalpha():
                assert E._word_chunk(chunk, core) == E._any_chunk(chunk), chunk
                checked += 1
    assert checked > 10_000
