import json
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newsdedup
from newsdedup import Article, Deduper

from .conftest import SEED_001

UNRELATED = [
    "City council approves new budget\nThe city council voted 7-2 on Tuesday to approve a "
    "budget that raises spending on road repairs and hires twelve more librarians. The mayor "
    "said the plan keeps property taxes flat for the third year, while critics warned that "
    "pension costs would force cuts within two years. The budget takes effect in July.",
    "Storm knocks out power to thousands\nHigh winds brought down trees and power lines across "
    "the coastal county overnight, leaving about 40,000 homes without electricity. Utility "
    "crews from three neighbouring states were called in, and officials said most customers "
    "should have power back by Friday evening. Schools in the area will stay closed on Thursday.",
    "Local team wins regional final\nA late goal from the nineteen-year-old striker gave the "
    "home side a 2-1 win in the regional cup final on Saturday, their first title in a decade. "
    "More than 9,000 fans filled the stadium. The coach praised the defence, which held firm "
    "through eight minutes of added time, and said the squad would celebrate on Sunday.",
    "Chip maker reports record quarter\nThe semiconductor company reported quarterly revenue of "
    "$4.2 billion, up 31 percent from a year earlier, driven by demand for data-centre "
    "processors. Its shares rose 6 percent in after-hours trading. The chief executive said "
    "supply constraints would ease by the end of the year as a new factory comes online.",
]


def seed_001_copies() -> list[str]:
    """Seed 001 re-wrapped in other sites' boilerplate, with a dropped sentence."""
    original = SEED_001.read_text(encoding="utf-8")
    lines = original.splitlines()
    body = [ln for ln in lines[3:] if not ln.startswith("READ:")]
    dropped = [ln for ln in body if not ln.startswith("A prominent Taliban general")]
    copy1 = "\n".join(
        ["Taliban told to halt Panjshir offensive as resistance seeks truce",
         "READ: Ten things to know about Afghanistan this week", "By Staff Reporter", ""]
        + dropped
        + ["", "READ: Markets close higher on Friday",
           "Copyright 2021 Example News Network. All rights reserved."]
    )
    copy2 = "\n".join(
        ["Panjshir opposition calls for a truce and talks with the Taliban in Afghanistan",
         "Related: Who are the National Resistance Front?", ""]
        + body
        + ["", "(c) 2021 Another Daily. All rights reserved."]
    )
    return [original, copy1, copy2]


def test_planted_cluster_copies_together_unrelated_alone() -> None:
    docs = seed_001_copies() + UNRELATED
    result = newsdedup.cluster(docs)
    members = [c.members for c in result.clusters]
    assert members[0] == ("0", "1", "2")
    assert sorted(members[1:]) == [("3",), ("4",), ("5",), ("6",)]
    rels = {(m.a, m.b): m.relation for m in result.pairs}
    assert set(rels.values()) <= {"near_duplicate", "exact", "containment"}
    assert all(0.0 <= m.jaccard <= 1.0 and 0.0 <= m.score <= 1.0 for m in result.pairs)
    # The seed's own boilerplate was stripped and recorded.
    rules = [r.rule for r in result.documents["0"].removed]
    assert rules.count("related_link") == 2 and "translate_widget" in rules


def test_every_document_in_exactly_one_cluster_with_empty_and_short() -> None:
    docs = ["", "   ", "Too short.", "Too short.", *UNRELATED, UNRELATED[0]]
    result = newsdedup.cluster(docs)
    seen = [m for c in result.clusters for m in c.members]
    assert sorted(seen) == sorted(str(i) for i in range(len(docs)))
    # Empty and too-short documents are singletons, never similar to one another.
    for i in ("0", "1", "2", "3"):
        assert result.cluster_of(i).members == (i,)
    assert result.cluster_of("4").members == ("4", "8")
    assert result.stats.too_short == 4
    exact = [m for m in result.pairs if m.relation == "exact"]
    assert [(m.a, m.b, m.score) for m in exact] == [("4", "8", 1.0)]
    assert result.stats.exact_duplicates == 1


def test_representative_policies() -> None:
    base = UNRELATED[1]
    longer = base + " Officials urged residents to stay away from fallen lines."
    arts = [
        Article(id="a", text=base, published=None),
        Article(id="b", text=longer),
        Article(id="c", text=base + " Updated.", published=None),
    ]
    assert newsdedup.cluster(arts).clusters[0].members == ("a", "b", "c")
    assert newsdedup.cluster(arts).clusters[0].representative == "b"
    assert newsdedup.cluster(arts, representative="first_id").clusters[0].representative == "a"
    from datetime import datetime

    arts_t = [
        Article(id="a", text=base, published=datetime(2021, 1, 2)),
        Article(id="b", text=longer, published=datetime(2021, 1, 3)),
        Article(id="c", text=base + " Updated.", published=datetime(2021, 1, 1)),
    ]
    assert newsdedup.cluster(arts_t, representative="earliest").clusters[0].representative == "c"


