"""A Ctrl-C that comes while worker processes are being forked is not lost.

Python runs its at-fork handlers after ``fork()`` and ignores what they raise:
a SIGINT handled there was printed as "Exception ignored" and the run went on.
Each script below registers an at-fork handler that sends the process a
SIGINT (as if Ctrl-C came just then), then starts one of the library's kinds of
worker pool: the run must end with KeyboardInterrupt, and the workers must
run with the signal mask the process had before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from newsdedup import forked

pytestmark = pytest.mark.skipif(
    not forked.fork_available() or not hasattr(os, "register_at_fork"),
    reason="needs fork and os.register_at_fork")

_PRELUDE = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sent = []

def ctrl_c_while_forking():
    if not sent:
        sent.append(1)
        os.kill(os.getpid(), signal.SIGINT)

def run(work):
    os.register_at_fork(after_in_parent=ctrl_c_while_forking)
    try:
        work()
    except KeyboardInterrupt:
        print("interrupted")
    else:
        print("not interrupted")
"""

_SCRIPTS = {
    "fork_map": """
from newsdedup import forked
run(lambda: forked.fork_map(lambda state, block: block, None, [1, 2, 3], workers=2))
""",
    "prepare": """
from newsdedup import chunks
from newsdedup.config import Config
from newsdedup.types import Article
chunks.CHUNK_DOCS = 4
arts = [Article(id=f"d{i}", text=f"story number {i} about the harbour and its ships")
        for i in range(40)]
run(lambda: chunks.prepare_stream(arts, Config(), workers=2))
""",
    "html": """
from newsdedup import load
os.environ["NEWSDEDUP_WORKERS"] = "2"

def job(html, url):
    return "again", None  # (then extracted here: no extractor needed)

def extract(html, url):
    return load.Extraction(title=None, text="A page.", agreed=None, extractor="trafilatura")

load.extract_job, load._extract = job, extract
folder = sys.argv[1]
for k in range(6):
    with open(os.path.join(folder, f"p{k}.html"), "w") as fh:
        fh.write(f"<html><body><p>Page {k}.</p></body></html>")
run(lambda: list(load.iter_articles(folder)))
""",
    "stream": """
from newsdedup import Deduper
d = Deduper(workers=2)
run(lambda: d.add_many([{"id": f"d{i}", "text": f"story number {i} about the harbour"}
                        for i in range(400)]))
""",
}


@pytest.mark.parametrize("kind", sorted(_SCRIPTS))
def test_a_ctrl_c_while_forking_workers_interrupts_the_run(kind: str, tmp_path: Path) -> None:
    script = _PRELUDE + textwrap.dedent(_SCRIPTS[kind])
    if kind == "html":
        script = script.replace("load.Extraction", "Extraction").replace(
            "from newsdedup import load", "from newsdedup import load\n"
            "from newsdedup.html import Extraction")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1:] == ["interrupted"], (out.stdout, out.stderr)
    assert "Exception ignored" not in out.stderr


def _sigint_blocked(state: None, block: int) -> bool:
    import signal

    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_workers_get_the_signal_mask_of_before() -> None:
    # forked while SIGINT was held back, the workers restore the mask: a Ctrl-C
    # reaches them as it did
    assert forked.fork_map(_sigint_blocked, None, [1, 2, 3], workers=2) == [False] * 3
