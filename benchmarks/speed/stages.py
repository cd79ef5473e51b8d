"""Stage timings of ``newsdedup.cluster(path, threshold=0.8, rewrite=...)`` from its DEBUG log.

    python benchmarks/speed/stages.py --docs 10000 [--rewrite] [--workers N]

Prints the ``cluster():`` DEBUG line (read + learn boilerplate, prepare,
exact + LSH, link, result), wall seconds, the peak RSS of this process and of
its largest worker (ru_maxrss), the 1-minute load average and the time (UTC).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
from datetime import datetime, timezone
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rewrite", action="store_true")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    if args.workers is not None:
        os.environ["NEWSDEDUP_WORKERS"] = str(args.workers)
    path = Path.home() / ".cache" / "newsdedup-bench" / f"news-{args.docs}-s{args.seed}.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} is absent: run benchmarks/speed/corpus.py first")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    log = logging.getLogger("newsdedup")
    log.setLevel(logging.DEBUG)
    log.addHandler(Keep())
    import newsdedup
    from newsdedup import _native

    if _native.available():
        _native.warm()  # compiled kernels loaded before timing (as bench.py does)
    t0 = time.perf_counter()
    result = newsdedup.cluster(str(path), threshold=0.8, rewrite=args.rewrite, progress=False)
    wall = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for line in lines:
        if line.startswith("cluster():"):
            print(line)
    s = result.stats
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"wall {wall:.2f} s; peak RSS parent {own:.0f} MiB, largest worker {kids:.0f} MiB; "
          f"candidates {s.candidates}, linked {s.linked}, clusters {len(result.clusters)}; "
          f"load {os.getloadavg()[0]:.2f}; {now}")


if __name__ == "__main__":
    main()
