"""Boilerplate stripping on plain text, with a record of every removal.

``strip(text) -> Stripped(text, removed)``. Three layers, each recorded by name:

1. **Rules are data**: :data:`RULES` holds named patterns per language (related
   links, share and translate widgets, newsletter calls, bylines, datelines,
   photo credits, copyright footers, crumbs, comment and cookie notices). A
   ``"line"`` rule removes the whole line; a ``"prefix"`` rule removes only
   the matched start (the wire credit ``"WASHINGTON (AP) — "``) and keeps the
   sentence. Every rule applies only to lines of at most ``max_words`` words,
   so a paragraph that merely mentions "Share this" is never removed.
2. **Structure**: a headline repeated at the top (``repeated_headline``).
3. **A line classifier** (``line_model``): a two-stage logistic model over
   shallow features of each line and of its neighbours (word count, stopword
   density, end punctuation, capitalisation, separators, distance to the
   nearest long prose line), in the spirit of jusText and boilerpipe but on
   text alone. Its weights are data too (``strip_model.json``, fitted by
   ``benchmarks/strip_eval.py fit`` on the "tune" half of the L3S-GN1 pages:
   their page text, their article region, their article alone, and
   trafilatura's output for them). It runs on texts of at least
   :data:`MIN_MODEL_LINES` non-empty lines in a language with a stoplist, and
   not on texts whose lines after the first are all sentences. It never judges
   the headline (``title``, or a first line followed by a paragraph) and never
   strips a text to nothing (it then keeps the best-scoring lines).

A learned per-source model (:mod:`newsdedup.boilerplate`) adds a fourth layer
when passed as ``model``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

from .normalize import normalize, normalize_fast, normalized_encoded
from .types import Removal, Stripped

if TYPE_CHECKING:
    from .boilerplate import BoilerplateModel


@dataclass(frozen=True, slots=True)
class LineRule:
    """A named pattern, searched from the start of a line.

    Attributes:
        name: the rule name recorded in each :class:`~newsdedup.types.Removal`.
        pattern: the regular expression.
        max_words: the rule applies only to lines with at most this many words.
        action: ``"line"`` removes the whole line, ``"prefix"`` only the match.
    """

    name: str
    pattern: re.Pattern[str]
    max_words: int = 25
    action: Literal["line", "prefix"] = "line"


def _rule(
    name: str,
    pattern: str,
    max_words: int = 25,
    action: Literal["line", "prefix"] = "line",
    *,
    case: bool = False,
) -> LineRule:
    """A rule; case-insensitive unless ``case`` (then use ``(?i:...)`` for the keywords)."""
    return LineRule(name, re.compile(pattern, 0 if case else re.IGNORECASE), max_words, action)


_SOCIAL = r"(?:facebook|twitter|instagram|linkedin|whatsapp|telegram|youtube|pinterest|reddit|email|e-mail|print|google\+?|digg|stumbleupon|del\.icio\.us|delicious|myspace)"  # noqa: E501
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"  # noqa: E501
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?"
_WIRES = r"(?:AP|Reuters|AFP|UPI|PTI|IANS|ANI|dpa|DPA|Xinhua|Bloomberg|CNN|AAP|NYT|WPS|RIA Novosti|Interfax|Kyodo|Yonhap|Canadian Press|CP|Press Association|PA|BNO|TASS)"  # noqa: E501

#: Named line rules per language (checked in order; the first match names the
#: removal). ``"*"`` holds the language-neutral ones.
RULES: dict[str, tuple[LineRule, ...]] = {
    "*": (
        _rule(
            "copyright_footer",
            r"^\s*(?:©|\(c\)\s*(?:19|20)\d\d|copyright\s*(?:©|\(c\))?\s*(?:19|20)\d\d)",
            40,
        ),
        _rule(
            "nav_crumb", r"^\s*[^|»›>/\n]{1,40}(?:\s(?:\||»|›|>|::)\s[^|»›>\n]{1,40}){2,}\s*$", 40
        ),
        _rule("social_buttons", rf"^\s*(?:{_SOCIAL}[\s|,/•·]*){{2,}}$", 12),
        _rule(
            "datetime_line",
            rf"^\s*(?:(?:updated|published|posted|last updated|created|modified)\s*(?:on|at)?:?\s*)?(?:{_WEEKDAY},?\s*)?(?:{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d\d|\d{{1,2}}\s+{_MONTH},?\s+(?:19|20)\d\d|(?:19|20)\d\d[-/.]\d\d?[-/.]\d\d?|\d\d?([-/.])\d\d?\1(?:19|20)?\d\d)[\s,]*(?:(?:at\s*)?\d\d?[:.]\d\d(?:[:.]\d\d)?\s*(?:[ap]\.?m\.?)?\s*(?:[A-Z]{{2,4}}|GMT[+-]?\d*|UTC[+-]?\d*|IST|EST|EDT|PST|PDT|BST)?)?\s*[|)]?\s*$",  # noqa: E501
            12,
        ),
    ),
    "en": (
        _rule(
            "wire_credit",
            rf"^\s*(?:[A-Z][A-Za-z.'\- ]{{1,40}}(?:,\s*[A-Za-z.'\- ]{{2,30}})?\s*)?\((?:{_WIRES})(?:/[A-Za-z ]+)?\)\s*[-—–:]+\s*",  # noqa: E501
            10_000,
            "prefix",
        ),
        _rule(
            "related_link",
            r"^\s*(?:read|also read|read more|read also|more|related|see also|also see|watch|listen|more from|more on|more about|recommended|related (?:stories|articles|news|links|coverage|content|topics)|you (?:may|might) also (?:like|be interested)|most (?:read|popular|viewed|emailed|shared)|top stories|trending(?: now)?|don'?t miss|editor'?s picks?)\s*(?::|»|>|\||-|—|–|\.\.\.|…|$)|^\s*(?:more (?:from|on|about|in)|latest (?:from|on|in)|also on)\s+[\w'&.,\- ]{1,40}$",  # noqa: E501
        ),
        _rule(
            "translate_widget",
            r"^\s*translate (?:this|the) (?:news|article|page|story|post)(?: in(?:to)?)?\b",
        ),
        _rule(
            "share_widget",
            rf"^\s*(?:(?:share|tweet|email|e-mail|print|save|bookmark|recommend|send)(?: (?:this|the))?(?: (?:article|story|page|post|news|link))?(?: (?:on|via|with|to a friend))?|post to)(?:\s*(?:[:|•·,/]|{_SOCIAL}|\d+)\s*)*$",  # noqa: E501
        ),
        _rule(
            "follow_us",
            r"^\s*(?:follow|like|join|connect with|find|friend) (?:us|me|@\w+)(?: (?:on|at|via)\b.*)?$",  # noqa: E501
            14,
        ),
        _rule(
            "newsletter",
            r"^\s*(?:sign up|subscribe|get (?:our|the) (?:free )?(?:newsletter|daily|weekly|latest|top)|newsletter|click here to (?:subscribe|sign up|receive)|want (?:more|the latest)|never miss)\b.{0,150}(?:newsletter|e-?mail|inbox|subscri|free|alerts?|updates?|daily|weekly|sign up|register)",  # noqa: E501
            40,
        ),
        _rule(
            "byline",
            r"^\s*(?i:by|written by|posted by|reported by|story by|words by|text by|compiled by|edited by)\s+(?:[A-Z][\w.'\-]*\s*){1,4}(?:(?:,|and|&|\||-|—|/)\s*(?:[A-Z][\w.'\-]*\s*){1,5}){0,3}\s*$",  # noqa: E501
            16,
            case=True,
        ),
        _rule(
            "staff_credit",
            r"^\s*(?:staff (?:writer|reporter)|(?:senior |chief |political |foreign )?(?:correspondent|reporter|editor|columnist)|(?:associated press|reuters|afp|ap) (?:writer|reporter|correspondent))\s*$",  # noqa: E501
            6,
        ),
        _rule(
            "wire_trailer",
            r"^\s*(?:[\(\[]\s*(?:additional )?(?:reporting|writing|editing)\s+by\b.*|(?:additional )?(?:reporting|writing)\s+by\b[^.]*;\s*(?:editing|writing)\s+by\b.*)$",  # noqa: E501
            40,
        ),
        _rule(
            "photo_credit",
            r"^\s*(?:\(?(?:photo|photos|photograph|image|picture|pic|file photo|credit|video|graphic|illustration)s?(?: credit)?\s*(?::|/|by\b|courtesy\b)|(?:getty images|ap photo|reuters photo|afp photo|afp/getty|epa|shutterstock)\s*(?:[/:)|]|$))",  # noqa: E501
            30,
        ),
        _rule(
            "copyright_footer_en",
            r"^\s*(?:all rights reserved|this (?:material|article|story) may not be (?:published|reproduced|broadcast)|reproduction (?:in whole or in part )?(?:is )?(?:prohibited|forbidden))",  # noqa: E501
            40,
        ),
        _rule(
            "copyright_notice",
            r"^\s*(?i:copyright)\s+(?:[A-Z][\w&'.-]*\s*){1,4}\.?\s*$",
            6,
            case=True,
        ),
        _rule(
            "legal_links",
            r"^\s*(?:terms (?:of (?:use|service)|and conditions)|privacy (?:policy|statement|notice)|(?:cookie|cookies) policy|contact us|about us)\b[\s|•·,/&a-z]*$",  # noqa: E501
            10,
        ),
        _rule(
            "comments",
            r"^\s*(?:(?:\d+\s+)?(?:reader |user )?(?:comments?|replies)\s*(?:\(\d+\)|:)?\s*$|(?:have your say|post (?:a|your) comment|add (?:a|your) comment|leave (?:a|your) (?:comment|reply)|write (?:a|your) comment|comments? (?:are|is) (?:now )?(?:closed|disabled)|you must be (?:logged|signed) in|log ?in to (?:comment|post)|be the first to comment|view (?:all )?comments|show comments|report (?:abuse|this comment))\b)",  # noqa: E501
            15,
        ),
        _rule(
            "cookie_notice",
            r"^.{0,80}\b(?:(?:we|this (?:web)?site) uses? cookies|(?:accept|allow|reject|manage)(?: all)? cookies|cookie (?:policy|settings|preferences|consent)|by (?:continuing|using) (?:to (?:use|browse) )?(?:this|our) (?:web)?site,? you (?:agree|consent|accept))",  # noqa: E501
            60,
        ),
        _rule(
            "advertisement",
            r"^\s*(?:advertisement|advertising|sponsored(?: content| by)?|ad|ads by \w+|story continues below(?: advertisement)?|continue reading(?: below)?|scroll to continue|skip (?:to )?(?:main )?content|skip ad)\s*[:.]?\s*$",  # noqa: E501
            6,
        ),
        _rule(
            "navigation",
            r"^\s*(?:home|back to top|top of page|previous(?: (?:page|article|story))?|next(?: (?:page|article|story))?|page \d+ of \d+|search|menu|skip navigation|close|login|log in|sign in|register|contact us|about us|site ?map|rss(?: feeds?)?|help)\s*[|»›>:]?\s*$",  # noqa: E501
            5,
        ),
        _rule(
            "tags_line",
            r"^\s*(?:tags?|topics?|filed under|categories|category|keywords|posted in|hot tags)\s*:",  # noqa: E501
            40,
        ),
    ),
}

#: Stoplists per language, for the stopword-density features.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "about",
            "above",
            "after",
            "again",
            "against",
            "all",
            "also",
            "although",
            "am",
            "an",
            "and",
            "any",
            "are",
            "as",
            "at",
            "be",
            "because",
            "been",
            "before",
            "being",
            "below",
            "between",
            "both",
            "but",
            "by",
            "can",
            "could",
            "did",
            "do",
            "does",
            "doing",
            "down",
            "during",
            "each",
            "even",
            "ever",
            "few",
            "for",
            "from",
            "further",
            "had",
            "has",
            "have",
            "having",
            "he",
            "her",
            "here",
            "hers",
            "herself",
            "him",
            "himself",
            "his",
            "how",
            "however",
            "i",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "itself",
            "just",
            "last",
            "least",
            "less",
            "like",
            "made",
            "many",
            "may",
            "me",
            "might",
            "more",
            "most",
            "much",
            "must",
            "my",
            "myself",
            "never",
            "new",
            "no",
            "nor",
            "not",
            "now",
            "of",
            "off",
            "often",
            "on",
            "once",
            "one",
            "only",
            "or",
            "other",
            "our",
            "ours",
            "out",
            "over",
            "own",
            "per",
            "quite",
            "rather",
            "said",
            "same",
            "say",
            "says",
            "she",
            "should",
            "since",
            "so",
            "some",
            "still",
            "such",
            "than",
            "that",
            "the",
            "their",
            "theirs",
            "them",
            "themselves",
            "then",
            "there",
            "these",
            "they",
            "this",
            "those",
            "though",
            "through",
            "thus",
            "to",
            "too",
            "under",
            "until",
            "up",
            "upon",
            "us",
            "very",
            "was",
            "we",
            "well",
            "were",
            "what",
            "when",
            "where",
            "whether",
            "which",
            "while",
            "who",
            "whom",
            "whose",
            "why",
            "will",
            "with",
            "within",
            "without",
            "would",
            "yet",
            "you",
            "your",
            "yours",
            "yourself",
        ]
    ),
}

#: How many non-empty lines from the top may repeat an earlier line (the headline).
_HEADLINE_WINDOW = 4
#: The line classifier runs only on texts with at least this many non-empty lines.
MIN_MODEL_LINES = 4
#: A text whose lines after the first are all sentences (this many words or more,
#: ending in . ! or ?) is left to the rules: the classifier looks for other lines.
PROSE_MIN_WORDS = 6
#: ... and only when the text's stopword density shows a language with a stoplist.
MIN_DOC_STOPWORD_DENSITY = 0.15

#: When no line reaches the threshold, lines scoring at least this share of the best are kept.
_FALLBACK_SHARE = 0.5

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_ALPHA_WORD = re.compile(r"\b[^\W\d_]")
_CAP_WORD = re.compile(r"\b[A-Z\u00c0-\u00de]")
_UPPER_WORD = re.compile(r"\b[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de]+\b")
_END_PUNCT = re.compile(r"[.!?][\"'”’)\]]*\s*$")
_LIST_ITEM = re.compile(r"\s*(?:[-*•·▪–]|\d{1,2}[.)])\s+\S")
_SEPS = re.compile(r"\s[|»›•·]\s|\s>\s|::")
_URLISH = re.compile(r"https?://|www\.|\.com\b|\.co\.uk\b|@\w")

_WORD_BINS = (1, 2, 3, 4, 6, 10, 15, 25, 50)
_SD_BINS = (0.0001, 0.1, 0.2, 0.3, 0.4)
_RULE_FEATURES = (
    "related_link",
    "share_widget",
    "datetime_line",
    "byline",
    "photo_credit",
    "comments",
    "navigation",
    "copyright",
)


class _Line(NamedTuple):
    """A line of a text: its span (line break excluded) and its text."""

    start: int
    end: int
    text: str


def _lines_with_offsets(text: str) -> list[_Line]:
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        out.append(_Line(pos, pos + len(body), body))
        pos += len(raw)
    return out


#: The characters ``str.splitlines`` breaks lines at besides "\n" (ASCII ones, then others).
_ASCII_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_WIDE_BREAKS = ("\x85", "\u2028", "\u2029")


def _only_newlines(text: str) -> bool:
    """Whether "\n" is the only character ``str.splitlines`` would break ``text`` at."""
    for b in _ASCII_BREAKS:
        if b in text:
            return False
    if not text.isascii():
        for b in _WIDE_BREAKS:
            if b in text:
                return False
    return True


def _nonempty_lines(text: str) -> tuple[list[_Line], list[bool]]:
    """The lines of ``text`` that are not blank (as :func:`_lines_with_offsets`
    gives them), and for each whether a blank line (empty or white space only)
    comes between it and the line before it that is not blank (or the start)."""
    out = []
    gaps = []
    pos = 0
    gap = False
    if _only_newlines(text):
        new = tuple.__new__  # _Line(*values) without _Line.__new__
        # (most texts) lines end at "\n" only: split there, 9.4 -> 5.4 us a
        # text of the speed corpus (tests/test_fast_strip.py: the same lines)
        for body in text.split("\n"):
            if body and not body.isspace():
                end = pos + len(body)
                out.append(new(_Line, (pos, end, body)))
                gaps.append(gap)
                gap = False
                pos = end + 1
            else:
                gap = True
                pos += len(body) + 1
        return out, gaps
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        if body and not body.isspace():  # == body.strip() (the same white space)
            out.append(_Line(pos, pos + len(body), body))
            gaps.append(gap)
            gap = False
        else:
            gap = True
        pos += len(raw)
    return out, gaps


def rules_for(language: str) -> tuple[LineRule, ...]:
    """The rules that apply to ``language`` (its own, then the neutral ones)."""
    if language not in RULES:
        raise ValueError(
            f"The 'language' parameter of strip must be one of "
            f"{{{', '.join(repr(k) for k in RULES if k != '*')}}}. Got {language!r} instead."
        )
    rules = _RULES_FOR.get(language)
    if rules is None or rules[0] is not RULES[language] or rules[1] is not RULES["*"]:
        rules = _RULES_FOR[language] = (RULES[language], RULES["*"], RULES[language] + RULES["*"])
    return rules[2]


#: language -> (its rules, the neutral rules, both): one tuple per language, so
#: that :func:`match_rule`'s cache of applicable rules is hit.
_RULES_FOR: dict[str, tuple[tuple[LineRule, ...], tuple[LineRule, ...], tuple[LineRule, ...]]] = {}


#: Substrings a line must contain for a rule to match it, one of them at least
#: (a rule's regex needs one of these literals): (substrings, folded). With
#: ``folded`` the test is on ``line.lower()`` and only for ASCII lines (the
#: regex ignores case; for ASCII text that is lower-case equality). Written for
#: the patterns of :data:`RULES`; tests/test_fast_strip.py checks them.
_NEEDLES: dict[str, tuple[tuple[str, ...], bool]] = {
    "wire_credit": (("(",), False),
    "nav_crumb": (("|", "\u00bb", "\u203a", ">", "::"), False),
    "cookie_notice": (("cookie", "by continuing", "by using"), True),
}

_DIGITS = tuple("0123456789")
#: For the rules anchored at a line's start: what an ASCII line must start with,
#: after its leading white space and lower-cased, for the rule to match it (the
#: first literal words of the pattern's alternatives, or their common start;
#: the optional leading groups of ``datetime_line`` and ``comments`` included).
#: Written for the patterns of :data:`RULES`; tests/test_fast_strip.py checks
#: them on lines generated from each pattern and on the corpora's lines.
_STARTS: dict[str, tuple[str, ...]] = {
    "copyright_footer": ("\u00a9", "(c)", "copyright"),
    "social_buttons": ("facebook", "twitter", "instagram", "linkedin", "whatsapp", "telegram",
                       "youtube", "pinterest", "reddit", "email", "e-mail", "print", "google",
                       "digg", "stumbleupon", "del", "myspace"),
    "datetime_line": ("updated", "published", "posted", "last updated", "created", "modified",
                      "mon", "tue", "wed", "thu", "fri", "sat", "sun", "jan", "feb", "mar",
                      "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", *_DIGITS),
    "related_link": ("read", "also", "more", "related", "see", "watch", "listen", "recommended",
                     "you", "most", "top", "trending", "don", "editor", "latest"),
    "translate_widget": ("translate",),
    "share_widget": ("share", "tweet", "email", "e-mail", "print", "save", "bookmark",
                     "recommend", "send", "post"),
    "follow_us": ("follow", "like", "join", "connect", "find", "friend"),
    "newsletter": ("sign", "subscribe", "get", "newsletter", "click", "want", "never"),
    "byline": ("by", "written", "posted", "reported", "story", "words", "text", "compiled",
               "edited"),
    "staff_credit": ("staff", "senior", "chief", "political", "foreign", "correspondent",
                     "reporter", "editor", "columnist", "associated", "reuters", "afp", "ap"),
    "wire_trailer": ("(", "[", "additional", "reporting", "writing"),
    "photo_credit": ("(", "photo", "image", "pic", "file", "credit", "video", "graphic",
                     "illustration", "getty", "ap", "reuters", "afp", "epa", "shutterstock"),
    "copyright_footer_en": ("all", "this", "reproduction"),
    "copyright_notice": ("copyright",),
    "legal_links": ("terms", "privacy", "cookie", "contact", "about"),
    "comments": (*_DIGITS, "reader", "user", "comment", "replies", "have", "post", "add",
                 "leave", "write", "you", "log", "be", "view", "show", "report"),
    "advertisement": ("ad", "sponsored", "story", "continue", "scroll", "skip"),
    "navigation": ("home", "back", "top", "previous", "next", "page", "search", "menu", "skip",
                   "close", "login", "log", "sign", "register", "contact", "about", "site",
                   "rss", "help"),
    "tags_line": ("tag", "topic", "filed", "categor", "keyword", "posted", "hot"),
}
#: How much of a line's start (after white space) the :data:`_STARTS` test reads.
_HEAD = 16

_Row = tuple[LineRule, tuple[str, ...] | None, bool, tuple[str, ...] | None]
_Applicable = tuple[tuple[_Row, ...], tuple[str, ...], tuple[_Row, ...]]
#: (id(rules), n_words) -> (rules, the rules that apply to a line of n_words
#: words, each with its needles and starts, all those starts together, and the
#: rows of the rules without starts with only their ASCII needles)
_APPLICABLE: dict[tuple[int, int], tuple[tuple[LineRule, ...], _Applicable]] = {}


def _applicable(rules: tuple[LineRule, ...], n_words: int) -> _Applicable:
    """``rules`` whose ``max_words`` admits ``n_words`` (in order; cached), with
    their :data:`_NEEDLES` and :data:`_STARTS` (None: no prefilter), the
    union of their starts, and those of them without starts (in order) with
    only their ASCII needles (what an ASCII line can contain)."""
    key = (id(rules), n_words)
    hit = _APPLICABLE.get(key)
    if hit is None or hit[0] is not rules:
        if len(_APPLICABLE) > 4096:
            _APPLICABLE.clear()
        rows = []
        union: list[str] = []
        for r in rules:
            if n_words <= r.max_words:
                words, folded = _NEEDLES.get(r.name, (None, False))
                starts = _STARTS.get(r.name)
                rows.append((r, words, folded, starts))
                union += starts or ()
        unanchored = tuple(
            (r, None if words is None else tuple(w for w in words if w.isascii()), folded, None)
            for r, words, folded, starts in rows if starts is None
        )
        hit = _APPLICABLE[key] = (rules, (tuple(rows), tuple(dict.fromkeys(union)), unanchored))
    return hit[1]


#: id(rules) -> (rules, :func:`_gate_tables` of them)
_GATES: dict[int, tuple[tuple[LineRule, ...], tuple[np.ndarray, ...] | None]] = {}


def _gate_tables(rules: tuple[LineRule, ...]) -> tuple[np.ndarray, ...] | None:
    """The arrays of the compiled ``rule_gate`` for ``rules`` (cached): the
    :data:`_STARTS` of the rules that have them (those of at most :data:`_HEAD`
    characters, ASCII: an ASCII line's head starts with no other) and the ASCII
    :data:`_NEEDLES` of the others. A line it passes over is an ASCII line
    that :func:`match_rule` tries against no rule's pattern (its head starts
    with no start; it has no needle of a rule without starts). None when a
    rule has neither starts nor needles (every line may match it)."""
    hit = _GATES.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    heads: list[str] = []
    needles: list[tuple[str, bool]] = []
    tables: tuple[np.ndarray, ...] | None = None
    for r in rules:
        starts = _STARTS.get(r.name)
        words, folded = _NEEDLES.get(r.name, (None, False))
        if starts is not None:
            heads += [h for h in starts if h.isascii() and len(h) <= _HEAD]
        elif words is not None and all(words):
            needles += [(w, folded) for w in words if w.isascii()]
        else:
            break
    else:
        # by first character (the empty start, which every head starts with, first)
        heads = sorted(set(heads), key=lambda h: (ord(h[0]) if h else -1, h))
        firsts = np.array([ord(h[0]) if h else -1 for h in heads], dtype=np.int64)
        head_from = np.searchsorted(firsts, np.arange(129), side="left").astype(np.int64)
        needles = list(dict.fromkeys(needles))

        def rows(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
            width = max(map(len, texts), default=0)
            out = np.zeros((len(texts), max(width, 1)), dtype=np.uint32)
            for k, t in enumerate(texts):
                out[k, : len(t)] = [ord(c) for c in t]
            return out, np.array([len(t) for t in texts], dtype=np.int64)

        first = np.zeros(128, dtype=np.uint8)
        for w, folded in needles:  # (none empty: see the loop above)
            first[ord(w[0])] = 1
            if folded:
                first[ord(w[0].upper())] = 1
        tables = (*rows(heads), head_from, *rows([w for w, _f in needles]),
                  np.array([f for _w, f in needles], dtype=np.bool_), first)
    if len(_GATES) > 64:
        _GATES.clear()
    _GATES[id(rules)] = (rules, tables)
    return tables


def match_rule_reference(
    line: str, rules: tuple[LineRule, ...], n_words: int
) -> tuple[LineRule, int] | None:
    """:func:`match_rule` without its cache of applicable rules (the reference)."""
    for rule in rules:
        if n_words > rule.max_words:
            continue
        m = rule.pattern.search(line)
        if m is None:
            continue
        if rule.action == "prefix" and m.end() >= len(line.rstrip()):
            continue
        return rule, m.end()
    return None


def match_rule(line: str, rules: tuple[LineRule, ...], n_words: int) -> tuple[LineRule, int] | None:
    """The first rule that matches ``line`` and the end of its match, or None.

    A rule with :data:`_NEEDLES` is tried only on a line that has one of them;
    on an ASCII line, a rule with :data:`_STARTS` only when the line starts with
    one of them (most lines start with none of any rule: one test for all)."""
    rows, union, unanchored = _applicable(rules, n_words)
    low: str | None = None
    ascii_line = line.isascii()
    head = ""
    if ascii_line:
        head = line.lstrip()[:_HEAD].lower()
        if not head.startswith(union):  # most lines
            return _match_unanchored(line, unanchored)
    for rule, words, folded, starts in rows:
        if starts is not None and ascii_line and not head.startswith(starts):
            continue
        if words is not None:
            if not folded:
                if not any(map(line.__contains__, words)):
                    continue
            elif ascii_line:
                if low is None:
                    low = line.lower()
                if not any(map(low.__contains__, words)):
                    continue
        end = _rule_end(rule, line)
        if end is not None:
            return rule, end
    return None


def _rule_end(rule: LineRule, line: str) -> int | None:
    """Where ``rule``'s match in ``line`` ends; None where it does not match, or
    is a prefix rule that would leave nothing of the line (it keeps the sentence)."""
    m = rule.pattern.search(line)
    if m is None or rule.action == "prefix" and m.end() >= len(line.rstrip()):
        return None
    return m.end()


def _match_unanchored(line: str, rows: tuple[_Row, ...]) -> tuple[LineRule, int] | None:
    """:func:`match_rule` of an ASCII line that starts with none of the
    :data:`_STARTS`: only ``rows`` (the rules without starts, with their ASCII
    needles) can match it."""
    low = None
    for rule, words, folded, _starts in rows:
        if words is not None:
            hay = line
            if folded:
                if low is None:
                    low = line.lower()
                hay = low
            for w in words:  # (a loop: cheaper than any(map(...)) for a few needles)
                if w in hay:
                    break
            else:
                continue
        end = _rule_end(rule, line)
        if end is not None:
            return rule, end
    return None


# ---------------------------------------------------------------- features


def _shift(x: np.ndarray, off: int, fill: float = 0.0) -> np.ndarray:
    """x[i + off] for every i (``fill`` where i + off is outside)."""
    out = np.full_like(x, fill)
    n = len(x)
    if off > 0:
        out[: max(0, n - off)] = x[off:]
    elif off < 0:
        out[-off:] = x[: n + off]
    else:
        out[:] = x
    return out


def _onehot(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    k = np.searchsorted(np.asarray(edges), values, side="right")
    return np.eye(len(edges) + 1)[k]


def base_features(
    lines: list[str],
    rule_hits: list[str | None],
    stop: frozenset[str],
    toks: list[list[str]] | None = None,
) -> np.ndarray:
    """Per-line features of ``lines`` (non-empty lines of one text), one row each.

    ``toks`` are the lines' ``\\w+`` tokens, when the caller has them already.
    """
    n = len(lines)
    if toks is None:
        toks = [_WORD.findall(s) for s in lines]
    is_stop = stop.__contains__
    nw = np.fromiter(map(len, toks), dtype=np.float64, count=n)
    stops = np.fromiter(
        (sum(map(is_stop, map(str.lower, t))) for t in toks), dtype=np.float64, count=n
    )
    sd = np.divide(stops, nw, out=np.zeros(n), where=nw > 0)
    endp = np.fromiter((_END_PUNCT.search(s) is not None for s in lines), dtype=np.float64, count=n)
    listed = np.fromiter(
        (_LIST_ITEM.match(s) is not None for s in lines), dtype=np.float64, count=n
    )
    good = (nw >= 12) & (sd >= 0.25)
    idx = np.arange(n)
    good_idx = np.flatnonzero(good)
    first_good = good_idx[0] if len(good_idx) else n
    last_good = good_idx[-1] if len(good_idx) else -1
    # distance to the nearest good line before / after
    last_before = np.maximum.accumulate(np.where(good, idx, -10_000))
    prev_good = idx - np.concatenate([[-10_000], last_before[:-1]])
    first_after = np.minimum.accumulate(np.where(good, idx, 10_000 + n)[::-1])[::-1]
    next_good = np.concatenate([first_after[1:], [10_000 + n]]) - idx
    stripped = [s.strip() for s in lines]
    norms = [x.lower() for x in stripped]
    counts: dict[str, int] = {}
    for x in norms:
        counts[x] = counts.get(x, 0) + 1
    firsts = [x[:1] for x in stripped]
    n_alpha = np.fromiter((len(_ALPHA_WORD.findall(s)) for s in lines), dtype=np.float64, count=n)
    n_cap = np.fromiter((len(_CAP_WORD.findall(s)) for s in lines), dtype=np.float64, count=n)
    n_upper = np.fromiter((len(_UPPER_WORD.findall(s)) for s in lines), dtype=np.float64, count=n)
    nchar = np.fromiter((max(1, len(s)) for s in lines), dtype=np.float64, count=n)
    n_digit = np.fromiter((len(_DIGIT.findall(s)) for s in lines), dtype=np.float64, count=n)
    chars = np.fromiter((sum(map(len, t)) for t in toks), dtype=np.float64, count=n)
    hits = [h or "" for h in rule_hits]
    cols = [
        np.log1p(nw)[:, None],
        _onehot(nw, _WORD_BINS),
        sd[:, None],
        _onehot(sd, _SD_BINS),
        np.column_stack([
            endp,
            [x.endswith(":") for x in stripped],
            [x.endswith(("...", "…")) for x in stripped],
            [f.islower() for f in firsts],
            [bool(f) and not f.isalnum() and f not in "\"'“‘([" for f in firsts],
            [f in "\"'“‘" or '"' in s or "“" in s for f, s in zip(firsts, lines, strict=True)],
            np.divide(n_cap, n_alpha, out=np.zeros(n), where=n_alpha > 0),
            np.divide(n_upper, n_alpha, out=np.zeros(n), where=n_alpha > 0),
            n_digit / nchar,
            [min(3.0, len(_SEPS.findall(s))) for s in lines],
            [_URLISH.search(s) is not None for s in lines],
            np.fromiter((s.count(",") for s in lines), dtype=np.float64, count=n)
            / np.maximum(1, nw),
            np.divide(chars, nw, out=np.zeros(n), where=nw > 0) / 10,
            [counts[x] > 1 for x in norms],
            (idx >= first_good) & (idx <= last_good),
            good,
            np.log1p(np.minimum(50, prev_good)),
            np.log1p(np.minimum(50, next_good)),
            *([h.startswith(r) for h in hits] for r in _RULE_FEATURES),
        ]).astype(np.float64),
    ]
    lognw = np.log1p(nw)
    for off in (-2, -1, 1, 2):
        exists = _shift(np.ones(n), off)
        cols.append(
            np.column_stack([exists, _shift(lognw, off), _shift(endp, off), _shift(sd, off)])
        )
    csum = np.concatenate([[0.0], np.cumsum(nw)])
    win = csum[np.minimum(n, idx + 4)] - csum[np.maximum(0, idx - 3)] - nw
    cols.append(np.log1p(win)[:, None])
    cols.append(np.column_stack([listed, _shift(listed, -1), _shift(listed, 1)]))
    return np.hstack(cols).reshape(n, -1)


#: Columns of :func:`base_features`' matrix.
N_BASE_FEATURES = (
    1 + len(_WORD_BINS) + 1 + 1 + len(_SD_BINS) + 1 + 18 + len(_RULE_FEATURES) + 16 + 1 + 3
)

_WORD_BINS_F = np.asarray(_WORD_BINS, dtype=np.float64)
_SD_BINS_F = np.asarray(_SD_BINS, dtype=np.float64)
#: Where base_features' 18 count-derived columns start, then its rule columns,
#: then its neighbours' (4 a neighbour at -2, -1, 1, 2, then the words around).
_COUNT_COL = 1 + len(_WORD_BINS) + 1 + 1 + len(_SD_BINS) + 1
_RULE_COL = _COUNT_COL + 18
_NEIGHBOUR_COL = _RULE_COL + len(_RULE_FEATURES)
#: The columns that are a log1p: of the number of words, of the distances to the
#: good lines before and after, of the neighbours' numbers of words, and of the
#: words around.
_LOG1P_COLUMNS = np.array([0, _COUNT_COL + 16, _COUNT_COL + 17,
                           *range(_NEIGHBOUR_COL + 1, _NEIGHBOUR_COL + 16, 4),
                           _NEIGHBOUR_COL + 16])


def base_features_fast(
    lines: list[str],
    rule_hits: list[str | None],
    stop: frozenset[str],
    toks: list[list[str]] | None = None,
    *,
    counts: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`base_features`, computed faster: the per-line counts in one compiled
    pass (:func:`newsdedup._native.line_counts` of ``lines`` with ``stop``, or
    ``counts`` when the caller has them; numba needed) and the matrix filled in
    place (:func:`base_features_batch` of this one text). Every value is
    computed by the same arithmetic as in :func:`base_features`, so the
    matrices are equal bit for bit (tests/test_fast_strip.py checks it on the
    corpora)."""
    from . import _native

    if not _native.available():
        return base_features(lines, rule_hits, stop, toks)
    if counts is None:
        counts = _native.line_counts(lines, stop)
    return base_features_batch([(lines, rule_hits, counts)])[0]


