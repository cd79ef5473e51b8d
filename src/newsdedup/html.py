"""HTML to article text: trafilatura, checked against readability-lxml (extra ``newsdedup[html]``).

:func:`extract_html` runs trafilatura with settings chosen for news pages
(:data:`TRAFILATURA_SETTINGS`: no comments, no tables, trafilatura's own
fallbacks on), one paragraph per line, table rows split into one line per cell.
When readability-lxml is installed (it is part of the extra) a second extractor
reads the page too, and the two are combined by agreement:

* trafilatura's text is (nearly) all inside readability's and readability's is
  at least :data:`LONGER` times longer: trafilatura took one part of the
  article and readability found it whole, so readability's text is used;
* otherwise trafilatura's lines before the first and after the last line that
  readability also has (:data:`AGREE_COVER` of the line's word pairs) are
  dropped: the article is where both extractors agree, and what only one of
  them kept at its edges is navigation, teasers, comments. If that agreed
  region holds less than :data:`MIN_AGREED` of trafilatura's words the two
  disagree about where the article is and trafilatura's text is kept whole.

Lines equal to the page title are dropped (the title is returned apart).
:func:`html_to_text` then strips (:func:`newsdedup.strip`): the named rules
apply everywhere, but inside an agreed region the line classifier only removes
lines that readability did not keep (an extracted article's list items, Q&A and
short lines are content; the classifier was fitted on whole page text).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError, MissingDependencyError
from .types import Stripped

#: trafilatura options used for news pages. Tables off: on the 2008 L3S-GN1
#: pages, layout tables bring navigation in (F1 0.919 without vs 0.903 with, on
#: trafilatura's raw output); comments off: they are not the article.
#: ``favor_precision`` and ``favor_recall`` were measured and left off (both
#: lower on L3S-GN1, no better on the article-extraction-benchmark).
TRAFILATURA_SETTINGS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
    "with_metadata": True,
}

#: A line is in the other extractor's text when this share of its word pairs is.
AGREE_COVER = 0.5
#: trafilatura's text counts as inside readability's at this share of its words.
SUBSET_COVER = 0.8
#: readability's text replaces trafilatura's when it holds it and is this much longer.
LONGER = 2.0
#: Below this share of trafilatura's words in the agreed region, nothing is trimmed.
MIN_AGREED = 0.25

_WORD = re.compile(r"\w+")
# tags and comment marks left in text by pages whose markup the parser could not
# read (readability then returns the page source as text)
_MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>|<!--|-->|^\s*</?[a-zA-Z][^<>]*$")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "dd", "dt", "table", "tr", "td", "th", "pre"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section", "article", "figcaption"}
)


#: libxml2, lxml's parser, stops reading an HTML page that nests elements more
#: than 256 deep (an error it logs; lxml raises nothing), and the page's text is
#: lost, what comes after the deep part included; with its huge-tree option it
#: goes to this depth. Such pages are parsed with the option (:func:`extract`).
HUGE_DEPTH = 2048
_DEPTH_ERROR = "Excessive depth in document"


def _parser(huge: bool) -> Any:
    """An lxml HTML parser as trafilatura configures its own (its
    ``trafilatura.utils.HTML_PARSER``), with the huge-tree option or without."""
    import lxml.html

    return lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                                remove_comments=True, remove_pis=True, huge_tree=huge)


def _parsed(html: str, *, huge: bool) -> tuple[Any, bool]:
    """``html`` parsed as trafilatura parses a page's bytes (None where lxml
    cannot), and whether lxml stopped at its depth limit (256 elements, or
    :data:`HUGE_DEPTH` with ``huge``)."""
    import lxml.html

    parser = _parser(huge)
    try:
        tree = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except Exception:  # noqa: BLE001 - (an empty page...) the extractors decide as before
        return None, False
    return tree, any(_DEPTH_ERROR in e.message for e in parser.error_log)


def _trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError:
        raise MissingDependencyError("trafilatura", "html", "Reading HTML input") from None
    return trafilatura


def untable(text: str) -> str:
    """Split trafilatura's table rows (``| a | b |``) into one line per non-empty cell.

    >>> untable("Intro\\n| Cell one | Cell two |\\n|  |  |")
    'Intro\\nCell one\\nCell two'
    """
    out: list[str] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("|") and s.endswith("|"):
            out.extend(c.strip() for c in s.strip("|").split(" | ") if c.strip())
        else:
            out.append(line)
    return "\n".join(out)


def drop_markup(text: str) -> str:
    """Drop lines that are mostly HTML tags (a fifth of their characters or more).

    >>> drop_markup('Prose stays.\\n<div class="nav"><a href="/">Home</a></div>\\n-->')
    'Prose stays.'
    """
    out = []
    for line in text.split("\n"):
        marked = sum(len(m) for m in _MARKUP.findall(line))
        if marked and marked >= 0.2 * len(line.strip()):
            continue
        out.append(line)
    return "\n".join(out)


def _readability_text(html: str, *, huge: bool = False) -> str | None:
    """readability-lxml's article, one block per line (None when not installed);
    ``huge``: the page parsed as readability parses it, with lxml's huge-tree
    option (see :func:`_parsed`)."""
    try:
        import lxml.html
        from readability import Document
    except ImportError:
        return None
    try:
        page: Any = html
        if huge:  # (readability's own parse, with the option)
            page = lxml.html.document_fromstring(
                html.encode("utf-8", "replace"),
                parser=lxml.html.HTMLParser(encoding="utf-8", huge_tree=True))
        summary = Document(page).summary(html_partial=True)
        if not summary.strip():
            return ""
        tree = lxml.html.fromstring(summary)
    except Exception:  # noqa: BLE001 - a page readability cannot read gives no second opinion
        return ""
    return _block_lines(tree)


def _block_lines(tree: Any) -> str:
    """An lxml tree's text, one block element per line, markup residue dropped."""
    for el in tree.iter():
        if isinstance(el.tag, str) and el.tag in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
            if el.tag != "br":
                el.text = "\n" + (el.text or "")
    lines = (" ".join(ln.split()) for ln in tree.text_content().split("\n"))
    return drop_markup("\n".join(ln for ln in lines if ln))


