"""Why two articles are (or are not) the same story: :func:`compare` and
:meth:`Clusters.explain <newsdedup.result.Clusters.explain>`.

An :class:`Explanation` carries the relation and score, the signals that
decided it, the shared passages as character spans in both *original* texts
(``Article.full_text``: headline, newline, body), how much of each side they
cover, what stripping removed from each side, and for a pair that is not
linked, why not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .types import Article, Removal

_WORD_RE = re.compile(r"\w+")
#: Shared passages are runs of at least this many words in common.
MIN_PASSAGE_WORDS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    """A run of words found in both texts: ``text_a[a_start:a_end]`` and
    ``text_b[b_start:b_end]`` (original texts) hold the same ``words`` words."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    words: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AlignedSentence:
    """A sentence of A and its counterpart in B (rewrites), as spans in the
    original texts (-1 when the sentence could not be located), and their
    weighted content-word similarity."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    similarity: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """The verdict on a pair of articles and the evidence for it.

    Attributes:
        a, b: the two document ids.
        relation: ``exact``, ``near_duplicate``, ``containment``, ``rewrite`` or
            ``distinct``.
        score: the relation's score in [0, 1] (0.0 for ``distinct``).
        linked: whether the pair is linked (in the same story).
        reason: why (or why not), e.g. "containment 0.41 below 0.8".
        signals: the numbers the decision looked at (jaccard, containments,
            rewrite score, coverages, ...).
        passages: shared word runs as character spans in both original texts.
        coverage_a, coverage_b: share of each side's (unstripped) words inside
            shared passages.
        aligned: for rewrites, the aligned sentences.
        shared_entities, shared_figures: names and figures found in both.
        conflict: for a template look-alike, what differed.
        removed_a, removed_b: what stripping removed from each side.
        notes: other remarks (e.g. "not a candidate pair in this run").
    """

    a: str
    b: str
    relation: str
    score: float
    linked: bool
    reason: str
    signals: dict[str, float]
    passages: tuple[Passage, ...]
    coverage_a: float
    coverage_b: float
    aligned: tuple[AlignedSentence, ...] = ()
    shared_entities: tuple[str, ...] = ()
    shared_figures: tuple[str, ...] = ()
    conflict: str | None = None
    removed_a: tuple[Removal, ...] = ()
    removed_b: tuple[Removal, ...] = ()
    notes: tuple[str, ...] = ()
    text_a: str = field(default="", repr=False)
    text_b: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (texts of passages included, truncated to 200 chars)."""
        return {
            "a": self.a, "b": self.b, "relation": self.relation, "score": round(self.score, 4),
            "linked": self.linked, "reason": self.reason,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "coverage_a": round(self.coverage_a, 4), "coverage_b": round(self.coverage_b, 4),
            "passages": [
                {"a_start": p.a_start, "a_end": p.a_end, "b_start": p.b_start, "b_end": p.b_end,
                 "words": p.words, "text": self.text_a[p.a_start : p.a_end][:200]}
                for p in self.passages
            ],
            "aligned": [
                {"a_start": s.a_start, "a_end": s.a_end, "b_start": s.b_start, "b_end": s.b_end,
                 "similarity": round(s.similarity, 4)}
                for s in self.aligned
            ],
            "shared_entities": list(self.shared_entities),
            "shared_figures": list(self.shared_figures),
            "conflict": self.conflict,
            "removed_a": [{"start": r.start, "end": r.end, "rule": r.rule, "text": r.text}
                          for r in self.removed_a],
            "removed_b": [{"start": r.start, "end": r.end, "rule": r.rule, "text": r.text}
                          for r in self.removed_b],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """One line: relation, score and reason."""
        verdict = "linked" if self.linked else "not linked"
        return f"{self.relation} {self.score:.2f} ({verdict}): {self.reason}"

    def __str__(self) -> str:
        lines = [f"{self.a} vs {self.b}", f"  {self.summary()}"]
        sig = ", ".join(f"{k} {v:.2f}" for k, v in self.signals.items())
        lines.append(f"  signals: {sig}")
        lines.append(
            f"  shared passages: {len(self.passages)} covering {self.coverage_a:.0%} of A and "
            f"{self.coverage_b:.0%} of B"
        )
        for p in sorted(self.passages, key=lambda p: -p.words)[:3]:
            text = " ".join(self.text_a[p.a_start : p.a_end].split())
            text = text if len(text) <= 90 else text[:87] + "..."
            lines.append(f"    A[{p.a_start}:{p.a_end}] = B[{p.b_start}:{p.b_end}] "
                         f"({p.words} words): {text!r}")
        if self.aligned:
            lines.append(f"  aligned sentences: {len(self.aligned)}")
            for s in sorted(self.aligned, key=lambda s: -s.similarity)[:3]:
                if s.a_start < 0 or s.b_start < 0:
                    continue
                ta = " ".join(self.text_a[s.a_start : s.a_end].split())[:70]
                tb = " ".join(self.text_b[s.b_start : s.b_end].split())[:70]
                lines.append(f"    {s.similarity:.2f} A {ta!r}")
                lines.append(f"         B {tb!r}")
        if self.shared_entities or self.shared_figures:
            figs = ", ".join(f.lstrip("#") for f in self.shared_figures[:12]) or "-"
            lines.append(
                f"  shared names: {', '.join(self.shared_entities[:12]) or '-'}; "
                f"shared figures: {figs}"
            )
        if self.conflict:
            lines.append(f"  template guard: {self.conflict}")
        for side, removed in (("A", self.removed_a), ("B", self.removed_b)):
            for r in removed:
                text = r.text if len(r.text) <= 60 else r.text[:57] + "..."
                lines.append(f"  stripped from {side} [{r.rule}]: {text!r}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


#: A word of an original text as the explanation reads it: word characters with
#: the combining marks and invisible characters that normalisation folds into or
#: drops from a word (an NFD accent, a zero-width space or soft hyphen inside it).
_TOKEN_RE = re.compile(
    "[\\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u00ad\u200b\u200c\u200d\u2060\ufeff]+"
)


def _words(text: str, removed: tuple[Removal, ...]) -> list[tuple[str, int, int, int]]:
    """The words of ``text`` outside ``removed``, as the verdict's shingles read
    them (:func:`~newsdedup.normalize.normalize`, then ``\\w+``: a fullwidth or
    NFD copy, or one with zero-width characters, has the same words), each with
    its span in ``text`` (a token that normalises to several words gives each
    the token's span) and its segment: the number of removed spans before it (a
    passage never runs across removed text)."""
    from .normalize import normalize

    spans = sorted((r.start, r.end) for r in removed)
    out: list[tuple[str, int, int, int]] = []
    k = 0
    for m in _TOKEN_RE.finditer(text):
        while k < len(spans) and spans[k][1] <= m.start():
            k += 1
        if k < len(spans) and spans[k][0] <= m.start() < spans[k][1]:
            continue
        tok = m.group()
        words = [tok.lower()] if tok.isascii() else _WORD_RE.findall(normalize(tok))
        out.extend((w, m.start(), m.end(), k) for w in words)
    return out


def shared_passages(
    text_a: str, text_b: str, removed_a: tuple[Removal, ...] = (),
    removed_b: tuple[Removal, ...] = (), *, min_words: int = MIN_PASSAGE_WORDS,
) -> tuple[tuple[Passage, ...], float, float]:
    """Maximal runs of at least ``min_words`` words found in both texts (outside
    what stripping removed), as spans in the original texts, and the share of
    each side's words they cover.

    >>> ps, ca, cb = shared_passages("Old news. The cat sat on the mat today.",
    ...                              "The cat sat on the mat today, they said.")
    >>> [(p.a_start, p.a_end, p.b_start, p.b_end, p.words) for p in ps], round(cb, 2)
    ([(10, 38, 0, 28, 7)], 0.78)
    """
    wa, wb = _words(text_a, removed_a), _words(text_b, removed_b)
    n = min_words
    if len(wa) < n or len(wb) < n:
        return (), 0.0, 0.0
    ta, tb = [w[0] for w in wa], [w[0] for w in wb]
    sa, sb = [w[3] for w in wa], [w[3] for w in wb]  # segments: no run crosses removed text
    where: dict[tuple[str, ...], list[int]] = {}
    for j in range(len(tb) - n + 1):
        if sb[j] == sb[j + n - 1]:
            where.setdefault(tuple(tb[j : j + n]), []).append(j)
    passages = []
    cov_a = [False] * len(ta)
    cov_b = [False] * len(tb)
    i = 0
    while i <= len(ta) - n:
        starts = where.get(tuple(ta[i : i + n])) if sa[i] == sa[i + n - 1] else None
        if not starts:
            i += 1
            continue
        best_j, best_len = -1, 0
        for j in starts[:20]:
            length = n
            while (i + length < len(ta) and j + length < len(tb)
                   and ta[i + length] == tb[j + length]
                   and sa[i + length] == sa[i] and sb[j + length] == sb[j]):
                length += 1
            if length > best_len:
                best_j, best_len = j, length
        for k in range(best_len):
            cov_a[i + k] = True
            cov_b[best_j + k] = True
        passages.append(
            Passage(a_start=wa[i][1], a_end=wa[i + best_len - 1][2], b_start=wb[best_j][1],
                    b_end=wb[best_j + best_len - 1][2], words=best_len)
        )
        i += best_len
    grams_a = {tuple(ta[k : k + n]) for k in range(len(ta) - n + 1) if sa[k] == sa[k + n - 1]}
    for j in range(len(tb) - n + 1):  # B words repeated elsewhere in B also count
        if not cov_b[j] and sb[j] == sb[j + n - 1] and tuple(tb[j : j + n]) in grams_a:
            for k in range(n):
                cov_b[j + k] = True
    return tuple(passages), sum(cov_a) / len(ta), sum(cov_b) / len(tb)


def _as_article(x: Any, default_id: str) -> Article:
    from .errors import InputError
    from .load import article_from_record, iter_articles, looks_like_path

    if isinstance(x, Article):
        return x
    if isinstance(x, Mapping):
        return article_from_record(
            x, source=f"compare() argument {default_id}", line=None, default_id=default_id
        )
    if isinstance(x, str):
        one_line = "\n" not in x and len(x) < 4096
        # A one-word string that reads as a path (a "/", a glob character, a file
        # extension) is one even when there is no such file (a typo): it is never
        # compared as an article text.
        if not one_line or not (
            os.path.exists(x) or (looks_like_path(x) and not any(c.isspace() for c in x))
        ):
            return Article(id=default_id, text=x)
    elif not isinstance(x, os.PathLike):
        raise TypeError(
            "compare() expects article texts, records, Articles or paths, "
            f"got {type(x).__name__}"
        )
    path = os.fspath(x)
    if os.path.isdir(path):
        raise InputError("is a directory; compare() takes one article file per side",
                         source=str(path))
    if not os.path.exists(path):
        raise InputError("no such file (compare() reads a one-word string with a '/', "
                         "a glob character or a file extension as a path)", source=str(path))
    arts = list(iter_articles([path]))
    if len(arts) != 1:
        raise InputError(f"compare() expects one article per path; {x} holds {len(arts)}")
    return arts[0]


def explain_pair(a: Article, b: Article, config: Config, verdict: Any = None,
                 notes: tuple[str, ...] = ()) -> Explanation:
    """Explain a pair of loaded articles (using ``verdict`` when already judged)."""
    from .normalize import normalize
    from .pipeline import prepare
    from .score import Judge
    from .shingle import Shingler

    shingler = Shingler(config.shingle_size)
    pa, pb = prepare(a, config, shingler), prepare(b, config, shingler)
    if a.id > b.id:
        a, b, pa, pb = b, a, pb, pa
    exact = bool(pa.shingles.size) and normalize(pa.stripped.text) == normalize(pb.stripped.text)
    rewrite = None
    conflict = None
    if exact:
        relation, score, reason = "exact", 1.0, "same text after stripping and normalisation"
        signals = {"jaccard": 1.0, "containment_a": 1.0, "containment_b": 1.0}
    else:
        if verdict is None:
            judge = Judge(
                ids=[a.id, b.id], texts=[pa.stripped.text, pb.stripped.text],
                titles=[a.title, b.title], published=[a.published, b.published],
                shingles=[pa.shingles, pb.shingles], n_words=[pa.n_words, pb.n_words],
                config=config, originals=[a.full_text, b.full_text], sources=[a.outlet, b.outlet],
            )
            if not pa.shingles.size or not pb.shingles.size:
                short = a.id if not pa.shingles.size else b.id
                relation, score = "distinct", 0.0
                reason = (f"{short} is too short to compare (fewer than "
                          f"{max(config.min_words, config.shingle_size)} words after stripping)")
                signals = {}
                verdict = None
            else:
                verdict = judge.judge(0, 1)
        if verdict is not None:
            relation, score = verdict.match.relation, verdict.match.score
            reason, signals = verdict.reason, dict(verdict.signals)
            rewrite = verdict.rewrite
            conflict = verdict.conflict.detail if verdict.conflict is not None else None
    ta, tb = a.full_text, b.full_text
    passages, cov_a, cov_b = shared_passages(ta, tb, pa.stripped.removed, pb.stripped.removed)
    aligned: list[AlignedSentence] = []
    ents: tuple[str, ...] = ()
    figs: tuple[str, ...] = ()
    if rewrite is not None:
        from .rewrite import split_sentences

        sa, sb = split_sentences(pa.stripped.text), split_sentences(pb.stripped.text)
        for i, j, sim in rewrite.aligned:
            if i >= len(sa) or j >= len(sb):
                continue
            a0, a1 = _locate(ta, pa.stripped.text[sa[i][0] : sa[i][1]])
            b0, b1 = _locate(tb, pb.stripped.text[sb[j][0] : sb[j][1]])
            aligned.append(AlignedSentence(a_start=a0, a_end=a1, b_start=b0, b_end=b1,
                                           similarity=sim))
        ents, figs = rewrite.shared_entities, rewrite.shared_figures
    return Explanation(
        a=a.id, b=b.id, relation=relation, score=float(score), linked=relation != "distinct",
        reason=reason, signals=signals, passages=passages, coverage_a=cov_a, coverage_b=cov_b,
        aligned=tuple(aligned), shared_entities=ents, shared_figures=figs, conflict=conflict,
        removed_a=pa.stripped.removed, removed_b=pb.stripped.removed, notes=notes,
        text_a=ta, text_b=tb,
    )


def _locate(original: str, piece: str) -> tuple[int, int]:
    """Span of ``piece`` (a sentence of the stripped text) in the original text."""
    k = original.find(piece)
    if k < 0:
        return -1, -1
    return k, k + len(piece)


def compare(a: Any, b: Any, **options: Any) -> Explanation:
    """Compare two articles and explain the verdict.

    Args:
        a, b: article texts, record dicts (the JSONL fields), :class:`~newsdedup.Article`
            objects or paths of article files (one article each). A one-line
            string is a path when it names an existing file or directory, or has
            no whitespace and contains a "/" or a glob character or ends in a
            supported file extension; a path that is no file is an InputError.
        **options: any :class:`~newsdedup.Config` option.

    Returns:
        An :class:`Explanation`: relation, score, deciding signals, shared
        passages (spans in both original texts), coverage of each side, what
        stripping removed, and why not, when not linked. Its sides ``a`` and
        ``b`` are the two articles in id order (as a result's pairs are), so
        ``a`` is the second argument when that one's id sorts first.

    >>> e = compare("The council approved the budget on Tuesday after a long debate.",
    ...             "The council approved the budget on Tuesday after a long debate. More.")
    >>> e.relation, e.linked
    ('near_duplicate', True)
    """
    config = Config.from_options(**options)
    art_a, art_b = _as_article(a, "a"), _as_article(b, "b")
    if art_a.id == art_b.id:
        art_b = Article(id=art_b.id + "'", text=art_b.text, title=art_b.title,
                        source=art_b.source, published=art_b.published, url=art_b.url,
                        agreed=art_b.agreed)
    return explain_pair(art_a, art_b, config)
