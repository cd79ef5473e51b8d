"""``Clusters.documents`` of a run: a read-only mapping made on access from
columns, that behaves as the dict of the same DocumentInfo objects."""

from __future__ import annotations

import pickle

import pytest

import newsdedup
from newsdedup.result import DocumentTable
from newsdedup.types import DocumentInfo, Removal

from .test_pipeline import UNRELATED, seed_001_copies


def _result() -> newsdedup.Clusters:
    texts = seed_001_copies() + UNRELATED[:3]
    # (ids against the input order: document i of the id order is not input i)
    docs = [{"id": f"d{len(texts) - k:02d}", "text": t, "source": "site-a" if k % 2 else None}
            for k, t in enumerate(texts)]
    docs.append({"id": "short", "text": "Too short."})
    return newsdedup.cluster(docs, progress=False)


def test_documents_behave_as_a_dict_of_the_same_objects() -> None:
    res = _result()
    docs = res.documents
    assert isinstance(docs, DocumentTable)
    plain = {k: docs[k] for k in docs}
    assert list(docs) == sorted(docs) and len(docs) == len(plain) == res.stats.documents
    assert docs == plain and plain == dict(docs) and dict(docs.items()) == plain
    assert list(docs.values()) == list(plain.values())
    assert repr(docs) == repr(plain)
    assert "d01" in docs and "nope" not in docs and 3 not in docs and None not in docs
    with pytest.raises(KeyError):
        docs["nope"]
    assert docs.get("nope") is None
    # each value is the DocumentInfo the run found (what stripping removed included)
    assert all(isinstance(v, DocumentInfo) and v.id == k for k, v in plain.items())
    stripped = [v for v in plain.values() if v.removed]
    assert stripped and all(isinstance(r, Removal) for v in stripped for r in v.removed)
    assert docs["short"].n_shingles == 0
    # sources follow their documents (input order is not id order here)
    n = len(docs) - 1
    assert [docs[f"d{n - k:02d}"].source for k in range(4)] == [None, "site-a", None, "site-a"]
    # pickled with the result, equal after
    back = pickle.loads(pickle.dumps(res))
    assert back.documents == plain and back == res


def test_each_document_gets_its_own_removals_and_facts() -> None:
    res = _result()
    assert res.articles  # (kept for a small run)
    for key, info in res.documents.items():
        text = res.articles[key].full_text
        assert all(text[r.start : r.end].strip() == r.text.strip() for r in info.removed), key
        assert info.title == res.articles[key].title
    assert sum(len(v.removed) for v in res.documents.values()) >= 2
