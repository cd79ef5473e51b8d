"""Index backends for the streaming :class:`~newsdedup.Deduper`: memory, SQLite, Redis.

One small interface, :class:`IndexStore`. A store holds, per indexed document,
a :class:`StoredDoc` (id, a sequence number, published time, source, word count,
exact-text hash, story label and its exact shingle set) and the LSH band table
(band key -> sequence numbers; a key is looked up by its top 48 bits, of which
a copy-LSH key keeps 40). It does no text processing: the
streaming logic (:mod:`newsdedup.stream`) prepares, signs and verifies.

Stored formats are versioned and self-describing, never pickled:

* shingle sets are Elias-Fano coded (:func:`encode_shingles`): about
  ``2 + log2(2**32 / n)`` bits per shingle instead of 32;
* every store records :data:`INDEX_FORMAT` and the configuration fingerprint
  (shingling, hashing, num_perm, seed, bands/rows, library version, a hash of
  the boilerplate model: ``stream.boilerplate_fingerprint``); opening it
  with another configuration raises
  :class:`~newsdedup.errors.IncompatibleSignatureError` naming the differences.

* per document, a ``payload`` (:func:`encode_payload`): the rewrite family's
  key-term hashes (raw uint32, read by the key-term prefilter without decoding)
  and which of them its rewrite bands used (a bit mask, present once key-term
  caps dropped some), then the headline, the original text and the cleaned
  (stripped) text, zlib-compressed together with a preset dictionary of common
  news words (:mod:`newsdedup._zdict`; the cleaned text is mostly
  back-references into the original, and is not stored again when nothing was
  stripped): what the streaming verifier (:class:`~newsdedup.score.Judge`)
  needs for the rewrite relation and the template guard of a candidate pair;
  SQLite keeps the key-term part in its own column (``keys``, NULL when there
  are no key terms) so that candidates can be prefiltered on it with a light
  query, and the compressed texts in their own table (``texts``);
* per document, its passage-sample count (also read by a light query) and
  whether it leads its exact group;
* the band table holds three kinds of keys: copy-LSH bands, passage samples
  and rewrite-family bands (:mod:`newsdedup.stream` salts them apart); SQLite
  keeps a new document's entries as one row (5 bytes per copy key, 6 per
  tagged one) and merges them into rows that hold every entry of a key range
  (:func:`_pack_groups`: 5 bytes per copy-key entry up to 262,143 documents,
  4 for a passage sample or a rewrite band key: see :data:`PASSAGE_TAG`);
* the key-term document frequencies over the exact-group leads
  (:meth:`IndexStore.term_df`), for the streaming key-term caps.

Signatures are not stored: band keys are recomputed from the shingle set and
the key-term hashes the rewrite bands used when a document is removed.
Format 3 added the key-term part, the frequencies, the sample count and the
lead flag; format 6 the texts' preset dictionary and raw deflate
stream, and in SQLite the grouped band rows, one recent-entries row per
document and the ``texts`` table (formats 4 and 5 were short-lived steps
towards it); format 7 tagged passage and rewrite keys, stored in 4 bytes per
merged entry, and Redis bucket names that spread tagged keys; format 8 kept
copy keys to 40 bits, headed the payload's key-term part with one varint and
deflated texts against a 32 KB dictionary; format 9 kept part of each mixed
band key (every bit depends on every row of the band); format 10 (this one)
stores a document's outlet as its source (its ``source``, else its URL's host). An
index of another format is refused with a clear error (:func:`check_fingerprint`):
rebuild it.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import sqlite3
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._arrays import unique_sorted
from ._zdict import ZDICT
from .errors import (
    IncompatibleSignatureError,
    InputError,
    MissingDependencyError,
    NewsDedupError,
)

#: Version of the stored layout (tables, keys, record and shingle coding).
#: 10: a document's stored source is its outlet (its ``source``, else its URL's
#: host: :attr:`newsdedup.Article.outlet`), so an index of format 9 may hold None
#: where this version would hold a host.
INDEX_FORMAT = 10
_SQLITE_APP_ID = 0x4E444450  # "NDDP" in PRAGMA application_id


class IndexConnectionError(NewsDedupError, ConnectionError):
    """The index backend (a Redis server, a database file) cannot be reached, opened
    or written (a full disk)."""


class DuplicateIdError(NewsDedupError, ValueError):
    """A document id is already in the index (remove it first to replace it)."""


class IndexClosedError(NewsDedupError, ValueError):
    """The index was closed (:meth:`IndexStore.close`, ``Deduper.close``) and then used."""


class _Closed:
    """What a closed store holds instead of its connection (its tables, in
    memory): any use of it raises :class:`IndexClosedError` with ``message``."""

    __slots__ = ("_message",)

    def __init__(self, message: str):
        self._message = message

    def _fail(self, *_args: Any, **_kwargs: Any) -> Any:
        raise IndexClosedError(self._message)

    def __getattr__(self, name: str) -> Any:
        self._fail()

    __call__ = __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __len__ = _fail


def _closed(location: str) -> _Closed:
    return _Closed(f"the index {location!r} is closed: open it again (Deduper.open) to use it")


# --------------------------------------------------------------------------- coding


def encode_shingles(values: np.ndarray) -> bytes:
    """Elias-Fano code of a sorted unique uint32 array (self-delimiting).

    Layout: ``<I n><B l>``, then the low ``l`` bits of every value (packed,
    big-endian bit order), then the high parts as a unary bit vector.

    >>> x = np.array([3, 70000, 2**32 - 1], dtype=np.uint32)
    >>> decode_shingles(encode_shingles(x)).tolist() == x.tolist()
    True
    """
    return _encode_shingles(values)


def _encode_shingles(values: np.ndarray, native: bool | None = None) -> bytes:
    """:func:`encode_shingles`, by the compiled kernel ``ef_encode`` when numba
    is there (``native`` forces one way)."""
    n = len(values)
    if n == 0:
        return struct.pack("<IB", 0, 0)
    low_bits = max(0, min(32, math.floor(math.log2((1 << 32) / n))))
    from . import _native

    if _native.available() if native is None else native:
        code: np.ndarray = _native.kernels()["ef_encode"](
            values.astype(np.uint32, copy=False), low_bits)
        return struct.pack("<IB", n, low_bits) + code.tobytes()
    x = values.astype(np.uint64, copy=False)
    high = (x >> np.uint64(low_bits)).astype(np.int64)
    hbits = np.zeros(n + int(high[-1]) + 1, dtype=np.uint8)
    hbits[high + np.arange(n)] = 1
    parts = [struct.pack("<IB", n, low_bits)]
    if low_bits:
        shifts = np.arange(low_bits - 1, -1, -1, dtype=np.uint64)
        lbits = ((x[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8)
        parts.append(np.packbits(lbits.ravel()).tobytes())
    parts.append(np.packbits(hbits).tobytes())
    return b"".join(parts)


def decode_shingles(blob: bytes, native: bool | None = None) -> np.ndarray:
    """Inverse of :func:`encode_shingles` (by the compiled kernel ``ef_decode``
    when numba is there; ``native`` forces one way)."""
    n, low_bits = struct.unpack_from("<IB", blob, 0)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    raw = np.frombuffer(blob, dtype=np.uint8, offset=5)
    from . import _native

    if _native.available() if native is None else native:
        out: np.ndarray = _native.kernels()["ef_decode"](raw, n, low_bits)
        return out
    nlow = (n * low_bits + 7) // 8
    if low_bits:
        lbits = np.unpackbits(raw[:nlow], count=n * low_bits).reshape(n, low_bits)
        weights = np.left_shift(np.uint64(1), np.arange(low_bits - 1, -1, -1, dtype=np.uint64))
        low = lbits.astype(np.uint64) @ weights
    else:
        low = np.zeros(n, dtype=np.uint64)
    ones = np.flatnonzero(np.unpackbits(raw[nlow:]))[:n]
    high = (ones - np.arange(n)).astype(np.uint64)
    return ((high << np.uint64(low_bits)) | low).astype(np.uint32)


# --------------------------------------------------------------------------- records


_NO_SHINGLES = np.zeros(0, dtype=np.uint32)
_NO_SHINGLES.flags.writeable = False


@dataclass(slots=True, kw_only=True)
class StoredDoc:
    """What the index keeps per document.

    Attributes:
        seq: the store's sequence number (arrival order; never reused).
        id: the document id.
        published: POSIX seconds (naive datetimes are read as UTC), or None.
        source: the outlet, or None.
        n_words: words after cleaning (verification needs it).
        exact: 64-bit hash of the normalised cleaned text (None: too short).
        cluster: seq of the story's first-seen document (0: this document).
        rep: id of the story's first-seen document (None: this document).
        samples: how many passage samples the shingle set has (-1: not given).
        code: the shingle set's Elias-Fano code while not yet decoded (a store
            fetches documents undecoded; use :meth:`shingle_set`).
        shingles: the exact sorted shingle set (see ``code``).
        payload: key-term hashes, then headline, original and cleaned text,
            compressed (:func:`encode_payload`); empty when not kept.
        lead: whether the document leads its exact group (is not an exact copy
            of an earlier one): only leads count in the key-term document
            frequencies (:meth:`IndexStore.term_df`).
    """

    seq: int
    id: str
    published: float | None
    source: str | None
    n_words: int
    exact: int | None
    cluster: int
    rep: str | None
    lead: bool = True
    samples: int = -1
    code: bytes | None = None
    shingles: np.ndarray = field(default_factory=lambda: _NO_SHINGLES)
    payload: bytes = b""

    def shingle_set(self) -> np.ndarray:
        """The shingle set (decoded from ``code`` on first use)."""
        if self.code is not None:
            self.shingles = decode_shingles(self.code)
            self.code = None
        return self.shingles

    def shingle_code(self) -> bytes:
        """The Elias-Fano code of the shingle set."""
        return self.code if self.code is not None else encode_shingles(self.shingles)

    @property
    def story(self) -> int:
        """The story label: the seq of its first-seen document."""
        return self.cluster or self.seq

    @property
    def representative(self) -> str:
        return self.rep if self.rep is not None else self.id


_REC = struct.Struct("<BdqqqIiHHHI")
# flags, published, exact, seq, cluster, n_words, samples, 3 string lengths,
# shingle-code length


def compress_texts(title: str | None, original: str, cleaned: str) -> bytes:
    """Headline, original text and cleaned text, deflated together (the cleaned
    text is mostly back-references into the original) with the preset
    dictionary :data:`newsdedup._zdict.ZDICT` of common news words.

    Layout before compression: the lengths (in UTF-8 bytes) of the headline + 1
    (0: none), of the original and of the cleaned text + 1 (0: the same as the
    original, not stored again) as varints, then the texts; compressed as a raw
    deflate stream (no zlib header or checksum)."""
    t = b"" if title is None else title.encode("utf-8", "surrogatepass")
    o = original.encode("utf-8", "surrogatepass")
    # nothing stripped: the cleaned text is not stored again
    c = b"" if cleaned == original else cleaned.encode("utf-8", "surrogatepass")
    # lengths + 1 (0: no title; 0: the cleaned text is the original) as varints
    head = _varints((0 if title is None else len(t) + 1, len(o),
                     0 if cleaned == original else len(c) + 1))
    z = _primed_compressor().copy()  # as a new compressobj given the dictionary, cheaper
    out: bytes = z.compress(b"".join((head, t, o, c))) + z.flush()
    return out


_PRIMED: list[Any] = []
_TEXT_LEVEL = 5  # deflate level of the texts (see _primed_compressor)


def _primed_compressor() -> Any:
    """A raw deflate compressor (no header) that has been given the preset
    dictionary and has compressed nothing: copies of it compress as new ones
    would (setting the dictionary hashes its 16 KB: about 50 us a text).

    Level 5: on 3,000 benchmark articles (2,168 B before compression) 967 B
    in 90 us each, against 962 B in 123 us at level 6 (zlib's default), 995 B
    in 60 us at level 4 and 1,074 B in 39 us at level 1; Z_FILTERED and
    memLevel 9 are larger and no faster. Decompression reads any level."""
    import zlib

    if not _PRIMED:
        _PRIMED.append(zlib.compressobj(_TEXT_LEVEL, zlib.DEFLATED, -15, zdict=ZDICT))
    return _PRIMED[0]


def _varints(values: Sequence[int]) -> bytes:
    """Unsigned LEB128 varints."""
    out = bytearray()
    for v in values:
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def _read_varint(raw: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def encode_payload(
    title: str | None, original: str, cleaned: str, key_hashes: np.ndarray | None = None,
    banded: np.ndarray | None = None, *, texts: bytes | None = None,
) -> bytes:
    """A varint (the number of key-term hashes << 1 | whether a mask follows),
    the rewrite family's key-term hashes (raw little-endian uint32, so that the
    key-term prefilter reads them without decoding), which of them
    the rewrite bands were computed from (``banded``, a boolean mask, a bit per
    hash; omitted when all were), then the texts (:func:`compress_texts`, or
    ``texts`` when already compressed). (Index format 7 began with two uint32
    lengths: 8 bytes where this takes 1 up to 63 hashes.)

    >>> blob = encode_payload("Hi", "Hi\\nthere", "there", np.array([7, 9], dtype=np.uint32))
    >>> decode_payload(blob), payload_key_hashes(blob).tolist()
    (('Hi', 'Hi\\nthere', 'there'), [7, 9])
    >>> blob = encode_payload(None, "", "", np.array([7, 9, 12], dtype=np.uint32),
    ...                       np.array([True, False, True]))
    >>> payload_band_hashes(blob).tolist()
    [7, 12]
    """
    hashes = key_hashes if key_hashes is not None else _NO_HASHES
    keys = hashes.astype("<u4", copy=False).tobytes()
    mask = b""
    if banded is not None and not bool(np.all(banded)):
        mask = np.packbits(banded.astype(np.uint8)).tobytes()
    if texts is None:
        texts = compress_texts(title, original, cleaned)
    return b"".join((_varints((len(hashes) << 1 | bool(mask),)), keys, mask, texts))


_NO_HASHES = np.zeros(0, dtype=np.uint32)


def _keys_head(blob: bytes) -> tuple[int, int, int]:
    """A payload's key-term part: the number of key-term hashes, the bytes of
    the banded mask and where the hashes start (after the varint ``hashes << 1
    | has_mask``; the mask, when there is one, has a bit per hash)."""
    v = blob[0]
    pos = 1
    if v >= 0x80:
        v, pos = _read_varint(blob, 0)
    n = v >> 1
    return n, (n + 7) >> 3 if v & 1 else 0, pos


def payload_key_hashes(blob: bytes) -> np.ndarray:
    """The key-term hashes of a payload (sorted unique uint32)."""
    if not blob:
        return _NO_HASHES
    n, _m, pos = _keys_head(blob)
    return np.frombuffer(blob, dtype="<u4", count=n, offset=pos) if n else _NO_HASHES


def split_payload(blob: bytes) -> tuple[bytes, bytes]:
    """A payload's key-term part (a payload without texts: what the key-term
    functions read) and its compressed texts."""
    if not blob:
        return b"", b""
    n, m, pos = _keys_head(blob)
    end = pos + 4 * n + m
    return blob[:end], blob[end:]


def payload_band_hashes(blob: bytes) -> np.ndarray:
    """The key-term hashes a document's rewrite bands were computed from."""
    if not blob:
        return _NO_HASHES
    n, m, pos = _keys_head(blob)
    hashes = payload_key_hashes(blob)
    if not m:
        return hashes
    mask = np.unpackbits(np.frombuffer(blob, dtype=np.uint8, count=m, offset=pos + 4 * n),
                         count=len(hashes)).astype(bool)
    out: np.ndarray = hashes[mask]
    return out


