import math
import random

import datasketch
import numpy as np
import pytest

from newsdedup import IncompatibleSignatureError
from newsdedup.normalize import normalize
from newsdedup.shingle import EMPTY, Shingler, shingle_hash, shingle_strings, tokenize
from newsdedup.sign import SignatureSpec, Signer, estimate_jaccard, to_lean_minhash


def _datasketch_minhash(shingles: list[str], num_perm: int, seed: int) -> datasketch.MinHash:
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=shingle_hash)
    for s in shingles:
        m.update(s)
    return m


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7), (256, 12345), (17, 0)])
def test_bit_identical_to_datasketch(seed_texts: tuple[str, str], num_perm: int, seed: int) -> None:
    spec = SignatureSpec(num_perm=num_perm, seed=seed)
    signer = Signer(spec)
    sh = Shingler(5)
    docs = [tokenize(normalize(t)) for t in seed_texts] + [["only", "four", "tokens", "here"]]
    sigs = signer.sign([sh.shingles(t) for t in docs])
    for row, toks in zip(sigs, docs, strict=True):
        ref = _datasketch_minhash(shingle_strings(toks, 5), num_perm, seed)
        assert ref.hashvalues.dtype == np.uint32
        np.testing.assert_array_equal(row, ref.hashvalues)


def test_batch_equals_reference_across_chunk_boundaries() -> None:
    rng = np.random.default_rng(3)
    arrays = [np.unique(rng.integers(0, 2**32, size=int(k), dtype=np.uint64).astype(np.uint32))
              for k in rng.integers(0, 70_000, size=9)]
    arrays.insert(2, EMPTY)
    signer = Signer(SignatureSpec(num_perm=32))
    batch = signer.sign(arrays)
    for row, arr in zip(batch, arrays, strict=True):
        np.testing.assert_array_equal(row, signer.sign_one_reference(arr))


def test_converts_to_lean_minhash_and_serializes(seed_texts: tuple[str, str]) -> None:
    spec = SignatureSpec()
    toks = tokenize(normalize(seed_texts[0]))
    sig = Signer(spec).sign([Shingler(5).shingles(toks)])[0]
    lean = to_lean_minhash(sig, spec)
    assert isinstance(lean, datasketch.LeanMinHash)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    back = datasketch.LeanMinHash.deserialize(buf)
    np.testing.assert_array_equal(back.hashvalues, sig)
    ref = datasketch.LeanMinHash(_datasketch_minhash(shingle_strings(toks, 5), 128, 1))
    assert lean.jaccard(ref) == 1.0
    with pytest.raises(IncompatibleSignatureError):
        to_lean_minhash(sig[:10], spec)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estimates_within_five_standard_deviations(seed: int) -> None:
    rng = random.Random(seed)
    num_perm = 256
    signer = Signer(SignatureSpec(num_perm=num_perm, seed=seed))
    for target in (0.1, 0.3, 0.5, 0.7, 0.9):
        universe = [rng.getrandbits(32) for _ in range(4000)]
        # |A|=|B|=1000: Jaccard = c / (2000 - c) for c shared elements.
        c = round(2000 * target / (1 + target))
        a = set(universe[:1000])
        b = set(universe[:c]) | set(universe[1000 : 1000 + (1000 - c)])
        exact = len(a & b) / len(a | b)
        sa = np.array(sorted(a), dtype=np.uint32)
        sb = np.array(sorted(b), dtype=np.uint32)
        est = estimate_jaccard(*signer.sign([sa, sb]))
        sd = math.sqrt(exact * (1 - exact) / num_perm)
        assert abs(est - exact) <= 5 * sd + 1e-9, (target, exact, est)


def test_spec_mismatch_names_fields() -> None:
    with pytest.raises(IncompatibleSignatureError, match=r"num_perm: 128 != 64.*seed: 1 != 2"):
        SignatureSpec().check_compatible(SignatureSpec(num_perm=64, seed=2))
    with pytest.raises(IncompatibleSignatureError):
        estimate_jaccard(np.zeros(4, np.uint32), np.zeros(5, np.uint32))


def test_empty_document_signature_is_sentinel() -> None:
    sig = Signer(SignatureSpec(num_perm=8)).sign([EMPTY])[0]
    assert (sig == 0xFFFFFFFF).all()
