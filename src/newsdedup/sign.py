"""MinHash signatures, computed with numpy over batches of documents.

The permutation scheme is datasketch's ``"affine32"`` (datasketch >= 2.0): each
32-bit shingle hash is pre-mixed with the MurmurHash3 32-bit finaliser, then
permutation k maps it to ``a_k * h + b_k mod 2^32`` with ``(a_k, b_k)`` drawn
exactly as datasketch draws them from ``np.random.RandomState(seed)``. A
signature is therefore bit-identical to::

    datasketch.MinHash(num_perm=..., seed=..., scheme="affine32",
                       hashfunc=newsdedup.shingle.shingle_hash)

fed the same shingles, and converts to :class:`datasketch.LeanMinHash`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._version import __version__
from .errors import IncompatibleSignatureError
from .shingle import ShingleBatch, Shingler, _powers

SCHEME = "affine32"
SHINGLE_HASH = "xxh3_64-tokens/poly64/fmix64-hi32"
EMPTY_VALUE = np.uint32(0xFFFFFFFF)
_CHUNK = 1 << 17  # shingles per vectorised block (num_perm x _CHUNK uint32 temporaries)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureSpec:
    """Everything that must match for two signatures to be comparable."""

    shingle: str = "word"
    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    hash: str = SHINGLE_HASH
    scheme: str = SCHEME
    format_version: int = 1

    def check_compatible(self, other: SignatureSpec) -> None:
        """Raise IncompatibleSignatureError naming every field that differs."""
        diffs = [
            f"{name}: {getattr(self, name)!r} != {getattr(other, name)!r}"
            for name in self.__dataclass_fields__
            if getattr(self, name) != getattr(other, name)
        ]
        if diffs:
            raise IncompatibleSignatureError(
                "signatures were made with different specifications (" + "; ".join(diffs) + ")"
            )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {
            "library_version": __version__
        }


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 permutation parameters, drawn as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, element-wise on a uint32 array."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    out: np.ndarray = h ^ (h >> np.uint32(16))
    return out


class Signer:
    """Computes MinHash signatures for batches of shingle arrays."""

    def __init__(self, spec: SignatureSpec):
        self.spec = spec
        a, b = permutations(spec.num_perm, spec.seed)
        self._a = a[:, None]
        self._b = b[:, None]

    def sign_one_reference(self, shingles: np.ndarray) -> np.ndarray:
        """Plain per-permutation loop (reference for the batch path)."""
        sig = np.full(self.spec.num_perm, EMPTY_VALUE, dtype=np.uint32)
        if len(shingles) == 0:
            return sig
        hv = fmix32(np.asarray(shingles, dtype=np.uint32))
        for k in range(self.spec.num_perm):
            sig[k] = (hv * self._a[k, 0] + self._b[k, 0]).min()
        return sig

    def sign(self, shingle_arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Signatures of a batch: a (len(batch), num_perm) uint32 matrix.

        A document without shingles gets the all-0xFFFFFFFF empty signature
        (datasketch's empty MinHash); it must never be used for matching.
        """
        n = len(shingle_arrays)
        out = np.full((n, self.spec.num_perm), EMPTY_VALUE, dtype=np.uint32)
        sizes = np.fromiter((len(s) for s in shingle_arrays), dtype=np.int64, count=n)
        nonempty = np.flatnonzero(sizes)
        start = 0
        while start < len(nonempty):
            # Take documents until the block holds about _CHUNK shingles.
            stop = start
            total = 0
            while stop < len(nonempty) and (total == 0 or total + sizes[nonempty[stop]] <= _CHUNK):
                total += int(sizes[nonempty[stop]])
                stop += 1
            idx = nonempty[start:stop]
            hv = fmix32(np.concatenate([shingle_arrays[i] for i in idx]).astype(np.uint32))
            offsets = np.zeros(len(idx), dtype=np.int64)
            np.cumsum(sizes[idx][:-1], out=offsets[1:])
            phv = hv[None, :] * self._a + self._b  # wraps mod 2^32: the permutation
            out[idx] = np.minimum.reduceat(phv, offsets, axis=1).T
            start = stop
        return out


    def sign_batch(self, batch: ShingleBatch) -> np.ndarray:
        """Signatures of a :class:`~newsdedup.shingle.ShingleBatch` (plain numpy path)."""
        return self.sign([batch[i] for i in range(len(batch))])

    def sign_texts(
        self, normalized_texts: Sequence[str], *, min_tokens: int = 0, native: bool | None = None
    ) -> tuple[ShingleBatch, np.ndarray]:
        """Raw normalised texts in, shingle sets and signatures out.

        Same result as ``Shingler(n).shingle_batch(texts, min_tokens=...)``
        followed by :meth:`sign_batch`; with numba installed (``native`` None
        or True) it is one compiled pass over the UTF-8 bytes of the batch:
        no per-token Python work.

        Args:
            normalized_texts: normalised document texts.
            min_tokens: a text with fewer tokens (or fewer than the shingle
                size) gets no shingles and the empty signature.
            native: force (True) or forbid (False) the compiled path; None
                uses it when numba is importable.
        """
        from . import _native

        if native is None:
            native = _native.available()
        n = self.spec.shingle_size
        if not native:
            batch = Shingler(n).shingle_batch(normalized_texts, min_tokens=min_tokens)
            return batch, self.sign_batch(batch)
        return self._sign_compiled(
            [t.encode("utf-8", "surrogatepass") for t in normalized_texts], min_tokens)

    def sign_encoded(
        self, encoded: Sequence[bytes], *, min_tokens: int = 0
    ) -> tuple[ShingleBatch, np.ndarray]:
        """:meth:`sign_texts` of normalised texts already encoded (UTF-8,
        ``surrogatepass``): compiled when numba is installed, else decoded for
        the plain path."""
        from . import _native

        if not _native.available():
            return self.sign_texts([e.decode("utf-8", "surrogatepass") for e in encoded],
                                   min_tokens=min_tokens, native=False)
        return self._sign_compiled(encoded, min_tokens)

    def _sign_compiled(
        self, encoded: Sequence[bytes], min_tokens: int
    ) -> tuple[ShingleBatch, np.ndarray]:
        """The compiled pass of :meth:`sign_texts` (numba must be installed)."""
        from . import _native

        n = self.spec.shingle_size
        k = _native.kernels()
        buf, ends = _native._joined(list(encoded))
        starts, lens, n_tokens = k["token_spans"](buf, ends, _native.word_table())
        hashes = k["hash_spans"](buf, starts, lens)
        long_tokens = np.flatnonzero(lens > _native.MAX_NATIVE_TOKEN)
        if len(long_tokens):
            import xxhash

            for t in long_tokens.tolist():
                start = int(starts[t])
                token = buf[start : start + int(lens[t])].tobytes()
                hashes[t] = xxhash.xxh3_64_intdigest(token)
        pows = np.array(_powers(n), dtype=np.uint64)
        values, offsets, sigs = k["shingle_sign"](
            hashes, n_tokens, n, max(min_tokens, n), pows,
            self._a[:, 0].astype(np.uint32), self._b[:, 0].astype(np.uint32),
        )
        return ShingleBatch(values=values, offsets=offsets, n_tokens=n_tokens), sigs


def to_lean_minhash(signature: np.ndarray, spec: SignatureSpec) -> Any:
    """Convert one signature row to a :class:`datasketch.LeanMinHash`."""
    from datasketch import LeanMinHash

    if signature.shape != (spec.num_perm,):
        raise IncompatibleSignatureError(
            f"signature has shape {signature.shape}, expected ({spec.num_perm},)"
        )
    return LeanMinHash(seed=spec.seed, hashvalues=signature.astype(np.uint32), scheme=SCHEME)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """MinHash estimate of Jaccard: the fraction of equal signature positions."""
    if sig_a.shape != sig_b.shape:
        raise IncompatibleSignatureError(
            f"signatures of different lengths: {sig_a.shape[0]} and {sig_b.shape[0]}"
        )
    return float(np.count_nonzero(sig_a == sig_b)) / float(sig_a.shape[0])