def decode_payload(blob: bytes) -> tuple[str | None, str, str]:
    """The texts of a payload: (title, original, cleaned)."""
    import zlib

    n, m, pos = _keys_head(blob)
    z = zlib.decompressobj(-15, zdict=ZDICT)
    raw = z.decompress(blob[pos + 4 * n + m :]) + z.flush()
    lt, pos = _read_varint(raw, 0)
    lo, pos = _read_varint(raw, pos)
    lc, pos = _read_varint(raw, pos)
    title = None
    if lt:
        title = raw[pos : pos + lt - 1].decode("utf-8", "surrogatepass")
        pos += lt - 1
    original = raw[pos : pos + lo].decode("utf-8", "surrogatepass")
    pos += lo
    if not lc:
        return title, original, original
    return title, original, raw[pos : pos + lc - 1].decode("utf-8", "surrogatepass")


def encode_record(doc: StoredDoc) -> bytes:
    """A document as one binary value (for key-value backends)."""
    ident = doc.id.encode("utf-8")
    source = (doc.source or "").encode("utf-8")
    rep = (doc.rep or "").encode("utf-8")
    if max(len(ident), len(source), len(rep)) > 0xFFFF:
        raise ValueError("document id, source and representative id must be under 64 KiB")
    flags = (
        (doc.published is not None)
        | (doc.exact is not None) << 1
        | (doc.source is not None) << 2
        | (doc.rep is not None) << 3
        | (not doc.lead) << 4
    )
    code = doc.shingle_code()
    head = _REC.pack(
        flags, doc.published if doc.published is not None else 0.0,
        doc.exact if doc.exact is not None else 0, doc.seq, doc.cluster, doc.n_words,
        doc.samples, len(ident), len(source), len(rep), len(code),
    )
    return b"".join((head, ident, source, rep, code, doc.payload))


def decode_record(value: bytes) -> StoredDoc:
    flags, pub, exact, seq, cluster, n_words, samples, li, ls, lr, lc = _REC.unpack_from(
        value, 0)
    pos = _REC.size
    ident = value[pos : pos + li].decode("utf-8")
    pos += li
    source = value[pos : pos + ls].decode("utf-8")
    pos += ls
    rep = value[pos : pos + lr].decode("utf-8")
    pos += lr
    return StoredDoc(
        seq=seq, id=ident, published=pub if flags & 1 else None,
        exact=exact if flags & 2 else None, source=source if flags & 4 else None,
        rep=rep if flags & 8 else None, cluster=cluster, n_words=n_words,
        code=bytes(value[pos : pos + lc]), payload=bytes(value[pos + lc :]),
        lead=not flags & 16, samples=samples,
    )


# --------------------------------------------------------------------------- interface


def _damaged(location: str, field: str, raw: Any) -> IncompatibleSignatureError:
    shown = repr(raw)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return IncompatibleSignatureError(
        f"index {location!r}: its {field} holds {shown}, not what newsdedup writes there "
        "(the index is damaged, or another program wrote to it)")


def _fingerprint_of(location: str, raw: Any) -> dict[str, Any]:
    """A stored fingerprint read back (a JSON object), or an error naming the index."""
    try:
        fp = json.loads(raw)
    except (TypeError, ValueError):  # (UnicodeDecodeError is a ValueError)
        raise _damaged(location, "fingerprint", raw) from None
    if not isinstance(fp, dict):
        raise _damaged(location, "fingerprint", raw)
    return fp


