"""HTML input: trafilatura extraction, then our stripping."""

from __future__ import annotations

import builtins
import doctest
import gzip
import importlib
import importlib.util
import json
import re
import sys
from collections import Counter
from typing import Any

import pytest

import newsdedup
from newsdedup import MissingDependencyError
from newsdedup.html import extract_html, html_to_text, untable

from .conftest import corpus_path

PARAS = [
    "The city council approved the new budget on Tuesday after a debate that lasted "
    "most of the evening and ended with a narrow vote of seven to six.",
    "The mayor said the plan would allow the city to hire more teachers, repair roads "
    "and keep the public library open on Sundays for the first time in a decade.",
    "Related: Council delays vote on the new stadium",
    "Opponents said the budget relied on optimistic revenue forecasts and warned that "
    "the city could face a shortfall next year if the local economy slowed down.",
    "The budget takes effect on the first of July and will be reviewed in the autumn "
    "when the finance committee publishes its report on the first quarter.",
]


def _page(paras: list[str] = PARAS) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    return f"""<html><head><title>Council approves budget</title></head><body>
<div class="nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li></ul></div>
<article><h1>Council approves budget</h1>{body}</article>
<div class="footer"><p>Copyright 2024 The Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></div></body></html>"""


HAVE_TRAFILATURA = importlib.util.find_spec("trafilatura") is not None
needs_trafilatura = pytest.mark.skipif(
    not HAVE_TRAFILATURA, reason="trafilatura (extra newsdedup[html]) is not installed"
)


@needs_trafilatura
def test_doctests() -> None:
    assert doctest.testmod(importlib.import_module("newsdedup.html")).failed == 0


@needs_trafilatura
def test_extract_html_returns_title_and_paragraphs() -> None:
    title, text = extract_html(_page())
    assert title == "Council approves budget"
    lines = text.splitlines()
    for p in (PARAS[0], PARAS[1], PARAS[3]):
        assert p in lines
    assert "Sport" not in lines


@needs_trafilatura
def test_our_stripping_adds_to_trafilatura() -> None:
    _title, raw = extract_html(_page())
    assert PARAS[2] in raw.splitlines()  # trafilatura keeps the related link inside <article>
    result = html_to_text(_page())
    assert PARAS[2] not in result.text
    assert "related_link" in {r.rule for r in result.removed}
    for p in (PARAS[0], PARAS[1], PARAS[3], PARAS[4]):
        assert p in result.text


@needs_trafilatura
def test_untable_splits_cells() -> None:
    assert untable("| a | b |\nplain\n|  |") == "a\nb\nplain"


@needs_trafilatura
def test_empty_and_bad_input() -> None:
    assert extract_html("") == (None, "")
    with pytest.raises(TypeError, match="expects a str"):
        extract_html(b"<html></html>")  # type: ignore[arg-type]


@needs_trafilatura
def test_html_files_and_records_are_clustered(tmp_path: Any) -> None:
    (tmp_path / "a.html").write_text(_page(), encoding="utf-8")
    (tmp_path / "b.htm").write_text(_page(PARAS[:2] + PARAS[3:]), encoding="utf-8")
    result = newsdedup.cluster(str(tmp_path))
    assert [len(c) for c in result.clusters] == [2]
    info = result.documents[str(tmp_path / "a.html")]
    assert info.title == "Council approves budget"
    assert "related_link" in [r.rule for r in info.removed]
    removed_text = " ".join(r.text for r in info.removed)
    assert not any(p in removed_text for p in (PARAS[0], PARAS[1], PARAS[3], PARAS[4]))
    records = [{"id": "r1", "html": _page()}, {"id": "r2", "html": _page()}]
    assert [c.members for c in newsdedup.cluster(records).clusters] == [("r1", "r2")]


def test_missing_trafilatura_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "trafilatura" or name.startswith("trafilatura."):
            raise ImportError("No module named 'trafilatura'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "trafilatura", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MissingDependencyError, match=r"newsdedup\[html\]"):
        extract_html("<html><body><p>x</p></body></html>")


def _f1(gold: str, pred: str) -> tuple[float, float]:
    def sh(t: str) -> Counter[tuple[str, ...]]:
        toks = re.findall(r"\w+", t)
        return Counter(tuple(toks[i : i + 4]) for i in range(max(1, len(toks) - 3)))

    a, b = sh(gold), sh(pred)
    tp = sum((a & b).values())
    return tp / max(1, sum(b.values())), tp / max(1, sum(a.values()))


@needs_trafilatura
@pytest.mark.corpora
def test_article_extraction_benchmark_sample() -> None:
    """Regression guard on 30 pages (full benchmark: F1 0.95, see docs/benchmarks.md)."""
    root = corpus_path("article-extraction-benchmark")
    gold = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    ps, rs = [], []
    for key in sorted(gold)[:30]:
        html = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()).decode(
            "utf-8", errors="replace"
        )
        p, r = _f1(gold[key]["articleBody"], html_to_text(html).text)
        ps.append(p)
        rs.append(r)
    p, r = sum(ps) / len(ps), sum(rs) / len(rs)
    assert 2 * p * r / (p + r) >= 0.90
