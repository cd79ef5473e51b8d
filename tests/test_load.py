import builtins
import gzip
import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import newsdedup
from newsdedup import Article, InputError, SkippedInputWarning
from newsdedup.load import iter_articles, load, looks_like_path

from .conftest import SEED_001


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_txt_first_nonempty_line_is_title(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "\n\n  Headline here \nBody line one.\n\nBody two.\n")
    (art,) = list(iter_articles(str(p)))
    assert art.id == str(p)
    assert art.title == "Headline here"
    assert art.text == "Body line one.\n\nBody two."


def test_directory_recursive_ids_are_joined_paths(tmp_path: Path) -> None:
    write(tmp_path / "b" / "x.txt", "T\nbody")
    write(tmp_path / "a.txt", "T\nbody")
    write(tmp_path / "b" / "c" / "y.txt", "T\nbody")
    write(tmp_path / ".hidden.txt", "T\nbody")
    ids = [a.id for a in iter_articles(str(tmp_path))]
    assert ids == [
        os.path.join(str(tmp_path), "a.txt"),
        os.path.join(str(tmp_path), "b", "c", "y.txt"),
        os.path.join(str(tmp_path), "b", "x.txt"),
    ]


def test_directory_reports_unsupported_files_as_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "T\nbody")
    write(tmp_path / "notes.md", "# notes")
    arts, skipped = load(str(tmp_path))
    assert [a.id for a in arts] == [str(tmp_path / "a.txt")]
    assert len(skipped) == 1 and skipped[0].source.endswith("notes.md")
    assert "unsupported file type" in skipped[0].reason


def test_glob_pattern(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "T\nbody")
    write(tmp_path / "b.txt", "T\nbody")
    write(tmp_path / "c.jsonl", json.dumps({"id": "r1", "text": "x"}) + "\n")
    ids = [a.id for a in iter_articles(str(tmp_path / "*.txt"))]
    assert ids == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]


def test_jsonl_and_gz_fields(tmp_path: Path) -> None:
    recs = [
        {"id": "a", "text": "Body A", "title": "Title A", "source": "site.com",
         "published": "2024-05-01T10:00:00Z", "url": "https://site.com/a"},
        {"id": 7, "text": "Body B"},
    ]
    data = "\n".join(json.dumps(r) for r in recs) + "\n\n"
    p1 = write(tmp_path / "x.jsonl", data)
    p2 = tmp_path / "y.jsonl.gz"
    p2.write_bytes(gzip.compress(data.replace('"a"', '"a2"').replace("7", "8").encode()))
    arts = list(iter_articles([str(p1), str(p2)]))
    assert [a.id for a in arts] == ["a", "7", "a2", "8"]
    a = arts[0]
    assert (a.title, a.source, a.url) == ("Title A", "site.com", "https://site.com/a")
    assert a.published == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert a.full_text == "Title A\nBody A"


def test_python_iterables() -> None:
    arts = list(iter_articles(["First text here.", "Second text here."]))
    assert [a.id for a in arts] == ["0", "1"]
    arts = list(iter_articles([{"id": "d1", "text": "t"}, {"id": "d2", "text": "u"}]))
    assert [a.id for a in arts] == ["d1", "d2"]
    art = Article(id="z", text="body")
    assert list(iter_articles([art])) == [art]
    assert [a.id for a in iter_articles(iter(["a text", "another text"]))] == ["0", "1"]


def test_list_of_existing_paths_is_paths() -> None:
    (art,) = list(iter_articles([str(SEED_001)]))
    assert art.id == str(SEED_001)
    assert art.title and art.title.startswith("Panjshir opposition")


def test_looks_like_path() -> None:
    assert looks_like_path("data/*.jsonl")
    assert looks_like_path("missing.txt")
    assert not looks_like_path("The Taliban declared on Monday.")
    assert not looks_like_path("two\nlines.txt")


# --- bad input -------------------------------------------------------------


def test_missing_path_names_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(InputError, match=r"nope\.txt: no such file or directory"):
        newsdedup.cluster(missing)
    with pytest.raises(InputError, match="no such file"):
        newsdedup.cluster([missing])


