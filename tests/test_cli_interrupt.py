"""newsdedup filter stopped by Ctrl-C: a clean message, and what went into the
index without reaching the output is named."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from newsdedup import Deduper


def test_cli_filter_interrupted_says_so_and_names_what_was_not_written(tmp_path: Path) -> None:
    # Ctrl-C printed a KeyboardInterrupt traceback (through numba, a SystemError
    # chain); and a batch committed to the index but cut off while being written
    # went unreported.
    words = ["council", "budget", "school", "road", "library", "vote", "mayor", "tax",
             "plan", "city", "river", "bridge"]
    path = tmp_path / "in.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(6000):
            text = " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(40))
            fh.write(json.dumps({"id": f"d{i}", "text": f"Story {i}: {text}."}) + "\n")
    index = tmp_path / "x.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdedup.cli", "filter", "--batch", "64", "--index",
         str(index), str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    # read from the pipe itself: communicate() reads the pipe's descriptor, not
    # what a file object's buffer already holds (iterating over proc.stdout
    # buffered lines that were then counted as never written)
    got = b""
    while got.count(b"\n") < 10:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        got += chunk
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    written = (got + rest).count(b"\n")
    text = err.decode()
    assert proc.returncode == 130, text
    assert "newsdedup: interrupted" in text and "Traceback" not in text
    with Deduper.open(str(index)) as d:
        indexed = len(d._streamer().store)
    assert indexed >= written
    if indexed > written:
        assert "went into the index but not to the output" in text


def test_cli_filter_names_a_batch_committed_just_before_an_interrupt(
    tmp_path: Path, monkeypatch: Any, capsys: Any,
) -> None:
    # Ctrl-C lands as the batch's transaction returns (a commit is where the time
    # goes): the batch is in the index, none of it was written, and the report
    # must say so (it said nothing: the run had not yet noted the batch)
    from newsdedup import cli, stream

    path = tmp_path / "in.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(10):
            fh.write(json.dumps({"id": f"d{i}", "text": f"Story {i} about the city budget "
                                 f"vote number {i} and the council."}) + "\n")
    real = stream.Stream.add_articles
    calls: list[int] = []

    def add_then_interrupt(self: Any, articles: Any, originals: Any) -> Any:
        out = real(self, articles, originals)
        calls.append(len(articles))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(stream.Stream, "add_articles", add_then_interrupt)
    index = tmp_path / "x.db"
    out = io.StringIO()
    code = cli.main(["filter", "--batch", "4", "--index", str(index), str(path)], stdout=out)
    err = capsys.readouterr().err
    assert code == 130 and calls == [4, 4]
    assert len(out.getvalue().splitlines()) == 4  # the first batch only
    assert (f"4 documents ({path}:5 to {path}:8) went into the index but not to the "
            "output") in err
    with Deduper.open(str(index)) as d:
        assert len(d._streamer().store) == 8
