"""compare(), Clusters.explain() and the CLI's compare command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import newsdedup
from newsdedup.cli import main
from newsdedup.explain import shared_passages

from .conftest import SEED_000, SEED_001

STORY = ("The city council approved the new transport budget on Tuesday after a long debate "
         "about funding for schools, roads and the public library system. Mayor Ellen Hartwick "
         "said the plan would add 42 buses and repair 310 kilometres of road over five years.")


def test_compare_texts_near_duplicate_with_spans_in_both_originals() -> None:
    a = "Breaking\n" + STORY
    b = STORY + " Reporting by A. Writer."
    e = newsdedup.compare(a, b)
    assert e.relation == "near_duplicate" and e.linked and 0.5 <= e.score <= 1.0
    assert e.passages
    for p in e.passages:
        wa = e.text_a[p.a_start : p.a_end].lower().split()
        wb = e.text_b[p.b_start : p.b_end].lower().split()
        assert wa == wb and p.words >= 5
    assert e.coverage_a > 0.8 and e.coverage_b > 0.8
    assert json.loads(json.dumps(e.to_dict()))["relation"] == "near_duplicate"


def test_compare_paths_explains_the_seed_rewrite() -> None:
    e = newsdedup.compare(str(SEED_000), SEED_001)
    assert e.relation == "rewrite" and e.linked
    assert "rewrite score" in e.reason
    assert e.aligned and all(s.a_start >= 0 for s in e.aligned[:3])
    assert e.signals["jaccard"] < 0.01 and e.signals["rewrite_score"] == pytest.approx(e.score)
    assert {r.rule for r in e.removed_b} >= {"related_link"}  # READ: lines of seed 001
    assert "aligned sentences" in str(e)


def test_compare_says_why_not() -> None:
    e = newsdedup.compare(STORY, "Football: the visiting team won the cup final 3-1 after "
                          "extra time in front of a crowd of forty thousand at the stadium.")
    assert e.relation == "distinct" and not e.linked and e.score == 0.0
    assert "below" in e.reason


def test_compare_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="compare"):
        newsdedup.compare(b"bytes", STORY)


def test_compare_takes_records() -> None:
    e = newsdedup.compare({"id": "x", "text": STORY},
                          {"id": "y", "text": STORY + " Reporting by A. Writer."})
    assert (e.a, e.b, e.relation) == ("x", "y", "near_duplicate")
    e = newsdedup.compare({"text": STORY, "title": "Budget"}, STORY)  # no id: "a"
    assert (e.a, e.b) == ("a", "b") and e.text_a.startswith("Budget\n")
    with pytest.raises(newsdedup.InputError, match="compare.. argument a: record has no 'text'"):
        newsdedup.compare({"id": "x"}, STORY)


def test_compare_path_that_is_not_a_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A typo'd path or a directory was compared as the article text "seeds/...".
    typo = str(SEED_000.parent / "000_typo.txt")
    with pytest.raises(newsdedup.InputError, match=r"000_typo\.txt: no such file"):
        newsdedup.compare(typo, SEED_001)
    with pytest.raises(newsdedup.InputError, match="no such file"):
        newsdedup.compare(STORY, "report.txt")
    with pytest.raises(newsdedup.InputError, match="is a directory"):
        newsdedup.compare(str(tmp_path), SEED_001)
    with pytest.raises(newsdedup.InputError, match="is a directory"):
        newsdedup.compare(tmp_path, SEED_001)
    assert main(["compare", typo, str(SEED_001)]) == 1
    assert "000_typo.txt: no such file" in capsys.readouterr().err
    # One-line texts with a "/", a "?" or a file name in them are still texts.
    for text in ("Prices rose 3/4 of a point on Monday in early trade on the exchange",
                 "Who won the election in the northern district this year?",
                 "See the full list of the results in the attached report.txt"):
        assert newsdedup.compare(text, text).relation == "exact"


def test_clusters_explain_uses_the_run_verdict_and_removals() -> None:
    r = newsdedup.cluster([str(SEED_000), str(SEED_001)])
    e = r.explain(str(SEED_001), str(SEED_000))
    assert e.relation == "rewrite" and e.a == str(SEED_000)
    assert e.removed_b == r.documents[str(SEED_001)].removed
    assert any("same cluster" in n for n in e.notes)
    with pytest.raises(KeyError):
        r.explain("nope", str(SEED_000))


def test_shared_passages_skip_stripped_text() -> None:
    from newsdedup.types import Removal

    a = "READ: the cat sat on the mat today\nSomething else entirely here."
    b = "the cat sat on the mat today and more"
    removed = (Removal(start=0, end=34, text=a[:34], rule="related_link"),)
    assert shared_passages(a, b)[0]
    assert shared_passages(a, b, removed)[0] == ()


def test_cli_compare_and_cluster_table_show_the_explanation(capsys) -> None:
    assert main(["compare", str(SEED_000), str(SEED_001)]) == 0
    out = capsys.readouterr().out
    assert "rewrite" in out and "aligned sentences" in out
    assert main(["compare", str(SEED_000), str(SEED_001), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["relation"] == "rewrite"
    assert main(["cluster", str(SEED_000), str(SEED_001), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "why " in out and "rewrite 0." in out and "shared names" in out


def test_shared_passages_never_span_removed_text() -> None:
    # A passage ran across a line stripping removed ("READ: ..."): its A span held
    # 22 words against B's 19 and its reported 19.
    a = ("The council approved the budget on Tuesday after a long debate.\n"
         "READ: Markets today\nIt will take effect next year, officials said.")
    b = ("The council approved the budget on Tuesday after a long debate.\n"
         "It will take effect next year, officials said.")
    e = newsdedup.compare(a, b)
    assert [p.words for p in e.passages] == [11, 8]
    for p in e.passages:
        span_a, span_b = e.text_a[p.a_start : p.a_end], e.text_b[p.b_start : p.b_end]
        assert "READ" not in span_a
        assert len(re.findall(r"\w+", span_a)) == len(re.findall(r"\w+", span_b)) == p.words


def test_passages_read_words_as_the_verdict_does() -> None:
    # An exact copy (fullwidth characters, zero-width characters inside words,
    # NFD accents) was explained with 0 or partial coverage: the passages
    # compared case-folded words, the verdict normalised ones.
    import unicodedata

    w = ("The council of Cádiz approved the budget on Tuesday after a long debate "
         "about roads and schools.")
    copies = [
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w),
        w.replace("budget", "bud\u00adget").replace("council", "coun\u200bcil"),
        unicodedata.normalize("NFD", w),
    ]
    for copy in copies:
        e = newsdedup.compare(w, copy)
        assert e.relation == "exact"
        assert (e.coverage_a, e.coverage_b) == (1.0, 1.0), copy
        assert len(e.passages) == 1
