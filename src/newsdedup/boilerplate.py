"""Boilerplate learned per source, syndication-safe.

:func:`learn_boilerplate` finds lines that one source repeats across many of
its *different* stories (a site's "Follow us" footer, its standard disclaimer,
its related-links header) and returns a :class:`BoilerplateModel`;
:func:`newsdedup.strip` removes those lines from that source's articles
(rule name ``learned_boilerplate``).

Two guards keep syndication intact:

* a line counts only once per *story* of a source: documents of one source
  that share a prose line (at least :data:`STORY_LINE_WORDS` words, itself not
  a candidate) are one story, and a document with no long line of its own (an
  update or re-send whose every paragraph recurs) is no evidence at all, so a
  source's repeated copies of one story do not teach it that the story is
  boilerplate;
* a line of at least ``syndication_min_words`` words that occurs in documents
  of two or more sources is kept: that is syndication, the thing dedup detects.

The source of a document is its ``source`` field, else its URL's host (without
``www.``), else the parent directory of a file path id; documents with none of
these are not learned from. The model is stored as versioned JSON (never pickle).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, InputError
from .normalize import normalize
from .types import Article

FORMAT = "newsdedup.BoilerplateModel"
VERSION = 1
#: Lines with at least this many words can tie two documents into one story.
STORY_LINE_WORDS = 8
#: ``boilerplate="auto"`` learns from a corpus only from this many documents on.
AUTO_MIN_DOCS = 20
#: The default number of distinct stories a line must appear in to be learned.
LEARN_MIN_DOCS = 3

_WORD = re.compile(r"\w+")


def source_of(article: Article) -> str | None:
    """The source key of an article: ``source``, else URL host, else parent directory."""
    if article.source:
        return article.source.strip().lower() or None
    if article.url:
        host = urlsplit(article.url).hostname or ""
        host = host.lower()
        if host.startswith("www."):
            host = host[4:]
        if host:
            return host
    if ("/" in article.id or os.sep in article.id) and os.path.splitext(article.id)[1]:
        parent = os.path.dirname(article.id)
        return parent or None
    return None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BoilerplateModel:
    """Lines learned as boilerplate, per source.

    Attributes:
        sources: source key -> normalised lines removed from that source's articles.
        min_docs: the number of distinct stories a line had to appear in.
        min_share: the share of a source's stories it had to appear in.
        syndication_min_words: lines this long seen in two sources were kept.
        documents: how many documents the model was learned from.
    """

    sources: Mapping[str, frozenset[str]] = field(default_factory=dict)
    min_docs: int = LEARN_MIN_DOCS
    min_share: float = 0.05
    syndication_min_words: int = 5
    documents: int = 0

    def lines_for(self, source: str | None) -> frozenset[str] | None:
        """The learned lines of ``source`` (None when nothing was learned for it)."""
        if source is None:
            return None
        return self.sources.get(source.strip().lower())

    def __len__(self) -> int:
        return sum(len(v) for v in self.sources.values())

    def __repr__(self) -> str:
        return (
            f"BoilerplateModel(sources={len(self.sources)}, lines={len(self)}, "
            f"documents={self.documents})"
        )

    def to_json(self) -> str:
        """The model as versioned, self-describing JSON text."""
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "min_docs": self.min_docs,
                "min_share": self.min_share,
                "syndication_min_words": self.syndication_min_words,
                "documents": self.documents,
                "sources": {k: sorted(v) for k, v in sorted(self.sources.items())},
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> BoilerplateModel:
        """Read a model written by :meth:`to_json`.

        Raises:
            InputError: the text is not a boilerplate model of a known version.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"not a boilerplate model: invalid JSON ({err.msg})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"not a boilerplate model (expected format {FORMAT!r})")
        if data.get("version") != VERSION:
            raise InputError(
                f"boilerplate model version {data.get('version')!r} is not supported "
                f"(this newsdedup reads version {VERSION})"
            )
        sources = data.get("sources")
        if not isinstance(sources, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in sources.values()
        ):
            raise InputError("boilerplate model: 'sources' must map names to lists of lines")
        return cls(
            sources={str(k): frozenset(v) for k, v in sources.items()},
            min_docs=int(data.get("min_docs", LEARN_MIN_DOCS)),
            min_share=float(data.get("min_share", 0.05)),
            syndication_min_words=int(data.get("syndication_min_words", 5)),
            documents=int(data.get("documents", 0)),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as JSON."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BoilerplateModel:
        """Read a model saved with :meth:`save`."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(fh.read())


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def normalized_lines(text: str) -> list[str]:
    """``[normalize(x) for x in text.splitlines()]``; ASCII text in one pass
    (``normalize``'s ASCII path, whose ``replace`` and ``lower`` neither make
    nor remove line breaks, applied to the whole text before splitting)."""
    if text.isascii():
        low = text.replace("`", "'").lower()
        if (
            "  " not in low and " \n" not in low and "\n " not in low
            and not low.startswith(" ") and not low.endswith(" ")
            and not any(c in low for c in _ODD_SPACE)
        ):
            # its only white space is single spaces inside lines: each line is
            # already what split() and join() would make of it
            return low.splitlines()
        return [" ".join(x.split()) for x in low.splitlines()]
    from .chunks import normalize_fast  # normalize(), faster (tests/test_fastpath.py)

    return [
        " ".join(x.replace("`", "'").lower().split()) if x.isascii() else normalize_fast(x)
        for x in text.splitlines()
    ]


#: ASCII white space (for ``str.split``) other than the space and the line feed.
_ODD_SPACE = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _word_counts(lines: list[str]) -> list[int]:
    """``len(_WORD.findall(x))`` of each line (in one compiled pass when numba is there)."""
    from . import _native

    if lines and _native.available():
        return _native.token_counts(lines).tolist()  # type: ignore[no-any-return]
    return [len(_WORD.findall(x)) for x in lines]


def learn_from_articles(
    articles: Iterable[Article],
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
) -> BoilerplateModel:
    """Learn a model from loaded articles (see :func:`learn_boilerplate`).

    The same model as :func:`learn_from_articles_reference`, computed with less
    work: lines normalised per article in one pass, one set of lines per source
    (asked, for the few lines about to be learned, whether another source has
    them) instead of a set of sources per line, counts by
    :class:`collections.Counter`, word counts once per distinct line in one
    compiled pass (tests/test_fast_boilerplate.py).
    """
    by_source: dict[str, list[list[str]]] = defaultdict(list)
    source_lines: dict[str, set[str]] = defaultdict(set)  # every line of each source
    # documents without a source are keyed by their id: the first such key per line,
    # and the lines seen under two or more of these keys
    first_key: dict[str, str] = {}
    multi_unsourced: set[str] = set()
    total = 0
    for art in articles:
        total += 1
        src = source_of(art)
        seen = dict.fromkeys(normalized_lines(art.full_text))
        seen.pop("", None)
        norms = list(seen)
        if src is not None:
            by_source[src].append(norms)
            source_lines[src].update(norms)
        else:
            key = f"\x00{art.id}"
            setdefault = first_key.setdefault
            for n in norms:
                if setdefault(n, key) != key:
                    multi_unsourced.add(n)

    def in_several_sources(n: str) -> bool:
        """Whether line ``n`` occurs under two or more source keys."""
        keys = 2 if n in multi_unsourced else 1 if n in first_key else 0
        for lines in source_lines.values():
            if keys >= 2:
                break
            keys += n in lines
        return keys >= 2

    learned: dict[str, frozenset[str]] = {}
    for src, docs in by_source.items():
        if len(docs) < min_docs:
            continue
        counts = Counter(chain.from_iterable(docs))
        candidates = {n for n, c in counts.items() if c >= min_docs}
        if not candidates:
            continue
        rest = [n for n in counts if n not in candidates]
        story_lines = {
            n for n, w in zip(rest, _word_counts(rest), strict=True) if w >= STORY_LINE_WORDS
        }
        # documents sharing a long non-candidate line are one story
        uf = _UnionFind(len(docs))
        first_doc: dict[str, int] = {}
        evidence = [False] * len(docs)
        for i, norms in enumerate(docs):
            for n in norms:
                if n not in story_lines:
                    continue
                evidence[i] = True
                j = first_doc.setdefault(n, i)
                if j != i:
                    uf.union(i, j)
        stories: dict[str, set[int]] = defaultdict(set)
        for i, norms in enumerate(docs):
            if not evidence[i]:
                continue
            root = uf.find(i)
            for n in norms:
                if n in candidates:
                    stories[n].add(root)
        n_stories = len({uf.find(i) for i in range(len(docs)) if evidence[i]})
        need = max(min_docs, min_share * n_stories)
        keep = set()
        for n, roots in stories.items():
            if len(roots) < need:
                continue
            if len(_WORD.findall(n)) >= syndication_min_words and in_several_sources(n):
                continue  # repeated across sources: syndication, kept
            keep.add(n)
        if keep:
            learned[src] = frozenset(keep)
    return BoilerplateModel(
        sources=learned,
        min_docs=min_docs,
        min_share=min_share,
        syndication_min_words=syndication_min_words,
        documents=total,
    )


def learn_from_articles_reference(
    articles: Iterable[Article],
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
) -> BoilerplateModel:
    """Learn a model from loaded articles: the plain reference implementation of
    :func:`learn_from_articles`."""
    by_source: dict[str, list[list[str]]] = defaultdict(list)
    line_sources: dict[str, set[str]] = defaultdict(set)
    total = 0
    for art in articles:
        total += 1
        src = source_of(art)
        norms = list(
            dict.fromkeys(n for n in (normalize(x) for x in art.full_text.splitlines()) if n)
        )
        for n in norms:
            line_sources[n].add(src or f"\x00{art.id}")
        if src is not None:
            by_source[src].append(norms)
    learned: dict[str, frozenset[str]] = {}
    for src, docs in by_source.items():
        if len(docs) < min_docs:
            continue
        counts: dict[str, int] = defaultdict(int)
        for norms in docs:
            for n in norms:
                counts[n] += 1
        candidates = {n for n, c in counts.items() if c >= min_docs}
        if not candidates:
            continue
        # documents sharing a long non-candidate line are one story
        uf = _UnionFind(len(docs))
        first_doc: dict[str, int] = {}
        for i, norms in enumerate(docs):
            for n in norms:
                if n in candidates or len(_WORD.findall(n)) < STORY_LINE_WORDS:
                    continue
                j = first_doc.setdefault(n, i)
                if j != i:
                    uf.union(i, j)
        # only a document with prose of its own is evidence: one whose every long
        # line is repeated elsewhere (an update, a re-send) says nothing about boilerplate
        evidence = [
            any(n not in candidates and len(_WORD.findall(n)) >= STORY_LINE_WORDS for n in norms)
            for norms in docs
        ]
        stories: dict[str, set[int]] = defaultdict(set)
        for i, norms in enumerate(docs):
            if not evidence[i]:
                continue
            root = uf.find(i)
            for n in norms:
                if n in candidates:
                    stories[n].add(root)
        n_stories = len({uf.find(i) for i in range(len(docs)) if evidence[i]})
        need = max(min_docs, min_share * n_stories)
        keep = set()
        for n, roots in stories.items():
            if len(roots) < need:
                continue
            if len(line_sources[n]) > 1 and len(_WORD.findall(n)) >= syndication_min_words:
                continue  # repeated across sources: syndication, kept
            keep.add(n)
        if keep:
            learned[src] = frozenset(keep)
    return BoilerplateModel(
        sources=learned,
        min_docs=min_docs,
        min_share=min_share,
        syndication_min_words=syndication_min_words,
        documents=total,
    )


def learn_boilerplate(
    docs: Any,
    *,
    min_docs: int = LEARN_MIN_DOCS,
    min_share: float = 0.05,
    syndication_min_words: int = 5,
) -> BoilerplateModel:
    """Learn each source's repeated lines from ``docs``.

    Args:
        docs: anything :func:`newsdedup.cluster` accepts (paths, records, Articles).
        min_docs: a line must occur in at least this many different stories of a source.
        min_share: ... and in at least this share of the source's stories.
        syndication_min_words: a line of at least this many words that occurs
            in two or more sources is never learned (syndicated text).

    Returns:
        A :class:`BoilerplateModel`; pass it as ``cluster(..., boilerplate=model)``
        or ``strip(text, source=..., model=model)``, or ``save()`` it.

    >>> footer = "Follow the Daily Planet for more local news every day"
    >>> story = "Story number {} is told here in a long line of words."
    >>> docs = [{"id": str(i), "source": "planet", "text": story.format(i) + "\\n" + footer}
    ...         for i in range(4)]
    >>> model = learn_boilerplate(docs)
    >>> model.lines_for("planet") == {footer.lower()}
    True
    """
    from .load import iter_articles

    for name, value, low in (
        ("min_docs", min_docs, 2),
        ("syndication_min_words", syndication_min_words, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(
                f"The {name!r} parameter of learn_boilerplate must be an int in the range "
                f"[{low}, inf). Got {value!r} instead."
            )
    if (
        isinstance(min_share, bool)
        or not isinstance(min_share, (int, float))
        or not 0 <= min_share <= 1
    ):
        raise ConfigError(
            "The 'min_share' parameter of learn_boilerplate must be a float in the range "
            f"[0.0, 1.0]. Got {min_share!r} instead."
        )
    return learn_from_articles(
        iter_articles(docs),
        min_docs=min_docs,
        min_share=float(min_share),
        syndication_min_words=syndication_min_words,
    )


def configured_boilerplate(config: Any) -> BoilerplateModel | None:
    """The model given in ``config.boilerplate``, if it is one."""
    value = getattr(config, "boilerplate", None)
    return value if isinstance(value, BoilerplateModel) else None


def learn_for_run(articles: list[Article], config: Any) -> BoilerplateModel | None:
    """The model a batch run uses: learned from ``articles`` under ``boilerplate="auto"``
    (from :data:`AUTO_MIN_DOCS` documents on, when any source repeats a line),
    the configured model, or None."""
    value = getattr(config, "boilerplate", "off")
    if isinstance(value, BoilerplateModel):
        return value
    if value != "auto" or not getattr(config, "strip", True) or len(articles) < AUTO_MIN_DOCS:
        return None
    # Only a source with enough documents can teach anything: without one (records
    # with no source, URL or file path) the model would be empty.
    counts = Counter(src for src in map(source_of, articles) if src is not None)
    if not counts or max(counts.values()) < LEARN_MIN_DOCS:
        return None
    model = learn_from_articles(articles)
    return model if len(model) else None
