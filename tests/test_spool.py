"""The spool of cleaned texts (worker mode) is removed however a run ends: on
return, on an error or interrupt at any stage, and, for a run that was killed,
by the next run (its lock is held by no process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import newsdedup
from newsdedup import chunks, forked, pipeline

needs_fork = pytest.mark.skipif(
    not forked.fork_available() or not hasattr(os, "getuid"),
    reason="needs fork and POSIX file locks")


def _records(n: int) -> list[dict[str, str]]:
    return [{"id": f"d{i:03d}", "text": f"Story {i} of the harbour: ships came in on day {i} "
             f"and left on day {i + 1}, said the harbour master of town {i % 7}."}
            for i in range(n)]


@pytest.fixture()
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(chunks, "CHUNK_DOCS", 16)
    monkeypatch.setenv(chunks.WORKERS_ENV, "2")
    return tmp_path


@needs_fork
@pytest.mark.parametrize("stage", ["candidate_pairs", "exact_groups", "link"])
def test_an_interrupt_after_preparing_removes_the_spool(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    seen: list[list[str]] = []

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        seen.append([p.name for p in in_tmp.iterdir()])
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, stage, interrupted)
    with pytest.raises(KeyboardInterrupt):
        newsdedup.cluster(_records(90), threshold=0.6, progress=False)
    assert seen and seen[0] and seen[0][0].startswith(chunks.SPOOL_PREFIX)  # there was one
    assert list(in_tmp.iterdir()) == []


@needs_fork
def test_a_spool_in_use_is_kept_and_an_abandoned_one_removed(in_tmp: Path) -> None:
    path, lock = chunks.make_spool()
    assert lock is not None and Path(path, "lock").exists()
    other = in_tmp / f"{chunks.SPOOL_PREFIX}being-made"  # no lock file yet
    other.mkdir()
    (other / "lock.new").touch()
    assert chunks.remove_stale_spools() == []
    assert Path(path).is_dir() and other.is_dir()
    # the lock given up without removing the directory (as a killed run does)
    os.close(lock)
    assert chunks.remove_stale_spools() == [path]
    assert not Path(path).exists() and other.is_dir()
    # a new spool removes the abandoned ones first
    again, lock2 = chunks.make_spool()
    os.close(lock2)  # type: ignore[arg-type]
    kept, lock3 = chunks.make_spool()
    assert not Path(again).exists() and Path(kept).is_dir()
    chunks.remove_spool(kept, lock3)
    assert not Path(kept).exists()


_KILLED_RUN = """
import os, sys, tempfile, time
import newsdedup
from newsdedup import chunks, pipeline
tempfile.tempdir = sys.argv[1]
chunks.CHUNK_DOCS = 16
os.environ[chunks.WORKERS_ENV] = "2"

def forever(*args, **kwargs):
    open(os.path.join(sys.argv[2], "linking"), "w").close()
    time.sleep(600)

pipeline.link = forever
recs = [{"id": f"d{i}", "text": f"Story {i}: ships came in on day {i} and left the day after."}
        for i in range(90)]
newsdedup.cluster(recs, progress=False)
"""


@needs_fork
def test_the_spool_of_a_killed_run_is_removed_by_the_next(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    marks = tmp_path_factory.mktemp("marks")
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_KILLED_RUN), str(in_tmp),
                             str(marks)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (marks / "linking").exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the run did not reach linking"
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1].decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    left = [p for p in in_tmp.iterdir() if p.name.startswith(chunks.SPOOL_PREFIX)]
    assert len(left) == 1 and (left[0] / "lock").exists()
    assert any(p.name.startswith("chunk-") for p in left[0].iterdir())  # the texts
    got = newsdedup.cluster(_records(90), threshold=0.6, progress=False)
    assert len(got.documents) == 90
    assert list(in_tmp.iterdir()) == []


def test_a_spool_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from newsdedup.cli import main
    from newsdedup.config import Config

    arts = list(newsdedup.load.iter_articles(_records(5)))
    recs = [(a.id, a.title, a.text, None) for a in arts]
    where = str(tmp_path / "gone" / "chunk-000000.txt")  # (as a full disk would refuse it)
    with pytest.raises(OSError, match=r"cannot write the cleaned texts to .*gone.*set TMPDIR"):
        chunks.prepare_chunk(recs, Config(), where)

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "cannot write the cleaned texts to '/tmp/x' (No space left on "
                      "device): ... set TMPDIR to a disk with room")

    monkeypatch.setattr(newsdedup.Deduper, "cluster", full)
    assert main(["cluster", "--no-progress", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsdedup: error: [Errno 28] cannot write") and "Traceback" not in err
