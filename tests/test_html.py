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
from newsdedup.html import (
    HUGE_DEPTH,
    Extraction,
    _combine,
    drop_markup,
    extract,
    extract_html,
    html_to_text,
    untable,
)

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


@needs_trafilatura
def test_a_page_s_own_url_names_its_outlet(tmp_path: Any, seed_texts: tuple[str, str]) -> None:
    """An HTML file's article takes the page's own URL (canonical link or
    og:url) as its ``url``, so its host is the outlet: the seeds (one story
    rewritten) as two pages of one site meet the same-source bar, as pages of
    two sites they are linked. A record's own ``url`` is kept."""
    def page(text: str, head: str) -> str:
        body = "\n".join(f"<p>{ln}</p>" for ln in text.splitlines() if ln.strip())
        return (f"<html><head><title>Panjshir</title>{head}</head><body><article>"
                f"{body}</article></body></html>")

    def files(head_a: str, head_b: str) -> newsdedup.Clusters:
        d = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        d.mkdir()
        (d / "a.html").write_text(page(seed_texts[0], head_a), encoding="utf-8")
        (d / "b.html").write_text(page(seed_texts[1], head_b), encoding="utf-8")
        return newsdedup.cluster(str(d))

    same = files('<link rel="canonical" href="https://www.site.example/a">',
                 '<meta property="og:url" content="https://site.example/b">')
    assert [a.outlet for a in same.articles.values()] == ["site.example"] * 2
    assert [a.url for a in same.articles.values()] == [
        "https://www.site.example/a", "https://site.example/b"]
    assert len(same.clusters) == 2
    two = files('<link rel="canonical" href="https://one.example/a">',
                '<link rel="canonical" href="https://two.example/b">')
    assert len(two.clusters) == 1
    relative = files('<link rel="canonical" href="/a">', "")
    assert [a.url for a in relative.articles.values()] == [None, None]
    assert len(relative.clusters) == 1
    rec = {"id": "r", "url": "https://given.example/r",
           "html": page(seed_texts[0], '<link rel="canonical" href="https://site.example/a">')}
    assert newsdedup.cluster([rec]).articles["r"].url == "https://given.example/r"
    rec.pop("url")
    assert newsdedup.cluster([rec]).articles["r"].url == "https://site.example/a"


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
    """Regression guard on 30 pages (0.978 when written; all 181: F1 0.968, docs/benchmarks.md)."""
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
    assert 2 * p * r / (p + r) >= 0.95


# ------------------------------------------------ agreement with readability-lxml

NAV = ["Home", "World", "Sport", "Sign in to comment"]
ARTICLE = [PARAS[0], PARAS[1], "Key points:", "Budget up 4%", PARAS[3]]


def test_combine_keeps_the_region_both_extractors_agree_on() -> None:
    text = "\n".join(NAV[:2] + ARTICLE + NAV[2:])
    ex = _combine(text, "\n".join(ARTICLE))
    assert ex.text.splitlines() == ARTICLE
    assert ex.extractor == "trafilatura"
    assert ex.agreed == (True,) * len(ARTICLE)


def test_combine_keeps_an_unagreed_line_inside_the_region() -> None:
    text = "\n".join(NAV[:1] + ARTICLE)
    other = "\n".join(a for a in ARTICLE if a != "Budget up 4%")
    ex = _combine(text, other)
    assert "Budget up 4%" in ex.text.splitlines()
    assert ex.agreed is not None and ex.agreed[ex.text.splitlines().index("Budget up 4%")] is False


def test_combine_takes_readability_when_it_holds_trafilatura_and_is_longer() -> None:
    other = "\n".join(PARAS)
    ex = _combine(PARAS[0], other)
    assert (ex.text, ex.extractor, ex.agreed) == (other, "readability", None)
    # not when readability's text is not twice as long
    assert _combine("\n".join(PARAS[:3]), other).extractor == "trafilatura"


def test_combine_without_agreement_keeps_trafilatura_whole() -> None:
    text = "\n".join(PARAS)
    # readability found a different block: trafilatura's text stays, no veto
    ex = _combine(text, "An unrelated teaser about the weather and the local football team.")
    assert (ex.text, ex.agreed) == (text, None)
    assert _combine(text, None) == Extraction(
        title=None, text=text, agreed=None, extractor="trafilatura"
    )
    assert _combine("", "Some text here.").extractor == "readability"
    assert _combine("", "").text == ""


