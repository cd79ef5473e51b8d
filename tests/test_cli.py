import io
import json
from pathlib import Path

import pytest

from newsdedup import __version__
from newsdedup.cli import main

from .conftest import SEEDS
from .test_pipeline import UNRELATED, seed_001_copies


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue()


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    for i, text in enumerate(seed_001_copies() + UNRELATED[:2]):
        (tmp_path / f"doc{i}.txt").write_text(text, encoding="utf-8")
    return tmp_path


def test_cluster_table_on_seeds() -> None:
    code, out = run(["cluster", str(SEEDS), "--no-progress"])
    assert code == 0
    assert "2 documents" in out
    assert "stripped [translate_widget] 'Translate This News In'" in out
    assert "stripped [related_link]" in out
    assert "LSH: " in out and "P(candidate | J=0.5)" in out


def test_cluster_json_and_jsonl(corpus_dir: Path) -> None:
    code, out = run(["cluster", str(corpus_dir), "--format", "json", "--threshold", "0.6"])
    assert code == 0
    doc = json.loads(out)
    assert doc["lsh"]["threshold"] == 0.6
    first = doc["clusters"][0]["members"]
    assert [Path(m).name for m in first] == ["doc0.txt", "doc1.txt", "doc2.txt"]
    assert len(doc["clusters"]) == 3
    code, out = run(["cluster", str(corpus_dir / "*.txt"), "--format", "jsonl"])
    recs = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(recs) == 5
    assert sum(r["is_representative"] for r in recs) == 3


def test_cluster_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["cluster", str(tmp_path / "missing.txt")])
    assert code == 1
    assert "missing.txt: no such file or directory" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine text for one"}\nnot json\n')
    code, _ = run(["cluster", str(bad)])
    assert code == 1
    assert "bad.jsonl:2: not valid JSON" in capsys.readouterr().err
    code, out = run(["cluster", str(bad), "--errors", "skip"])
    assert code == 0 and "skipped 1 inputs" in out
    code, _ = run(["cluster", str(tmp_path), "--threshold", "2"])
    assert code == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"newsdedup {__version__}"


def test_no_command_prints_help() -> None:
    code, out = run([])
    assert code == 2 and "cluster" in out


@pytest.mark.parametrize(
    ("value", "why"),
    [("infd", ""), ("1e400d", ""), ("nand", ""), ("0d", ""),
     ("1e12d", " (longer than 999999999 days)"), ("1000000000d", " (longer than 999999999 days)"),
     ("0.0000001s", " (shorter than a microsecond)")],
)
def test_filter_window_out_of_range_is_a_usage_error(
    value: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(["filter", "--window", value, "unused.jsonl"])
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.endswith(
        "newsdedup filter: error: argument --window: the window must be a positive, finite "
        f"duration such as 3d, 12h, 90m: got {value!r}{why}\n"
    )
    assert "Traceback" not in err


def test_filter_window_extremes_that_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"id": "a", "text": "one two three four five six"}\n')
    for value in ("999999999d", "0.000001s", "2w"):
        code, out = run(["filter", "--window", value, str(data)])
        assert code == 0 and json.loads(out)["id"] == "a"
    capsys.readouterr()


def test_cluster_options_set_the_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    # the seeds are a rewrite pair: linked only with the rewrite signal
    code, out = run(["cluster", str(SEEDS), "--no-progress", "--format", "jsonl"])
    assert code == 0 and [json.loads(x)["relation"] for x in out.splitlines()] == [
        None, "rewrite"]
    code, out = run(["cluster", str(SEEDS), "--no-progress", "--format", "jsonl",
                     "--no-rewrite"])
    assert code == 0 and [json.loads(x)["cluster_size"] for x in out.splitlines()] == [1, 1]
    code, out = run(["cluster", str(SEEDS), "--no-progress", "--no-strip"])
    assert code == 0 and "stripped" not in out
    # a threshold that 128 permutations cannot reach: the error says so, and
    # --num-perm (and the banding it gives) lets it run
    code, _out = run(["cluster", str(SEEDS), "--threshold", "0.01"])
    assert code == 1 and "Raise num_perm to at least" in capsys.readouterr().err
    code, out = run(["cluster", str(SEEDS), "--no-progress", "--threshold", "0.01",
                     "--num-perm", "512", "--shingle-size", "3", "--seed", "7",
                     "--containment-threshold", "0.7", "--rewrite-threshold", "0.3",
                     "--representative", "first_id", "--format", "json"])
    assert code == 0 and json.loads(out)["lsh"]["threshold"] == 0.01
    code, _out = run(["cluster", str(SEEDS), "--num-perm", "1"])
    assert code == 1 and "'num_perm' parameter of Config must be an int in the range [2, " \
        "8192]. Got 1" in capsys.readouterr().err


def test_eval_and_filter_take_the_options(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    truth = tmp_path / "truth.json"
    ids = [str(p) for p in sorted(SEEDS.iterdir())]
    truth.write_text(json.dumps([ids]))
    code, out = run(["eval", "--truth", str(truth), "--no-progress", "--format", "json",
                     str(SEEDS)])
    assert code == 0 and json.loads(out)["recall"] == 1.0
    code, out = run(["eval", "--truth", str(truth), "--no-progress", "--format", "json",
                     "--no-rewrite", str(SEEDS)])
    assert code == 0 and json.loads(out)["recall"] == 0.0
    # an index made with some options is opened again only with the same ones
    index = str(tmp_path / "index.db")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "a", "text": "One short story."}\n'))
    assert run(["filter", "--index", index, "--no-rewrite", "--num-perm", "64"])[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "b", "text": "Another story."}\n'))
    code, _out = run(["filter", "--index", index])
    err = capsys.readouterr().err
    assert code == 1 and "num_perm" in err and "rewrite" in err
