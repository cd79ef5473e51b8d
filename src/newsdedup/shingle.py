"""Word n-gram shingles hashed to 32-bit values.

Text (already normalised) is split into ``\\w+`` tokens. Each distinct token is
hashed once with xxh3-64; an n-gram's hash combines its tokens' hashes
polynomially modulo 2^64 and is mixed down to 32 bits. The per-n-gram work is
vectorised with numpy; the only per-token Python work is a dict lookup.

:func:`shingle_hash` is the plain scalar definition of the same hash (used as
the ``hashfunc`` of ``datasketch.MinHash`` in the compatibility tests, on
shingles given as space-joined token strings) and :func:`shingle_set_reference`
the plain reference implementation the fast path is tested against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

from ._arrays import unique_sorted

TOKEN_RE = re.compile(r"\w+")

_MASK64 = (1 << 64) - 1
# Odd 64-bit multiplier for the polynomial combination of token hashes.
_MULT = 0x9E3779B97F4A7C15
# Finaliser (splitmix64 / MurmurHash3 fmix64 constants), then keep the high 32 bits.
_C1 = 0xFF51AFD7ED558CCD
_C2 = 0xC4CEB9FE1A85EC53

EMPTY = np.zeros(0, dtype=np.uint32)


def tokenize(normalized: str) -> list[str]:
    """Split normalised text into word tokens (``\\w+``)."""
    return TOKEN_RE.findall(normalized)


def token_hash(token: str) -> int:
    """The 64-bit hash of one token (xxh3-64 of its UTF-8 bytes, seed 0)."""
    return xxhash.xxh3_64_intdigest(token.encode("utf-8"))


def _mix_scalar(h: int) -> int:
    h ^= h >> 33
    h = (h * _C1) & _MASK64
    h ^= h >> 33
    h = (h * _C2) & _MASK64
    h ^= h >> 33
    return h >> 32


def shingle_hash(shingle: str | bytes | Sequence[str]) -> int:
    """The 32-bit hash of one shingle (reference definition).

    Args:
        shingle: the shingle's tokens, or the tokens joined by single spaces
            (str or UTF-8 bytes), as fed to ``datasketch.MinHash.update``.
    """
    if isinstance(shingle, bytes):
        shingle = shingle.decode("utf-8")
    tokens = shingle.split(" ") if isinstance(shingle, str) else list(shingle)
    h = 0
    for tok in tokens:
        h = (h * _MULT + token_hash(tok)) & _MASK64
    return _mix_scalar(h)


def shingle_strings(tokens: Sequence[str], n: int) -> list[str]:
    """The space-joined n-gram strings of a token list (reference, slow)."""
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def shingle_set_reference(tokens: Sequence[str], n: int) -> set[int]:
    """The set of shingle hashes, one Python call per shingle (reference, slow)."""
    return {shingle_hash(s) for s in shingle_strings(tokens, n)}


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(_C1)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(_C2)
    h = h ^ (h >> np.uint64(33))
    return (h >> np.uint64(32)).astype(np.uint32)


def _powers(n: int) -> list[np.uint64]:
    return [np.uint64(pow(_MULT, n - 1 - k, 1 << 64)) for k in range(n)]


class Shingler:
    """Turns token lists into sorted unique uint32 shingle arrays.

    Keeps a token-hash cache, so reuse one Shingler over a batch of documents.
    """

    def __init__(self, n: int = 5, *, max_cache: int = 2_000_000):
        if n < 1:
            raise ValueError(f"shingle size must be >= 1, got {n}")
        self.n = n
        self._pows = _powers(n)
        self._cache: dict[str, int] = {}
        self._max_cache = max_cache

    def token_hashes(self, tokens: Sequence[str]) -> np.ndarray:
        cache = self._cache
        missing = set(tokens).difference(cache)
        if missing:
            if len(cache) + len(missing) > self._max_cache:
                cache.clear()
                missing = set(tokens)
            for tok in missing:
                cache[tok] = xxhash.xxh3_64_intdigest(tok.encode("utf-8"))
        return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))

    def shingles(self, tokens: Sequence[str]) -> np.ndarray:
        """Sorted unique 32-bit hashes of the n-grams of ``tokens``."""
        n = self.n
        m = len(tokens) - n + 1
        if m <= 0:
            return EMPTY
        th = self.token_hashes(tokens)
        acc: np.ndarray = th[0:m] * self._pows[0]
        for k in range(1, n):
            acc = acc + th[k : k + m] * self._pows[k]
        return unique_sorted(_mix(acc))

    def shingles_of_texts(self, normalized_texts: Iterable[str]) -> list[np.ndarray]:
        return [self.shingles(tokenize(t)) for t in normalized_texts]

    def shingle_batch(
        self, normalized_texts: Sequence[str], *, min_tokens: int = 0
    ) -> ShingleBatch:
        """Shingle sets of a batch as one :class:`ShingleBatch` (plain path).

        A text with fewer than ``max(min_tokens, n)`` tokens gets no shingles.
        :meth:`newsdedup.sign.Signer.sign_texts` computes the same batch (and
        its signatures) in one compiled pass when numba is installed.
        """
        arrays = []
        counts = np.zeros(len(normalized_texts), dtype=np.int64)
        for i, text in enumerate(normalized_texts):
            tokens = tokenize(text)
            counts[i] = len(tokens)
            ok = len(tokens) >= max(min_tokens, self.n)
            arrays.append(self.shingles(tokens) if ok else EMPTY)
        return ShingleBatch.from_arrays(arrays, counts)


@dataclass(frozen=True, slots=True)
class ShingleBatch:
    """The shingle sets of a batch of documents, stored compactly (CSR).

    Attributes:
        values: uint32, the sorted unique shingle hashes of every document,
            one after the other (4 bytes per distinct shingle).
        offsets: int64, ``len(batch) + 1`` entries: document ``i`` owns
            ``values[offsets[i]:offsets[i + 1]]``.
        n_tokens: int64, the number of word tokens of each document.
    """

    values: np.ndarray
    offsets: np.ndarray
    n_tokens: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: Sequence[np.ndarray], n_tokens: np.ndarray) -> ShingleBatch:
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in arrays], out=offsets[1:])
        values = np.concatenate(arrays).astype(np.uint32) if arrays else EMPTY
        return cls(values=values, offsets=offsets, n_tokens=np.asarray(n_tokens, dtype=np.int64))

    @classmethod
    def concatenate(cls, parts: Sequence[ShingleBatch]) -> ShingleBatch:
        """One batch holding the documents of ``parts`` in order."""
        if not parts:
            return cls(values=EMPTY, offsets=np.zeros(1, dtype=np.int64),
                       n_tokens=np.zeros(0, dtype=np.int64))
        shifts = np.cumsum([0] + [len(p.values) for p in parts[:-1]])
        tails = [p.offsets[1:] + s for p, s in zip(parts, shifts, strict=True)]
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), *tails])
        return cls(values=np.concatenate([p.values for p in parts]), offsets=offsets,
                   n_tokens=np.concatenate([p.n_tokens for p in parts]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        """The sorted unique shingle hashes of document ``i`` (a view)."""
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def sizes(self) -> np.ndarray:
        """Number of distinct shingles of each document."""
        return np.diff(self.offsets)

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.offsets.nbytes + self.n_tokens.nbytes)