def test_glob_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="glob pattern matches no file"):
        list(iter_articles(str(tmp_path / "*.txt")))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "locked.txt", "T\nbody")
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(file) == str(p):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    with pytest.raises(InputError, match=r"locked\.txt: permission denied"):
        list(iter_articles(str(p)))


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "blob.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    with pytest.raises(InputError, match=r"blob\.txt: binary file"):
        list(iter_articles(str(p)))


def test_jsonl_line_separators_inside_strings_are_text(tmp_path: Path) -> None:
    # U+2028, U+2029 and U+0085 may stand unescaped in a JSON string
    # (json.dumps(..., ensure_ascii=False) writes them so): one record each,
    # the characters kept. Records end at "\n", "\r\n" or "\r".
    body = "Kabul\u2028Panjshir valley\u2029fighting\x85resumes"
    recs = [{"id": "a", "text": body}, {"id": "b", "text": "Second."},
            {"id": "c", "text": "Third."}, {"id": "d", "text": "Fourth."}]
    lines = [json.dumps(r, ensure_ascii=False) for r in recs]
    data = "\ufeff" + lines[0] + "\n" + lines[1] + "\r\n" + lines[2] + "\r" + lines[3] + "\n"
    p1 = tmp_path / "sep.jsonl"
    p1.write_bytes(data.encode("utf-8"))
    p2 = tmp_path / "sep.jsonl.gz"
    p2.write_bytes(gzip.compress(data.encode("utf-8")))
    for path in (p1, p2):
        arts = list(iter_articles(str(path)))
        assert [a.id for a in arts] == ["a", "b", "c", "d"]
        assert arts[0].text == body
    # line numbers still count the records' lines
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes((lines[0] + "\r\n{oops}\n").encode("utf-8"))
    with pytest.raises(InputError, match=r"bad\.jsonl:2: not valid JSON"):
        list(iter_articles(str(bad)))


def test_invalid_utf8_names_line_and_byte(tmp_path: Path) -> None:
    p = tmp_path / "latin.txt"
    p.write_bytes(b"Title\nline two\nprice \xa3 5\n")
    with pytest.raises(InputError, match=r"latin\.txt:3: invalid UTF-8 at byte 21"):
        list(iter_articles(str(p)))


def test_jsonl_bad_json_and_missing_text(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "text": "ok"}\n{not json}\n{"id": "c"}\n')
    with pytest.raises(InputError, match=r"r\.jsonl:2: not valid JSON"):
        list(iter_articles(str(p)))
    p2 = write(tmp_path / "s.jsonl", '{"id": "a", "text": "ok"}\n{"id": "c"}\n')
    with pytest.raises(InputError, match=r"s\.jsonl:2: record has no 'text' field"):
        list(iter_articles(str(p2)))
    p3 = write(tmp_path / "t.jsonl", '{"id": "a", "text": 5}\n')
    with pytest.raises(InputError, match=r"t\.jsonl:1: field 'text' must be a string"):
        list(iter_articles(str(p3)))


def test_jsonl_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    # empty and white-space-only lines hold no record, but count as lines
    p = write(tmp_path / "b.jsonl",
              '{"text": "one"}\n\n \t \u00a0\n{"text": "two"}\n   \n{"text": "three"}\n')
    assert [a.id for a in iter_articles(str(p))] == [f"{p}:1", f"{p}:4", f"{p}:6"]


def test_bad_published(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "text": "ok", "published": "yesterday"}\n')
    with pytest.raises(InputError, match="not an ISO 8601 date"):
        list(iter_articles(str(p)))


