"""Streaming preparation: articles in, compact per-document state out, in chunks.

:func:`prepare_stream` reads articles one by one, cuts them into chunks of
:data:`CHUNK_DOCS` and has each chunk stripped, normalised, shingled and signed
by :func:`prepare_chunk`, in worker processes when the input is large (both
cores) and in the calling process otherwise. What it keeps per document:

============================  ===============================================
signature                     ``4 * num_perm`` bytes (512 B at 128 perms)
shingle set (verification)    4 bytes per distinct shingle (about 1.6 KB for a
                              400-word article) + 8 bytes of offset
words, cleaned length, key    8 + 8 + 16 bytes
id, title, source, published  the Python objects themselves (about 200 B)
cleaned text                  in worker mode: on disk in a temporary spool,
                              read back only for the pairs that need it; kept
                              in memory for inputs of one chunk
============================  ===============================================

so about 2.5 KB of memory per 400-word article, whatever the input size. The
:class:`~newsdedup.types.Article` objects (with their texts) are returned only
for inputs of at most :data:`KEEP_ARTICLES_MAX` documents.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import xxhash

from .config import Config
from .errors import WorkerError
from .forked import interrupts_held, paused_gc
from .html import veto
from .normalize import normalized_encoded
from .shingle import ShingleBatch
from .sign import SignatureSpec, Signer
from .strip import strip_many
from .types import Article, Removal, Stripped, full_text

#: Documents per chunk (one unit of work for a worker process).
CHUNK_DOCS = 2000
#: Inputs of more documents than this do not keep their Article objects.
KEEP_ARTICLES_MAX = 50_000
#: Environment variable: number of worker processes (default: usable cores; 1 = none).
WORKERS_ENV = "NEWSDEDUP_WORKERS"


@dataclass(frozen=True, slots=True, kw_only=True)
class Removals:
    """What stripping removed from each of a run of documents, as columns: the
    form in which workers send it back. Pickled as :class:`~newsdedup.types.Removal`
    objects, each costs 1.3 us to dump and 1.6 us to load (the loading in the
    process that collects the chunks, 1.5 million at a million articles, while
    the workers prepare); as columns 0.2 us. :meth:`tuples` makes the objects."""

    counts: np.ndarray  # int64: per document, how many removals
    starts: np.ndarray  # int64: per removal (document by document), Removal.start
    ends: np.ndarray  # int64: Removal.end
    texts: list[str]  # Removal.text
    rules: list[str]  # Removal.rule (the same few strings: pickled once each)

    @classmethod
    def of(cls, removed: Sequence[tuple[Removal, ...]]) -> Removals:
        """The columns of each document's removals."""
        flat = [r for rs in removed for r in rs]
        return cls(
            counts=np.fromiter(map(len, removed), dtype=np.int64, count=len(removed)),
            starts=np.fromiter((r.start for r in flat), dtype=np.int64, count=len(flat)),
            ends=np.fromiter((r.end for r in flat), dtype=np.int64, count=len(flat)),
            texts=[r.text for r in flat], rules=[r.rule for r in flat],
        )

    @classmethod
    def concatenate(cls, parts: Sequence[Removals]) -> Removals:
        """The removals of ``parts``' documents, one run after the other."""
        def joined(name: str) -> np.ndarray:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

        return cls(counts=joined("counts"), starts=joined("starts"), ends=joined("ends"),
                   texts=[t for p in parts for t in p.texts],
                   rules=[r for p in parts for r in p.rules])

    def __len__(self) -> int:
        return len(self.counts)

    def rows(self, lo: int, hi: int) -> tuple[Removal, ...]:
        """Removals ``lo`` to ``hi`` (of all documents, one after the other) as
        :class:`~newsdedup.types.Removal` objects."""
        return tuple(Removal(start=int(self.starts[k]), end=int(self.ends[k]),
                             text=self.texts[k], rule=self.rules[k]) for k in range(lo, hi))

    def tuples(self) -> list[tuple[Removal, ...]]:
        """Each document's removals as :class:`~newsdedup.types.Removal` objects."""
        ends = np.cumsum(self.counts).tolist()
        return [self.rows(e - k, e) for e, k in zip(ends, self.counts.tolist(), strict=True)]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkState:
    """Compact state of one chunk of documents (what :func:`prepare_chunk` returns)."""

    n_words: np.ndarray
    cleaned_length: np.ndarray
    keys: list[bytes]
    removed: Removals
    shingles: ShingleBatch
    signatures: np.ndarray
    texts: list[str] | None = None
    spool: str | None = None
    spool_offsets: np.ndarray | None = None


