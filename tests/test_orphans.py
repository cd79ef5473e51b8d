"""Worker processes end when the process that started them is killed.

Each script below starts one of the library's kinds of worker process with work
that never ends (the work function replaced by a long sleep), then waits; the
test kills the script with SIGKILL (as the out-of-memory killer or a notebook
kernel restart would) and checks that its workers exit instead of waiting for
work forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from newsdedup import forked

pytestmark = pytest.mark.skipif(
    not forked.fork_available() or not Path("/proc/self/stat").exists(),
    reason="needs fork and /proc (Linux)",
)

_PRELUDE = """
import os, sys, time
from newsdedup import forked
forked.PARENT_POLL_SECONDS = 0.1

def forever(*args, **kwargs):
    time.sleep(600)
"""

_SCRIPTS = {
    # judging and LSH bands: forked.fork_map
    "fork_map": """
forked.fork_map(lambda state, block: forever(), None, [1, 2], workers=2)
""",
    # preparation: chunks.prepare_stream's pool
    "prepare": """
from newsdedup import chunks
from newsdedup.config import Config
from newsdedup.types import Article
chunks.CHUNK_DOCS = 4
chunks.prepare_chunk = forever
arts = [Article(id=f"d{i}", text=f"story number {i} about the harbour and its ships")
        for i in range(40)]
chunks.prepare_stream(arts, Config(), workers=2)
""",
    # learning's line hashes read ahead: boilerplate.LineHashesAhead's children
    "learning": """
from newsdedup import boilerplate
from newsdedup.types import Article
boilerplate.LEARN_BLOCK_DOCS = 4
boilerplate._line_hashes = forever
arts = [Article(id=f"d{i}", text="a line\\nanother line", source="site") for i in range(8)]
ahead = boilerplate.LineHashesAhead(arts, workers=2)
ahead.step()
ahead.step()
time.sleep(600)
""",
    # HTML extraction ahead of the reading: load._ParallelExtract's pool
    "html": """
from newsdedup import load
load.extract_job = forever
folder = sys.argv[1]
for k in range(6):
    with open(os.path.join(folder, f"p{k}.html"), "w") as fh:
        fh.write(f"<html><body><p>Page {k} of the story.</p></body></html>")
list(load.iter_articles(folder))
""",
    # the stream's preparation workers: Deduper(workers > 1)
    "stream": """
from newsdedup import Deduper, stream
stream._worker_prepare = forever
with Deduper.open(os.path.join(sys.argv[1], "index.db")) as d:
    d._streamer().workers = 2
    d.add_many([{"id": f"d{i}", "text": f"story number {i} about the harbour"}
                for i in range(400)])
""",
}


def _children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # an exited orphan not yet reaped by its new parent


@pytest.mark.parametrize("kind", sorted(_SCRIPTS))
def test_workers_exit_when_their_parent_is_killed(kind: str, tmp_path: Path) -> None:
    script = _PRELUDE + textwrap.dedent(_SCRIPTS[kind])
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        kids: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            kids = _children(proc.pid)
            if kids:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            pytest.fail(f"{kind}: the script ended early: {proc.communicate()[1].decode()}")
        assert kids, f"{kind}: no worker process was started"
        time.sleep(0.5)  # the pool's other workers too
        kids = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(map(_alive, kids)):
            time.sleep(0.05)
        left = [k for k in kids if _alive(k)]
        for k in left:  # (not to leave them behind when the test fails)
            os.kill(k, signal.SIGKILL)
        assert not left, f"{kind}: workers {left} of a killed parent still run"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
