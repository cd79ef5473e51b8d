"""Core pipeline on the 2,225 BBC News articles, beside a plain datasketch pipeline.

Both run in this one process, alternating, several repeats; the report gives
medians and the ratio. "Plain datasketch" is the pipeline a user writes from
the datasketch docs: lower-case, split on white space, word 5-shingles,
``MinHash(num_perm=128)`` per document (default SHA-1 hash), ``MinHashLSH``
at the same threshold with its default banding, a query per document,
union-find over the returned keys, no verification. Recall is measured against
the brute-force set of pairs whose exact 5-shingle Jaccard (on newsdedup's
tokens) is >= the threshold.

Usage: python benchmarks/core_bbc.py [--repeats 5] [--threshold 0.5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

import datasketch
import numpy as np

import newsdedup
from newsdedup.cluster import connected_components
from newsdedup.normalize import normalize
from newsdedup.shingle import Shingler, tokenize

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "bbc-news" / "bbc-news.jsonl.gz"


def load_records(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plain_datasketch(records: list[dict], threshold: float) -> tuple[list[list[int]], int]:
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=128)
    mhs = []
    for i, r in enumerate(records):
        words = f"{r['title']}\n{r['text']}".lower().split()
        m = datasketch.MinHash(num_perm=128)
        for k in range(len(words) - 4):
            m.update(" ".join(words[k : k + 5]).encode("utf-8"))
        lsh.insert(str(i), m)
        mhs.append(m)
    edges = set()
    for i, m in enumerate(mhs):
        for key in lsh.query(m):
            j = int(key)
            if j != i:
                edges.add((min(i, j), max(i, j)))
    return connected_components(len(records), edges), len(edges)


def brute_force_pairs(records: list[dict], threshold: float) -> set[tuple[int, int]]:
    sh = Shingler(5)
    sets = []
    for r in records:
        toks = tokenize(normalize(newsdedup.strip(f"{r['title']}\n{r['text']}").text))
        sets.append(set(sh.shingles(toks).tolist()) if len(toks) >= 5 else set())
    postings: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for h in s:
            postings[h].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) < 300:
            for x in range(len(docs)):
                for y in range(x + 1, len(docs)):
                    shared[(docs[x], docs[y])] += 1
    return {
        p for p, inter in shared.items()
        if inter / (len(sets[p[0]]) + len(sets[p[1]]) - inter) >= threshold
    }


def recall(groups: list[list[int]], truth: set[tuple[int, int]], n: int) -> float:
    label = np.empty(n, dtype=np.int64)
    for g, members in enumerate(groups):
        label[members] = g
    return sum(label[a] == label[b] for a, b in truth) / len(truth) if truth else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"skipped: corpus {args.corpus} is absent", file=sys.stderr)
        return 0
    records = load_records(args.corpus)
    n = len(records)
    truth = brute_force_pairs(records, args.threshold)
    t_nd, t_ds = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = newsdedup.cluster(str(args.corpus), threshold=args.threshold, progress=False)
        t_nd.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ds_groups, ds_edges = plain_datasketch(records, args.threshold)
        t_ds.append(time.perf_counter() - t0)
    index = {r["id"]: i for i, r in enumerate(records)}
    nd_groups = [[index[m] for m in c.members] for c in res.clusters]
    med_nd, med_ds = statistics.median(t_nd), statistics.median(t_ds)
    rows = [
        ("newsdedup", med_nd, min(t_nd), len(res.pairs),
         sum(1 for g in nd_groups if len(g) > 1), recall(nd_groups, truth, n)),
        ("plain datasketch", med_ds, min(t_ds), ds_edges,
         sum(1 for g in ds_groups if len(g) > 1), recall(ds_groups, truth, n)),
    ]
    print(f"BBC News, {n} articles, threshold {args.threshold}, {args.repeats} repeats, "
          f"{len(truth)} brute-force pairs with exact Jaccard >= {args.threshold}")
    ds_version = getattr(datasketch, "__version__", "?")
    print(f"date {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}; "
          f"python {platform.python_version()}; newsdedup {newsdedup.__version__}; "
          f"datasketch {ds_version}; numpy {np.__version__}; {platform.machine()}")
    print("| pipeline | median s | best s | linked pairs | groups (size > 1) "
          "| recall of J >= t pairs |")
    print("|---|---|---|---|---|---|")
    for name, med, best, pairs, groups, rec in rows:
        print(f"| {name} | {med:.2f} | {best:.2f} | {pairs} | {groups} | {rec:.3f} |")
    print(f"ratio plain datasketch / newsdedup (median): {med_ds / med_nd:.2f}x")
    print(f"newsdedup LSH: {res.lsh.bands} x {res.lsh.rows}, P(J={args.threshold}) = "
          f"{res.lsh.recall_at_threshold:.3f}; stats: {res.stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
