"""Key facts of an article: figures, named entities, rare headline words, dates.

These are what tells two look-alike stories apart: a dividend notice of one
company and of another share every body word and differ only in the company
named in the headline; two days' "FED ADDS RESERVES" notices differ only in the
amounts. :func:`facts` extracts them; :func:`fact_conflict` compares two
articles and says whether they are different instances of one template.

Word rarity comes from a background frequency table (``wordfreq``, English),
so this works on two articles without any corpus statistics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np

from . import _native
from ._pickle import fast_pickle

#: Headline words at or below this Zipf frequency are key words (names, specific terms).
RARE_ZIPF = 3.6

# Figures: digits with separators ("2,028,000", "6-1/4", "1.5", "10:31"); words: letters.
_TOKEN_RE = re.compile(r"\d+(?:[.,/:-]\d+)*|[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_SENTENCE_END = frozenset(".!?:;\"'\u201c\u201d\u2018\u2019(-\u2014")
#: uint8 per code point up to the largest of _SENTENCE_END: 1 for those (name_mentions)
_SENTENCE_END_CODES = np.zeros(max(map(ord, _SENTENCE_END)) + 1, dtype=np.uint8)
_SENTENCE_END_CODES[list(map(ord, _SENTENCE_END))] = 1

NUMBER_WORDS: dict[str, str] = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
    "thousand": "1000", "million": "1000000", "billion": "1000000000", "half": "0.5",
}
# Words that mark a correction or an update of the same story.
_REVISION_RE = re.compile(
    r"\b(?:correct(?:ed|s|ion)?|update[ds]?|revised?|amended|clarif\w*)\b", re.I
)


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - wordfreq is a core dependency
        from .errors import MissingDependencyError

        raise MissingDependencyError("wordfreq", "rewrite", "rewrite detection") from None
    return dict(wordfreq.get_frequency_dict("en", wordlist="best"))


def load_tables() -> None:
    """Load the background frequency table now (before forking workers, so
    they share it instead of each loading it)."""
    _frequencies()


_ZIPF_CACHE: dict[str, float] = {}


def zipf(word: str) -> float:
    """Zipf frequency (log10 of occurrences per billion words) of a lower-case
    word in the background table; 0.0 for unknown words."""
    z = _ZIPF_CACHE.get(word)
    if z is None:
        f = _frequencies().get(word, 0.0)
        z = math.log10(f * 1e9) if f > 0 else 0.0
        if len(_ZIPF_CACHE) > 1_000_000:
            _ZIPF_CACHE.clear()
        _ZIPF_CACHE[word] = z
    return z


_THOUSANDS_RE = re.compile(r"\d{1,3}(?:,\d{3})+")
#: The end of a lead sentence.
_LEAD_END_RE = re.compile(r"[.!?](?:\s|$)")


def normalize_number(token: str) -> str:
    """Canonical form of a figure: thousands separators dropped ("2,028,000" ->
    "2028000"), number words mapped to digits ("two" -> "2")."""
    low = token.lower()
    if low in NUMBER_WORDS:
        return NUMBER_WORDS[low]
    if _THOUSANDS_RE.fullmatch(token):
        return token.replace(",", "")
    return token


@dataclass(frozen=True, slots=True)
class Facts:
    """The key facts of one article.

    Attributes:
        words: every lower-case word token (for "is this word anywhere in the text").
        figures: canonical figures (digits and number words).
        entities: lower-case capitalised words seen inside sentences (not at a
            sentence start) in mixed-case text, plus rare words of the headline.
        headline_keys: rare words and figures of the headline.
        revision: the text says it is a correction or an update.
        numeric: the tokens of ``words`` that are figures or number words.
    """

    words: frozenset[str]
    figures: frozenset[str]
    entities: frozenset[str]
    headline_keys: frozenset[str]
    revision: bool
    numeric: frozenset[str] = frozenset()


_CAPWORD_RE = re.compile(r"(?<![\w'\u2019])[A-Z\u00c0-\u00de][^\W\d_]*(?:['\u2019][^\W\d_]+)?")


_ASCII_LOWER = bytes(range(ord("a"), ord("z") + 1))
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))


def _caps_line(line: str) -> bool:
    """True for a line without (ASCII) letters or with (almost) only capitals,
    judged on its first 300 characters."""
    head = line[:300].encode("ascii", "ignore")  # only ASCII letters count
    lower = len(head) - len(head.translate(None, _ASCII_LOWER))
    upper = len(head) - len(head.translate(None, _ASCII_UPPER))
    return lower + upper == 0 or lower < 0.4 * (lower + upper)


def _tokens(text: str) -> list[tuple[str, int]]:
    return [(m.group(), m.start()) for m in _TOKEN_RE.finditer(text)]


@dataclass(slots=True)
class _Chunk:
    """What :func:`facts` reads from one whitespace-separated chunk of text
    (tokens, capitalised words and the revision pattern never span whitespace,
    so a text's are its chunks'; cached per distinct chunk, never changed).
    Not frozen: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (0.70 against 0.14 us an object, made once per new
    chunk, and judging meets tens of thousands)."""

    words: tuple[str, ...]  # lower-case tokens, and those ending in 's without it
    numeric: tuple[str, ...]  # the lower-case tokens that are figures or number words
    figures: tuple[str, ...]  # canonical figures of the digit tokens and number words
    lead_name: str | None  # a name-like capitalised word at the chunk's start
    inner_names: tuple[str, ...]  # name-like capitalised words inside, not after punctuation
    revision: bool


_CHUNKS: dict[str, _Chunk] = {}
#: The chunk cache is emptied when it holds more than this many chunks (about
#: 300 B each: frequent chunks come back at once, rare ones would only fill memory).
CHUNK_CACHE_MAX = 500_000


_EDGE_PUNCTUATION = ".,;:!?\"'()[]\u201c\u201d\u2018\u2019"


def _chunk(chunk: str) -> _Chunk:
    core = chunk.strip(_EDGE_PUNCTUATION)
    out = _word_chunk(chunk, core) if core.isalpha() else _any_chunk(chunk)
    if len(_CHUNKS) > CHUNK_CACHE_MAX:
        _CHUNKS.clear()
        _PLAIN.clear()
    _CHUNKS[chunk] = out
    if (out.words == (chunk,) and not out.numeric and not out.figures
            and out.lead_name is None and not out.inner_names and not out.revision):
        _PLAIN.add(chunk)
    return out


def _word_chunk(chunk: str, core: str) -> _Chunk:
    """:func:`_any_chunk` of a chunk whose letters-only ``core`` sits between edge
    punctuation (most chunks): its one token is ``core``, and the name pattern
    (:data:`_CAPWORD_RE`) matches ``core`` whole when it starts with a capital
    that no quote mark precedes, and nothing else. (A name after a quote mark
    would not count anyway: quote marks end sentences, :data:`_SENTENCE_END`.)"""
    low = core.lower()
    at = len(chunk) - len(chunk.lstrip(_EDGE_PUNCTUATION))
    c0 = core[0]
    lead: str | None = None
    inner: tuple[str, ...] = ()
    if ("A" <= c0 <= "Z" or "\u00c0" <= c0 <= "\u00de") and zipf(low) < 5.0:
        if at == 0:
            lead = low
        elif chunk[at - 1] not in _SENTENCE_END:
            inner = (low,)
    number = NUMBER_WORDS.get(low)
    return _Chunk(
        words=(low,), numeric=(low,) if number else (), figures=(number,) if number else (),
        lead_name=lead, inner_names=inner, revision=bool(_REVISION_RE.search(chunk)),
    )


def _any_chunk(chunk: str) -> _Chunk:
    """What :func:`facts` reads from ``chunk`` (tokens and names found by regex)."""
    toks = _TOKEN_RE.findall(chunk)
    caps = [(m.start(), m.group()) for m in _CAPWORD_RE.finditer(chunk)]
    lead: str | None = None
    inner = []
    for start, word in caps:
        low = _unpossessive(word.lower())  # "Taliban's" is "Taliban"
        if zipf(low) >= 5.0:
            continue
        if start == 0:
            lead = low
        elif chunk[start - 1] not in _SENTENCE_END:
            inner.append(low)  # after a sentence end a capital says nothing about names
    lows = [t.lower() for t in toks]
    figures = [normalize_number(t) for t in toks if t[0].isdigit()]
    figures += [NUMBER_WORDS[w] for w in lows if w in NUMBER_WORDS]
    lows += [_unpossessive(w) for w in lows if w.endswith(("'s", "\u2019s"))]
    return _Chunk(
        words=tuple(lows),
        numeric=tuple(w for w in lows if w[0].isdigit() or w in NUMBER_WORDS),
        figures=tuple(figures),
        lead_name=lead, inner_names=tuple(inner),
        revision=bool(_REVISION_RE.search(chunk)),
    )


#: Chunks that are one word and nothing else for :func:`facts` (their words are
#: themselves; no figure, name or revision word): most of a text's chunks.
_PLAIN: set[str] = set()


def chunk_set(text: str) -> frozenset[str]:
    """The distinct whitespace-separated chunks of ``text`` (what :func:`facts`
    reads; pass it to :func:`facts` and :func:`copy_conflict_impossible` when
    both need it)."""
    return frozenset(text.split())


def facts(text: str, title: str | None = None, chunks: frozenset[str] | None = None) -> Facts:
    """Extract the key facts of an article (``text`` may include the headline).

    ``chunks`` is ``chunk_set(text)``, when the caller has it. The lead
    (:func:`lead_keys`) is read separately, only for the pairs that need it.
    """
    get = _CHUNKS.get
    text_chunks = chunks if chunks is not None else chunk_set(text)
    # plain chunks (see _PLAIN) are their own words and give nothing else
    rest = text_chunks.difference(_PLAIN)
    plain = text_chunks.difference(rest)  # (its look-ups find the very objects: faster)
    cs = [get(ch) or _chunk(ch) for ch in rest]
    revision = any(c.revision for c in cs)  # the text's, not the headline's
    named = {ch: c for ch, c in zip(rest, cs, strict=True)
             if c.lead_name is not None or c.inner_names}
    if title:
        cs += [get(ch) or _chunk(ch) for ch in set(title.split()) - text_chunks]
    words = frozenset(plain.union(*[c.words for c in cs]))
    numeric = frozenset().union(*[c.numeric for c in cs])
    figures = frozenset().union(*[c.figures for c in cs])
    entities: set[str] = set()
    if named and _native.available():
        # where each named chunk stands (one compiled pass; the loop below in Python)
        found = _native.name_mentions(text, list(named), _SENTENCE_END_CODES)
        for info, f in zip(named.values(), found.tolist(), strict=True):
            if f:
                entities.update(info.inner_names)
                if f & 2 and info.lead_name is not None:
                    entities.add(info.lead_name)
    elif named:
        for line in text.splitlines():
            if _caps_line(line):
                continue  # all-caps lines (wire headlines) carry no case information
            parts = line.split()
            for k, chunk in enumerate(parts):
                c = named.get(chunk)
                if c is None:
                    continue
                if c.inner_names:
                    entities.update(c.inner_names)
                if c.lead_name is not None and k and parts[k - 1][-1] not in _SENTENCE_END:
                    entities.add(c.lead_name)
    head = title if title else _words_prefix(text.lstrip().split("\n", 1)[0], HEAD_CHARS)
    head_keys = set()
    for t, _ in _tokens(head or ""):
        low = t.lower()
        if t[0].isdigit() or low in NUMBER_WORDS:
            head_keys.add(normalize_number(t))
        elif len(low) > 1 and zipf(low) <= RARE_ZIPF:
            head_keys.add(low)
    entities |= {k for k in head_keys if not k[0].isdigit()}
    return Facts(
        words=words, figures=figures,
        entities=frozenset(entities), headline_keys=frozenset(head_keys),
        revision=revision, numeric=numeric,
    )


def copy_conflict_impossible(
    text_a: str, title_a: str | None, chunks_a: frozenset[str],
    text_b: str, title_b: str | None, chunks_b: frozenset[str], *,
    published_a: datetime | None = None, published_b: datetime | None = None,
    max_hours_apart: float = 36.0,
) -> bool:
    """True when :func:`fact_conflict` of the two articles' :func:`facts` with
    ``kind="copy"`` (and these times) is None, decided without the facts.

    ``chunks_*`` are :func:`chunk_set` of the texts; both headlines must be
    given. A chunk of a text or of its headline is *missing* from the other
    article when the other has it in neither. A side is *figure-clean* when none
    of its missing chunks holds a figure or number word, then its figures are
    all the other's; *name-poor* when its headline's chunks are all in the
    other article and its text's missing chunks hold fewer than two distinct
    name-like capitalised words, then all its names but at most one are the
    other's words (a name is one of its chunk's words unless it starts with the
    multiplication sign, which :data:`_CAPWORD_RE`'s first class takes in: texts
    with one are left to the facts). The rules of :func:`fact_conflict` cannot
    apply when:

    1. *headline*: one side's headline keys are all in the other's words or
       figures: its headline's chunks are all in the other article;
    2. *occurrence*: the times are unknown or at most ``max_hours_apart``
       apart, or both sides are figure-clean (no figure differs);
    3. *figures*: one side is figure-clean (the rule needs figures on both
       sides that the other lacks);
    4. *entities*: one side is name-poor (the rule needs two names or more on
       each side that the other lacks).

    False does not mean there is a conflict, only that the facts must decide
    (tests/test_text_views_fast.py checks that True never hides one).
    """
    if not title_a or not title_b or "\u00d7" in text_a or "\u00d7" in text_b:
        return False
    head_a, head_b = chunk_set(title_a), chunk_set(title_b)
    # (the sides' unions, text and headline, are not built: A's chunks missing
    # from B are A's text's not in B's text nor headline, and A's headline's
    # not in either; a headline chunk of A missing from B and in A's text is
    # one of the first, so the first are the missing chunks of A's text)
    head_out_a, head_out_b = head_a - chunks_b, head_b - chunks_a
    a_in_b, b_in_a = head_out_a <= head_b, head_out_b <= head_a
    if not (a_in_b or b_in_a):
        return False
    get = _CHUNKS.get
    text_missing_a, text_missing_b = (chunks_a - chunks_b) - head_b, (chunks_b - chunks_a) - head_a
    missing_a = text_missing_a.union(head_out_a - head_b)
    missing_b = text_missing_b.union(head_out_b - head_a)
    fig_clean_a = not any((get(ch) or _chunk(ch)).figures for ch in missing_a)
    fig_clean_b = not any((get(ch) or _chunk(ch)).figures for ch in missing_b)
    if not (fig_clean_a or fig_clean_b):
        return False
    if published_a is not None and published_b is not None and not (fig_clean_a and fig_clean_b):
        hours = abs((_as_utc(published_a) - _as_utc(published_b)).total_seconds()) / 3600
        if hours > max_hours_apart:
            return False

    def few_names(head_in: bool, text_missing: frozenset[str]) -> bool:
        if not head_in:
            return False
        names: set[str] = set()
        for ch in text_missing:
            c = get(ch) or _chunk(ch)
            if c.lead_name is not None:
                names.add(c.lead_name)
            names.update(c.inner_names)
            if len(names) >= 2:
                return False
        return True

    return few_names(a_in_b, text_missing_a) or few_names(b_in_a, text_missing_b)


#: Lead words at or below this Zipf frequency are keys when capitalised inside a
#: sentence; at or below :data:`LEAD_RARE_ZIPF` whatever their case.
LEAD_NAME_ZIPF = 4.5
LEAD_RARE_ZIPF = 3.0
#: Lead agreement needs this many lead keys on a side to say anything.
LEAD_MIN_KEYS = 3


#: Without a headline, the first line of a text stands for it, up to this many
#: characters (a one-paragraph text's first line is its whole body) ...
HEAD_CHARS = 200
#: ... and a lead with no sentence end is read up to this many.
LEAD_CHARS = 300


def _words_prefix(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, without a chunk the cut would split:
    the fragment ("gr" of "growth") would read as a rare headline word that the
    other article never mentions (two identical untitled texts were refused as
    template look-alikes: "headlines name different things: gr vs gr")."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if text[limit].isspace() or cut[-1].isspace():
        return cut
    parts = cut.rsplit(None, 1)  # drop the split chunk (the whole text's chunks stay whole)
    return parts[0] if len(parts) == 2 else cut


def _unpossessive(word: str) -> str:
    for suf in ("'s", "\u2019s"):
        if word.endswith(suf):
            return word[: -len(suf)]
    return word


def lead_keys(text: str, title: str | None) -> frozenset[str]:
    """Names and rare words of the headline and the first body sentence."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if title is not None and lines and lines[0].strip() == title.strip():
        lines = lines[1:]
    body = " ".join(lines)
    m = _LEAD_END_RE.search(body)
    lead = [title or "", body[: m.end()] if m else _words_prefix(body, LEAD_CHARS)]
    keys = set()
    for part in lead:
        caps_line = _caps_line(part)
        for mt in _TOKEN_RE.finditer(part):
            tok = mt.group()
            if tok[0].isdigit():
                continue
            low = _unpossessive(tok.lower())
            z = zipf(low)
            before = part[: mt.start()].rstrip()[-1:]
            starts = not before or before in _SENTENCE_END
            named = tok[0].isupper() and not starts and not caps_line and z <= LEAD_NAME_ZIPF
            if len(low) > 2 and (named or z <= LEAD_RARE_ZIPF):
                keys.add(low)
    return frozenset(keys)


