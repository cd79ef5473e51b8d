"""The rewrite signal: a second signature family robust to paraphrase.

A rewrite of a story keeps few 5-word phrases (the two seed articles share one
word 5-shingle in a thousand) but keeps what the story is about: the names, the
places, the figures and the rare words. So:

* **Key tokens** (the signature family): the set of rare words (background
  Zipf frequency <= :data:`KEY_ZIPF`, lightly stemmed) and figures of an
  article. They are MinHashed with the same ``affine32`` scheme as the copy
  family (spec ``shingle="key"``) and banded by their own LSH at a low
  threshold (``rewrite_lsh_threshold``).
* **Weights**: each content word weighs ``max(0, 6 - zipf)`` in the background
  table of the ``wordfreq`` package (so two articles are enough: no corpus
  statistics are needed); when the corpus is large (>= ``CORPUS_MIN_DOCS``)
  the weight is capped by the word's corpus IDF on the same 0..6 scale, so a
  word rare in English but common in this corpus (``qtly`` in a wire feed)
  stops counting as evidence.
* **Verification** (:func:`rewrite_score`): sentences are aligned on the
  weighted content words they share. ``coverage_a`` is the weighted share of A's
  sentences that have a counterpart in B (and vice versa); the score is the
  geometric mean of the two coverages, blended with the weighted Jaccard of the
  two content-word sets. Shared names and figures and the order of the aligned
  sentences are reported as evidence.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import xxhash

from . import _native
from ._arrays import Growing, unique_sorted
from ._pickle import fast_pickle
from .entities import NUMBER_WORDS, Facts, facts, normalize_number, zipf

#: Words at or below this Zipf frequency are key tokens (the signature set).
KEY_ZIPF = 3.0
#: Words above this Zipf frequency carry no weight in verification.
CONTENT_ZIPF = 5.2
#: Weight ceiling: a word never seen in the background table weighs this much.
MAX_WEIGHT = 6.0
#: Weight of a figure of two or more characters (single digits weigh 1).
FIGURE_WEIGHT = 3.0
#: From this many documents on, corpus statistics cap the background weights.
CORPUS_MIN_DOCS = 1000
#: A key term stays in the signature set only if its corpus cap is at least this
#: (half the maximum: a term in at most about sqrt(2 n) of n documents).
KEY_MIN_CAP = 3.0

_TOKEN_RE = re.compile(r"\d+(?:[.,/-]\d+)*|[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
# A sentence ends after [.!?] (group 1: the quote and space that follow it) or at line breaks.
_SENT_SPLIT_RE = re.compile(r"[.!?]([\"'\u201d\u2019)]?\s+)(?=[\"'\u201c\u2018(]?[A-Z0-9])|\n+")
_SUFFIXES = ("ings", "ing", "ies", "ied", "es", "ed", "s", "ly")


def stem(word: str) -> str:
    """A crude, deterministic suffix stripper (``fighters`` -> ``fighter``,
    ``killed`` -> ``kill``): enough to match inflections across a rewrite."""
    if len(word) <= 4:
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            base = word[: -len(suf)]
            if suf in ("ies", "ied"):
                return base + "y"
            return base
    return word


def background_weight(word: str) -> float:
    """Weight of a lower-case word from the background table: ``max(0, 6 - zipf)``."""
    return max(0.0, min(MAX_WEIGHT, MAX_WEIGHT - zipf(word)))


_CLASSIFY_CACHE: dict[str, tuple[str, float, bool] | None] = {}


def classify(token: str) -> tuple[str, float, bool] | None:
    """(term, background weight, is_key) of one token, or None if it carries no
    content (a function word, a very common word, a one- or two-letter word)."""
    try:
        return _CLASSIFY_CACHE[token]
    except KeyError:
        pass
    out = _classify(token)
    if len(_CLASSIFY_CACHE) > 1_000_000:
        _CLASSIFY_CACHE.clear()
    _CLASSIFY_CACHE[token] = out
    return out


def _classify(token: str) -> tuple[str, float, bool] | None:
    low = token.lower()
    if token[0].isdigit() or low in NUMBER_WORDS:
        term = "#" + normalize_number(token)
        long_fig = len(term) > 2
        return term, (FIGURE_WEIGHT if long_fig else 1.0), long_fig
    if len(low) < 3:
        return None
    z = zipf(low)
    if z > CONTENT_ZIPF:
        return None
    w = max(0.0, min(MAX_WEIGHT, MAX_WEIGHT - z))
    if w <= 0.0:
        return None
    return stem(low), w, z <= KEY_ZIPF


#: Whitespace-separated chunk -> the classified tokens in it (a token never
#: spans whitespace, so a text's tokens are its chunks' tokens).
_CHUNK_CACHE: dict[str, tuple[tuple[str, float, bool], ...]] = {}


#: Punctuation that may surround a word in a chunk (``"said,"``, ``"(Reuters)"``).
EDGE_PUNCTUATION = ".,;:!?\"'()[]\u201c\u201d\u2018\u2019"


def _chunk_terms(chunk: str) -> tuple[tuple[str, float, bool], ...]:
    core = chunk.strip(EDGE_PUNCTUATION)
    # letters only between punctuation: the chunk's one token, no regex needed
    toks = [core] if core.isalpha() else _TOKEN_RE.findall(chunk)
    out = tuple(c for c in map(classify, toks) if c is not None)
    if len(_CHUNK_CACHE) > 1_000_000:
        _CHUNK_CACHE.clear()
    _CHUNK_CACHE[chunk] = out
    return out


def content_terms(text: str) -> tuple[dict[str, float], frozenset[str]]:
    """Content term -> background weight (in the order the terms first appear
    in ``text``), and the key terms, of ``text``."""
    terms: dict[str, float] = {}
    keys = set()
    get = _CHUNK_CACHE.get
    seen = terms.get
    for chunk in dict.fromkeys(text.split()):  # in the text's order
        cs = get(chunk)
        if cs is None:
            cs = _chunk_terms(chunk)
        for term, w, is_key in cs:
            if seen(term, -1.0) < w:
                terms[term] = w
            if is_key:
                keys.add(term)
    return terms, frozenset(keys)


#: :func:`content_term_arrays` reduces this many texts' entries at a time.
TERM_BATCH_DOCS = 1000


def _reduce_entries(
    doc: np.ndarray, e: np.ndarray, n_docs: int,
    e_term: np.ndarray, e_w: np.ndarray, e_k: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per text, from its entries ``e`` (text ``doc``, in the text's order): each
    term once, in the order it first appears, with its largest weight and
    whether any of its entries is a key term. Returns (terms per text, term
    ids, weights, key flags)."""
    term = e_term[e]
    code = (doc << 32) | term
    order = np.argsort(code, kind="stable")
    code = code[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if len(code) else order
    first = order[starts]  # a term's first entry in its text (stable sort)
    if len(starts):
        w = np.maximum.reduceat(e_w[e][order], starts)
        k = np.logical_or.reduceat(e_k[e][order], starts)
    else:
        w, k = np.zeros(0, dtype=np.float64), np.zeros(0, dtype=bool)
    back = np.argsort(first, kind="stable")  # first-seen order, text by text
    return (np.bincount(doc[first], minlength=n_docs), term[first][back], w[back], k[back])


class _Entries:
    """(term, weight, is_key) -> entry id, with each entry's term id (in a
    vocabulary of term -> id), weight and key flag in arrays."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, float, bool], int] = {}
        self.vocab: dict[str, int] = {}
        self.names: list[str] = []  # term id -> term
        self._term = Growing(np.int64)
        self._weight = Growing(np.float64)
        self._key = Growing(bool)

    def term_id(self, name: str) -> int:
        """The id of a term (a term new to the vocabulary gets the next)."""
        t = self.vocab.setdefault(name, len(self.vocab))
        if t == len(self.names):
            self.names.append(name)
        return t

    def extend(self, new: list[tuple[str, float, bool]]) -> None:
        """Add the arrays of the entries made since (``new``, in id order)."""
        if not new:
            return
        self._term.extend(np.fromiter((self.term_id(name) for name, _w, _k in new),
                                      dtype=np.int64, count=len(new)))
        self._weight.extend(np.fromiter((w for _t, w, _k in new), dtype=np.float64,
                                        count=len(new)))
        self._key.extend(np.fromiter((k for _t, _w, k in new), dtype=bool, count=len(new)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The arrays, with every entry made so far."""
        if len(self._term) < len(self.ids):
            self.extend(list(itertools.islice(self.ids, len(self._term), None)))
        return self._term.view, self._weight.view, self._key.view


class _ChunkEntries(dict[str, tuple[int, ...]]):
    """Chunk -> the ids of its classified tokens among ``entries``, computed on
    first use (:func:`content_term_arrays` without the compiled kernels)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries = _Entries()

    def __missing__(self, chunk: str) -> tuple[int, ...]:
        cs = _CHUNK_CACHE.get(chunk)
        if cs is None:
            cs = _chunk_terms(chunk)
        entries = self.entries.ids
        ids = tuple(entries.setdefault(c, len(entries)) for c in cs)
        self[chunk] = ids
        return ids


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run a :class:`_ChunkRegistry` method under the registry's lock (its
    kernels release the GIL, and a call changes several arrays in turn), the
    registry started again first when it holds more than ``LIMIT`` chunks."""

    @functools.wraps(method)
    def run(self: _ChunkRegistry, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            if len(self.known) > self.LIMIT:
                self.reset()
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


class _ChunkRegistry:
    """The compiled path of :func:`content_term_arrays`, :func:`content_terms_many`
    and :func:`rewrite_doc`'s sentences: chunks are found and hashed in a
    compiled pass (:func:`~newsdedup._native.chunk_hashes`) and looked up in a
    hash table (chunk hash -> chunk -> its entries, in arrays); only a chunk
    never seen in this process is decoded and classified in Python. Holds up
    to :attr:`LIMIT` chunks, then starts again empty at the next call (its
    :attr:`generation` counts the times: term ids made before are void)."""

    LIMIT = 2_000_000

    def __init__(self) -> None:
        #: how many times the registry started again (term ids made before are void)
        self.generation = -1
        self.lock = threading.Lock()  # one call at a time, from any thread
        self.reset()

    def reset(self) -> None:
        self.generation += 1
        self.known = _native.HashTable()  # chunk hash -> chunk
        self.c_start = Growing(np.int64)  # per chunk: its entries in c_ent
        self.c_len = Growing(np.int64)
        self.c_ent = Growing(np.int64)
        self.entries = _Entries()
        # scratch arrays over the terms for the kernels (stamps below ``mark``)
        self.stamp = np.zeros(0, dtype=np.int64)
        self.at = np.zeros(0, dtype=np.int64)
        self.value = np.zeros(0, dtype=np.float64)  # a document's term weights ...
        self.value_stamp = np.zeros(0, dtype=np.int64)  # ... where this is its stamp
        self.mark = 1

    def _scratch(self, stamps: int) -> tuple[np.ndarray, np.ndarray, int]:
        """The scratch arrays, as long as the vocabulary, and the first of
        ``stamps`` fresh stamps."""
        grow = len(self.entries.names) - len(self.stamp)
        if grow > 0:
            grow = max(grow, len(self.stamp))
            self.stamp = np.concatenate([self.stamp, np.zeros(grow, dtype=np.int64)])
            self.at = np.concatenate([self.at, np.zeros(grow, dtype=np.int64)])
            self.value = np.concatenate([self.value, np.zeros(grow, dtype=np.float64)])
            self.value_stamp = np.concatenate([self.value_stamp, np.zeros(grow, dtype=np.int64)])
        mark = self.mark
        self.mark += stamps
        return self.stamp, self.at, mark

    def _add(self, hashes: np.ndarray, starts: np.ndarray, lens: np.ndarray,
             raw: bytes) -> None:
        """Classify new chunks (their distinct ``hashes``; their spans in ``raw``)."""
        get = _CHUNK_CACHE.get
        ids = self.entries.ids
        counts: list[int] = []
        ents: list[int] = []
        made: list[tuple[str, float, bool]] = []
        for a, n in zip(starts.tolist(), lens.tolist(), strict=True):
            chunk = raw[a : a + n].decode("utf-8", "surrogatepass")
            cs = get(chunk)
            if cs is None:
                cs = _chunk_terms(chunk)
            counts.append(len(cs))
            for c in cs:
                e = ids.get(c)
                if e is None:
                    e = ids[c] = len(ids)
                    made.append(c)
                ents.append(e)
        self.entries.extend(made)
        cnt = np.array(counts, dtype=np.int64)
        first = len(self.c_len)
        self.c_start.extend(len(self.c_ent) + np.cumsum(cnt) - cnt)
        self.c_len.extend(cnt)
        self.c_ent.extend(np.array(ents, dtype=np.int64))
        self.known.put(hashes, np.arange(first, len(self.c_len), dtype=np.int64))

    @_locked
    def term_ids(self, names: list[str]) -> list[int]:
        """The id of each term (a term new to the vocabulary gets the next)."""
        ent = self.entries
        for t in sorted(set(names).difference(ent.vocab)):
            ent.term_id(t)
        return list(map(ent.vocab.__getitem__, names))

    def _chunks(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text's distinct chunks (registry ids), and each text's end among them."""
        hashes, starts, lens, ends, buf = _native.chunk_hashes(texts)
        chunk = self.known.find(hashes)
        miss = np.flatnonzero(chunk < 0)
        if len(miss):
            new, first = np.unique(hashes[miss], return_index=True)
            at = miss[first]
            self._add(new, starts[at], lens[at], buf.tobytes())
            chunk = self.known.find(hashes)
        return chunk, ends

    @_locked
    def sentence_parts(
        self, text: str, spans: list[tuple[int, int]], term_w: dict[str, float],
    ) -> tuple[_SentenceParts, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """:func:`rewrite_doc`'s sentences, as :func:`_sentences_of` takes
        them, and their terms as (term ids, weights, terms per sentence)."""
        chunk, ends = self._chunks([text[s:e] for s, e in spans])
        stamp, positions, mark = self._scratch(len(spans) + 1)
        w_stamp, w_mark = self.value_stamp, mark + len(spans)
        known = self.entries.vocab
        ids = np.fromiter(map(known.get, term_w, itertools.repeat(-1)), dtype=np.int64,
                          count=len(term_w))
        ok = ids >= 0  # (a term no sentence chunk has is not in the vocabulary)
        w_stamp[ids[ok]] = w_mark
        self.value[ids[ok]] = np.fromiter(term_w.values(), dtype=np.float64,
                                          count=len(term_w))[ok]
        terms, weights, _key, sizes = _native.kernels()["reduce_terms"](
            chunk, ends, self.c_start.view, self.c_len.view, self.c_ent.view,
            *self.entries.arrays(), stamp, positions, mark, w_stamp, self.value, w_mark)
        kept = sizes > 0
        with_terms = [span for span, n in zip(spans, sizes.tolist(), strict=True) if n]
        parts = (with_terms, sizes[kept].tolist(), self.entries.names, terms, weights)
        return parts, (terms, weights, sizes[kept])

    def _batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        chunk, ends = self._chunks(texts)
        return _native.kernels()["reduce_terms"](  # type: ignore[no-any-return]
            chunk, ends, self.c_start.view, self.c_len.view, self.c_ent.view,
            *self.entries.arrays(), *self._scratch(len(texts)), self.value_stamp, self.value, 0)

    @_locked
    def term_dicts(self, texts: list[str]) -> list[tuple[dict[str, float], frozenset[str]]]:
        """:func:`content_terms` of each text."""
        terms, weights, key, sizes = self._batch(texts)
        names = list(map(self.entries.names.__getitem__, terms.tolist()))
        w, k = weights.tolist(), key.tolist()
        out = []
        at = 0
        for n in sizes.tolist():
            part = names[at : at + n]
            out.append((dict(zip(part, w[at : at + n], strict=True)),
                        frozenset(itertools.compress(part, k[at : at + n]))))
            at += n
        return out

    @_locked
    def term_arrays(
        self, texts: Iterable[str],
    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        parts = []
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= TERM_BATCH_DOCS:
                parts.append(self._batch(batch))
                batch = []
        if batch or not parts:
            parts.append(self._batch(batch))
        terms, weights, key, sizes = (
            parts[0] if len(parts) == 1 else (np.concatenate(p) for p in zip(*parts, strict=True)))
        # the call's own vocabulary: the terms used, in first-seen order
        in_order, local = _native.kernels()["first_seen"](terms, *self._scratch(1))
        names = self.entries.names
        vocab = [names[t] for t in in_order.tolist()]
        return vocab, sizes, local, weights, key


_REGISTRY = _ChunkRegistry()


def content_term_arrays(
    texts: Iterable[str],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`content_terms` of many texts, in arrays: (vocabulary, terms per
    text, term ids into the vocabulary, weights, key flags), each text's terms
    in the order ``content_terms`` gives them (tests/test_rewrite.py).

    Each distinct chunk of the texts is classified once; a text is then a list
    of entry ids ((term, weight, is_key) triples), and the per-text reduction
    (a term's largest weight; key if any of its entries is) is done on arrays
    for a batch of texts at a time instead of in a dict per text. With the
    compiled kernels, a text's chunks are found, hashed and looked up on arrays
    too (:class:`_ChunkRegistry`).
    """
    if _native.available():
        return _REGISTRY.term_arrays(texts)
    return _term_arrays_plain(texts)


def content_terms_many(texts: Sequence[str]) -> list[tuple[dict[str, float], frozenset[str]]]:
    """:func:`content_terms` of each text (in one :func:`content_term_arrays`
    call with the compiled kernels)."""
    if not _native.available():
        return [content_terms(t) for t in texts]
    return _REGISTRY.term_dicts(list(texts))


def _term_arrays_plain(
    texts: Iterable[str],
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`content_term_arrays` in Python (per call: the vocabulary is then
    the call's terms, in first-seen order)."""
    of_chunk = _ChunkEntries()
    look = of_chunk.__getitem__
    chain = itertools.chain.from_iterable
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def reduce(flat: list[int], counts: list[int]) -> None:
        e = np.asarray(flat, dtype=np.int64)
        doc = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        parts.append(_reduce_entries(doc, e, len(counts), *of_chunk.entries.arrays()))

    flat: list[int] = []
    counts: list[int] = []
    for text in texts:
        before = len(flat)
        flat.extend(chain(map(look, dict.fromkeys(text.split()))))
        counts.append(len(flat) - before)
        if len(counts) >= TERM_BATCH_DOCS:
            reduce(flat, counts)
            flat, counts = [], []
    if counts or not parts:
        reduce(flat, counts)
    return (list(of_chunk.entries.names), np.concatenate([p[0] for p in parts]).astype(np.int64),
            np.concatenate([p[1] for p in parts]).astype(np.uint32),
            np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts]))


def corpus_caps(term_sets: Sequence[Iterable[str]]) -> dict[str, float] | None:
    """Corpus weight caps, or None below :data:`CORPUS_MIN_DOCS` documents.

    A term in ``df`` of ``n`` documents is capped at ``6 * log(n / df) / log(n / 2)``
    (6 for a term in two documents, 0 for a term in all of them).
    """
    df: dict[str, int] = {}
    for terms in term_sets:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    return caps_from_df(df, len(term_sets))


def caps_from_df(df: Mapping[str, int], n: int) -> dict[str, float] | None:
    """:func:`corpus_caps` from document frequencies ``df`` over ``n`` documents."""
    if n < CORPUS_MIN_DOCS:
        return None
    scale = MAX_WEIGHT / math.log(n / 2)
    return {t: min(MAX_WEIGHT, scale * math.log(n / c)) for t, c in df.items()}


def figure_share(terms: Mapping[str, float]) -> float:
    """Share of a text's content weight carried by figures (``#`` terms)."""
    # math.fsum: exact sums, so the result does not depend on the terms' order
    # (a set's order, which changes with the process's string hashing)
    total = math.fsum(terms.values())
    if total <= 0:
        return 0.0
    return math.fsum(w for t, w in terms.items() if t.startswith("#")) / total


def capped(
    terms: dict[str, float], keys: frozenset[str], caps: Mapping[str, float] | None
) -> tuple[dict[str, float], frozenset[str]]:
    """Apply corpus caps: weights capped; key terms whose cap is below
    :data:`KEY_MIN_CAP` (in more than about sqrt(2 n) of n documents) dropped."""
    if caps is None:
        return terms, keys
    out = {t: min(w, caps.get(t, MAX_WEIGHT)) for t, w in terms.items()}
    return out, capped_keys(keys, caps)


def capped_keys(keys: frozenset[str], caps: Mapping[str, float] | None) -> frozenset[str]:
    """The key terms :func:`capped` keeps."""
    if caps is None:
        return keys
    return frozenset(k for k in keys if caps.get(k, MAX_WEIGHT) >= KEY_MIN_CAP)


@dataclass(slots=True)
class Sentence:
    """One sentence: its span in the analysed text and its content terms, with
    their weights in the whole document (a term weighs the same in every sentence)."""

    start: int
    end: int
    terms: dict[str, float]

    @property
    def weight(self) -> float:
        return sum(self.terms.values())


#: Sentences as the compiled path leaves them: the spans of those with terms,
#: their numbers of terms, the registry's term names, the term ids and weights.
_SentenceParts = tuple[list[tuple[int, int]], list[int], list[str], np.ndarray, np.ndarray]


def _sentences_of(parts: _SentenceParts) -> list[Sentence]:
    """The :class:`Sentence` objects of sentences kept as arrays."""
    spans, sizes, names, ids, weights = parts
    term_names = list(map(names.__getitem__, ids.tolist()))
    w = weights.tolist()
    out = []
    at = 0
    for (s, e), n in zip(spans, sizes, strict=True):
        out.append(Sentence(start=s, end=e, terms=dict(
            zip(term_names[at : at + n], w[at : at + n], strict=True))))
        at += n
    return out


@dataclass(slots=True)
class RewriteDoc:
    """The rewrite-family view of one article.

    Attributes:
        terms: content term -> weight (max over its occurrences).
        keys: key terms (rare words and figures): the set that is MinHashed.
        facts: names, figures and headline keys (for the template guard).
        sentence_list: the sentences with their content terms (:attr:`sentences`),
            or None while they are kept as the compiled path left them.
    """

    terms: dict[str, float]
    keys: frozenset[str]
    facts: Facts
    sentence_list: list[Sentence] | None = None
    hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    _index: dict[str, list[int]] | None = None
    _weights: list[float] | None = None
    _arrays: tuple[np.ndarray, ...] | None = None
    _generation: int = -1
    #: what :attr:`sentences` are made from (:func:`_sentences_of`), until they are
    _pending: _SentenceParts | None = None

    @property
    def sentences(self) -> list[Sentence]:
        """The sentences with their content terms (made on first use where the
        compiled path kept them as arrays: scoring reads the arrays only)."""
        if self.sentence_list is None:
            assert self._pending is not None
            self.sentence_list, self._pending = _sentences_of(self._pending), None
        return self.sentence_list

    def support_arrays(self) -> tuple[np.ndarray, ...]:
        """The sentences as the compiled ``_support`` reads them (term ids of the
        chunk registry's vocabulary): as a source (CSR of each sentence's terms,
        in its order, and their weights) and as a destination (sorted term ids,
        CSR of the sentences holding each, its weight), and the sentence weights."""
        if self._arrays is None or self._generation != _REGISTRY.generation:
            sent_terms = [sent.terms for sent in self.sentences]
            names = list(itertools.chain.from_iterable(sent_terms))
            self.set_support_arrays(
                np.array(_REGISTRY.term_ids(names), dtype=np.int64),
                np.fromiter(itertools.chain.from_iterable(st.values() for st in sent_terms),
                            dtype=np.float64, count=len(names)),
                np.fromiter(map(len, sent_terms), dtype=np.int64, count=len(sent_terms)),
                np.fromiter(map(self.terms.__getitem__, names), dtype=np.float64,
                            count=len(names)))
        assert self._arrays is not None
        return self._arrays

    def set_support_arrays(self, src_ids: np.ndarray, src_w: np.ndarray, counts: np.ndarray,
                           doc_w: np.ndarray | None = None,
                           sentence_w: list[float] | None = None) -> None:
        """:meth:`support_arrays` from the sentences' term ids (of the registry,
        as it is now), their weights (``doc_w``: their weights in :attr:`terms`,
        when they may differ), how many terms each sentence has and, if known,
        each sentence's weight (``Sentence.weight``)."""
        ptr = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        order = np.argsort(src_ids, kind="stable")  # by term, then sentence
        by_term = src_ids[order]
        starts = np.flatnonzero(np.r_[True, by_term[1:] != by_term[:-1]]) if len(
            by_term) else order
        dst_ptr = np.append(starts, len(by_term)).astype(np.int64)
        sent_of = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        weights = np.array([sent.weight for sent in self.sentences] if sentence_w is None
                           else sentence_w, dtype=np.float64)
        self._arrays = (ptr, src_ids, src_w, by_term[starts], dst_ptr, sent_of[order],
                        (src_w if doc_w is None else doc_w)[order][starts], weights)
        self._generation = _REGISTRY.generation

    def sentence_index(self) -> tuple[dict[str, list[int]], list[float]]:
        """Term -> indices of the sentences holding it, and each sentence's weight
        (built once per document, used by every pair it is scored in)."""
        if self._index is None or self._weights is None:
            index: dict[str, list[int]] = {}
            for j, sent in enumerate(self.sentences):
                for t in sent.terms:
                    index.setdefault(t, []).append(j)
            self._index, self._weights = index, [sent.weight for sent in self.sentences]
        return self._index, self._weights


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (line breaks and sentence punctuation): found
    by a compiled scan when numba is there, else by :data:`_SENT_SPLIT_RE`."""
    if _native.available():
        return _native.sentence_spans(text)
    spans = []
    pos = 0
    for m in _SENT_SPLIT_RE.finditer(text):
        end = m.start(1) if m.group(1) is not None else m.start()
        if text[pos:end].strip():
            spans.append((pos, end))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def key_hash(term: str) -> int:
    """The 32-bit hash (xxh32, seed 0) of one key term."""
    return xxhash.xxh32_intdigest(term.encode("utf-8"))


def key_hashes(keys: Iterable[str]) -> np.ndarray:
    """Sorted unique :func:`key_hash` values of key terms: the set to MinHash."""
    return unique_sorted(np.fromiter(map(key_hash, keys), dtype=np.uint32))


def rewrite_doc(
    text: str, title: str | None = None, *, caps: Mapping[str, float] | None = None,
    terms: tuple[dict[str, float], frozenset[str]] | None = None,
    facts_: Facts | None = None,
) -> RewriteDoc:
    """Build the rewrite view of an article (``text`` as analysed: headline + body).

    Args:
        text: the article text.
        title: its headline, if known (else the first line of a multi-line text).
        caps: corpus weight caps from :func:`corpus_caps` (None: background only).
        terms: the already capped (terms, keys) of ``text``, if computed.
        facts_: the article's key facts, if computed (else read from ``text``).
    """
    term_w, keys = terms if terms is not None else capped(*content_terms(text), caps)
    if facts_ is None:
        facts_ = facts(text, title)
    if _native.available():
        parts, (ids, weights, counts) = _REGISTRY.sentence_parts(
            text, split_sentences(text), term_w)
        doc = RewriteDoc(terms=term_w, keys=keys, facts=facts_, hashes=key_hashes(keys),
                         _pending=parts)
        # each sentence's weight, as Sentence.weight sums it (its terms in order)
        w = weights.tolist()
        sentence_w = []
        at = 0
        for n in parts[1]:
            sentence_w.append(sum(w[at : at + n]))
            at += n
        doc.set_support_arrays(ids, weights, counts, sentence_w=sentence_w)
        return doc
    sentences = []
    get = _CHUNK_CACHE.get
    for s, e in split_sentences(text):
        st: dict[str, float] = {}
        for chunk in text[s:e].split():
            cs = get(chunk)
            if cs is None:
                cs = _chunk_terms(chunk)
            for term, _w, _k in cs:
                w = term_w.get(term, 0.0)
                if w > 0.0:
                    st[term] = w
        if st:
            sentences.append(Sentence(start=s, end=e, terms=st))
    return RewriteDoc(terms=term_w, keys=keys, sentence_list=sentences, facts=facts_,
                      hashes=key_hashes(keys))


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class RewriteScore:
    """The rewrite verdict's evidence for one pair (all floats in [0, 1]).

    Attributes:
        score: see :func:`rewrite_score`.
        coverage_a: weighted share of A's sentences with a counterpart in B.
        coverage_b: the same for B in A.
        weighted_jaccard: weighted Jaccard of the two content-term sets.
        key_jaccard: Jaccard of the key-term sets (rare words and figures).
        entity_jaccard: Jaccard of the name sets.
        order: share of aligned sentence pairs in the same relative order
            (1.0 when fewer than two sentences align).
        aligned: (sentence index in A, sentence index in B, similarity) of each
            A sentence's best counterpart (those above the alignment bar).
        shared_entities, shared_figures: names and figures found in both.
    """

    score: float
    coverage_a: float
    coverage_b: float
    weighted_jaccard: float
    key_jaccard: float
    entity_jaccard: float
    order: float
    aligned: tuple[tuple[int, int, float], ...]
    shared_entities: tuple[str, ...]
    shared_figures: tuple[str, ...]


#: A sentence has a counterpart when they share this much of its weight...
ALIGN_SHARE = 0.4
#: ... and at least this much weight in absolute terms (about two rare words).
ALIGN_MIN_WEIGHT = 4.0


def weighted_jaccard(
    a: dict[str, float], b: dict[str, float],
    total_a: float | None = None, total_b: float | None = None,
) -> float:
    """Weighted Jaccard of two term->weight maps (min weight of shared terms);
    ``total_a`` and ``total_b`` are ``math.fsum`` of each map's weights, if known."""
    if not a or not b:
        return 0.0
    # math.fsum: exact sums, the same whatever the order of the terms (the
    # shared terms come in a set's order)
    inter = math.fsum(min(a[t], b[t]) for t in a.keys() & b.keys())
    ta = math.fsum(a.values()) if total_a is None else total_a
    tb = math.fsum(b.values()) if total_b is None else total_b
    total = ta + tb - inter
    return inter / total if total > 0 else 0.0


def _support(src: RewriteDoc, dst: RewriteDoc) -> tuple[float, list[tuple[int, int, float]]]:
    """The weighted share of ``src``'s sentences with a counterpart in ``dst``,
    and the aligned (i, j, similarity): compiled when numba is there (the same
    float operations in the same order), else :func:`_support_plain`."""
    if not _native.available():
        return _support_plain(src, dst)
    a = src.support_arrays()
    b = dst.support_arrays()
    if src._generation != dst._generation:  # the registry started again meanwhile
        a = src.support_arrays()
    covered, total, al_i, al_j, al_s = _native.kernels()["sentence_support"](
        a[0], a[1], a[2], a[7], b[3], b[4], b[5], b[6], b[7], ALIGN_MIN_WEIGHT, ALIGN_SHARE)
    aligned = list(zip(al_i.tolist(), al_j.tolist(), al_s.tolist(), strict=True))
    return (covered / total if total > 0 else 0.0), aligned


def _support_plain(
    src: RewriteDoc, dst: RewriteDoc,
) -> tuple[float, list[tuple[int, int, float]]]:
    # A term weighs the same in every sentence of a document (its weight in
    # ``terms``), so what a shared term adds is one number per pair of documents.
    index, dst_weights = dst.sentence_index()
    _, src_weights = src.sentence_index()
    dst_terms = dst.terms
    covered = 0.0
    total = 0.0
    aligned = []
    for i, s in enumerate(src.sentences):
        w_s = src_weights[i]
        total += w_s
        acc: dict[int, float] = {}
        for t, w in s.terms.items():
            js = index.get(t)
            if js is None:
                continue
            m = min(w, dst_terms[t])
            for j in js:
                acc[j] = acc.get(j, 0.0) + m
        if not acc:
            continue
        j, shared = max(acc.items(), key=lambda kv: (kv[1], -kv[0]))
        if shared < ALIGN_MIN_WEIGHT:
            continue
        sim = shared / min(w_s, dst_weights[j])
        if sim >= ALIGN_SHARE:
            covered += w_s * min(1.0, sim / (2 * ALIGN_SHARE))
            aligned.append((i, j, min(1.0, sim)))
    return (covered / total if total > 0 else 0.0), aligned


def _order(aligned: Sequence[tuple[int, int, float]]) -> float:
    if len(aligned) < 2:
        return 1.0
    conc = disc = 0
    for x in range(len(aligned)):
        for y in range(x + 1, len(aligned)):
            d = (aligned[x][0] - aligned[y][0]) * (aligned[x][1] - aligned[y][1])
            if d > 0:
                conc += 1
            elif d < 0:
                disc += 1
    return conc / (conc + disc) if conc + disc else 1.0


def rewrite_score(a: RewriteDoc, b: RewriteDoc, wj: float | None = None) -> RewriteScore:
    """Score ``a`` against ``b`` as rewrites of one story (symmetric).

    ``score = 0.4 * sqrt(coverage_a * coverage_b) + 0.2 * min(1, 2 * weighted_jaccard)
    + 0.2 * min(1, 2 * key_jaccard) + 0.2 * min(1, 2 * entity_jaccard)``: aligned
    sentences, shared weighted vocabulary, shared rare words and figures, shared
    names. Each part saturates at half overlap, since a rewrite keeps about half.
    ``wj``: the weighted Jaccard of the two documents' terms, if known.
    """
    cov_a, aligned = _support(a, b)
    cov_b, _ = _support(b, a)
    if wj is None:
        wj = weighted_jaccard(a.terms, b.terms)
    kj = _jaccard(a.keys, b.keys)
    ej = _jaccard(a.facts.entities, b.facts.entities)
    cov = math.sqrt(cov_a * cov_b)
    score = 0.4 * cov + 0.2 * min(1.0, 2 * wj) + 0.2 * min(1.0, 2 * kj) + 0.2 * min(1.0, 2 * ej)
    return RewriteScore(
        score=float(min(1.0, max(0.0, score))), coverage_a=cov_a, coverage_b=cov_b,
        weighted_jaccard=wj, key_jaccard=kj, entity_jaccard=ej, order=_order(aligned),
        aligned=tuple(aligned),
        shared_entities=tuple(sorted(a.facts.entities & b.facts.entities)),
        shared_figures=tuple(sorted(a.facts.figures & b.facts.figures)),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0
