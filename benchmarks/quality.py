"""Dedup quality: newsdedup beside the plain datasketch pipeline.

    python benchmarks/quality.py evalset --data /tmp/newsdedup-eval [--seed 1]
    python benchmarks/quality.py reuters [--sample 60]
    python benchmarks/quality.py bbc-time [--repeat 3]
    python benchmarks/quality.py rewrites

``evalset``: builds the evaluation set (benchmarks/evalset.py) into ``--data``
when absent, clusters it with newsdedup and with the plain pipeline, and prints
pairwise P/R/F1, ARI, recall per relation kind and hard-negative link rates.

``reuters``: clusters all 21,578 Reuters-21578 stories with both systems (with
source "reuters" and the story dates as ``published``, or with ``--bare`` neither) and
scores the linked pairs against rule-made labels (see :func:`label_pair`),
printing a random sample of labelled pairs for manual inspection. The rules
call any pair with little word overlap a different story, so they cannot judge
a rewrite: the pairs newsdedup linked as ``rewrite`` were judged by reading
them (``benchmarks/data/reuters_judged.json``, with a reason for each), and
those judgements override the rules (``--rules-only``: the rules alone).

``same-topic``: share of same-category (BBC) and same-topic (WikiRef220) pairs
that each system links on the whole corpora (these pairs include the corpora's
own duplicates and re-filings, so the rate is an upper bound on wrong links).

``bbc-time``: wall time of newsdedup with the rewrite signal on and off on BBC
News (medians, same process, word caches emptied before each run), the cost of
the added signal.

``rewrites``: the rewrite links newsdedup makes among one outlet's own stories
(BBC News, 2,225 records, without a ``source`` and with ``source="bbc"`` on every
record), among many outlets' stories on five subjects (WikiRef220) and among Google
News pages of many outlets (L3S-GN1's article texts), and how many of
the pairs judged in ``benchmarks/data/rewrites_judged.json`` (rewrite links read and
judged: one news event told twice, or another event of one running story) each run
and the plain pipeline link.

The plain pipeline: lower-cased ``\\w+`` word 5-shingles of headline + body,
``datasketch.MinHash`` (128 permutations), ``MinHashLSH(threshold=0.5)``,
candidates verified by exact shingle Jaccard >= 0.5, union-find.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import random
import re
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CORPORA = HERE.parent.parent / "shared" / "corpora"
JUDGED = HERE / "data" / "reuters_judged.json"
REWRITES_JUDGED = HERE / "data" / "rewrites_judged.json"
_WORD = re.compile(r"\w+")
_TICKER = re.compile(r"<([A-Z.]+)>")
_FIG = re.compile(r"\d+(?:[.,/-]\d+)*")


def plain_clusters(docs: list[dict]) -> list[list[str]]:
    """The plain datasketch pipeline (see the module docs)."""
    from datasketch import MinHash, MinHashLSH

    ids = [d["id"] for d in docs]
    sets = []
    for d in docs:
        toks = _WORD.findall(((d.get("title") or "") + "\n" + d["text"]).lower())
        sets.append({" ".join(toks[i : i + 5]).encode() for i in range(len(toks) - 4)})
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    mhs = MinHash.bulk([list(s) for s in sets], num_perm=128)
    for i, (s, m) in enumerate(zip(sets, mhs, strict=False)):
        if s:
            lsh.insert(str(i), m)
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, (s, m) in enumerate(zip(sets, mhs, strict=False)):
        if not s:
            continue
        for key in lsh.query(m):
            j = int(key)
            if j <= i:
                continue
            inter = len(s & sets[j])
            if inter / (len(s) + len(sets[j]) - inter) >= 0.5:
                parent[find(i)] = find(j)
    groups: dict[int, list[str]] = {}
    for i in range(len(docs)):
        groups.setdefault(find(i), []).append(ids[i])
    return list(groups.values())


def machine() -> str:
    import datasketch
    import numpy

    import newsdedup

    return (f"{platform.machine()} {platform.processor() or ''} ({__import__('os').cpu_count()} "
            f"cores), Python {platform.python_version()}, newsdedup {newsdedup.__version__}, "
            f"datasketch {datasketch.__version__}, numpy {numpy.__version__}, "
            f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


def cmd_evalset(args: argparse.Namespace) -> None:
    import evalset

    import newsdedup
    from newsdedup.evaluate import Truth, evaluate

    data = Path(args.data)
    if not (data / "truth.json").exists():
        docs, truth_json = evalset.build(args.seed, args.bases)
        data.mkdir(parents=True, exist_ok=True)
        with open(data / "articles.jsonl", "w", encoding="utf-8") as fh:
            for d in docs:
                fh.write(json.dumps(d, ensure_ascii=False) + "\n")
        (data / "truth.json").write_text(json.dumps(truth_json), encoding="utf-8")
    with open(data / "articles.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    truth = Truth.load(data / "truth.json")
    out = {}
    t = time.perf_counter()
    res = newsdedup.cluster(docs, progress=False)
    out["newsdedup"] = (evaluate([c.members for c in res.clusters], truth),
                        time.perf_counter() - t)
    t = time.perf_counter()
    out["plain datasketch"] = (evaluate(plain_clusters(docs), truth), time.perf_counter() - t)
    print(f"# {machine()}")
    print(f"# eval set {data} (seed {args.seed}): {len(docs)} articles")
    kinds = sorted(out["newsdedup"][0].recall_by_relation)
    negs = sorted(out["newsdedup"][0].negative_link_rate)
    print("| system | P | R | F1 | ARI | " + " | ".join(f"R {k}" for k in kinds)
          + " | " + " | ".join(f"linked {k}" for k in negs) + " | s |")
    print("|---" * (6 + len(kinds) + len(negs)) + "|")
    for name, (r, secs) in out.items():
        print(f"| {name} | {r.precision:.4f} | {r.recall:.4f} | {r.f1:.4f} | {r.ari:.4f} | "
              + " | ".join(f"{r.recall_by_relation.get(k, (0.0, 0))[0]:.3f}" for k in kinds)
              + " | " + " | ".join(f"{r.negative_link_rate[k][0]:.4f} "
                                   f"({r.negative_link_rate[k][1]})" for k in negs)
              + f" | {secs:.1f} |")


def reuters_date(text: str) -> datetime:
    import evalset

    return datetime.fromisoformat(evalset.reuters_date(text))


def _shingles(text: str) -> set[str]:
    toks = _WORD.findall(text.lower())
    return {" ".join(toks[i : i + 5]) for i in range(len(toks) - 4)}


def label_pair(a: dict, b: dict) -> tuple[bool, str]:
    """Rule label of a Reuters pair: (same story?, rule).

    Rules, in order:
    1. ``tickers``: both headlines carry ticker symbols (<XYZ>, exchange suffix
       such as ``.O`` ignored) and they are disjoint, and neither headline is a
       correction (which may fix the ticker): different companies.
    2. ``occurrence``: filed at least 24 hours apart and at least half of the
       bodies' figures differ: different occurrences of a recurring report (a
       re-sent story keeps most of its figures).
    3. ``times``: the first lines carry different clock times (``NY COMEX
       ALUMINUM 11:01`` vs ``11:31``): snapshots of a market table.
    4. ``amounts``: the bodies have the same words apart from figures and
       number words, the figures differ, and neither text mentions a
       correction: one notice template filled with different amounts.
    5. ``overlap``: body word 5-shingle Jaccard >= 0.5 or containment of the
       smaller >= 0.8: same story (re-sent, corrected, updated or trimmed).
    6. ``low-overlap``: otherwise different stories.
    """
    def tickers(t: str) -> set[str]:
        return {x.split(".")[0] for x in _TICKER.findall(t or "")}

    ta, tb = tickers(a["title"]), tickers(b["title"])
    fixed = "CORRECT" in ((a["title"] or "") + (b["title"] or "")).upper()
    if ta and tb and not (ta & tb) and not fixed:
        return False, "tickers"
    fa, fb = set(_FIG.findall(a["text"])), set(_FIG.findall(b["text"]))
    hours = abs((reuters_date(a["date"]) - reuters_date(b["date"])).total_seconds()) / 3600
    if hours >= 24 and fa | fb and len(fa ^ fb) >= 0.5 * len(fa | fb):
        return False, "occurrence"
    clock = re.compile(r"\b\d{1,2}:\d{2}\b")
    ca = set(clock.findall((a["title"] or "") + " " + a["text"].strip().split("\n")[0]))
    cb = set(clock.findall((b["title"] or "") + " " + b["text"].strip().split("\n")[0]))
    if ca and cb and ca != cb:
        return False, "times"
    numwords = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "billion", "million", "mln", "half"}
    wa = {w for w in _WORD.findall(a["text"].lower()) if not w[0].isdigit() and w not in numwords}
    wb = {w for w in _WORD.findall(b["text"].lower()) if not w[0].isdigit() and w not in numwords}
    corrected = re.search(r"correct", a["text"] + a["title"] + b["text"] + b["title"], re.I)
    if wa == wb and fa != fb and not corrected:
        return False, "amounts"
    sa, sb = _shingles(a["text"]), _shingles(b["text"])
    if sa and sb:
        inter = len(sa & sb)
        if inter / len(sa | sb) >= 0.5 or inter / min(len(sa), len(sb)) >= 0.8:
            return True, "overlap"
    return False, "low-overlap"


def _pairs_of(clusters: list[list[str]] | list[tuple[str, ...]]) -> set[tuple[str, str]]:
    out = set()
    for c in clusters:
        m = sorted(c)
        for i in range(len(m)):
            for j in range(i + 1, len(m)):
                out.add((m[i], m[j]))
    return out


def cmd_reuters(args: argparse.Namespace) -> None:
    import newsdedup

    with gzip.open(CORPORA / "reuters21578" / "reuters21578.jsonl.gz", "rt") as fh:
        recs = [json.loads(line) for line in fh]
    by_id = {str(r["id"]): r for r in recs}
    docs: Any
    if args.as_file:  # the file as newsdedup loads it (its `date` field read as published)
        docs = str(CORPORA / "reuters21578" / "reuters21578.jsonl.gz")
    elif args.bare:  # no source, no date
        docs = [{"id": str(r["id"]), "title": r["title"], "text": r["text"]} for r in recs]
    else:
        docs = [{"id": str(r["id"]), "title": r["title"], "text": r["text"],
                 "source": "reuters", "published": reuters_date(r["date"]).isoformat()}
                for r in recs]
    t = time.perf_counter()
    res = newsdedup.cluster(docs, progress=False)
    t_nd = time.perf_counter() - t
    t = time.perf_counter()
    res_ns = newsdedup.cluster(docs, progress=False, strip=False)
    t_ns = time.perf_counter() - t
    t = time.perf_counter()
    plain = plain_clusters(
        docs if not isinstance(docs, str)
        else [{"id": str(r["id"]), "title": r["title"], "text": r["text"]} for r in recs]
    )
    t_plain = time.perf_counter() - t
    nd_pairs = _pairs_of([c.members for c in res.clusters])
    ns_pairs = _pairs_of([c.members for c in res_ns.clusters])
    pl_pairs = _pairs_of(plain)
    # Pool of pairs to label: everything either system links, plus every pair
    # newsdedup compared whose copy overlap is at all notable.
    pool = set(nd_pairs) | set(pl_pairs) | set(ns_pairs)
    for verdicts in (res.verdicts, res_ns.verdicts):
        for (a, b), v in verdicts.items():
            if v.match.jaccard >= 0.3 or v.match.containment >= 0.6:
                pool.add((a, b))
    labels = {p: label_pair(by_id[p[0]], by_id[p[1]]) for p in pool
              if by_id[p[0]]["text"] and by_id[p[1]]["text"]}
    judged = 0
    if not args.rules_only:  # pairs judged by reading them override the rules
        for a, b, same, _why in json.loads(JUDGED.read_text(encoding="utf-8"))["pairs"]:
            key = (a, b) if a < b else (b, a)
            if key in labels:
                labels[key] = (same, "judged")
                judged += 1
    true_pairs = {p for p, (same, _r) in labels.items() if same}
    print(f"# {machine()}")
    print(f"# Reuters-21578: {len(recs)} stories; labelled pool {len(labels)} pairs, "
          f"{len(true_pairs)} same-story")
    rules: dict[str, int] = {}
    for _same, r in labels.values():
        rules[r] = rules.get(r, 0) + 1
    print(f"# labels by rule: {rules} ({judged} pairs judged by reading: {JUDGED.name})")
    print("| system | linked pairs | precision | recall | s |")
    print("|---|---|---|---|---|")
    for name, pairs, secs in (("newsdedup", nd_pairs, t_nd),
                              ("newsdedup strip=False", ns_pairs, t_ns),
                              ("plain datasketch", pl_pairs, t_plain)):
        lab = [labels[p][0] for p in pairs if p in labels]
        prec = sum(lab) / len(lab) if lab else 1.0
        rec = len(true_pairs & pairs) / len(true_pairs) if true_pairs else 1.0
        print(f"| {name} | {len(pairs)} | {prec:.4f} | {rec:.4f} | {secs:.1f} |")
    rng = random.Random(args.seed)
    sample = rng.sample(sorted(labels), min(args.sample, len(labels)))
    print("\n# sample for manual inspection: label rule | dates | titles | first body words")
    for a, b in sample:
        same, rule = labels[(a, b)]
        ra, rb = by_id[a], by_id[b]
        print(f"{a}-{b} {'SAME' if same else 'DIFF'} {rule} | {ra['date'][:17]} / "
              f"{rb['date'][:17]} | {ra['title'][:50]} / {rb['title'][:50]}")
        print(f"    A: {' '.join(ra['text'].split())[:160]}")
        print(f"    B: {' '.join(rb['text'].split())[:160]}")


def _children_cpu() -> float:
    """CPU seconds of this process's finished worker processes."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cmd_bbc_time(args: argparse.Namespace) -> None:
    import newsdedup

    with gzip.open(CORPORA / "bbc-news" / "bbc-news.jsonl.gz", "rt") as fh:
        docs = [{"id": r["id"], "title": r["title"], "text": r["text"]}
                for r in map(json.loads, fh)]
    newsdedup.cluster(docs[:50], progress=False)  # load tables and compiled kernels first
    times: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    from newsdedup import entities, rewrite

    for _ in range(args.repeat):
        for rw in (False, True):
            # each run starts with empty per-word and per-chunk caches, as in a
            # new process (the frequency table and compiled kernels stay loaded)
            for cache in (entities._CHUNKS, entities._ZIPF_CACHE, rewrite._CHUNK_CACHE,
                          rewrite._CLASSIFY_CACHE):
                cache.clear()
            t, c = time.perf_counter(), time.process_time() + _children_cpu()
            newsdedup.cluster(docs, progress=False, rewrite=rw)
            times[rw].append(time.perf_counter() - t)
            cpu[rw].append(time.process_time() + _children_cpu() - c)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    coff, con = statistics.median(cpu[False]), statistics.median(cpu[True])
    print(f"# {machine()}")
    print(f"BBC ({len(docs)} articles), median of {args.repeat}: rewrite off {off:.2f} s, "
          f"rewrite on {on:.2f} s, ratio {on / off:.2f}x (CPU time with workers: {coff:.2f} s, "
          f"{con:.2f} s, "
          f"ratio {con / coff:.2f}x); all runs off {[round(x, 2) for x in times[False]]} "
          f"on {[round(x, 2) for x in times[True]]}")