def test_agreed_lines_are_not_removed_by_the_classifier(monkeypatch: pytest.MonkeyPatch) -> None:
    import newsdedup.html as html_mod
    from newsdedup import strip

    lines = ["Menu", "Login", *ARTICLE, "Weather", "Contact us", "Read: Council delays vote"]
    text = "\n".join(lines)
    plain = strip(text)
    by_model = {r.text for r in plain.removed if r.rule == "line_model"}
    assert by_model, "the classifier removes some short lines of this text"
    agreed = tuple(ln in ARTICLE for ln in lines)
    fake = Extraction(title=None, text=text, agreed=agreed, extractor="trafilatura")
    monkeypatch.setattr(html_mod, "extract", lambda html, url=None: fake)
    result = html_to_text("<html></html>")
    kept = result.text.splitlines()
    for line in lines:
        if line in ARTICLE and line in by_model:
            assert line in kept  # vetoed: readability has it
        elif line in by_model:
            assert line not in kept
    assert "Read: Council delays vote" not in kept  # named rules always apply
    assert {r.rule for r in result.removed} <= {r.rule for r in plain.removed}
    for r in result.removed:  # spans refer to the extracted text
        assert text[r.start : r.end] == r.text


@needs_trafilatura
def test_without_readability_trafilatura_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "readability" or name.startswith("readability."):
            raise ImportError("No module named 'readability'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    ex = extract(_page())
    assert (ex.extractor, ex.agreed) == ("trafilatura", None)
    assert PARAS[0] in ex.text.splitlines()


@needs_trafilatura
def test_headline_is_not_repeated_in_the_text() -> None:
    ex = extract(_page())
    assert ex.title == "Council approves budget"
    assert "Council approves budget" not in ex.text.splitlines()


def test_drop_markup() -> None:
    text = 'A sentence with a < b and c > d stays.\n<ul id="bar">\n</div>\n<a href="/x">Long\nFine.'
    assert drop_markup(text) == "A sentence with a < b and c > d stays.\nFine."


def test_cluster_strips_html_records_as_html_to_text_does() -> None:
    """`cluster()` on HTML applies the same veto as :func:`html_to_text`: lines
    both extractors kept are not removed by the line classifier (real pages of
    the article-extraction-benchmark)."""
    from newsdedup.html import veto
    from newsdedup.strip import strip

    folder = corpus_path("article-extraction-benchmark", "html")
    pages = sorted(folder.glob("*.html.gz"))[:60]
    recs = []
    for p in pages:
        with gzip.open(p, "rt", encoding="utf-8", errors="replace") as fh:
            recs.append({"id": p.name, "html": fh.read()})
    res = newsdedup.cluster(recs, rewrite=False, boilerplate="off")
    vetoed = 0
    for rec in recs:
        ex = extract(rec["html"])
        full = newsdedup.Article(id="x", text=ex.text, title=ex.title).full_text
        plain = strip(full)
        expected = veto(full, plain, ex.agreed, body=ex.text)
        assert res.documents[rec["id"]].cleaned_length == len(expected.text), rec["id"]
        vetoed += len(expected.text) != len(plain.text)
    assert vetoed >= 1  # the veto changed at least one of these pages
    # The streaming Deduper prepares HTML records the same way.
    from newsdedup.config import Config
    from newsdedup.load import article_from_record
    from newsdedup.stream import _Preparer

    arts = [article_from_record(r, source="test", line=None, default_id=r["id"]) for r in recs]
    items = _Preparer(Config(rewrite=False, boilerplate="off"))(arts)
    for rec, it in zip(recs, items, strict=True):
        assert len(it.cleaned) == res.documents[rec["id"]].cleaned_length, rec["id"]


def test_html_files_in_legacy_encodings_are_read(tmp_path: Any) -> None:
    # A page that declares its charset (or carries a byte-order mark) is valid
    # HTML: it was rejected as "invalid UTF-8" (or as binary, for UTF-16).
    from newsdedup.load import iter_articles

    body = ("<p>María López, the mayor of Cádiz, said on Tuesday that the council had "
            "approved the new budget for schools, roads and the public library.</p>")
    pages = {
        "latin1.html": ('<html><head><meta charset="iso-8859-1"><title>Budget</title></head>'
                        f"<body>{body}</body></html>").encode("latin-1"),
        "cp1252.html": ('<html><head><meta http-equiv="Content-Type" content="text/html; '
                        'charset=windows-1252"><title>Budget</title></head>'
                        f"<body>{body}</body></html>").encode("cp1252"),
        "utf16.html": f"<html><head><title>Budget</title></head><body>{body}</body></html>"
                      .encode("utf-16"),
    }
    for name, data in pages.items():
        (tmp_path / name).write_bytes(data)
        (art,) = iter_articles(str(tmp_path / name))
        assert "María López" in art.text and "Cádiz" in art.text, name
    undeclared = tmp_path / "undeclared.html"
    undeclared.write_bytes(f"<html><body>{body}</body></html>".encode("latin-1"))
    with pytest.raises(newsdedup.InputError, match=r"invalid UTF-8 .*declare it"):
        list(iter_articles(str(undeclared)))
    unknown = tmp_path / "unknown.html"
    unknown.write_bytes(b'<meta charset="x-nonesuch">' + body.encode("latin-1"))
    with pytest.raises(newsdedup.InputError, match="'x-nonesuch' is not one Python knows"):
        list(iter_articles(str(unknown)))


def test_charsets_declared_after_4_kb_or_by_an_xml_declaration_are_read(
    tmp_path: Any,
) -> None:
    from newsdedup.load import HEAD_SCAN_BYTES, iter_articles

    body = ("<p>María López, the mayor of Cádiz, said on Tuesday that the council had "
            "approved the new budget for schools, roads and the public library.</p>")
    script = "<script>var config = {" + ", ".join(f"k{i}: {i}" for i in range(1500)) + "};</script>"
    assert 4096 < len(script) < HEAD_SCAN_BYTES
    pages = {
        # a large inline script ahead of the <meta> in the head
        "late-meta.html": (f'<html><head>{script}<meta charset="iso-8859-1"><title>Budget'
                           f"</title></head><body>{body}</body></html>"),
        # XHTML: the XML declaration names the encoding
        "xhtml.html": ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<html xmlns='
                       '"http://www.w3.org/1999/xhtml"><head><title>Budget</title></head>'
                       f"<body>{body}</body></html>"),
    }
    for name, page in pages.items():
        (tmp_path / name).write_bytes(page.encode("latin-1"))
        (art,) = iter_articles(str(tmp_path / name))
        assert "María López" in art.text and "Cádiz" in art.text, name
    # a <meta> inside the body (here: quoted in the text) is not the page's
    quoted = tmp_path / "quoted.html"
    quoted.write_bytes((f"<html><head>{script}</head><body>{body}<pre>&lt;meta "
                        '<meta charset="koi8-r"></pre></body></html>').encode("latin-1"))
    with pytest.raises(newsdedup.InputError, match=r"invalid UTF-8 .*declare it"):
        list(iter_articles(str(quoted)))


