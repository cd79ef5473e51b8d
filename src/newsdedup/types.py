"""Typed hand-offs between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from ._pickle import fast_pickle
from .errors import InputError

Relation = Literal["exact", "near_duplicate", "containment", "rewrite", "distinct"]
RELATIONS: tuple[str, ...] = ("exact", "near_duplicate", "containment", "rewrite", "distinct")
LINKED_RELATIONS: tuple[str, ...] = ("exact", "near_duplicate", "containment", "rewrite")


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """One news article as loaded.

    Attributes:
        id: stable string id (the path for files, the ``id`` field for records).
        text: the article body (for ``.txt`` files: everything after the title line).
        title: the headline, if known.
        source: the outlet (site, feed or agency) if known.
        published: publication time, if known.
        url: the article's URL, if known.
        agreed: for text extracted from HTML (:func:`newsdedup.html.extract`):
            per line of ``text``, whether both extractors kept it; the strip
            stage's line classifier does not remove those lines (named rules and
            learned lines still do). None for other text.
    """

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    published: datetime | None = None
    url: str | None = None
    agreed: tuple[bool, ...] | None = None

    def __post_init__(self) -> None:
        # Type checks only (an Article is made per document): a wrong type given
        # through the Python API failed later, deep in a stage, naming neither.
        if not (
            isinstance(self.id, str) and isinstance(self.text, str)
            and (self.title is None or isinstance(self.title, str))
            and (self.source is None or isinstance(self.source, str))
            and (self.published is None or isinstance(self.published, datetime))
            and (self.url is None or isinstance(self.url, str))
        ):
            _reject(self)

    @property
    def outlet(self) -> str | None:
        """The outlet that published the article: :attr:`source`, else the host
        of :attr:`url` (lower case, without ``www.``), else None. Two stories of
        one outlet are held to the same-source rewrite bar
        (:attr:`~newsdedup.Config.same_source_rewrite_threshold`)."""
        return self.source or url_host(self.url)

    @property
    def full_text(self) -> str:
        """Headline and body as one text: what stripping and shingling see."""
        return full_text(self.text, self.title)


def url_host(url: str | None) -> str | None:
    """The host of ``url``, lower case, without a leading ``www.``; None when it
    has none (not a URL, a relative path).

    >>> url_host("https://www.Example.com/news/1"), url_host("/a/b")
    ('example.com', None)
    """
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # (an unclosed IPv6 bracket)
        return None
    host = host.removeprefix("www.")
    return host or None


def full_text(text: str, title: str | None) -> str:
    """:attr:`Article.full_text` of a body and a headline (for records that are
    not Article objects)."""
    if title:
        return f"{title}\n{text}" if text else title
    return text


def _reject(article: Article) -> None:
    """Raise the InputError naming the article and its first mistyped field."""
    for name in ("id", "text", "title", "source", "published", "url"):
        value = getattr(article, name)
        if name == "published":
            if value is None or isinstance(value, datetime):
                continue
            expected = "a datetime or None (parse date strings first)"
        elif isinstance(value, str) or (value is None and name not in ("id", "text")):
            continue
        else:
            expected = "a str" if name in ("id", "text") else "a str or None"
        raise InputError(
            f"Article {article.id!r:.60}: field {name!r} must be {expected}, "
            f"got {type(value).__name__} {value!r:.60}"
        )


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Removal:
    """One piece of text removed by the strip stage.

    Attributes:
        start: character offset of the removed text in the original text.
        end: end offset (exclusive).
        text: the removed text itself.
        rule: the name of the rule (or model) that removed it.
    """

    start: int
    end: int
    text: str
    rule: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Stripped:
    """Result of :func:`newsdedup.strip`: the kept text and what was removed."""

    text: str
    removed: tuple[Removal, ...] = ()


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """A compared pair of documents and its verdict.

    Similarities are floats in [0, 1]: ``jaccard`` is the exact Jaccard of the
    two shingle sets, ``containment`` the larger of the two directional
    containments |A & B| / |A| and |A & B| / |B|. ``score`` is the relation's
    own confidence in [0, 1] (for copies: the Jaccard for ``near_duplicate``,
    the containment for ``containment``, 1.0 for ``exact``).
    """

    a: str
    b: str
    relation: Relation
    score: float
    jaccard: float
    containment: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Cluster:
    """One story: its member documents and the representative copy."""

    id: int
    members: tuple[str, ...]
    representative: str

    def __len__(self) -> int:
        return len(self.members)


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """An input that was skipped under ``errors="skip"``, and why."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentInfo:
    """Per-document facts kept in the result (for reports and explanations)."""

    id: str
    title: str | None
    source: str | None
    n_words: int
    n_shingles: int
    cleaned_length: int
    removed: tuple[Removal, ...] = field(default=())