def test_duplicate_ids(tmp_path: Path) -> None:
    p = write(tmp_path / "r.jsonl", '{"id": "a", "text": "one"}\n\n{"id": "a", "text": "two"}\n')
    # the error names where the repeated id is (file and line, or the record)
    with pytest.raises(InputError, match=r"r\.jsonl:3: duplicate document id 'a'"):
        list(iter_articles(str(p)))
    with pytest.raises(InputError, match=r"<records>:3: duplicate document id '7'"):
        list(iter_articles([{"id": 7, "text": "x"}, {"id": 8, "text": "y"},
                            {"id": "7", "text": "z"}]))
    t1, t2 = write(tmp_path / "d" / "one.txt", "T\nbody"), write(tmp_path / "e" / "one.txt", "U\nb")
    arts = list(iter_articles([str(t1), str(t2)]))  # file ids are their paths: no repeat
    assert len(arts) == 2


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError, match="got bytes"):
        newsdedup.cluster(b"some bytes")
    with pytest.raises(TypeError, match="got int"):
        newsdedup.cluster(42)
    with pytest.raises(TypeError, match="item 1 of the inputs is a float"):
        newsdedup.cluster(["a text", 3.5])
    with pytest.raises(TypeError, match="single dict"):
        newsdedup.cluster({"id": "a", "text": "x"})


def test_skip_mode_warns_and_records(tmp_path: Path) -> None:
    p = write(
        tmp_path / "r.jsonl",
        '{"id": "a", "text": "one two three four five six"}\n{broken\n'
        '{"id": "a", "text": "dup"}\n{"id": "b"}\n',
    )
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\x00\x01\x02")
    with pytest.warns(SkippedInputWarning):
        result = newsdedup.cluster([str(p), str(bad), str(tmp_path / "gone.txt")], errors="skip")
    reasons = sorted((s.source.rsplit("/", 1)[-1], s.line, s.reason) for s in result.skipped)
    assert [r[0] for r in reasons] == ["bin.txt", "gone.txt", "r.jsonl", "r.jsonl", "r.jsonl"]
    assert any("not valid JSON" in r[2] and r[1] == 2 for r in reasons)
    assert any("no 'text'" in r[2] and r[1] == 4 for r in reasons)
    assert any("duplicate document id" in r[2] and r[1] == 3 for r in reasons)
    assert [c.members for c in result.clusters] == [("a",)]


def test_date_formats_and_date_field_fallback(tmp_path: Path) -> None:
    recs = [
        {"id": "r", "text": "t", "date": "26-FEB-1987 15:01:01.79"},
        {"id": "s", "text": "t", "published": "Tue, 01 Mar 2022 10:00:00 GMT"},
        {"id": "u", "text": "t", "date": "sometime last week"},  # not ours: ignored
        {"id": "v", "text": "t", "published": "2024-05-01", "date": "26-FEB-1987"},
    ]
    p = write(tmp_path / "d.jsonl", "\n".join(json.dumps(r) for r in recs) + "\n")
    got = {a.id: a.published for a in iter_articles(str(p))}
    assert got["r"] == datetime(1987, 2, 26, 15, 1, 1, 790000)
    assert got["s"] == datetime(2022, 3, 1, 10, tzinfo=timezone.utc)
    assert got["u"] is None
    assert got["v"] == datetime(2024, 5, 1)


def test_date_with_a_huge_year_is_not_a_date(tmp_path: Path) -> None:
    # RFC 2822 parsing of a year too large for a C long raised OverflowError.
    huge = "1 Jan 10000000000000000000000 10:00"
    p = write(tmp_path / "d.jsonl", json.dumps({"id": "a", "text": "t", "date": huge}) + "\n")
    (art,) = list(iter_articles(str(p)))
    assert art.published is None  # `date` is ignored when it is not a date
    p2 = write(tmp_path / "p.jsonl", json.dumps({"id": "a", "text": "t", "published": huge}) + "\n")
    with pytest.raises(InputError, match=r"p\.jsonl:1: field 'published' is not an ISO 8601 date"):
        list(iter_articles(str(p2)))
    with pytest.raises(InputError, match="field 'published'"):
        newsdedup.Deduper().add({"id": "a", "text": "t", "published": huge})


