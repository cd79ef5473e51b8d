"""Text normalisation: Unicode NFKC, quote and dash folding, case folding, whitespace.

:func:`normalize` is idempotent: ``normalize(normalize(t)) == normalize(t)`` for
every string (a Hypothesis property in the test suite).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Typographic quotes and dashes folded to their ASCII forms.
_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u0060\u00b4"  # -> '
_DQUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"  # -> "
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d"  # -> -
_TABLE = str.maketrans(
    {**{c: "'" for c in _QUOTES}, **{c: '"' for c in _DQUOTES}, **{c: "-" for c in _DASHES}}
)
_SPACE = re.compile(r"\s+")
# Characters that NFKC keeps but that carry no text: zero-width and soft hyphen.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = text.translate(_TABLE)
    return text.casefold()


def normalize(text: str) -> str:
    """Normalise text for comparison.

    NFKC, typographic quotes and dashes folded to ASCII, case folded, runs of
    white space (line breaks included) collapsed to one space, ends trimmed.

    >>> normalize("  \u201cCaf\u00e9\u201d \u2014 Stra\u00dfe\\n\\tNEWS ")
    '"café" - strasse news'
    """
    if text.isascii():
        # ASCII: NFKC and the invisible characters do nothing, case folding is
        # lower(), the one typographic quote is the backtick, and str.split()
        # splits on exactly the characters ``\s`` matches.
        return " ".join(text.replace("`", "'").lower().split())
    out = text
    # NFKC, folding, case folding and white-space collapsing can feed one
    # another (e.g. NFKC turns U+00A8 into a space plus a combining mark);
    # iterate to a fixed point. Two rounds suffice in practice; the bound is a
    # guard against a pathological cycle.
    for _ in range(8):
        prev, out = out, _SPACE.sub(" ", _once(out)).strip()
        if out == prev:
            break
    return out


def _fold_plan() -> tuple[tuple[tuple[str, str], ...], str] | None:
    """The single-character replacements of :func:`normalize`, as data.

    Read from its own tables, so the shortcut follows them; None when their
    shape is not the expected one (then :func:`normalize` is used).
    """
    table: object = _TABLE
    inv = _INVISIBLE.pattern
    if not isinstance(table, dict) or not isinstance(inv, str):
        return None
    if not (inv.startswith("[") and inv.endswith("]")) or any(c in inv[1:-1] for c in "\\-^[]"):
        return None
    pairs = []
    for key, value in table.items():
        if not isinstance(key, int) or not isinstance(value, str) or len(value) != 1:
            return None
        if ord(value) in table:  # a chain: sequential replace would differ from translate
            return None
        pairs.append((chr(key), value))
    return tuple(pairs), inv[1:-1]


_PLAN = _fold_plan()


def _round(
    text: str, plan: tuple[tuple[tuple[str, str], ...], str], collapsed: bool = False
) -> str:
    """One round of :func:`normalize_fast`. ``collapsed``: ``text`` is a round's
    output (single spaces between words, none at the ends), so when no step
    changes it, it is returned as it is (``" ".join(text.split())`` is itself)."""
    folds, invisible = plan
    same = True
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
        same = False
    for ch in invisible:
        if ch in text:
            text = text.replace(ch, "")
            same = False
    for ch, to in folds:
        if ch in text:
            text = text.replace(ch, to)
            same = False
    folded = text.casefold()
    if collapsed and same and folded == text:
        return text
    return " ".join(folded.split())


def normalize_fast(text: str) -> str:
    """:func:`newsdedup.normalize.normalize`, computed with faster primitives.

    The same steps to the same fixed point: NFKC, removal of invisible
    characters, quote and dash folding, case folding, white-space collapsing.
    Single-character replacements are done with ``str.replace`` for the
    characters present (instead of a regex and ``str.translate`` over every
    character), white space with ``split``/``join`` (``\\s`` and ``str.split``
    share one definition of white space). ASCII text goes to :func:`normalize`,
    whose own fast path handles it.
    tests/test_fastpath.py checks it against :func:`normalize` on arbitrary text.
    """
    plan = _PLAN
    if plan is None:
        return normalize(text)
    if text.isascii():
        return normalize(text)  # normalize() has its own ASCII fast path
    out = _round(text, plan)
    for _ in range(7):
        prev, out = out, _round(out, plan, collapsed=True)
        if out == prev:
            break
    return out


def normalized_encoded(texts: Sequence[str]) -> list[bytes]:
    """``normalize_fast(t).encode("utf-8", "surrogatepass")`` of each text: with
    numba installed, the ASCII texts in one compiled pass and the others whose
    characters all have a :func:`char_map` in another (the rest one by one)."""
    from . import _native

    if not _native.available():
        return [normalize_fast(t).encode("utf-8", "surrogatepass") for t in texts]
    ascii_at: list[int] = []
    other_at: list[int] = []
    for k, t in enumerate(texts):
        (ascii_at if t.isascii() else other_at).append(k)
    out = [b""] * len(texts)
    for k, b in zip(ascii_at, _native.ascii_normalized([texts[k] for k in ascii_at]),
                    strict=True):
        out[k] = b
    if other_at:
        # the others (typographic quotes, accents): most in a second compiled pass
        for k, m in zip(other_at, _native.mapped_normalized([texts[k] for k in other_at]),
                        strict=True):
            out[k] = m if m is not None else normalize_fast(texts[k]).encode(
                "utf-8", "surrogatepass")
    return out


def normalize_lines(text: str) -> list[str]:
    """Normalise each line of ``text`` separately (line structure kept)."""
    return [normalize(line) for line in text.splitlines()]


#: Code points that a canonical composition can join to the character before
#: them although they are starters (Unicode class 0): the second halves of
#: two-character canonical decompositions of that class, and the Hangul medial
#: vowels and final consonants (which compose algorithmically).
_SECONDS: frozenset[int] | None = None


def _composing_seconds() -> frozenset[int]:
    global _SECONDS
    if _SECONDS is None:
        found = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
        for cp in range(0x110000):
            d = unicodedata.decomposition(chr(cp))
            if d and d[0] != "<":
                parts = d.split()
                if len(parts) == 2:
                    found.add(int(parts[1], 16))
        _SECONDS = frozenset(found)
    return _SECONDS


def char_map(ch: str) -> str | None:
    """What :func:`normalize` makes of the character ``ch`` wherever it stands,
    when that does not depend on its neighbours; None when it may.

    The result holds no white space but single spaces (each a place where
    :func:`normalize` puts one space between words, or none at the ends).
    Where every character of a text has a map, ``normalize(text)`` is the maps
    joined, with runs of spaces made one and the ends trimmed: the character
    is not a combining mark nor one a composition can join to the character
    before it, and neither is any character of its map, which one round of
    the normalisation leaves as it is (so the round after changes nothing).
    Surrogates have no map. tests/test_fastpath.py checks every character of
    the first planes against :func:`normalize` between other characters.
    """
    cp = ord(ch)
    if 0xD800 <= cp < 0xE000:
        return None
    seconds = _composing_seconds()
    if unicodedata.combining(ch) or cp in seconds:
        return None
    out = []
    for x in _once(ch):
        if x.isspace():
            out.append(" ")
        elif unicodedata.combining(x) or ord(x) in seconds or _once(x) != x:
            return None
        else:
            out.append(x)
    return "".join(out)
