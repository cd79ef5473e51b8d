"""Boilerplate stripping on plain text, with a record of every removal.

``strip(text) -> Stripped(text, removed)``. Rules are data: named patterns that
match whole lines, plus structural rules (a headline repeated at the top).
Every removed line is recorded as a :class:`~newsdedup.types.Removal` with its
character span in the original text and the name of the rule that removed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import normalize
from .types import Removal, Stripped


@dataclass(frozen=True, slots=True)
class LineRule:
    """A named pattern; a line it matches (searched from the line start) is boilerplate."""

    name: str
    pattern: re.Pattern[str]


def _rule(name: str, pattern: str) -> LineRule:
    return LineRule(name, re.compile(pattern, re.IGNORECASE))


#: Line rules, checked in order; the first that matches names the removal.
LINE_RULES: tuple[LineRule, ...] = (
    _rule("related_link", r"^\s*(?:read|also read|read more|read also|related|see also)\s*:"),
    _rule("translate_widget", r"^\s*translate this (?:news|article|page|story)(?: in(?:to)?)?\s*:?\s*$"),
)

#: How many non-empty lines from the top may repeat an earlier line (the headline).
_HEADLINE_WINDOW = 4


def _lines_with_offsets(text: str) -> list[tuple[int, int, str]]:
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append((pos, pos + len(body), body))
        pos += len(raw)
    return out


def strip(text: str, *, source: str | None = None) -> Stripped:
    """Remove boilerplate lines from ``text``.

    Args:
        text: the article text (headline first, if there is one).
        source: the outlet, when known (used by learned per-source rules).

    Returns:
        The kept text (kept lines joined by newlines, blank runs collapsed) and
        the removals, in text order, each with its span in ``text``.

    >>> s = strip("Big news\\nBig news\\nTranslate This News In\\nThe story.\\nREAD: Other")
    >>> s.text
    'Big news\\nThe story.'
    >>> [r.rule for r in s.removed]
    ['repeated_headline', 'translate_widget', 'related_link']
    """
    if not isinstance(text, str):
        raise TypeError(f"strip() expects a str, got {type(text).__name__}")
    del source  # reserved for learned per-source rules
    kept: list[str] = []
    removed: list[Removal] = []
    seen_top: set[str] = set()
    nonempty = 0
    for start, end, line in _lines_with_offsets(text):
        if not line.strip():
            if kept and kept[-1] != "":
                kept.append("")
            continue
        nonempty += 1
        rule_name = None
        norm = normalize(line)
        if nonempty <= _HEADLINE_WINDOW and norm in seen_top:
            rule_name = "repeated_headline"
        else:
            for rule in LINE_RULES:
                if rule.pattern.search(line):
                    rule_name = rule.name
                    break
        if nonempty <= _HEADLINE_WINDOW:
            seen_top.add(norm)
        if rule_name is None:
            kept.append(line)
        else:
            removed.append(Removal(start=start, end=end, text=line, rule=rule_name))
    while kept and kept[-1] == "":
        kept.pop()
    return Stripped(text="\n".join(kept), removed=tuple(removed))
