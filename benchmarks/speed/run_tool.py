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
    import newsdedup

    t0 = time.perf_counter()
    res = newsdedup.cluster(path, threshold=THRESHOLD, rewrite=rewrite, progress=False)
    t1 = time.perf_counter()
    ids = sorted(res.documents)
    pos = {d: i for i, d in enumerate(ids)}
    groups = [[pos[m] for m in c.members] for c in res.duplicates]
    return dict(version=newsdedup.__version__, ids=ids, groups=groups, pairs=len(res.pairs),
                read=None, sig=None, lsh=None, total=t1 - t0,
                note=f"cluster(threshold=0.8, rewrite={rewrite}); LSH {res.lsh.bands}x"
                f"{res.lsh.rows}; pairs = verified links")


def run_newsdedup_sig(path: str) -> dict:
    import newsdedup
    from newsdedup import _native
    from newsdedup.chunks import normalize_fast
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


def run_textdedup(path: str) -> dict:
    import tempfile
    from importlib.metadata import version

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from text_dedup import minhash as tdm
    from text_dedup.config import Config, MinHashAlgorithmConfig
    from text_dedup.config.debug import DebugConfig
    from text_dedup.config.io.input_configs import LocalInputConfig
    from text_dedup.config.io.output_configs import OutputConfig

    tmp = tempfile.mkdtemp(prefix="td-")
    # text-dedup reads one text column: give it title + text like the others.
    src = os.path.join(tmp, "in.jsonl")
    ids, texts = read_jsonl(path)
    with open(src, "w", encoding="utf-8") as fh:
        for i, t in zip(ids, texts, strict=True):
            fh.write(json.dumps({"id": i, "text": t}) + "\n")
    cfg = Config(
        input=LocalInputConfig(file_type="json", read_arguments={
            "path": "json", "data_files": src, "split": "train",
            "cache_dir": os.path.join(tmp, "hf")}),
        algorithm=MinHashAlgorithmConfig(
            algorithm_name="minhash", text_column="text", num_perm=NUM_PERM,
            threshold=THRESHOLD, ngram_size=NGRAM, min_length=NGRAM, hash_func_name="xxh3",
            hash_bits=64, num_proc=2),
        output=OutputConfig(output_dir=os.path.join(tmp, "out")),
        debug=DebugConfig(),
    )
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
            data = open(os.path.join(buck, name), "rb").read()
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
