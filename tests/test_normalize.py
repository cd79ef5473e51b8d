from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.normalize import normalize


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


def test_folds_quotes_dashes_case_and_space() -> None:
    text = "\u201cHello\u201d \u2013 it\u2019s   TIME\n\tnow"
    assert normalize(text) == '"hello" - it\'s time now'


def test_nfkc_and_casefold() -> None:
    # Full-width letters, ligatures and sharp s fold to their plain forms.
    assert normalize("\uff2e\uff25\uff37\uff33 \ufb01nance Stra\u00dfe") == "news finance strasse"


def test_invisible_characters_removed() -> None:
    assert normalize("co\u00adop\u200ber\u200date") == "cooperate"


def test_empty_and_whitespace() -> None:
    assert normalize("") == ""
    assert normalize(" \n\t ") == ""


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_equals_full_normalisation(text: str) -> None:
    from newsdedup.normalize import _SPACE, _once

    slow = text
    for _ in range(8):
        prev, slow = slow, _SPACE.sub(" ", _once(slow)).strip()
        if slow == prev:
            break
    assert normalize(text) == slow