def _count_of(location: str, field: str, raw: Any) -> int:
    """A stored counter read back (an int), or an error naming the index."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise _damaged(location, f"counter {field!r}", raw) from None


def check_fingerprint(stored: dict[str, Any], wanted: dict[str, Any], where: str) -> None:
    """Raise IncompatibleSignatureError naming every differing fingerprint field."""
    fmt = stored.get("index_format")
    if fmt != INDEX_FORMAT:
        raise IncompatibleSignatureError(
            f"{where} has index format {fmt!r}; this newsdedup reads format {INDEX_FORMAT}. "
            "Rebuild the index."
        )
    why = {  # the options a derived field comes from
        "bands": " (from threshold and recall_at_threshold, or given)",
        "rows": " (from threshold and recall_at_threshold, or given)",
        "rewrite_bands": " (from rewrite_lsh_threshold and recall_at_threshold)",
        "rewrite_rows": " (from rewrite_lsh_threshold and recall_at_threshold)",
    }
    diffs = [
        f"{k}: index has {stored.get(k)!r}, this Deduper has {wanted.get(k)!r}{why.get(k, '')}"
        for k in sorted(set(stored) | set(wanted))
        if stored.get(k) != wanted.get(k)
    ]
    if diffs:
        raise IncompatibleSignatureError(
            f"{where} was built with a different configuration (" + "; ".join(diffs) + "). "
            "Open it with the configuration it was built with, or build a new index."
        )


#: Key terms held by at least this many documents are kept apart (a partial
#: index in SQLite, a set in memory) so that the common ones are found without
#: reading every term; streaming caps ask for df >= about sqrt(2 * 1000) - 1 = 43
#: or more.
HOT_DF = 32


@dataclass(frozen=True, slots=True)
class BucketTable:
    """Band-table members of many keys at once, as arrays: ``keys`` (uint64,
    sorted, only keys with members), and the members of ``keys[i]`` (ascending
    seqs, at most the lookup's limit) are ``seqs[offsets[i] : offsets[i + 1]]``."""

    keys: np.ndarray
    offsets: np.ndarray
    seqs: np.ndarray

    @classmethod
    def from_dict(cls, table: dict[int, list[int]]) -> BucketTable:
        ks = sorted(table)
        counts = np.fromiter((len(table[k]) for k in ks), dtype=np.int64, count=len(ks))
        offsets = np.zeros(len(ks) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        seqs = np.fromiter((s for k in ks for s in table[k]), dtype=np.int64,
                           count=int(offsets[-1]))
        return cls(np.array(ks, dtype=np.uint64), offsets, seqs)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``keys``: where its members start in ``seqs`` and how many
        there are (0 for a key without members)."""
        n = len(self.keys)
        pos = np.searchsorted(self.keys, keys)
        hit = pos < n
        hit[hit] = self.keys[pos[hit]] == keys[hit]
        start = np.where(hit, self.offsets[np.minimum(pos, n)], 0)
        count = np.where(hit, self.offsets[np.minimum(pos + 1, n)] - start, 0)
        return start, count

    def as_dict(self) -> dict[int, list[int]]:
        bounds = self.offsets.tolist()
        seqs = self.seqs.tolist()
        return {k: seqs[bounds[i] : bounds[i + 1]] for i, k in enumerate(self.keys.tolist())}


def term_counts(docs: Sequence[StoredDoc]) -> tuple[int, dict[int, int]]:
    """How many of ``docs`` count in the key-term document frequencies (leads
    with a shingle set), and how many of those hold each key-term hash."""
    n = 0
    df: dict[int, int] = {}
    for d in docs:
        if d.lead and d.exact is not None:
            n += 1
            for h in payload_key_hashes(d.payload).tolist():
                df[h] = df.get(h, 0) + 1
    return n, df


class IndexStore(ABC):
    """The storage interface the streaming logic uses.

    Writes happen inside :meth:`transaction`; :meth:`insert` of a batch is
    atomic (all of it is stored, or none).
    """

    location: str

    @abstractmethod
    def fingerprint(self) -> dict[str, Any] | None:
        """The stored fingerprint, or None for a new, empty index."""

    @abstractmethod
    def set_fingerprint(self, fingerprint: dict[str, Any]) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction (the backend's own; a no-op where each call is atomic)."""
        yield

    @abstractmethod
    def reserve(self, n: int) -> int:
        """Reserve ``n`` new sequence numbers; return the first."""

    @abstractmethod
    def buckets(self, keys: np.ndarray, limit: int) -> dict[int, list[int]]:
        """For each (uint64) band key: up to ``limit`` member seqs, ascending.

        Keys without members are left out.
        """

    def bucket_table(self, keys: np.ndarray, limit: int) -> BucketTable:
        """:meth:`buckets` as arrays (:class:`BucketTable`)."""
        return BucketTable.from_dict(self.buckets(keys, limit))

    @abstractmethod
    def fetch(self, seqs: Sequence[int]) -> dict[int, StoredDoc]:
        """The stored documents with these seqs (missing ones are left out)."""

    def samples_of(self, seqs: Sequence[int]) -> dict[int, int]:
        """The passage-sample counts of the stored documents with these seqs."""
        return {s: d.samples if d.samples >= 0 else -1 for s, d in self.fetch(seqs).items()}

    def sample_counts(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`samples_of` as arrays: for each of ``seqs`` (int64), whether it
        is stored and its count. A store may report a document removed by
        another connection as stored (the caller then finds it missing when
        it fetches it)."""
        counts = self.samples_of(seqs.tolist())
        found = np.fromiter((s in counts for s in seqs.tolist()), dtype=bool, count=len(seqs))
        vals = np.fromiter((counts.get(s, 0) for s in seqs.tolist()), dtype=np.int64,
                           count=len(seqs))
        return found, vals

    def key_parts_of(self, seqs: Sequence[int]) -> dict[int, bytes]:
        """The key-term part of the payloads (:func:`split_payload`) of the
        stored documents with these seqs."""
        return {s: split_payload(d.payload)[0] for s, d in self.fetch(seqs).items()}

    @abstractmethod
    def seqs_of(self, ids: Sequence[str]) -> dict[str, int]:
        """The seqs of the ids that are indexed."""

    @abstractmethod
    def insert(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        """Store documents with their (uint64) band keys; raise DuplicateIdError
        (storing nothing) when an id is already indexed."""

    @abstractmethod
    def delete(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        """Remove documents and their band entries."""

    @abstractmethod
    def term_docs(self) -> int:
        """How many indexed documents count in the key-term document
        frequencies (the exact-group leads with a shingle set)."""

    @abstractmethod
    def term_df(self, hashes: np.ndarray, min_df: int) -> dict[int, int]:
        """Key-term document frequencies over those documents: {hash: df} for
        each of ``hashes`` that occurs and for every hash with df >= ``min_df``."""

    @abstractmethod
    def published_before(self, t: float, limit: int) -> list[StoredDoc]:
        """Up to ``limit`` documents whose published time is before ``t`` (POSIX
        seconds), oldest seqs first."""

    @abstractmethod
    def __len__(self) -> int: ...

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release the connection (idempotent). Every store raises
        :class:`IndexClosedError` when it is used after it was closed."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"


# --------------------------------------------------------------------------- memory


class MemoryStore(IndexStore):
    """In-process dictionaries (the default for a plain ``Deduper()``).

    :meth:`close` drops the documents: using the store after it raises
    :class:`IndexClosedError`, as the other stores do."""

    def __init__(self) -> None:
        self.location = ":memory:"
        self._fp: dict[str, Any] | None = None
        self._docs: dict[int, StoredDoc] = {}
        self._ids: dict[str, int] = {}
        self._bands: dict[int, list[int]] = {}
        self._df: dict[int, int] = {}
        self._hot: set[int] = set()  # hashes with df >= HOT_DF
        self._leads = 0
        self._next = 1

    def fingerprint(self) -> dict[str, Any] | None:
        return self._fp

    def set_fingerprint(self, fingerprint: dict[str, Any]) -> None:
        self._fp = dict(fingerprint)

    def reserve(self, n: int) -> int:
        first = self._next
        self._next += n
        return first

    def buckets(self, keys: np.ndarray, limit: int) -> dict[int, list[int]]:
        # a bucket's members are kept in seq order (insert, delete): its first
        # ``limit`` are a slice (sorting the whole bucket on every lookup made
        # filling the index quadratic in the size of a crowded bucket)
        out = {}
        for k in keys.tolist():
            members = self._bands.get(k)
            if members:
                out[k] = members[:limit]
        return out

    def fetch(self, seqs: Sequence[int]) -> dict[int, StoredDoc]:
        return {s: self._docs[s] for s in seqs if s in self._docs}

    def seqs_of(self, ids: Sequence[str]) -> dict[str, int]:
        return {i: self._ids[i] for i in ids if i in self._ids}

    def insert(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        taken = [d.id for d in docs if d.id in self._ids]
        if taken:
            raise DuplicateIdError(f"document id {taken[0]!r} is already in the index")
        for doc, ks in zip(docs, keys, strict=True):
            self._docs[doc.seq] = doc
            self._ids[doc.id] = doc.seq
            for k in ks.tolist():
                members = self._bands.setdefault(k, [])
                if members and members[-1] > doc.seq:  # (a document stored again)
                    bisect.insort(members, doc.seq)
                else:
                    members.append(doc.seq)
        n, df = term_counts(docs)
        self._leads += n
        for h, c in df.items():
            c = self._df[h] = self._df.get(h, 0) + c
            if c >= HOT_DF:
                self._hot.add(h)

    def delete(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        for doc, ks in zip(docs, keys, strict=True):
            self._docs.pop(doc.seq, None)
            self._ids.pop(doc.id, None)
            for k in ks.tolist():
                members = self._bands.get(k)
                if not members:
                    continue
                at = bisect.bisect_left(members, doc.seq)
                if at < len(members) and members[at] == doc.seq:
                    del members[at]
                    if not members:
                        del self._bands[k]
        n, df = term_counts(docs)
        self._leads -= n
        for h, c in df.items():
            left = self._df.get(h, 0) - c
            if left > 0:
                self._df[h] = left
            else:
                self._df.pop(h, None)
            if left < HOT_DF:
                self._hot.discard(h)

    def term_docs(self) -> int:
        return self._leads

    def term_df(self, hashes: np.ndarray, min_df: int) -> dict[int, int]:
        pool = self._hot if min_df >= HOT_DF else self._df
        df = self._df
        out = {h: df[h] for h in pool if df[h] >= min_df}
        for h in hashes.tolist():
            c = self._df.get(h)
            if c is not None:
                out[h] = c
        return out

    def published_before(self, t: float, limit: int) -> list[StoredDoc]:
        found = [d for d in self._docs.values() if d.published is not None and d.published < t]
        return sorted(found, key=lambda d: d.seq)[:limit]

    def __len__(self) -> int:
        return len(self._docs)

    def close(self) -> None:
        closed = _Closed("the in-memory index is closed (its documents were dropped): "
                         "make a new Deduper to index again")
        self._docs = self._ids = self._bands = self._df = self._hot = closed  # type: ignore[assignment]


# --------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    published REAL,
    source TEXT,
    n_words INTEGER NOT NULL,
    exact INTEGER,
    cluster INTEGER NOT NULL,
    rep TEXT,
    shingles BLOB NOT NULL,
    keys BLOB,
    lead INTEGER NOT NULL,
    samples INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS texts (seq INTEGER PRIMARY KEY, texts BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_published ON docs(published) WHERE published IS NOT NULL;
CREATE TABLE IF NOT EXISTS bands (grp INTEGER PRIMARY KEY, entries BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS terms (hash INTEGER PRIMARY KEY, df INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS terms_hot ON terms(df) WHERE df >= 32;
CREATE TABLE IF NOT EXISTS bands_new (seq INTEGER PRIMARY KEY, keys BLOB NOT NULL);
"""
# The band table has two levels (LSM-style). A new document's entries are one
# row of ``bands_new`` (its seq and its sorted 48-bit keys, 6 bytes each: an
# append, not one random B-tree insert per key); each connection holds them in
# memory as sorted arrays (reading the rows other connections add) and looks
# keys up there. Once they are more than max(_MERGE_MIN, min(entries in
# ``bands`` / _MERGE_FRACTION, _RECENT_MAX)), they are merged into ``bands``,
# where the entries whose keys share their top _GROUP_BITS bits are one row (a
# group, :func:`_pack_groups`: 6 bytes per entry up to 262,143 documents, 7
# bytes up to 67 million, and a few bytes per group); a merge rewrites the
# groups in key order, a range at a time. Seqs in ``bands_new`` are always
# larger than those in ``bands``.
_MERGE_MIN = 500_000
_MERGE_FRACTION = 4
#: Seconds an SQLite write transaction waits for another connection's (another
#: process's) write transaction to end before it fails with
#: :class:`IndexConnectionError` (the ``timeout`` of :class:`SQLiteStore`).
SQLITE_TIMEOUT = 30.0
# ... and at most this many (16 bytes each in every connection's memory: 256 MiB;
# reached from about 1 million documents in the default configuration, beyond
# which merges come more often than every quarter of the merged level).
_RECENT_MAX = 16_000_000
_DOC_COLS = (
    "seq, id, published, source, n_words, exact, cluster, rep, shingles, keys, lead, samples"
)
# A document's compressed texts are a row of their own table: a page of rows of
# about 1.1 KB wastes less than one of rows twice that size (a page ends, on
# average, half a row short of full).
_SELECT_DOCS = (
    "SELECT d.seq, id, published, source, n_words, exact, cluster, rep, shingles, keys, "
    "t.texts, lead, samples FROM docs AS d LEFT JOIN texts AS t ON t.seq = d.seq"
)
# 64 KiB pages (SQLite's largest): a page of document or text rows ends on
# average half a row short of full, so the slack per row shrinks with the rows
# a page holds (16 KiB pages: about 85 B per article at 100,000 articles, 64 KiB:
# about a quarter of that); a transaction writes few pages since the recent band
# entries are one appended row per document (a file made with another page size
# reads the same: this is not part of the format).
_PAGE_SIZE = 65536
# The key-term part of a payload without key-term hashes (stored as NULL).
_EMPTY_KEYS = _varints((0,))
# Band keys are looked up by their top 48 bits (a tagged key: its tag and 32
# bits, see PASSAGE_TAG), of which a plain (copy-LSH) key keeps 40: its low
# _PLAIN_DROP bits are zero (index formats 8 and 9; 48 bits before). The
# stream gives the store mixed band keys (newsdedup.stream._mix: every bit
# depends on every row of the band), so a false bucket match needs a 40-bit
# collision (about 4e-6 per lookup at 4.2 million stored plain keys, 100,000
# documents: a false candidate for about one new document in 6,000) and adds
# a candidate that verification judges (a random pair: distinct).
_KEY_SHIFT = 16
_PLAIN_DROP = 8
_PLAIN_LOW = np.int64((1 << _PLAIN_DROP) - 1)
_BITS = 1 << 27  # bits in the present-keys bitmap (16 MiB; see _slot)
# A group holds the entries whose 48-bit keys share their top 18 bits (262,144
# groups); each entry keeps the low 30 bits of its key.
_GROUP_BITS = 18
_SUFFIX_BITS = 48 - _GROUP_BITS
_SUFFIX_MASK = (1 << _SUFFIX_BITS) - 1
_PLAIN_SUFFIX_BITS = _SUFFIX_BITS - _PLAIN_DROP  # what a plain entry keeps of its key
_MERGE_GROUPS = 1 << 13  # groups rewritten per step of a merge (bounds its memory)
#: Keys whose top 16 bits (of 64) are one of these tags hold 32 bits of their
#: own (bits 16-47; the low 16 are zero): :mod:`newsdedup.stream` gives its
#: passage samples (the sampled 32-bit shingle hash itself) and its rewrite
#: band keys (their top 32 bits) this form. The merged level stores such a key
#: in 4 bytes with its seq (up to 131,071 documents; 5 up to 33 million), not 6:
#: the tagged keys of one 18-bit prefix of the 32 bits share a group (groups
#: 2^18 and up), each entry holding their low 14 bits and which tag. Any 48-bit
#: short key with a tag is stored so, without loss.
PASSAGE_TAG = 0xA5A5
REWRITE_TAG = 0x5A5A
_TAG_SUFFIX_BITS = 15  # 14 bits of the key, then 1: PASSAGE_TAG
_TAG_GROUPS = 1 << (32 - _TAG_SUFFIX_BITS + 1)
_ALL_GROUPS = (1 << _GROUP_BITS) + _TAG_GROUPS


#: Ids looked up per statement (SQLite allows 32,766 parameters since 3.32).
_IDS_PER_QUERY = 500


def _storable(text: str) -> bool:
    """Whether ``text`` can be stored as text (UTF-8): not when it holds a lone
    surrogate (a JSON string may escape one, e.g. half of a cut emoji)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(docs: Sequence[Any], index: str) -> None:
    """Raise InputError naming the first document (a StoredDoc or an Article)
    whose id or source cannot be stored in a persistent index (``index``: what kind)."""
    for d in docs:
        for what, value in (("id", d.id), ("source", d.source)):
            if value is not None and not _storable(value):
                doc = "" if what == "id" else f"document {d.id!r}: "
                raise InputError(
                    f"{doc}{what} {value!r} holds a lone surrogate (not valid Unicode): "
                    f"it cannot be stored in {index}"
                )


_TAIL_MAX = 20_000  # recent entries kept in a dict before they join the sorted arrays
_MERGED_MAX = 256 << 20  # bytes of merged rows a connection keeps in memory (see _load_merged)
_NO_ENTRIES = np.zeros(0, dtype=np.int64)


def _slot(short: np.ndarray) -> np.ndarray:
    """A 48-bit key's bit in the present-keys bitmap (a multiplicative hash: a
    tagged key's low bits are not spread evenly)."""
    h = short.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    out: np.ndarray = (h >> np.uint64(64 - 27)).astype(np.int64)
    return out


def _short_keys(keys: np.ndarray) -> np.ndarray:
    """The 48-bit forms the band table looks keys up by (a plain key's low
    _PLAIN_DROP bits zero)."""
    short = (keys.astype(np.uint64, copy=False) >> np.uint64(_KEY_SHIFT)).astype(np.int64)
    short[_tag_kind(short) == 0] &= ~_PLAIN_LOW
    return short


def _pack_recent(short: np.ndarray) -> bytes:
    """One document's 48-bit keys (:func:`_short_keys`) as a ``bands_new``
    value: the numbers of plain keys and of PASSAGE_TAG keys (uint32 each), then
    the plain keys' top 40 bits (5 bytes each), the PASSAGE_TAG keys' and the
    REWRITE_TAG keys' 32 bits (4 bytes each), little-endian."""
    kind = _tag_kind(short)
    parts = [struct.pack("<II", int(np.count_nonzero(kind == 0)),
                         int(np.count_nonzero(kind == 1)))]
    plain = short[kind == 0] >> _PLAIN_DROP
    parts.append(plain.astype("<u8").view(np.uint8).reshape(-1, 8)[:, :5].tobytes())
    for k in (1, 2):
        parts.append((short[kind == k] & 0xFFFFFFFF).astype("<u4").tobytes())
    return b"".join(parts)


def _unpack_recent(rows: Sequence[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """The entries of ``bands_new`` rows (seq, keys): keys and seqs, sorted by (key, seq).

    >>> tagged = (PASSAGE_TAG << 32) | 77
    >>> k, q = _unpack_recent([(7, _pack_recent(np.array([5 << 8, 2**47 + 256, tagged]))),
    ...                        (3, _pack_recent(np.array([5 << 8])))])
    >>> k.tolist() == [5 << 8, 5 << 8, 2**47 + 256, tagged], q.tolist()
    (True, [3, 7, 7, 7])
    """
    if not rows:
        return _NO_ENTRIES, _NO_ENTRIES
    seqs, blobs = zip(*rows, strict=True)
    lens = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    joined = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    starts = np.cumsum(lens) - lens
    head = joined[starts[:, None] + np.arange(8)[None, :]].copy().view("<u4").astype(np.int64)
    n_plain, n_pass = head[:, 0], head[:, 1]
    n_rew = (lens - 8 - 5 * n_plain - 4 * n_pass) // 4
    seg = np.stack([np.full(len(lens), 8), 5 * n_plain, 4 * n_pass, 4 * n_rew], axis=1)
    label = np.repeat(np.tile(np.arange(4, dtype=np.int8), len(lens)), seg.ravel())
    q = np.array(seqs, dtype=np.int64)
    keys = [_little_endian(joined[label == 1], 5).astype(np.int64) << _PLAIN_DROP]
    for tag, lab in ((PASSAGE_TAG, 2), (REWRITE_TAG, 3)):
        v = joined[label == lab].copy().view("<u4").astype(np.int64)
        keys.append((tag << 32) | v)
    k = np.concatenate(keys)
    qs = np.concatenate([np.repeat(q, n_plain), np.repeat(q, n_pass), np.repeat(q, n_rew)])
    order = np.lexsort((qs, k))
    return k[order], qs[order]


def _tag_kind(keys: np.ndarray) -> np.ndarray:
    """0 for a plain 48-bit key, 1 for a PASSAGE_TAG key, 2 for a REWRITE_TAG key."""
    top = keys >> 32
    out: np.ndarray = (top == PASSAGE_TAG).astype(np.int8) + 2 * (top == REWRITE_TAG)
    return out


def _group_of(keys: np.ndarray) -> np.ndarray:
    """The group of each 48-bit key (see PASSAGE_TAG)."""
    kind = _tag_kind(keys)
    tagged = (1 << _GROUP_BITS) + ((keys & 0xFFFFFFFF) >> (_TAG_SUFFIX_BITS - 1))
    out: np.ndarray = np.where(kind == 0, keys >> _SUFFIX_BITS, tagged)
    return out


def _suffix_of(keys: np.ndarray) -> np.ndarray:
    """What an entry keeps of its key: the low _SUFFIX_BITS bits of a plain
    key without their low _PLAIN_DROP (zero); the low 14 bits of a tagged key's
    32, then a bit set for PASSAGE_TAG."""
    kind = _tag_kind(keys)
    low = keys & ((1 << (_TAG_SUFFIX_BITS - 1)) - 1)
    out: np.ndarray = np.where(kind == 0, (keys & _SUFFIX_MASK) >> _PLAIN_DROP,
                               (low << 1) | (kind == 1))
    return out


def _by_group(keys: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries sorted by (key, seq) put in (group, key, seq) order: the plain
    keys, then the PASSAGE_TAG ones, then the REWRITE_TAG ones."""
    kind = _tag_kind(keys)
    if not kind.any():
        return keys, seqs
    plain = np.flatnonzero(kind == 0)
    tagged = np.flatnonzero(kind > 0)
    order = np.concatenate([plain, tagged[np.argsort(_group_of(keys[tagged]), kind="stable")]])
    return keys[order], seqs[order]


def _by_key(keys: np.ndarray, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_by_group`: entries in (group, key, seq) order put in
    (key, seq) order (each tag's keys lie in one range that no plain key of the
    same order falls into: a merge of three sorted runs by splitting)."""
    kind = _tag_kind(keys)
    if not kind.any():
        return keys, seqs
    plain = kind == 0
    pk, pq = keys[plain], seqs[plain]
    parts_k, parts_q = [], []
    at = 0
    for tag, k in sorted(((PASSAGE_TAG, 1), (REWRITE_TAG, 2))):
        cut = int(np.searchsorted(pk, tag << 32))
        mine = kind == k
        parts_k += [pk[at:cut], keys[mine]]
        parts_q += [pq[at:cut], seqs[mine]]
        at = cut
    parts_k.append(pk[at:])
    parts_q.append(pq[at:])
    return np.concatenate(parts_k), np.concatenate(parts_q)


def _pack_groups(keys: np.ndarray, seqs: np.ndarray) -> list[tuple[int, bytes]]:
    """(group, entries) rows of band entries sorted by (48-bit key, seq).

    An entries value is one byte ``b`` (bits per seq: the fewest that hold the
    largest seq of the call), then per entry, in (key, seq) order, the integer
    ``suffix << b | seq`` (``suffix``: _PLAIN_SUFFIX_BITS bits of a plain key,
    see :func:`_suffix_of`, or _TAG_SUFFIX_BITS for a tagged key) in the fewest
    whole bytes that hold its bits, little-endian: 5 bytes per plain entry up to
    262,143 documents, 6 up to 67 million (6 and 7 in index format 7); 4 bytes
    per tagged entry up to 131,071 documents, 5 up to 33 million.

    >>> k = np.array([5 << 8, 5 << 8, (3 << 30) | (7 << 8), (PASSAGE_TAG << 32) | 99])
    >>> rows = _pack_groups(k, np.array([2, 300, 9, 4], dtype=np.int64))
    >>> [(g, len(b)) for g, b in rows]
    [(0, 9), (3, 5), (262144, 4)]
    >>> [x.tolist() for x in _unpack_groups(rows)] == [k.tolist(), [2, 300, 9, 4]]
    True
    """
    n = len(keys)
    if not n:
        return []
    bits = max(1, int(seqs.max()).bit_length())
    if _SUFFIX_BITS + bits > 64:
        raise ValueError("sequence numbers beyond 2**34 are not supported")
    keys, seqs = _by_group(keys, seqs)
    tagged = _tag_kind(keys) > 0
    sbits = np.where(tagged, _TAG_SUFFIX_BITS, _PLAIN_SUFFIX_BITS)
    size = (sbits + bits + 7) // 8
    value = (_suffix_of(keys).astype(np.uint64) << np.uint64(bits)) | seqs.astype(np.uint64)
    groups = _group_of(keys)
    ends = np.cumsum(size)
    begins = ends - size
    raw = np.zeros(int(ends[-1]), dtype=np.uint8)
    rec = value.astype("<u8").view(np.uint8).reshape(n, 8)
    for width in np.unique(size).tolist():
        mine = np.flatnonzero(size == width)
        lo, hi = int(mine[0]), int(mine[-1]) + 1
        if hi - lo == len(mine):  # one run (always: a group's entries are all
            # plain or all tagged, and the tagged groups come last): a strided copy
            raw[int(begins[lo]) : int(ends[hi - 1])].reshape(hi - lo, width)[:] = (
                rec[lo:hi, :width])
        else:
            at = (begins[mine][:, None] + np.arange(width)[None, :]).ravel()
            raw[at] = rec[mine, :width].ravel()
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    # each row's head byte goes before its entries: row r then starts r bytes
    # further on, and its value is one slice
    data = np.insert(raw, begins[starts], bits).tobytes()
    shift = np.arange(len(starts), dtype=np.int64)
    b0 = (begins[starts] + shift).tolist()
    b1 = (np.r_[begins[starts[1:]], ends[-1]] + shift + 1).tolist()
    return [(g, data[a:b]) for g, a, b in zip(groups[starts].tolist(), b0, b1, strict=True)]


def _little_endian(raw: np.ndarray, size: int) -> np.ndarray:
    """Unsigned little-endian integers of ``size`` bytes (1 to 8) packed in
    ``raw`` (uint8), as uint64: read through strided views, without padding
    every record to 8 bytes first."""
    n = len(raw) // size
    if size < 4:  # small indexes: pad each record
        pad = np.zeros((n, 8), dtype=np.uint8)
        pad[:, :size] = raw.reshape(n, size)
        small: np.ndarray = pad.view("<u8").ravel()
        return small
    if size == 8:
        out8: np.ndarray = raw.view("<u8").astype(np.uint64)
        return out8
    out: np.ndarray = np.ndarray((n,), "<u4", raw, 0, (size,)).astype(np.uint64)
    rest = size - 4
    if rest >= 2:
        hi = np.ndarray((n,), "<u2", raw, 4, (size,)).astype(np.uint64)
        out |= hi << np.uint64(32)
    if rest % 2:
        top = np.ndarray((n,), "u1", raw, size - 1, (size,)).astype(np.uint64)
        out |= top << np.uint64(8 * (size - 1))
    return out


def _unpack_groups(rows: Sequence[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """The band entries of (group, entries) rows: 48-bit keys and seqs (int64),
    sorted by (key, seq) when the rows are sorted by group."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    groups, blobs = zip(*rows, strict=True)
    lens = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return _unpack_joined(np.array(groups, dtype=np.int64),
                          np.frombuffer(b"".join(blobs), dtype=np.uint8), lens)


def _unpack_joined(
    grp: np.ndarray, joined: np.ndarray, lens: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_unpack_groups` of rows given as their groups, their entries
    joined (uint8) and each one's length (at least one row)."""
    starts = np.cumsum(lens) - lens
    heads = joined[starts].astype(np.int64)
    body = np.ones(len(joined), dtype=bool)
    body[starts] = False
    plain = grp < (1 << _GROUP_BITS)
    sbits = np.where(plain, _PLAIN_SUFFIX_BITS, _TAG_SUFFIX_BITS)
    # rows of one (suffix width, seq width) kind at a time
    form = sbits * 64 + heads
    kinds = np.unique(form).tolist()
    if len(kinds) > 1:  # entries go back in row order
        counts = (lens - 1) // ((sbits + heads + 7) // 8)
        first = np.cumsum(counts) - counts  # where each row's entries go
        k = np.empty(int(counts.sum()), dtype=np.int64)
        q = np.empty_like(k)
    for f in kinds:
        sb, bits = divmod(f, 64)
        size = (sb + bits + 7) // 8
        mine = form == f
        raw = joined[body] if len(kinds) == 1 else joined[body & np.repeat(mine, lens)]
        value = _little_endian(raw, size)
        n_mine = (lens[mine] - 1) // size
        g = np.repeat(grp[mine], n_mine)
        suffix = (value >> np.uint64(bits)).astype(np.int64)
        if sb == _PLAIN_SUFFIX_BITS:
            keys = (g << _SUFFIX_BITS) | (suffix << _PLAIN_DROP)
        else:
            g = g - (1 << _GROUP_BITS)
            tag = np.where(suffix & 1, PASSAGE_TAG, REWRITE_TAG)
            keys = (tag << 32) | (g << (_TAG_SUFFIX_BITS - 1)) | (suffix >> 1)
        seqs = (value & np.uint64((1 << bits) - 1)).astype(np.int64)
        if len(kinds) == 1:
            return _by_key(keys, seqs)
        at = np.arange(len(keys)) + np.repeat(first[mine] - (np.cumsum(n_mine) - n_mine), n_mine)
        k[at], q[at] = keys, seqs
    return _by_key(k, q)


def _row_layout(rows: Sequence[tuple[int, bytes]]) -> tuple[bytes, np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """The group rows joined (with 8 zero bytes after them, so that an entry
    can be read as 8 bytes), each row's start in them, its group and length."""
    blobs = [b for _g, b in rows]
    lens = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    starts = np.cumsum(lens) - lens
    blobs.append(bytes(8))
    return b"".join(blobs), starts, np.array([g for g, _b in rows], dtype=np.int64), lens


def _merged_level(rows: Sequence[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """The merged level in memory (:meth:`SQLiteStore._load_merged`) of all
    its (group, entries) rows, sorted by group: the rows joined (see
    :func:`_row_layout`), and per group its row's start (-1: none) and length."""
    joined, starts, grp, lens = _row_layout(rows)
    start = np.full(_ALL_GROUPS, -1, dtype=np.int64)
    length = np.zeros(_ALL_GROUPS, dtype=np.int64)
    start[grp] = starts
    length[grp] = lens
    return np.frombuffer(joined, dtype=np.uint8), start, length


def _entries_in_memory(
    merged: tuple[np.ndarray, np.ndarray, np.ndarray], groups: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_unpack_groups` of the rows of ``groups`` (sorted) in the merged
    level in memory (a group without a row has no entries)."""
    buf, begin, length = merged
    g = np.asarray(groups, dtype=np.int64)
    at = begin[g]
    has = at >= 0
    g, at, n = g[has], at[has], length[g[has]]
    if not len(g):
        return _NO_ENTRIES, _NO_ENTRIES
    # the rows' bytes, in group order (each row's bytes gathered from its start)
    total = int(n.sum())
    shift = np.repeat(at - (np.cumsum(n) - n), n)
    return _unpack_joined(g, buf[np.arange(total, dtype=np.int64) + shift], n)


def _merged_after(
    merged: tuple[np.ndarray, np.ndarray, np.ndarray], written: Sequence[tuple[int, bytes]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The merged level in memory once the rows ``written`` (sorted by group)
    replaced those of their groups (as :func:`_merged_level` of all the rows
    then in the file); None beyond _MERGED_MAX bytes."""
    buf, begin, length = merged
    blobs = [b for _g, b in written]
    new = np.fromiter((g for g, _b in written), dtype=np.int64, count=len(written))
    new_len = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    old = np.flatnonzero(begin >= 0)
    old = old[~np.isin(old, new)]
    old_len = length[old]
    if int(old_len.sum()) + int(new_len.sum()) > _MERGED_MAX:
        return None
    # every row's bytes in ``source`` (the old rows, then the written ones), in
    # group order; runs of rows that lie one after the other there are copied
    # as one piece
    grp = np.concatenate([old, new])
    if not len(grp):
        return _merged_level([])
    source = np.concatenate([buf, np.frombuffer(b"".join(blobs), dtype=np.uint8)])
    src = np.concatenate([begin[old], len(buf) + np.cumsum(new_len) - new_len])
    lens = np.concatenate([old_len, new_len])
    order = np.argsort(grp, kind="stable")
    grp, src, lens = grp[order], src[order], lens[order]
    cut = np.flatnonzero(src[1:] != src[:-1] + lens[:-1]) + 1
    first = np.r_[0, cut]
    last = np.r_[cut, len(src)] - 1
    pieces = [source[a:b] for a, b in zip(src[first].tolist(),
                                          (src[last] + lens[last]).tolist(), strict=True)]
    pieces.append(np.zeros(8, dtype=np.uint8))  # (see _row_layout)
    start = np.full(_ALL_GROUPS, -1, dtype=np.int64)
    length_after = np.zeros(_ALL_GROUPS, dtype=np.int64)
    start[grp] = np.cumsum(lens) - lens
    length_after[grp] = lens
    return np.concatenate(pieces), start, length_after


def _find_in_groups(
    rows: Sequence[tuple[int, bytes]], short: np.ndarray, limit: int,
    native: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The merged-level entries of the 48-bit keys ``short`` (sorted) in
    (group, entries) rows sorted by group (the rows of their groups): keys and
    seqs sorted by (key, seq), the first ``limit`` of each key, what
    :func:`_unpack_groups` of the rows gives for these keys (the first ``limit``
    of each), without decoding the other entries of the rows.

    A row's entries are sorted by (suffix, seq), the rewrite entries of a tagged
    group (even suffixes) before its passage entries (odd): with bit 62 set for
    the passage entries, their values ``suffix << b | seq`` ascend, and the
    entries of a key are found by bisection (:func:`_search_entries`, or its
    compiled twin ``group_entries`` when numba is there; ``native`` forces one)."""
    short = unique_sorted(short)
    if not rows or not len(short):
        return _NO_ENTRIES, _NO_ENTRIES
    joined, starts, grp, lens = _row_layout(rows)
    g = _group_of(short)
    r = np.searchsorted(grp, g)
    hit = r < len(grp)
    hit[hit] = grp[r[hit]] == g[hit]
    r = r[hit]
    return _find_entries(np.frombuffer(joined, dtype=np.uint8), starts[r], lens[r],
                         short[hit], limit, native)


def _find_entries(
    buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, short: np.ndarray, limit: int,
    native: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_find_in_groups` for sorted unique keys ``short``, each with its
    group's row at ``starts`` (``lens`` bytes) in ``buf`` (which ends with 8
    bytes beyond the last row)."""
    if not len(short):
        return _NO_ENTRIES, _NO_ENTRIES
    suffix = _suffix_of(short)
    tagged = _tag_kind(short) > 0
    from . import _native

    if _native.available() if native is None else native:
        sbits = np.where(tagged, _TAG_SUFFIX_BITS, _PLAIN_SUFFIX_BITS).astype(np.int64)
        _first, count, seqs = _native.kernels()["group_entries"](
            buf, starts, lens, sbits, tagged, suffix, limit)
    else:
        _first, count, seqs = _search_entries(buf, starts, lens, tagged, suffix, limit)
    return np.repeat(short, count), seqs


def _search_entries(
    buf: np.ndarray, starts: np.ndarray, lens: np.ndarray, tagged: np.ndarray,
    suffix: np.ndarray, limit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per wanted key (its row's start and length in ``buf``, whether the row is
    a tagged group, the key's suffix): the index of its first entry in the row,
    how many of its entries are taken (at most ``limit``), and their seqs, one
    key after the other (vectorised bisection; see :func:`_find_in_groups`)."""
    bits = buf[starts].astype(np.int64)
    size = (np.where(tagged, _TAG_SUFFIX_BITS, _PLAIN_SUFFIX_BITS) + bits + 7) // 8
    n = (lens - 1) // size
    base = starts + 1
    mask = (np.left_shift(np.uint64(1), (8 * size).astype(np.uint64)) - np.uint64(1))
    pbit = np.where(tagged & (suffix & 1 == 1), np.uint64(1 << 62), np.uint64(0))
    ubits = bits.astype(np.uint64)
    one = np.uint64(1)
    at8 = np.arange(8)

    def value(e: np.ndarray, sel: np.ndarray) -> np.ndarray:
        pos = base[sel] + e * size[sel]
        raw = buf[pos[:, None] + at8[None, :]].view("<u8").ravel()
        v: np.ndarray = raw & mask[sel]
        return v

    def order(v: np.ndarray, sel: np.ndarray) -> np.ndarray:
        ok: np.ndarray = v | np.where(tagged[sel] & ((v >> ubits[sel]) & one == one),
                                      np.uint64(1 << 62), np.uint64(0))
        return ok

    su = suffix.astype(np.uint64)
    targets = ((su << ubits) | pbit, ((su + one) << ubits) | pbit)
    bounds = []
    for target in targets:  # the first entry at or after the key, then after it
        lo, hi = np.zeros(len(n), dtype=np.int64), n.copy()
        while True:
            sel = np.flatnonzero(lo < hi)
            if not len(sel):
                break
            mid = (lo[sel] + hi[sel]) >> 1
            below = order(value(mid, sel), sel) < target[sel]
            lo[sel] = np.where(below, mid + 1, lo[sel])
            hi[sel] = np.where(below, hi[sel], mid)
        bounds.append(lo)
    first = bounds[0]
    count = np.minimum(bounds[1] - first, limit)
    total = int(count.sum())
    key = np.repeat(np.arange(len(n)), count)
    intra = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    v = value(first[key] + intra, key)
    seqs = (v & ((one << ubits[key]) - one)).astype(np.int64)
    return first, count, seqs


_MAX_PARAMS = 30_000
_NO_COUNT = np.iinfo(np.int32).min
_COUNTS_MAX = 1 << 24  # seqs whose sample counts a connection keeps (4 bytes each)
_NO_BUCKETS = BucketTable(np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64), _NO_ENTRIES)


def _gather_levels(
    full: np.ndarray, short: np.ndarray, levels: Sequence[tuple[np.ndarray, np.ndarray]],
    limit: int,
) -> BucketTable:
    """The members of sorted unique keys (``full``, looked up by their 48-bit
    ``short`` forms) in levels of (key, seq) arrays sorted by (key, seq), each
    level's seqs larger than the previous ones': per key the first ``limit``
    of the levels' members in turn."""
    n = len(short)
    left = np.full(n, limit, dtype=np.int64)
    parts = []
    for keys, seqs in levels:
        if not len(keys):
            continue
        lo = np.searchsorted(keys, short, "left")
        c = np.minimum(np.searchsorted(keys, short, "right") - lo, left)
        left -= c
        parts.append((lo, c, seqs))
    total = limit - left
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(total, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.int64)
    done = offsets[:-1].copy()  # where each key's next members go
    for lo, c, seqs in parts:
        m = int(c.sum())
        if not m:
            continue
        intra = np.arange(m) - np.repeat(np.cumsum(c) - c, c)
        out[np.repeat(done, c) + intra] = seqs[np.repeat(lo, c) + intra]
        done += c
    keep = total > 0
    if bool(keep.all()):
        return BucketTable(full, offsets, out)
    offs = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(total[keep], out=offs[1:])
    return BucketTable(full[keep], offs, out)


def _is_locked(err: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (SQLITE_BUSY)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == 5)  # SQLITE_BUSY and its extended codes
    return "database is locked" in str(err)


def _row_doc(row: tuple[Any, ...]) -> StoredDoc:
    seq, ident, pub, source, n_words, exact, cluster, rep, blob, keys, texts, lead, samples = row
    payload = (keys or b"") if texts is None else (keys or _EMPTY_KEYS) + texts
    return StoredDoc(
        seq=seq, id=ident, published=pub, source=source, n_words=n_words, exact=exact,
        cluster=cluster, rep=rep, code=blob, payload=payload, lead=bool(lead),
        samples=samples,
    )


#: Connections a forked process inherited (see SQLiteStore._con): kept, never used
#: or closed there.
_INHERITED: list[Any] = []


class SQLiteStore(IndexStore):
    """The index in one SQLite file (standard library; WAL mode).

    Each :meth:`transaction` is one ``BEGIN IMMEDIATE ... COMMIT``: a batch is
    stored completely or not at all, and several processes may write the same
    file (one at a time: a write waits up to ``timeout`` seconds, default
    :data:`SQLITE_TIMEOUT`, for another writer's transaction to end, then raises
    :class:`IndexConnectionError` naming the file). ``synchronous=NORMAL``: a committed transaction
    survives the process being killed; after a power loss the last few
    transactions may be lost, the file stays consistent.

    Memory: each connection holds the band entries not yet merged (16 bytes
    each; at most a quarter of the merged ones and 16 million: up to about 60 MB
    at 100,000 documents in the default configuration), a 16 MiB bitmap of
    the keys present and, with it, the merged entries as stored (up to 256 MiB
    and 8 MiB of row offsets; about 38 MB at 100,000 documents in the copy tier).
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float | None = None):
        self.location = os.fspath(path)
        self._timeout = SQLITE_TIMEOUT if timeout is None else timeout
        self._open()

    # A connection must not be used across fork() (SQLite's own advice: locks and
    # the WAL index are per process, the file can be corrupted). A store used in
    # a process forked after it was opened opens a connection of its own there,
    # and leaves the inherited one open and untouched (closing it in the child
    # could release the parent's locks).
    @property
    def _con(self) -> sqlite3.Connection:
        con = self.__dict__["_connection"]
        if self._pid != os.getpid() and not isinstance(con, _Closed):
            _INHERITED.append(con)
            self._open()
            con = self.__dict__["_connection"]
        return con  # type: ignore[no-any-return]

    @_con.setter
    def _con(self, con: Any) -> None:
        self.__dict__["_connection"] = con

    def _open(self) -> None:
        """Connect (and make the file an index when it is new); the per-connection
        state starts empty."""
        self._pid = os.getpid()
        timeout = self._timeout
        try:
            self._con = sqlite3.connect(
                self.location, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as err:
            raise IndexConnectionError(f"cannot open index {self.location!r}: {err}") from None
        try:
            con = self._con
            app = con.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if tables and app != _SQLITE_APP_ID:
                raise IncompatibleSignatureError(
                    f"{self.location!r} is an SQLite database but not a newsdedup index"
                )
            if not tables:
                con.execute(f"PRAGMA page_size={_PAGE_SIZE}")
                # a merge frees the recent level's pages: given back at once
                # (see _merge), not held as free pages until new rows reuse them
                con.execute("PRAGMA auto_vacuum=INCREMENTAL")
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            # Up to 1 GiB of page cache (used as the index grows): a transaction
            # whose dirty pages exceed the cache spills and re-reads them.
            con.execute("PRAGMA cache_size=-1048576")
            con.execute("PRAGMA mmap_size=4294967296")
            con.execute("PRAGMA temp_store=MEMORY")
            if not tables:
                con.executescript(
                    f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA application_id={_SQLITE_APP_ID}; COMMIT;"
                )
        except sqlite3.DatabaseError as err:
            self._con.close()
            if _is_locked(err):
                raise self._locked("cannot open") from None
            raise IndexConnectionError(
                f"cannot open index {self.location!r}: {err}"
            ) from None
        except BaseException:
            self._con.close()
            raise
        self._depth = 0
        # the recent level in memory: sorted (key, seq) arrays, then smaller
        # sorted arrays of the entries added since (larger seqs); None: not loaded
        self._rk: np.ndarray | None = None
        self._rq: np.ndarray = _NO_ENTRIES
        self._tk: np.ndarray = _NO_ENTRIES
        self._tq: np.ndarray = _NO_ENTRIES
        self._recent_version = -1
        self._recent_top = 0  # the largest seq held
        self._epoch = -1  # meta 'recent_epoch' when loaded (bumped by merges and removals)
        self._bits: np.ndarray | None = None
        self._bits_off = False
        # the merged level's rows in memory while the bitmap is kept (see
        # _load_merged): all rows joined, and per group its row's start (-1:
        # none) and length; None: not loaded
        self._merged: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._merged_off = False
        # passage-sample counts by seq (_NO_COUNT: not known here); a seq's count
        # never changes, seqs are not reused (except after a rollback: cleared)
        self._samples = np.full(0, _NO_COUNT, dtype=np.int32)
        self._samples_read = False
        self._asked = 0
        self._looked = 0
        self._data_version = -1

    # A bitmap of the band keys present (one bit per key hash, 16 MiB) lets most
    # lookups skip SQLite: a news stream's band keys are mostly new. It is built
    # once this connection has looked up an eighth as many keys as the table
    # holds (at once for a new index; a few single adds to a large index do not
    # pay for reading every key) and kept up to date by its inserts; once
    # another connection writes the file (PRAGMA data_version changes), it is
    # dropped for good and every key is looked up.

    def _set_bits(self, short: np.ndarray) -> None:
        if self._bits is not None and len(short):
            slot = unique_sorted(_slot(short))
            byte, start = np.unique(slot >> 3, return_index=True)
            vals = np.left_shift(1, slot & 7).astype(np.uint8)
            self._bits[byte] |= np.bitwise_or.reduceat(vals, start)

    def _maybe_present(self, short: np.ndarray) -> np.ndarray | None:
        """A mask of the keys that may be present, or None (look every key up)."""
        if self._bits_off:
            return None
        version = self._con.execute("PRAGMA data_version").fetchone()[0]
        if self._bits is None:
            n = self._counter("main_rows") + self._counter("recent_rows")
            if n > _BITS // 4:  # too full to filter well
                self._bits_off = True
                return None
            # Reading every key costs about as much as looking up eight keys:
            # build the bitmap once this connection has looked up that many.
            self._looked += len(short)
            if self._looked * 8 < n:
                return None
            self._bits = np.zeros(_BITS // 8, dtype=np.uint8)
            self._load_merged(building=True)
            self._recent()
            self._flush_tail()
            self._set_bits(self._recent_keys())
            self._data_version = version
        elif version != self._data_version:
            self._bits, self._bits_off = None, True
            self._merged, self._merged_off = None, True
            return None
        elif self._merged is None and not self._merged_off:
            self._load_merged()  # after this connection's merge, removal or rollback
        slot = _slot(short)
        found: np.ndarray = (self._bits[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1 == 1
        return found

    # While the bitmap is kept (this connection is the only one that has written
    # the file since it was built), the merged level's rows are kept in memory
    # too, as read by the same scan (up to _MERGED_MAX bytes: about 380 B per
    # document in the copy tier, 550 in the default configuration): a lookup then
    # searches them there instead of fetching its groups' rows from SQLite (20,000
    # rows per add_many of 500 at 100,000 documents). This connection's merges
    # and removals, and rollbacks, drop them; the next lookup reads them again.

    def _load_merged(self, building: bool = False) -> None:
        """Read every row of ``bands``: set their keys' bits in the bitmap (when
        ``building`` it) and keep the rows (when they fit in _MERGED_MAX)."""
        cur = self._con.execute("SELECT grp, entries FROM bands ORDER BY grp")
        groups: list[int] = []
        blobs: list[bytes] = []
        size = 0
        keep = not self._merged_off
        while rows := cur.fetchmany(_MERGE_GROUPS):
            if building:
                self._set_bits(_unpack_groups(rows)[0])
            if keep:
                groups += [g for g, _b in rows]
                blobs += [b for _g, b in rows]
                size += sum(len(b) for _g, b in rows)
                if size > _MERGED_MAX:
                    keep, self._merged_off = False, True
                    groups, blobs = [], []
                    if not building:
                        return
        if not keep:
            return
        self._merged = _merged_level(list(zip(groups, blobs, strict=True)))

    def fingerprint(self) -> dict[str, Any] | None:
        row = self._con.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        return None if row is None else _fingerprint_of(self.location, row[0])

    def set_fingerprint(self, fingerprint: dict[str, Any]) -> None:
        with self.transaction():
            self._con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)",
                (json.dumps(fingerprint, sort_keys=True),),
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if _is_locked(err):
                raise self._locked("cannot write to") from None
            raise IndexConnectionError(
                f"cannot write to index {self.location!r}: {err}"
            ) from None
        self._depth = 1
        try:
            yield
            self._con.execute("COMMIT")
        except BaseException as err:
            self._depth = 0
            # (SQLite may have rolled back already: a full disk, an I/O error)
            if self._con.in_transaction:
                self._con.execute("ROLLBACK")
            self._rk = None  # the recent level in memory may hold rolled-back entries
            self._merged = None  # and the merged one (a merge, a removal)
            self._samples = np.full(0, _NO_COUNT, dtype=np.int32)  # and seqs may be reused
            self._samples_read = False
            if isinstance(err, sqlite3.Error):  # the file, not the caller: a full disk
                raise IndexConnectionError(
                    f"cannot write to index {self.location!r}: {err} (rolled back: nothing "
                    "of this transaction was written)"
                ) from err
            raise
        self._depth = 0

    def _locked(self, doing: str) -> IndexConnectionError:
        return IndexConnectionError(
            f"{doing} index {self.location!r}: it was locked by another writer (another "
            f"connection or process writing the file) for longer than the timeout "
            f"({self._timeout:g} s); try again once that writer is done"
        )

    def reserve(self, n: int) -> int:
        with self.transaction():
            cur = self._con.execute(
                "SELECT value FROM meta WHERE key = 'next_seq'"
            ).fetchone()
            top = self._con.execute("SELECT coalesce(max(seq), 0) + 1 FROM docs").fetchone()[0]
            first = max(int(cur[0]) if cur else 1, int(top))
            self._con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", (str(first + n),)
            )
        return first

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """One read snapshot for both levels (outside a write transaction)."""
        if self._depth:
            yield
            return
        self._con.execute("BEGIN")
        try:
            self._con.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # starts the snapshot
            yield
        finally:
            self._con.execute("COMMIT")

    def _recent(self) -> tuple[np.ndarray, np.ndarray]:
        """The recent level's sorted arrays: loaded when this connection has none;
        when another connection has committed since, the rows it added are read
        (their seqs are larger than any held), or all of them again if it has
        merged or removed entries."""
        version = self._con.execute("PRAGMA data_version").fetchone()[0]
        if self._rk is not None and version == self._recent_version:
            return self._rk, self._rq
        epoch = self._counter("recent_epoch")
        if self._rk is not None and epoch == self._epoch:
            rows = self._con.execute(
                "SELECT seq, keys FROM bands_new WHERE seq > ?", (self._recent_top,)
            ).fetchall()
            if rows:
                self._flush_tail()
                keys, seqs = _unpack_recent(rows)
                self._insert_sorted(keys, seqs)
                self._recent_top = max(self._recent_top, int(seqs.max()))
        else:
            rows = self._con.execute("SELECT seq, keys FROM bands_new").fetchall()
            self._rk, self._rq = _unpack_recent(rows)
            self._tk, self._tq = _NO_ENTRIES, _NO_ENTRIES
            self._recent_top = int(self._rq.max()) if len(self._rq) else 0
            self._epoch = epoch
        self._recent_version = version
        return self._rk, self._rq

    def _bump_epoch(self) -> None:
        """Tell other connections that recent entries left (merged or removed)."""
        self._epoch = self._counter("recent_epoch") + 1
        self._set_counter("recent_epoch", self._epoch)

    def _recent_keys(self) -> np.ndarray:
        return self._rk if self._rk is not None else _NO_ENTRIES

    def _flush_tail(self) -> None:
        """Move the small arrays of the latest recent entries into the large ones."""
        if not len(self._tk) or self._rk is None:
            return
        keys, seqs = self._tk, self._tq
        self._tk, self._tq = _NO_ENTRIES, _NO_ENTRIES
        self._insert_sorted(keys, seqs)

    def _insert_sorted(self, keys: np.ndarray, seqs: np.ndarray) -> None:
        """Add entries sorted by (key, seq), seqs larger than any held, to the arrays."""
        assert self._rk is not None
        at = np.searchsorted(self._rk, keys, "right")
        self._rk, self._rq = np.insert(self._rk, at, keys), np.insert(self._rq, at, seqs)

    def _add_recent(self, keys: np.ndarray, seqs: np.ndarray) -> None:
        if self._rk is None:
            return
        order = np.lexsort((seqs, keys))
        keys, seqs = keys[order], seqs[order]
        if len(self._tk) + len(keys) <= _TAIL_MAX:
            # the seqs are larger than any held: each goes after its key's entries
            at = np.searchsorted(self._tk, keys, "right")
            self._tk, self._tq = np.insert(self._tk, at, keys), np.insert(self._tq, at, seqs)
            return
        self._flush_tail()
        self._insert_sorted(keys, seqs)

    def buckets(self, keys: np.ndarray, limit: int) -> dict[int, list[int]]:
        return self.bucket_table(keys, limit).as_dict()

    def bucket_table(self, keys: np.ndarray, limit: int) -> BucketTable:
        full = unique_sorted(keys.astype(np.uint64, copy=False))
        short = _short_keys(full)
        with self._reading():
            maybe = self._maybe_present(short)
            rk, rq = self._recent()
            tk, tq = self._tk, self._tq
            if maybe is not None:
                full, short = full[maybe], short[maybe]
            if not len(short):
                return _NO_BUCKETS
            if self._merged is not None:  # the merged level in memory
                buf, begin, length = self._merged
                want = unique_sorted(short)
                g = _group_of(want)
                at = begin[g]
                hit = at >= 0
                merged = _find_entries(buf, at[hit], length[g[hit]], want[hit], limit)
                return _gather_levels(full, short, (merged, (rk, rq), (tk, tq)), limit)
            # the merged level: the rows of the keys' groups (searched for the keys)
            groups = unique_sorted(_group_of(short)).tolist()
            rows = []
            for start in range(0, len(groups), _MAX_PARAMS):
                rows += self._con.execute(
                    "SELECT grp, entries FROM bands WHERE grp IN "
                    "(SELECT value FROM json_each(?)) ORDER BY grp",
                    (json.dumps(groups[start : start + _MAX_PARAMS]),),
                ).fetchall()
        merged = _find_in_groups(rows, short, limit)
        return _gather_levels(full, short, (merged, (rk, rq), (tk, tq)), limit)

    def fetch(self, seqs: Sequence[int]) -> dict[int, StoredDoc]:
        if not seqs:
            return {}
        rows = self._con.execute(
            f"{_SELECT_DOCS} WHERE d.seq IN (SELECT value FROM json_each(?))",
            (json.dumps(list(seqs)),),
        )
        return {row[0]: _row_doc(row) for row in rows}

    def _column_of(self, column: str, seqs: Sequence[int]) -> dict[int, Any]:
        """seq -> ``column`` of the stored documents ``seqs`` (one query)."""
        if not seqs:
            return {}
        rows = self._con.execute(
            f"SELECT seq, {column} FROM docs WHERE seq IN (SELECT value FROM json_each(?))",
            (json.dumps(list(seqs)),),
        )
        return dict(rows.fetchall())

    def samples_of(self, seqs: Sequence[int]) -> dict[int, int]:
        return self._column_of("samples", seqs)

    def _cache_samples(self, seqs: np.ndarray, counts: np.ndarray) -> None:
        small = seqs < _COUNTS_MAX  # larger seqs are always read from the file
        seqs, counts = seqs[small], counts[small]
        if not len(seqs):
            return
        top = int(seqs.max()) + 1
        if top > len(self._samples):
            grown = np.full(max(top, 2 * len(self._samples)), _NO_COUNT, dtype=np.int32)
            grown[: len(self._samples)] = self._samples
            self._samples = grown
        self._samples[seqs] = counts

    def sample_counts(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not len(seqs):
            return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
        seqs = seqs.astype(np.int64, copy=False)
        self._asked += len(seqs)
        if not self._samples_read and self._asked * 8 > self._counter("main_rows") // 64:
            # once a connection has asked for many: every count (one scan; a few
            # single adds to a large index look theirs up)
            self._samples_read = True
            rows = self._con.execute(
                "SELECT seq, samples FROM docs WHERE seq < ?", (_COUNTS_MAX,)).fetchall()
            if rows:
                arr = np.array(rows, dtype=np.int64)
                self._cache_samples(arr[:, 0], arr[:, 1])
        inside = seqs < len(self._samples)
        vals = np.full(len(seqs), _NO_COUNT, dtype=np.int64)
        vals[inside] = self._samples[seqs[inside]]
        ask = unique_sorted(seqs[vals == _NO_COUNT])
        if len(ask):
            got = self._column_of("samples", ask.tolist())
            if got:
                ks = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
                self._cache_samples(ks, np.fromiter(got.values(), dtype=np.int64,
                                                    count=len(got)))
                inside = seqs < len(self._samples)
                vals[inside] = self._samples[seqs[inside]]
        found = vals != _NO_COUNT
        return found, np.where(found, vals, 0)

    def key_parts_of(self, seqs: Sequence[int]) -> dict[int, bytes]:
        return {s: k or b"" for s, k in self._column_of("keys", seqs).items()}

    def seqs_of(self, ids: Sequence[str]) -> dict[str, int]:
        # Ids are bound as parameters, not sent through json_each: SQLite's JSON
        # functions end a string at an escaped NUL ("a\u0000b" read as "a"),
        # which found (and removed) another document.
        out: dict[str, int] = {}
        wanted = [i for i in dict.fromkeys(ids) if _storable(i)]
        for lo in range(0, len(wanted), _IDS_PER_QUERY):
            part = wanted[lo : lo + _IDS_PER_QUERY]
            rows = self._con.execute(
                f"SELECT id, seq FROM docs WHERE id IN ({','.join('?' * len(part))})", part
            )
            out.update(rows.fetchall())
        return out

    def insert(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        check_storable(docs, "an SQLite index")
        con = self._con
        with self.transaction():
            try:
                parts = [split_payload(d.payload) for d in docs]
                con.executemany(
                    f"INSERT INTO docs ({_DOC_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (d.seq, d.id, d.published, d.source, d.n_words, d.exact, d.cluster,
                         d.rep, d.shingle_code(), None if k in (b"", _EMPTY_KEYS) else k,
                         int(d.lead), d.samples)
                        for d, (k, _t) in zip(docs, parts, strict=True)
                    ],
                )
                con.executemany(
                    "INSERT INTO texts (seq, texts) VALUES (?, ?)",
                    [(d.seq, t) for d, (k, t) in zip(docs, parts, strict=True) if k],
                )
            except sqlite3.IntegrityError:
                taken = self.seqs_of([d.id for d in docs])
                raise DuplicateIdError(
                    f"document id {next(iter(taken), '?')!r} is already in the index"
                ) from None
            self._cache_samples(np.array([d.seq for d in docs], dtype=np.int64),
                                np.array([d.samples for d in docs], dtype=np.int64))
            self._recent()  # in memory before this batch (its entries are added below)
            # each document's sorted unique 48-bit keys, all documents at once
            lens = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
            owner = np.repeat(np.arange(len(keys), dtype=np.int64), lens)
            short = _short_keys(np.concatenate(keys)) if len(owner) else _NO_ENTRIES
            order = np.lexsort((short, owner))
            short, owner = short[order], owner[order]
            first = np.ones(len(short), dtype=bool)
            if len(short) > 1:
                first[1:] = (short[1:] != short[:-1]) | (owner[1:] != owner[:-1])
            short, owner = short[first], owner[first]
            bounds = np.searchsorted(owner, np.arange(len(keys) + 1)).tolist()
            doc_seqs = [d.seq for d in docs]
            recs = [(q, _pack_recent(short[bounds[i] : bounds[i + 1]]))
                    for i, q in enumerate(doc_seqs) if bounds[i + 1] > bounds[i]]
            con.executemany("INSERT INTO bands_new (seq, keys) VALUES (?, ?)", recs)
            n_new = len(short)
            if recs:
                self._recent_top = max(self._recent_top, max(q for q, _b in recs))
                self._set_bits(short)
                self._add_recent(short, np.array(doc_seqs, dtype=np.int64)[owner])
            recent = self._counter("recent_rows") + n_new
            main = self._counter("main_rows")
            if recent > max(_MERGE_MIN, min(main // _MERGE_FRACTION, _RECENT_MAX)):
                self._merge()
                self._set_counter("main_rows", main + recent)
                recent = 0
            self._set_counter("recent_rows", recent)
            self._count_terms(docs, 1)

    def _merge(self) -> None:
        """Move the entries of ``bands_new`` into the groups of ``bands`` (inside
        the caller's transaction), rewriting _MERGE_GROUPS groups at a time in
        group order (the freed pages are reused at once)."""
        con = self._con
        self._recent()
        self._flush_tail()
        rk, rq = self._recent()
        gk, gq = _by_group(rk, rq)  # in group order
        gg = _group_of(gk)
        # The merged rows kept in memory (this connection's, and no other one
        # has written the file since they were read) give the old rows, and
        # with the rewritten ones they are the merged level after the merge:
        # not read from the file again (at 20,000 documents 0.25 s of reading
        # old rows and 1 s of reading every row, once per 5,000 documents).
        mem = self._merged
        if mem is not None and (con.execute("PRAGMA data_version").fetchone()[0]
                                != self._data_version):
            mem = None
        written: list[tuple[int, bytes]] = []
        for lo in range(0, _ALL_GROUPS, _MERGE_GROUPS):
            hi = lo + _MERGE_GROUPS
            a, b = np.searchsorted(gg, [lo, hi]).tolist()
            if a == b:
                continue
            new_keys, new_seqs = _by_key(gk[a:b], gq[a:b])
            touched = unique_sorted(gg[a:b]).tolist()
            if mem is not None:
                okeys, oseqs = _entries_in_memory(mem, touched)
            else:
                okeys, oseqs = _unpack_groups(con.execute(
                    "SELECT grp, entries FROM bands WHERE grp IN "
                    "(SELECT value FROM json_each(?)) ORDER BY grp", (json.dumps(touched),),
                ).fetchall())
            # Both levels are sorted by (key, seq) and the recent seqs are the
            # larger ones: each recent entry goes after the merged ones of its key.
            at = np.searchsorted(okeys, new_keys, "right")
            keys, seqs = np.insert(okeys, at, new_keys), np.insert(oseqs, at, new_seqs)
            if len(keys) > 1 and not bool(np.all(
                    (keys[1:] > keys[:-1]) | ((keys[1:] == keys[:-1]) & (seqs[1:] > seqs[:-1])))):
                order = np.lexsort((seqs, keys))  # not expected: sort and drop repeats
                keys, seqs = keys[order], seqs[order]
                keep = np.r_[True, (keys[1:] != keys[:-1]) | (seqs[1:] != seqs[:-1])]
                keys, seqs = keys[keep], seqs[keep]
            rows = _pack_groups(keys, seqs)
            con.executemany("INSERT OR REPLACE INTO bands (grp, entries) VALUES (?, ?)", rows)
            if mem is not None:
                written += rows
        con.execute("DELETE FROM bands_new")
        self._rk, self._rq = _NO_ENTRIES, _NO_ENTRIES
        # (else read again by the next lookup)
        self._merged = None if mem is None else _merged_after(mem, written)
        if mem is not None and self._merged is None:
            self._merged_off = True  # grown beyond _MERGED_MAX (as _load_merged)
        self._bump_epoch()
        # The freed pages of the recent level (up to a fifth of the band entries)
        # would otherwise stay in the file until new rows reuse them (at 100,000
        # documents about 130 B per document right after a merge). Files made
        # before (auto_vacuum off) keep them.
        if con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
            # (each step of the pragma frees one page, and the sqlite3 module
            # steps a statement without result columns once)
            for _ in range(con.execute("PRAGMA freelist_count").fetchone()[0]):
                con.execute("PRAGMA incremental_vacuum(1)")

    def _count_terms(self, docs: Sequence[StoredDoc], sign: int) -> None:
        n, df = term_counts(docs)
        if not n:
            return
        con = self._con
        con.executemany(
            "INSERT INTO terms (hash, df) VALUES (?, ?) "
            "ON CONFLICT (hash) DO UPDATE SET df = df + excluded.df",
            [(h, sign * c) for h, c in df.items()],
        )
        if sign < 0:
            con.execute("DELETE FROM terms WHERE df <= 0")
        self._set_counter("term_docs", self._counter("term_docs") + sign * n)

    def term_docs(self) -> int:
        return self._counter("term_docs")

    def term_df(self, hashes: np.ndarray, min_df: int) -> dict[int, int]:
        # the partial index serves "df >= HOT_DF AND df >= ?" (not a bare "df >= ?")
        hot = f"df >= {HOT_DF} AND " if min_df >= HOT_DF else ""
        rows = self._con.execute(
            f"SELECT hash, df FROM terms WHERE {hot}df >= ? "
            "UNION SELECT hash, df FROM terms WHERE hash IN (SELECT value FROM json_each(?))",
            (min_df, json.dumps(hashes.tolist())),
        )
        return dict(rows.fetchall())

    def _counter(self, name: str) -> int:
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        return _count_of(self.location, name, row[0]) if row else 0

    def _set_counter(self, name: str, value: int) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, str(value)))

    def delete(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        con = self._con
        with self.transaction():
            rows = [
                (k, d.seq)
                for d, ks in zip(docs, keys, strict=True)
                for k in _short_keys(ks).tolist()
            ]
            self._delete_merged(set(_group_of(np.array([k for k, _s in rows], dtype=np.int64))
                                    .tolist()), {d.seq for d in docs})
            self._recent()
            con.executemany("DELETE FROM bands_new WHERE seq = ?", [(d.seq,) for d in docs])
            self._bump_epoch()
            self._flush_tail()
            if self._rk is not None and len(self._rk):
                keep = ~np.isin(self._rq, np.array([d.seq for d in docs], dtype=np.int64))
                self._rk, self._rq = self._rk[keep], self._rq[keep]
            con.executemany("DELETE FROM docs WHERE seq = ?", [(d.seq,) for d in docs])
            gone = np.array([d.seq for d in docs], dtype=np.int64)
            self._samples[gone[gone < len(self._samples)]] = _NO_COUNT
            con.executemany("DELETE FROM texts WHERE seq = ?", [(d.seq,) for d in docs])
            self._count_terms(docs, -1)

    def _delete_merged(self, groups: set[int], seqs: set[int]) -> None:
        """Drop every entry of the documents ``seqs`` from these groups of ``bands``."""
        con = self._con
        if not groups or not seqs:
            return
        gone = np.array(sorted(seqs), dtype=np.int64)
        touched = sorted(groups)
        self._merged = None  # read again by the next lookup
        for start in range(0, len(touched), _MERGE_GROUPS):
            part = touched[start : start + _MERGE_GROUPS]
            old = con.execute(
                "SELECT grp, entries FROM bands WHERE grp IN "
                "(SELECT value FROM json_each(?)) ORDER BY grp", (json.dumps(part),),
            ).fetchall()
            keys, qs = _unpack_groups(old)
            drop = np.isin(qs, gone)
            if not drop.any():
                continue
            rows = _pack_groups(keys[~drop], qs[~drop])
            left = {g for g, _b in rows}
            con.executemany("DELETE FROM bands WHERE grp = ?",
                            [(g,) for g, _b in old if g not in left])
            con.executemany("INSERT OR REPLACE INTO bands (grp, entries) VALUES (?, ?)", rows)

    def _merged_entries(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        cur = self._con.execute("SELECT grp, entries FROM bands ORDER BY grp")
        while rows := cur.fetchmany(_MERGE_GROUPS):
            yield _unpack_groups(rows)

    def published_before(self, t: float, limit: int) -> list[StoredDoc]:
        rows = self._con.execute(
            f"{_SELECT_DOCS} WHERE published < ? ORDER BY d.seq LIMIT ?", (t, limit)
        )
        return [_row_doc(r) for r in rows]

    def __len__(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM docs").fetchone()[0])

    def band_rows(self) -> int:
        """Rows in the band table (for consistency checks)."""
        merged = sum(len(k) for k, _q in self._merged_entries())
        rows = self._con.execute("SELECT seq, keys FROM bands_new").fetchall()
        return merged + len(_unpack_recent(rows)[0])

    def integrity(self) -> list[str]:
        """Problems found: SQLite's integrity check and band rows without a document."""
        problems = [
            r[0] for r in self._con.execute("PRAGMA integrity_check") if r[0] != "ok"
        ]
        orphans = len(_unpack_recent(self._con.execute(
            "SELECT seq, keys FROM bands_new WHERE seq NOT IN (SELECT seq FROM docs)"
        ).fetchall())[0])
        lost = self._con.execute(
            "SELECT count(*) FROM texts WHERE seq NOT IN (SELECT seq FROM docs)"
        ).fetchone()[0]
        if lost:
            problems.append(f"{lost} texts rows belong to no document")
        present = np.array([r[0] for r in self._con.execute("SELECT seq FROM docs")],
                           dtype=np.int64)
        for keys, qs in self._merged_entries():
            orphans += int(np.count_nonzero(~np.isin(qs, present)))
            if len(keys) > 1 and bool(np.any(
                    (keys[1:] < keys[:-1]) | ((keys[1:] == keys[:-1]) & (qs[1:] <= qs[:-1])))):
                problems.append("band entries out of order")
        if orphans:
            problems.append(f"{orphans} band rows point at no document")
        return problems

    def close(self) -> None:
        con = self.__dict__.get("_connection")
        if con is not None and not isinstance(con, _Closed):
            if self._pid == os.getpid():  # (an inherited connection is left alone)
                con.close()
            self._con = _closed(self.location)


# --------------------------------------------------------------------------- Redis

# Band entries live in 65,536 small hashes (hash = top 16 bits of the band key,
# field = its low 48 bits as 6 bytes, value = member seqs joined by commas):
# Redis keeps small hashes as compact listpacks, where one sorted set per band
# key costs about 100 bytes of overhead each.

# Checked before either script writes anything (a script that fails half-way
# keeps what it wrote: Redis has no rollback): every key holds its type or
# nothing. (Out of memory cannot stop a script after its first write: Redis
# checks that before it.)
_REDIS_CHECK = """
local kinds = {'hash', 'hash', 'zset', 'hash', 'zset'}
local seen = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  if not seen[key] then
    seen[key] = true
    local want = kinds[i] or 'hash'
    local got = redis.call('TYPE', key)['ok']
    if got ~= 'none' and got ~= want then
      local name = i <= 5 and key or 'a band bucket'
      return redis.error_reply('WRONGTYPE ' .. name .. ' holds a ' .. got .. ', not a ' ..
        want .. ' (nothing of this batch was written)')
    end
  end
end
"""

# Insert a batch atomically: fail (writing nothing) if any id is taken.
# KEYS: ids hash, docs hash, published zset, meta hash, key-term df zset, then the
# bucket hash of every band key.
# ARGV: n, then per document: id, seq, record, published ('' for none), counted
# (1: counts in the key-term document frequencies), number of band keys m,
# number of key-term hashes t, then the m band fields and the t hashes.
_REDIS_INSERT = _REDIS_CHECK + """
local n = tonumber(ARGV[1])
local starts = {}
local pos = 2
for i = 1, n do
  starts[i] = pos
  if redis.call('HEXISTS', KEYS[1], ARGV[pos]) == 1 then return ARGV[pos] end
  pos = pos + 7 + tonumber(ARGV[pos + 5]) + tonumber(ARGV[pos + 6])
end
local k = 6
for i = 1, n do
  local base = starts[i]
  local id, seq = ARGV[base], ARGV[base + 1]
  local m, t = tonumber(ARGV[base + 5]), tonumber(ARGV[base + 6])
  redis.call('HSET', KEYS[1], id, seq)
  redis.call('HSET', KEYS[2], seq, ARGV[base + 2])
  if ARGV[base + 3] ~= '' then redis.call('ZADD', KEYS[3], ARGV[base + 3], seq) end
  for j = 1, m do
    local f = ARGV[base + 6 + j]
    local v = redis.call('HGET', KEYS[k], f)
    if v then v = v .. ',' .. seq else v = seq end
    redis.call('HSET', KEYS[k], f, v)
    k = k + 1
  end
  if ARGV[base + 4] == '1' then
    redis.call('HINCRBY', KEYS[4], 'term_docs', 1)
    for j = 1, t do redis.call('ZINCRBY', KEYS[5], 1, ARGV[base + 6 + m + j]) end
  end
end
return false
"""

# KEYS as for insert; ARGV: n, then per document: id, seq, counted, m, t, then the
# m band fields and the t key-term hashes.
_REDIS_DELETE = _REDIS_CHECK + """
local n = tonumber(ARGV[1])
local pos = 2
local k = 6
for i = 1, n do
  local id, seq = ARGV[pos], ARGV[pos + 1]
  local m, t = tonumber(ARGV[pos + 3]), tonumber(ARGV[pos + 4])
  if redis.call('HGET', KEYS[1], id) == seq then redis.call('HDEL', KEYS[1], id) end
  if redis.call('HDEL', KEYS[2], seq) == 1 and ARGV[pos + 2] == '1' then
    redis.call('HINCRBY', KEYS[4], 'term_docs', -1)
    for j = 1, t do
      local h = ARGV[pos + 4 + m + j]
      if tonumber(redis.call('ZINCRBY', KEYS[5], -1, h)) <= 0 then
        redis.call('ZREM', KEYS[5], h)
      end
    end
  end
  redis.call('ZREM', KEYS[3], seq)
  for j = 1, m do
    local f = ARGV[pos + 4 + j]
    local v = redis.call('HGET', KEYS[k], f)
    if v then
      local keep = {}
      for s in string.gmatch(v, '[^,]+') do
        if s ~= seq then keep[#keep + 1] = s end
      end
      if #keep == 0 then
        redis.call('HDEL', KEYS[k], f)
      else
        redis.call('HSET', KEYS[k], f, table.concat(keep, ','))
      end
    end
    k = k + 1
  end
  pos = pos + 5 + m + t
end
return n
"""


def _check_redis_url(url: str) -> None:
    """Reject a ``redis://`` / ``rediss://`` URL whose path is not a database
    number: redis-py ignores such a path and uses database 0."""
    from urllib.parse import unquote, urlsplit

    if url.startswith("unix://"):
        return  # the path is the socket's; the database is ?db=N
    try:
        path = unquote(urlsplit(url).path)
    except ValueError as err:  # an unclosed "[" of an IPv6 host
        raise IndexConnectionError(f"not a valid Redis URL {url!r}: {err}") from None
    db = path[1:] if path.startswith("/") else path
    if db and not (db.isascii() and db.isdigit()):
        raise IndexConnectionError(
            f"not a valid Redis URL {url!r}: the path must be a database number "
            f"(redis://host:port/0), got {path!r}"
        )


class RedisStore(IndexStore):
    """The index in a Redis database, shared by any number of worker processes.

    Keys (under ``prefix``, default ``newsdedup:``): ``meta`` (hash), ``seq``
    (counter), ``ids`` (hash id -> seq), ``docs`` (hash seq -> binary record),
    ``pub`` (sorted set of seqs by published time) and the band table in
    65,536 hashes ``h:`` + 2 bytes (see above). Sequence numbers come
    from ``INCRBY``; each batch is written by one Lua script, so concurrent
    writers never lose entries and a duplicate id stores nothing.

    A worker sees what other workers committed before its lookup; two copies
    added at the same instant by two workers may both become first-seen.
    """

    def __init__(self, url: str, *, prefix: str = "newsdedup:", timeout: float = 5.0):
        try:
            import redis
        except ImportError:
            raise MissingDependencyError("redis", "redis", "a Redis index") from None
        self.location = url
        self._prefix = prefix.encode("utf-8")
        _check_redis_url(url)
        try:
            self._client = redis.Redis.from_url(
                url, socket_connect_timeout=timeout, socket_timeout=max(timeout, 30.0)
            )
        except ValueError as err:  # a port that is not a number, a bad ?option= value
            raise IndexConnectionError(f"not a valid Redis URL {url!r}: {err}") from None
        try:
            self._client.ping()
        except TypeError as err:  # an unknown ?option= (given to the connection class)
            self._client.close()
            raise IndexConnectionError(f"not a valid Redis URL {url!r}: {err}") from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as err:
            self._client.close()
            raise IndexConnectionError(f"cannot reach Redis at {url}: {err}") from None
        except redis.exceptions.RedisError as err:
            self._client.close()
            raise IndexConnectionError(f"Redis at {url} refused the connection: {err}") from None
        self._errors = redis.exceptions
        self._insert = self._client.register_script(_REDIS_INSERT)
        self._delete = self._client.register_script(_REDIS_DELETE)
        p = self._prefix
        self._k_meta, self._k_seq, self._k_ids = p + b"meta", p + b"seq", p + b"ids"
        self._k_docs, self._k_pub, self._k_df = p + b"docs", p + b"pub", p + b"df"

    def _band(self, key: int) -> tuple[bytes, bytes]:
        """(bucket hash name, field) of a 64-bit band key: the field is its low 48
        bits, the bucket its top 16 bits XOR bits 16-31 (a tagged key's top 16
        bits are one of two values, see PASSAGE_TAG)."""
        top = (key >> 48) ^ ((key >> 16) & 0xFFFF)
        return self._prefix + b"h:" + top.to_bytes(2, "big"), (
            key & 0xFFFFFFFFFFFF
        ).to_bytes(6, "big")

    @contextmanager
    def _io(self) -> Iterator[None]:
        try:
            yield
        except self._errors.ConnectionError as err:
            raise IndexConnectionError(
                f"lost the Redis connection ({self.location}): {err}"
            ) from None
        except self._errors.TimeoutError as err:
            raise IndexConnectionError(f"Redis at {self.location} timed out: {err}") from None
        except self._errors.RedisError as err:
            # an error the server answered with (out of memory under maxmemory,
            # WRONGTYPE: a key of the index's prefix holding another type, READONLY:
            # a replica, ...)
            raise IndexConnectionError(
                f"Redis at {self.location} refused a command of the index "
                f"({self._prefix.decode('utf-8', 'replace')}*): {err}"
            ) from None

    def fingerprint(self) -> dict[str, Any] | None:
        with self._io():
            raw = self._client.hget(self._k_meta, "fingerprint")
        return None if raw is None else _fingerprint_of(self.location, raw)

    def set_fingerprint(self, fingerprint: dict[str, Any]) -> None:
        with self._io():
            # Only the first writer sets it; a racing second one is checked against it.
            value = json.dumps(fingerprint, sort_keys=True)
            self._client.hsetnx(self._k_meta, "fingerprint", value)

    def reserve(self, n: int) -> int:
        with self._io():
            top = int(self._client.incrby(self._k_seq, n))
        return top - n + 1

    def buckets(self, keys: np.ndarray, limit: int) -> dict[int, list[int]]:
        uniq = unique_sorted(keys.astype(np.uint64, copy=False)).tolist()
        with self._io():
            pipe = self._client.pipeline(transaction=False)
            for k in uniq:
                pipe.hget(*self._band(k))
            res = pipe.execute()
        out = {}
        for k, value in zip(uniq, res, strict=True):
            if value:
                out[k] = sorted(int(s) for s in value.split(b","))[:limit]
        return out

    def fetch(self, seqs: Sequence[int]) -> dict[int, StoredDoc]:
        if not seqs:
            return {}
        with self._io():
            values = self._client.hmget(self._k_docs, list(seqs))
        pairs = zip(seqs, values, strict=True)
        return {s: decode_record(v) for s, v in pairs if isinstance(v, bytes)}

    def seqs_of(self, ids: Sequence[str]) -> dict[str, int]:
        ids = [i for i in ids if _storable(i)]  # (one that is not was never stored)
        if not ids:
            return {}
        with self._io():
            values = self._client.hmget(self._k_ids, list(ids))
        return {i: int(v) for i, v in zip(ids, values, strict=True) if v is not None}

    @staticmethod
    def _counted(d: StoredDoc) -> tuple[str, list[int]]:
        if d.lead and d.exact is not None:
            return "1", payload_key_hashes(d.payload).tolist()
        return "0", []

    def insert(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        if not docs:
            return
        check_storable(docs, "a Redis index")
        argv: list[Any] = [len(docs)]
        band_keys: list[bytes] = []
        for d, ks in zip(docs, keys, strict=True):
            bands = [self._band(k) for k in ks.tolist()]
            counted, terms = self._counted(d)
            argv += [d.id, d.seq, encode_record(d),
                     "" if d.published is None else repr(d.published), counted, len(bands),
                     len(terms)]
            argv += [f for _h, f in bands]
            argv += terms
            band_keys += [h for h, _f in bands]
        with self._io():
            taken = self._insert(
                keys=[self._k_ids, self._k_docs, self._k_pub, self._k_meta, self._k_df,
                      *band_keys],
                args=argv,
            )
        if taken is not None:
            ident = taken.decode("utf-8") if isinstance(taken, bytes) else taken
            raise DuplicateIdError(f"document id {ident!r} is already in the index")

    def delete(self, docs: Sequence[StoredDoc], keys: Sequence[np.ndarray]) -> None:
        if not docs:
            return
        argv: list[Any] = [len(docs)]
        band_keys: list[bytes] = []
        for d, ks in zip(docs, keys, strict=True):
            bands = [self._band(k) for k in ks.tolist()]
            counted, terms = self._counted(d)
            argv += [d.id, d.seq, counted, len(bands), len(terms)]
            argv += [f for _h, f in bands]
            argv += terms
            band_keys += [h for h, _f in bands]
        with self._io():
            self._delete(
                keys=[self._k_ids, self._k_docs, self._k_pub, self._k_meta, self._k_df,
                      *band_keys],
                args=argv,
            )

    def term_docs(self) -> int:
        with self._io():
            raw = self._client.hget(self._k_meta, "term_docs")
        return 0 if raw is None else _count_of(self.location, "term_docs", raw)

    def term_df(self, hashes: np.ndarray, min_df: int) -> dict[int, int]:
        wanted = hashes.tolist()
        with self._io():
            pipe = self._client.pipeline(transaction=False)
            pipe.zrangebyscore(self._k_df, min_df, "+inf", withscores=True)
            if wanted:
                pipe.zmscore(self._k_df, wanted)
            res = pipe.execute()
        out = {int(h): int(c) for h, c in res[0]}
        if wanted:
            out.update((h, int(c)) for h, c in zip(wanted, res[1], strict=True) if c is not None)
        return out

    def published_before(self, t: float, limit: int) -> list[StoredDoc]:
        with self._io():
            found = self._client.zrangebyscore(
                self._k_pub, "-inf", f"({t!r}", start=0, num=limit
            )
            seqs = [int(s) for s in found if isinstance(s, (bytes, str))]
        return [d for _, d in sorted(self.fetch(seqs).items())]

    def __len__(self) -> int:
        with self._io():
            return int(self._client.hlen(self._k_docs))

    def memory_bytes(self) -> int:
        """Bytes Redis uses (``INFO memory`` used_memory) for the whole database server."""
        with self._io():
            return int(self._client.info("memory")["used_memory"])

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None and not isinstance(client, _Closed):
            client.close()
            closed = _closed(self.location)
            self._client = self._insert = self._delete = closed  # type: ignore[assignment]


def open_store(location: str | os.PathLike[str]) -> IndexStore:
    """A store for a location: ``redis://`` / ``rediss://`` / ``unix://`` URLs are
    Redis, ``":memory:"`` is in memory, anything else is an SQLite file path."""
    loc = os.fspath(location)
    if not loc.strip():
        # (sqlite3 would make a private temporary database: an index that is
        # never found again)
        raise IndexConnectionError("the index location is empty: give an SQLite file "
                                   "path or a redis:// URL")
    if loc.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(loc)
    if loc == ":memory:":
        return MemoryStore()
    return SQLiteStore(loc)
