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

The stages are the batch pipeline's own: preparation is
:func:`~newsdedup.chunks.prepare_chunk`, and every candidate pair is judged by
the batch run's :class:`~newsdedup.score.Judge` (copy tier, rewrite relation,
template and headline guard, lead agreement), on texts the index keeps
compressed per document (:func:`~newsdedup.store.encode_payload`). Only the
candidate lookup differs: a new document is compared with the indexed documents
that share a key with it in the band table, which holds the three candidate
paths of :func:`newsdedup.score.link`: copy-LSH bands, passage samples (shared
as :func:`~newsdedup.score.passage_candidates` requires) and rewrite-family bands (then the key-term
prefilter). An exact copy of an indexed document links to the first of its
exact group only, as the batch run links an exact group through its leader.
When a group's first-seen member is removed or expired, its earliest remaining
member takes over as leader (it is stored again with every kind of key), as the
batch run on the remaining documents would lead the group with it.

With ``workers`` > 1, worker processes prepare the documents of a call in
batches of 1,000 (the batches the calling process would make) and judge each
batch's new documents against their indexed candidates beside the calling
process, which then decides the documents one by one as it would alone: the
results do not depend on the number of workers.

Equivalence with :func:`newsdedup.cluster` (default options included): fed in
the batch run's order (by id), the stream reports the same pairs with the same
relations and scores, hence the same clusters, except where:

* the batch chain guard refuses a weak rewrite link (score below
  :data:`~newsdedup.score.STRONG_REWRITE`) between two groups: it is a
  whole-cluster decision; the stream reports the link (and may join stories);
* the input has :data:`~newsdedup.rewrite.CORPUS_MIN_DOCS` (1,000) documents or
  more: the batch run then caps term weights by corpus document frequency and
  drops key terms common in the corpus. The stream keeps the document
  frequencies of key terms over the indexed documents (exact-group leads, as
  batch counts leaders) and, once the index holds 1,000 of them, drops the same
  way (cap below :data:`~newsdedup.rewrite.KEY_MIN_CAP`: a term in
  :func:`min_dropped_df` ~ ``sqrt(2 n)`` of ``n`` documents or more) key terms
  from a new document's rewrite bands and from the key-term prefilter. Its
  corpus is the index at the start of the chunk being added (up to 1,000
  documents of one ``add_many`` call) plus the document itself, not the whole
  input, so rewrite candidates differ from batch (and, at that size, slightly
  with batching); verification keeps the background weights (the batch run
  also caps the weights of every content term), so rewrite scores can differ.
  Below 1,000 indexed documents nothing is capped in either: results there
  are the batch ones (see ``tests/test_stream_caps.py``);
* ``boilerplate="auto"`` learns per-source boilerplate from the batch input; the
  stream uses only a model given in the configuration;
* an input without ``source`` fields, of at least 50 documents of which at least
  80 % carry one news agency's mark, is taken by the batch run as that agency's
  archive (:func:`newsdedup.score.archive_agency`: a story without a mark counts
  as the agency's for the same-source rewrite bar); the stream does not infer
  this;
* above :data:`~newsdedup.chunks.KEEP_ARTICLES_MAX` documents the batch run no
  longer keeps original texts (the template guard reads the cleaned text); the
  stream always keeps them;
* LSH buckets and passage samples shared by more than ``max_bucket`` documents:
  the batch run decides on the whole corpus (by id), the stream on what it has
  seen (by arrival); an exact group is led by its first id in batch and by its
  first arrival here;
* the rewrite-only prefilter and the key-term document frequencies use 32-bit
  key-term hashes (a collision, about 2^-32 per pair of terms, changes a
  key-term Jaccard or a frequency);
* the band table keeps 32 bits of each rewrite band key (a candidate found so
  is checked on the whole keys, recomputed from its key-term hashes); but
  whether a rewrite bucket is crowded (``max_bucket`` members or more) is
  decided on those 32 bits: a document whose key shares them (about ``n / 2^32``
  per key at ``n`` indexed rewrite entries) can tip a full bucket over;
* the SQLite band table keeps 40 bits of each copy-LSH band key (the batch
  run's are 64 bits): two keys that agree on those (about ``4e-6`` per lookup
  at 100,000 indexed documents) make a candidate the batch run would not
  judge (a random pair: judged distinct) and share one bucket in the
  ``max_bucket`` rule;
* the news constraints ``window`` / ``source_match`` apply here only. An exact
  copy still links to one member of its exact group only: the first-seen one
  it is allowed to match (the batch run, which has no constraints, links a group
  through its leader alone). A member that was not allowed with that one and
  was stored as a leader of its own (``b`` 36 hours after ``a`` with a one-day
  window) is not linked to the copy even when it is allowed (``c`` between
  them, within a day of both: ``a~c`` only, and ``b`` stays apart).

A story's representative here is its first-seen document (a stream cannot
take back what it has already passed on); ``cluster_id`` is the index
sequence number of that document. When a new document links two stories
that were separate, it joins the earlier one; documents already emitted keep
the labels they were given.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import numpy as np

from ._arrays import unique_sorted
from ._version import __version__
from .config import Config
from .errors import ConfigError, InputError, WorkerError
from .forked import interrupts_held, paused_gc, watch_parent
from .index import LSHParams, band_keys, choose_params
from .load import article_from_record
from .pipeline import lsh_params, signature_spec
from .rewrite import (
    CORPUS_MIN_DOCS,
    KEY_MIN_CAP,
    MAX_WEIGHT,
    content_terms_many,
    key_hashes,
)
from .score import PREFILTER_KEY_JACCARD, Judge, Verdict, _pair_blocks, rewrite_spec
from .sign import Signer
from .store import (
    INDEX_FORMAT,
    PASSAGE_TAG,
    REWRITE_TAG,
    BucketTable,
    DuplicateIdError,
    IndexStore,
    StoredDoc,
    check_fingerprint,
    compress_texts,
    decode_payload,
    encode_payload,
    payload_band_hashes,
    payload_key_hashes,
)
from .types import Article, Match, Relation

_SIGN_CHUNK = 64  # documents per signing call (small blocks stay in cache)
_BATCH_CHUNK = 1000  # documents prepared and indexed at a time (bounds memory)
_WORK_CHUNK = 64  # documents per task for worker processes
_NO_KEYS = np.zeros(0, dtype=np.uint64)
_NO_HASH = np.zeros(0, dtype=np.uint32)
# The three kinds of band-table keys are kept apart by their top 16 bits: a
# passage sample is PASSAGE_TAG and the sampled 32-bit shingle hash itself (no
# collision: exact), a rewrite-family band key REWRITE_TAG and the top 32 bits
# of the band key (a false bucket match, about 1 in 700 per lookup at 100,000
# documents, is caught: rewrite-only candidates are checked on their full band
# keys, recomputed, see _JudgeView.rewrite_keys), a copy-LSH band key is as it
# is unless its top 16 bits are a tag (then bit 63 is flipped). A store keeps a
# tagged key in 4 bytes with its seq where a plain one takes 5 (40 bits of it)
# (newsdedup.store.PASSAGE_TAG).
_P_TAG = np.uint64(PASSAGE_TAG << 48)
_R_TAG = np.uint64(REWRITE_TAG << 48)
_SHIFT16 = np.uint64(16)
_SHIFT32 = np.uint64(32)
_SHIFT48 = np.uint64(48)
_FLIP = np.uint64(1 << 63)


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(keys: np.ndarray) -> np.ndarray:
    """A bijection of uint64 keys (the splitmix64 finalizer) whose every output
    bit depends on every input bit. A band key's top bits depend on its last
    row's value only through carries (:func:`newsdedup.index.band_keys` ends
    with ``acc * M + v; acc ^= acc >> 29``), so keys that differ in that row
    mostly agree there: the band table, which keeps part of each key, keeps
    part of the mixed key (equal keys stay equal, others differ as often as
    random bits do)."""
    z = keys.astype(np.uint64, copy=True)
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def copy_keys(keys: np.ndarray) -> np.ndarray:
    """Copy-LSH band keys as the band table holds them: mixed (:func:`_mix`),
    and a key whose top 16 bits are then a tag has bit 63 flipped (equal keys
    stay equal, different ones different)."""
    keys = _mix(keys)
    top = keys >> _SHIFT48
    hit = (top == np.uint64(PASSAGE_TAG)) | (top == np.uint64(REWRITE_TAG))
    if not hit.any():
        return keys
    out: np.ndarray = keys ^ (hit.astype(np.uint64) << np.uint64(63))
    return out


