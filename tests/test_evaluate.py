"""Evaluation metrics: pairwise P/R/F1, ARI, recall per relation, negative link rates."""

from __future__ import annotations

import json

import pytest

from newsdedup.cli import main
from newsdedup.errors import InputError
from newsdedup.evaluate import Truth, evaluate


def test_perfect_prediction_scores_one() -> None:
    t = Truth.from_json([["a", "b", "c"], ["d"], ["e", "f"]])
    r = evaluate([["a", "b", "c"], ["d"], ["e", "f"]], t)
    assert (r.precision, r.recall, r.f1, r.ari) == (1.0, 1.0, 1.0, 1.0)
    assert r.true_pairs == 4 and r.correct_pairs == 4


def test_everything_merged_has_ari_zero_by_hand() -> None:
    # truth {a,b},{c,d}: 2 true pairs; prediction one cluster: 6 pairs, 2 correct.
    # expected index = 2 * 6 / 6 = 2, max index = (2 + 6) / 2 = 4 -> ARI 0.
    r = evaluate([["a", "b", "c", "d"]], Truth.from_json([["a", "b"], ["c", "d"]]))
    assert r.precision == pytest.approx(2 / 6)
    assert r.recall == 1.0
    assert r.ari == pytest.approx(0.0)


def test_all_singletons_have_recall_zero_and_precision_one() -> None:
    r = evaluate([["a"], ["b"], ["c"]], Truth.from_json([["a", "b"], ["c"]]))
    assert r.recall == 0.0 and r.precision == 1.0 and r.f1 == 0.0


def test_recall_by_relation_and_negatives() -> None:
    t = Truth.from_json({
        "clusters": [["s", "s-copy", "s-rw"], ["x"], ["y"]],
        "relations": {"s-copy": "near_duplicate", "s-rw": "rewrite"},
        "negatives": {"same_topic": [["s", "x", "y"]]},
    })
    r = evaluate([["s", "s-copy", "x"], ["s-rw"], ["y"]], t)
    assert r.recall_by_relation == {"near_duplicate": (1.0, 1), "rewrite": (0.0, 1)}
    assert r.negative_link_rate["same_topic"] == (pytest.approx(1 / 3), 3)
    assert "recall rewrite" in r.format()


def test_missing_and_extra_documents() -> None:
    t = Truth.from_json([["a", "b", "gone"]])
    r = evaluate([["a", "b"], ["new"]], t)
    assert r.missing == 1 and r.documents == 3
    assert r.f1 == 1.0


def test_bad_truth_is_rejected() -> None:
    with pytest.raises(InputError, match="more than one cluster"):
        Truth.from_json([["a", "b"], ["b"]])
    with pytest.raises(InputError):
        Truth.from_json({"groups": []})
    with pytest.raises(InputError, match="more than one cluster"):
        evaluate([["a"], ["a"]], Truth.from_json([["a"]]))


def test_cli_eval(tmp_path, capsys) -> None:
    story = ("The city council approved the new budget on Tuesday after a long debate "
             "about funding for schools, roads and the public library system in the town.")
    recs = [{"id": "a", "text": story}, {"id": "b", "text": story + " Reporting by A. Writer."},
            {"id": "c", "text": "Completely unrelated words about a football match and goals "
                                "scored late in the second half by the visiting team."}]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"clusters": [["a", "b"], ["c"]],
                                 "relations": {"b": "near_duplicate"}}))
    assert main(["eval", "--truth", str(truth), str(data), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "F1               1.0000" in out
    assert "recall near_duplicate    1.0000" in out
    assert main(["eval", "--truth", str(truth), str(data), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ari"] == 1.0
