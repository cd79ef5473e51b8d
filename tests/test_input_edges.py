"""Input edge cases of the streaming Deduper that fit no other test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsdedup import Deduper, InputError

TEXT = ("The central bank raised its main interest rate by a quarter point on Wednesday, "
        "citing persistent inflation in services and a tight labour market.")


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_remove_takes_an_integer_id_as_add_does(tmp_path: Path, where: str) -> None:
    # add() makes a record's id 7 the id "7"; remove(7) looked up the int 7.
    d = Deduper() if where == "memory" else Deduper.open(str(tmp_path / "index.db"))
    try:
        d.add({"id": 7, "text": TEXT})
        assert d.remove(7) is True
        assert d.query({"id": "q", "text": TEXT}) == []
        assert d.remove(7) is False and d.remove("7") is False
        d.add({"id": 8, "text": TEXT})
        assert d.remove("8") is True
        with pytest.raises(InputError, match="document id must be a string or an integer, "
                                             "got NoneType"):
            d.remove(None)  # type: ignore[arg-type]
        with pytest.raises(InputError, match="got bool"):
            d.remove(True)
    finally:
        if where == "sqlite":
            d.close()


def test_stream_record_errors_name_the_position_in_the_call() -> None:
    import newsdedup

    d = newsdedup.Deduper()
    with pytest.raises(newsdedup.InputError, match=r"<records>:2: record has no 'text' field"):
        d.add_many([{"id": "a", "text": "x y z"}, {"id": "b"}])
    with pytest.raises(newsdedup.InputError, match=r"<records>:3: record has no 'id' field"):
        d.add_many([{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"text": "no id"}])
