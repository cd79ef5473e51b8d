"""Bad input gets a clear newsdedup error naming the input, never a traceback
from deep inside a dependency."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

import newsdedup
from newsdedup import Deduper
from newsdedup.cli import main
from newsdedup.store import IndexClosedError, IndexConnectionError

from .test_store_sqlite import _after_close


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://host:notaport/0", "Port could not be cast to integer"),
        ("redis://127.0.0.1:99999/0", "Port out of range"),
        ("rediss://127.0.0.1:abc/0", "Port could not be cast to integer"),
        ("redis://[::1", "Invalid IPv6 URL"),
        ("redis://127.0.0.1:1/0?socket_timeout=abc", "Invalid value for 'socket_timeout'"),
        ("redis://127.0.0.1:1/0?nosuchoption=1", "unexpected keyword argument 'nosuchoption'"),
        # redis-py ignores a path that is not a number and uses database 0
        ("redis://127.0.0.1:1/abc", "the path must be a database number"),
        ("redis://127.0.0.1:1/1.5", "the path must be a database number"),
        ("redis://127.0.0.1:1/-1", "the path must be a database number"),
    ],
)
def test_bad_redis_url_names_the_url(url: str, problem: str) -> None:
    pytest.importorskip("redis")
    with pytest.raises(IndexConnectionError) as info:
        Deduper.open(url)
    assert str(info.value).startswith(f"not a valid Redis URL {url!r}: ")
    assert problem in str(info.value)


def test_bad_redis_url_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("redis")
    code = main(["filter", "--index", "redis://host:notaport/0", "unused.jsonl"],
                stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 1
    assert err == ("newsdedup: error: not a valid Redis URL 'redis://host:notaport/0': "
                   "Port could not be cast to integer value as 'notaport'\n")


def test_unreachable_redis_is_still_a_connection_error() -> None:
    pytest.importorskip("redis")
    with pytest.raises(IndexConnectionError, match="cannot reach Redis at redis://127.0.0.1:1/0"):
        Deduper.open("redis://127.0.0.1:1/0")


@pytest.mark.parametrize("opened", [False, True])
def test_a_closed_in_memory_index_raises_as_the_others_do(opened: bool) -> None:
    d = Deduper.open(":memory:") if opened else Deduper()
    d.add({"id": "a", "text": "the quick brown fox jumps over the lazy dog once more"})
    d.close()
    d.close()  # idempotent
    for name, call in _after_close(d).items():
        with pytest.raises(IndexClosedError, match="^the in-memory index is closed"):
            call()
        assert name


def test_choose_params_names_the_option_its_threshold_comes_from() -> None:
    from newsdedup.errors import ConfigError
    from newsdedup.index import choose_params

    with pytest.raises(ConfigError, match=r"'rewrite_lsh_threshold' parameter \(0.25\)"):
        choose_params(0.25, 7, 0.95, name="rewrite_lsh_threshold")


def test_a_closed_deduper_that_never_indexed_raises_too() -> None:
    d = newsdedup.Deduper()
    d.close()
    with pytest.raises(newsdedup.IndexClosedError, match="closed"):
        d.add({"id": "a", "text": "The council approved the budget on Tuesday."})
    assert len(d.cluster(["one text", "another text"]).clusters) == 2  # keeps no index
    d.close()  # idempotent


def test_a_locked_sqlite_index_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another writer holds the index's write lock longer than the timeout: one
    error line naming the file, not a traceback of sqlite3.OperationalError."""
    monkeypatch.setattr("newsdedup.store.SQLITE_TIMEOUT", 0.2)
    db = tmp_path / "index.db"
    text = "the quick brown fox jumps over the lazy dog near the river bank today"
    with Deduper.open(db) as d:
        d.add({"id": "a", "text": text})
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps({"id": "b", "text": text}) + "\n", encoding="utf-8")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        code = main(["filter", "--index", str(db), str(records)], stdout=io.StringIO())
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    # (the filter's summary line comes first)
    assert [line for line in err if "error" in line] == [
        f"newsdedup: error: cannot write to index {str(db)!r}: it was locked by another "
        "writer (another connection or process writing the file) for longer than the "
        "timeout (0.2 s); try again once that writer is done"
    ]
    assert "Traceback" not in "\n".join(err)


def test_deduper_arguments_and_empty_locations_are_named() -> None:
    from newsdedup import Config, IndexConnectionError

    with pytest.raises(TypeError, match=r"Deduper\.open\(location\)"):
        Deduper("index.db")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"unknown option\(s\) 'thresold'; valid options: .*"
                                        r"threshold"):
        Deduper(Config(), thresold=1)
    with pytest.raises(IndexConnectionError, match="location is empty"):
        Deduper.open("")


def test_record_html_field_of_the_wrong_type_is_named() -> None:
    with pytest.raises(newsdedup.InputError, match="field 'html' must be a string, got int"):
        newsdedup.cluster([{"id": "h", "html": 5}])
    # a null html (a JSON exporter's empty column) is no html: the record's text stands
    (art,) = newsdedup.load.load([{"id": "e", "text": "", "html": None}])[0]
    assert art.text == ""
    with pytest.raises(newsdedup.InputError, match="no 'text' field"):
        newsdedup.cluster([{"id": "n", "html": None}])


def test_singleton_only_html_table_says_how_many_are_not_shown() -> None:
    result = newsdedup.cluster([f"Text number {i} about nothing in particular {i * 3}."
                                for i in range(60)])
    assert not result.duplicates
    assert "... 10 more singletons" in result._repr_html_(max_rows=50)


def test_filter_writes_the_id_it_gave_a_record_without_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    text = "The council approved the new budget on Tuesday after a long debate about roads."
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"text": text}) + "\n"
                                                 + json.dumps({"text": text}) + "\n"))
    out = io.StringIO()
    assert main(["filter"], stdout=out) == 0
    first, second = (json.loads(x) for x in out.getvalue().splitlines())
    assert second["duplicate_of"] == first["id"] == "<stdin>:1"
    monkeypatch.setattr("sys.stdin", None)
    assert main(["filter"], stdout=io.StringIO()) == 1
    assert "standard input is closed" in capsys.readouterr().err


def test_strip_arguments_and_boilerplate_option_name_what_they_take() -> None:
    from newsdedup import Config, ConfigError, strip

    for kw, what in (({"model": "model.json"}, "model must be a BoilerplateModel"),
                     ({"title": 123}, "title must be a str or None"),
                     ({"source": 5}, "source must be a str or None")):
        with pytest.raises(TypeError, match=what):
            strip("Some text.", **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"or a BoilerplateModel \(BoilerplateModel\.load"):
        Config(boilerplate="model.json")


def test_no_progress_bar_by_default_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a pipeline's log got tqdm's carriage returns for every large input
    from newsdedup import pipeline

    docs = [f"Text number {i} about nothing much at all {i * 3}." for i in range(10)]
    old = pipeline.PROGRESS_MIN_DOCS
    try:
        pipeline.PROGRESS_MIN_DOCS = 1
        newsdedup.cluster(docs)
        assert capsys.readouterr().err == ""
    finally:
        pipeline.PROGRESS_MIN_DOCS = old


def test_a_reopened_index_names_the_option_behind_a_differing_banding(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from newsdedup import IncompatibleSignatureError

    path = str(tmp_path / "fp.db")
    Deduper.open(path).close()
    with pytest.raises(IncompatibleSignatureError,
                       match=r"bands: index has 42, this Deduper has 18 \(from threshold"):
        Deduper.open(path, threshold=0.8)
