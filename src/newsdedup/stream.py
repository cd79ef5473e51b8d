"""Streaming deduplication: add, query, remove, expire and filter one document at a time.

>>> from newsdedup import Deduper
>>> story = {"id": "wire-1", "text": "The city council approved the new budget on Tuesday "
...          "after a long debate about funding for schools, roads and the public library."}
>>> d = Deduper()          # in memory; Deduper.open("index.db") keeps the index on disk
>>> d.add(story)
[]
>>> [(m.a, m.b, m.relation, m.score) for m in d.add(dict(story, id="paper-7"))]
[('paper-7', 'wire-1', 'exact', 1.0)]
>>> [(x.id, x.duplicate_of, x.relation) for x in d.filter([dict(story, id="site-3")])]
[('site-3', 'wire-1', 'exact')]

The stages are the batch pipeline's own (:func:`~newsdedup.pipeline.prepare`,
:class:`~newsdedup.sign.Signer`, :func:`~newsdedup.index.band_keys`,
:func:`~newsdedup.score.verify_pair`); only the candidate lookup differs: a new
document is compared with the documents already in an
:class:`~newsdedup.store.IndexStore` that share an LSH band with it.

Equivalence with :func:`newsdedup.cluster`: every pair the batch run verifies
on the copy tier (:func:`~newsdedup.score.verify_pair`: exact, near-duplicate,
containment) is verified here when its later document arrives, with the same
verdict, so the stories (the union of all links) are the batch clusters of a
copy-tier run (``rewrite=False, chain_guard=False``). Not applied here: the
batch run's rewrite relation, passage candidates and chain guard, which need
the texts or corpus statistics the index does not keep; LSH buckets larger
than ``max_bucket`` (where batch position is by id and here by arrival); and
the news constraints ``window`` / ``source_match``, which the batch run ignores.

A story's representative here is its first-seen document (a stream cannot
take back what it has already passed on); ``cluster_id`` is the index
sequence number of that document. When a new document links two stories
that were separate, it joins the earlier one; documents already emitted keep
the labels they were given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ._version import __version__
from .config import Config
from .errors import ConfigError, InputError
from .index import band_keys
from .load import article_from_record
from .pipeline import lsh_params, signature_spec
from .score import verify_pair
from .sign import Signer
from .store import (
    INDEX_FORMAT,
    DuplicateIdError,
    IndexStore,
    StoredDoc,
    check_fingerprint,
)
from .types import Article, Match, Relation

_SIGN_CHUNK = 64  # documents per signing call (small blocks stay in cache)
_BATCH_CHUNK = 1000  # documents prepared and indexed at a time (bounds memory)
_WORK_CHUNK = 64  # documents per task for worker processes
_NO_KEYS = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One document of a stream and what the index made of it.

    Attributes:
        id: the document id.
        document: the input item as given (record dict, Article or text).
        cluster_id: the story: the index sequence number of its first-seen document.
        duplicate_of: id of the story's first-seen document; None when this
            document is the first-seen copy (then ``is_representative``).
        relation: relation of this document's link to the story (to the
            first-seen copy when they are linked directly, else its strongest
            link); None for a first-seen copy.
        score: that link's score in [0, 1]; None for a first-seen copy.
        is_representative: whether this is the story's first-seen copy.
        matches: every verified link to an indexed document, strongest first.
    """

    id: str
    document: Any
    cluster_id: int
    duplicate_of: str | None
    relation: Relation | None
    score: float | None
    is_representative: bool
    matches: tuple[Match, ...] = field(default=())

    def to_record(self) -> dict[str, Any]:
        """The document's fields (every field of an input record is kept) with
        ``cluster_id``, ``duplicate_of``, ``relation``, ``score`` and
        ``is_representative`` set."""
        doc = self.document
        if isinstance(doc, Mapping):
            rec = dict(doc)
        elif isinstance(doc, Article):
            rec = {
                "id": doc.id, "title": doc.title, "text": doc.text, "source": doc.source,
                "published": doc.published.isoformat() if doc.published else None,
                "url": doc.url,
            }
        else:
            rec = {"id": self.id, "text": doc}
        rec.update(
            cluster_id=self.cluster_id, duplicate_of=self.duplicate_of, relation=self.relation,
            score=None if self.score is None else round(self.score, 6),
            is_representative=self.is_representative,
        )
        return rec


def fingerprint(config: Config) -> dict[str, Any]:
    """What must match for an index to be reused: everything that shapes the
    stored shingle sets and band keys."""
    spec = signature_spec(config).to_dict()
    lsh = lsh_params(config)
    return {
        "index_format": INDEX_FORMAT,
        "shingle": spec["shingle"], "shingle_size": spec["shingle_size"],
        "num_perm": spec["num_perm"], "seed": spec["seed"], "hash": spec["hash"],
        "scheme": spec["scheme"], "signature_format": spec["format_version"],
        "bands": lsh.bands, "rows": lsh.rows, "strip": config.strip,
        "min_words": config.min_words, "library_version": __version__,
    }