def test_declared_charsets_are_read_as_browsers_read_them(tmp_path: Any) -> None:
    # A page labelled iso-8859-1 is written in windows-1252 (curly quotes and
    # dashes in 0x80-0x9f): read as latin-1 they became control characters and
    # were lost ("didn't" -> "didnt"); gb2312 pages hold GBK, shift_jis ones cp932.
    from newsdedup.load import iter_articles

    body = ("<p>The mayor said the council didn\u2019t approve the \u201cnew\u201d budget "
            "\u2014 not yet \u2014 on Tuesday, after a long debate about schools.</p>")
    page = tmp_path / "cp1252.html"
    page.write_bytes(('<html><head><meta charset="ISO-8859-1"><title>Budget</title></head>'
                      f"<body>{body}</body></html>").encode("cp1252"))
    (art,) = iter_articles(str(page))
    assert "didn\u2019t" in art.text and "\u2014" in art.text
    sjis = tmp_path / "sjis.html"
    sjis.write_bytes(('<html><head><meta charset="shift_jis"><title>T</title></head><body>'
                      "<p>\u2460 \u5e02\u8b70\u4f1a\u306f\u706b\u66dc\u65e5\u306b\u65b0\u3057"
                      "\u3044\u4e88\u7b97\u3092\u627f\u8a8d\u3057\u307e\u3057\u305f\u3002</p>"
                      "</body></html>").encode("cp932"))  # U+2460 is in cp932, not shift_jis
    (art,) = iter_articles(str(sjis))
    assert "\u2460" in art.text


