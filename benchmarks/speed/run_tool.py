"""Run one tool on one corpus and print its figures as JSON (one line on stdout).

Called by ``bench.py`` with the Python of the tool's own environment::

    python run_tool.py TOOL CORPUS.jsonl GROUPS_OUT.json

Every tool gets the same task: word 5-shingles, 128 permutations, threshold
0.8, from the JSONL file (``title`` + newline + ``text``) to groups of
duplicates. The timers:

* ``read``: parsing the JSONL file into texts;
* ``sig``: raw texts in memory -> one MinHash signature per document
  (tokenising and shingling included: that is what a user must do);
* ``lsh``: signatures -> candidate pairs -> groups;
* ``total``: the whole run, JSONL to groups (newsdedup: one ``cluster()`` call).

Each tool's imports happen before its timers start; for newsdedup that
includes loading its compiled kernels (numba's cache, about 0.5 s once per
process, which the first ``cluster()`` call would otherwise do: the peers'
compiled extensions load when they are imported). That load time is reported
apart (``init``).

Tools: ``newsdedup`` (``cluster()`` on the syndication path), ``newsdedup-full``
(with the rewrite signal), ``newsdedup-sig`` (signature stage only),
``datasketch`` (as users write it: ``MinHash`` per document, ``update`` per
shingle, ``MinHashLSH``), ``datasketch-xxh`` (xxhash + ``MinHash.bulk`` +
``insertion_session``), ``rensa`` (``RMinHash`` bulk constructors +
``RMinHashLSH``, candidates kept when the estimated Jaccard >= 0.8, as rensa's
deduplicator does), ``text-dedup`` (its MinHash module, in process),
``datatrove`` (its MinHash stages 1-3 with a local executor).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

THRESHOLD = 0.8
NUM_PERM = 128
NGRAM = 5
WORD = re.compile(r"\w+")


def read_jsonl(path: str) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            ids.append(rec["id"])
            title = rec.get("title") or ""
            texts.append(f"{title}\n{rec['text']}" if title else rec["text"])
    return ids, texts


def shingle_strings(text: str) -> set[str]:
    words = WORD.findall(text.lower())
    return {" ".join(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def groups_from_pairs(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    by: dict[int, list[int]] = {}
    for x in range(n):
        by.setdefault(find(x), []).append(x)
    return [g for g in by.values() if len(g) > 1]


def run_datasketch(path: str, fast: bool) -> dict:
    import datasketch
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    ids, texts = read_jsonl(path)
    t1 = time.perf_counter()
    if fast:
        import xxhash

        sets = [[s.encode("utf-8") for s in shingle_strings(t)] for t in texts]
        mhs = MinHash.bulk(sets, num_perm=NUM_PERM, hashfunc=xxhash.xxh32_intdigest)
    else:
        mhs = []
        for t in texts:
            m = MinHash(num_perm=NUM_PERM)
            for s in shingle_strings(t):
                m.update(s.encode("utf8"))
            mhs.append(m)
    t2 = time.perf_counter()
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    if fast:
        with lsh.insertion_session() as session:
            for i, m in enumerate(mhs):
                session.insert(i, m)
    else:
        for i, m in enumerate(mhs):
            lsh.insert(i, m)
    pairs = [(i, j) for i, m in enumerate(mhs) for j in lsh.query(m) if j > i]
    groups = groups_from_pairs(len(ids), pairs)
    t3 = time.perf_counter()
    return dict(version=datasketch.__version__, ids=ids, groups=groups, pairs=len(pairs),
                read=t1 - t0, sig=t2 - t1, lsh=t3 - t2, total=t3 - t0,
                note="LSH candidates as duplicates (no verification), params (9, 13)")


def run_rensa(path: str) -> dict:
    from importlib.metadata import version

    from rensa import RMinHash, RMinHashLSH

    t0 = time.perf_counter()
    ids, texts = read_jsonl(path)
    t1 = time.perf_counter()
    sets = [list(shingle_strings(t)) for t in texts]
    mhs = RMinHash.from_token_sets(sets, NUM_PERM, 42)
    t2 = time.perf_counter()
    lsh = RMinHashLSH(THRESHOLD, NUM_PERM, 8)
    lsh.insert_many(mhs)
    cands = lsh.query_all(mhs)
    pairs = [
        (i, j) for i, cs in enumerate(cands) for j in cs
        if j > i and mhs[i].jaccard(mhs[j]) >= THRESHOLD
    ]
    groups = groups_from_pairs(len(ids), pairs)
    t3 = time.perf_counter()
    # The fastest signature path for the record: the digest-matrix bulk constructor.
    t4 = time.perf_counter()
    RMinHash.digest_matrix_from_token_sets([list(shingle_strings(t)) for t in texts], NUM_PERM, 42)
    t5 = time.perf_counter()
    return dict(version=version("rensa"), ids=ids, groups=groups, pairs=len(pairs),
                read=t1 - t0, sig=min(t2 - t1, t5 - t4), lsh=t3 - t2, total=t3 - t0,
                note="RMinHashLSH 8 bands x 16 rows (its table for t=0.8), candidates kept "
                "when rensa's estimated Jaccard >= 0.8")


def run_newsdedup(path: str, rewrite: bool) -> dict:
    import logging

    import newsdedup

    stages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stages.append(record.getMessage())

    log = logging.getLogger("newsdedup")
    log.setLevel(logging.DEBUG)
    log.addHandler(Keep())
    from newsdedup import _native

    t_init = time.perf_counter()
    if _native.available():  # (the compiled kernels: part of initialising, see above)
        _native.warm()
    t0 = time.perf_counter()
    res = newsdedup.cluster(path, threshold=THRESHOLD, rewrite=rewrite, progress=False)
    t1 = time.perf_counter()
    ids = sorted(res.documents)
    pos = {d: i for i, d in enumerate(ids)}
    groups = [[pos[m] for m in c.members] for c in res.duplicates]
    return dict(version=newsdedup.__version__, ids=ids, groups=groups, pairs=len(res.pairs),
                read=None, sig=None, lsh=None, total=t1 - t0, init=t0 - t_init,
                stages=[m for m in stages if m.startswith("cluster():")],
                note=f"cluster(threshold=0.8, rewrite={rewrite}); LSH {res.lsh.bands}x"
                f"{res.lsh.rows}; pairs = verified links")


def run_newsdedup_sig(path: str) -> dict:
    import newsdedup
    from newsdedup import _native
    from newsdedup.normalize import normalize_fast
    from newsdedup.sign import SignatureSpec, Signer

    if _native.available():  # load the compiled kernels before timing (as a warm worker has)
        _native.warm()
    t0 = time.perf_counter()
    ids, texts = read_jsonl(path)
    t1 = time.perf_counter()
    signer = Signer(SignatureSpec())
    for start in range(0, len(texts), 4096):
        signer.sign_texts([normalize_fast(t) for t in texts[start : start + 4096]], min_tokens=5)
    t2 = time.perf_counter()
    return dict(version=newsdedup.__version__, ids=ids, groups=None, pairs=None,
                read=t1 - t0, sig=t2 - t1, lsh=None, total=None,
                note=f"normalize + Signer.sign_texts, one process, native={_native.available()}")


def run_newsdedup_stages(path: str, strip: bool) -> dict:
    """The stages of ``cluster()`` timed one by one, ending with the copy tier only.

    read (JSONL -> Articles) -> prepare (strip when asked, normalise, shingle,
    sign: worker processes) -> id order + exact duplicates -> LSH candidates ->
    exact Jaccard of every candidate pair (compiled set intersections) ->
    union-find groups. It leaves out what ``score.link`` adds on top of the copy
    tier (passage candidates, template and chain guards, rewrites), so it
    measures the parts this benchmark is about at sizes where ``cluster()``
    does not finish in the time the benchmark has.
    """
    import numpy as np

    import newsdedup
    from newsdedup import _native
    from newsdedup.chunks import prepare_stream
    from newsdedup.config import Config
    from newsdedup.index import candidate_pairs
    from newsdedup.load import iter_articles
    from newsdedup.pipeline import lsh_params

    config = Config(threshold=THRESHOLD, rewrite=False, strip=strip, boilerplate="off")
    t0 = time.perf_counter()
    prep = prepare_stream(iter_articles(path), config)
    cols = prep.finish()
    t1 = time.perf_counter()
    n = len(prep.ids)
    order = np.array(sorted(range(n), key=prep.ids.__getitem__), dtype=np.int64)
    sizes = cols.shingles.sizes()
    leader_of: dict[bytes, int] = {}
    edges = []
    is_leader = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(sizes[order] > 0).tolist():
        g = int(order[i])
        lead = leader_of.setdefault(cols.keys[g], g)
        if lead == g:
            is_leader[g] = True
        else:
            edges.append((lead, g))
    leaders = order[is_leader[order]]
    t2 = time.perf_counter()
    pairs = candidate_pairs(cols.signatures[leaders], lsh_params(config))
    t3 = time.perf_counter()
    a, b = leaders[pairs[:, 0]], leaders[pairs[:, 1]]
    inter = _native.kernels()["intersections"](cols.shingles.values, cols.shingles.offsets, a, b)
    union = sizes[a] + sizes[b] - inter
    keep = inter >= THRESHOLD * union
    edges.extend(zip(a[keep].tolist(), b[keep].tolist(), strict=True))
    groups = groups_from_pairs(n, edges)
    t4 = time.perf_counter()
    cols.close()
    ids = prep.ids
    return dict(version=newsdedup.__version__, ids=ids, groups=groups, pairs=int(keep.sum()),
                read=None, sig=t1 - t0, lsh=t3 - t2, total=t4 - t0,
                stages={"prepare": t1 - t0, "exact": t2 - t1, "lsh": t3 - t2,
                        "verify_groups": t4 - t3, "candidates": len(pairs),
                        "workers": prep.workers},
                note=f"copy tier only (strip={strip}, no score.link guards); sig = read + "
                "prepare in worker processes")


def run_textdedup(path: str) -> dict:
    import tempfile
    from importlib.metadata import version

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from pathlib import Path

    from text_dedup import minhash as tdm
    from text_dedup.config.base import load_config_from_toml

    tmp = tempfile.mkdtemp(prefix="td-")
    # text-dedup reads one text column: give it title + text like the others.
    src = os.path.join(tmp, "in.jsonl")
    ids, texts = read_jsonl(path)
    with open(src, "w", encoding="utf-8") as fh:
        for i, t in zip(ids, texts, strict=True):
            fh.write(json.dumps({"id": i, "text": t}) + "\n")
    # Config reads only TOML (its settings sources), so write one.
    toml = os.path.join(tmp, "config.toml")
    with open(toml, "w", encoding="utf-8") as fh:
        fh.write(f"""