def cmd_same_topic(args: argparse.Namespace) -> None:
    """Share of same-topic pairs linked on whole corpora (no sources given):
    BBC News (same category) and WikiRef220 (same topic)."""
    import newsdedup

    print(f"# {machine()}")
    print("| corpus | documents | same-topic pairs | linked by newsdedup | linked by plain |")
    print("|---|---|---|---|---|")
    for name, path in (("BBC News (category)", CORPORA / "bbc-news" / "bbc-news.jsonl.gz"),
                       ("WikiRef220 (topic)", CORPORA / "wikiref220" / "wikiref220.jsonl.gz")):
        with gzip.open(path, "rt") as fh:
            recs = [json.loads(line) for line in fh]
        docs = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in recs]
        label = {r["id"]: r["label"] for r in recs}
        res = newsdedup.cluster(docs, progress=False)
        nd = {m: c.id for c in res.clusters for m in c.members}
        pl = {m: k for k, c in enumerate(plain_clusters(docs)) for m in c}
        by_label: dict[str, list[str]] = {}
        for d, lab in label.items():
            by_label.setdefault(lab, []).append(d)
        total = linked_nd = linked_pl = 0
        for members in by_label.values():
            n = len(members)
            total += n * (n - 1) // 2
            for assign, acc in ((nd, "nd"), (pl, "pl")):
                sizes: dict[int, int] = {}
                for d in members:
                    sizes[assign[d]] = sizes.get(assign[d], 0) + 1
                k = sum(v * (v - 1) // 2 for v in sizes.values())
                if acc == "nd":
                    linked_nd += k
                else:
                    linked_pl += k
        print(f"| {name} | {len(docs)} | {total} | {linked_nd} ({linked_nd / total:.4%}) | "
              f"{linked_pl} ({linked_pl / total:.4%}) |")


def cmd_rewrites(args: argparse.Namespace) -> None:
    """Rewrite links and the judged pairs of ``benchmarks/data/rewrites_judged.json``:
    BBC News without and with ``source``, WikiRef220 as it is, L3S-GN1's article
    texts with their pages' domains as ``source``."""
    import newsdedup
    from newsdedup.types import url_host

    judged = json.loads(REWRITES_JUDGED.read_text("utf-8"))
    kinds = ("same", "unclear", "different")
    print(f"# {machine()}")
    print("| corpus, run | rewrite links | other links | largest cluster | "
          + " | ".join(f"judged {k} linked" for k in kinds) + " |")
    print("|---" * (4 + len(kinds)) + "|")
    runs = (("bbc", "BBC News, no source", None), ("bbc", 'BBC News, source "bbc"', "bbc"),
            ("bbc", "BBC News, a URL each, no source", "bbc-url"),
            ("wikiref", "WikiRef220", None), ("l3s", "L3S-GN1, source = domain", "url"))
    for corpus, name, source in runs:
        path = {"bbc": CORPORA / "bbc-news" / "bbc-news.jsonl.gz",
                "wikiref": CORPORA / "wikiref220" / "wikiref220.jsonl.gz",
                "l3s": CORPORA / "l3s-gn1" / "l3s-gn1-blocks.jsonl.gz"}[corpus]
        with gzip.open(path, "rt") as fh:
            recs = [json.loads(line) for line in fh]
        docs = [{"id": r["id"], "title": r["title"] or None, "text": r["text"]}
                | ({"url": f"https://www.bbc.co.uk/news/{r['id']}"} if source == "bbc-url"
                   else {"source": url_host(r["url"]) if source == "url" else source}
                   if source else {}) for r in recs]
        pairs = judged[corpus]["pairs"]
        for system in ("newsdedup", "plain datasketch"):
            if system == "plain datasketch" and source in ("bbc", "bbc-url"):  # as without
                continue
            if system == "newsdedup":
                res = newsdedup.cluster(docs, progress=False)
                cid = {m: c.id for c in res.clusters for m in c.members}
                rw = sum(1 for m in res.pairs if m.relation == "rewrite")
                cells = [str(rw), str(len(res.pairs) - rw), str(len(res.clusters[0]))]
            else:
                groups = plain_clusters(docs)
                cid = {m: k for k, c in enumerate(groups) for m in c}
                cells = ["-", str(sum(len(c) * (len(c) - 1) // 2 for c in groups)),
                         str(max(len(c) for c in groups))]
            for k in kinds:
                total = sum(1 for p in pairs if p[2] == k)
                linked = sum(1 for a, b, lab, _why in pairs if lab == k and cid[a] == cid[b])
                cells.append(f"{linked} of {total}")
            print(f"| {name}: {system} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("evalset")
    p.add_argument("--data", default="/tmp/newsdedup-eval")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bases", type=int, default=160)
    p = sub.add_parser("reuters")
    p.add_argument("--sample", type=int, default=60)
    p.add_argument("--bare", action="store_true",
                   help="give newsdedup no source and no publication date")
    p.add_argument("--as-file", action="store_true",
                   help="cluster the JSONL file itself, as a user would (no source)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rules-only", action="store_true",
                   help=f"label by the rules alone, without benchmarks/data/{JUDGED.name}")
    sub.add_parser("same-topic")
    p = sub.add_parser("bbc-time")
    p.add_argument("--repeat", type=int, default=3)
    sub.add_parser("rewrites")
    args = ap.parse_args()
    np.random.seed(0)
    {"evalset": cmd_evalset, "reuters": cmd_reuters, "bbc-time": cmd_bbc_time,
     "same-topic": cmd_same_topic, "rewrites": cmd_rewrites}[args.cmd](args)


if __name__ == "__main__":
    main()
