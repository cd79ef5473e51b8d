"""Ids and texts that are not plain Unicode: lone surrogates (JSON may escape
half of a cut emoji) and NUL characters, through the indexes, the command line
and the result files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import newsdedup
from newsdedup import Deduper, InputError

TEXT = ("The council approved the new budget on Tuesday after a long debate about funding "
        "for schools, roads and the public library system in the city centre.")
OTHER = ("Heavy rain flooded several streets in the northern district overnight, and emergency "
         "crews pumped water from basements until the early morning hours.")


def test_sqlite_ids_with_nul_are_looked_up_whole(tmp_path: Path) -> None:
    # SQLite's JSON functions end a string at an escaped NUL: "a\0b" was read
    # as "a", so removing it removed "a", and adding it after "a" was refused.
    with Deduper.open(str(tmp_path / "nul.db")) as d:
        d.add({"id": "a\x00b", "text": TEXT})
        d.add({"id": "a", "text": OTHER})
        assert d.remove("a\x00b")
        assert d.query({"id": "q", "text": TEXT}) == []
        assert [m.a for m in d.query({"id": "q", "text": OTHER})] == ["a"]
    with Deduper.open(str(tmp_path / "nul2.db")) as d:
        d.add({"id": "a", "text": OTHER})
        d.add({"id": "a\x00b", "text": TEXT})  # not a repeated id
        assert {m.b for m in d.query({"id": "q", "text": TEXT})} == {"q"}


def test_a_lone_surrogate_id_is_a_clear_error_for_sqlite(tmp_path: Path) -> None:
    with Deduper.open(str(tmp_path / "s.db")) as d:
        with pytest.raises(InputError, match=r"lone surrogate.*SQLite"):
            d.add({"id": "s\ud83d", "text": TEXT})
        with pytest.raises(InputError, match=r"document 'ok': source .*lone surrogate"):
            d.add({"id": "ok", "text": TEXT, "source": "site\udc80"})
        d.add({"id": "ok", "text": TEXT})  # nothing of the failed adds was kept
        assert len(d.query({"id": "q", "text": TEXT})) == 1


def test_results_with_lone_surrogates_are_written_as_json_escapes(tmp_path: Path) -> None:
    result = newsdedup.cluster([{"id": "a\ud800", "text": TEXT}, {"id": "b", "text": TEXT}])
    path = tmp_path / "out.jsonl"
    result.to_jsonl(path)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} == {"a\ud800", "b"}


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "newsdedup.cli", *args],
                          capture_output=True, timeout=120, check=False)


def test_cli_writes_lone_surrogates_as_escapes_and_names_unstorable_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "c", "text": TEXT + " \ud83d"}) + "\n"
        + json.dumps({"id": "d\ud800", "text": OTHER}) + "\n",
        encoding="utf-8",
    )
    run = _cli("filter", "--index", str(tmp_path / "x.db"), str(path))
    assert run.returncode == 1
    first = json.loads(run.stdout.decode("utf-8").splitlines()[0])
    assert first["text"] == TEXT + " \ud83d"
    assert f"{path}:2: id 'd\\ud800' holds a lone surrogate" in run.stderr.decode()
    assert b"Traceback" not in run.stderr
    run = _cli("filter", "--on-error", "skip", str(path))
    assert run.returncode == 0
    lines = run.stdout.decode("utf-8").splitlines()
    assert json.loads(lines[1]) == {"id": "d\ud800", "text": OTHER}  # passed through
    for fmt in ("table", "json", "jsonl"):
        run = _cli("cluster", str(path), "--format", fmt)
        assert run.returncode == 0, run.stderr
        assert b"Traceback" not in run.stderr

