"""newsdedup._arrays: unique_sorted is np.unique for the integer arrays it is used
on; Growing keeps what is appended."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup._arrays import unique_sorted


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=50))
def test_unique_sorted_equals_np_unique_int64(values: list[int]) -> None:
    a = np.array(values, dtype=np.int64)
    got = unique_sorted(a)
    assert got.dtype == a.dtype
    assert got.tolist() == np.unique(a).tolist()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32, np.int64, np.uint64])
@pytest.mark.parametrize("size", [0, 1, 2, 7, 1000, 100_000])
def test_unique_sorted_equals_np_unique(dtype: type, size: int) -> None:
    rng = np.random.default_rng(size)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, size=size, endpoint=True, dtype=dtype)
    a[: size // 3] = a[size // 3 : 2 * (size // 3)]  # repeats
    got = unique_sorted(a)
    want = np.unique(a)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert np.array_equal(unique_sorted(a.reshape(-1, 1)), want)  # flattened like np.unique
    assert a.size == size  # the input is left as it was (sorted copy)


def test_growing_keeps_every_value_appended() -> None:
    from newsdedup._arrays import Growing

    rnd = np.random.default_rng(1)
    grow = Growing(np.int64)
    want: list[int] = []
    for size in [0, 1, 15, 16, 17, 300, 0, 5000, 3]:
        values = rnd.integers(-(2**40), 2**40, size=size)
        grow.extend(values)
        want += values.tolist()
        assert len(grow) == len(want)
        assert grow.view.dtype == np.int64 and grow.view.tolist() == want