def _spec(config: Config) -> SignatureSpec:
    return SignatureSpec(
        shingle_size=config.shingle_size, num_perm=config.num_perm, seed=config.seed
    )


@functools.lru_cache(maxsize=8)
def _signer(spec: SignatureSpec) -> Signer:
    """A :class:`~newsdedup.sign.Signer` of ``spec``, made once (it is read-only;
    drawing its permutations took 75 us of every call, which a streamed ``add``
    of one document makes)."""
    return Signer(spec)


def prepare_chunk(
    records: Sequence[tuple[Any, ...]], config: Config,
    spool: str | None = None, model: Any = None,
) -> ChunkState:
    """See :func:`_prepare_chunk` (run with the cyclic garbage collector paused)."""
    with paused_gc():
        return _prepare_chunk(records, config, spool, model)


def _prepare_chunk(
    records: Sequence[tuple[Any, ...]], config: Config,
    spool: str | None = None, model: Any = None,
) -> ChunkState:
    """Strip, normalise, shingle and sign a chunk of (id, title, text, source key[,
    agreed]) records (``agreed``: :attr:`newsdedup.types.Article.agreed`).

    Args:
        records: the documents (the source key as :func:`newsdedup.boilerplate.source_of`
            gives it).
        config: the configuration.
        spool: when given, the cleaned texts are written to this file (UTF-8,
            one after the other) instead of being returned.
        model: the boilerplate model of the run (or None).
    """
    cleaned: list[str] = []
    removed: list[tuple[Removal, ...]] = []
    fulls = [full_text(rec[2], rec[1]) for rec in records]
    if config.strip:  # the chunk's texts stripped together (strip_many: as one by one)
        # A text repeated in the chunk (a wire story run verbatim by several
        # sites: 5 % of the speed corpus's documents) is stripped once per set
        # of learned lines its sources have (all a source changes in strip_many).
        first: dict[tuple[str, frozenset[str] | None], int] = {}
        items: list[tuple[str, str | None, str | None]] = []
        pick = []
        for full, rec in zip(fulls, records, strict=True):
            key = (full, model.lines_for(rec[3]) if model is not None else None)
            k = first.setdefault(key, len(items))
            if k == len(items):
                items.append((full, rec[3], None))
            pick.append(k)
        distinct = strip_many(items, model=model)
        stripped_all = [distinct[k] for k in pick]
    else:
        stripped_all = [Stripped(text=full) for full in fulls]
    for rec, full, stripped in zip(records, fulls, stripped_all, strict=True):
        text = rec[2]
        if config.strip and len(rec) > 4 and rec[4] is not None:
            # Text extracted from HTML: lines both extractors kept stay (html.veto).
            stripped = veto(full, stripped, rec[4], body=text)
        cleaned.append(stripped.text)
        removed.append(stripped.removed)
    norms = normalized_encoded(cleaned)
    keys = [xxhash.xxh3_128_digest(t) for t in norms]
    batch, sigs = _signer(_spec(config)).sign_encoded(norms, min_tokens=config.min_words)
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned))
    offsets = None
    if spool is not None:
        encoded = [t.encode("utf-8", "surrogatepass") for t in cleaned]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)),
                  out=offsets[1:])
        try:
            with open(spool, "wb") as fh:
                fh.write(b"".join(encoded))
        except OSError as err:  # a full disk: say what was written, and the way out
            raise OSError(
                err.errno, f"cannot write the cleaned texts to {spool!r} ({err.strerror}): "
                "a run of several worker processes keeps them in the temporary directory, "
                "about 2.7 KB an article; set TMPDIR to a disk with room") from None
    return ChunkState(
        n_words=batch.n_tokens, cleaned_length=lengths, keys=keys, removed=Removals.of(removed),
        shingles=batch, signatures=sigs, texts=None if spool else cleaned, spool=spool,
        spool_offsets=offsets,
    )