def _unreadable_dir(monkeypatch: pytest.MonkeyPatch, bad: Path) -> None:
    """Make listing ``bad`` fail as it does without read permission (permissions
    are not enforced for root, so os.scandir is patched)."""
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if os.fspath(path) == str(bad):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_subdirectory_is_an_error_not_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.txt", "T\nbody")
    write(tmp_path / "locked" / "b.txt", "T\nbody")
    write(tmp_path / "z.txt", "T\nbody")
    _unreadable_dir(monkeypatch, tmp_path / "locked")
    with pytest.raises(InputError, match=r"locked: permission denied: the directory cannot"):
        list(iter_articles(str(tmp_path)))
    arts, skipped = load(str(tmp_path), errors="skip")
    assert [a.id for a in arts] == [str(tmp_path / "a.txt"), str(tmp_path / "z.txt")]
    assert [(s.source, s.reason) for s in skipped] == [
        (str(tmp_path / "locked"), "permission denied: the directory cannot be read")
    ]


def _without_hanging(fn: Any, fifo: Path) -> Any:
    """fn() in a thread; fail (after unblocking it) if it waits on ``fifo``."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as err:  # re-raised below
            out["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked open() returns
        worker.join(20)
        pytest.fail(f"reading the input waited for a writer of the FIFO {fifo}")
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_not_opened(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "T\nbody")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # Found in a directory: skipped and reported (as unsupported files are).
    arts, skipped = _without_hanging(lambda: load(str(tmp_path)), fifo)
    assert [a.id for a in arts] == [str(tmp_path / "a.txt")]
    assert [(s.source, s.reason) for s in skipped] == [
        (str(fifo), "not a regular file (a named pipe)")
    ]
    with pytest.warns(SkippedInputWarning, match="pipe.txt: not a regular file"):
        result = _without_hanging(lambda: newsdedup.cluster(str(tmp_path)), fifo)
    assert [c.members for c in result.clusters] == [(str(tmp_path / "a.txt"),)]
    # Named explicitly: an error (a reported skip under errors="skip").
    with pytest.raises(InputError, match=r"pipe\.txt: not a regular file \(a named pipe\)"):
        _without_hanging(lambda: list(iter_articles(str(fifo))), fifo)
    arts, skipped = _without_hanging(lambda: load([str(fifo)], errors="skip"), fifo)
    assert arts == [] and [s.source for s in skipped] == [str(fifo)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": 5}, r"Article 5: field 'id' must be a str, got int"),
        ({"text": None}, r"Article 'a': field 'text' must be a str, got NoneType"),
        ({"published": "2021-09-06"},
         r"Article 'a': field 'published' must be a datetime or None .*got str '2021-09-06'"),
        ({"source": 5}, r"Article 'a': field 'source' must be a str or None, got int"),
        ({"title": b"T"}, r"Article 'a': field 'title' must be a str or None, got bytes"),
        ({"url": 1.5}, r"Article 'a': field 'url' must be a str or None, got float"),
    ],
)
def test_article_fields_are_type_checked(fields: dict[str, Any], message: str) -> None:
    # Articles given to cluster() or Deduper.add() were used as they came: a wrong
    # type failed deep inside a stage (TypeError, AttributeError 'tzinfo', ...).
    with pytest.raises(InputError, match=message):
        newsdedup.cluster([Article(**{"id": "a", "text": "one two three four", **fields})])
    with pytest.raises(InputError, match=message):
        newsdedup.Deduper().add(Article(**{"id": "a", "text": "one two three four", **fields}))


def test_well_typed_articles_are_accepted() -> None:
    art = Article(id="a", text="one two three four five six", title=None, source="s",
                  published=datetime(2021, 9, 6, tzinfo=timezone.utc), url=None)
    assert [c.members for c in newsdedup.cluster([art]).clusters] == [("a",)]
    assert newsdedup.Deduper().add(art) == []


def test_skip_warnings_point_at_the_callers_line() -> None:
    # (stacklevel=4 pointed into newsdedup/load.py: filters by module or line
    # could not match the user's code)
    with pytest.warns(SkippedInputWarning) as caught:
        newsdedup.cluster([{"id": "a", "text": "x"}, {"id": "b"}], errors="skip")
    assert {w.filename for w in caught} == {__file__}