def base_features_batch(
    texts: Sequence[tuple[list[str], list[str | None], np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`base_features_fast` of several texts at once: (the rows of every
    text, one after the other; where each text's rows start, and the end).

    Each item is (lines, rule hits, :func:`newsdedup._native.line_counts` of
    the lines). Features that look at neighbouring lines stay inside their text,
    and every value is computed by the same arithmetic as one text at a time
    (whole numbers of words summed exactly), so a text's rows do not depend on
    the other texts of the batch (tests/test_fast_strip.py)."""
    from . import _native

    sizes = np.fromiter((len(t[0]) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    n = int(starts[-1])
    if n == 0:
        return np.zeros((0, N_BASE_FEATURES)), starts
    counts = np.concatenate([np.asarray(t[2], dtype=np.int64).reshape(-1, 18) for t in texts])
    dup: list[bool] = []
    for lines, _hits, _counts in texts:
        norms = list(map(str.lower, map(str.strip, lines)))
        if len(set(norms)) == len(norms):  # (most texts: no line twice)
            dup += [False] * len(norms)
        else:
            seen = Counter(norms)
            dup += [seen[x] > 1 for x in norms]
    # every column but the rules' in one compiled pass (the numpy expressions of
    # base_features, value for value), the log1p columns then taken by numpy
    c = _RULE_COL
    out: np.ndarray = _native.kernels()["base_feature_rows"](
        counts, starts, np.asarray(dup, dtype=np.bool_), _WORD_BINS_F, _SD_BINS_F,
        N_BASE_FEATURES, c)
    out[:, _LOG1P_COLUMNS] = np.log1p(out[:, _LOG1P_COLUMNS])
    # h.startswith(rule) of each line's rule hit (no hit: "", which starts with none)
    for row, h in enumerate(itertools.chain.from_iterable(t[1] for t in texts)):
        if h:
            for k, r in enumerate(_RULE_FEATURES):
                if h.startswith(r):
                    out[row, c + k] = 1.0
    return out, starts


def context_features(
    base: np.ndarray, p1: np.ndarray, starts: np.ndarray | None = None
) -> np.ndarray:
    """Stage-2 features: the base row plus the stage-1 scores around each line
    (within its text: ``starts`` as :func:`base_features_batch` gives them; one
    text when None)."""
    n = len(p1)
    gidx = np.arange(n)
    if starts is None:
        lo, hi = np.zeros(n, dtype=np.int64), np.full(n, n, dtype=np.int64)
    else:
        seg = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
        lo, hi = starts[:-1][seg], starts[1:][seg]
    cols: dict[int, np.ndarray] = {}
    win_sum = np.zeros(n)
    win_cnt = np.zeros(n)
    for off in range(-5, 6):
        if off == 0:
            continue
        at = gidx + off
        inside = (at >= lo) & (at < hi)
        val = np.where(inside, p1[np.clip(at, 0, max(0, n - 1))], -1.0)
        if -3 <= off <= 3:
            cols[off] = val
        win_sum += np.where(inside, val, 0.0)
        win_cnt += inside
    cols[0] = p1
    around = [cols[off] for off in (-3, -2, -1, 0, 1, 2, 3)]
    mean5 = win_sum / np.maximum(win_cnt, 1)
    stacked = np.column_stack(
        [*around, mean5, np.maximum.reduce(around[:3]), np.maximum.reduce(around[4:])]
    )
    return np.hstack([base, stacked])


def _linear(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """``x @ w + b`` as one sum per row (each row's value is the same whatever
    other rows are in ``x``; a matrix product's may differ in the last bit)."""
    return np.asarray((x * w).sum(axis=1) + b)


@dataclass(frozen=True, slots=True)
class LineModel:
    """The fitted weights of the two-stage line classifier."""

    mean1: np.ndarray
    scale1: np.ndarray
    w1: np.ndarray
    b1: float
    mean2: np.ndarray
    scale2: np.ndarray
    w2: np.ndarray
    b2: float
    threshold: float

    def stage1(self, base: np.ndarray) -> np.ndarray:
        z = _linear((base - self.mean1) / self.scale1, self.w1, self.b1)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def scores(self, base: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
        """P(content) for every row of ``base`` (the rows of one text, or of
        several with ``starts`` as :func:`base_features_batch` gives them: each
        row's score is the same either way)."""
        x2 = context_features(base, self.stage1(base), starts)
        z = _linear((x2 - self.mean2) / self.scale2, self.w2, self.b2)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def scores_compiled(self, base: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """:meth:`scores` with ``starts``, bit for bit, each stage's weighted sums
        made in one compiled pass (no feature matrices; numba needed): a chunk
        of 2,000 speed-corpus texts (28,666 lines) 12.8 -> 4.3 ms."""
        from . import _native

        k = _native.kernels()
        base = np.ascontiguousarray(base, dtype=np.float64)
        z1 = k["line_model_stage1"](base, self.mean1, self.scale1, self.w1, self.b1)
        p1 = np.asarray(1.0 / (1.0 + np.exp(-z1)))
        z2 = k["line_model_stage2"](base, p1, np.asarray(starts, dtype=np.int64), self.mean2,
                                    self.scale2, self.w2, self.b2)
        return np.asarray(1.0 / (1.0 + np.exp(-z2)))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LineModel:
        if data.get("kind") != "newsdedup.strip.LineModel" or data.get("version") != 1:
            raise ValueError("not a version-1 newsdedup line model")
        a = {
            k: np.asarray(data[k], dtype=np.float64)
            for k in ("mean1", "scale1", "w1", "mean2", "scale2", "w2")
        }
        return cls(
            b1=float(data["b1"]), b2=float(data["b2"]), threshold=float(data["threshold"]), **a
        )


@lru_cache(maxsize=1)
def line_model() -> LineModel | None:
    """The packaged line classifier (None if its weights file is absent)."""
    try:
        raw = resources.files("newsdedup").joinpath("strip_model.json").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    return LineModel.from_json(json.loads(raw))


# ---------------------------------------------------------------- strip


def strip(
    text: str,
    *,
    source: str | None = None,
    title: str | None = None,
    model: BoilerplateModel | None = None,
    language: str = "en",
) -> Stripped:
    """Remove boilerplate from ``text``.

    Args:
        text: the article or page text, one paragraph (or block) per line.
        source: the outlet, when known; with ``model``, its learned lines are removed.
        title: the headline, when known. A first line equal to it is kept as the
            headline (the classifier does not judge it); copies of it are removed.
        model: a :class:`~newsdedup.boilerplate.BoilerplateModel` learned per source.
        language: the language of the rules and stoplist (``"en"``).

    Returns:
        The kept text (kept lines joined by newlines, blank runs collapsed) and
        the removals, in text order, each with its span in ``text`` and the
        name of the rule that removed it.

    >>> s = strip("Big news\\nBig news\\nTranslate This News In\\nThe story.\\nREAD: Other")
    >>> s.text
    'Big news\\nThe story.'
    >>> [r.rule for r in s.removed]
    ['repeated_headline', 'translate_widget', 'related_link']
    >>> strip("WASHINGTON (AP) — The Senate voted on Tuesday.").text
    'The Senate voted on Tuesday.'
    """
    if not isinstance(text, str):
        raise TypeError(f"strip() expects a str, got {type(text).__name__}")
    for name, value in (("source", source), ("title", title)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"strip(): {name} must be a str or None, got {type(value).__name__}")
    from .boilerplate import BoilerplateModel  # (strip is imported by boilerplate's users)

    if model is not None and not isinstance(model, BoilerplateModel):
        raise TypeError("strip(): model must be a BoilerplateModel (BoilerplateModel.load(path) "
                        f"reads a saved one) or None, got {type(model).__name__}")
    return strip_with(text, source=source, title=title, model=model, language=language)


def strip_with(
    text: str,
    *,
    source: str | None = None,
    title: str | None = None,
    model: BoilerplateModel | None = None,
    language: str = "en",
    threshold: float | None = None,
) -> Stripped:
    """:func:`strip` with the line classifier's threshold set (None: its fitted one;
    0: rules only). The HTML path uses a lower one: extracted text is mostly article.

    With numba installed, the per-line counts (tokens, stopwords, the feature
    regexes) come from one compiled pass over the text's lines
    (:func:`newsdedup._native.line_counts`); the result is the same as
    :func:`strip_with_reference`'s (tests/test_fast_strip.py).
    """
    from . import _native

    if not _native.available():
        return strip_with_reference(
            text, source=source, title=title, model=model, language=language,
            threshold=threshold,
        )
    return strip_many([(text, source, title)], model=model, language=language,
                      threshold=threshold)[0]


def strip_many(
    items: Sequence[tuple[str, str | None, str | None]],
    *,
    model: BoilerplateModel | None = None,
    language: str = "en",
    threshold: float | None = None,
) -> list[Stripped]:
    """:func:`strip_with` of several (text, source, title) items: the same
    results, computed together where that saves work (the per-line counts of
    every text in one compiled pass, the line classifier's features and scores
    of every text in one set of array operations; a text's result does not
    depend on the others, tests/test_fast_strip.py). Needs numba; without it,
    each text goes through :func:`strip_with_reference`."""
    from . import _native

    if not _native.available():
        return [
            strip_with_reference(text, source=source, title=title, model=model,
                                 language=language, threshold=threshold)
            for text, source, title in items
        ]
    rules = rules_for(language)
    stop = STOPWORDS.get(language, frozenset())
    split = [_nonempty_lines(text) for text, _s, _t in items]
    all_nonempty = [ne for ne, _gaps in split]
    ne_texts = [[ln.text for ln in lines] for lines in all_nonempty]
    # each distinct line counted once (a third of a chunk's lines repeat one of it)
    first: dict[str, int] = {}
    where = np.array([first.setdefault(t, len(first)) for texts in ne_texts for t in texts],
                     dtype=np.int64)
    gate_tables = _gate_tables(rules)
    counts_all = np.zeros((0, 18), np.int64)
    gated_at: list[int] = []  # positions among all the chunk's lines
    if len(where):
        counts, gate = _native.line_counts_gated(list(first), stop, gate_tables)
        counts_all = counts[where]
        if gate is not None:
            gated_at = np.flatnonzero(gate[where]).tolist()
    words_all = counts_all[:, 6].tolist()  # each line's number of words
    line_starts = np.cumsum([0] + [len(t) for t in ne_texts]).tolist()
    bounds = np.searchsorted(gated_at, line_starts).tolist() if gated_at else None
    # what rule_pass looks at in each text, and the lines it normalises: those
    # normalised together (compiled), once per distinct line
    learned_of = [model.lines_for(source) if model is not None else None
                  for _text, source, _title in items]
    looks: list[tuple[list[int], list[int]] | None] = []
    norms: dict[str, str] | None = None
    at = 0
    for k, (ne, texts) in enumerate(zip(all_nonempty, ne_texts, strict=True)):
        look = None
        if gate_tables is not None:
            gated = [] if bounds is None else [
                g - at for g in gated_at[bounds[k] : bounds[k + 1]]
            ]
            look = _look_at(ne, words_all[at : at + len(texts)], gated, learned_of[k])
        looks.append(look)
        at += len(texts)
    if gate_tables is not None:
        wanted = list(dict.fromkeys(
            ne[j].text for ne, look in zip(all_nonempty, looks, strict=True)
            if look is not None for j in look[1]
        ))
        norms = dict(zip(wanted, (b.decode("utf-8", "surrogatepass")
                                  for b in normalized_encoded(wanted)), strict=True))
    pending: list[_Pending] = []
    at = 0
    for (_text, _source, title), (ne, gaps), texts, look, learned in zip(
        items, split, ne_texts, looks, learned_of, strict=True
    ):
        lo, at = at, at + len(texts)
        counts = counts_all[lo:at]
        nonempty, hits, prefix, title_line = rule_pass(
            ne, rules, title, learned, n_words=words_all[lo:at], nonempty=ne,
            visit=None if look is None else look[0], norms=norms,
        )
        decision = {ln.start: h for ln, h in zip(nonempty, hits, strict=True) if h is not None}
        job = _model_job(nonempty, hits, decision, language, threshold, counts, texts)
        pending.append(_Pending(gaps, nonempty, decision, prefix, title_line, job))
    jobs = [p.job for p in pending if p.job is not None]
    scores: list[np.ndarray] = []
    if jobs:
        lm = line_model()
        assert lm is not None  # a job is made only when there is a model
        base, starts = base_features_batch([(j.texts, j.hits, j.counts) for j in jobs])
        every = lm.scores_compiled(base, starts)
        scores = [every[lo:hi] for lo, hi in zip(starts[:-1], starts[1:], strict=True)]
    out = []
    k = 0
    for p in pending:
        if p.job is not None:
            _model_decide(p.job, scores[k], p.nonempty, p.decision, p.title_line, threshold)
            k += 1
        out.append(_assemble_nonempty(p.nonempty, p.gaps, p.decision, p.prefix))
    return out


class _ModelJob(NamedTuple):
    """A text's lines (or hard-wrapped paragraphs) for the line classifier."""

    texts: list[str]
    hits: list[str | None]
    counts: np.ndarray  # line_counts of ``texts``
    groups: list[list[int]]  # the non-empty lines of each of ``texts``


class _Pending(NamedTuple):
    """A text between its rule pass and its classifier scores."""

    gaps: list[bool]  # :func:`_nonempty_lines`
    nonempty: list[_Line]
    decision: dict[int, str]
    prefix: dict[int, int]
    title_line: int | None
    job: _ModelJob | None


def strip_with_reference(
    text: str,
    *,
    source: str | None = None,
    title: str | None = None,
    model: BoilerplateModel | None = None,
    language: str = "en",
    threshold: float | None = None,
) -> Stripped:
    """:func:`strip_with` as first written: the reference the fast path is tested
    against (tests/test_fast_strip.py), and the path used without numba."""
    rules = rules_for(language)
    lines = _lines_with_offsets(text)
    learned = model.lines_for(source) if model is not None else None
    toks = [_WORD.findall(ln.text) for ln in lines]
    nonempty, hits, prefix, title_line = rule_pass_reference(lines, rules, title, learned, toks)
    decision = {ln.start: h for ln, h in zip(nonempty, hits, strict=True) if h is not None}
    ne_toks = [t for ln, t in zip(lines, toks, strict=True) if ln.text.strip()]
    _apply_model_reference(nonempty, hits, decision, title_line, language, threshold, ne_toks)
    return _assemble(lines, decision, prefix)


#: id(learned lines) -> (those lines, the set of their word counts)
_LEARNED_COUNTS: dict[int, tuple[frozenset[str], frozenset[int]]] = {}


def _learned_word_counts(learned: frozenset[str]) -> frozenset[int]:
    """The ``\\w+`` token counts of a source's learned lines (cached).

    For ASCII text, :func:`~newsdedup.normalize.normalize` changes only case,
    backticks and white space, never which characters are word characters: a
    line and its normalised form have as many tokens. So an ASCII line whose
    token count is not in this set cannot normalise to a learned line.
    """
    hit = _LEARNED_COUNTS.get(id(learned))
    if hit is None or hit[0] is not learned:
        if len(_LEARNED_COUNTS) > 4096:
            _LEARNED_COUNTS.clear()
        hit = _LEARNED_COUNTS[id(learned)] = (
            learned, frozenset(len(_WORD.findall(x)) for x in learned)
        )
    return hit[1]


_UNSEEN: Any = object()
#: The per-line caches of :func:`rule_pass` are emptied beyond this many lines
#: (about 300 B each).
LINE_CACHE_MAX = 100_000
_LINE_CACHES: dict[int, tuple[tuple[LineRule, ...], dict[str, str], dict[str, Any]]] = {}


def _line_caches(
    rules: tuple[LineRule, ...],
) -> tuple[dict[str, str], dict[str, tuple[LineRule, int] | None]]:
    """(line -> its normalised form, line -> :func:`match_rule` of it with ``rules``),
    emptied when they grow beyond :data:`LINE_CACHE_MAX` lines."""
    hit = _LINE_CACHES.get(id(rules))
    if hit is None or hit[0] is not rules:
        if len(_LINE_CACHES) > 64:
            _LINE_CACHES.clear()
        hit = _LINE_CACHES[id(rules)] = (rules, {}, {})
    norms, found = hit[1], hit[2]
    if len(norms) > LINE_CACHE_MAX:
        norms.clear()
    if len(found) > LINE_CACHE_MAX:
        found.clear()
    return norms, found


def rule_pass(
    lines: list[_Line],
    rules: tuple[LineRule, ...],
    title: str | None,
    learned: frozenset[str] | None,
    toks: list[list[str]] | None = None,
    *,
    n_words: list[int] | None = None,
    nonempty: list[_Line] | None = None,
    visit: list[int] | None = None,
    norms: dict[str, str] | None = None,
) -> tuple[list[_Line], list[str | None], dict[int, int], int | None]:
    """Apply the named rules: (non-empty lines, rule hit per line, prefix cuts, title line).

    ``toks`` are the ``\\w+`` tokens of every line of ``lines``, if already known;
    ``n_words`` their numbers for the non-empty lines only (all the pass needs);
    ``nonempty`` the non-empty lines of ``lines``, if already picked out;
    ``visit`` the (increasing) positions among them of the only lines that
    can get a hit (:func:`_look_at`), when known; ``norms`` what lines
    normalise to, known beforehand (the others are normalised here).
    """
    if nonempty is None:
        nonempty = [ln for ln in lines if ln.text.strip()]
    if n_words is None:
        if toks is None:
            n_words = [len(_WORD.findall(ln.text)) for ln in nonempty]
        else:
            n_words = [len(t) for ln, t in zip(lines, toks, strict=True) if ln.text.strip()]
    prefix: dict[int, int] = {}  # line start -> end of a removed prefix
    hits: list[str | None] = []
    seen_top: set[str] = set()
    title_norm = normalize(title) if title else None
    title_line: int | None = None
    # News repeats lines (copies, headlines, a site's widgets): what a line
    # normalises to and the rule it matches are kept per distinct line.
    cached_norms, found_of = _line_caches(rules)
    if norms is None:
        norms = cached_norms
    learned_counts = _learned_word_counts(learned) if learned is not None else frozenset()
    if visit is not None:
        hits = [None] * len(nonempty)
    for k in visit if visit is not None else range(len(nonempty)):
        ln = nonempty[k]
        # normalising is costly: only the top lines and learned lookups need it,
        # and an ASCII line can equal a learned line only if it has as many words
        n_word = n_words[k]
        norm = ""
        is_learned = False
        if k < _HEADLINE_WINDOW or learned is not None and (
            n_word in learned_counts or not ln.text.isascii()
        ):
            norm = norms.get(ln.text)  # type: ignore[assignment]
            if norm is None:
                norm = norms[ln.text] = normalize_fast(ln.text)
            is_learned = learned is not None and norm in learned
        hit = None
        if k == 0 and title_norm is not None and norm == title_norm:
            title_line = ln.start
        elif k < _HEADLINE_WINDOW and norm in seen_top:
            hit = "repeated_headline"
        elif is_learned:
            hit = "learned_boilerplate"
        elif k >= 2 and _continues_sentence(nonempty[k - 1].text, ln.text):
            pass  # a wrapped sentence's next fragment ("by Baker."): never a widget line
        else:
            found = found_of.get(ln.text, _UNSEEN)  # (n_word is the line's own)
            if found is _UNSEEN:
                found = found_of[ln.text] = match_rule(ln.text, rules, n_word)
            if found is not None:
                rule, end = found
                if rule.action == "prefix":
                    prefix[ln.start] = end
                else:
                    hit = rule.name
        if k < _HEADLINE_WINDOW:
            seen_top.add(norm)
        if visit is None:
            hits.append(hit)
        else:
            hits[k] = hit
    return nonempty, hits, prefix, title_line


def _look_at(
    nonempty: list[_Line], n_words: list[int], gated: list[int],
    learned: frozenset[str] | None,
) -> tuple[list[int], list[int]]:
    """For :func:`rule_pass`: (the positions of the lines that can get a hit,
    those of them whose normalised form it reads). ``gated``: the positions
    of the lines the compiled ``rule_gate`` passed (every other line is ASCII
    and matches no rule); the others can only be in the headline window or
    learned lines (an ASCII line only if it has as many words as one)."""
    window = range(min(_HEADLINE_WINDOW, len(nonempty)))
    if learned is None:
        return sorted(set(window).union(gated)), list(window)
    counts = _learned_word_counts(learned)
    norm = set(window)
    norm.update(k for k, w in enumerate(n_words) if w in counts)
    norm.update(k for k in gated if not nonempty[k].text.isascii())
    return sorted(norm.union(gated)), sorted(norm)


def rule_pass_reference(
    lines: list[_Line],
    rules: tuple[LineRule, ...],
    title: str | None,
    learned: frozenset[str] | None,
    toks: list[list[str]] | None = None,
) -> tuple[list[_Line], list[str | None], dict[int, int], int | None]:
    """:func:`rule_pass` as first written (the reference): every line of a source
    with learned lines is normalised for the lookup."""
    if toks is None:
        toks = [_WORD.findall(ln.text) for ln in lines]
    pairs = [(ln, t) for ln, t in zip(lines, toks, strict=True) if ln.text.strip()]
    nonempty = [ln for ln, _ in pairs]
    prefix: dict[int, int] = {}  # line start -> end of a removed prefix
    hits: list[str | None] = []
    seen_top: set[str] = set()
    title_norm = normalize(title) if title else None
    title_line: int | None = None
    for k, ln in enumerate(nonempty):
        # normalising is costly: only the top lines and learned lookups need it
        norm = normalize(ln.text) if k < _HEADLINE_WINDOW or learned is not None else ""
        n_words = len(pairs[k][1])
        hit = None
        if k == 0 and title_norm is not None and norm == title_norm:
            title_line = ln.start
        elif k < _HEADLINE_WINDOW and norm in seen_top:
            hit = "repeated_headline"
        elif learned is not None and norm in learned:
            hit = "learned_boilerplate"
        elif k >= 2 and _continues_sentence(nonempty[k - 1].text, ln.text):
            pass  # a wrapped sentence's next fragment ("by Baker."): never a widget line
        else:
            found = match_rule_reference(ln.text, rules, n_words)
            if found is not None:
                rule, end = found
                if rule.action == "prefix":
                    prefix[ln.start] = end
                else:
                    hit = rule.name
        if k < _HEADLINE_WINDOW:
            seen_top.add(norm)
        hits.append(hit)
    return nonempty, hits, prefix, title_line


def _continues_sentence(prev: str, line: str) -> bool:
    """Whether ``line`` carries on a sentence that a long ``prev`` line left open."""
    if not line.lstrip()[:1].islower():  # the cheapest test first (most lines fail it)
        return False
    prev = prev.rstrip()
    return len(prev) >= 20 and _END_PUNCT.search(prev) is None and not prev.endswith(":")


def _is_prose(line: str, toks: list[str]) -> bool:
    """A paragraph: 10 words or more, ending a sentence."""
    return len(toks) >= 10 and _END_PUNCT.search(line) is not None


#: Text with no line longer than this is fixed-width copy: rules only, no classifier.
_FIXED_WIDTH = 90
#: Hard-wrapped text (wire copy, e-mail): most lines at most this long ...
_WRAP_MAX_WIDTH = 100
#: ... and at least this share of line breaks fall inside a sentence.
_WRAP_MIN_CONTINUATIONS = 0.25


def paragraph_groups(texts: list[str]) -> list[list[int]]:
    """Group hard-wrapped lines into paragraphs (indexes into ``texts``).

    Wire copy and e-mail text break lines at a fixed width, so one paragraph
    spans several lines and a line is a fragment of a sentence: the line
    classifier must judge the paragraph, not the fragment. Text is taken as
    hard-wrapped when its lines are short (90th percentile of lengths <= 100
    characters), most of them fill that width (>= 70% of it) and at least a
    quarter of its line breaks fall inside a sentence (the next line starts in
    lower case or with a digit). A paragraph then starts at an indented line,
    or after a sentence end that closes a short line or is followed by a
    capital; the first line (the headline) is a paragraph of its own.
    Text with one paragraph per line gives one group per line.

    >>> paragraph_groups(["HEADLINE", "The bank said gold", "would rise.", "    It added."])
    [[0], [1, 2], [3]]
    """
    n = len(texts)
    single = [[k] for k in range(n)]
    if n < 3:
        return single
    lengths = sorted(len(t.rstrip()) for t in texts)
    width = lengths[min(n - 1, int(0.9 * n))]
    if width > _WRAP_MAX_WIDTH:
        return single
    # Wrapped lines fill the width: most are within 70% of it.
    if sum(1 for t in texts if len(t.rstrip()) >= 0.7 * width) < 0.5 * n:
        return single
    cont = sum(
        1 for b in texts[1:] if b.lstrip()[:1].islower() or b.lstrip()[:1].isdigit()
    )
    if cont < _WRAP_MIN_CONTINUATIONS * (n - 1):
        return single
    groups = [[0]]
    for k in range(1, n):
        prev, line = texts[k - 1].rstrip(), texts[k]
        ends_sentence = _END_PUNCT.search(prev) is not None
        starts_new = (
            k == 1
            or line[:1].isspace()
            or (ends_sentence and (line.lstrip()[:1].isupper() or len(prev) < 0.6 * width))
        )
        if starts_new:
            groups.append([k])
        else:
            groups[-1].append(k)
    return groups


def _model_job(
    nonempty: list[_Line],
    hits: list[str | None],
    decision: dict[int, str],
    language: str,
    threshold: float | None,
    counts: np.ndarray,
    line_texts: list[str] | None = None,
) -> _ModelJob | None:
    """What the line classifier judges in a text (see :func:`_apply_model_reference`),
    or None where it does not run; ``counts`` are
    :func:`newsdedup._native.line_counts` of the non-empty lines, ``line_texts``
    their texts, if at hand."""
    lm = line_model()
    if threshold is not None and threshold <= 0:
        return None
    stop = STOPWORDS.get(language)
    if lm is None or stop is None or len(nonempty) < MIN_MODEL_LINES:
        return None
    if line_texts is None:
        line_texts = [ln.text for ln in nonempty]
    if not any(len(t.rstrip()) > _FIXED_WIDTH for t in line_texts):  # (stops at the first)
        # Fixed-width text (wire copy, e-mail, tables): the classifier was fitted
        # on web page blocks and reads its wrapped fragments and table rows as
        # boilerplate; only the named rules apply here.
        return None
    # The classifier judges paragraphs: join hard-wrapped lines first.
    groups = paragraph_groups(line_texts)
    if len(groups) < len(nonempty):
        from . import _native

        texts = [" ".join(line_texts[k].strip() for k in g) for g in groups]
        # joined with spaces: the groups' tokens are their lines' tokens
        counts = _native.line_counts(texts, stop)
        ghits = [hits[g[0]] if all(hits[k] is not None for k in g) else None for g in groups]
    else:
        texts, ghits = line_texts, hits
    nw = counts[:, 6].tolist()
    endp = counts[:, 8].tolist()  # _END_PUNCT.search(text) is not None
    # the language gate looks at prose-length lines (a page of link lists has few stopwords)
    if all(w >= PROSE_MIN_WORDS and e for w, e in zip(nw[1:], endp[1:], strict=True)):
        return None  # all sentences after the first line (a headline): nothing to judge
    ns = counts[:, 7].tolist()
    long_lines = [k for k, w in enumerate(nw) if w >= 8] or list(range(len(nw)))
    n_long = sum(nw[k] for k in long_lines)
    n_stop = sum(ns[k] for k in long_lines)
    if not n_long or n_stop / n_long < MIN_DOC_STOPWORD_DENSITY:
        return None
    return _ModelJob(texts, ghits, counts, groups)


def _model_decide(
    job: _ModelJob,
    scores: np.ndarray,
    nonempty: list[_Line],
    decision: dict[int, str],
    title_line: int | None,
    threshold: float | None,
) -> None:
    """Remove the lines the classifier's ``scores`` (of ``job``'s texts) reject."""
    lm = line_model()
    assert lm is not None
    groups = job.groups
    keep = (scores >= (lm.threshold if threshold is None else threshold)).tolist()
    if (
        title_line is None and len(groups) > 1
        and job.counts[1, 6] >= 10 and job.counts[1, 8]  # _is_prose(texts[1], its tokens)
    ):
        # a first line directly followed by a paragraph is the headline of an
        # article text ("headline first"): the classifier does not judge it
        title_line = nonempty[0].start
    starts = [ln.start for ln in nonempty]
    undecided = [
        j for j, g in enumerate(groups)
        if starts[g[0]] != title_line and (
            starts[g[0]] not in decision
            or len(g) > 1 and any(starts[k] not in decision for k in g[1:])
        )
    ]
    if undecided and not any(keep[j] for j in undecided):
        # never strip a text to nothing on the model's word alone: keep its
        # best-scoring lines (a page whose article is one short paragraph)
        top = max(scores[j] for j in undecided)
        keep = (scores >= top * _FALLBACK_SHARE).tolist()
    for j in undecided:
        if not keep[j]:
            for k in groups[j]:
                decision.setdefault(nonempty[k].start, "line_model")


def _apply_model_reference(
    nonempty: list[_Line],
    hits: list[str | None],
    decision: dict[int, str],
    title_line: int | None,
    language: str,
    threshold: float | None = None,
    toks: list[list[str]] | None = None,
) -> None:
    lm = line_model()
    if threshold is not None and threshold <= 0:
        return
    stop = STOPWORDS.get(language)
    if lm is None or stop is None or len(nonempty) < MIN_MODEL_LINES:
        return
    line_texts = [ln.text for ln in nonempty]
    if toks is None:
        toks = [_WORD.findall(s) for s in line_texts]
    if max(len(t.rstrip()) for t in line_texts) <= _FIXED_WIDTH:
        # Fixed-width text (wire copy, e-mail, tables): the classifier was fitted
        # on web page blocks and reads its wrapped fragments and table rows as
        # boilerplate; only the named rules apply here.
        return
    # The classifier judges paragraphs: join hard-wrapped lines first.
    groups = paragraph_groups(line_texts)
    if len(groups) < len(nonempty):
        texts = [" ".join(line_texts[k].strip() for k in g) for g in groups]
        gtoks = [[w for k in g for w in toks[k]] for g in groups]
        ghits = [hits[g[0]] if all(hits[k] is not None for k in g) else None for g in groups]
    else:
        texts, gtoks, ghits = line_texts, toks, hits
    # the language gate looks at prose-length lines (a page of link lists has few stopwords)
    if all(
        len(t) >= PROSE_MIN_WORDS and _END_PUNCT.search(s) is not None
        for s, t in zip(texts[1:], gtoks[1:], strict=True)
    ):
        return  # all sentences after the first line (a headline): nothing for the model to judge
    long_lines = [t for t in gtoks if len(t) >= 8] or gtoks
    n_long = sum(len(t) for t in long_lines)
    n_stop = sum(sum(map(stop.__contains__, map(str.lower, t))) for t in long_lines)
    if not n_long or n_stop / n_long < MIN_DOC_STOPWORD_DENSITY:
        return
    scores = lm.scores(base_features(texts, ghits, stop, gtoks))
    keep = scores >= (lm.threshold if threshold is None else threshold)
    if title_line is None and len(gtoks) > 1 and _is_prose(texts[1], gtoks[1]):
        # a first line directly followed by a paragraph is the headline of an
        # article text ("headline first"): the classifier does not judge it
        title_line = nonempty[0].start
    undecided = [
        j for j, g in enumerate(groups)
        if any(nonempty[k].start not in decision for k in g)
        and nonempty[g[0]].start != title_line
    ]
    if undecided and not any(keep[j] for j in undecided):
        # never strip a text to nothing on the model's word alone: keep its
        # best-scoring lines (a page whose article is one short paragraph)
        top = max(scores[j] for j in undecided)
        keep = scores >= top * _FALLBACK_SHARE
    for j in undecided:
        if not keep[j]:
            for k in groups[j]:
                decision.setdefault(nonempty[k].start, "line_model")


def _assemble(lines: list[_Line], decision: dict[int, str], prefix: dict[int, int]) -> Stripped:
    """The kept lines of a text (one blank line where blank lines stood between
    them) and what was removed."""
    nonempty: list[_Line] = []
    gaps: list[bool] = []
    gap = False
    for ln in lines:
        if ln.text.strip():
            nonempty.append(ln)
            gaps.append(gap)
            gap = False
        else:
            gap = True
    return _assemble_nonempty(nonempty, gaps, decision, prefix)


def _assemble_nonempty(
    nonempty: list[_Line], gaps: list[bool], decision: dict[int, str], prefix: dict[int, int]
) -> Stripped:
    """:func:`_assemble` of a text's lines as :func:`_nonempty_lines` gives them."""
    kept: list[str] = []
    removed: list[Removal] = []
    for ln, gap in zip(nonempty, gaps, strict=True):
        if gap and kept and kept[-1] != "":
            kept.append("")
        rule = decision.get(ln.start)
        if rule is not None:
            removed.append(Removal(start=ln.start, end=ln.end, text=ln.text, rule=rule))
            continue
        cut = prefix.get(ln.start)
        if cut is not None:
            removed.append(
                Removal(start=ln.start, end=ln.start + cut, text=ln.text[:cut], rule="wire_credit")
            )
            kept.append(ln.text[cut:])
        else:
            kept.append(ln.text)
    while kept and kept[-1] == "":
        kept.pop()
    return Stripped(text="\n".join(kept), removed=tuple(removed))
