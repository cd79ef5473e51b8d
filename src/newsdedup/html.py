"""HTML to article text, through trafilatura (optional extra ``newsdedup[html]``)."""

from __future__ import annotations

from .errors import MissingDependencyError


def extract_html(html: str, *, url: str | None = None) -> tuple[str | None, str]:
    """Extract (title, main text) from an HTML page with trafilatura.

    Raises:
        MissingDependencyError: trafilatura is not installed.
    """
    try:
        import trafilatura
    except ImportError:
        raise MissingDependencyError("trafilatura", "html", "Reading HTML input") from None
    doc = trafilatura.bare_extraction(
        html, url=url, include_comments=False, include_tables=False, with_metadata=True
    )
    if doc is None:
        return None, ""
    title = getattr(doc, "title", None)
    text = getattr(doc, "text", None) or ""
    return title, text
