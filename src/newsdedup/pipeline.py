"""The batch pipeline and the configured façade :class:`Deduper`.

load -> strip -> normalize -> shingle -> sign -> candidates -> verify -> cluster.

Determinism: documents are processed in order of their ids, so the result does
not depend on the order of the input.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .boilerplate import (
    BoilerplateModel,
    LineHashesAhead,
    configured_boilerplate,
    learn_for_run,
    source_of,
)
from .chunks import Permuted, prepare_stream, release_freed_memory, remove_spool, worker_count
from .cluster import order_clusters
from .config import Config
from .forked import paused_gc
from .html import veto
from .index import LSHParams, candidate_pairs, choose_params
from .load import iter_articles
from .normalize import normalize
from .result import Clusters, DocumentTable, Stats
from .score import link
from .shingle import EMPTY, Shingler, tokenize
from .sign import SignatureSpec
from .strip import strip
from .types import Article, Cluster, Match, Skipped, Stripped

_LOG = logging.getLogger("newsdedup")

#: Show a progress bar from this many documents on (when progress is "auto").
PROGRESS_MIN_DOCS = 2000


class SkippedInputWarning(UserWarning):
    """An input was skipped under ``errors="skip"`` (it is listed in ``Clusters.skipped``)."""


@dataclass(slots=True)
class Prepared:
    """One document after strip, normalize and shingle."""

    article: Article
    stripped: Stripped
    normalized: str
    n_words: int
    shingles: np.ndarray


def lsh_params(config: Config) -> LSHParams:
    """The LSH banding a config implies."""
    return choose_params(
        config.threshold, config.num_perm, config.recall_at_threshold,
        bands=config.bands, rows=config.rows,
    )


def signature_spec(config: Config) -> SignatureSpec:
    return SignatureSpec(
        shingle_size=config.shingle_size, num_perm=config.num_perm, seed=config.seed
    )


def prepare(
    article: Article, config: Config, shingler: Shingler,
    boilerplate: BoilerplateModel | None = None,
) -> Prepared:
    """Strip, normalise, tokenise and shingle one article.

    ``boilerplate`` (a model learned from the run's input) overrides a model
    given in ``config.boilerplate``.
    """
    full = article.full_text
    if config.strip:
        model = boilerplate or configured_boilerplate(config)
        stripped = strip(full, source=source_of(article), model=model)
        if article.agreed is not None:  # extracted from HTML: see html.veto
            stripped = veto(full, stripped, article.agreed, body=article.text)
    else:
        stripped = Stripped(text=full)
    norm = normalize(stripped.text)
    tokens = tokenize(norm)
    if len(tokens) < max(config.min_words, config.shingle_size):
        shingles = EMPTY
    else:
        shingles = shingler.shingles(tokens)
    return Prepared(
        article=article, stripped=stripped, normalized=norm, n_words=len(tokens),
        shingles=shingles,
    )


def _representative_picker(
    ids: Sequence[str], lengths: np.ndarray, published: Sequence[datetime | None], how: str
) -> Any:
    if how == "longest":
        length = lengths.tolist()
        return lambda g: min(g, key=lambda i: (-length[i], ids[i]))
    if how == "earliest":
        far = datetime.max.replace(tzinfo=timezone.utc)

        def when(i: int) -> datetime:
            p = published[i]
            if p is None:
                return far
            return p if p.tzinfo else p.replace(tzinfo=timezone.utc)

        return lambda g: min(g, key=lambda i: (when(i), ids[i]))
    return lambda g: min(g, key=lambda i: ids[i])


def _drain(items: list[Any]) -> Any:
    """Yield the items of a list in order, letting go of each one as it is taken."""
    items.reverse()
    while items:
        yield items.pop()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _caller_level() -> int:
    """The ``stacklevel`` of a warning that points at the first frame outside
    newsdedup (the user's call; the depth of the reading stages varies)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(
            os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _interactive() -> bool:
    """Whether standard error is a terminal (a pipeline's log file gets no bar)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


class _ChunkProgress:
    """A progress bar fed per chunk: shown when asked, or (progress=None) once the
    input has passed PROGRESS_MIN_DOCS documents, on a terminal."""

    def __init__(self, progress: bool | None):
        self.progress = progress
        self.done = 0
        self.bar: Any = None

    def update(self, k: int) -> None:
        self.done += k
        if self.bar is None and (
            self.progress or (self.progress is None and self.done >= PROGRESS_MIN_DOCS
                              and _interactive())
        ):
            from tqdm import tqdm

            class _Bar(tqdm):  # type: ignore[misc]
                # No tqdm monitor thread: worker processes are forked later
                # (prepare, link), and fork is only used while no thread runs.
                monitor_interval = 0

            self.bar = _Bar(desc="shingling", unit="doc", leave=False, initial=self.done - k)
        if self.bar is not None:
            self.bar.update(k)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(
    inputs: Any, config: Config, *, progress: bool | None = None
) -> Clusters:
    """Cluster ``inputs`` with ``config`` (see :func:`newsdedup.cluster`)."""
    t0 = time.perf_counter()
    params = lsh_params(config)
    skipped: list[Skipped] = []

    def on_skip(s: Skipped) -> None:
        skipped.append(s)
        where = f"{s.source}:{s.line}" if s.line is not None else s.source
        warnings.warn(f"skipped {where}: {s.reason}", SkippedInputWarning,
                      stacklevel=_caller_level())

    # Streaming preparation (newsdedup.chunks): chunks of articles are stripped,
    # normalised, shingled and signed in worker processes; only compact state is
    # kept per document. Documents are then put in id order (determinism).
    source: Any = iter_articles(inputs, errors=config.errors, on_skip=on_skip)
    size = None  # the number of articles, once they are all read
    learned = None
    if config.strip and config.boilerplate == "auto":
        # Learning per-source boilerplate needs the whole input first. Reading
        # makes records and articles, no reference cycles: the cyclic collector's
        # passes over the growing input only cost time (1M articles read
        # 16.3 -> 12.5 s; see forked.paused_gc).
        with paused_gc():
            # the lines learning reads are hashed by forked children while the
            # input is still being read (the reader keeps a core)
            pending: list[Any] = []
            ahead = LineHashesAhead(pending, worker_count())
            try:
                for article in source:
                    pending.append(article)
                    if len(pending) >= ahead.next_at:
                        ahead.step()
                learned = learn_for_run(pending, config, ahead)
            finally:
                ahead.close()
        release_freed_memory()  # what learning held (every line of every article)
        size = len(pending)
        source = _drain(pending)
    elif config.strip:
        learned = configured_boilerplate(config)
    t_learn = time.perf_counter()
    bar = _ChunkProgress(progress)
    prep = prepare_stream(source, config, model=learned, on_chunk=bar.update, size=size)
    cols = None
    try:
        bar.close()
        cols = prep.finish()
        release_freed_memory()  # the articles read, now prepared
        t_prep = time.perf_counter()
        # From here on only this process's own objects are made (exact groups, LSH,
        # verdicts, clusters, the result): no reference cycles, so the cyclic
        # collector is paused (see forked.paused_gc).
        with paused_gc():
            return _cluster_prepared(prep, cols, config, params, skipped, (t0, t_learn, t_prep))
    except BaseException:
        # (an interrupt or error anywhere after preparing: the spooled texts
        # removed, their lock released)
        if cols is not None:
            cols.close()
        elif prep.spool_dir is not None:
            remove_spool(prep.spool_dir, prep.spool_lock)
        raise


def exact_groups(
    keys: Sequence[bytes], order: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Exact duplicates among documents in id order: ``keys[order[i]]`` is
    document ``i``'s 16-byte key (the hash of its normalised cleaned text).
    Returns (whether each document leads its group: the first eligible one of
    each key; (leader, i) for every other eligible document, by ``i``).
    Sorted as arrays (1M documents: 0.25 instead of 0.72 s for a loop with a
    dict, :func:`exact_groups_reference`)."""
    is_leader = eligible.copy()
    at = np.flatnonzero(eligible)
    if not len(at):
        return is_leader, []
    joined = b"".join(keys)
    if len(joined) != 16 * len(keys):  # (keys are xxh3-128 digests: never)
        return exact_groups_reference(keys, order, eligible)
    both = np.frombuffer(joined, dtype=np.uint64).reshape(-1, 2)[order[at]]
    by = np.lexsort((both[:, 1], both[:, 0]))  # by key (stable: then in id order)
    hi, lo, docs = both[by, 0], both[by, 1], at[by]
    new = np.r_[True, (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])]
    lead = docs[new][np.cumsum(new) - 1]
    later = ~new
    is_leader[docs[later]] = False
    edges = np.stack([lead[later], docs[later]], axis=1)
    edges = edges[np.argsort(edges[:, 1], kind="stable")]
    return is_leader, [(a, b) for a, b in edges.tolist()]


def exact_groups_reference(
    keys: Sequence[bytes], order: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """:func:`exact_groups` as a loop (the reference it is tested against)."""
    leader_of: dict[bytes, int] = {}
    exact_edges: list[tuple[int, int]] = []
    is_leader = eligible.copy()
    for i in np.flatnonzero(eligible).tolist():
        lead = leader_of.setdefault(keys[int(order[i])], i)
        if lead != i:
            is_leader[i] = False
            exact_edges.append((lead, i))
    return is_leader, exact_edges


def _cluster_prepared(
    prep: Any, cols: Any, config: Config, params: LSHParams, skipped: list[Skipped],
    times: tuple[float, float, float],
) -> Clusters:
    """Exact groups, LSH candidates, link and the result, for prepared documents."""
    t0, t_learn, t_prep = times
    n = len(prep.ids)
    order = np.array(sorted(range(n), key=prep.ids.__getitem__), dtype=np.int64)
    ids = [prep.ids[g] for g in order.tolist()]
    titles = [prep.titles[g] for g in order.tolist()]
    published = [prep.published[g] for g in order.tolist()]
    n_words = cols.n_words[order]
    cleaned_length = cols.cleaned_length[order]
    shingles = Permuted(cols.shingles, order)
    texts = Permuted(cols.texts, order)
    n_shingles = cols.shingles.sizes()[order]
    eligible = n_shingles > 0

    # Exact duplicates (same normalised cleaned text) are grouped before LSH;
    # only the first of each group (by id) is signed and indexed.
    # (score.link judges them: the template guard may refuse one.)
    is_leader, exact_edges = exact_groups(cols.keys, order, eligible)
    leaders = np.flatnonzero(is_leader)
    sigs = cols.signatures[order[leaders]]
    pairs = candidate_pairs(sigs, params, max_bucket=config.max_bucket, workers=worker_count())
    t_lsh = time.perf_counter()
    # Candidates from three paths (copy LSH, passage samples, rewrite LSH),
    # verdicts (relation, template guard) and guarded clustering: score.link.
    linked = link(
        ids=ids, texts=texts, titles=titles, published=published, shingles=shingles,
        n_words=n_words.tolist(), leaders=leaders, copy_pairs=pairs,
        exact_edges=exact_edges, config=config,
        sources=[prep.outlets[g] for g in order.tolist()],
        originals=None if prep.articles is None
        else [prep.articles[g].full_text for g in order.tolist()],
    )
    # The spooled texts' files are deleted while the result is made: the
    # system's work of freeing their cached pages (0.8 s for the 2.7 GB of a
    # million articles) overlaps it. Joined before returning: no thread is left
    # running (fork_available).
    closing = threading.Thread(target=cols.close, name="newsdedup-spool-delete")
    closing.start()
    try:
        t_link = time.perf_counter()
        matches = linked.matches
        verified = len(linked.verdicts)

        pick = _representative_picker(ids, cleaned_length, published, config.representative)
        ordered = order_clusters(linked.groups, ids, pick)
        clusters = [
            Cluster(id=k, members=members, representative=rep)
            for k, (members, rep) in enumerate(ordered)
        ]
        matches.sort(key=lambda m: (m.a, m.b))
        documents = DocumentTable(
            ids=ids, titles=titles, sources=prep.sources, where=order, n_words=n_words,
            n_shingles=n_shingles, cleaned_length=cleaned_length, removed=cols.removed)
        stats = Stats(
            documents=n, too_short=int(n - eligible.sum()),
            exact_duplicates=sum(1 for m in matches if m.relation == "exact"),
            candidates=linked.candidates, verified=verified,
            linked=sum(1 for m in matches if m.relation != "exact"),
            seconds=time.perf_counter() - t0,
        )
        _LOG.debug(
            "cluster(): %d documents, %d workers; read%s %.2f s, prepare %.2f s, exact + LSH "
            "%.2f s, link %.2f s, result %.2f s", n, prep.workers,
            " + learn boilerplate" if config.strip and config.boilerplate == "auto" else "",
            t_learn - t0, t_prep - t_learn, t_lsh - t_prep, t_link - t_lsh,
            time.perf_counter() - t_link,
        )
        return Clusters(
            clusters=clusters, pairs=matches, skipped=skipped, documents=documents, config=config,
            lsh=params, stats=stats,
            articles={a.id: a for a in prep.articles} if prep.articles is not None else {},
            verdicts=linked.verdicts, refused=linked.refused,
        )
    finally:
        closing.join()


class Deduper:
    """A configured deduplicator.

    >>> d = Deduper(threshold=0.6)
    >>> d.config.threshold
    0.6
    >>> (d.lsh.bands, d.lsh.rows)
    (32, 4)

    All options are keyword-only and validated at construction (see
    :class:`~newsdedup.config.Config`).
    """

    def __init__(self, config: Config | None = None, **options: Any):
        if config is not None and not isinstance(config, Config):
            hint = (" (an index is opened with Deduper.open(location))"
                    if isinstance(config, (str, os.PathLike)) else "")
            raise TypeError(f"Deduper() takes a Config or keyword options, got "
                            f"{type(config).__name__} {config!r}{hint}")
        if config is not None and options:
            config = config.replace(**options)
        self.config = config if config is not None else Config.from_options(**options)
        self.lsh = lsh_params(self.config)
        self._stream: Any = None
        self._closed = False
        self._making = threading.Lock()  # (the first calls of several threads: one stream)

    def __repr__(self) -> str:
        return f"Deduper({self.config!r})"

    def cluster(self, inputs: Any, *, progress: bool | None = None) -> Clusters:
        """Cluster ``inputs``: paths, directories, globs, or iterables of texts,
        records or Articles. Every input document ends up in exactly one cluster."""
        return run(inputs, self.config, progress=progress)

    # Streaming (see newsdedup.stream): an index of what was added so far,
    # in memory unless the Deduper was made with Deduper.open().

    @classmethod
    def open(cls, location: Any, config: Config | None = None, **options: Any) -> Deduper:
        """A Deduper whose streaming index lives at ``location``: an SQLite file
        path, or a ``redis://host:port/db`` URL shared by several processes.

        Raises:
            IncompatibleSignatureError: the index was built with another
                configuration (the message names each difference).
            IndexConnectionError: the backend cannot be reached.
        """
        from .store import open_store
        from .stream import Stream

        deduper = cls(config, **options)
        store = open_store(location)
        try:
            deduper._stream = Stream(deduper.config, store)
        except BaseException:
            store.close()
            raise
        return deduper

    def _streamer(self) -> Any:
        if self._stream is None:
            from .store import IndexClosedError, MemoryStore
            from .stream import Stream

            with self._making:
                if self._closed:  # closed before it indexed anything
                    raise IndexClosedError("the in-memory index is closed: make a new "
                                           "Deduper to index again")
                if self._stream is None:
                    self._stream = Stream(self.config, MemoryStore())
        return self._stream

    def __getstate__(self) -> dict[str, Any]:
        from .store import MemoryStore

        if self._stream is not None and not isinstance(self._stream.store, MemoryStore):
            raise TypeError(
                f"a Deduper with a persistent index ({self._stream.store.location}) cannot "
                "be pickled: open the index again where it is needed (Deduper.open)"
            )
        state = dict(self.__dict__)
        del state["_making"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._making = threading.Lock()

    def add(self, doc: Any) -> list[Match]:
        """Index one document (an Article or a record dict) and return its
        verified matches with what was indexed before, strongest first."""
        return list(self._streamer().add_many([doc])[0].matches)

    def add_many(self, docs: Any) -> list[Any]:
        """Index documents in one transaction; return a ``Decision`` per document."""
        return self._streamer().add_many(docs)  # type: ignore[no-any-return]

    def query(self, doc: Any) -> list[Match]:
        """The verified matches of a document with the index, without indexing it."""
        return self._streamer().query_many([doc])[0]  # type: ignore[no-any-return]

    def remove(self, doc_id: str | int) -> bool:
        """Remove a document from the index (an integer id as records give it:
        7 is "7"); False when it was not indexed."""
        return bool(self._streamer().remove([doc_id]))

    def expire(self, *, before: datetime) -> int:
        """Remove documents published before ``before``; return how many."""
        return self._streamer().expire(before)  # type: ignore[no-any-return]

    def filter(self, docs: Any, *, drop_duplicates: bool = False, batch: int = 256) -> Any:
        """Add documents as they come and yield a ``Decision`` for each
        (``cluster_id``, ``duplicate_of``, ``relation``, ``score``,
        ``is_representative``); ``drop_duplicates`` yields first-seen copies only.
        Documents are committed ``batch`` at a time, each batch before it is yielded."""
        return self._streamer().filter(docs, drop_duplicates=drop_duplicates, batch=batch)

    def close(self) -> None:
        """Close the streaming index (idempotent): adding, querying or removing
        afterwards raises :class:`~newsdedup.IndexClosedError` (``cluster()``,
        which keeps no index, still runs)."""
        self._closed = True
        if self._stream is not None:
            self._stream.close()

    def __enter__(self) -> Deduper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
