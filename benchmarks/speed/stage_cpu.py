"""CPU seconds of ``learn_for_run`` and of ``prepare_chunk`` (strip, normalise, shingle, sign).

    python benchmarks/speed/stage_cpu.py 10000                          # this tree
    PYTHONPATH=/tmp/old/src python benchmarks/speed/stage_cpu.py 10000  # another tree

One process, no workers, so the figures do not depend on how many cores the
machine's other work leaves free. Used for the before/after table of the
speed section of docs/benchmarks.md (``git archive <commit> src | tar -x -C /tmp/old``
gives the other tree).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    n = int(sys.argv[1])
    import newsdedup
    from newsdedup import _native
    from newsdedup.config import Config
    from newsdedup.load import iter_articles

    print("newsdedup from", os.path.dirname(newsdedup.__file__))
    if _native.available():
        _native.warm()
    chunks = importlib.import_module("newsdedup.chunks")
    boilerplate = importlib.import_module("newsdedup.boilerplate")
    path = Path.home() / ".cache" / "newsdedup-bench" / f"news-{n}-s1.jsonl"
    arts = list(iter_articles(str(path)))
    cfg = Config.from_options(threshold=0.8, rewrite=False)
    t = time.process_time()
    model = boilerplate.learn_for_run(arts, cfg)
    learn = time.process_time() - t
    recs = [(a.id, a.title, a.text, boilerplate.source_of(a)) for a in arts]
    with tempfile.TemporaryDirectory() as tmp:
        spool = os.path.join(tmp, "spool.txt")
        chunks.prepare_chunk(recs[:50], cfg, spool, model)  # warm-up
        t = time.process_time()
        for k in range(0, len(recs), 2000):
            chunks.prepare_chunk(recs[k : k + 2000], cfg, spool, model)
        prep = time.process_time() - t
    print(json.dumps({
        "docs": n, "learn_cpu_s": round(learn, 2), "prepare_cpu_s": round(prep, 2),
        "prepare_ms_per_doc": round(prep / n * 1e3, 3), "model": repr(model),
        "load": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