def stored_rewrite_keys(full: np.ndarray) -> np.ndarray:
    """Rewrite-family band keys as the band table holds them (REWRITE_TAG and
    the top 32 bits of each key mixed by :func:`_mix`)."""
    out: np.ndarray = _R_TAG | ((_mix(full) >> _SHIFT32) << _SHIFT16)
    return out


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
    rlsh = rewrite_lsh_params(config)
    return {
        "index_format": INDEX_FORMAT,
        "shingle": spec["shingle"], "shingle_size": spec["shingle_size"],
        "num_perm": spec["num_perm"], "seed": spec["seed"], "hash": spec["hash"],
        "scheme": spec["scheme"], "signature_format": spec["format_version"],
        "bands": lsh.bands, "rows": lsh.rows, "strip": config.strip,
        "min_words": config.min_words, "library_version": __version__,
        "rewrite": config.rewrite, "rewrite_bands": rlsh.bands, "rewrite_rows": rlsh.rows,
        "min_rewrite_words": config.min_rewrite_words,
        "passage_sample": config.passage_sample,
        "boilerplate": boilerplate_fingerprint(config),
    }


def boilerplate_fingerprint(config: Config) -> str | None:
    """The fingerprint entry of the boilerplate model the stream strips with
    (``config.boilerplate`` when it is a BoilerplateModel and ``strip`` is on):
    a SHA-256 of its learned lines per source and its learning parameters (not
    of the object, nor of ``documents``), or None when there is no model.

    An index whose stored fingerprint has no ``boilerplate`` entry (made before
    it was recorded) reads as made without a model: it opens without one and is
    refused with one."""
    from .boilerplate import configured_boilerplate

    model = configured_boilerplate(config) if config.strip else None
    if model is None:
        return None
    spec = {
        "sources": {k: sorted(v) for k, v in sorted(model.sources.items())},
        "min_docs": model.min_docs, "min_share": model.min_share,
        "syndication_min_words": model.syndication_min_words,
    }
    raw = json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def rewrite_lsh_params(config: Config) -> LSHParams:
    """The banding of the rewrite family (as in :func:`newsdedup.score.link`)."""
    return choose_params(config.rewrite_lsh_threshold, config.num_perm,
                         config.recall_at_threshold, name="rewrite_lsh_threshold")


def passage_keys(shingles: np.ndarray, sample: int) -> np.ndarray:
    """Band-table keys of a document's passage samples (shingles whose hash is
    0 modulo ``sample``, as :func:`newsdedup.score.passage_candidates` samples):
    PASSAGE_TAG and the 32-bit shingle hash."""
    x = shingles[shingles % np.uint32(sample) == 0].astype(np.uint64)
    out: np.ndarray = _P_TAG | (x << _SHIFT16)
    return out


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


def as_article(item: Any, pos: int | None = None, *, at: int | None = None,
               extract_html: Any = None) -> Article:
    """An Article from an Article, a record dict, or (with a position) a plain text.

    ``pos``: the item's position, which is also a record's or text's default id;
    ``at``: its position in the call, for error messages only (records then need
    an id); ``extract_html``: what extracts a record's ``html`` (see
    :func:`newsdedup.load.article_from_record`)."""
    if isinstance(item, Article):
        return item
    if isinstance(item, Mapping):
        default = str(pos) if pos is not None else None
        where = pos if pos is not None else at
        line = None if where is None else where + 1
        if default is None and "id" not in item:
            raise InputError("record has no 'id' field", source="<records>", line=line)
        return article_from_record(item, source="<records>", line=line,
                                   default_id=default or "", extract_html=extract_html)
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
    keys: np.ndarray  # copy-LSH band keys
    cleaned: str = ""
    texts: bytes = b""  # compressed headline, original and cleaned text
    pkeys: np.ndarray = field(default_factory=lambda: _NO_KEYS)  # passage-sample keys
    rkeys: np.ndarray = field(default_factory=lambda: _NO_KEYS)  # rewrite keys as stored
    rfull: np.ndarray = field(default_factory=lambda: _NO_KEYS)  # rewrite band keys, whole
    terms: tuple[dict[str, float], frozenset[str]] | None = None
    hashes: np.ndarray | None = None  # key-term hashes (with rewrite on)
    banded: np.ndarray | None = None  # which hashes the rewrite bands use (None: all)
    key_set: frozenset[int] = frozenset()  # the hashes the key-term prefilter uses
    key_all: frozenset[int] = frozenset()  # every key-term hash

    def payload(self) -> bytes:
        if not self.texts and self.hashes is None:
            return b""  # not signed (too short): nothing is ever read back
        return encode_payload(None, "", "", self.hashes, self.banded, texts=self.texts)


class _Preparer:
    """strip -> normalise -> shingle -> sign -> band keys for a list of Articles:
    the batch run's own chunk preparation (:func:`newsdedup.chunks.prepare_chunk`),
    then the rewrite family's key terms and band keys, the passage samples and
    the compressed payload; also run in worker processes."""

    def __init__(self, config: Config):
        from .boilerplate import configured_boilerplate

        self.config = config
        self.lsh = lsh_params(config)
        self.rlsh = rewrite_lsh_params(config)
        self.signer = Signer(signature_spec(config))
        self.rsigner = Signer(rewrite_spec(config))
        self.model = configured_boilerplate(config) if config.strip else None

    def rewrite_keys(
        self, cleaned: Sequence[str], n_words: Sequence[int],
        terms: list[tuple[dict[str, float], frozenset[str]] | None],
        hashes_out: list[np.ndarray | None] | None = None,
    ) -> list[np.ndarray]:
        """Rewrite-family band keys (whole) of documents as ``link`` bands them
        below :data:`~newsdedup.rewrite.CORPUS_MIN_DOCS` documents: at least
        ``min_rewrite_words`` words and two key terms. ``terms`` (content terms
        and key terms) and ``hashes_out`` (key-term hashes, every document) are
        filled in."""
        cfg = self.config
        out = [_NO_KEYS] * len(cleaned)
        if not cfg.rewrite:
            return out
        rows, hashes = [], []
        todo = [i for i, t in enumerate(terms) if t is None]
        for i, t in zip(todo, content_terms_many([cleaned[i] for i in todo]), strict=True):
            terms[i] = t
        for i, (_text, nw) in enumerate(zip(cleaned, n_words, strict=True)):
            keyset = terms[i][1]  # type: ignore[index]
            h = key_hashes(keyset)
            if hashes_out is not None:
                hashes_out[i] = h
            if nw >= cfg.min_rewrite_words and len(keyset) >= 2:
                rows.append(i)
                hashes.append(h)
        if rows:
            keys = self.band(hashes)
            for i, k in zip(rows, keys, strict=True):
                out[i] = k
        return out

    def band(self, hashes: list[np.ndarray]) -> np.ndarray:
        """Rewrite-family band keys (whole) of key-term hash sets."""
        return band_keys(self.rsigner.sign(hashes), self.rlsh)

    def __call__(self, articles: Sequence[Article]) -> list[_Item]:
        from .boilerplate import source_of
        from .chunks import prepare_chunk

        if not articles:
            return []
        state = prepare_chunk(
            [(a.id, a.title, a.text, source_of(a), a.agreed) for a in articles], self.config,
            model=self.model,
        )
        offsets = state.shingles.offsets.tolist()
        values = state.shingles.values
        n_words = state.n_words.tolist()
        cleaned = state.texts or [""] * len(articles)
        sample = self.config.passage_sample
        items = []
        for i, a in enumerate(articles):
            sh = values[offsets[i] : offsets[i + 1]]
            exact = int.from_bytes(state.keys[i][:8], "little", signed=True) if len(sh) else None
            items.append(_Item(a, n_words[i], sh, posix(a.published), exact, _NO_KEYS))
        signed = [i for i, it in enumerate(items) if it.exact is not None]
        if signed:
            keys = copy_keys(band_keys(state.signatures[signed], self.lsh))
            terms: list[tuple[dict[str, float], frozenset[str]] | None] = [None] * len(signed)
            hashes: list[np.ndarray | None] = [None] * len(signed)
            rkeys = self.rewrite_keys([cleaned[i] for i in signed],
                                      [n_words[i] for i in signed], terms, hashes)
            for n, (i, k) in enumerate(zip(signed, keys, strict=True)):
                it = items[i]
                it.keys, it.rfull, it.terms, it.hashes = k, rkeys[n], terms[n], hashes[n]
                it.rkeys = stored_rewrite_keys(it.rfull)
                it.pkeys = passage_keys(it.shingles, sample)
                it.cleaned = cleaned[i]
                it.texts = compress_texts(it.article.title, it.article.full_text, cleaned[i])
                if it.hashes is not None:
                    it.key_set = it.key_all = frozenset(it.hashes.tolist())
        return items


_WORKER: _Preparer | None = None


def _worker_init(config: Config, parent: int) -> None:
    global _WORKER
    watch_parent(parent)
    _WORKER = _Preparer(config)


def _worker_use(prep: _Preparer, parent: int) -> None:
    global _WORKER
    watch_parent(parent)
    _WORKER = prep


def _worker() -> _Preparer:
    """This worker process's preparer."""
    if _WORKER is None:  # pragma: no cover (the initializer always runs first)
        raise RuntimeError("worker not initialised")
    return _WORKER


