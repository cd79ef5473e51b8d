"""``newsdedup filter --workers N`` and ``Deduper(workers=N).add_many`` extract
the HTML pages of their records in the worker processes, and give exactly what
one process gives (output, warnings, counts, decisions)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from newsdedup import load as L
from newsdedup.cli import main

from .test_html import HUGE_DEPTH, PARAS, _nested, _page, needs_trafilatura

pytestmark = [
    needs_trafilatura,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is not available"),
]


def _lines() -> list[str | bytes]:
    """Pages, texts and bad lines of every kind, pages on both sides of each."""
    out: list[str | bytes] = []
    for k in range(14):
        paras = PARAS[k % 4 :] + [f"Paragraph {k}, which only record {k} of the stream has."]
        out.append(json.dumps({"id": f"p{k}", "html": _page(paras), "url": f"https://x/{k}",
                               "keep": k}))
    out.insert(3, "{not json")
    out.insert(5, json.dumps({"id": "deep", "html": _nested(HUGE_DEPTH + 5)}))
    out.insert(7, json.dumps({"id": "t1", "text": "Council approves the budget after a debate."}))
    out.insert(9, json.dumps({"id": "p2", "html": _page()}))  # an id taken before
    out.insert(11, b'{"id": "bad", "text": "caf\xe9"}')  # not UTF-8
    out.insert(12, json.dumps({"id": "h-type", "html": 5}))
    out.insert(13, "")
    return out


def _stdin(lines: list[str | bytes]) -> Any:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)

    class Stdin(io.TextIOWrapper):
        pass

    return Stdin(io.BytesIO(data), encoding="utf-8")


def _run(argv: list[str], lines: list[str | bytes], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    monkeypatch.setattr("sys.stdin", _stdin(lines))
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue().splitlines(), capsys.readouterr().err


def _record(line: str) -> dict[str, Any] | None:
    """An output line's record, None for a line passed through."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError:
        return None
    return rec if isinstance(rec, dict) and "cluster_id" in rec else None


@pytest.mark.parametrize("on_error", ["skip", "stop"])
@pytest.mark.parametrize("batch", [4, 64])
def test_filter_with_workers_extracts_pages_there_and_writes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    on_error: str, batch: int,
) -> None:
    lines = _lines()
    calls = tmp_path / "calls"
    real = L._extract

    def spy(html: str, url: str | None) -> Any:
        with open(calls, "a") as fh:  # (written by the workers too)
            fh.write(f"{os.getpid()}\n")
        return real(html, url)

    monkeypatch.setattr(L, "_extract", spy)
    got = []
    for workers in ("1", "2"):
        calls.write_text("")
        argv = ["filter", "--index", str(tmp_path / f"i{workers}.db"), "--batch", str(batch),
                "--workers", workers, "--on-error", on_error]
        got.append(_run(argv, lines, monkeypatch, capsys))
        pids = calls.read_text().split()
        if workers == "1":
            assert pids and set(pids) == {str(os.getpid())}
        elif batch == 64:  # one batch: every page went to the workers
            assert pids and str(os.getpid()) not in pids
        else:  # (a batch of four lines with one page extracts it here)
            assert 2 * pids.count(str(os.getpid())) < len(pids)
    assert got[1] == got[0]
    code, out, err = got[0]
    recs = [r for r in map(_record, out) if r is not None]
    if on_error == "skip":
        assert code == 0
        assert [r["id"] for r in recs][:4] == ["p0", "p1", "p2", "p3"]
        assert {r["keep"] for r in recs if "keep" in r} == set(range(14))
        assert "read 20, kept 20" in err and "5 malformed passed through" in err
    else:
        assert code == 1 and "<stdin>:4: not valid JSON" in err
        assert [r["id"] for r in recs] == ["p0", "p1", "p2"] and "read 3, kept 3" in err


def _dies(html: str, url: str | None) -> Any:
    os._exit(9)  # (a worker killed: out of memory, say)


def test_filter_with_workers_extracts_here_when_a_worker_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    lines: list[str | bytes] = [json.dumps({"id": f"p{k}", "html": _page(PARAS[k % 4 :])})
                                for k in range(8)]
    one = _run(["filter", "--workers", "1"], lines, monkeypatch, capsys)
    monkeypatch.setattr(L, "extract_job", _dies)
    two = _run(["filter", "--workers", "2", "--batch", "5"], lines, monkeypatch, capsys)
    assert two == one and one[0] == 0 and len(one[1]) == len(lines)


def test_add_many_with_workers_extracts_pages_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newsdedup import Deduper, InputError

    calls = tmp_path / "calls"
    real = L._extract

    def spy(html: str, url: str | None) -> Any:
        with open(calls, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(html, url)

    monkeypatch.setattr(L, "_extract", spy)
    recs = [json.loads(x) for x in _lines() if isinstance(x, str) and x.startswith('{"id"')]
    good = list({r["id"]: r for r in reversed(recs) if r["id"] not in ("deep", "h-type")
                 }.values())[::-1]  # (the first p2 of two)
    bad = [{**r, "id": f"{r['id']}-again"} for r in good[:3]] + [
        next(r for r in recs if r["id"] == "deep")]
    got = []
    for workers in (1, 2):
        calls.write_text("")
        with Deduper(workers=workers) as d:
            decided = d.add_many(good)
            with pytest.raises(InputError, match="<records>:4: field 'html': HTML nested"):
                d.add_many(bad)
            got.append([(x.id, x.cluster_id, x.duplicate_of, x.relation, x.score)
                        for x in decided])
        pids = calls.read_text().split()
        assert pids and (str(os.getpid()) in pids) == (workers == 1)
    assert got[1] == got[0] and len(got[0]) == 15
