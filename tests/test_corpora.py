"""Integration tests on the real corpora in ../shared/corpora (skipped when absent)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

import newsdedup
from newsdedup.normalize import normalize
from newsdedup.shingle import Shingler, tokenize

from .conftest import corpus_path, read_jsonl_gz

pytestmark = pytest.mark.corpora


def _pairs_above(
    texts: dict[str, str], jaccard: float, containment: float = 2.0
) -> set[tuple[str, str]]:
    """Brute-force reference (no LSH): every pair of texts whose exact 5-shingle
    Jaccard >= ``jaccard`` or containment of the smaller >= ``containment``,
    counting shared shingles through an inverted index."""
    sh = Shingler(5)
    sets = {}
    for k, t in texts.items():
        toks = tokenize(normalize(t))
        if len(toks) >= 5:
            sets[k] = set(sh.shingles(toks).tolist())
    postings: dict[int, list[str]] = defaultdict(list)
    for k, ss in sets.items():
        for h in ss:
            postings[h].append(k)
    shared: Counter[tuple[str, str]] = Counter()
    for ks in postings.values():
        if 1 < len(ks) < 300:
            ks.sort()
            for i in range(len(ks)):
                for j in range(i + 1, len(ks)):
                    shared[(ks[i], ks[j])] += 1
    out = set()
    for (a, b), inter in shared.items():
        na, nb = len(sets[a]), len(sets[b])
        if inter / (na + nb - inter) >= jaccard or inter / min(na, nb) >= containment:
            out.add((a, b))
    return out


def test_bbc_every_pair_above_threshold_is_clustered() -> None:
    path = corpus_path("bbc-news", "bbc-news.jsonl.gz")
    records = list(read_jsonl_gz(path))
    assert len(records) == 2225
    result = newsdedup.cluster(str(path))
    assert result.stats.documents == 2225
    assert sum(len(c.members) for c in result.clusters) == 2225
    stripped = {
        r["id"]: newsdedup.strip(f"{r['title']}\n{r['text']}" if r.get("title") else r["text"]).text
        for r in records
    }
    truth = _pairs_above(stripped, 0.5)
    assert len(truth) > 150  # the corpus has ~170 such pairs (SOURCE.md)
    missed = [p for p in truth if result.cluster_of(p[0]).id != result.cluster_of(p[1]).id]
    assert missed == []
    # Every linked pair was verified: its exact similarity passes a threshold.
    for m in result.pairs:
        if m.relation == "near_duplicate":
            assert m.jaccard >= 0.5
        elif m.relation == "containment":
            assert m.containment >= 0.8


def test_l3s_cross_site_copies_linked_through_boilerplate() -> None:
    """L3S-GN1 page text (navigation, ads and comments included): the pages whose
    human-labelled article texts are copies end up in one cluster, and almost no
    other pair does (copy tier only: rewrites are judged by other tests)."""
    path = corpus_path("l3s-gn1", "l3s-gn1-blocks.jsonl.gz")
    records, gold_text = [], {}
    for r in read_jsonl_gz(path):
        blocks = [(b[0], b[1].strip()) for b in r["blocks"] if b[1].strip()]
        records.append({"id": r["id"], "url": r["url"], "text": "\n".join(t for _, t in blocks)})
        gold_text[r["id"]] = "\n".join(t for lab, t in blocks if lab == 2)
    gold = _pairs_above(gold_text, 0.5, 0.8)
    assert len(gold) >= 10
    result = newsdedup.cluster(records, rewrite=False)
    linked = {
        (a, b) for c in result.clusters for i, a in enumerate(c.members) for b in c.members[i + 1 :]
    }
    assert gold <= linked
    assert len(linked - gold) <= 2