# --- properties ------------------------------------------------------------

SENTENCES = [s for art in UNRELATED for s in art.split(". ")]


@st.composite
def corpora(draw: st.DrawFn) -> list[str]:
    n_stories = draw(st.integers(min_value=1, max_value=5))
    docs: list[str] = []
    for _ in range(n_stories):
        picks = draw(st.lists(st.sampled_from(SENTENCES), min_size=3, max_size=10))
        story = ". ".join(picks)
        docs.append(story)
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            words = story.split()
            cut = draw(st.integers(min_value=0, max_value=max(0, len(words) // 5)))
            docs.append(" ".join(words[cut:]) + draw(st.sampled_from(["", " Reuters.", " (AP)"])))
    docs += draw(st.lists(st.sampled_from(["", "short one", "x y z"]), max_size=3))
    return docs


def _partition(result: newsdedup.Clusters, id_map: dict[str, str]) -> set[frozenset[str]]:
    return {frozenset(id_map[m] for m in c.members) for c in result.clusters}


@settings(max_examples=40, deadline=None)
@given(corpora(), st.randoms(use_true_random=False))
def test_partition_and_input_order_invariance(docs: list[str], rnd: random.Random) -> None:
    records = [{"id": f"d{i:03d}", "text": t} for i, t in enumerate(docs)]
    first = newsdedup.cluster(records)
    members = [m for c in first.clusters for m in c.members]
    assert sorted(members) == sorted(r["id"] for r in records)  # exactly once each
    assert len(members) == len(set(members))
    shuffled = records[:]
    rnd.shuffle(shuffled)
    second = newsdedup.cluster(shuffled)
    assert [c.members for c in second.clusters] == [c.members for c in first.clusters]
    assert [c.representative for c in second.clusters] == [
        c.representative for c in first.clusters
    ]
    assert second.pairs == first.pairs
    # Batch size does not change anything either.
    third = Deduper(batch_size=1).cluster(shuffled)
    assert [c.members for c in third.clusters] == [c.members for c in first.clusters]


# --- result object -----------------------------------------------------------


def test_result_accessors_and_exports(tmp_path: Path) -> None:
    result = newsdedup.cluster(seed_001_copies() + UNRELATED[:2])
    assert len(result) == 3
    assert result.cluster_of("1").members == ("0", "1", "2")
    with pytest.raises(KeyError, match="no document with id 'zz'"):
        result.cluster_of("zz")
    recs = result.to_records()
    assert len(recs) == 5
    rep = result.clusters[0].representative
    by_id = {r["id"]: r for r in recs}
    assert by_id[rep]["is_representative"] and by_id[rep]["duplicate_of"] is None
    others = [r for r in recs if r["cluster_id"] == 0 and not r["is_representative"]]
    assert all(r["duplicate_of"] == rep and r["relation"] for r in others)
    out = tmp_path / "out.jsonl"
    result.to_jsonl(out)
    assert [json.loads(x) for x in out.read_text().splitlines()] == recs
    df = result.to_pandas()
    assert list(df["id"]) == [r["id"] for r in recs]
    text = repr(result)
    assert "5 documents in 3 clusters" in text and "cluster 0 (3)" in text
    html = result._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "<b>" + rep + "</b>" in html
    assert "&lt;" not in html  # ids are plain here; escaping is tested below
    weird = newsdedup.cluster([{"id": "<b>x</b>", "text": UNRELATED[0]},
                               {"id": "y", "text": UNRELATED[0]}])
    assert "&lt;b&gt;x&lt;/b&gt;" in weird._repr_html_()


def test_lsh_params_exposed() -> None:
    result = newsdedup.cluster(UNRELATED, threshold=0.8)
    assert result.lsh.threshold == 0.8
    assert result.lsh.recall_at_threshold >= 0.95
    assert result.config.threshold == 0.8


def test_progress_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    newsdedup.cluster(UNRELATED, progress=True)
    err = capsys.readouterr().err
    assert "shingling" in err and "doc" in err
    newsdedup.cluster(UNRELATED)  # small input: no bar by default
    assert capsys.readouterr().err == ""


def test_spooled_texts_read_back_with_recent_cache(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from newsdedup import chunks

    monkeypatch.setattr(chunks, "SPOOL_RECENT", 3)
    parts = []
    texts = [f"text {i} é\n" * (i % 7 + 1) for i in range(20)]
    for k, block in enumerate((texts[:12], texts[12:])):
        enc = [t.encode("utf-8") for t in block]
        offsets = np.zeros(len(enc) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in enc], out=offsets[1:])
        path = tmp_path / f"part{k}"
        path.write_bytes(b"".join(enc))
        parts.append((str(path), offsets))
    spooled = chunks.SpooledTexts(str(tmp_path), parts)
    order = [0, 1, 0, 13, 2, 19, 0, 5, 5, 12, 11, 1, 19]
    assert [spooled[g] for g in order] == [texts[g] for g in order]
    assert len(spooled._recent) == 3  # bounded
    spooled.close()
