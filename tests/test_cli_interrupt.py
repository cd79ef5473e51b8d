"""newsdedup filter stopped by Ctrl-C: a clean message, and what went into the
index without reaching the output is named."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

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
    written = 0
    for _line in proc.stdout:
        written += 1
        if written == 10:
            proc.send_signal(signal.SIGINT)
            break
    rest, err = proc.communicate(timeout=120)
    written += rest.count(b"\n")
    text = err.decode()
    assert proc.returncode == 130, text
    assert "newsdedup: interrupted" in text and "Traceback" not in text
    with Deduper.open(str(index)) as d:
        indexed = len(d._streamer().store)
    assert indexed >= written
    if indexed > written:
        assert "went into the index but not to the output" in text
