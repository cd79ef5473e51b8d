"""Text normalisation: Unicode NFKC, quote and dash folding, case folding, whitespace.

:func:`normalize` is idempotent: ``normalize(normalize(t)) == normalize(t)`` for
every string (a Hypothesis property in the test suite).
"""

from __future__ import annotations

import re
import unicodedata

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


def normalize_lines(text: str) -> list[str]:
    """Normalise each line of ``text`` separately (line structure kept)."""
    return [normalize(line) for line in text.splitlines()]
