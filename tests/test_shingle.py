import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.shingle import (
    Shingler,
    shingle_hash,
    shingle_set_reference,
    shingle_strings,
    tokenize,
)

VOCAB = ["the", "taliban", "panjshir", "valley", "200", "ère", "a", "b"]
words = st.lists(st.sampled_from(VOCAB), max_size=60)


@settings(max_examples=200, deadline=None)
@given(words, st.integers(min_value=1, max_value=7))
def test_fast_shingles_equal_reference(tokens: list[str], n: int) -> None:
    fast = Shingler(n).shingles(tokens)
    assert fast.dtype == np.uint32
    assert list(fast) == sorted(set(fast.tolist()))  # sorted, unique
    assert set(fast.tolist()) == shingle_set_reference(tokens, n)


def test_too_few_tokens_give_no_shingles() -> None:
    assert len(Shingler(5).shingles(["a", "b", "c", "d"])) == 0
    assert len(Shingler(5).shingles(["a", "b", "c", "d", "e"])) == 1


def test_shingle_hash_accepts_str_bytes_and_tokens() -> None:
    toks = ["a", "quick", "brown", "fox", "jumps"]
    h = shingle_hash(toks)
    assert h == shingle_hash("a quick brown fox jumps") == shingle_hash(b"a quick brown fox jumps")
    assert 0 <= h < 2**32
    assert h != shingle_hash(list(reversed(toks)))  # order matters


def test_tokenize_words_only() -> None:
    assert tokenize("it's 200,000 people - in panjshir!") == [
        "it", "s", "200", "000", "people", "in", "panjshir"
    ]
    assert shingle_strings(["a", "b", "c"], 2) == ["a b", "b c"]


def test_cache_overflow_keeps_results_correct() -> None:
    sh = Shingler(2, max_cache=3)
    toks = [f"w{i}" for i in range(10)]
    assert set(sh.shingles(toks).tolist()) == shingle_set_reference(toks, 2)
    assert set(sh.shingles(toks[::-1]).tolist()) == shingle_set_reference(toks[::-1], 2)
