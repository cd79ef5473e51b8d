"""Streaming index benchmark: add throughput, query latency and size on SQLite and Redis.

Articles are built from real news sentences (BBC News 2004-05 and Reuters-21578
in ../shared/corpora): each article is 11-20 sentences drawn at random (about
the BBC mean of ~350 words), and one in ten is a lightly edited copy (3% of words replaced or
dropped, sometimes cut to 85%) of an earlier article, so the index sees the
duplicates a news stream has. Deterministic by ``--seed``; written to
``--workdir`` (outside the repository), never shipped. ``--articles PATH``
streams a JSONL of articles instead, in file order: with the speed benchmark's
corpus (``benchmarks/speed/corpus.py``: BBC and Reuters stories, 35 % of the
documents lightly edited copies of an earlier story) the index sees
syndication rather than sentence mixes.

Phases, per backend:

1. fill: ``add_many`` batches of 1,000 until the index holds ``--size`` articles;
2. sustained add at that size: ``--sustained`` more articles in ``add_many``
   batches of 500 (one transaction each), ``--sustained`` more the same way
   and on the same connection with ``workers=2`` (two forked processes prepare
   documents while this one indexes; their CPU time is reported apart; a first
   call of :data:`WORKERS_WARM` articles, untimed, starts them: forking a process
   that holds a large index costs a call's worth of time, once), and,
   reopened, ``--single`` articles through ``add`` (one transaction per article);
3. query latency: ``--queries`` single ``query`` calls (half copies of indexed
   articles, half new ones): p50 and p99;
4. size: SQLite file bytes per article (after a WAL checkpoint); Redis
   ``used_memory`` per article.

Throughput is given per second of wall-clock time and per second of this
process's CPU time (the machine is shared, so the wall clock also measures the
other users' load). The preparation stages (strip, normalise, shingle) run inside ``add``; their
cost does not depend on the index and is measured on its own (``prepare``) so
the index's share is visible. The index runs with ``--strip`` off by default
(stripping is benchmarked in its own section); the stripping cost per article
at the time of the run is reported beside it.

Usage::

    .venv/bin/python benchmarks/stream_bench.py --size 100000 --out /tmp/stream_bench.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("NEWSDEDUP_CORPORA", ROOT.parent / "shared" / "corpora"))
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def sentence_pool() -> list[str]:
    pool: list[str] = []
    for rel in ("bbc-news/bbc-news.jsonl.gz", "reuters21578/reuters21578.jsonl.gz"):
        with gzip.open(CORPORA / rel, "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") or ""
                for s in _SENT.split(" ".join(text.split())):
                    if 6 <= len(s.split()) <= 60:
                        pool.append(s)
    return sorted(set(pool))


def build_articles(n: int, seed: int, workdir: Path) -> Path:
    path = workdir / f"articles-{n}-{seed}.jsonl"
    if path.exists():
        return path
    rng = random.Random(seed)
    pool = sentence_pool()
    sources = ["wire", "paper-a", "paper-b", "paper-c", "site-d"]
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()
    texts: list[str] = []
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in range(n):
            if i > 100 and rng.random() < 0.1:
                words = texts[rng.randrange(len(texts))].split(" ")
                words = ["update" if rng.random() < 0.015 else w
                         for w in words if rng.random() >= 0.015]
                if rng.random() < 0.3:
                    words = words[: int(len(words) * 0.85)]
                text = " ".join(words)
            else:
                text = " ".join(rng.choice(pool) for _ in range(rng.randint(11, 20)))
            texts.append(text)
            title = " ".join(text.split(" ")[:8])
            rec = {"id": f"a{i:07d}", "title": title, "text": text,
                   "source": rng.choice(sources),
                   "published": datetime.fromtimestamp(t0 + 60 * i, timezone.utc).isoformat()}
            fh.write(json.dumps(rec) + "\n")
    tmp.rename(path)
    return path


def load_articles(path: Path, n: int) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server not found (make system-deps installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0"


#: Articles of the untimed first ``workers=2`` call (it starts the workers).
WORKERS_WARM = 500


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def run_backend(location: str, arts: list[dict[str, Any]], args: argparse.Namespace,
                opts: dict[str, Any]) -> dict[str, Any]:
    from newsdedup import Deduper

    size, sustained, single = args.size, args.sustained, args.single
    res: dict[str, Any] = {"location": location.split("?")[0]}
    with Deduper.open(location, **opts) as d:
        t, c = time.perf_counter(), time.process_time()
        for start in range(0, size, 1000):
            d.add_many(arts[start : min(size, start + 1000)])
        fill = time.perf_counter() - t
        res["fill_articles"] = size
        res["fill_per_s"] = size / fill
        res["fill_per_cpu_s"] = size / (time.process_time() - c)
        res["fill_s"] = fill
        store = d._streamer().store
        if hasattr(store, "_con"):  # the file at exactly --size articles
            store._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            res["file_bytes_at_fill"] = os.path.getsize(location)
        block = arts[size : size + sustained]
        t, c = time.perf_counter(), time.process_time()
        for start in range(0, len(block), 500):
            d.add_many(block[start : start + 500])
        res["sustained_add_many_per_s"] = len(block) / (time.perf_counter() - t)
        res["sustained_add_many_per_cpu_s"] = len(block) / (time.process_time() - c)
        # The same connection, now with two worker processes preparing documents
        # (forked from this process, so they start warm) while this one indexes.
        stream = d._streamer()
        stream.workers = 2
        d.add_many(arts[size + sustained : size + sustained + WORKERS_WARM])  # starts them
        at = size + sustained + WORKERS_WARM
        block = arts[at : at + sustained]
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        t, c = time.perf_counter(), time.process_time()
        for start in range(0, len(block), 500):
            d.add_many(block[start : start + 500])
        res["sustained_add_many_2_workers_per_s"] = len(block) / (time.perf_counter() - t)
        res["sustained_add_many_2_workers_per_cpu_s"] = len(block) / (time.process_time() - c)
        if stream._pool is not None:  # the workers' CPU time counts once they are waited for
            stream._pool.shutdown()
            stream._pool = None
        stream.workers = 1
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        res["sustained_add_many_2_workers_child_cpu_ms"] = 1e3 * (
            after.ru_utime + after.ru_stime - kids.ru_utime - kids.ru_stime) / len(block)
    with Deduper.open(location, **opts) as d:
        block = arts[size + 2 * sustained + WORKERS_WARM : size + 2 * sustained + WORKERS_WARM
                     + single]
        t, c = time.perf_counter(), time.process_time()
        for a in block:
            d.add(a)
        res["sustained_add_per_s"] = len(block) / (time.perf_counter() - t)
        res["sustained_add_per_cpu_s"] = len(block) / (time.process_time() - c)
        rng = random.Random(args.seed + 1)
        indexed = size + 2 * sustained + WORKERS_WARM + single
        probes = []
        for i in range(args.queries):
            if i % 2:
                src = arts[rng.randrange(indexed)]
                probes.append(dict(src, id=f"q{i}"))
            else:
                probes.append(dict(arts[indexed + i], id=f"q{i}"))
        lat, cpu = [], []
        hits = 0
        for p in probes:
            t, c = time.perf_counter(), time.process_time()
            hits += bool(d.query(p))
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        res["query_p50_ms"] = pct(lat, 50) * 1e3
        res["query_p99_ms"] = pct(lat, 99) * 1e3
        res["query_cpu_p50_ms"] = pct(cpu, 50) * 1e3
        res["query_hit_share"] = hits / len(probes)
        store = d._streamer().store
        res["indexed"] = len(store)
        if hasattr(store, "memory_bytes"):
            res["redis_used_memory_bytes"] = store.memory_bytes()
            res["bytes_per_article"] = res["redis_used_memory_bytes"] / res["indexed"]
    if not location.startswith("redis"):
        con = sqlite3.connect(location)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shingle_bytes, key_bytes = con.execute(
            "SELECT sum(length(shingles)), sum(length(keys)) FROM docs"
        ).fetchone()
        payload_bytes = con.execute("SELECT sum(length(texts)) FROM texts").fetchone()[0]
        for table, pages in con.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
        ).fetchall() if _has_dbstat(con) else []:
            res.setdefault("table_bytes_per_article", {})[table] = pages / res["indexed"]
        con.close()
        from newsdedup.store import SQLiteStore

        store = SQLiteStore(location)
        band_rows = store.band_rows()  # band entries (merged groups decoded)
        store.close()
        file_bytes = os.path.getsize(location)
        res["file_bytes"] = file_bytes
        res["bytes_per_article"] = file_bytes / res["indexed"]
        res["shingle_blob_bytes_per_article"] = shingle_bytes / res["indexed"]
        res["payload_bytes_per_article"] = payload_bytes / res["indexed"]
        res["key_term_bytes_per_article"] = (key_bytes or 0) / res["indexed"]
        res["band_rows_per_article"] = band_rows / res["indexed"]
    return res


def _has_dbstat(con: sqlite3.Connection) -> bool:
    try:
        con.execute("SELECT 1 FROM dbstat LIMIT 1")
    except sqlite3.OperationalError:
        return False
    return True


def prepare_cost(arts: list[dict[str, Any]], strip: bool) -> float:
    """CPU seconds per article for strip/normalise/shingle/sign alone (no index)."""
    from newsdedup import Config
    from newsdedup.store import MemoryStore
    from newsdedup.stream import Stream, as_article

    stream = Stream(Config(strip=strip), MemoryStore())
    articles = [as_article(a) for a in arts]
    stream._prepare(articles[:50])  # warm up (compiled kernels, caches)
    t = time.process_time()
    for start in range(0, len(articles), 500):
        stream._prepare(articles[start : start + 500])
    return (time.process_time() - t) / len(articles)


def render(report: dict[str, Any]) -> str:
    """The docs/benchmarks.md table for one report."""
    rows = []
    for name in ("sqlite", "redis"):
        r = report.get(name)
        if not r:
            continue
        cpu = r.get("sustained_add_many_per_cpu_s")
        size = (f"{r['bytes_per_article']:,.0f} B (file)" if name == "sqlite"
                else f"{r['bytes_per_article']:,.0f} B (used_memory)")
        rows.append(
            f"| {name} | {r['fill_per_s']:,.0f} | {r['sustained_add_many_per_s']:,.0f}"
            f" | {cpu:,.0f} | {r['sustained_add_many_2_workers_per_s']:,.0f}"
            f" | {r['sustained_add_per_s']:,.0f} | {r['query_p50_ms']:.2f} / "
            f"{r['query_p99_ms']:.2f} | {size} |"
            if cpu is not None else ""
        )
    return "\n".join(
        ["| backend | fill 0 -> 100k (art/s) | add_many at 100k (art/s) | same, per CPU-s "
         "| add_many, workers=2 | add (1 per txn) | query p50 / p99 (ms) | size per article |",
         "|---|---|---|---|---|---|---|---|", *rows]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=100_000, help="articles in the index")
    ap.add_argument("--redis-size", type=int, default=None, help="(default: --size)")
    ap.add_argument("--sustained", type=int, default=5_000)
    ap.add_argument("--single", type=int, default=1_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--articles", type=Path, default=None,
                    help="stream this JSONL of articles instead of the sentence mixes (e.g. "
                         "benchmarks/speed/corpus.py's news-N-s1.jsonl: real stories, each "
                         "with lightly edited copies)")
    ap.add_argument("--strip", action="store_true", help="strip boilerplate inside add")
    ap.add_argument("--no-rewrite", action="store_true",
                    help="rewrite=False: the copy tier only (no rewrite bands or judging)")
    ap.add_argument("--backends", default="sqlite,redis")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/newsdedup-bench"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--render", type=Path, default=None,
                    help="print the markdown table of a saved report and exit")
    args = ap.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text(encoding="utf-8"))))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    total = args.size + 2 * args.sustained + WORKERS_WARM + args.single + args.queries
    t = time.perf_counter()
    source = args.articles or build_articles(total, args.seed, args.workdir)
    arts = load_articles(source, total)
    if len(arts) < total:
        raise SystemExit(f"{source} has {len(arts)} articles; this run needs {total} "
                         f"(--size + 2 x --sustained + {WORKERS_WARM} + --single + --queries)")
    words = [len(a["text"].split()) for a in arts[:5000]]
    import newsdedup

    report: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/stream_bench.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
                   f"{platform.system()} {platform.release()}",
        "versions": {"newsdedup": newsdedup.__version__, "python": platform.python_version(),
                     "numpy": np.__version__, "sqlite": sqlite3.sqlite_version},
        "articles": {"total": total, "mean_words": float(np.mean(words)),
                     "source": str(args.articles) if args.articles else "sentence mixes",
                     "build_s": time.perf_counter() - t},
        "strip": args.strip,
        "load_average_at_start": os.getloadavg(),
    }
    sample = arts[: min(2000, len(arts))]
    report["prepare_cpu_ms"] = {"strip_off": prepare_cost(sample, False) * 1e3,
                            "strip_on": prepare_cost(sample, True) * 1e3}
    opts: dict[str, Any] = {"strip": args.strip}
    if args.no_rewrite:
        opts["rewrite"] = False
    report["rewrite"] = not args.no_rewrite
    backends = args.backends.split(",")
    if "sqlite" in backends:
        db = args.workdir / ("index-copy.db" if args.no_rewrite else "index.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        report["sqlite"] = run_backend(str(db), arts, args, opts)
        print(json.dumps(report["sqlite"], indent=1), file=sys.stderr)
    if "redis" in backends:
        import redis

        proc, url = start_redis(args.workdir)
        try:
            sub = argparse.Namespace(**vars(args))
            sub.size = args.redis_size or args.size
            report["redis"] = run_backend(url, arts, sub, opts)
            report["redis"]["version"] = redis.Redis.from_url(url).info()["redis_version"]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        print(json.dumps(report["redis"], indent=1), file=sys.stderr)
    report["load_average_at_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