def lead_agreement(
    keys_a: frozenset[str], keys_b: frozenset[str], words_a: frozenset[str],
    words_b: frozenset[str], keep: Callable[[str], bool] | None = None,
) -> float:
    """The smaller of the two shares of one article's lead keys (:func:`lead_keys`)
    found anywhere in the other's words (a side with fewer than
    :data:`LEAD_MIN_KEYS` lead keys counts 1.0: too few to judge). ``keep``
    filters the lead keys (e.g. drops words common in the corpus at hand)."""
    def share(keys: frozenset[str], words: frozenset[str]) -> float:
        if keep is not None:
            keys = frozenset(k for k in keys if keep(k))
        if len(keys) < LEAD_MIN_KEYS:
            return 1.0
        return sum(k in words for k in keys) / len(keys)

    return min(share(keys_a, words_b), share(keys_b, words_a))


#: News agencies whose credit or sign-off marks where a story comes from, by the
#: spellings seen in credits ("(Reuters) -", "(AP) —") and sign-offs (a last
#: line "Reuter"), mapped to one name.
WIRE_AGENCIES: dict[str, str] = {
    "reuter": "reuters", "reuters": "reuters", "ap": "ap", "associated press": "ap",
    "afp": "afp", "agence france-presse": "afp", "upi": "upi", "dpa": "dpa",
    "xinhua": "xinhua", "bloomberg": "bloomberg", "pti": "pti", "ians": "ians", "ani": "ani",
    "kyodo": "kyodo", "yonhap": "yonhap", "aap": "aap", "tass": "tass", "interfax": "interfax",
}
_AGENCY_ALT = "|".join(sorted((re.escape(k) for k in WIRE_AGENCIES), key=len, reverse=True))
_SIGNOFF_RE = re.compile(rf"^[\W_]*({_AGENCY_ALT})[\W_]*$", re.I)
_CREDIT_RE = re.compile(rf"\(({_AGENCY_ALT})(?:/[^)]{{0,30}})?\)\s*[-\u2014\u2013:]", re.I)