def _worker_prepare(articles: list[Article]) -> list[_Item]:
    """Prepared items of ``articles``, without their articles (the caller has
    them: not sent back, see :func:`_with_articles`)."""
    items = _worker()(articles)
    for it in items:
        it.article = None  # type: ignore[assignment]
    return items


def _worker_verdicts(docs: list[tuple[Any, ...]], pairs: list[tuple[int, int]]) -> list[Verdict]:
    """:meth:`_JudgeView.verdict` of ``pairs`` over ``docs`` (:meth:`_JudgeView.doc_state`),
    in a worker process."""
    view = _JudgeView(_worker().config)
    for d in docs:
        view._append(*d)
    return view.verdicts(pairs)


def _with_articles(items: list[_Item], articles: list[Article]) -> list[_Item]:
    """``items`` from :func:`_worker_prepare` with their ``articles`` back."""
    for it, art in zip(items, articles, strict=True):
        it.article = art
    return items


# Time zones for a publication time whose UTC date is outside datetime's range
# (a date at its edge with an offset, e.g. 9999-12-31T23:00:00-05:00): the
# same instant in a zone where it is in the range (as the input gave it)
_LATE_ZONE = timezone(-timedelta(hours=23, minutes=59))
_EARLY_ZONE = timezone(timedelta(hours=23, minutes=59))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _when(p: float | None) -> datetime | None:
    """The aware datetime of POSIX seconds (in UTC, or, at the edges of
    datetime's range, in the zone a day off UTC where the instant can be
    represented: only differences of times are used)."""
    if p is None:
        return None
    try:
        return datetime.fromtimestamp(p, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        zone = _LATE_ZONE if p > 0 else _EARLY_ZONE
        return _EPOCH.astimezone(zone) + timedelta(seconds=p)


def _passage_need(small: int) -> int:
    """Shared samples that make a passage candidate when the smaller side has
    ``small`` samples (as :func:`newsdedup.score.passage_candidates`: at least 2
    and half of them, or all of them)."""
    return min(max(2, math.ceil(0.5 * small)), small)


def _passage_needs(small: np.ndarray) -> np.ndarray:
    """:func:`_passage_need` of every element of an int64 array."""
    out: np.ndarray = np.minimum(np.maximum(2, (small + 1) // 2), small)
    return out


_SEQ_BITS = 40  # (document in chunk, seq) pairs as one int64: doc << _SEQ_BITS | seq
_SEQ_MASK = (1 << _SEQ_BITS) - 1
_COPY, _PASSAGE, _REWRITE = 0, 1, 2  # kinds of band-table keys


class _Lookup:
    """The band-table members of a chunk's keys (copy-LSH, passage and rewrite
    keys of every document), gathered with numpy: per document what
    :meth:`Stream._members` gives key by key (``_candidates`` and
    ``_passage_counts``), without a Python step per key.

    A key that an earlier document of the same chunk also has may gain members
    from that document (once it is decided and inserted: the ``pending`` dict
    of :meth:`Stream._index_chunk`); such entries (``later``) are gathered key
    by key in :meth:`gathered`, all others with array operations in
    :meth:`restrict`."""

    def __init__(self, items: Sequence[_Item], table: BucketTable, limit: int):
        self.limit = limit
        self.table = table
        self.n = n = len(items)
        arrays = [k for it in items for k in (it.keys, it.pkeys, it.rkeys)]
        lens = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        slot = np.repeat(np.arange(len(arrays), dtype=np.int64), lens)
        self.keys = np.concatenate(arrays).astype(np.uint64, copy=False) if len(slot) else _NO_KEYS
        self.item = slot // 3
        self.kind = (slot % 3).astype(np.int8)
        self.start, self.count = table.find(self.keys)
        m = len(self.keys)
        order = np.lexsort((self.item, self.keys))
        sk, si = self.keys[order], self.item[order]
        same = np.zeros(m, dtype=bool)  # same key as the previous entry in key order
        if m > 1:
            np.equal(sk[1:], sk[:-1], out=same[1:])
        first = si[np.flatnonzero(~same)][np.cumsum(~same) - 1]  # the key's first document
        self.later = np.empty(m, dtype=bool)
        self.later[order] = si > first
        shared = same.copy()  # the key occurs in more than one entry
        shared[:-1] |= same[1:]
        self.shared = np.empty(m, dtype=bool)
        self.shared[order] = shared
        bounds = np.searchsorted(self.item, np.arange(n + 1))
        self.bounds = bounds.tolist()
        self._lists: tuple[list[list[int]], list[list[int]], list[list[int]],
                           list[list[int]]] = ([], [], [], [])

    def expand(self, sel: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(document, member seq, kind) of the stored members of the selected
        entries, as :meth:`Stream._members` gives them with nothing pending: a
        crowded key (``limit`` members) gives its first member, or none for a
        passage key."""
        has = self.count > 0
        e = np.flatnonzero(has if sel is None else has & sel)
        c, kind = self.count[e], self.kind[e]
        take = np.where(c >= self.limit, np.where(kind == _PASSAGE, 0, 1), c)
        total = int(take.sum())
        intra = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(take) - take, take)
        seqs = self.table.seqs[np.repeat(self.start[e], take) + intra]
        return np.repeat(self.item[e], take), seqs, np.repeat(kind, take)

    def restrict(self, known: np.ndarray, adding: bool) -> None:
        """Gather the members that are among ``known`` (sorted seqs), per
        document, for :meth:`gathered` (entries of ``later`` left out when
        ``adding``: they are gathered key by key there)."""
        items, seqs, kinds = self.expand(~self.later if adding else None)
        keep = np.isin(seqs, known)
        codes = (items[keep] << _SEQ_BITS) | seqs[keep]
        kinds = kinds[keep]
        docs = np.arange(self.n + 1)
        out = []
        for kind in (_COPY, _REWRITE, _PASSAGE):
            if kind == _PASSAGE:
                c, counts = np.unique(codes[kinds == kind], return_counts=True)
            else:
                c = unique_sorted(codes[kinds == kind])
            b = np.searchsorted(c >> _SEQ_BITS, docs).tolist()
            vals = (c & _SEQ_MASK).tolist()
            out.append([vals[b[i] : b[i + 1]] for i in range(self.n)])
        cl = counts.tolist()
        out.append([cl[b[i] : b[i + 1]] for i in range(self.n)])
        self._lists = (out[0], out[1], out[2], out[3])
        self._adding = adding

    def gathered(
        self, n: int, pending: dict[int, list[int]]
    ) -> tuple[set[int], set[int], dict[int, int]]:
        """Document ``n``'s copy candidates, rewrite candidates and passage
        members with their shared-sample counts (members not among the known
        documents of :meth:`restrict` may be left out), as ``_candidates`` and
        ``_passage_counts`` give them with ``pending``."""
        copy_l, rewrite_l, pas_l, cnt_l = self._lists
        copy_c, rewrite_c = set(copy_l[n]), set(rewrite_l[n])
        passage = dict(zip(pas_l[n], cnt_l[n], strict=True))
        if not self._adding:
            return copy_c, rewrite_c, passage
        a, b = self.bounds[n], self.bounds[n + 1]
        for e in (np.flatnonzero(self.later[a:b]) + a).tolist():
            k = int(self.keys[e])
            c = int(self.count[e])
            stored = []
            if c:
                st = int(self.start[e])
                stored = self.table.seqs[st : st + c].tolist()
            members = stored + pending.get(k, [])
            if not members:
                continue
            kind = int(self.kind[e])
            if len(members) >= self.limit:
                if kind == _PASSAGE:
                    continue
                members = members[:1]
            if kind == _COPY:
                copy_c.update(members)
            elif kind == _REWRITE:
                rewrite_c.update(members)
            else:
                for m in members:
                    passage[m] = passage.get(m, 0) + 1
        return copy_c, rewrite_c, passage

    def add_pending(self, n: int, seq: int, leads: bool, pending: dict[int, list[int]]) -> None:
        """Record document ``n`` (now ``seq``) under the keys it is stored with
        (every kind when it leads its exact group, else its copy-LSH keys) that
        other entries of the chunk share."""
        a, b = self.bounds[n], self.bounds[n + 1]
        e = np.flatnonzero(self.shared[a:b]) + a
        if not leads:
            e = e[self.kind[e] == _COPY]
        for k in self.keys[e].tolist():
            pending.setdefault(k, []).append(seq)


def min_dropped_df(n: int) -> int:
    """The smallest document frequency at which a key term is dropped in a
    corpus of ``n`` documents (its cap in :func:`newsdedup.rewrite.corpus_caps`
    is below :data:`~newsdedup.rewrite.KEY_MIN_CAP`: about ``sqrt(2 n)``)."""
    scale = MAX_WEIGHT / math.log(n / 2)
    d = max(1, int(math.sqrt(2 * n)) - 3)
    while min(MAX_WEIGHT, scale * math.log(n / d)) >= KEY_MIN_CAP:
        d += 1
    return d


@dataclass(slots=True)
class _Caps:
    """The streaming equivalent of the batch run's key-term caps, for one chunk:
    the corpus is the index as it was at the start of the chunk plus the
    document being decided (``n`` documents); a key term held by ``min_df`` of
    them or more is dropped from the rewrite bands and the key-term prefilter."""

    n: int
    min_df: int
    df: dict[int, int]
    dropped: frozenset[int] = frozenset()
    border: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        md = self.min_df
        self.dropped = frozenset(h for h, c in self.df.items() if c >= md)
        self.border = frozenset(h for h, c in self.df.items() if c == md - 1)

    def split(self, hashes: list[int]) -> tuple[frozenset[int], frozenset[int]]:
        """An indexed document's key-term hashes that stay whatever the new
        document is, and those that stay unless the new document has them too."""
        hs = frozenset(hashes)
        border = hs & self.border
        return hs - self.dropped - border, border


def _key_sets(
    hashes: list[int], caps: _Caps | None
) -> tuple[frozenset[int], frozenset[int]]:
    """An indexed document's key-term hashes as :meth:`_Caps.split` gives them
    (all kept without caps)."""
    return caps.split(hashes) if caps is not None else (frozenset(hashes), frozenset())


def _among(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is in the sorted array ``table`` (binary
    search: no sort of ``values``, unlike ``np.isin``)."""
    if not len(table):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(table, values), len(table) - 1)
    out: np.ndarray = table[pos] == values
    return out


_DENSE_MAX = 1 << 26  # bytes of _prefilter_pairs's table (else binary search)


def _prefilter_pairs(
    items: Sequence[_Item], docs: np.ndarray, seqs: np.ndarray, stored: np.ndarray,
    hashes: list[np.ndarray], caps: _Caps | None,
) -> np.ndarray:
    """:func:`_prefilter` of many (new document, stored document) pairs at once:
    ``docs`` index ``items``, ``seqs`` are among ``stored`` (sorted), whose
    key-term hashes are ``hashes``.

    Only the stored hashes that some new document of the chunk also has can be
    in an intersection: those are looked up (per pair) in a table of which new
    document has which of them (one byte per document and distinct hash of the
    chunk); the others only count in the union."""
    lens = np.fromiter(map(len, hashes), dtype=np.int64, count=len(hashes))
    flat = (np.concatenate(hashes).astype(np.int64) if len(hashes)
            else np.zeros(0, dtype=np.int64))
    if caps is not None and (caps.dropped or caps.border):
        # one binary search in the capped hashes (dropped and border: disjoint),
        # no sort of the many stored ones
        capped = np.array(sorted(caps.dropped | caps.border), dtype=np.int64)
        at_cap = np.minimum(np.searchsorted(capped, flat), len(capped) - 1)
        found = capped[at_cap] == flat
        is_border = found & np.isin(capped, np.fromiter(
            caps.border, dtype=np.int64, count=len(caps.border)))[at_cap]
        is_keep = ~found
    else:
        is_border = np.zeros(len(flat), dtype=bool)
        is_keep = np.ones(len(flat), dtype=bool)
    owner = np.repeat(np.arange(len(hashes), dtype=np.int64), lens)
    n_keep = np.bincount(owner[is_keep], minlength=len(hashes))
    at = np.searchsorted(stored, seqs)

    def common(which: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
        """Per pair: how many of the stored document's hashes selected by
        ``which`` are in the new document's set (``parts``: one array each)."""
        sizes = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        vals = np.concatenate(parts) if len(parts) else np.zeros(0, dtype=np.int64)
        vocab = unique_sorted(vals)
        if not len(vocab):
            return np.zeros(len(seqs), dtype=np.int64)
        nv = len(vocab)
        codes = (np.repeat(np.arange(len(parts), dtype=np.int64), sizes) * nv
                 + np.searchsorted(vocab, vals))  # (new document, vocabulary entry)
        dense = len(parts) * nv <= _DENSE_MAX
        if dense:
            has = np.zeros(len(parts) * nv, dtype=bool)
            has[codes] = True
        else:
            codes.sort()
        sel = np.flatnonzero(which)  # (few, for the border hashes)
        pos = np.minimum(np.searchsorted(vocab, flat[sel]), nv - 1)
        hit = vocab[pos] == flat[sel]  # stored hashes some new document has
        vid, vown = pos[hit], owner[sel[hit]]
        cnt = np.bincount(vown, minlength=len(hashes))
        start = np.cumsum(cnt) - cnt
        take = cnt[at]
        total = int(take.sum())
        pair = np.repeat(np.arange(len(seqs), dtype=np.int64), take)
        row = np.repeat(start[at], take) + (np.arange(total, dtype=np.int64)
                                              - np.repeat(np.cumsum(take) - take, take))
        probe = docs[pair] * nv + vid[row]
        found = has[probe] if dense else _among(probe, codes)
        out: np.ndarray = np.bincount(pair[found], minlength=len(seqs))
        return out

    def arrays(sets: Iterable[frozenset[int]]) -> list[np.ndarray]:
        return [np.fromiter(s, dtype=np.int64, count=len(s)) for s in sets]

    inter = common(is_keep, arrays(it.key_set for it in items))
    if is_border.any():
        n_border = np.bincount(owner[is_border], minlength=len(hashes))
        extra = n_border[at] - common(is_border, arrays(it.key_all for it in items))
    else:
        extra = np.zeros(len(seqs), dtype=np.int64)
    n_set = np.fromiter((len(it.key_set) for it in items), dtype=np.int64,
                        count=len(items))[docs]
    union = n_set + n_keep[at] + extra - inter
    ok: np.ndarray = (union > 0) & (inter >= PREFILTER_KEY_JACCARD * union)
    safe = union > 0
    ok[safe] = inter[safe] / union[safe] >= PREFILTER_KEY_JACCARD
    return ok


def _prefilter(it: _Item, keep: frozenset[int], border: frozenset[int]) -> bool:
    """The cheap half of the rewrite prefilter, as in :func:`newsdedup.score.link`:
    the Jaccard of the (capped) key-term sets of a new document and an indexed
    one (32-bit hash collisions aside)."""
    ha = it.key_set
    inter = len(ha & keep)
    extra = len(border - it.key_all) if border else 0
    union = len(ha) + len(keep) + extra - inter
    return bool(union) and inter / union >= PREFILTER_KEY_JACCARD


class _JudgeView:
    """The batch run's :class:`~newsdedup.score.Judge` over the documents one
    chunk of a stream compares: new documents and their stored candidates (texts
    from the stored payloads). Corpus caps are not used (see the module docs)."""

    def __init__(self, config: Config, band: Any = None):
        self.config = config
        self.band = band  # key-term hash sets -> whole rewrite band keys
        self._rfull: dict[int, np.ndarray] = {}
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.titles: list[str | None] = []
        self.published: list[datetime | None] = []
        self.shingles: list[np.ndarray] = []
        self.n_words: list[int] = []
        self.originals: list[str] = []
        self.sources: list[str | None] = []
        self.local: dict[int, int] = {}
        self.sample = np.uint32(config.passage_sample)
        self._samples: dict[int, int] = {}
        self._sets: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
        self._all_keys: dict[int, frozenset[int]] = {}
        #: verdicts computed ahead (:meth:`judge_ahead`), by the pair asked
        self.ahead: dict[tuple[int, int], Verdict] = {}
        self.judge = Judge(
            ids=self.ids, texts=self.texts, titles=self.titles, published=self.published,
            shingles=self.shingles, n_words=self.n_words, config=config, caps=None,
            originals=self.originals, sources=self.sources,
        )

    def _append(self, ident: str, title: str | None, original: str, cleaned: str,
                published: datetime | None, shingles: np.ndarray, n_words: int,
                source: str | None) -> int:
        self.ids.append(ident)
        self.texts.append(cleaned)
        self.titles.append(title)
        self.originals.append(original)
        self.published.append(published)
        self.shingles.append(shingles)
        self.n_words.append(n_words)
        self.sources.append(source)
        return len(self.ids) - 1

    def add_new(self, it: _Item, seq: int) -> int:
        if seq >= 0 and seq in self.local:
            return self.local[seq]  # (added already, see Stream._verdicts_ahead)
        art = it.article
        pos = self._append(art.id, art.title, art.full_text, it.cleaned, _when(it.published),
                           it.shingles, it.n_words, art.outlet)
        if it.terms is not None:
            self.judge._terms[pos] = it.terms  # already computed (no caps: as is)
        if seq >= 0:
            self.local[seq] = pos
        return pos

    def add_stored(self, doc: StoredDoc) -> int:
        pos = self.local.get(doc.seq)
        if pos is None:
            title, original, cleaned = decode_payload(doc.payload) if doc.payload else (
                None, "", "")
            pos = self._append(doc.id, title, original, cleaned, _when(doc.published),
                               doc.shingle_set(), doc.n_words, doc.source)
            self.local[doc.seq] = pos
        return pos

    def key_sets(
        self, doc: StoredDoc, caps: _Caps | None
    ) -> tuple[frozenset[int], frozenset[int]]:
        """A stored document's key-term hashes (from its payload) as
        :meth:`_Caps.split` gives them (all kept without caps)."""
        sets = self._sets.get(doc.seq)
        if sets is None:
            sets = self._sets[doc.seq] = _key_sets(payload_key_hashes(doc.payload).tolist(), caps)
        return sets

    def may_link(self, i: int, j: int, keys_i: frozenset[int], doc_j: StoredDoc) -> bool:
        """False when the verdict of new document ``i`` and stored document ``j``
        (``doc_j``) is certainly "distinct": the copy half of the verdict finds
        nothing (:meth:`~newsdedup.score.Judge.copy_distinct`) and the Jaccard
        of their key terms, which the verdict's rewrite half needs at least
        :data:`~newsdedup.score.PREFILTER_KEY_JACCARD` of, falls short. The key
        terms are compared as the 32-bit hashes the index keeps (``keys_i``:
        the new document's, every one) instead of as the terms the verdict
        computes from both texts (collisions aside, the same sets; this view's
        judge has no caps). Most pairs the rewrite family finds in a large
        index end so (their key terms pass the prefilter's bar once the
        index's common ones are capped, not as the verdict counts them): they
        skip the content terms and the verdict."""
        if self.config.rewrite:
            keys_j = self._all_keys.get(doc_j.seq)
            if keys_j is None:
                keys_j = self._all_keys[doc_j.seq] = frozenset(
                    payload_key_hashes(doc_j.payload).tolist())
            union = len(keys_i | keys_j)
            if union and len(keys_i & keys_j) / union >= PREFILTER_KEY_JACCARD:
                return True
        a, b = (i, j) if self.ids[i] <= self.ids[j] else (j, i)  # as verdict() orients it
        return not self.judge.copy_distinct(a, b)

    def prime_rewrite_keys(self, docs: Sequence[StoredDoc]) -> None:
        """:meth:`rewrite_keys` of many documents in one signing call."""
        todo = [d for d in docs if d.seq not in self._rfull]
        ready = []
        for d in todo:
            hashes = payload_band_hashes(d.payload) if d.payload else _NO_HASH
            if (self.band is not None and len(hashes) >= 2
                    and d.n_words >= self.config.min_rewrite_words):
                ready.append((d.seq, hashes))
            else:
                self._rfull[d.seq] = _NO_KEYS
        if ready:
            for (seq, _h), keys in zip(ready, self.band([h for _s, h in ready]), strict=True):
                self._rfull[seq] = keys

    def set_rewrite_keys(self, seq: int, keys: np.ndarray) -> None:
        self._rfull[seq] = keys

    def rewrite_keys(self, doc: StoredDoc) -> np.ndarray:
        """A stored document's whole rewrite band keys, recomputed from the
        key-term hashes its bands used (as removal does): the band table keeps
        only 32 bits of each."""
        if doc.seq not in self._rfull:
            self.prime_rewrite_keys([doc])
        return self._rfull[doc.seq]

    def prime_terms(self, positions: Sequence[int]) -> None:
        """Content terms of documents to be judged, in one call (the judge
        would otherwise compute them one by one; no caps, as the judge's)."""
        judge = self.judge
        if not self.config.rewrite:
            return
        todo = [p for p in dict.fromkeys(positions) if p not in judge._terms]
        for p, t in zip(todo, content_terms_many([self.texts[p] for p in todo]), strict=True):
            judge._terms[p] = t

    def samples(self, doc: StoredDoc) -> int:
        """How many passage samples a stored document has."""
        if doc.samples >= 0:
            return doc.samples
        n = self._samples.get(doc.seq)
        if n is None:
            sh = doc.shingle_set()
            n = self._samples[doc.seq] = int(np.count_nonzero(sh % self.sample == 0))
        return n

    def verdict(self, i: int, j: int) -> Verdict:
        """The Judge's verdict, oriented as the batch run orients it (the
        document with the smaller id first), so scores agree to the last bit;
        one computed ahead (:meth:`judge_ahead`) when there is one."""
        ahead = self.ahead.pop((i, j), None)
        if ahead is not None:
            return ahead
        if self.ids[i] > self.ids[j]:
            i, j = j, i
        return self.judge._judge(i, j)

    def verdicts(self, pairs: list[tuple[int, int]]) -> list[Verdict]:
        """:meth:`verdict` of each of ``pairs`` (their documents' terms in one call)."""
        self.prime_terms([p for pair in pairs for p in pair])
        return [self.verdict(i, j) for i, j in pairs]

    def doc_state(self, pos: int) -> tuple[Any, ...]:
        """What :meth:`_append` took for document ``pos`` (to rebuild it elsewhere)."""
        return (self.ids[pos], self.titles[pos], self.originals[pos], self.texts[pos],
                self.published[pos], self.shingles[pos], self.n_words[pos], self.sources[pos])

    def judge_ahead(self, pairs: list[tuple[int, int]], pool: Any, parts: int) -> None:
        """Compute the verdicts of ``pairs`` (positions, as :meth:`verdict` will
        be asked) in ``parts`` shares: this process judges one, ``pool``'s worker
        processes the others (each on a copy of its documents), shared out as
        the batch run shares out its blocks (:func:`~newsdedup.score._pair_blocks`:
        the documents joined by pairs together, so that their views are built
        once, a large group cut where few documents are needed in two shares, and
        the shares balanced by the documents and pairs they take). The verdicts are the ones
        :meth:`verdict` would compute (the judge's work depends only on the two
        documents: no corpus caps here)."""
        if not pairs:
            return
        arr = np.array(pairs, dtype=np.int64)
        share_of = _pair_blocks(len(self.ids), np.zeros((0, 2), dtype=np.int64), arr,
                                parts)[arr[:, 0]]
        shares = [[pairs[x] for x in np.flatnonzero(share_of == k).tolist()]
                  for k in range(parts)]
        futures = []
        for share in shares[1:]:
            if not share:
                continue
            docs = sorted({p for pair in share for p in pair})
            local = {p: k for k, p in enumerate(docs)}
            futures.append((share, pool.submit(
                _worker_verdicts, [self.doc_state(p) for p in docs],
                [(local[i], local[j]) for i, j in share])))
        self.ahead.update(zip(shares[0], self.verdicts(shares[0]), strict=True))
        for share, fut in futures:
            for pair, v in zip(share, fut.result(), strict=True):
                self.ahead[pair] = v


_T = TypeVar("_T")


def _serialised(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Run a :class:`Stream` method under the stream's lock: one call at a time
    touches the index (a Deduper shared by threads lost documents: its SQLite
    transactions interleaved, and memory stores were made twice)."""

    @functools.wraps(fn)
    def run(self: Any, *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            return fn(self, *args, **kwargs)

    return run


class Stream:
    """Streaming deduplication over one :class:`~newsdedup.store.IndexStore`."""

    def __init__(self, config: Config, store: IndexStore):
        self._lock = threading.RLock()  # (see _serialised)
        self.config = config
        self.store = store
        self.lsh = lsh_params(config)
        self.workers = config.workers
        #: candidates gathered with array operations (:class:`_Lookup`); False:
        #: key by key (the plain reference path; the results are the same)
        self.fast = True
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
        pool = self._worker_pool()
        # The index takes the documents in the in-process path's batches
        # (_BATCH_CHUNK each, its cost per call shared by many documents): the
        # key-term caps are the index's at the start of a batch, so other
        # batches could change decisions. Workers prepare each batch in small
        # chunks (they start early and stay busy), up to a batch ahead of the
        # one being indexed.
        chunks: list[list[Article]] = []
        last: list[bool] = []  # whether a chunk ends its batch
        for b in range(0, len(articles), _BATCH_CHUNK):
            end = min(b + _BATCH_CHUNK, len(articles))
            for i in range(b, end, _WORK_CHUNK):
                chunks.append(articles[i : min(i + _WORK_CHUNK, end)])
                last.append(i + _WORK_CHUNK >= end)
        ahead = max(4 * self.workers, -(-_BATCH_CHUNK // _WORK_CHUNK))
        futures = [pool.submit(_worker_prepare, c) for c in chunks[:ahead]]
        buf: list[_Item] = []
        for n in range(len(chunks)):
            buf += _with_articles(futures[n].result(), chunks[n])
            if n + ahead < len(chunks):
                futures.append(pool.submit(_worker_prepare, chunks[n + ahead]))
            if last[n]:
                yield buf
                buf = []

    def _worker_pool(self) -> Any:
        """The worker processes (started on first use)."""
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork where there is one (no __main__ guard needed in scripts): the
            # workers then start with this process's preparer (a forked child
            # inherits the initializer's arguments, nothing is pickled), warm
            # (compiled kernels loaded, word frequencies read) when this process
            # has prepared documents before, instead of building their own
            methods = multiprocessing.get_all_start_methods()
            fork = "fork" in methods
            ctx = multiprocessing.get_context("fork" if fork else "spawn")
            init: tuple[Any, tuple[Any, ...]] = (
                (_worker_use, (self._prep, os.getpid())) if fork
                else (_worker_init, (self.config, os.getpid())))
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx,
                initializer=init[0], initargs=init[1],
            )
            if fork:  # forked at the first submit: Ctrl-C held back meanwhile
                with interrupts_held():
                    self._pool.submit(int)
        return self._pool

    @_serialised
    def html_extractors(
        self, records: Sequence[tuple[Any, str, int | None, str] | None],
    ) -> dict[int, Any]:
        """The HTML pages of ``records`` ((record, source, line, default id) each,
        as :func:`~newsdedup.load.article_from_record` takes them; None: none)
        extracted by the worker processes, as the ``extract_html`` to read each
        one with (position -> extractor). Empty with one worker or fewer than two
        pages; a worker that dies drops the pool, and the pages are extracted
        by the reading process (:func:`~newsdedup.load.extraction_of`)."""
        if self.workers == 1:
            return {}
        from concurrent.futures import BrokenExecutor

        from .load import extract_job, extraction_of, page_of

        pages: dict[int, tuple[str, str | None]] = {}
        for k, rec in enumerate(records):
            page = None if rec is None else page_of(
                rec[0], source=rec[1], line=rec[2], default_id=rec[3])
            if page is not None:
                pages[k] = page
        if len(pages) < 2:
            return {}
        pool = self._worker_pool()
        try:
            done = list(pool.map(extract_job, *zip(*pages.values(), strict=True)))
        except BrokenExecutor:
            self._drop_pool()
            return {}
        return {k: functools.partial(extraction_of, kind, value)
                for k, (kind, value) in zip(pages, done, strict=True)}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]  # (a lock is not copied: a copy gets its own)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @_serialised
    def close(self) -> None:
        """Stop the worker processes (if any) and close the store."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        self.store.close()

    def keys_of(self, docs: Sequence[StoredDoc]) -> list[np.ndarray]:
        """The band-table keys of stored documents, every kind (recomputed from
        their shingle sets and the key-term hashes their rewrite bands used;
        keys a document was not stored under, such as an exact copy's passage
        keys, are deleted as no-ops)."""
        out = [_NO_KEYS] * len(docs)
        idx = [i for i, d in enumerate(docs) if d.exact is not None and len(d.shingle_set())]
        sample = self.config.passage_sample
        for start in range(0, len(idx), _SIGN_CHUNK):
            chunk = idx[start : start + _SIGN_CHUNK]
            sigs = self._signer.sign([docs[i].shingle_set() for i in chunk])
            rkeys = [_NO_KEYS] * len(chunk)
            if self.config.rewrite:
                banded = {n: payload_band_hashes(docs[i].payload) for n, i in enumerate(chunk)}
                banded = {n: h for n, h in banded.items() if len(h) >= 2
                          and docs[chunk[n]].n_words >= self.config.min_rewrite_words}
                if banded:
                    for n, k in zip(banded, self._prep.band(list(banded.values())),
                                    strict=True):
                        rkeys[n] = stored_rewrite_keys(k)
            for n, (i, keys) in enumerate(zip(chunk, copy_keys(band_keys(sigs, self.lsh)),
                                              strict=True)):
                out[i] = np.concatenate(
                    [keys, passage_keys(docs[i].shingle_set(), sample), rkeys[n]]
                )
        return out

    def _caps(self, items: Sequence[_Item]) -> _Caps | None:
        """Key-term caps for a chunk (None below CORPUS_MIN_DOCS documents, as in
        batch); documents whose key terms are capped get their rewrite band
        keys and key-term set recomputed from the kept terms."""
        if not self.config.rewrite:
            return None
        n = self.store.term_docs() + 1
        if n < CORPUS_MIN_DOCS:
            return None
        md = min_dropped_df(n)
        hs = [it.hashes for it in items if it.hashes is not None and len(it.hashes)]
        df = self.store.term_df(unique_sorted(np.concatenate(hs)) if hs else _NO_HASH, md - 1)
        caps = _Caps(n=n, min_df=md, df=df)
        redo: list[tuple[_Item, np.ndarray]] = []
        for it in items:
            if it.hashes is None or it.exact is None:
                continue
            hashes = it.hashes.tolist()
            mask = np.fromiter((df.get(h, 0) + 1 < md for h in hashes), dtype=bool,
                               count=len(hashes))
            if mask.all():
                continue
            it.banded = mask
            kept = it.hashes[mask]
            it.key_set = frozenset(kept.tolist())
            it.rkeys = it.rfull = _NO_KEYS
            if it.n_words >= self.config.min_rewrite_words and len(kept) >= 2:
                redo.append((it, kept))
        if redo:
            for (it, _k), keys in zip(redo, self._prep.band([k for _i, k in redo]),
                                      strict=True):
                it.rfull, it.rkeys = keys, stored_rewrite_keys(keys)
        return caps

    def _members(
        self, keys: np.ndarray, stored: dict[int, list[int]], pending: dict[int, list[int]],
        crowded_first: bool = True,
    ) -> Iterator[list[int]]:
        """The members of each band-table key, stored then pending; a crowded
        bucket (``max_bucket`` members or more) gives its first member (as the
        batch LSH does) or, with ``crowded_first=False``, nothing (as the batch
        passage path ignores shingles in more than ``max_bucket`` documents)."""
        limit = self.config.max_bucket
        for k in keys.tolist():
            members = stored.get(k, []) + pending.get(k, [])
            if not members:
                continue
            if len(members) >= limit:
                if crowded_first:
                    yield members[:1]
                continue
            yield members

    def _candidates(
        self, keys: np.ndarray, stored: dict[int, list[int]], pending: dict[int, list[int]]
    ) -> set[int]:
        found: set[int] = set()
        for members in self._members(keys, stored, pending):
            found.update(members)
        return found

    def _passage_counts(
        self, it: _Item, stored: dict[int, list[int]], pending: dict[int, list[int]]
    ) -> dict[int, int]:
        counts: dict[int, int] = {}
        for members in self._members(it.pkeys, stored, pending, crowded_first=False):
            for m in members:
                counts[m] = counts.get(m, 0) + 1
        return counts

    def _wanted(
        self, items: Sequence[_Item], stored: dict[int, list[int]], caps: _Caps | None
    ) -> set[int]:
        """Stored documents a chunk may need (before pending documents are known):
        copy candidates, passage members that share enough samples, rewrite
        candidates that pass the key-term prefilter (checked on their key-term
        hashes alone, one light query, before whole documents are fetched)."""
        empty: dict[int, list[int]] = {}
        wanted: set[int] = set()
        maybe: list[tuple[int, int, int]] = []  # (seq, shared samples, new doc's samples)
        rewrite: list[tuple[int, _Item]] = []
        for it in items:
            wanted |= self._candidates(it.keys, stored, empty)
            rewrite += [(s, it) for s in self._candidates(it.rkeys, stored, empty)]
            n_samp = len(it.pkeys)
            need = _passage_need(n_samp)
            for s, shared in self._passage_counts(it, stored, empty).items():
                if shared >= need:
                    wanted.add(s)
                elif s not in wanted:
                    maybe.append((s, shared, n_samp))
        # A passage member sharing fewer samples than the new document's half is
        # a candidate only if it has few samples itself: look those counts up
        # before fetching whole documents.
        if maybe:
            counts = self.store.samples_of(sorted({s for s, _h, _n in maybe} - wanted))
            for s, shared, n_samp in maybe:
                c = counts.get(s)
                if c is not None and shared >= _passage_need(min(n_samp, c)):
                    wanted.add(s)
        rewrite = [(s, it) for s, it in rewrite if s not in wanted]
        if rewrite:
            parts = self.store.key_parts_of(sorted({s for s, _it in rewrite}))
            sets: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
            for s, it in rewrite:
                part = parts.get(s)
                if part is None or s in wanted:
                    continue
                ks = sets.get(s)
                if ks is None:
                    ks = sets[s] = _key_sets(payload_key_hashes(part).tolist(), caps)
                if _prefilter(it, *ks):
                    wanted.add(s)
        return wanted

    def _wanted_fast(
        self, items: Sequence[_Item], look: _Lookup, caps: _Caps | None
    ) -> tuple[np.ndarray, dict[tuple[int, int], bool]]:
        """:meth:`_wanted` with array operations (sorted seqs), and the
        key-term prefilter's verdicts on the rewrite-only pairs it checked
        ((document in chunk, seq) -> passed)."""
        docs, seqs, kinds = look.expand(None)
        wanted = unique_sorted(seqs[kinds == _COPY])
        pm = kinds == _PASSAGE
        pcodes, shared = np.unique((docs[pm] << _SEQ_BITS) | seqs[pm], return_counts=True)
        pdoc, pseq = pcodes >> _SEQ_BITS, pcodes & _SEQ_MASK
        n_samp = np.array([len(it.pkeys) for it in items], dtype=np.int64)
        ok = shared >= _passage_needs(n_samp[pdoc])
        wanted = unique_sorted(np.concatenate([wanted, pseq[ok]]))
        # A passage member sharing fewer samples than the new document's half is
        # a candidate only if it has few samples itself: look those counts up
        # before fetching whole documents.
        maybe = ~ok & ~np.isin(pseq, wanted)
        if maybe.any():
            mseq, mshared, mdoc = pseq[maybe], shared[maybe], pdoc[maybe]
            got, c = self.store.sample_counts(mseq)
            pas = got & (mshared >= _passage_needs(np.minimum(n_samp[mdoc], c)))
            wanted = unique_sorted(np.concatenate([wanted, mseq[pas]]))
        rm = kinds == _REWRITE
        rcodes = unique_sorted((docs[rm] << _SEQ_BITS) | seqs[rm])
        rcodes = rcodes[~np.isin(rcodes & _SEQ_MASK, wanted)]
        verdicts: dict[tuple[int, int], bool] = {}
        if len(rcodes):
            rdoc, rseq = rcodes >> _SEQ_BITS, rcodes & _SEQ_MASK
            useq = unique_sorted(rseq)
            parts = self.store.key_parts_of(useq.tolist())
            have = np.fromiter((s in parts for s in useq.tolist()), dtype=bool,
                               count=len(useq))
            hashes = [payload_key_hashes(parts[s]) for s in useq[have].tolist()]
            inside = np.isin(rseq, useq[have])
            rdoc, rseq = rdoc[inside], rseq[inside]
            ok = _prefilter_pairs(items, rdoc, rseq, useq[have], hashes, caps)
            wanted = unique_sorted(np.concatenate([wanted, rseq[ok]]))
            # _match asks only about fetched documents (the wanted ones)
            asked = np.isin(rseq, wanted)
            verdicts = dict(zip(zip(rdoc[asked].tolist(), rseq[asked].tolist(), strict=True),
                                ok[asked].tolist(), strict=True))
        return wanted, verdicts

    def _match(
        self, it: _Item, seq: int, view: _JudgeView,
        gathered: tuple[set[int], set[int], dict[int, int]], known: dict[int, StoredDoc],
        caps: _Caps | None, *, adding: bool = True,
        verdicts: dict[tuple[int, int], bool] | None = None, n: int = -1,
    ) -> tuple[list[tuple[Match, StoredDoc]], bool]:
        """The verified matches of a prepared document with the candidates the
        batch run would judge (copy LSH, passage samples, rewrite LSH), and
        whether it leads its exact group (is not an exact copy of an earlier one).

        When ``adding``, an exact copy of an earlier document links to the first
        of its exact group only (the batch leader) and nothing else, as in batch.
        A query judges every candidate it finds, an exact group's other members
        included; but those are stored with their copy-LSH keys only, so they
        are found for an exact copy or a copy-LSH candidate (a query then
        reports every indexed copy, where cluster() on the index and the query
        would report the link to the leader only) and not for an excerpt or a
        rewrite (reported against the leader only, as cluster() reports it).

        ``gathered``: the copy candidates, rewrite candidates and passage
        members (with their shared-sample counts) of the document
        (:meth:`_gather`, or :meth:`_Lookup.gathered`); ``verdicts``: key-term
        prefilter verdicts already known for (``n``, seq) pairs."""
        if it.exact is None:
            return [], True
        art = it.article
        leaders, lead = self._leaders(it, gathered, known, adding)
        i = view.add_new(it, seq)
        if lead is not None:
            if view.judge._conflict(i, view.add_stored(lead), "copy") is not None:
                return [], False  # a template look-alike: the same text after stripping
            a, b = sorted((art.id, lead.id))
            exact = Match(a=a, b=b, relation="exact", score=1.0, jaccard=1.0, containment=1.0)
            return [(exact, lead)], False
        judged = []
        for other in self._to_judge(it, leaders, gathered, view, caps, verdicts, n):
            j = view.add_stored(other)
            if (i, j) in view.ahead or view.may_link(i, j, it.key_all, other):
                judged.append((other, j))
        todo = [j for _o, j in judged if (i, j) not in view.ahead]
        if todo:
            view.prime_terms([i, *todo])
        found = []
        for other, j in judged:
            if not adding and other.exact == it.exact and np.array_equal(
                other.shingle_set(), it.shingles
            ):
                if view.judge._conflict(i, j, "copy") is None:
                    a, b = sorted((art.id, other.id))
                    found.append((Match(a=a, b=b, relation="exact", score=1.0, jaccard=1.0,
                                        containment=1.0), other))
                continue
            v = view.verdict(i, j)
            if v.match.relation != "distinct":
                found.append((v.match, other))
        return found, True

    def _leaders(
        self, it: _Item, gathered: tuple[set[int], set[int], dict[int, int]],
        known: dict[int, StoredDoc], adding: bool,
    ) -> tuple[dict[int, StoredDoc], StoredDoc | None]:
        """The candidates :meth:`_match` compares a document with (when
        ``adding``, the first-seen member of each exact group: the batch
        leader), and the leader of the document's own exact group when it is
        an exact copy of it (then nothing else is judged)."""
        art = it.article
        copy_c, rewrite_c, passage = gathered
        others = []
        for c in sorted(copy_c | rewrite_c | passage.keys()):
            other = known.get(c)
            if other is None or other.id == art.id or other.exact is None:
                continue  # removed meanwhile (another worker), or itself (query)
            if pair_allowed(it.published, art.outlet, other.published, other.source,
                            self.config):
                others.append(other)
        if not adding:
            return {other.seq: other for other in others}, None
        # Exact groups: only the first-seen member takes part (the batch leader).
        leaders: dict[int, StoredDoc] = {}
        for other in others:
            leaders.setdefault(other.exact, other)  # type: ignore[arg-type]
        lead = leaders.get(it.exact)  # type: ignore[arg-type]
        if lead is not None and np.array_equal(lead.shingle_set(), it.shingles):
            return leaders, lead
        return leaders, None

    def _to_judge(
        self, it: _Item, leaders: dict[int, StoredDoc],
        gathered: tuple[set[int], set[int], dict[int, int]], view: _JudgeView,
        caps: _Caps | None, verdicts: dict[tuple[int, int], bool] | None, n: int,
    ) -> list[StoredDoc]:
        """Which of ``leaders`` :meth:`_match` judges against the document: copy
        candidates, passage members sharing enough samples, and rewrite-only
        candidates that pass the prefilter and share a whole rewrite band key."""
        copy_c, rewrite_c, passage = gathered
        n_samp = len(it.pkeys)
        judged: list[StoredDoc] = []
        for other in leaders.values():
            s = other.seq
            if s not in copy_c:
                shared = passage.get(s, 0)
                # as score.passage_candidates: at least 2 shared samples and half of
                # the smaller side's, or all of the smaller side's
                in_passage = False
                if shared:
                    in_passage = shared >= _passage_need(min(n_samp, view.samples(other)))
                if not in_passage:
                    if s not in rewrite_c:
                        continue
                    # Rewrite-only candidates: the cheap half of the prefilter, as in
                    # link(), on the stored key-term hashes (32-bit collisions aside,
                    # the Jaccard of the key-term sets, capped as the chunk's _Caps say).
                    ok = verdicts.get((n, s)) if verdicts else None
                    if ok is None:
                        ok = _prefilter(it, *view.key_sets(other, caps))
                    # the band table matched 32 bits of a rewrite band key: the
                    # whole keys decide (as the batch run's 64-bit band keys)
                    if not ok or set(it.rfull.tolist()).isdisjoint(
                            view.rewrite_keys(other).tolist()):
                        continue
            judged.append(other)
        return judged

    def _verdicts_ahead(
        self, items: Sequence[_Item], first: int, view: _JudgeView, look: _Lookup,
        known: dict[int, StoredDoc], caps: _Caps | None,
        verdicts: dict[tuple[int, int], bool],
    ) -> None:
        """With worker processes: the verdicts of each new document against the
        stored documents :meth:`_match` will judge it with, computed before the
        chunk's documents are decided one by one, in this process and the
        workers (:meth:`_JudgeView.judge_ahead`). Documents of the chunk decided
        before a document can change only which stored ones it is judged with
        (an exact copy among them; a bucket they crowd): a verdict not computed
        here is computed when asked, one computed for nothing is not used."""
        empty: dict[int, list[int]] = {}
        pairs: list[tuple[int, int]] = []
        for n, it in enumerate(items):
            if it.exact is None:
                continue
            gathered = look.gathered(n, empty)
            leaders, lead = self._leaders(it, gathered, known, True)
            if lead is not None:
                continue  # an exact copy: linked to its group's leader, nothing judged
            others = self._to_judge(it, leaders, gathered, view, caps, verdicts, n)
            if others:
                i = view.add_new(it, first + n)
                for other in others:
                    j = view.add_stored(other)
                    if view.may_link(i, j, it.key_all, other):
                        pairs.append((i, j))
        view.judge_ahead(pairs, self._pool, self.workers + 1)

    # ---------------------------------------------------------------- API

    def add_many(self, docs: Iterable[Any]) -> list[Decision]:
        """Insert documents (in one transaction) and decide each against what
        was indexed before it, earlier documents of the same call included."""
        originals = list(docs)
        done = self.html_extractors([
            (d, "<records>", k + 1, "") if isinstance(d, Mapping) and "id" in d else None
            for k, d in enumerate(originals)])
        return self.add_articles(
            [as_article(d, at=k, extract_html=done.get(k)) for k, d in enumerate(originals)],
            originals)

    @_serialised
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
        done = 0
        try:
            with store.transaction():
                taken = store.seqs_of(ids)
                if taken:
                    raise DuplicateIdError(
                        f"document id {next(iter(taken))!r} is already in the index"
                    )
                for items in self._prepared_chunks(articles):
                    # deciding and inserting a chunk makes no reference cycles (see
                    # forked.paused_gc): at 100,000 documents in the default
                    # configuration the collector's passes took 0.65 ms per document
                    with paused_gc():
                        out += self._index_chunk(items, originals[done : done + len(items)])
                    done += len(items)
        except BrokenExecutor as err:
            self._drop_pool()
            raise WorkerError(
                "of the stream", f": this call of {len(articles)} documents stopped with {done} "
                "of them decided (an SQLite index keeps none of them: its transaction was "
                "rolled back); the next call starts new workers"
            ) from err
        return out

    def _drop_pool(self) -> None:
        """Let go of a broken worker pool (the next call that needs one starts it)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _gather(
        self, it: _Item, stored: dict[int, list[int]], pending: dict[int, list[int]]
    ) -> tuple[set[int], set[int], dict[int, int]]:
        """A document's copy candidates, rewrite candidates and passage members
        (with shared-sample counts), key by key (the plain path)."""
        return (self._candidates(it.keys, stored, pending),
                self._candidates(it.rkeys, stored, pending),
                self._passage_counts(it, stored, pending))

    def _lookup(
        self, items: Sequence[_Item], caps: _Caps | None, adding: bool
    ) -> tuple[dict[int, StoredDoc], _Lookup | None, dict[int, list[int]],
               dict[tuple[int, int], bool]]:
        """The stored documents a chunk needs, with what gathers each one's
        candidates: a :class:`_Lookup` (``fast``) or the bucket dict."""
        store = self.store
        limit = self.config.max_bucket
        all_keys = np.concatenate([k for it in items for k in (it.keys, it.pkeys, it.rkeys)])
        if not self.fast:
            bucket_map = store.buckets(all_keys, limit) if len(all_keys) else {}
            known = store.fetch(sorted(self._wanted(items, bucket_map, caps)))
            return known, None, bucket_map, {}
        table = store.bucket_table(all_keys, limit) if len(all_keys) else BucketTable.from_dict({})
        look = _Lookup(items, table, limit)
        wanted, verdicts = self._wanted_fast(items, look, caps)
        known = store.fetch(wanted.tolist())
        look.restrict(np.array(sorted(known), dtype=np.int64), adding)
        return known, look, {}, verdicts

    def _index_chunk(self, items: list[_Item], originals: list[Any]) -> list[Decision]:
        """Decide and insert prepared documents (inside the caller's transaction)."""
        store = self.store
        first = store.reserve(len(items))
        caps = self._caps(items)
        known, look, bucket_map, verdicts = self._lookup(items, caps, True)
        view = _JudgeView(self.config, self._prep.band)
        view.prime_rewrite_keys([known[s] for (_d, s), ok in verdicts.items() if ok and s in known])
        if self._pool is not None and look is not None:
            self._verdicts_ahead(items, first, view, look, known, caps, verdicts)
        pending: dict[int, list[int]] = {}
        new_docs: list[StoredDoc] = []
        new_keys: list[np.ndarray] = []
        out: list[Decision] = []
        for n, (it, original) in enumerate(zip(items, originals, strict=True)):
            seq = first + n
            art = it.article
            gathered = (look.gathered(n, pending) if look is not None
                        else self._gather(it, bucket_map, pending))
            matches, leads = self._match(it, seq, view, gathered, known, caps,
                                         verdicts=verdicts, n=n)
            doc = StoredDoc(
                seq=seq, id=art.id, published=it.published, source=art.outlet,
                n_words=it.n_words, exact=it.exact, cluster=0, rep=None, shingles=it.shingles,
                payload=it.payload(), lead=leads, samples=len(it.pkeys),
            )
            out.append(self._decide(art.id, original, seq, matches, doc))
            new_docs.append(doc)
            known[seq] = doc
            view.set_rewrite_keys(seq, it.rfull)  # what rewrite_keys would recompute
            # An exact copy is found through its group's first member: it keeps
            # only its copy-LSH keys (so that it can still be found once that one
            # is removed), as the batch run indexes exact groups by their leader.
            keys = np.concatenate([it.keys, it.pkeys, it.rkeys]) if leads else it.keys
            new_keys.append(keys)
            if look is not None:
                look.add_pending(n, seq, leads, pending)
            else:
                for k in keys.tolist():
                    pending.setdefault(k, []).append(seq)
        store.insert(new_docs, new_keys)
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

    @_serialised
    def query_many(self, docs: Iterable[Any]) -> list[list[Match]]:
        """The verified matches of each document against the index (nothing
        inserted; an indexed document with the same id is not a match)."""
        articles = [as_article(d, at=k) for k, d in enumerate(docs)]
        if not articles:
            return []
        items = self._prepare(articles)
        caps = self._caps(items)
        known, look, bucket_map, verdicts = self._lookup(items, caps, False)
        empty: dict[int, list[int]] = {}
        view = _JudgeView(self.config, self._prep.band)
        view.prime_rewrite_keys([known[s] for (_d, s), ok in verdicts.items() if ok and s in known])
        out = []
        for n, it in enumerate(items):
            gathered = (look.gathered(n, empty) if look is not None
                        else self._gather(it, bucket_map, empty))
            found, _leads = self._match(it, -1, view, gathered, known, caps, adding=False,
                                        verdicts=verdicts, n=n)
            found.sort(key=lambda t: (-t[0].score, t[1].seq))
            out.append([m for m, _ in found])
        return out

    @_serialised
    def remove(self, ids: Sequence[str | int]) -> int:
        """Remove documents by id (an integer id as records give it: 7 is "7");
        return how many were indexed."""
        from .load import record_id

        seqs = self.store.seqs_of(
            [record_id(i, source=None, line=None, what="document id") for i in ids]
        )
        if not seqs:
            return 0
        docs = list(self.store.fetch(sorted(seqs.values())).values())
        with self.store.transaction():
            self._delete(docs)
        return len(docs)

    def _delete(self, docs: list[StoredDoc]) -> None:
        """Delete stored documents (inside the caller's transaction); an exact
        group whose leader (first-seen member) is among them is then led by its
        earliest remaining member (:meth:`_hand_over`)."""
        self.store.delete(docs, self.keys_of(docs))
        self._hand_over(docs)

    def _hand_over(self, gone: Sequence[StoredDoc]) -> None:
        """For each exact group whose leader was deleted (``gone``): its earliest
        remaining member, stored as an exact copy (its copy-LSH keys only),
        becomes the leader: it is stored again, with the same seq, as a
        first-seen document (every kind of key, passage samples and rewrite
        bands included; counted in the key-term document frequencies), so
        that the group is found as the batch run finds it through its leader
        (the first by id of the remaining documents). A group that still has
        a leader (one stored so under ``window`` / ``source_match``, which were
        not allowed with the deleted one) is left as it is.

        The remaining members are found through the deleted leader's copy-LSH
        keys (identical shingle sets have identical keys): the documents in
        every one of its buckets."""
        leads = [d for d in gone if d.lead and d.exact is not None and len(d.shingle_set())]
        if not leads:
            return
        gone_seqs = {d.seq for d in gone}
        sigs = self._signer.sign([d.shingle_set() for d in leads])
        keys = copy_keys(band_keys(sigs, self.lsh))
        table = self.store.buckets(unique_sorted(keys.reshape(-1)), len(self.store) + 1)
        wanted: set[int] = set()
        for row in keys:
            members: set[int] | None = None
            for k in row.tolist():
                found = set(table.get(k, ()))
                members = found if members is None else members & found
                if not members:
                    break
            wanted |= (members or set()) - gone_seqs
        if not wanted:
            return
        stored = self.store.fetch(sorted(wanted))
        promote: dict[int, StoredDoc] = {}
        for lead in leads:
            group = [stored[s] for s in sorted(stored)
                     if stored[s].exact == lead.exact
                     and np.array_equal(stored[s].shingle_set(), lead.shingle_set())]
            if group and not any(d.lead for d in group):
                promote[group[0].seq] = group[0]
        if not promote:
            return
        docs = list(promote.values())
        keys_of = self.keys_of(docs)  # (deleting the keys it was not stored under: no-ops)
        self.store.delete(docs, keys_of)
        for d in docs:
            d.lead = True
        self.store.insert(docs, keys_of)

    @_serialised
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
                self._delete(chunk)
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