def test_html_records_url_type_empty_text_and_compare_with_itself(tmp_path: Any) -> None:
    page = ("<html><head><title>Budget</title></head><body><article><p>The city council "
            "approved the new budget on Tuesday after a long debate about funding for "
            "schools, roads and the public library system.</p><p>The vote was seven to "
            "two.</p></article></body></html>")
    # a url that is not a string: the usual InputError (it crashed inside extraction)
    with pytest.raises(newsdedup.InputError, match="field 'url' must be a string"):
        newsdedup.cluster([{"id": "a", "html": page, "url": 123}])
    # "text": "" (a scraper's failed extraction) falls back to the html
    (art,) = newsdedup.load.load([{"id": "a", "text": "", "html": page}])[0]
    assert "council approved the new budget" in art.text
    # ... as does a "text" of white space only
    (art,) = newsdedup.load.load([{"id": "a", "text": " \n\t\u00a0", "html": page}])[0]
    assert "council approved the new budget" in art.text
    # a page compared with itself is an exact copy (side b lost what both extractors kept)
    path = tmp_path / "p.html"
    path.write_text(page, encoding="utf-8")
    assert newsdedup.compare(str(path), str(path)).relation == "exact"


@pytest.mark.corpora
def test_a_real_page_compared_with_itself_is_exact(tmp_path: Any) -> None:
    # compare() renames side b when both ids are the same, and lost its record of
    # the lines both extractors kept: the line classifier then stripped two of
    # them from b only (near_duplicate 0.98 on this page).
    src = corpus_path("article-extraction-benchmark", "html",
                      "0d46122928b6f468cc4bbc694051d0dbae5702bc75a16dab82a99b58daf150a0.html.gz")
    page = tmp_path / "page.html"
    page.write_bytes(gzip.decompress(src.read_bytes()))
    e = newsdedup.compare(str(page), str(page))
    assert e.relation == "exact" and e.removed_a == e.removed_b


# ------------------------------------------------ pages nested deeper than libxml2's limit


def _nested(depth: int, paras: list[str] = PARAS) -> str:
    """``_page`` with its article inside ``depth`` unclosed-looking nested divs,
    and a last paragraph after them."""
    body = "".join(f"<p>{p}</p>" for p in paras[:2])
    return ("<html><head><title>Council approves budget</title></head><body>"
            + "<div>" * depth + f"<article>{body}</article>" + "</div>" * depth
            + f"<p>{paras[3]}</p></body></html>")


@needs_trafilatura
@pytest.mark.parametrize("depth", [300, 1000, 2040])
def test_a_page_nested_deeper_than_256_elements_is_read_whole(depth: int) -> None:
    """lxml's default parser stops at 256 levels and the page's text is lost,
    what comes after the deep part too (it gave an empty document, silently):
    such a page is parsed with the huge-tree option, as a shallow one reads."""
    import lxml.html

    page = _nested(depth)
    lost = lxml.html.fromstring(page).text_content()  # lxml's default parse: the loss
    assert PARAS[0] not in lost and PARAS[3] not in lost
    ex = extract(page)
    shallow = extract(_nested(20))
    assert ex.title == shallow.title == "Council approves budget"
    assert ex.text == shallow.text
    assert PARAS[0] in ex.text and PARAS[1] in ex.text  # (the article element's)


@needs_trafilatura
def test_a_page_too_deep_even_for_the_huge_parser_is_a_reported_input_error(
    tmp_path: Any,
) -> None:
    page = _nested(HUGE_DEPTH + 10)
    with pytest.raises(newsdedup.InputError, match="nested more than 2,048 elements deep"):
        extract(page)
    (tmp_path / "deep.html").write_text(page, encoding="utf-8")
    (tmp_path / "ok.html").write_text(_page(), encoding="utf-8")
    records = tmp_path / "pages.jsonl"
    records.write_text(json.dumps({"id": "a", "html": page}) + "\n"
                       + json.dumps({"id": "b", "html": _page()}) + "\n", encoding="utf-8")
    # named with the file (and line) by default ...
    with pytest.raises(newsdedup.InputError, match=r"deep\.html: HTML nested more than"):
        newsdedup.cluster(str(tmp_path / "deep.html"))
    with pytest.raises(newsdedup.InputError, match=r"pages\.jsonl:1: field 'html': HTML nested"):
        newsdedup.cluster(str(records))
    # ... or skipped and reported
    with pytest.warns(newsdedup.SkippedInputWarning):
        res = newsdedup.cluster([str(tmp_path / "deep.html"), str(records)], errors="skip")
    assert sorted(res.documents) == ["b"]
    assert [(s.source.rsplit("/", 1)[-1], s.line) for s in res.skipped] == [
        ("deep.html", None), ("pages.jsonl", 1)]