def wire_origin(text: str, credits: Iterable[str] = ()) -> str | None:
    """The news agency a story carries the mark of, or None.

    A mark is a wire credit at the start (``"WASHINGTON (AP) — "``; pass the
    credits stripping removed as ``credits``, since they are gone from the
    cleaned text) or an agency sign-off as the last line (Reuters' ``"Reuter"``).
    Two stories with the same mark come from the same newsroom: a second story
    of one agency on an event is a follow-up, not a rewrite by another outlet.
    """
    for credit in credits:
        m = _CREDIT_RE.search(credit)
        if m:
            return WIRE_AGENCIES[m.group(1).lower()]
    m = _CREDIT_RE.search(text[:300])
    if m:
        return WIRE_AGENCIES[m.group(1).lower()]
    tail = text.rstrip()[-40:].rsplit("\n", 1)[-1]
    m = _SIGNOFF_RE.match(tail)
    if m:
        return WIRE_AGENCIES[m.group(1).lower()]
    return None


#: The headline rule needs the bodies to share fewer names than this.
HEADLINE_RULE_MAX_SHARED_NAMES = 3


@fast_pickle
@dataclass(frozen=True, slots=True)
class Conflict:
    """Why two textually similar articles are different stories (or None)."""

    kind: str
    detail: str


