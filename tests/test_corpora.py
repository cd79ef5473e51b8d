"""Integration tests on the real corpora in ../shared/corpora (skipped when absent)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

import newsdedup
from newsdedup.normalize import normalize
from newsdedup.shingle import Shingler, tokenize

from .conftest import corpus_path, read_jsonl_gz

pytestmark = pytest.mark.corpora


def _exact_pairs_above(records: list[dict], threshold: float) -> set[tuple[str, str]]:
    """Brute-force reference: every pair whose exact 5-shingle Jaccard >= threshold,
    by counting shared shingles through an inverted index (no LSH)."""
    sh = Shingler(5)
    sets = {}
    for r in records:
        full = f"{r['title']}\n{r['text']}" if r.get("title") else r["text"]
        toks = tokenize(normalize(newsdedup.strip(full).text))
        if len(toks) >= 5:
            sets[r["id"]] = set(sh.shingles(toks).tolist())
    postings: dict[int, list[str]] = defaultdict(list)
    for doc_id, s in sets.items():
        for h in s:
            postings[h].append(doc_id)
    shared: Counter[tuple[str, str]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) < 200:
            docs.sort()
            for i in range(len(docs)):
                for j in range(i + 1, len(docs)):
                    shared[(docs[i], docs[j])] += 1
    out = set()
    for (a, b), inter in shared.items():
        if inter / (len(sets[a]) + len(sets[b]) - inter) >= threshold:
            out.add((a, b))
    return out


def test_bbc_every_pair_above_threshold_is_clustered() -> None:
    path = corpus_path("bbc-news", "bbc-news.jsonl.gz")
    records = list(read_jsonl_gz(path))
    assert len(records) == 2225
    result = newsdedup.cluster(str(path))
    assert result.stats.documents == 2225
    assert sum(len(c.members) for c in result.clusters) == 2225
    truth = _exact_pairs_above(records, 0.5)
    assert len(truth) > 150  # the corpus has ~170 such pairs (SOURCE.md)
    missed = [p for p in truth if result.cluster_of(p[0]).id != result.cluster_of(p[1]).id]
    assert missed == []
    # Every linked pair was verified: its exact similarity passes a threshold.
    for m in result.pairs:
        if m.relation == "near_duplicate":
            assert m.jaccard >= 0.5
        elif m.relation == "containment":
            assert m.containment >= 0.8
