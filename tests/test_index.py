import random

import numpy as np
import pytest

from newsdedup.index import LSHParams, candidate_pairs, candidate_pairs_reference, choose_params
from newsdedup.sign import SignatureSpec, Signer


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_params_reach_recall_at_threshold(threshold: float, num_perm: int) -> None:
    p = choose_params(threshold, num_perm, 0.95)
    assert p.bands * p.rows <= num_perm
    assert p.recall_at_threshold >= 0.95
    # The largest rows that reaches the recall: one more row would not.
    if p.rows < num_perm:
        worse = LSHParams(bands=num_perm // (p.rows + 1), rows=p.rows + 1, threshold=threshold)
        assert worse.recall_at_threshold < 0.95


def test_curve_is_the_banding_formula() -> None:
    p = LSHParams(bands=42, rows=3, threshold=0.5)
    for s, prob in p.curve(11):
        assert prob == pytest.approx(1 - (1 - s**3) ** 42)
    assert p.curve(11)[0] == (0.0, 0.0)
    assert p.curve(11)[-1] == (1.0, 1.0)


def test_explicit_params() -> None:
    p = choose_params(0.5, 128, bands=16, rows=8)
    assert (p.bands, p.rows) == (16, 8)


def _planted_signatures(seed: int, n: int = 120, num_perm: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint64).astype(np.uint32)
    # Plant near-copies: copy a row and perturb some positions.
    for k in range(0, n - 1, 3):
        sigs[k + 1] = sigs[k]
        flip = rng.random(num_perm) < rng.random() * 0.8
        sigs[k + 1, flip] = rng.integers(0, 2**32, size=int(flip.sum()), dtype=np.uint64)
    sigs[5] = sigs[50]
    sigs[51] = sigs[50]
    return sigs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidates_equal_brute_force_reference(seed: int) -> None:
    sigs = _planted_signatures(seed)
    params = LSHParams(bands=16, rows=4, threshold=0.5)
    fast = {tuple(map(int, p)) for p in candidate_pairs(sigs, params)}
    assert fast == candidate_pairs_reference(sigs, params)
    assert len(fast) > 10
    mask = np.ones(len(sigs), dtype=bool)
    mask[::4] = False
    fast_m = {tuple(map(int, p)) for p in candidate_pairs(sigs, params, eligible=mask)}
    assert fast_m == candidate_pairs_reference(sigs, params, eligible=mask)


@pytest.mark.parametrize("seed", [0, 1])
def test_bands_shared_out_among_workers_give_the_same_pairs(
    seed: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsdedup import forked, index

    sigs = _planted_signatures(seed)
    sigs[60:90] = sigs[60]  # one big bucket: capped pairs and a star
    params = LSHParams(bands=16, rows=4, threshold=0.5)
    mask = np.ones(len(sigs), dtype=bool)
    mask[::5] = False
    shared: list[int] = []
    fork_map = forked.fork_map

    def counting(*args: object, **kwargs: object) -> object:
        shared.append(len(args[2]))  # type: ignore[arg-type]
        return fork_map(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(forked, "fork_map", counting)
    monkeypatch.setattr(index, "PARALLEL_BANDS_MIN_ROWS", 10)
    for eligible in (None, mask):
        for max_bucket in (5, 100):
            one = candidate_pairs(sigs, params, eligible=eligible, max_bucket=max_bucket)
            for workers in (2, 3):
                many = candidate_pairs(sigs, params, eligible=eligible, max_bucket=max_bucket,
                                       workers=workers)
                assert np.array_equal(one, many), (eligible is None, max_bucket, workers)
    assert shared == [2, 3] * 4  # the forked path ran every time


def test_big_buckets_are_capped_but_connected() -> None:
    sigs = np.zeros((30, 8), dtype=np.uint32)  # 30 identical signatures: one bucket
    pairs = candidate_pairs(sigs, LSHParams(bands=2, rows=4, threshold=0.5), max_bucket=5)
    got = {tuple(map(int, p)) for p in pairs}
    assert {(i, j) for i in range(5) for j in range(i + 1, 5)} <= got
    assert {(0, j) for j in range(5, 30)} <= got
    assert len(got) == 10 + 25


def test_lsh_recall_at_threshold_against_brute_force() -> None:
    """Pairs with exact Jaccard equal to the threshold: >= 95% become candidates."""
    rng = random.Random(11)
    threshold = 0.5
    num_perm = 128
    params = choose_params(threshold, num_perm, 0.95)
    signer = Signer(SignatureSpec(num_perm=num_perm, seed=4))
    arrays = []
    for _ in range(300):
        # |A| = |B| = 300, |A & B| = 200 -> Jaccard 200 / 400 = 0.5 exactly.
        pool = rng.sample(range(2**32), 400)
        a, b = pool[:300], pool[:200] + pool[300:400]
        assert len(set(a) & set(b)) / len(set(a) | set(b)) == threshold
        arrays += [np.array(sorted(a), np.uint32), np.array(sorted(b), np.uint32)]
    sigs = signer.sign(arrays)
    found = {tuple(map(int, p)) for p in candidate_pairs(sigs, params)}
    caught = sum((2 * k, 2 * k + 1) in found for k in range(300))
    assert caught / 300 >= 0.95
    # datasketch's equal-weight optimum for t=0.5 (25 x 5) would catch only ~55%.
    ds = LSHParams(bands=25, rows=5, threshold=threshold)
    found_ds = {tuple(map(int, p)) for p in candidate_pairs(sigs, ds)}
    assert sum((2 * k, 2 * k + 1) in found_ds for k in range(300)) / 300 < 0.75


@pytest.mark.parametrize("seed", range(6))
def test_pairs_in_groups_equal_reference(seed: int) -> None:
    """The shrinking-set pair enumeration gives the reference's pairs in the
    reference's order, for runs shorter than, equal to and longer than the cap."""
    from newsdedup.index import _pairs_in_groups, _pairs_in_groups_reference

    rnd = np.random.default_rng(seed)
    for max_bucket in (2, 3, 5, 100):
        sizes = rnd.integers(1, 3 * max_bucket + 2, size=60)
        keys = np.repeat(rnd.permutation(len(sizes)).astype(np.uint64), sizes)
        keys = keys[rnd.permutation(len(keys))]
        order = np.argsort(keys, kind="stable")
        got = _pairs_in_groups(order, keys[order], max_bucket)
        want = _pairs_in_groups_reference(order, keys[order], max_bucket)
        assert got.tolist() == want.tolist()
        assert len(got) > 0
    one = np.array([7], dtype=np.uint64)
    assert _pairs_in_groups(np.zeros(1, dtype=np.int64), one, 3).shape == (0, 2)