def _pairs(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 2]) for i in range(max(1, len(tokens) - 1))}


def _coverage(line_tokens: list[str], pairs: set[tuple[str, ...]]) -> float:
    """Share of a line's word pairs found in ``pairs`` (1.0 for a line without words)."""
    if not line_tokens:
        return 1.0
    own = _pairs(line_tokens)
    return len(own & pairs) / len(own)


@dataclass(frozen=True, slots=True, kw_only=True)
class Extraction:
    """One page's extraction.

    Attributes:
        title: the page title (None if unknown).
        text: the article text, one paragraph per line.
        agreed: per line of ``text``, whether readability-lxml also has it;
            None when there is no second opinion (readability-lxml not
            installed, the two disagree, or ``text`` is readability's own).
        extractor: ``"trafilatura"`` or ``"readability"``, the source of ``text``.
        url: the page's own address as its metadata gives it (canonical link,
            ``og:url``; read by trafilatura) when it names a host, else None.
    """

    title: str | None
    text: str
    agreed: tuple[bool, ...] | None
    extractor: str
    url: str | None = None


def extract(html: str, *, url: str | None = None) -> Extraction:
    """Extract a page's article by the agreement of trafilatura and readability-lxml.

    See the module docstring for the combination; without readability-lxml this
    is trafilatura's text alone.

    A page nested deeper than libxml2's 256 elements (whose text lxml would
    drop, and everything after it) is parsed with its huge-tree option, up to
    :data:`HUGE_DEPTH` elements deep.

    Raises:
        TypeError: ``html`` is not a str.
        InputError: the page is nested more than :data:`HUGE_DEPTH` elements
            deep (its text cannot be read).
        MissingDependencyError: trafilatura is not installed.
    """
    if not isinstance(html, str):
        raise TypeError(f"extract() expects a str, got {type(html).__name__}")
    trafilatura = _trafilatura()
    if not html.strip():
        return Extraction(title=None, text="", agreed=None, extractor="trafilatura")
    page: Any = html
    _tree, deep = _parsed(html, huge=False)
    if deep:  # (read again with the huge-tree option; that tree goes to trafilatura)
        tree, deeper = _parsed(html, huge=True)
        page = tree if tree is not None else html
        if deeper:
            raise InputError(
                f"HTML nested more than {HUGE_DEPTH:,} elements deep: the HTML parser "
                "(libxml2) stops there and the page's text cannot be read")
    with warnings.catch_warnings():
        # trafilatura and its parsers may warn on malformed pages; a page we
        # cannot read yields no text rather than a warning (pytest: error).
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(page, url=url, **TRAFILATURA_SETTINGS)
        other = _readability_text(html, huge=deep)
    title = (getattr(doc, "title", None) or None) if doc is not None else None
    text = untable((getattr(doc, "text", None) or "") if doc is not None else "")
    ex = _combine(text, other)
    if title:
        ex = _drop_title(ex, title)
    return Extraction(title=title, text=ex.text, agreed=ex.agreed, extractor=ex.extractor,
                      url=_page_url(doc))


def _page_url(doc: Any) -> str | None:
    """The page's own URL from trafilatura's metadata, when it names a host (a
    relative one is dropped)."""
    from .types import url_host

    url = getattr(doc, "url", None) if doc is not None else None
    return url if isinstance(url, str) and url_host(url) else None