#: :class:`SpooledTexts` keeps this many texts read last (the judge reads a
#: document's text for its verdict, its guard and its facts, one after another).
SPOOL_RECENT = 256
#: The start of a spool directory's name (in :func:`tempfile.gettempdir`).
SPOOL_PREFIX = "newsdedup-spool-"


def make_spool() -> tuple[str, int | None]:
    """A new spool directory and the descriptor of its lock (None where there is
    no ``flock``), after removing the spools of runs that ended without removing
    theirs (:func:`remove_stale_spools`).

    The directory's ``lock`` file is locked (``flock``, exclusive) for as long as
    the spool is in use: by this process, and by the forked workers that
    inherit the descriptor. The kernel releases the lock when they are all gone,
    however they end, so that a killed run's spool (the cleaned texts of every
    document: 2.7 GB at a million articles) is found and removed by the next run.
    The lock file is made under another name and renamed once locked, so a
    spool being made is never taken for an abandoned one."""
    path = tempfile.mkdtemp(prefix=SPOOL_PREFIX)
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX)
        return path, None
    remove_stale_spools()
    fresh = os.path.join(path, "lock.new")
    fd = os.open(fresh, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(fresh, os.path.join(path, "lock"))
    return path, fd


def remove_stale_spools(base: str | None = None) -> list[str]:
    """Remove the spool directories (this user's, in ``base``, default the
    temporary directory) whose ``lock`` is held by no process: left by runs
    that were killed. Returns the directories removed."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX)
        return []
    base = tempfile.gettempdir() if base is None else base
    removed = []
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(SPOOL_PREFIX)]
    except OSError:
        return []
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
            fd = os.open(os.path.join(entry.path, "lock"), os.O_RDONLY)
        except OSError:  # gone, not ours, or no lock (yet)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # in use
            os.close(fd)
            continue
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        finally:
            os.close(fd)
    return removed


def remove_spool(path: str, lock: int | None) -> None:
    """Remove a spool made by :func:`make_spool` (its lock released last)."""
    shutil.rmtree(path, ignore_errors=True)
    if lock is not None:
        os.close(lock)


class SpooledTexts:
    """Cleaned texts kept on disk, read back on access (a read-only sequence;
    the :data:`SPOOL_RECENT` texts read last are kept in memory)."""

    def __init__(self, directory: str, parts: Sequence[tuple[str, np.ndarray]],
                 lock: int | None = None):
        self.directory = directory
        self._lock = lock  # see make_spool
        self._paths = [p for p, _ in parts]
        self._offsets = [o for _, o in parts]
        sizes = [len(o) - 1 for o in self._offsets]
        self._starts = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self._starts[1:])
        self._fds: dict[int, int] = {}
        self._recent: dict[int, str] = {}

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, g: int) -> str:
        text = self._recent.get(g)
        if text is None:
            text = self._recent[g] = self._read(g)
            if len(self._recent) > SPOOL_RECENT:
                del self._recent[next(iter(self._recent))]  # the oldest
        return text

    def _read(self, g: int) -> str:
        k = int(np.searchsorted(self._starts, g, side="right")) - 1
        local = g - int(self._starts[k])
        fd = self._fds.get(k)
        if fd is None:
            fd = self._fds[k] = os.open(self._paths[k], os.O_RDONLY)
        lo, hi = int(self._offsets[k][local]), int(self._offsets[k][local + 1])
        return os.pread(fd, hi - lo, lo).decode("utf-8", "surrogatepass")

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        lock, self._lock = self._lock, None
        remove_spool(self.directory, lock)


class Permuted(Sequence[Any]):
    """``base[order[i]]`` as a sequence (documents in id order, stored in input order)."""

    def __init__(self, base: Any, order: np.ndarray):
        self._base = base
        self._order = order

    @property
    def base(self) -> Any:
        """The sequence in input order."""
        return self._base

    @property
    def order(self) -> np.ndarray:
        """``order[i]``: the input position of the i-th element."""
        return self._order

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._base[int(g)] for g in self._order[i]]
        return self._base[int(self._order[i])]


@dataclass(kw_only=True)
class Prepared:
    """Compact state of every document, in input order (see the module docstring)."""

    ids: list[str] = field(default_factory=list)
    titles: list[str | None] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)
    #: each document's :attr:`~newsdedup.Article.outlet` (its source, else its URL's host)
    outlets: list[str | None] = field(default_factory=list)
    published: list[datetime | None] = field(default_factory=list)
    articles: list[Article] | None = field(default_factory=list)
    chunks: list[ChunkState] = field(default_factory=list)
    spool_dir: str | None = None
    spool_lock: int | None = None  # see make_spool
    workers: int = 1
    #: How many documents there will be, when known (room made for them at once).
    expect: int | None = None
    #: The shingle values and signatures of the chunks added so far, one after
    #: the other (see :meth:`add`), and how many of each are placed.
    placed: tuple[np.ndarray, np.ndarray, int, int] | None = None

    def add(self, chunk: ChunkState) -> None:
        """Keep a prepared chunk (chunks come in input order). Its shingle values
        and signatures, most of its size, are copied into the run's arrays now,
        while workers prepare the next chunks, rather than by :meth:`finish`
        after them (0.9-1.3 s for a million articles, the other core idle)."""
        k, m = len(chunk.n_words), len(chunk.shingles.values)
        if self.placed is None:
            # room for the documents expected, with about as many values each
            # as the first chunk's (grown when they are more)
            docs = max(k, self.expect or 0)
            self.placed = (np.empty(int(m / max(k, 1) * docs * 1.15) + m, dtype=np.uint32),
                           np.empty((docs, chunk.signatures.shape[1]), dtype=np.uint32), 0, 0)
        values, sigs, d, v = self.placed
        if v + m > len(values):
            values = _grown(values, v, v + m)
        if d + k > len(sigs):
            sigs = _grown(sigs, d, d + k)
        values[v : v + m] = chunk.shingles.values
        sigs[d : d + k] = chunk.signatures
        self.placed = (values, sigs, d + k, v + m)
        self.chunks.append(replace(
            chunk, shingles=ShingleBatch(values=_PLACED, offsets=chunk.shingles.offsets,
                                         n_tokens=chunk.shingles.n_tokens),
            signatures=_PLACED.reshape(0, 0),
        ))

    def finish(self) -> PreparedColumns:
        """Concatenate the chunks (given to :meth:`add`), letting go of each one as
        it is copied (so the peak is the result plus one chunk, not twice the result)."""
        ch = self.chunks
        self.chunks = []
        n_docs = sum(len(c.n_words) for c in ch)
        values, sigs, _d, n_vals = self.placed or (
            np.zeros(0, dtype=np.uint32), np.zeros((0, 0), dtype=np.uint32), 0, 0)
        self.placed = None
        # the room left over given back (a shrinking realloc moves nothing)
        values.resize(n_vals, refcheck=False)
        sigs.resize((n_docs, sigs.shape[1]), refcheck=False)
        offsets = np.zeros(n_docs + 1, dtype=np.int64)
        n_tokens = np.empty(n_docs, dtype=np.int64)
        n_words = np.empty(n_docs, dtype=np.int64)
        cleaned_length = np.empty(n_docs, dtype=np.int64)
        keys: list[bytes] = []
        removed: list[Removals] = []
        spools: list[tuple[str, np.ndarray]] = []
        texts_list: list[str] = []
        d = v = 0
        ch.reverse()
        while ch:
            c = ch.pop()
            k, m = len(c.n_words), int(c.shingles.offsets[-1])
            offsets[d + 1 : d + k + 1] = c.shingles.offsets[1:] + v
            n_tokens[d : d + k] = c.shingles.n_tokens
            n_words[d : d + k] = c.n_words
            cleaned_length[d : d + k] = c.cleaned_length
            keys.extend(c.keys)
            removed.append(c.removed)
            if c.spool is not None and c.spool_offsets is not None:
                spools.append((c.spool, c.spool_offsets))
            texts_list.extend(c.texts or [])
            d += k
            v += m
            del c
        texts: Any = (SpooledTexts(self.spool_dir, spools, self.spool_lock)
                      if self.spool_dir is not None
                      else texts_list)
        return PreparedColumns(
            n_words=n_words, cleaned_length=cleaned_length, keys=keys,
            removed=Removals.concatenate(removed),
            shingles=ShingleBatch(values=values, offsets=offsets, n_tokens=n_tokens),
            signatures=sigs, texts=texts,
        )


#: What a chunk's placed arrays are left as (:meth:`Prepared.add`).
_PLACED = np.zeros(0, dtype=np.uint32)


def _grown(arr: np.ndarray, used: int, need: int) -> np.ndarray:
    """A larger copy of ``arr`` (along its first axis) holding its first ``used``
    rows, with room for ``need`` rows and half as many again."""
    out = np.empty((max(need, len(arr) * 3 // 2), *arr.shape[1:]), dtype=arr.dtype)
    out[:used] = arr[:used]
    return out


@dataclass(kw_only=True)
class PreparedColumns:
    n_words: np.ndarray
    cleaned_length: np.ndarray
    keys: list[bytes]
    removed: Removals
    shingles: ShingleBatch
    signatures: np.ndarray
    texts: Any

    def close(self) -> None:
        if isinstance(self.texts, SpooledTexts):
            self.texts.close()


def worker_count() -> int:
    """Worker processes to use: ``$NEWSDEDUP_WORKERS`` or the usable cores."""
    env = os.environ.get(WORKERS_ENV)
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _records(articles: Iterable[Article], meta: Prepared) -> Iterator[tuple[Any, ...]]:
    from .boilerplate import source_of

    for a in articles:
        meta.ids.append(a.id)
        meta.titles.append(a.title)
        meta.sources.append(a.source)
        meta.outlets.append(a.outlet)
        meta.published.append(a.published)
        if meta.articles is not None:
            meta.articles.append(a)
            if len(meta.articles) > KEEP_ARTICLES_MAX:
                meta.articles = None
        yield (a.id, a.title, a.text, source_of(a), a.agreed)


def _init_worker() -> None:
    # Load (or compile) the kernels once per worker, not once per chunk.
    # (Also called in this process, so that forked workers inherit them.)
    from . import _native

    if _native.available():
        _native.warm()


def _start_worker(parent: int) -> None:
    """A preparation worker's start: :func:`~newsdedup.forked.watch_parent`, and
    :func:`_init_worker`."""
    from .forked import watch_parent

    watch_parent(parent)
    _init_worker()


def prepare_stream(
    articles: Iterable[Article], config: Config, *, model: Any = None,
    workers: int | None = None, on_chunk: Callable[[int], None] | None = None,
    size: int | None = None,
) -> Prepared:
    """Prepare every article; see the module docstring.

    Args:
        articles: the articles, in any order.
        config: the configuration.
        model: the boilerplate model of the run (or None).
        workers: worker processes (default :func:`worker_count`); inputs of at
            most two chunks are prepared in the calling process.
        on_chunk: called with the number of documents of each finished chunk
            (progress).
        size: how many articles there are, when known: chunks are then cut to
            an equal share per worker (:func:`chunk_size`).
    """
    meta = Prepared(expect=size)
    it = _records(articles, meta)
    workers = worker_count() if workers is None else workers
    per_chunk = chunk_size(size, workers)
    head: list[list[tuple[str, str | None, str, str | None]]] = []
    for _ in range(2):
        chunk = [r for _, r in zip(range(per_chunk), it, strict=False)]
        if chunk:
            head.append(chunk)
    more = len(head) == 2 and len(head[1]) == per_chunk
    import multiprocessing as mp

    if workers <= 1 or not more or mp.current_process().daemon:  # daemons have no children
        for chunk in head:
            meta.add(prepare_chunk(chunk, config, None, model))
            if on_chunk:
                on_chunk(len(chunk))
        for chunk in _chunked(it, per_chunk):
            meta.add(prepare_chunk(chunk, config, None, model))
            if on_chunk:
                on_chunk(len(chunk))
        return meta
    from concurrent.futures import ProcessPoolExecutor

    meta.spool_dir, meta.spool_lock = make_spool()
    meta.workers = workers
    # fork (where there is one and this process runs no other thread) starts
    # workers at once and does not re-import the caller's __main__; else spawn.
    import threading

    fork_ok = "fork" in mp.get_all_start_methods() and threading.active_count() == 1
    ctx = mp.get_context("fork" if fork_ok else "spawn")
    if fork_ok:
        _init_worker()  # forked workers inherit the loaded kernels
        # The input's articles are left out of the forked workers' garbage
        # collections, which would otherwise copy every page they live on.
        gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                 initializer=_start_worker, initargs=(os.getpid(),)) as pool:
            pending: list[Any] = []
            k = 0

            def submit(chunk: list[Any]) -> None:
                nonlocal k
                path = os.path.join(meta.spool_dir or "", f"chunk-{k:06d}.txt")
                pending.append((len(chunk), pool.submit(prepare_chunk, chunk, config, path, model)))
                k += 1

            def drain(limit: int) -> None:
                while len(pending) > limit:
                    size, fut = pending.pop(0)
                    meta.add(fut.result())
                    if len(meta.chunks) % TRIM_EVERY_CHUNKS == 0:
                        release_freed_memory()
                    if on_chunk:
                        on_chunk(size)

            # (the workers are forked at the first submit: Ctrl-C held back meanwhile)
            with interrupts_held() if fork_ok else contextlib.nullcontext():
                for chunk in head:
                    submit(chunk)
            for chunk in _chunked(it, per_chunk):
                submit(chunk)
                drain(2 * workers)  # bounded: at most 2 chunks per worker in flight
            drain(0)
    except BaseException as err:
        remove_spool(meta.spool_dir, meta.spool_lock)
        meta.spool_lock = None
        if isinstance(err, BrokenExecutor):
            raise WorkerError("preparing documents") from err
        raise
    finally:
        if fork_ok:
            gc.unfreeze()
    return meta


def release_freed_memory() -> None:
    """Hand memory freed by Python back to the system (glibc's ``malloc_trim``):
    a large input's texts and learning state leave the C heap fragmented, so
    the process would otherwise keep their pages. A no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


#: While workers prepare, the articles already handed to them are freed; their
#: memory is handed back every this many chunks (the input read for learning
#: would otherwise stay in the process until preparation ends).
TRIM_EVERY_CHUNKS = 8


def chunk_size(size: int | None, workers: int) -> int:
    """Documents per chunk: :data:`CHUNK_DOCS`, or, for a known ``size`` of more
    than two chunks with several workers, at most that many cut so that every
    worker gets as many chunks (10,000 documents on two workers: six chunks of
    1,667, not five of 2,000 of which one worker would do three)."""
    if size is None or workers <= 1 or size <= 2 * CHUNK_DOCS:
        return CHUNK_DOCS
    k = -(-size // CHUNK_DOCS)
    k = -(-k // workers) * workers
    return -(-size // k)


def _chunked(it: Iterator[Any], per_chunk: int) -> Iterator[list[Any]]:
    while True:
        chunk = [r for _, r in zip(range(per_chunk), it, strict=False)]
        if not chunk:
            return
        yield chunk
