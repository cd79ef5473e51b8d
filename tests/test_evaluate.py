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


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"clusters": [], "negatives": 5},
         "'negatives' must be an object of name -> list of groups of document ids, got 5"),
        ({"clusters": [], "negatives": {"x": "ab"}},
         "negatives['x'] must be a list of groups of document ids, got 'ab'"),
        ({"clusters": [], "negatives": {"x": ["ab"]}},
         "negatives['x'][0] must be a list of document ids (strings), got 'ab'"),
        ({"clusters": [], "negatives": {"x": [["a", 1]]}},
         "negatives['x'][0] must be a list of document ids (strings), got ['a', 1]"),
        ({"clusters": [], "relations": ["a"]},
         "'relations' must be an object of document id -> relation kind, got ['a']"),
        ({"clusters": [], "relations": {"a": 1}},
         "relations['a'] must be a relation kind (a string), got 1"),
        ([["s0-00", "s0-00"]], "clusters[0] lists 's0-00' twice"),
        ([["a"], ["b", "a"]],
         "document 'a' is in more than one cluster: clusters[0] and clusters[1]"),
        ([["a"], []], "clusters[1] is empty"),
        ([["a"], "b"], "clusters[1] must be a list of document ids (strings), got 'b'"),
        ({"clusters": {"a": 1}},
         "a truth file must be a list of clusters or an object with 'clusters' (a list of "
         "clusters), got {'clusters': {'a': 1}}"),
    ],
)
def test_truth_structure_errors_name_the_file_and_the_problem(
    tmp_path, capsys, data: object, problem: str
) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        Truth.load(truth)
    assert str(info.value) == f"{truth}: {problem}"
    assert info.value.source == str(truth)
    with pytest.raises(InputError) as info:
        Truth.from_json(data)
    assert str(info.value) == f"<truth>: {problem}"
    assert main(["eval", "--truth", str(truth), str(tmp_path / "unused.jsonl")]) == 1
    assert capsys.readouterr().err == f"newsdedup: error: {truth}: {problem}\n"


def test_unreadable_truth_file_is_named(tmp_path, capsys) -> None:
    bad_utf8 = tmp_path / "latin1.json"
    bad_utf8.write_bytes(b'[["caf\xe9"]]')
    not_json = tmp_path / "broken.json"
    not_json.write_text('[["a"]')
    cases = [
        (tmp_path / "missing.json", "cannot read the truth file: no such file or directory"),
        (tmp_path, "the truth file is a directory, not a file"),
        (bad_utf8, "the truth file is not UTF-8 (byte 0xe9 at byte 6)"),
        (not_json, "not valid JSON: Expecting ',' delimiter: line 1 column 7 (char 6)"),
    ]
    for path, problem in cases:
        with pytest.raises(InputError) as info:
            Truth.load(path)
        assert str(info.value) == f"{path}: {problem}"
        assert main(["eval", "--truth", str(path), str(tmp_path / "unused.jsonl")]) == 1
        assert capsys.readouterr().err == f"newsdedup: error: {path}: {problem}\n"


def test_truth_file_with_byte_order_mark(tmp_path) -> None:
    truth = tmp_path / "truth.json"
    truth.write_bytes(b"\xef\xbb\xbf" + json.dumps([["a", "b"]]).encode())
    assert Truth.load(truth).clusters == (("a", "b"),)


def test_a_negative_group_listing_an_id_twice_is_rejected() -> None:
    # (its pair with itself counted as a linked negative: rate 1/3 instead of 0/1)
    from newsdedup.errors import InputError
    from newsdedup.evaluate import Truth

    with pytest.raises(InputError, match=r"negatives\['x'\]\[0\] lists 'a' twice"):
        Truth.from_json({"clusters": [["a"], ["b"]], "negatives": {"x": [["a", "a", "b"]]}})