def _combine(text: str, other: str | None) -> Extraction:
    def own(t: str, agreed: tuple[bool, ...] | None = None) -> Extraction:
        return Extraction(title=None, text=t, agreed=agreed, extractor="trafilatura")

    if other is None:
        return own(text)
    other_tokens = _WORD.findall(other)
    lines = text.splitlines()
    tokens = [_WORD.findall(ln) for ln in lines]
    n_words = sum(map(len, tokens))
    if not n_words:
        if other_tokens:
            return Extraction(title=None, text=other, agreed=None, extractor="readability")
        return own(text)
    pairs = _pairs(other_tokens)
    cover = [_coverage(t, pairs) for t in tokens]
    inside = sum(c * len(t) for c, t in zip(cover, tokens, strict=True)) / n_words
    if len(other_tokens) >= LONGER * n_words and inside >= SUBSET_COVER:
        return Extraction(title=None, text=other, agreed=None, extractor="readability")
    agreed = [c >= AGREE_COVER and bool(t) for c, t in zip(cover, tokens, strict=True)]
    hits = [k for k, a in enumerate(agreed) if a]
    if not hits:
        return own(text)
    first, last = hits[0], hits[-1]
    if sum(map(len, tokens[first : last + 1])) < MIN_AGREED * n_words:
        return own(text)
    return own("\n".join(lines[first : last + 1]), tuple(agreed[first : last + 1]))


def _drop_title(ex: Extraction, title: str) -> Extraction:
    from .normalize import normalize

    key = normalize(title)
    lines = ex.text.splitlines()
    keep = [normalize(ln) != key for ln in lines]
    if all(keep):
        return ex
    agreed = ex.agreed
    if agreed is not None:
        agreed = tuple(a for a, k in zip(agreed, keep, strict=True) if k)
    text = "\n".join(ln for ln, k in zip(lines, keep, strict=True) if k)
    return Extraction(title=None, text=text, agreed=agreed, extractor=ex.extractor)


def extract_html(html: str, *, url: str | None = None) -> tuple[str | None, str]:
    """Extract (title, main text) from an HTML page (:func:`extract`).

    Returns:
        The page title (None if unknown) and the main text, one paragraph per
        line ("" when no extractor finds any).

    Raises:
        TypeError: ``html`` is not a str.
        MissingDependencyError: trafilatura is not installed.
    """
    if not isinstance(html, str):
        raise TypeError(f"extract_html() expects a str, got {type(html).__name__}")
    ex = extract(html, url=url)
    return ex.title, ex.text


def html_to_text(html: str, *, url: str | None = None, source: str | None = None) -> Stripped:
    """Extract a page's article (:func:`extract`), then strip it (:func:`newsdedup.strip`).

    On lines both extractors kept, only the named rules and learned lines remove
    text, not the line classifier. The removals' spans refer to the extracted
    text, not to the HTML.
    """
    from .strip import strip

    ex = extract(html, url=url)
    return veto(ex.text, strip(ex.text, source=source), ex.agreed)


def veto(
    text: str, stripped: Stripped, agreed: Sequence[bool] | None, *, body: str | None = None
) -> Stripped:
    """Undo the line classifier's removals on lines both extractors kept.

    Args:
        text: the text that was stripped.
        stripped: :func:`newsdedup.strip`'s result for ``text``.
        agreed: per line of the extracted text, whether both extractors kept it
            (:attr:`Extraction.agreed`); None: nothing to veto.
        body: the extracted text, when ``text`` is it after a headline line
            (:attr:`newsdedup.types.Article.full_text`); default ``text`` itself.
    """
    if agreed is None or not any(r.rule == "line_model" for r in stripped.removed):
        return stripped
    first_line = 0 if body is None else text.count("\n") - body.count("\n")
    starts = []
    pos = 0
    for line in text.split("\n"):  # _combine joined splitlines() with "\n"
        starts.append(pos)
        pos += len(line) + 1
    vetoed = {s for s, a in zip(starts[first_line:], agreed, strict=False) if a}
    removed = [r for r in stripped.removed if not (r.rule == "line_model" and r.start in vetoed)]
    if len(removed) == len(stripped.removed):
        return stripped
    return _rebuild(text, removed)


def _rebuild(text: str, removed: list[Any]) -> Stripped:
    """The text without ``removed`` (whole lines, or a line's prefix), as :func:`strip` joins it."""
    from .strip import _assemble, _lines_with_offsets

    lines = _lines_with_offsets(text)
    line_starts = {ln.start for ln in lines}
    decision: dict[int, str] = {}
    prefix: dict[int, int] = {}
    by_start = {ln.start: ln for ln in lines}
    for r in removed:
        if r.start in line_starts and r.end == by_start[r.start].end:
            decision[r.start] = r.rule
        else:
            prefix[r.start] = r.end - r.start
    return _assemble(lines, decision, prefix)