def _stem(word: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if len(word) > len(suf) + 3 and word.endswith(suf):
            return word[: -len(suf)]
    return word


def _mentions(f: Facts, key: str) -> bool:
    """Whether an article mentions a headline key (a figure, or a word up to a
    plural or tense ending)."""
    if key in f.words or key in f.figures:
        return True
    stem_key = _stem(key)
    return any(_stem(w) == stem_key for w in f.words if w[:3] == key[:3])


def _as_utc(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def fact_conflict(
    fa: Facts, fb: Facts, *, published_a: datetime | None = None,
    published_b: datetime | None = None, max_hours_apart: float = 36.0, kind: str = "copy",
) -> Conflict | None:
    """Whether two similar-looking articles are different instances of a template.

    Rules, in order (each is a substitution, never a one-sided addition, so an
    update that adds names, figures or paragraphs is not a conflict):

    1. *headline entity*: each headline has a rare word or figure found nowhere in
       the other article (``E-SYSTEMS ... SETS QUARTERLY`` vs ``TRINITY
       INDUSTRIES SETS QUARTERLY``), and the bodies share fewer than
       :data:`HEADLINE_RULE_MAX_SHARED_NAMES` names of their own (a body that
       names the same people and places is one story under a new headline);
    2. *occurrence*: both are dated more than ``max_hours_apart`` apart and their
       figures differ (the same recurring report on different days);
    3. *figures*: the words are the same (at most 5 % differ) but each side has
       figures the other lacks, the substituted figures are at least half of all
       figures, and neither says it is a correction or an update (two
       occurrences of one notice with different amounts).
    4. *entities*: each side has at least two capitalised names the other lacks
       and the names differ more than they agree.

    For ``kind="rewrite"`` (a paraphrase, whose headline is expected to differ)
    rule 1 does not apply, and rule 2 applies whatever the figures: a rewrite of
    a story appears within ``max_hours_apart`` of it.
    """
    copy = kind == "copy"
    only_a = {k for k in fa.headline_keys if not _mentions(fb, k)}
    only_b = {k for k in fb.headline_keys if not _mentions(fa, k)}
    shared_names = {e for e in (fa.entities - fa.headline_keys) & (fb.entities - fb.headline_keys)
                    if zipf(e) <= LEAD_NAME_ZIPF}
    if copy and only_a and only_b and len(shared_names) < HEADLINE_RULE_MAX_SHARED_NAMES:
        return Conflict(
            "headline",
            f"headlines name different things: {', '.join(sorted(only_a)[:3])} vs "
            f"{', '.join(sorted(only_b)[:3])}",
        )
    fig_a, fig_b = fa.figures - fb.figures, fb.figures - fa.figures
    if published_a is not None and published_b is not None and (fig_a or fig_b or not copy):
        hours = abs((_as_utc(published_a) - _as_utc(published_b)).total_seconds()) / 3600
        if hours > max_hours_apart and not copy:
            return Conflict(
                "occurrence",
                f"published {hours:.0f} h apart (> {max_hours_apart:g} h): a rewrite of a "
                "story appears within days; this is a later story on the subject",
            )
        if hours > max_hours_apart:
            return Conflict(
                "occurrence",
                f"published {hours:.0f} h apart with different figures "
                f"({', '.join(sorted(fig_a)[:3])} vs {', '.join(sorted(fig_b)[:3])})",
            )
    union = fa.figures | fb.figures
    # words other than figures and number words: how many differ, of how many
    numeric = fa.numeric | fb.numeric
    differ = len((fa.words ^ fb.words) - numeric)
    same_words = differ <= max(2, 0.05 * (len(fa.words | fb.words) - len(numeric)))
    if fig_a and fig_b and same_words and not (fa.revision or fb.revision):
        changed = len(fig_a) + len(fig_b)
        if changed / len(union) >= 0.5:
            return Conflict(
                "figures",
                f"different figures: {', '.join(sorted(fig_a)[:3])} vs "
                f"{', '.join(sorted(fig_b)[:3])} ({changed} of {len(union)} differ)",
            )
    ent_a = {e for e in fa.entities - fb.entities if e not in fb.words}
    ent_b = {e for e in fb.entities - fa.entities if e not in fa.words}
    shared = fa.entities & fb.entities
    if len(ent_a) >= 2 and len(ent_b) >= 2 and min(len(ent_a), len(ent_b)) > len(shared):
        return Conflict(
            "entities",
            f"different names: {', '.join(sorted(ent_a)[:3])} vs {', '.join(sorted(ent_b)[:3])}",
        )
    return None
