"""Boilerplate learned per source, syndication-safe.

:func:`learn_boilerplate` finds lines that one source repeats across many of
its *different* stories (a site's "Follow us" footer, its standard disclaimer,
its related-links header) and returns a :class:`BoilerplateModel`;
:func:`newsdedup.strip` removes those lines from that source's articles
(rule name ``learned_boilerplate``).

Three guards keep syndication intact:

* a line counts only once per *story* of a source: documents of one source
  that share a prose line (at least :data:`STORY_LINE_WORDS` words, itself not
  a candidate) are one story, and a document with no long line of its own (an
  update or re-send whose every paragraph recurs) is no evidence at all, so a
  source's repeated copies of one story do not teach it that the story is
  boilerplate;
* a line of at least ``syndication_min_words`` words that occurs in documents
  of two or more sources is kept: that is syndication, the thing dedup detects
  (unless it is in :data:`SYNDICATION_MAX_DOCS` documents or more: a footer
  that a network of sites puts under thousands of different stories);
* a line is not learned when, in at least half of the source's documents that
  contain it, the source's learned lines together would remove more than
  :data:`MAX_LEARNED_SHARE` of the document's words. Boilerplate is a minority
  of a page; a story is most of it. This catches what the story guard cannot:
  copies of one story that each carry a long line of their own (a footer naming
  the site, an edited paragraph) are separate "stories" to the first guard, so
  without this check their shared text would be learned and stripped.

The source of a document is its ``source`` field, else its URL's host (without
``www.``), else the parent directory of a file path id; documents with none of
these are not learned from. The model is stored as versioned JSON (never pickle).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import numpy as np

from ._arrays import unique_sorted
from .cluster import components
from .errors import ConfigError, InputError
from .normalize import normalize, normalize_fast, normalized_encoded
from .types import Article, url_host

FORMAT = "newsdedup.BoilerplateModel"
VERSION = 1
#: Lines with at least this many words can tie two documents into one story.
STORY_LINE_WORDS = 8
#: ``boilerplate="auto"`` learns from a corpus only from this many documents on.
AUTO_MIN_DOCS = 20
#: The default number of distinct stories a line must appear in to be learned.
LEARN_MIN_DOCS = 3
#: A line is not learned when the source's learned lines would remove more than
#: this share of the words (``\w+`` words of the distinct normalised lines, headline
#: included) of at least half of the source's documents that contain it. Above 2/3,
#: so a brief whose footer is twice its own length still teaches the footer; below
#: what a source's copies of one story lose: Reuters-21578 sends one earnings report
#: three times under its Memphis dateline (original, CORRECTED-, RPT-), and without
#: this guard the report's lines were learned, covering 0.70, 0.76 and 0.78 of the
#: three copies' words; a re-filed story with one paragraph edited loses over 0.9.
#: For every line learned on L3S-GN1, BBC News and the rest of Reuters-21578, the
#: median document containing it loses at most 0.40 of its words.
MAX_LEARNED_SHARE = 0.7
#: A line that a source's stories teach and that other sources also have is
#: syndicated text and kept, unless this many documents or more have it: then it
#: is the shared footer of a network of sites (a 300-word footer under 10,000
#: different stories of 50 sources chained about 2,400 of them into one cluster).
#: A story one source runs under several pages is in a few of them, and a wire
#: story that many outlets run is in one story of each (never taught by one).
SYNDICATION_MAX_DOCS = 50

_WORD = re.compile(r"\w+")


def source_of(article: Article) -> str | None:
    """The source key of an article: ``source``, else URL host, else parent directory."""
    if article.source:
        return article.source.strip().lower() or None
    host = url_host(article.url)
    if host:
        return host
    if ("/" in article.id or os.sep in article.id) and os.path.splitext(article.id)[1]:
        parent = os.path.dirname(article.id)
        return parent or None
    return None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BoilerplateModel:
    """Lines learned as boilerplate, per source.

    Attributes:
        sources: source key -> normalised lines removed from that source's articles.
        min_docs: the number of distinct stories a line had to appear in.
        min_share: the share of a source's stories it had to appear in.
        syndication_min_words: lines this long seen in two sources were kept
            (unless :data:`SYNDICATION_MAX_DOCS` documents or more had them).
        documents: how many documents the model was learned from.
    """

    sources: Mapping[str, frozenset[str]] = field(default_factory=dict)
    min_docs: int = LEARN_MIN_DOCS
    min_share: float = 0.05
    syndication_min_words: int = 5
    documents: int = 0

    def lines_for(self, source: str | None) -> frozenset[str] | None:
        """The learned lines of ``source`` (None when nothing was learned for it)."""
        if source is None:
            return None
        return self.sources.get(source.strip().lower())

    def __len__(self) -> int:
        return sum(len(v) for v in self.sources.values())

    def __repr__(self) -> str:
        return (
            f"BoilerplateModel(sources={len(self.sources)}, lines={len(self)}, "
            f"documents={self.documents})"
        )

    def to_json(self) -> str:
        """The model as versioned, self-describing JSON text."""
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "min_docs": self.min_docs,
                "min_share": self.min_share,
                "syndication_min_words": self.syndication_min_words,
                "documents": self.documents,
                "sources": {k: sorted(v) for k, v in sorted(self.sources.items())},
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> BoilerplateModel:
        """Read a model written by :meth:`to_json`.

        Raises:
            InputError: the text is not a boilerplate model of a known version.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"not a boilerplate model: invalid JSON ({err.msg})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"not a boilerplate model (expected format {FORMAT!r})")
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
            raise InputError(
                f"boilerplate model version {data.get('version')!r} is not supported "
                f"(this newsdedup reads version {VERSION})"
            )
        sources = data.get("sources")
        if not isinstance(sources, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in sources.values()
        ):
            raise InputError("boilerplate model: 'sources' must map names to lists of lines")
        def number(name: str, default: float, low: float, high: float, whole: bool) -> Any:
            v = data.get(name, default)
            ok = (not isinstance(v, bool) and isinstance(v, int if whole else (int, float))
                  and low <= v <= high)
            if not ok:
                kind = "an integer" if whole else "a number"
                raise InputError(f"boilerplate model: {name!r} must be {kind} in "
                                 f"[{low}, {high}], got {v!r}")
            return v

        by_source: dict[str, frozenset[str]] = {}
        for k, v in sources.items():
            key = str(k).strip().lower()  # as lines_for() looks a source up
            by_source[key] = by_source.get(key, frozenset()) | frozenset(v)
        return cls(
            sources=by_source,
            min_docs=number("min_docs", LEARN_MIN_DOCS, 1, 2**31, True),
            min_share=float(number("min_share", 0.05, 0.0, 1.0, False)),
            syndication_min_words=number("syndication_min_words", 5, 1, 2**31, True),
            documents=number("documents", 0, 0, 2**62, True),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as JSON."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BoilerplateModel:
        """Read a model saved with :meth:`save`.

        Raises:
            InputError: the file cannot be read, is not UTF-8, or is not a model.
        """
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except UnicodeDecodeError as err:
            raise InputError(f"not a boilerplate model: invalid UTF-8 at byte {err.start}",
                             source=os.fspath(path)) from None
        except OSError as err:
            raise InputError(f"cannot read boilerplate model: {err.strerror or err}",
                             source=os.fspath(path)) from None
        return cls.from_json(text)


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def normalized_lines(text: str) -> list[str]:
    """``[normalize(x) for x in text.splitlines()]``; ASCII text in one pass
    (``normalize``'s ASCII path, whose ``replace`` and ``lower`` neither make
    nor remove line breaks, applied to the whole text before splitting)."""
    if text.isascii():
        low = text.replace("`", "'").lower()
        if (
            "  " not in low and " \n" not in low and "\n " not in low
            and not low.startswith(" ") and not low.endswith(" ")
            and not any(c in low for c in _ODD_SPACE)
        ):
            # its only white space is single spaces inside lines: each line is
            # already what split() and join() would make of it
            return low.splitlines()
        return [" ".join(x.split()) for x in low.splitlines()]

    return [
        " ".join(x.replace("`", "'").lower().split()) if x.isascii() else normalize_fast(x)
        for x in text.splitlines()
    ]


#: ASCII white space (for ``str.split``) other than the space and the line feed.
_ODD_SPACE = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _word_counts(lines: list[str]) -> list[int]:
    """``len(_WORD.findall(x))`` of each line (in one compiled pass when numba is there)."""
    from . import _native

    if lines and _native.available():
        return _native.token_counts(lines).tolist()  # type: ignore[no-any-return]
    return [len(_WORD.findall(x)) for x in lines]


def learn_from_articles(
    articles: Iterable[Article],
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
    workers: int | None = None,
    line_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    sources: Sequence[str | None] | None = None,
) -> BoilerplateModel:
    """Learn a model from loaded articles (see :func:`learn_boilerplate`).

    The same model as :func:`learn_from_articles_reference`, computed with less
    work: each article's distinct normalised lines are read as 64-bit hashes
    (:func:`_hash_lines`) with their word counts, by forked worker processes when there are
    many articles (``workers``: default :func:`newsdedup.chunks.worker_count`,
    from :data:`PARALLEL_MIN_DOCS` articles), and the counting (documents per
    line, stories per line, sources per line) is done on arrays of those
    hashes, as is the share of each document's words the learned lines cover
    (:data:`MAX_LEARNED_SHARE`). Only the lines learned are read back as text.
    Two different lines would have to share a 64-bit hash for the model to
    differ from the reference's (tests/test_fast_boilerplate.py compares them).
    ``line_parts``: :func:`_line_hashes` of consecutive blocks of the articles
    that cover them all, in order, when already computed (:class:`LineHashesAhead`);
    ``sources``: :func:`source_of` of each article, when already known. Each
    source's lines are counted in forked workers too (from
    :data:`PARALLEL_MIN_DOCS` articles, several sources).
    """
    arts = articles if isinstance(articles, Sequence) else list(articles)
    n = len(arts)
    srcs = list(sources) if sources is not None else [source_of(a) for a in arts]
    if len(srcs) != n:
        raise ValueError(f"{len(srcs)} sources for {n} articles")
    parts = line_parts if line_parts is not None else _line_hash_parts(arts, 0, n, workers)
    hashes = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.uint64)
    words = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    sizes = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
    doc = np.repeat(np.arange(n, dtype=np.int64), sizes)
    # the key of each document for "in two or more sources": its source (in
    # order of first appearance), else its id (after every source)
    distinct = dict.fromkeys(srcs)
    distinct.pop(None, None)
    names = cast("list[str]", list(distinct))
    code: dict[str | None, int] = {src: k for k, src in enumerate(names)}
    code[None] = -1
    doc_key = np.fromiter(map(code.__getitem__, srcs), dtype=np.int64, count=n)
    lone = np.flatnonzero(doc_key < 0).tolist()
    if lone:
        id_code = {i: len(names) + k
                   for k, i in enumerate(dict.fromkeys(arts[d].id for d in lone))}
        doc_key[lone] = [id_code[arts[d].id] for d in lone]
    # each source's documents, in input order
    counts = np.bincount(doc_key, minlength=len(names))[: len(names)]
    grouped = np.argsort(doc_key, kind="stable")
    cuts = np.cumsum(counts).tolist()
    by_source = {src: grouped[c - k : c]
                 for src, k, c in zip(names, counts.tolist(), cuts, strict=True)}
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    taught = [src for src, members in by_source.items() if len(members) >= min_docs]
    if workers is None:
        from .chunks import worker_count

        workers = worker_count() if n >= PARALLEL_MIN_DOCS else 1
    # sources dealt to blocks, the largest first, each to the block with the
    # fewest documents (the result does not depend on the blocks)
    n_blocks = min(len(taught), 2 * workers if workers > 1 else 1)
    blocks: list[list[tuple[str, np.ndarray]]] = [[] for _ in range(n_blocks)]
    load = [0] * n_blocks
    for k in sorted(range(len(taught)), key=lambda k: (-len(by_source[taught[k]]), k)):
        b = load.index(min(load))
        blocks[b].append((taught[k], by_source[taught[k]]))
        load[b] += len(by_source[taught[k]])
    from .forked import fork_map

    state = _SourceState(starts, hashes, words, min_docs, min_share)
    kept_of = {src: kept for block, got in zip(
        blocks, fork_map(_learn_sources, state, blocks, workers), strict=True
    ) for (src, _members), kept in zip(block, got, strict=True)}
    learned_hashes: dict[str, np.ndarray] = {}
    for src in taught:  # (in order of first appearance)
        if len(kept_of[src]):
            learned_hashes[src] = kept_of[src]
    learned: dict[str, frozenset[str]] = {}
    if learned_hashes:
        # lines repeated across sources (syndication) are kept when long enough
        every = unique_sorted(np.concatenate(list(learned_hashes.values())))
        occ = np.isin(hashes, every)
        pairs = np.unique(np.stack([hashes[occ].view(np.int64), doc_key[doc[occ]]], axis=1),
                          axis=0)
        line, n_keys = np.unique(pairs[:, 0], return_counts=True)
        several = set(line[n_keys >= 2].view(np.uint64).tolist())
        line_d, n_docs = np.unique(hashes[occ], return_counts=True)  # (a doc's lines are distinct)
        several -= set(line_d[n_docs >= SYNDICATION_MAX_DOCS].tolist())  # a network's footer
        long_line = dict(zip(hashes[occ].tolist(), (words[occ] >= syndication_min_words)
                             .tolist(), strict=True))
        for src, kept in learned_hashes.items():
            keep = {h for h in kept.tolist() if not (long_line[h] and h in several)}
            if keep:
                keep = _minor_share(keep, by_source[src],
                                    starts, hashes, words)
            if keep:
                learned[src] = _lines_of(keep, by_source[src].tolist(), arts, starts, hashes)
    return BoilerplateModel(
        sources=learned,
        min_docs=min_docs,
        min_share=min_share,
        syndication_min_words=syndication_min_words,
        documents=n,
    )


