"""HTML to article text, through trafilatura (optional extra ``newsdedup[html]``).

:func:`extract_html` runs trafilatura with settings chosen for news pages
(:data:`TRAFILATURA_SETTINGS`: no comments, no tables, trafilatura's own
fallbacks on) and returns its text one paragraph per line, table rows split
into one line per cell. It does not strip: the pipeline strips every article
the same way (:func:`newsdedup.strip`) whatever its input format, so
boilerplate trafilatura lets through (captions, share and related-link lines,
credits, legal footers) is removed there. :func:`html_to_text` does both.
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import MissingDependencyError
from .types import Stripped

#: trafilatura options used for news pages. Tables off: on the 2008 L3S-GN1
#: pages, layout tables bring navigation in (F1 0.919 without vs 0.903 with, on
#: trafilatura's raw output); comments off: they are not the article.
TRAFILATURA_SETTINGS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
    "with_metadata": True,
}


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


def extract_html(html: str, *, url: str | None = None) -> tuple[str | None, str]:
    """Extract (title, main text) from an HTML page with trafilatura.

    Returns:
        The page title (None if unknown) and the main text, one paragraph per
        line ("" when trafilatura finds none).

    Raises:
        TypeError: ``html`` is not a str.
        MissingDependencyError: trafilatura is not installed.
    """
    if not isinstance(html, str):
        raise TypeError(f"extract_html() expects a str, got {type(html).__name__}")
    trafilatura = _trafilatura()
    if not html.strip():
        return None, ""
    with warnings.catch_warnings():
        # trafilatura and its parsers may warn on malformed pages; a page we
        # cannot read yields no text rather than a warning (pytest: error).
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_SETTINGS)
    if doc is None:
        return None, ""
    title = getattr(doc, "title", None) or None
    text = getattr(doc, "text", None) or ""
    return title, untable(text)


def html_to_text(html: str, *, url: str | None = None, source: str | None = None) -> Stripped:
    """Extract a page's article with trafilatura, then strip it (:func:`newsdedup.strip`).

    The removals' spans refer to the extracted text, not to the HTML.
    """
    from .strip import strip

    _title, text = extract_html(html, url=url)
    return strip(text, source=source)
