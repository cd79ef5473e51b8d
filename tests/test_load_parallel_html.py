"""HTML pages extracted ahead by worker processes (``load._ParallelExtract``)
give what one process gives: the same articles, errors and skips, in order."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

import newsdedup
from newsdedup import load as L
from newsdedup.errors import InputError

from .test_html import HUGE_DEPTH, PARAS, _nested, _page, needs_trafilatura

pytestmark = needs_trafilatura


def _inputs(tmp: Path) -> list[str]:
    """Files of every kind, with bad inputs between good ones."""
    pages = tmp / "pages"
    pages.mkdir()
    for k in range(7):
        paras = PARAS[k % 3 :] + [f"Paragraph number {k} of page {k}, which only this page has."]
        (pages / f"p{k}.html").write_text(_page(paras), encoding="utf-8")
    (pages / "deep.html").write_text(_nested(300), encoding="utf-8")
    (pages / "too-deep.html").write_text(_nested(HUGE_DEPTH + 5), encoding="utf-8")
    (pages / "note.txt").write_text("A plain text note about the council budget.\n",
                                    encoding="utf-8")
    lines = [json.dumps({"id": f"r{k}", "html": _page(PARAS[k % 4 :])}) for k in range(6)]
    lines.insert(2, "{not json")
    lines.insert(4, json.dumps({"id": "r-deep", "html": _nested(HUGE_DEPTH + 5)}))
    lines.append(json.dumps({"id": "r-text", "text": "Council approves budget after a debate."}))
    lines.append(json.dumps({"id": "p-dup", "html": _page()}))
    lines.append(json.dumps({"id": "p-dup", "html": _page(PARAS[1:])}))
    (tmp / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(pages), str(tmp / "records.jsonl")]


def _dies(html: str, url: str | None) -> tuple[str, Any]:
    os._exit(9)  # (a worker killed: out of memory, say)


def _read(inputs: Any, errors: str) -> tuple[list[Any], list[Any], str | None]:
    skipped: list[Any] = []
    got: list[Any] = []
    error = None
    try:
        for a in L.iter_articles(inputs, errors=errors, on_skip=skipped.append):
            got.append(a)
    except InputError as err:
        error = str(err)
    return got, skipped, error


@pytest.mark.parametrize("errors", ["skip", "raise"])
def test_workers_read_what_one_process_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errors: str
) -> None:
    inputs = _inputs(tmp_path)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = _read(inputs, errors)
    submitted: list[str] = []
    import concurrent.futures as cf

    class Pool(cf.ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(cf, "ProcessPoolExecutor", Pool)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    two = _read(inputs, errors)
    assert two == one
    assert len(submitted) >= 2  # (the pages did go to the workers)
    articles, skipped, error = one
    if errors == "skip":  # what the inputs hold, read in order
        assert error is None
        assert [s.reason.split(":")[0] for s in skipped] == [
            "HTML nested more than 2,048 elements deep", "not valid JSON (Expecting property name "
            "enclosed in double quotes)", "field 'html'", "duplicate document id 'p-dup' (an "
            "earlier document has it)"]
        assert len(articles) == 7 + 1 + 1 + 6 + 1 + 1
        deep = next(a for a in articles if a.id.endswith("deep.html"))
        assert PARAS[0] in deep.text
    else:
        assert error is not None and "/too-deep.html: HTML nested" in error
        assert len(articles) == 7 + 2  # the files before it: seven pages, deep.html, note.txt


def test_cluster_of_html_with_workers_equals_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path)
    results = []
    for workers in ("1", "2"):
        monkeypatch.setenv("NEWSDEDUP_WORKERS", workers)
        with pytest.warns(newsdedup.SkippedInputWarning):
            res = newsdedup.cluster(inputs, errors="skip")
        results.append((sorted(res.documents.items()), res.pairs, res.skipped,
                        [c.members for c in res]))
    assert results[0] == results[1]


def test_a_page_not_the_one_found_ahead_is_extracted_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed between the two passes: the page the reading asks for is
    extracted in this process (and every later one), so the result is right."""
    inputs = _inputs(tmp_path)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = _read(inputs, "skip")
    real = L._ParallelExtract._second_pass

    def shifted(self: Any) -> Any:
        pages = real(self)
        first = next(pages)
        yield ("<html><body><p>another page</p></body></html>", first[1])
        yield from pages

    monkeypatch.setattr(L._ParallelExtract, "_second_pass", shifted)
    _two_read_as_one(inputs, one, monkeypatch)


def test_a_worker_killed_leaves_the_reading_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = _read(inputs, "skip")
    monkeypatch.setattr(L, "extract_job", _dies)
    _two_read_as_one(inputs, one, monkeypatch)


def _two_read_as_one(inputs: Any, one: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    assert _read(inputs, "skip") == one


def test_workers_stop_when_the_reading_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(tmp_path)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    reading = L.iter_articles(inputs, errors="skip")
    first = next(reading)
    assert first.text
    assert multiprocessing.active_children()  # the workers are reading ahead
    reading.close()
    assert not multiprocessing.active_children()


def test_texts_after_the_last_page_are_not_read_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass that looks ahead stops after EXTRACT_SCAN_LIMIT articles
    without a page: a file of texts with a page at its start is read once more
    only that far."""
    lines = [json.dumps({"id": "page", "html": _page()})]
    lines += [json.dumps({"id": f"t{k}", "text": f"Text number {k} of many."}) for k in range(500)]
    lines.append(json.dumps({"id": "late-page", "html": _page(PARAS[2:])}))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = _read(str(path), "raise")
    scanned = []
    real = L._iter_inputs

    def counting(*args: Any, **kwargs: Any) -> Any:
        for a in real(*args, **kwargs):
            if args[1] == "skip":  # (the pass that looks ahead)
                scanned.append(a.id)
            yield a

    monkeypatch.setattr(L, "_iter_inputs", counting)
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    assert _read(str(path), "raise") == one
    assert 1 + L.EXTRACT_SCAN_LIMIT <= len(scanned) <= 2 + L.EXTRACT_SCAN_LIMIT


def test_a_last_page_whose_record_is_refused_is_found_ahead_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record refused after its page was extracted (a bad ``source``), last
    in the input: its page is handed out ahead like the others."""
    lines = [json.dumps({"id": f"r{k}", "html": _page(PARAS[k:])}) for k in range(3)]
    lines.append(json.dumps({"id": "bad", "html": _page(), "source": 7}))
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "1")
    one = _read(str(path), "skip")
    assert [s.reason for s in one[1]] == ["field 'source' must be a string, got int"]
    inline: list[str] = []
    real = L._extract

    def noting(html: str, url: str | None) -> Any:
        inline.append(html)
        return real(html, url)

    monkeypatch.setattr(L, "_extract", noting)  # (in this process; the workers forked
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")  # from it run it too, unseen here)
    assert _read(str(path), "skip") == one
    assert inline == []  # every page came from the workers
