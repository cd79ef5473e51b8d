"""Results of inputs too large to keep their articles' texts (more than
chunks.KEEP_ARTICLES_MAX documents; made small here)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import newsdedup
from newsdedup import chunks
from newsdedup.cli import main

STORY = ("The city council approved the new budget on Tuesday after a long debate about "
         "funding for schools, roads and the public library system in the district.")


def _docs() -> list[dict[str, str]]:
    docs = [{"id": f"n{i}", "text": f"Filler number {i} says nothing of note {i * 7}."}
            for i in range(6)]
    return docs + [{"id": "dupA", "text": STORY}, {"id": "dupB", "text": STORY + " Reuters"}]


def test_explain_without_kept_texts_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "KEEP_ARTICLES_MAX", 3)
    r = newsdedup.cluster(_docs(), rewrite=False, progress=False)
    assert r.cluster_of("dupA").members == ("dupA", "dupB")
    assert not r.articles
    with pytest.raises(newsdedup.NewsDedupError, match="did not keep the articles' texts"):
        r.explain("dupA", "dupB")
    with pytest.raises(KeyError, match="no document with id 'nope'"):
        r.explain("dupA", "nope")


def test_cli_table_of_a_large_result_gives_the_verdicts_reasons(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The table explains small clusters; without texts it crashed (KeyError).
    monkeypatch.setattr(chunks, "KEEP_ARTICLES_MAX", 3)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in _docs()), encoding="utf-8")
    out = io.StringIO()
    assert main(["cluster", str(path)], stdout=out) == 0, capsys.readouterr().err
    text = out.getvalue()
    assert "why dupA ~ dupB: " in text
    assert "jaccard" in text.split("why dupA ~ dupB: ", 1)[1].split("\n", 1)[0]