#: learn_from_articles reads lines in forked workers from this many articles on,
PARALLEL_MIN_DOCS = 20_000
#: ... in blocks of at most this many articles.
LEARN_BLOCK_DOCS = 20_000


def _line_hash_parts(
    arts: Sequence[Article], lo: int, hi: int, workers: int | None = None
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`_line_hashes` of the articles ``lo`` to ``hi``, in blocks of at
    most :data:`LEARN_BLOCK_DOCS` (a block's lines are held at once), by forked
    workers when there are many (``workers``: default
    :func:`newsdedup.chunks.worker_count` from :data:`PARALLEL_MIN_DOCS` articles)."""
    from .chunks import _init_worker, worker_count
    from .forked import fork_map

    n = hi - lo
    if workers is None:
        workers = worker_count() if n >= PARALLEL_MIN_DOCS else 1
    k = max(1, min(n, max(4 * workers if workers > 1 else 1, -(-n // LEARN_BLOCK_DOCS))))
    bounds = [(lo + n * i // k, lo + n * (i + 1) // k) for i in range(k)]
    if workers > 1 and k > 1:
        _init_worker()  # the compiled kernels loaded once, here: the workers inherit them
    return fork_map(_line_hashes, arts, bounds, workers)


#: :class:`LineHashesAhead` runs at most this many children at once while the input is read.
AHEAD_AT_ONCE = 2
#: ... and, from 8 blocks on, hands out blocks of an eighth of the articles handed so far
#: (a fork copies the page tables of a reader that has grown: 57 forks of blocks of
#: 20,000 cost a reader of 1M articles about 1.5 s; the last block, hashed after the
#: reading, stays a small share of the input).
AHEAD_GROWTH = 8


def _hash_child(conn: Any, arts: Sequence[Article], lo: int, hi: int, parent: int) -> None:
    """In a forked child of :class:`LineHashesAhead`: send :func:`_line_hashes` of a block.
    (An interrupt is the parent's to handle: it stops its children.)"""
    from .forked import paused_gc, watch_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent(parent)
    try:
        with paused_gc():
            conn.send(_line_hashes(arts, (lo, hi)))
    finally:
        conn.close()


class LineHashesAhead:
    """The line hashes learning reads (:func:`_line_hashes`), computed while the
    articles are still being read.

    The reader appends articles to ``articles`` and calls :meth:`step` once
    ``len(articles)`` reaches :attr:`next_at`: each block of
    :data:`LEARN_BLOCK_DOCS` articles read (or of an :data:`AHEAD_GROWTH`-th of
    those handed out before, when more) is then hashed by a forked child
    (at most :data:`AHEAD_AT_ONCE` at a time), which inherits the
    articles (nothing but the hashes goes through a pipe). :meth:`parts` hashes
    the rest with ``workers`` processes and returns every block's hashes, in
    order (for ``learn_from_articles(..., line_parts=...)``); :meth:`close`
    stops children still running (an input that fails to read). Does nothing
    with one worker, where fork is unavailable, for fewer articles than a
    block, or when no article of the first block has a source (learning needs
    sources; :meth:`parts` then returns None)."""

    def __init__(self, articles: list[Article], workers: int):
        from .forked import fork_available

        self.articles = articles
        self.workers = workers
        #: ``len(articles)`` at which to call :meth:`step` next (never, when off)
        self.next_at = LEARN_BLOCK_DOCS if workers > 1 and fork_available() else 2**62
        self._handed = 0  # articles handed to children
        self._running: list[tuple[int, Any, Any]] = []  # (lo, process, connection)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def step(self) -> None:
        """Hand the next full block to a child when fewer than
        :data:`AHEAD_AT_ONCE` are busy."""
        self._collect(wait=False)
        size = max(LEARN_BLOCK_DOCS, self._handed // AHEAD_GROWTH)
        if (len(self._running) < AHEAD_AT_ONCE
                and len(self.articles) - self._handed >= size):
            from .forked import fork_available

            lo, hi = self._handed, self._handed + size
            if not fork_available() or not lo and all(
                source_of(a) is None for a in self.articles[lo:hi]
            ):
                # (no source in the first block: learning will most likely not
                # run, and children would only slow the reader down)
                self.next_at = 2**62
                return
            self._start(lo, hi)
        self.next_at = len(self.articles) + 1024

    def _start(self, lo: int, hi: int) -> None:
        import multiprocessing as mp

        from .chunks import _init_worker

        if not self._handed:
            _init_worker()  # the compiled kernels loaded here: the children inherit them
        ctx = mp.get_context("fork")
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_hash_child, args=(send, self.articles, lo, hi, os.getpid()),
                           daemon=True)
        # An interrupt that came during fork() would be raised in the at-fork
        # handlers, which ignore exceptions: held back until fork() is done, it is
        # raised here (and the reader stops; see close()).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        send.close()
        self._running.append((lo, proc, recv))
        self._handed = hi

    def _collect(self, wait: bool) -> None:
        from .errors import WorkerError

        while self._running:
            lo, proc, conn = self._running[0]
            if not wait and not conn.poll():
                return
            try:
                part = conn.recv()
            except EOFError as err:
                self.close()
                raise WorkerError(
                    f"reading lines for learning (articles {lo:,} on; the worker "
                    f"exited with code {proc.exitcode})") from err
            conn.close()
            proc.join()
            self._running.pop(0)
            self._parts.append(part)

    def parts(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
        """Every article's line hashes, block by block, in order (None: nothing
        was handed to a child; learning then reads them itself)."""
        if not self._handed:
            return None
        # the rest first, while the children still busy finish (waiting for them
        # first would leave a core idle once one is left)
        n = len(self.articles)
        rest = (_line_hash_parts(self.articles, self._handed, n, self.workers)
                if n > self._handed else [])
        self._collect(wait=True)
        done, self._parts = self._parts, []  # handed over (not kept beyond learning)
        return done + rest

    def close(self) -> None:
        """Stop the children still running (their blocks are not needed)."""
        for _lo, proc, conn in self._running:
            proc.terminate()
            proc.join()
            conn.close()
        self._running.clear()
        self._parts.clear()


def _line_hashes(
    arts: Sequence[Article], bounds: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the articles in ``bounds``: the 64-bit hashes (:func:`_hash_lines`) of
    each one's distinct non-empty normalised lines, their ``\\w+`` word counts,
    and how many lines each article has.

    With numba, the ASCII lines of every article are read in one compiled pass
    (:func:`newsdedup._native.ascii_line_hashes`: the same lines, normalised and
    hashed as here) and only the other lines one by one; an article's lines
    then come in hash order (their order is not used)."""
    from . import _native

    block = arts[bounds[0] : bounds[1]]
    if not _native.available():
        lines: list[str] = []
        sizes = []
        for art in block:
            seen = dict.fromkeys(normalized_lines(art.full_text))
            seen.pop("", None)
            lines += seen
            sizes.append(len(seen))
        encoded = [x.encode("utf-8", "surrogatepass") for x in lines]
        words = np.asarray(_word_counts(lines), dtype=np.int64).reshape(-1)
        return _hash_lines(encoded), words, np.asarray(sizes, dtype=np.int64)

    plain: list[str] = []  # per article, its ASCII lines (the whole text if ASCII)
    odd: list[str] = []  # the other lines, normalised ...
    odd_doc: list[int] = []  # ... and their articles
    for k, art in enumerate(block):
        text = art.full_text
        if text.isascii():
            plain.append(text)
            continue
        ascii_lines = []
        for x in text.splitlines():
            if x.isascii():
                ascii_lines.append(x)
            else:
                odd.append(x)
                odd_doc.append(k)
        plain.append("\n".join(ascii_lines))
    p_hashes, p_words, p_sizes = _native.ascii_line_hashes(plain)
    # the other lines normalised together (one compiled pass for most), empty ones left out
    kept = [(x, k) for x, k in zip(normalized_encoded(odd), odd_doc, strict=True) if x]
    if not kept:
        return p_hashes, p_words, p_sizes
    encoded = [x for x, _ in kept]
    doc = np.concatenate([np.repeat(np.arange(len(block), dtype=np.int64), p_sizes),
                          np.fromiter((k for _, k in kept), dtype=np.int64, count=len(kept))])
    hashes = np.concatenate([p_hashes, _hash_lines(encoded)])
    words = np.concatenate([p_words, _native.token_counts_encoded(encoded).astype(np.int64)])
    order = np.lexsort((hashes, doc))  # distinct (article, line hash), article by article
    doc, hashes, words = doc[order], hashes[order], words[order]
    keep = np.r_[True, (doc[1:] != doc[:-1]) | (hashes[1:] != hashes[:-1])]
    return hashes[keep], words[keep], np.bincount(doc[keep], minlength=len(block))


def _hash_lines(encoded: list[bytes]) -> np.ndarray:
    """64-bit hashes of encoded normalised lines: the compiled line hash with
    numba (that :func:`_line_hashes` gives ASCII articles), else xxh3-64."""
    from . import _native

    if _native.available():
        return _native.line_hashes(encoded)
    import xxhash

    return np.fromiter(map(xxhash.xxh3_64_intdigest, encoded), dtype=np.uint64,
                       count=len(encoded))


class _SourceState(NamedTuple):
    """What :func:`_learn_sources` reads (inherited by forked workers)."""

    starts: np.ndarray
    hashes: np.ndarray
    words: np.ndarray
    min_docs: int
    min_share: float


def _learn_sources(st: _SourceState, block: list[tuple[str, np.ndarray]]) -> list[np.ndarray]:
    """:func:`_learn_source` of each (source, its documents) of ``block``."""
    return [_learn_source(members, st.starts, st.hashes, st.words, st.min_docs, st.min_share)
            for _src, members in block]


def _learn_source(
    members: np.ndarray, starts: np.ndarray, hashes: np.ndarray, words: np.ndarray,
    min_docs: int, min_share: float,
) -> np.ndarray:
    """The line hashes one source's documents (``members``) teach, before the
    syndication check: lines in at least ``min_docs`` documents and in enough of
    the source's stories (documents joined by a shared long line that is not
    itself a candidate; see :func:`learn_from_articles_reference`)."""
    pos, local = _positions(members, starts)
    h = hashes[pos]
    uniq, inv, n_docs = np.unique(h, return_inverse=True, return_counts=True)
    cand = n_docs >= min_docs
    if not cand.any():
        return np.zeros(0, dtype=np.uint64)
    wc = np.zeros(len(uniq), dtype=np.int64)
    wc[inv] = words[pos]
    story = ~cand & (wc >= STORY_LINE_WORDS)
    is_story = story[inv]
    evidence = np.zeros(len(members), dtype=bool)
    evidence[local[is_story]] = True
    # documents sharing a story line are one story: connected components; the
    # (line, document) pairs sorted as one int64 code each (a lexsort of the
    # two columns took 9 of a source's 24 ms)
    n_m = len(members)
    pair = inv[is_story].astype(np.int64) * n_m + local[is_story]
    pair.sort()
    s_line, s_doc = pair // n_m, pair % n_m
    same = s_line[1:] == s_line[:-1]
    label = components(len(members), s_doc[:-1][same], s_doc[1:][same])
    n_stories = len(unique_sorted(label[evidence]))
    c_occ = cand[inv] & evidence[local]
    # the distinct (line, story) pairs, as one int64 code each (a 2-column
    # np.unique(axis=0) sorts rows as bytes: 0.62 against 0.02 s for 1.2M rows)
    codes = unique_sorted(inv[c_occ].astype(np.int64) * n_m + label[local[c_occ]])
    n_story = np.bincount(codes // n_m, minlength=len(uniq))
    need = max(min_docs, min_share * n_stories)
    return uniq[cand & (n_story >= need)]


def _positions(members: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of ``members``' lines in the line arrays, and for each the
    index of its document in ``members``."""
    lo, hi = starts[members], starts[members + 1]
    lens = hi - lo
    pos = np.repeat(lo - np.cumsum(np.r_[0, lens[:-1]]), lens) + np.arange(int(lens.sum()))
    return pos, np.repeat(np.arange(len(members), dtype=np.int64), lens)


def _minor_share(keep: set[int], members: np.ndarray, starts: np.ndarray,
                 hashes: np.ndarray, words: np.ndarray) -> set[int]:
    """The hashes of ``keep`` (a source's learned lines) that remain learned: those
    of which fewer than half of the source's documents (``members``) that contain
    them would lose more than :data:`MAX_LEARNED_SHARE` of their words to ``keep``
    (see :func:`_minor_share_reference`)."""
    pos, local = _positions(members, starts)
    h, w = hashes[pos], words[pos]
    hit = np.isin(h, np.fromiter(keep, dtype=np.uint64, count=len(keep)))
    total = np.bincount(local, weights=w, minlength=len(members))
    covered = np.bincount(local[hit], weights=w[hit], minlength=len(members))
    most = covered > MAX_LEARNED_SHARE * total  # (word counts are exact in float64)
    line, inv = np.unique(h[hit], return_inverse=True)
    n_docs = np.bincount(inv, minlength=len(line))
    n_most = np.bincount(inv[most[local[hit]]], minlength=len(line))
    return set(line[2 * n_most < n_docs].tolist())


def _minor_share_reference(keep: set[str], docs: list[list[str]]) -> set[str]:
    """The lines of ``keep`` (a source's learned lines) that remain learned: those
    of which fewer than half of the source's documents (``docs``, each its distinct
    normalised lines) that contain them would lose more than
    :data:`MAX_LEARNED_SHARE` of their words (``\\w+`` words of those lines) to
    ``keep``. Boilerplate is a minority of a page; lines that make up most of
    the documents they are in are a story, seen in copies the story guard could
    not join (each copy with a long line of its own)."""
    n_docs: Counter[str] = Counter()
    n_most: Counter[str] = Counter()
    for norms in docs:
        present = [n for n in norms if n in keep]
        if not present:
            continue
        total = sum(len(_WORD.findall(n)) for n in norms)
        covered = sum(len(_WORD.findall(n)) for n in present)
        most = covered > MAX_LEARNED_SHARE * total
        for n in present:
            n_docs[n] += 1
            n_most[n] += most
    return {n for n in keep if 2 * n_most[n] < n_docs[n]}


def _lines_of(keep: set[int], members: list[int], arts: Sequence[Article],
              starts: np.ndarray, hashes: np.ndarray) -> frozenset[str]:
    """The normalised lines of ``members``' articles whose hashes are in ``keep``
    (each is read from the first article that has it)."""
    out: dict[int, str] = {}
    for i in members:
        if not keep.intersection(hashes[starts[i] : starts[i + 1]].tolist()):
            continue
        lines = [x for x in normalized_lines(arts[i].full_text) if x]
        line_hashes = _hash_lines([x.encode("utf-8", "surrogatepass") for x in lines])
        for x, hx in zip(lines, line_hashes.tolist(), strict=True):
            if hx in keep:
                out.setdefault(hx, x)
        if len(out) == len(keep):
            break
    return frozenset(out.values())


def learn_from_articles_reference(
    articles: Iterable[Article],
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
) -> BoilerplateModel:
    """Learn a model from loaded articles: the plain reference implementation of
    :func:`learn_from_articles`."""
    by_source: dict[str, list[list[str]]] = defaultdict(list)
    line_sources: dict[str, set[str]] = defaultdict(set)
    line_docs: Counter[str] = Counter()
    total = 0
    for art in articles:
        total += 1
        src = source_of(art)
        norms = list(
            dict.fromkeys(n for n in (normalize(x) for x in art.full_text.splitlines()) if n)
        )
        for n in norms:
            line_sources[n].add(src or f"\x00{art.id}")
            line_docs[n] += 1
        if src is not None:
            by_source[src].append(norms)
    learned: dict[str, frozenset[str]] = {}
    for src, docs in by_source.items():
        if len(docs) < min_docs:
            continue
        counts: dict[str, int] = defaultdict(int)
        for norms in docs:
            for n in norms:
                counts[n] += 1
        candidates = {n for n, c in counts.items() if c >= min_docs}
        if not candidates:
            continue
        # documents sharing a long non-candidate line are one story
        uf = _UnionFind(len(docs))
        first_doc: dict[str, int] = {}
        for i, norms in enumerate(docs):
            for n in norms:
                if n in candidates or len(_WORD.findall(n)) < STORY_LINE_WORDS:
                    continue
                j = first_doc.setdefault(n, i)
                if j != i:
                    uf.union(i, j)
        # only a document with prose of its own is evidence: one whose every long
        # line is repeated elsewhere (an update, a re-send) says nothing about boilerplate
        evidence = [
            any(n not in candidates and len(_WORD.findall(n)) >= STORY_LINE_WORDS for n in norms)
            for norms in docs
        ]
        stories: dict[str, set[int]] = defaultdict(set)
        for i, norms in enumerate(docs):
            if not evidence[i]:
                continue
            root = uf.find(i)
            for n in norms:
                if n in candidates:
                    stories[n].add(root)
        n_stories = len({uf.find(i) for i in range(len(docs)) if evidence[i]})
        need = max(min_docs, min_share * n_stories)
        keep = set()
        for n, roots in stories.items():
            if len(roots) < need:
                continue
            if (len(line_sources[n]) > 1 and len(_WORD.findall(n)) >= syndication_min_words
                    and line_docs[n] < SYNDICATION_MAX_DOCS):
                continue  # repeated across sources: syndication, kept
            keep.add(n)
        if keep:
            keep = _minor_share_reference(keep, docs)
        if keep:
            learned[src] = frozenset(keep)
    return BoilerplateModel(
        sources=learned,
        min_docs=min_docs,
        min_share=min_share,
        syndication_min_words=syndication_min_words,
        documents=total,
    )


def learn_boilerplate(
    docs: Any,
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
) -> BoilerplateModel:
    """Learn each source's repeated lines from ``docs``.

    A line is not learned when it would strip most of the documents that carry
    it (:data:`MAX_LEARNED_SHARE`): such lines are a story the source repeats.

    Args:
        docs: anything :func:`newsdedup.cluster` accepts (paths, records, Articles).
        min_docs: a line must occur in at least this many different stories of a source.
        min_share: ... and in at least this share of the source's stories.
        syndication_min_words: a line of at least this many words that occurs
            in two or more sources is not learned (syndicated text), unless
            :data:`SYNDICATION_MAX_DOCS` documents or more have it (the footer
            of a network of sites).

    Returns:
        A :class:`BoilerplateModel`; pass it as ``cluster(..., boilerplate=model)``
        or ``strip(text, source=..., model=model)``, or ``save()`` it.

    >>> footer = "Follow the Daily Planet for more local news every day"
    >>> story = "Story number {} is told here in a long line of words."
    >>> docs = [{"id": str(i), "source": "planet", "text": story.format(i) + "\\n" + footer}
    ...         for i in range(4)]
    >>> model = learn_boilerplate(docs)
    >>> model.lines_for("planet") == {footer.lower()}
    True
    """
    from .load import iter_articles

    for name, value, low in (
        ("min_docs", min_docs, 2),
        ("syndication_min_words", syndication_min_words, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(
                f"The {name!r} parameter of learn_boilerplate must be an int in the range "
                f"[{low}, inf). Got {value!r} instead."
            )
    if (
        isinstance(min_share, bool)
        or not isinstance(min_share, (int, float))
        or not 0 <= min_share <= 1
    ):
        raise ConfigError(
            "The 'min_share' parameter of learn_boilerplate must be a float in the range "
            f"[0.0, 1.0]. Got {min_share!r} instead."
        )
    return learn_from_articles(
        iter_articles(docs),
        min_docs=min_docs,
        min_share=float(min_share),
        syndication_min_words=syndication_min_words,
    )


def configured_boilerplate(config: Any) -> BoilerplateModel | None:
    """The model given in ``config.boilerplate``, if it is one."""
    value = getattr(config, "boilerplate", None)
    return value if isinstance(value, BoilerplateModel) else None


def learn_for_run(
    articles: list[Article], config: Any, ahead: LineHashesAhead | None = None
) -> BoilerplateModel | None:
    """The model a batch run uses: learned from ``articles`` under ``boilerplate="auto"``
    (from :data:`AUTO_MIN_DOCS` documents on, when any source repeats a line),
    the configured model, or None. ``ahead``: the articles' line hashes being
    computed while they were read (:class:`LineHashesAhead`)."""
    value = getattr(config, "boilerplate", "off")
    if isinstance(value, BoilerplateModel):
        return value
    if value != "auto" or not getattr(config, "strip", True) or len(articles) < AUTO_MIN_DOCS:
        return None
    # Only a source with enough documents can teach anything: without one (records
    # with no source, URL or file path) the model would be empty.
    sources = list(map(source_of, articles))
    counts = Counter(sources)
    counts.pop(None, None)
    if not counts or max(counts.values()) < LEARN_MIN_DOCS:
        return None
    model = learn_from_articles(articles, line_parts=ahead.parts() if ahead else None,
                                sources=sources)
    return model if len(model) else None