[input]
input_type = "local_files"
file_type = "json"
[input.read_arguments]
path = "json"
data_files = "{src}"
split = "train"
cache_dir = "{os.path.join(tmp, 'hf')}"

[algorithm]
algorithm_name = "minhash"
text_column = "text"
num_perm = {NUM_PERM}
threshold = {THRESHOLD}
ngram_size = {NGRAM}
min_length = {NGRAM}
hash_func_name = "xxh3"
hash_bits = 64
num_proc = 2

[output]
output_dir = "{os.path.join(tmp, 'out')}"

[debug]
enable_profiling = false
""")
    cfg = load_config_from_toml(Path(toml))
    t0 = time.perf_counter()
    ds, _, _ = tdm.load_and_preprocess(cfg)
    t1 = time.perf_counter()
    emb = tdm.fingerprint(cfg, ds)
    t2 = time.perf_counter()
    parents = tdm.cluster(cfg, emb)
    by: dict[int, list[int]] = {}
    for doc, root in parents.items():
        by.setdefault(root, []).append(doc)
    groups = [g for g in by.values() if len(g) > 1]
    t3 = time.perf_counter()
    return dict(version=version("text-dedup"), ids=ids, groups=groups, pairs=None,
                read=t1 - t0, sig=t2 - t1, lsh=t3 - t2, total=t3 - t0,
                note="num_proc=2, xxh3 64-bit, datasketch-optimal bands for 0.8; "
                "no false-positive check")


def run_datatrove(path: str) -> dict:
    import struct
    import tempfile
    from importlib.metadata import version

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.utils.hashing import HashConfig

    tmp = tempfile.mkdtemp(prefix="dt-")
    ids, texts = read_jsonl(path)
    # Two input shards so that both cores sign (one task per file).
    os.makedirs(os.path.join(tmp, "in"))
    half = (len(ids) + 1) // 2
    shard_ids = [ids[:half], ids[half:]]
    for k, (lo, hi) in enumerate(((0, half), (half, len(ids)))):
        with open(os.path.join(tmp, "in", f"part-{k}.jsonl"), "w", encoding="utf-8") as fh:
            for i in range(lo, hi):
                fh.write(json.dumps({"id": ids[i], "text": texts[i]}) + "\n")
    del texts
    cfg = MinhashConfig(n_grams=NGRAM, num_buckets=9, hashes_per_bucket=13,
                        hash_config=HashConfig(precision=64))
    sig, buck, clus = (os.path.join(tmp, d) for d in ("sig", "buckets", "clusters"))
    logs = os.path.join(tmp, "logs")
    t0 = time.perf_counter()
    LocalPipelineExecutor(pipeline=[
        JsonlReader(os.path.join(tmp, "in")), MinhashDedupSignature(output_folder=sig, config=cfg),
    ], tasks=2, workers=2, logging_dir=logs + "1").run()
    t1 = time.perf_counter()
    LocalPipelineExecutor(pipeline=[
        MinhashDedupBuckets(input_folder=sig, output_folder=buck, config=cfg),
    ], tasks=cfg.num_buckets, workers=2, logging_dir=logs + "2").run()
    LocalPipelineExecutor(pipeline=[
        MinhashDedupCluster(input_folder=buck, output_folder=clus, config=cfg),
    ], tasks=1, logging_dir=logs + "3").run()
    t2 = time.perf_counter()
    pairs = []
    pos = {}
    for k, sids in enumerate(shard_ids):
        for d in range(len(sids)):
            pos[(k, d)] = k * half + d
    for name in sorted(os.listdir(buck)):
        if name.endswith(".dups"):
            with open(os.path.join(buck, name), "rb") as fh:
                data = fh.read()
            for f1, d1, f2, d2 in struct.iter_unpack("<4I", data):
                if (f1, d1) in pos and (f2, d2) in pos:
                    pairs.append((pos[(f1, d1)], pos[(f2, d2)]))
    groups = groups_from_pairs(len(ids), pairs)
    return dict(version=version("datatrove"), ids=ids, groups=groups, pairs=len(set(pairs)),
                read=None, sig=t1 - t0, lsh=t2 - t1, total=t2 - t0,
                note="stages 1-3, LocalPipelineExecutor, 2 tasks, 9 buckets x 13 hashes, "
                "64-bit xxhash; sig includes reading the JSONL")


def main() -> None:
    tool, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    runners = {
        "newsdedup": lambda: run_newsdedup(path, rewrite=False),
        "newsdedup-full": lambda: run_newsdedup(path, rewrite=True),
        "newsdedup-sig": lambda: run_newsdedup_sig(path),
        "newsdedup-core": lambda: run_newsdedup_stages(path, strip=False),
        "newsdedup-core-strip": lambda: run_newsdedup_stages(path, strip=True),
        "datasketch": lambda: run_datasketch(path, fast=False),
        "datasketch-xxh": lambda: run_datasketch(path, fast=True),
        "rensa": lambda: run_rensa(path),
        "text-dedup": lambda: run_textdedup(path),
        "datatrove": lambda: run_datatrove(path),
    }
    res = runners[tool]()
    ids = res.pop("ids")
    groups = res.pop("groups")
    res["docs"] = len(ids)
    if groups is not None:
        res["groups"] = len(groups)
        res["grouped_docs"] = sum(len(g) for g in groups)
        with open(out, "w", encoding="utf-8") as fh:
            json.dump([[ids[i] for i in g] for g in groups], fh)
    else:
        res["groups"] = None
    res["tool"] = tool
    print(json.dumps(res))


if __name__ == "__main__":
    main()