def posix(when: datetime | None) -> float | None:
    """POSIX seconds of a datetime; a naive datetime is read as UTC."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def pair_allowed(
    pub_a: float | None, src_a: str | None, pub_b: float | None, src_b: str | None,
    config: Config,
) -> bool:
    """The news constraints: ``window`` (applies when both dates are known) and
    ``source_match`` (an unknown source counts as different from every source)."""
    window = config.window
    if (
        window is not None and pub_a is not None and pub_b is not None
        and abs(pub_a - pub_b) > window.total_seconds()
    ):
        return False
    how = config.source_match
    if how == "different":
        return src_a is None or src_a != src_b
    if how == "same":
        return src_a is not None and src_a == src_b
    return True


def as_article(item: Any, pos: int | None = None) -> Article:
    """An Article from an Article, a record dict, or (with a position) a plain text."""
    if isinstance(item, Article):
        return item
    if isinstance(item, Mapping):
        default = str(pos) if pos is not None else None
        if default is None and "id" not in item:
            raise InputError("record has no 'id' field", source="<records>")
        return article_from_record(
            item, source="<records>", line=None if pos is None else pos + 1,
            default_id=default or "",
        )
    if isinstance(item, str) and pos is not None:
        return Article(id=str(pos), text=item)
    expected = "an Article or a record dict" + (" or a str text" if pos is not None else "")
    raise TypeError(f"expected {expected}, got {type(item).__name__}")


@dataclass(slots=True)
class _Item:
    article: Article
    n_words: int
    shingles: np.ndarray
    published: float | None
    exact: int | None
    keys: np.ndarray


class _Preparer:
    """strip -> normalise -> shingle -> sign -> band keys for a list of Articles:
    the batch run's own chunk preparation (:func:`newsdedup.chunks.prepare_chunk`),
    also run in worker processes."""

    def __init__(self, config: Config):
        from .boilerplate import configured_boilerplate

        self.config = config
        self.lsh = lsh_params(config)
        self.signer = Signer(signature_spec(config))
        self.model = configured_boilerplate(config) if config.strip else None

    def __call__(self, articles: Sequence[Article]) -> list[_Item]:
        from .boilerplate import source_of
        from .chunks import prepare_chunk

        if not articles:
            return []
        state = prepare_chunk(
            [(a.id, a.title, a.text, source_of(a)) for a in articles], self.config,
            model=self.model,
        )
        offsets = state.shingles.offsets.tolist()
        values = state.shingles.values
        n_words = state.n_words.tolist()
        items = []
        for i, a in enumerate(articles):
            sh = values[offsets[i] : offsets[i + 1]]
            exact = int.from_bytes(state.keys[i][:8], "little", signed=True) if len(sh) else None
            items.append(_Item(a, n_words[i], sh, posix(a.published), exact, _NO_KEYS))
        signed = [i for i, it in enumerate(items) if it.exact is not None]
        if signed:
            keys = band_keys(state.signatures[signed], self.lsh)
            for i, k in zip(signed, keys, strict=True):
                items[i].keys = k
        return items


_WORKER: _Preparer | None = None


def _worker_init(config: Config) -> None:
    global _WORKER
    _WORKER = _Preparer(config)


def _worker_prepare(articles: list[Article]) -> list[_Item]:
    if _WORKER is None:  # pragma: no cover (the initializer always runs first)
        raise RuntimeError("worker not initialised")
    return _WORKER(articles)


class Stream:
    """Streaming deduplication over one :class:`~newsdedup.store.IndexStore`."""

    def __init__(self, config: Config, store: IndexStore):
        self.config = config
        self.store = store
        self.lsh = lsh_params(config)
        self.workers = config.workers
        self._prep = _Preparer(config)
        self._signer = self._prep.signer
        self._pool: Any = None
        wanted = fingerprint(config)
        stored = store.fingerprint()
        if stored is None:
            store.set_fingerprint(wanted)
            stored = store.fingerprint() or wanted
        check_fingerprint(stored, wanted, f"index {store.location!r}")

    # ---------------------------------------------------------------- stages

    def _prepare(self, articles: Sequence[Article]) -> list[_Item]:
        return self._prep(articles)

    def _prepared_chunks(self, articles: list[Article]) -> Iterator[list[_Item]]:
        """Prepared documents in order, in chunks; with ``workers`` > 1 the
        chunks are prepared by worker processes while earlier ones are indexed."""
        if self.workers == 1 or len(articles) < 2 * _WORK_CHUNK:
            for start in range(0, len(articles), _BATCH_CHUNK):
                yield self._prep(articles[start : start + _BATCH_CHUNK])
            return
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork where there is one (no __main__ guard needed in scripts)
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx,
                initializer=_worker_init, initargs=(self.config,),
            )
        chunks = [articles[i : i + _WORK_CHUNK] for i in range(0, len(articles), _WORK_CHUNK)]
        ahead = 2 * self.workers
        futures = [self._pool.submit(_worker_prepare, c) for c in chunks[:ahead]]
        for n in range(len(chunks)):
            items = futures[n].result()
            if n + ahead < len(chunks):
                futures.append(self._pool.submit(_worker_prepare, chunks[n + ahead]))
            yield items

    def close(self) -> None:
        """Stop the worker processes (if any) and close the store."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.store.close()

    def keys_of(self, docs: Sequence[StoredDoc]) -> list[np.ndarray]:
        """The band keys of stored documents (recomputed from their shingle sets)."""
        out = [_NO_KEYS] * len(docs)
        idx = [i for i, d in enumerate(docs) if d.exact is not None and len(d.shingles)]
        for start in range(0, len(idx), _SIGN_CHUNK):
            chunk = idx[start : start + _SIGN_CHUNK]
            sigs = self._signer.sign([docs[i].shingles for i in chunk])
            for i, keys in zip(chunk, band_keys(sigs, self.lsh), strict=True):
                out[i] = keys
        return out

    def _verify(self, it: _Item, other: StoredDoc) -> Match | None:
        art = it.article
        if not pair_allowed(it.published, art.source, other.published, other.source, self.config):
            return None
        if other.exact == it.exact and np.array_equal(other.shingles, it.shingles):
            a, b = sorted((art.id, other.id))
            return Match(a=a, b=b, relation="exact", score=1.0, jaccard=1.0, containment=1.0)
        match, _reason = verify_pair(
            art.id, other.id, it.shingles, other.shingles, it.n_words, other.n_words,
            self.config,
        )
        return match if match.relation != "distinct" else None

    def _candidates(
        self, keys: np.ndarray, stored: dict[int, list[int]], pending: dict[int, list[int]]
    ) -> set[int]:
        limit = self.config.max_bucket
        found: set[int] = set()
        klist = keys.tolist()
        for k in stored.keys() & klist if stored else ():
            members = stored[k] + pending.get(k, [])
            if len(members) >= limit:
                found.add(members[0])  # as in batch: a crowded bucket pairs with its first
            else:
                found.update(members)
        for k in pending.keys() & klist if pending else ():
            if k in stored:
                continue
            members = pending[k]
            if len(members) >= limit:
                found.add(members[0])
            else:
                found.update(members)
        return found

    # ---------------------------------------------------------------- API

    def add_many(self, docs: Iterable[Any]) -> list[Decision]:
        """Insert documents (in one transaction) and decide each against what
        was indexed before it, earlier documents of the same call included."""
        originals = list(docs)
        return self.add_articles([as_article(d) for d in originals], originals)

    def add_articles(self, articles: list[Article], originals: list[Any]) -> list[Decision]:
        """:meth:`add_many` for documents already read into Articles; each
        Decision carries the matching item of ``originals`` as its document."""
        if not articles:
            return []
        ids = [a.id for a in articles]
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                raise DuplicateIdError(f"document id {i!r} occurs twice in this batch")
            seen.add(i)
        store = self.store
        out: list[Decision] = []
        with store.transaction():
            taken = store.seqs_of(ids)
            if taken:
                raise DuplicateIdError(
                    f"document id {next(iter(taken))!r} is already in the index"
                )
            done = 0
            for items in self._prepared_chunks(articles):
                out += self._index_chunk(items, originals[done : done + len(items)])
                done += len(items)
        return out

    def _index_chunk(self, items: list[_Item], originals: list[Any]) -> list[Decision]:
        """Decide and insert prepared documents (inside the caller's transaction)."""
        store = self.store
        limit = self.config.max_bucket
        first = store.reserve(len(items))
        all_keys = np.concatenate([it.keys for it in items])
        bucket_map = store.buckets(all_keys, limit) if len(all_keys) else {}
        wanted: set[int] = set()
        for members in bucket_map.values():
            wanted.update(members[:1] if len(members) >= limit else members)
        known = store.fetch(sorted(wanted))
        pending: dict[int, list[int]] = {}
        new_docs: list[StoredDoc] = []
        out: list[Decision] = []
        for n, (it, original) in enumerate(zip(items, originals, strict=True)):
            seq = first + n
            art = it.article
            matches: list[tuple[Match, StoredDoc]] = []
            for c in sorted(self._candidates(it.keys, bucket_map, pending)):
                other = known.get(c)
                if other is None:
                    continue  # removed meanwhile (another worker)
                m = self._verify(it, other)
                if m is not None:
                    matches.append((m, other))
            doc = StoredDoc(
                seq=seq, id=art.id, published=it.published, source=art.source,
                n_words=it.n_words, exact=it.exact, cluster=0, rep=None, shingles=it.shingles,
            )
            out.append(self._decide(art.id, original, seq, matches, doc))
            new_docs.append(doc)
            known[seq] = doc
            for k in it.keys.tolist():
                pending.setdefault(k, []).append(seq)
        store.insert(new_docs, [it.keys for it in items])
        return out

    @staticmethod
    def _decide(
        ident: str, original: Any, seq: int, matches: list[tuple[Match, StoredDoc]],
        doc: StoredDoc,
    ) -> Decision:
        ordered = tuple(
            m for m, _ in sorted(matches, key=lambda t: (-t[0].score, t[1].seq))
        )
        if not matches:
            return Decision(
                id=ident, document=original, cluster_id=seq, duplicate_of=None, relation=None,
                score=None, is_representative=True, matches=(),
            )
        story = min(o.story for _, o in matches)
        rep = next(o.representative for _, o in matches if o.story == story)
        direct = [m for m, o in matches if o.id == rep]
        link = direct[0] if direct else ordered[0]
        doc.cluster, doc.rep = story, rep
        return Decision(
            id=ident, document=original, cluster_id=story, duplicate_of=rep,
            relation=link.relation, score=link.score, is_representative=False,
            matches=ordered,
        )

    def query_many(self, docs: Iterable[Any]) -> list[list[Match]]:
        """The verified matches of each document against the index (nothing
        inserted; an indexed document with the same id is not a match)."""
        articles = [as_article(d) for d in docs]
        if not articles:
            return []
        items = self._prepare(articles)
        all_keys = np.concatenate([it.keys for it in items])
        bucket_map = self.store.buckets(all_keys, self.config.max_bucket) if len(all_keys) else {}
        empty: dict[int, list[int]] = {}
        cands = [self._candidates(it.keys, bucket_map, empty) for it in items]
        known = self.store.fetch(sorted(set().union(*cands)))
        out = []
        for it, cs in zip(items, cands, strict=True):
            found = []
            for c in sorted(cs):
                other = known.get(c)
                if other is None or other.id == it.article.id:
                    continue
                m = self._verify(it, other)
                if m is not None:
                    found.append((m, other.seq))
            found.sort(key=lambda t: (-t[0].score, t[1]))
            out.append([m for m, _ in found])
        return out

    def remove(self, ids: Sequence[str]) -> int:
        """Remove documents by id; return how many were indexed."""
        seqs = self.store.seqs_of(list(ids))
        if not seqs:
            return 0
        docs = list(self.store.fetch(sorted(seqs.values())).values())
        with self.store.transaction():
            self.store.delete(docs, self.keys_of(docs))
        return len(docs)

    def expire(self, before: datetime) -> int:
        """Remove every document published before ``before``; return how many.
        Documents without a published time are never expired."""
        if not isinstance(before, datetime):
            raise TypeError(
                f"expire() expects a datetime for 'before', got {type(before).__name__}"
            )
        t = float(before.timestamp() if before.tzinfo else posix(before) or 0.0)
        total = 0
        with self.store.transaction():
            while True:
                chunk = self.store.published_before(t, 1000)
                if not chunk:
                    break
                self.store.delete(chunk, self.keys_of(chunk))
                total += len(chunk)
        return total

    def filter(
        self, docs: Iterable[Any], *, drop_duplicates: bool = False, batch: int = 256
    ) -> Iterator[Decision]:
        """Add documents in batches of ``batch`` (each committed before its
        documents are yielded) and yield each one's :class:`Decision`; with
        ``drop_duplicates``, only first-seen copies."""
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ConfigError(
                f"The 'batch' parameter of filter must be an int in the range [1, inf). "
                f"Got {batch!r} instead."
            )
        chunk: list[Any] = []
        arts: list[Article] = []
        for pos, item in enumerate(docs):
            arts.append(as_article(item, pos))
            chunk.append(item)
            if len(chunk) >= batch:
                yield from self._emit(arts, chunk, drop_duplicates)
                chunk, arts = [], []
        if chunk:
            yield from self._emit(arts, chunk, drop_duplicates)

    def _emit(
        self, arts: list[Article], chunk: list[Any], drop_duplicates: bool
    ) -> Iterator[Decision]:
        for d in self.add_articles(arts, chunk):
            if d.is_representative or not drop_duplicates:
                yield d

    def __len__(self) -> int:
        return len(self.store)
