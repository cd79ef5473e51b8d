import dataclasses

import pytest

import newsdedup
from newsdedup import Config, ConfigError, Deduper
from newsdedup.config import _LIMITS


def _bad_values(kind: str, low: float | None, high: float | None) -> list[object]:
    """Invalid values for a parameter, derived from its declared limits."""
    out: list[object] = []
    if kind in ("float", "int", "int|None"):
        if low is not None:
            out.append(low - 1)
        if high is not None:
            out.append(high + 1)
        out += ["3", [1]]
        if kind == "float":
            out += [None, float("nan")]
        else:
            out += [1.5] + ([None, True] if kind == "int" else [])
    elif kind == "bool":
        out += [1, "yes", None]
    elif kind == "choice":
        out += ["nope", 3, None]
    elif kind == "timedelta|None":
        out += ["3d", 5, __import__("datetime").timedelta(0)]
    else:  # a kind this test does not know: make the test fail loudly
        raise AssertionError(f"unknown parameter kind {kind!r}")
    return out


def _cases():
    for name, (kind, low, high, _choices) in _LIMITS.items():
        for value in _bad_values(kind, low, high):
            yield name, value


@pytest.mark.parametrize(("name", "value"), list(_cases()))
def test_every_parameter_rejects_invalid_values(name: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        Config(**{name: value})
    msg = str(info.value)
    assert f"'{name}' parameter of Config" in msg
    assert f"Got {value!r} instead" in msg
    assert "must be" in msg


def test_message_names_range() -> None:
    with pytest.raises(ConfigError, match=r"must be a float in the range \[0.0, 1.0\]. Got 1.5"):
        Config(threshold=1.5)


def test_config_is_frozen() -> None:
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.threshold = 0.9  # type: ignore[misc]


def test_bands_and_rows_together_and_within_num_perm() -> None:
    with pytest.raises(ConfigError, match="given together"):
        Config(bands=4)
    with pytest.raises(ConfigError, match="at most num_perm"):
        Config(bands=20, rows=10, num_perm=128)
    assert Config(bands=16, rows=8).bands == 16


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown option.*'treshold'"):
        Deduper(treshold=0.5)


def test_unreachable_recall_is_reported() -> None:
    with pytest.raises(ConfigError, match="cannot reach recall_at_threshold"):
        Deduper(threshold=0.05, num_perm=16)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Config(0.5)  # type: ignore[misc]


def test_too_few_permutations_are_rejected_when_the_config_is_made() -> None:
    rewrite = (
        "The 'rewrite_lsh_threshold' parameter of Config (0.25) cannot reach "
        "recall_at_threshold=0.95 with num_perm=7: the best banding (7 bands x 1 row) gives "
        "0.8665. Raise num_perm to at least 11, raise rewrite_lsh_threshold, or lower "
        "recall_at_threshold."
    )
    for make in (lambda: Config(num_perm=7), lambda: Deduper(num_perm=7),
                 lambda: Deduper(num_perm=7, rewrite=False),
                 lambda: newsdedup.cluster(["one two three four five six"] * 3, num_perm=7)):
        with pytest.raises(ConfigError) as info:
            make()
        assert str(info.value) == rewrite
    with pytest.raises(ConfigError, match=r"^The 'threshold' parameter of Config \(0.5\) cannot "
                       r"reach recall_at_threshold=0.95 with num_perm=4: .* gives 0.9375. Raise "
                       "num_perm to at least 5, raise threshold, or lower"):
        Config(num_perm=4)
    with pytest.raises(ConfigError, match=r"Even num_perm=8192 \(the most allowed\) is not "
                       "enough: raise threshold"):
        Config(threshold=0.0)
    d = Deduper(num_perm=11)  # the fewest that are enough at the defaults
    doc = {"id": "a", "text": "one two three four five six seven eight"}
    assert d.add(doc) == [] and d.add(dict(doc, id="b"))[0].relation == "exact"


def test_explicit_bands_and_rows_set_the_copy_banding_only() -> None:
    d = Deduper(num_perm=7, bands=7, rows=1, rewrite_lsh_threshold=0.4)
    assert (d.lsh.bands, d.lsh.rows) == (7, 1)
    doc = {"id": "a", "text": "one two three four five six seven eight"}
    assert d.add(doc) == [] and d.add(dict(doc, id="b"))[0].relation == "exact"
    assert Config(threshold=0.0, bands=32, rows=4).threshold == 0.0
    with pytest.raises(ConfigError, match=r"'rewrite_lsh_threshold' .* with num_perm=7 \(the "
                       r"rewrite family's banding; bands and rows set the copy family's only\)"):
        Config(num_perm=7, bands=7, rows=1)
