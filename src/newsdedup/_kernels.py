"""The numba kernels of :mod:`newsdedup._native` (imported only when numba is)."""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from ._native import SECRET

u64 = np.uint64
M32 = u64(0xFFFFFFFF)
P64_1 = u64(0x9E3779B185EBCA87)
P64_2 = u64(0xC2B2AE3D27D4EB4F)
P64_3 = u64(0x165667B19E3779F9)
MX1 = u64(0x165667919E3779F9)
MX2 = u64(0x9FB21C651E98DF25)
S = SECRET
S0, S1, S2, S3, S4, S5, S6, S7, S8 = (S[i] for i in range(9))
C1 = u64(0xFF51AFD7ED558CCD)
C2 = u64(0xC4CEB9FE1A85EC53)
U8, U16, U24, U28, U29, U32, U33, U35, U37 = (u64(k) for k in (8, 16, 24, 28, 29, 32, 33, 35, 37))
U13, U49 = u64(13), u64(49)
jit = nb.njit(cache=True, nogil=True, boundscheck=False)

@nb.njit(inline="always", cache=True)
def rd64(buf: Any, p: int) -> Any:
    v = u64(0)
    for k in range(7, -1, -1):
        v = (v << U8) | u64(buf[p + k])
    return v

@nb.njit(inline="always", cache=True)
def rd32(buf: Any, p: int) -> Any:
    return (
        u64(buf[p]) | (u64(buf[p + 1]) << U8) | (u64(buf[p + 2]) << U16)
        | (u64(buf[p + 3]) << U24)
    )

@nb.njit(inline="always", cache=True)
def mul128_fold64(a: Any, b: Any) -> Any:
    a_lo = a & M32
    a_hi = a >> U32
    b_lo = b & M32
    b_hi = b >> U32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    cross = (lo_lo >> U32) + (hi_lo & M32) + lo_hi
    upper = (hi_lo >> U32) + (cross >> U32) + hi_hi
    lower = (cross << U32) | (lo_lo & M32)
    return lower ^ upper

@nb.njit(inline="always", cache=True)
def rotl(x: Any, r: Any) -> Any:
    return (x << r) | (x >> (u64(64) - r))

@nb.njit(inline="always", cache=True)
def xxh64_avalanche(h: Any) -> Any:
    h ^= h >> U33
    h *= P64_2
    h ^= h >> U29
    h *= P64_3
    return h ^ (h >> U32)

@nb.njit(inline="always", cache=True)
def xxh3_avalanche(h: Any) -> Any:
    h ^= h >> U37
    h *= MX1
    return h ^ (h >> U32)

@nb.njit(inline="always", cache=True)
def mix16(buf: Any, p: int, s_lo: Any, s_hi: Any) -> Any:
    return mul128_fold64(rd64(buf, p) ^ s_lo, rd64(buf, p + 8) ^ s_hi)

@nb.njit(cache=True)
def xxh3_64(buf: Any, p: int, n: int) -> Any:
    ln = u64(n)
    if n == 0:
        return xxh64_avalanche(S7 ^ S8)
    if n <= 3:
        c1 = u64(buf[p])
        c2 = u64(buf[p + (n >> 1)])
        c3 = u64(buf[p + n - 1])
        combined = (c1 << U16) | (c2 << U24) | c3 | (ln << U8)
        bitflip = (S0 & M32) ^ (S0 >> U32)
        return xxh64_avalanche(combined ^ bitflip)
    if n <= 8:
        in1 = rd32(buf, p)
        in2 = rd32(buf, p + n - 4)
        bitflip = S1 ^ S2
        h = (in2 + (in1 << U32)) ^ bitflip
        h ^= rotl(h, U49) ^ rotl(h, U24)
        h *= MX2
        h ^= (h >> U35) + ln
        h *= MX2
        return h ^ (h >> U28)
    if n <= 16:
        lo = rd64(buf, p) ^ (S3 ^ S4)
        hi = rd64(buf, p + n - 8) ^ (S5 ^ S6)
        sw = u64(0)
        x = lo
        for _ in range(8):
            sw = (sw << U8) | (x & u64(0xFF))
            x >>= U8
        acc = ln + sw + hi + mul128_fold64(lo, hi)
        return xxh3_avalanche(acc)
    acc = ln * P64_1
    if n > 32:
        if n > 64:
            if n > 96:
                acc += mix16(buf, p + 48, S[12], S[13])
                acc += mix16(buf, p + n - 64, S[14], S[15])
            acc += mix16(buf, p + 32, S[8], S[9])
            acc += mix16(buf, p + n - 48, S[10], S[11])
        acc += mix16(buf, p + 16, S[4], S[5])
        acc += mix16(buf, p + n - 32, S[6], S[7])
    acc += mix16(buf, p, S[0], S[1])
    acc += mix16(buf, p + n - 16, S[2], S[3])
    return xxh3_avalanche(acc)

@nb.njit(inline="always", cache=True)
def _is_word(buf: Any, pos: int, table: Any) -> Any:
    """(is the character at ``pos`` a word character, its UTF-8 width)."""
    c = buf[pos]
    if c < 0x80:
        return table[c], 1
    if c < 0xE0:
        return table[((c & 0x1F) << 6) | (buf[pos + 1] & 0x3F)], 2
    if c < 0xF0:
        return table[((c & 0x0F) << 12) | ((buf[pos + 1] & 0x3F) << 6) | (buf[pos + 2] & 0x3F)], 3
    cp = (
        ((c & 0x07) << 18) | ((buf[pos + 1] & 0x3F) << 12) | ((buf[pos + 2] & 0x3F) << 6)
        | (buf[pos + 3] & 0x3F)
    )
    return table[cp], 4


@jit
def _scan(buf: Any, doc_ends: Any, table: Any, starts: Any, lens: Any, ntok: Any) -> int:
    t = 0
    pos = 0
    record = starts.shape[0] > 0
    for d in range(doc_ends.shape[0]):
        end = doc_ends[d]
        first = t
        # Without a branch on where tokens start and end (not foreseeable): a
        # token ends where a word character is followed by a non-word one. When
        # recording, outside a token starts[t] follows the position (so it holds
        # a token's first byte once in it) and every character writes lens[t],
        # kept once the token ends (t moves on); ``starts``/``lens`` have room
        # for one more token than there can be (token_spans' bound). (Two loops:
        # a test of ``record`` in one would cost 8 %.)
        inside = np.int64(0)
        if record:
            tok = pos
            while pos < end:
                w, width = _is_word(buf, pos, table)
                now = np.int64(w != 0)
                tok = tok if inside else pos
                starts[t] = tok
                lens[t] = pos - tok
                t += int(inside & (1 - now))
                inside = now
                pos += width
            if inside:
                starts[t] = tok
                lens[t] = pos - tok
        else:
            while pos < end:
                w, width = _is_word(buf, pos, table)
                now = np.int64(w != 0)
                t += int(inside & (1 - now))
                inside = now
                pos += width
        t += int(inside)
        ntok[d] = t - first
    return t


def token_spans(buf: Any, doc_ends: Any, table: Any) -> Any:
    """Start and length of every ``\\w+`` token, and the token count of each document."""
    ntok = np.zeros(doc_ends.shape[0], dtype=np.int64)
    # One pass: a document of b bytes has at most (b + 1) // 2 tokens (a token
    # and the character ending it take two bytes at least). The arrays are
    # allocated at that bound (the pages never written are never touched) and
    # copied to their length.
    bound = buf.shape[0] // 2 + doc_ends.shape[0] + 1
    starts = np.empty(bound, dtype=np.int64)
    lens = np.empty(bound, dtype=np.int64)
    total = _scan(buf, doc_ends, table, starts, lens, ntok)
    return starts[:total].copy(), lens[:total].copy(), ntok


@jit
def hash_spans(buf: Any, starts: Any, lens: Any) -> Any:
    """xxh3-64 of each span of at most 128 bytes; longer spans get 0 (caller hashes them)."""
    out = np.empty(starts.shape[0], dtype=np.uint64)
    for i in range(starts.shape[0]):
        if lens[i] <= 128:
            out[i] = xxh3_64(buf, starts[i], lens[i])
        else:
            out[i] = u64(0)
    return out


@nb.njit(inline="always", cache=True)
def _radix_sort_u32(buf: Any, tmp: Any, count: Any, m: int) -> None:
    """Sort ``buf[:m]`` (uint32) in place: least significant byte first, four
    counting passes through ``tmp`` (at least ``m`` long; ``count``: 256
    int64). About seven times faster than ``np.sort`` for a document's few
    hundred shingles."""
    src = buf
    dst = tmp
    for shift in range(0, 32, 8):
        sh = np.uint32(shift)
        count[:] = 0
        for i in range(m):
            count[(src[i] >> sh) & np.uint32(255)] += 1
        total = 0
        for j in range(256):
            c = count[j]
            count[j] = total
            total += c
        for i in range(m):
            v = src[i]
            d = (v >> sh) & np.uint32(255)
            dst[count[d]] = v
            count[d] += 1
        src, dst = dst, src  # after the fourth pass the sorted values are in buf


@jit
def shingle_sign(th: Any, ntok: Any, n: int, min_tokens: int, pows: Any, a: Any, b: Any) -> Any:
    """Sorted unique shingles (CSR) and affine32 MinHash signatures of a batch.

    ``a`` and ``b`` are the uint32 permutation parameters (products wrap mod 2^32).
    """
    nd = ntok.shape[0]
    num_perm = a.shape[0]
    total = 0
    for d in range(nd):
        if ntok[d] >= min_tokens and ntok[d] >= n:
            total += ntok[d] - n + 1
    vals = np.empty(total, dtype=np.uint32)
    offsets = np.zeros(nd + 1, dtype=np.int64)
    sigs = np.full((nd, num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    longest = 0
    for d in range(nd):
        longest = max(longest, ntok[d] - n + 1)
    hv = np.empty(max(longest, 1), dtype=np.uint32)
    spare = np.empty(max(longest, 1), dtype=np.uint32)
    count = np.empty(256, dtype=np.int64)
    tpos = 0
    out = 0
    for d in range(nd):
        m = ntok[d] - n + 1
        if ntok[d] >= min_tokens and m > 0:
            buf = np.empty(m, dtype=np.uint32)
            for i in range(m):
                acc = u64(0)
                for k in range(n):
                    acc += th[tpos + i + k] * pows[k]
                acc ^= acc >> U33
                acc *= C1
                acc ^= acc >> U33
                acc *= C2
                acc ^= acc >> U33
                buf[i] = np.uint32(acc >> U32)
            _radix_sort_u32(buf, spare, count, m)
            start = out
            prev = u64(0)
            for i in range(m):
                v = buf[i]
                if i > 0 and v == prev:
                    continue
                prev = v
                vals[out] = v
                h = u64(v)
                h ^= h >> U16
                h = (h * u64(0x85EBCA6B)) & M32
                h ^= h >> U13
                h = (h * u64(0xC2B2AE35)) & M32
                h ^= h >> U16
                hv[out - start] = np.uint32(h)
                out += 1
            u = out - start
            # Permutation by permutation: a min-reduction over the document's
            # values, which the compiler vectorises (32-bit lanes).
            for k in range(num_perm):
                ak = a[k]
                bk = b[k]
                low = np.uint32(0xFFFFFFFF)
                for i in range(u):
                    x = np.uint32(ak * hv[i] + bk)
                    low = min(low, x)
                sigs[d, k] = low
        offsets[d + 1] = out
        tpos += ntok[d]
    return vals[:out].copy(), offsets, sigs

@nb.njit(inline="always", cache=True)
def _count_common(a: Any, p: int, pe: int, b: Any, q: int, qe: int) -> int:
    """|a[p:pe] & b[q:qe]| of two sorted runs of unique values (a merge)."""
    c = 0
    while p < pe and q < qe:
        x = a[p]
        y = b[q]
        if x == y:
            c += 1
            p += 1
            q += 1
        elif x < y:
            p += 1
        else:
            q += 1
    return c


@jit
def intersections(vals: Any, offsets: Any, left: Any, right: Any) -> Any:
    """|A & B| for each pair (left[i], right[i]) of CSR rows of sorted unique values."""
    out = np.zeros(left.shape[0], dtype=np.int64)
    for i in range(left.shape[0]):
        out[i] = _count_common(vals, offsets[left[i]], offsets[left[i] + 1],
                               vals, offsets[right[i]], offsets[right[i] + 1])
    return out


@jit
def weighted_intersections(
    ids: Any, weights: Any, cap: Any, offsets: Any, left: Any, right: Any, scratch: Any,
) -> Any:
    """For each pair (left[i], right[i]) of CSR rows (term ids unique within a
    row, in any order; a weight per entry, capped at ``cap[id]``): the plain
    float64 sums of the smaller capped weight of each id in both rows, and of
    each row's capped weights. ``scratch``: float64, one slot per id, all
    negative (left so on return). A left row is spread into ``scratch`` once for
    the consecutive pairs that share it."""
    inter = np.zeros(left.shape[0], dtype=np.float64)
    total_a = np.zeros(left.shape[0], dtype=np.float64)
    total_b = np.zeros(left.shape[0], dtype=np.float64)
    cur = -1
    cur_total = 0.0
    for i in range(left.shape[0]):
        a = left[i]
        if a != cur:
            if cur >= 0:
                for k in range(offsets[cur], offsets[cur + 1]):
                    scratch[ids[k]] = -1.0
            cur_total = 0.0
            for k in range(offsets[a], offsets[a + 1]):
                w = min(weights[k], cap[ids[k]])
                scratch[ids[k]] = w
                cur_total += w
            cur = a
        b = right[i]
        s = 0.0
        t = 0.0
        for k in range(offsets[b], offsets[b + 1]):
            w = min(weights[k], cap[ids[k]])
            t += w
            x = scratch[ids[k]]
            if x >= 0.0:
                s += min(x, w)
        inter[i] = s
        total_a[i] = cur_total
        total_b[i] = t
    if cur >= 0:
        for k in range(offsets[cur], offsets[cur + 1]):
            scratch[ids[k]] = -1.0
    return inter, total_a, total_b


@jit
def intersection_size(a: Any, b: Any) -> int:
    """|A & B| of two sorted arrays of unique values."""
    return _count_common(a, 0, a.shape[0], b, 0, b.shape[0])


@jit
def common_minima(a: Any, wa: Any, b: Any, wb: Any) -> Any:
    """For two sorted arrays of unique values and a weight per value: the
    smaller weight of each value in both, in value order."""
    out = np.empty(min(len(a), len(b)), dtype=np.float64)
    i = 0
    j = 0
    m = 0
    while i < len(a) and j < len(b):
        if a[i] < b[j]:
            i += 1
        elif a[i] > b[j]:
            j += 1
        else:
            out[m] = min(wa[i], wb[j])
            m += 1
            i += 1
            j += 1
    return out[:m]


# ------------------------------------------------------------ strip line features
# Class bits of the code-point table ``_native.char_table()`` (each built from
# Python's own ``re``, so the kernel sees the same classes as the regexes).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)
_W = np.uint8(1)  # \w
_D = np.uint8(2)  # \d
_S = np.uint8(4)  # \s
_C = np.uint8(8)  # [A-Z\u00c0-\u00de] (the capitals of strip._CAP_WORD / _UPPER_WORD)
_P = np.uint8(16)  # [|»›•·] (the separators of strip._SEPS)


@nb.njit(inline="always", cache=True)
def _cls(cps: Any, i: int, lo: int, hi: int, table: Any) -> Any:
    if i < lo or i >= hi:
        return np.uint8(0)
    return table[cps[i]]


@nb.njit(inline="always", cache=True)
def _boundary(cps: Any, i: int, lo: int, hi: int, table: Any) -> bool:
    a = (_cls(cps, i - 1, lo, hi, table) & _W) != 0
    b = (_cls(cps, i, lo, hi, table) & _W) != 0
    return bool(a != b)


@nb.njit(inline="always", cache=True)
def _upper_words(cps: Any, lo: int, hi: int, table: Any) -> int:
    """``len(_UPPER_WORD.findall(line))``: \\b[CLASS][CLASS]+\\b, non-overlapping,
    greedy with backtracking (for lines with a capital-class character that is
    not a word character, such as the multiplication sign)."""
    upper = 0
    i = lo
    while i < hi:
        if (table[cps[i]] & _C) and _boundary(cps, i, lo, hi, table):
            r = i
            while r < hi and (table[cps[r]] & _C):
                r += 1
            e = r
            found = False
            while e >= i + 2:
                if _boundary(cps, e, lo, hi, table):
                    found = True
                    break
                e -= 1
            if found:
                upper += 1
                i = e
                continue
        i += 1
    return upper


@jit
def line_counts(cps: Any, starts: Any, ends: Any, table: Any, lowmap: Any, stops: Any) -> Any:
    """Per line ``[lo, hi)`` of the code points ``cps``, the match counts of
    strip's regexes, with ``re.findall`` semantics (each line a string of its own):
    ``_ALPHA_WORD``, ``_CAP_WORD``, ``_UPPER_WORD``, ``_DIGIT``, ``_SEPS``; the
    number of ``\\w`` characters (the summed length of the ``\\w+`` tokens); the
    number of ``\\w+`` tokens; and how many of them, lower-cased, are stopwords.

    ``lowmap[cp]`` is the letter (1-26) that ``chr(cp).lower()`` is, 0 when it is
    not one ASCII letter; a token is packed 5 bits per letter (at most 12) and
    looked up in the hash table ``stops`` (:func:`newsdedup._native.stop_codes`).

    Columns 8-10, read in the same pass for :func:`line_flags`: ``_URLISH.search``
    (0/1), the number of commas, and whether a straight or opening double quote
    is in the line."""
    n = len(starts)
    out = np.zeros((n, 11), dtype=np.int64)
    n_stops = len(stops)
    # One pass per line. \b is before a character whose class (word or not)
    # differs from the previous one's. Where every capital-class character of
    # a line is a word character, a match of _UPPER_WORD
    # (\b[CLASS][CLASS]+\b) is a whole \w+ token of two or more capitals:
    # inside a token there is no boundary to end a match at. Otherwise (the
    # multiplication sign is in the class) the regex's own scan counts them.
    # A token is read in an inner loop (most characters): only a non-word
    # character can start a _SEPS match, a comma, a quote or most URL patterns;
    # in a token only "http" and "www." can, which the next character rules out
    # before _url_at is asked.
    for k in range(n):
        lo = starts[k]
        hi = ends[k]
        alpha = 0
        cap = 0
        upper = 0
        digit = 0
        seps = 0
        words = 0
        ntok = 0
        nstop = 0
        sep_from = lo  # where the next _SEPS match may start (matches do not overlap)
        odd_cap = False
        url = 0
        commas = 0
        quote = 0
        i = lo
        while i < hi:
            cp = cps[i]
            c = table[cp]
            if c & _W:
                # a \w+ token from i: its characters in this inner loop
                t0 = i
                ntok += 1
                if (c & _D) == 0 and cp != 95:
                    alpha += 1
                if c & _C:
                    cap += 1  # a capital where the word class changes
                # (the character tests below without branches: caps, digits and
                # the stopword code are updated for every character)
                caps = np.int64(1)
                packable = np.int64(1)
                code = np.int64(0)
                while True:
                    caps &= np.int64((c & _C) != 0)
                    digit += int((c & _D) != 0)
                    v = np.int64(lowmap[cp])
                    packable &= np.int64(v != 0) & np.int64(i - t0 < 12)
                    code = code * 32 + v  # (used only where the token is packable)
                    if not url and (cp == 104 or cp == 119) and i + 1 < hi and (
                            cps[i + 1] == 116 or cps[i + 1] == 119):
                        url = _url_at(cps, i, hi, table)
                    i += 1
                    if i >= hi:
                        break
                    cp = cps[i]
                    c = table[cp]
                    if (c & _W) == 0:
                        break
                all_caps = caps != 0
                length = i - t0
                words += length
                if all_caps and length >= 2:
                    upper += 1
                if packable and n_stops > 0:
                    # open addressing, linear probing (see _native.stop_codes)
                    h = np.int64((np.uint64(code) * _GOLDEN) >> _SHIFT) & (n_stops - 1)
                    while stops[h] >= 0:
                        if stops[h] == code:
                            nstop += 1
                            break
                        h = (h + 1) & (n_stops - 1)
                if i >= hi:
                    break
                # cps[i] is not a word character: on to it, below
            # a character that is not a word character
            prev_w = i > lo and (table[cps[i - 1]] & _W) != 0
            if cp == 44:
                commas += 1
            elif cp == 34 or cp == 0x201C:
                quote = 1
            elif cp < 128 and _URL_FIRST[cp] and not url:
                url = _url_at(cps, i, hi, table)
            if c & _C:
                if prev_w:
                    cap += 1
                odd_cap = True
            # \s[|»›•·]\s|\s>\s|::, non-overlapping, leftmost first
            if i >= sep_from:
                if i + 3 <= hi and (c & _S) and (table[cps[i + 2]] & _S) and (
                    (table[cps[i + 1]] & _P) or cps[i + 1] == 62
                ):
                    seps += 1
                    sep_from = i + 3
                elif i + 2 <= hi and cp == 58 and cps[i + 1] == 58:
                    seps += 1
                    sep_from = i + 2
            i += 1
        if odd_cap:
            upper = _upper_words(cps, lo, hi, table)
        out[k, 0] = alpha
        out[k, 1] = cap
        out[k, 2] = upper
        out[k, 3] = digit
        out[k, 4] = seps
        out[k, 5] = words
        out[k, 6] = ntok
        out[k, 7] = nstop
        out[k, 8] = url
        out[k, 9] = commas
        out[k, 10] = quote
    return out


def token_counts(buf: Any, doc_ends: Any, table: Any) -> Any:
    """The number of ``\\w+`` tokens of each segment of ``buf`` (UTF-8, segments
    ending at ``doc_ends``)."""
    ntok = np.zeros(doc_ends.shape[0], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    _scan(buf, doc_ends, table, empty, empty, ntok)
    return ntok


_L = np.uint8(32)  # str.islower() of the character
_CLOSERS = (34, 39, 0x201D, 0x2019, 41, 93)  # " ' ” ’ ) ]
_BULLETS = (45, 42, 0x2022, 0xB7, 0x25AA, 0x2013)  # - * • · ▪ –
_QUOTES = (34, 39, 0x201C, 0x2018)  # " ' “ ‘
_OPENERS = (34, 39, 0x201C, 0x2018, 40, 91)  # " ' “ ‘ ( [


@nb.njit(inline="always", cache=True)
def _at(cps: Any, p: int, hi: int, text: Any) -> bool:
    """Whether the code points ``text`` occur at ``p`` (before ``hi``)."""
    if p + len(text) > hi:
        return False
    for k in range(len(text)):  # noqa: SIM110 - a loop numba compiles
        if cps[p + k] != text[k]:
            return False
    return True


_HTTP = (104, 116, 116, 112)  # http
_SEP = (58, 47, 47)  # ://
_WWW = (119, 119, 119, 46)  # www.
_COM = (46, 99, 111, 109)  # .com
_COUK = (46, 99, 111, 46, 117, 107)  # .co.uk
#: ASCII characters a match of :func:`_url_at` starts with (h, w, ".", "@")
_URL_FIRST = np.zeros(128, dtype=np.uint8)
_URL_FIRST[[104, 119, 46, 64]] = 1


@jit
def _url_at(cps: Any, p: int, hi: int, table: Any) -> int:
    """1 if ``https?://``, ``www.``, ``.com`` or ``.co.uk`` (then no word
    character) or ``@`` and a word character starts at ``p`` (before ``hi``)."""
    c = cps[p]
    if c == 104:
        if _at(cps, p, hi, _HTTP):
            r = p + 4
            if r < hi and cps[r] == 115:
                r += 1
            if _at(cps, r, hi, _SEP):
                return 1
    elif c == 119:
        if _at(cps, p, hi, _WWW):
            return 1
    elif c == 46:
        for n, hit in ((4, _at(cps, p, hi, _COM)), (6, _at(cps, p, hi, _COUK))):
            if hit and (p + n >= hi or not (table[cps[p + n]] & _W)):
                return 1
    elif c == 64 and p + 1 < hi and (table[cps[p + 1]] & _W):
        return 1
    return 0


@jit
def line_flags(cps: Any, starts: Any, ends: Any, table: Any, counts: Any) -> Any:
    """Per line ``[lo, hi)`` of ``cps``, what strip's features read off each line ``s``
    (``x = s.strip()``, ``f = x[:1]``), as 0/1 or counts (2, 3 and the quote in
    ``s`` of 9 from columns 8-10 of :func:`line_counts` of the lines, ``counts``):

    0 ``_END_PUNCT.search(s)``, 1 ``_LIST_ITEM.match(s)``, 2 ``_URLISH.search(s)``,
    3 ``s.count(",")``, 4 ``len(s)``, 5 ``x.endswith(":")``,
    6 ``x.endswith(("...", "…"))``, 7 ``f.islower()``,
    8 ``bool(f) and not f.isalnum() and f not in "\\"'“‘(["``,
    9 ``f in "\\"'“‘" or '"' in s or "“" in s``.
    """
    n = len(starts)
    out = np.zeros((n, 10), dtype=np.int64)
    for k in range(n):
        lo = starts[k]
        hi = ends[k]
        # stripped bounds [a, e)
        a = lo
        while a < hi and (table[cps[a]] & _S):
            a += 1
        e = hi
        while e > a and (table[cps[e - 1]] & _S):
            e -= 1
        # 0: [.!?][closers]*\s*$
        p = e
        while p > lo:
            c = cps[p - 1]
            is_closer = False
            for q in _CLOSERS:
                if c == q:
                    is_closer = True
            if not is_closer:
                break
            p -= 1
        if p > lo and (cps[p - 1] == 46 or cps[p - 1] == 33 or cps[p - 1] == 63):
            out[k, 0] = 1
        # 1: \s*(?:[-*•·▪–]|\d{1,2}[.)])\s+\S at the start
        i = a
        j = -1
        if i < hi:
            c = cps[i]
            for q in _BULLETS:
                if c == q:
                    j = i + 1
            if j < 0 and (table[c] & _D):
                if (i + 2 < hi and (table[cps[i + 1]] & _D)
                        and (cps[i + 2] == 46 or cps[i + 2] == 41)):
                    j = i + 3
                elif i + 1 < hi and (cps[i + 1] == 46 or cps[i + 1] == 41):
                    j = i + 2
        if j >= 0 and j < hi and (table[cps[j]] & _S):
            while j < hi and (table[cps[j]] & _S):
                j += 1
            if j < hi:
                out[k, 1] = 1
        # 2: https?://|www\.|\.com\b|\.co\.uk\b|@\w ; 3: commas ; 9: quotes
        out[k, 2] = counts[k, 8]
        out[k, 3] = counts[k, 9]
        quote = counts[k, 10]
        out[k, 4] = hi - lo
        if e > a:
            out[k, 5] = cps[e - 1] == 58
            out[k, 6] = (cps[e - 1] == 0x2026) or (
                e - a >= 3 and cps[e - 1] == 46 and cps[e - 2] == 46 and cps[e - 3] == 46
            )
            f = cps[a]
            out[k, 7] = (table[f] & _L) != 0
            is_alnum = (table[f] & _W) != 0 and f != 95
            opener = False
            for q in _OPENERS:
                if f == q:
                    opener = True
            out[k, 8] = (not is_alnum) and not opener
            for q in _QUOTES:
                if f == q:
                    quote = 1
        else:
            quote = 1  # f == "": "" in any string
        out[k, 9] = quote
    return out


@nb.njit(inline="always", cache=True)
def _row_at(cps: Any, p: int, hi: int, rows: Any, j: int, size: int, q: int, fold: bool) -> bool:
    """Whether row ``j`` of ``rows`` (``size`` code points, from the ``q``-th on)
    occurs at ``p`` of ``cps`` (before ``hi``), ASCII capitals lower-cased first
    where ``fold``."""
    if p + size > hi:
        return False
    while q < size:
        d = cps[p + q]
        if fold and 65 <= d <= 90:
            d += 32
        if d != rows[j, q]:
            return False
        q += 1
    return True


@jit
def rule_gate(cps: Any, starts: Any, ends: Any, table: Any, heads: Any, head_lens: Any,
              head_from: Any, needles: Any, needle_lens: Any, folded: Any, first: Any) -> Any:
    """Per line ``[lo, hi)`` of ``cps``: 1 where it has a character beyond ASCII,
    or, after its leading white space and with ASCII capitals lower-cased,
    starts with one of ``heads``, or contains one of ``needles`` (in any case
    where ``folded``); else 0. The rows of ``heads`` and ``needles`` are code
    points, padded; ``heads`` are sorted by their first character c, those
    starting with c (c < 128) are rows ``head_from[c]`` to ``head_from[c + 1]``
    (an empty head is a row before ``head_from[0]``). ``first[c]`` (c < 128)
    is 1 where a needle may start with the ASCII character c (as it is, or
    lower-cased for a folded needle)."""
    n = len(starts)
    out = np.zeros(n, dtype=np.uint8)
    n_needles = len(needle_lens)
    for k in range(n):
        lo = starts[k]
        hi = ends[k]
        hit = head_from[0] > 0  # an empty head: every line
        for p in range(lo, hi):
            if hit:
                break
            c = cps[p]
            if c >= 128:
                hit = True
                break
            if first[c]:
                for j in range(n_needles):
                    if _row_at(cps, p, hi, needles, j, needle_lens[j], 0, folded[j]):
                        hit = True
                        break
        if not hit:
            a = lo
            while a < hi and (table[cps[a]] & _S):
                a += 1
            if a < hi:
                c = cps[a]
                c = c + 32 if 65 <= c <= 90 else c
                for j in range(head_from[c], head_from[c + 1]):
                    # (the bucket is the first character's: compared from the second)
                    if _row_at(cps, a, hi, heads, j, head_lens[j], 1, True):
                        hit = True
                        break
        out[k] = hit
    return out


@jit
def line_features(cps: Any, starts: Any, ends: Any, table: Any, lowmap: Any, stops: Any) -> Any:
    """:func:`line_counts` (columns 0-7) and :func:`line_flags` (columns 8-17) in one call."""
    a = line_counts(cps, starts, ends, table, lowmap, stops)
    b = line_flags(cps, starts, ends, table, a)
    out = np.empty((a.shape[0], 18), dtype=np.int64)
    out[:, :8] = a[:, :8]
    out[:, 8:] = b
    return out


@nb.njit(inline="always", cache=True)
def _bin_of(value: float, edges: Any) -> int:
    """How many of the sorted ``edges`` are at most ``value`` (``np.searchsorted``
    with ``side="right"``)."""
    k = 0
    while k < len(edges) and edges[k] <= value:
        k += 1
    return k


@jit
def base_feature_rows(counts: Any, starts: Any, dup: Any, word_bins: Any, sd_bins: Any,
                      n_features: int, rule_col: int) -> Any:
    """The rows of :func:`newsdedup.strip.base_features_batch` but for the rule
    features (columns ``rule_col`` on, left 0): from the lines'
    :func:`line_counts`, the texts' ``starts`` and each line's ``dup`` flag,
    every value computed by the same operations as the numpy expressions of
    :func:`newsdedup.strip.base_features` (tests/test_fast_strip.py), except
    that the columns numpy takes ``log1p`` of hold its argument: the caller
    takes it with numpy (numba's ``log1p`` can differ in the last bit), the
    columns :data:`newsdedup.strip._LOG1P_COLUMNS`."""
    n = counts.shape[0]
    out = np.zeros((n, n_features))
    nw = np.empty(n)
    sd = np.empty(n)
    good = np.zeros(n, dtype=np.bool_)
    csum = np.zeros(n + 1)
    next_at = np.empty(n, dtype=np.int64)  # the first good line after, as a row (hi: none)
    for r in range(n):
        w = float(counts[r, 6])
        nw[r] = w
        sd[r] = float(counts[r, 7]) / w if w > 0 else 0.0
        good[r] = w >= 12 and sd[r] >= 0.25
        csum[r + 1] = csum[r] + w
    nb_w = len(word_bins) + 1
    nb_s = len(sd_bins) + 1
    col_sd = 1 + nb_w
    col_c = col_sd + 1 + nb_s  # the 18 count-derived columns
    col_n = rule_col + (n_features - rule_col - 16 - 4)  # neighbours (after the rules)
    for t in range(len(starts) - 1):
        lo = starts[t]
        hi = starts[t + 1]
        size = hi - lo
        if size == 0:
            continue
        first_good = size
        last_good = -1
        for r in range(lo, hi):
            if good[r]:
                if first_good == size:
                    first_good = r - lo
                last_good = r - lo
        after = hi
        for r in range(hi - 1, lo - 1, -1):
            next_at[r] = after
            if good[r]:
                after = r
        prev = -1  # the last good line before, as a row
        for r in range(lo, hi):
            idx = r - lo
            w = nw[r]
            out[r, 0] = w  # (log1p taken by the caller, with numpy: see below)
            out[r, 1 + _bin_of(w, word_bins)] = 1.0
            out[r, col_sd] = sd[r]
            out[r, col_sd + 1 + _bin_of(sd[r], sd_bins)] = 1.0
            c = col_c
            out[r, c] = float(counts[r, 8])
            for q in range(5):
                out[r, c + 1 + q] = float(counts[r, 13 + q])
            n_alpha = float(counts[r, 0])
            if n_alpha > 0:
                out[r, c + 6] = float(counts[r, 1]) / n_alpha
                out[r, c + 7] = float(counts[r, 2]) / n_alpha
            out[r, c + 8] = float(counts[r, 3]) / max(1.0, float(counts[r, 12]))
            out[r, c + 9] = min(3.0, float(counts[r, 4]))
            out[r, c + 10] = float(counts[r, 10])
            out[r, c + 11] = float(counts[r, 11]) / max(1.0, w)
            if w > 0:
                out[r, c + 12] = (float(counts[r, 5]) / w) / 10
            out[r, c + 13] = 1.0 if dup[r] else 0.0
            out[r, c + 14] = 1.0 if first_good <= idx <= last_good else 0.0
            out[r, c + 15] = 1.0 if good[r] else 0.0
            prev_good = r - prev if prev >= lo else idx + 10_000
            out[r, c + 16] = float(min(50, prev_good))
            nxt = next_at[r]
            next_good = nxt - r if nxt < hi else 10_000 + size - idx
            out[r, c + 17] = float(min(50, next_good))
            if good[r]:
                prev = r
            k = col_n
            for off in (-2, -1, 1, 2):
                src = r + off
                if lo <= src < hi:
                    out[r, k] = 1.0
                    out[r, k + 1] = nw[src]
                    out[r, k + 2] = float(counts[src, 8])
                    out[r, k + 3] = sd[src]
                k += 4
            win = csum[min(hi, r + 4)] - csum[max(lo, r - 3)] - w
            out[r, k] = win
            out[r, k + 1] = float(counts[r, 9])
            if idx >= 1:
                out[r, k + 2] = float(counts[r - 1, 9])
            if idx < size - 1:
                out[r, k + 3] = float(counts[r + 1, 9])
    return out


@nb.njit(inline="always", cache=True)
def _pairwise_sum(v: Any, n: int) -> Any:
    """``v[:n].sum()`` as numpy sums a contiguous float64 row of at most 128
    values (its pairwise summation: eight running sums, combined in pairs, then
    the last ``n % 8`` values one by one), so that the result is the same to
    the last bit (tests/test_fast_strip.py)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += v[i]
        return res
    r0, r1, r2, r3 = v[0], v[1], v[2], v[3]
    r4, r5, r6, r7 = v[4], v[5], v[6], v[7]
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += v[i]
        r1 += v[i + 1]
        r2 += v[i + 2]
        r3 += v[i + 3]
        r4 += v[i + 4]
        r5 += v[i + 5]
        r6 += v[i + 6]
        r7 += v[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += v[i]
        i += 1
    return res


@jit
def line_model_stage1(base: Any, mean: Any, scale: Any, w: Any, b: float) -> Any:
    """The first stage's ``z`` of :class:`newsdedup.strip.LineModel` for every
    row of ``base``: ``((base - mean) / scale * w).sum(axis=1) + b``, each value
    computed by the same operations in the same order as numpy does."""
    n, f = base.shape
    if f > 128:  # pragma: no cover - numpy sums longer rows in halves
        raise ValueError("more than 128 features")
    out = np.empty(n)
    tmp = np.empty(f)
    for r in range(n):
        for c in range(f):
            tmp[c] = ((base[r, c] - mean[c]) / scale[c]) * w[c]
        out[r] = _pairwise_sum(tmp, f) + b
    return out


@jit
def line_model_stage2(base: Any, p1: Any, starts: Any, mean: Any, scale: Any, w: Any,
                      b: float) -> Any:
    """The second stage's ``z``: the row of :func:`newsdedup.strip.context_features`
    (``base`` and the first stage's scores ``p1`` around each line, within its
    text: ``starts``) made and weighed in one pass, as numpy computes it."""
    n, fb = base.shape
    f = fb + 10
    if f > 128:  # pragma: no cover - numpy sums longer rows in halves
        raise ValueError("more than 118 base features")
    out = np.empty(n)
    tmp = np.empty(f)
    around = np.empty(7)  # the scores at offsets -3..3 (-1.0 outside the text)
    t = 0
    for r in range(n):
        while starts[t + 1] <= r:
            t += 1
        lo = starts[t]
        hi = starts[t + 1]
        win_sum = 0.0
        win_cnt = 0.0
        for off in range(-5, 6):
            if off == 0:
                continue
            at = r + off
            inside = lo <= at < hi
            val = p1[at] if inside else -1.0
            if -3 <= off <= 3:
                around[off + 3] = val
            win_sum += val if inside else 0.0
            win_cnt += 1.0 if inside else 0.0
        around[3] = p1[r]
        for c in range(fb):
            tmp[c] = ((base[r, c] - mean[c]) / scale[c]) * w[c]
        for k in range(7):
            tmp[fb + k] = ((around[k] - mean[fb + k]) / scale[fb + k]) * w[fb + k]
        extra = (win_sum / max(win_cnt, 1.0), max(max(around[0], around[1]), around[2]),
                 max(max(around[4], around[5]), around[6]))
        for k in range(3):
            c = fb + 7 + k
            tmp[c] = ((extra[k] - mean[c]) / scale[c]) * w[c]
        out[r] = _pairwise_sum(tmp, f) + b
    return out


@nb.njit(inline="always", cache=True)
def _entry(buf: Any, pos: int, size: int) -> Any:
    v = u64(0)
    for b in range(size):
        v |= u64(buf[pos + b]) << u64(8 * b)
    return v


@jit
def group_entries(buf: Any, starts: Any, lens: Any, sbits: Any, tagged: Any, suffix: Any,
                  limit: int) -> Any:
    """The band entries of wanted keys in merged group rows
    (:func:`newsdedup.store._search_entries`, which computes the same with numpy):
    per key, the index of its first entry in its row, how many entries are
    taken (at most ``limit``) and their seqs, key after key."""
    m = len(starts)
    first = np.empty(m, dtype=np.int64)
    count = np.empty(m, dtype=np.int64)
    p62 = u64(1) << u64(62)
    for i in range(m):
        st = starts[i]
        bits = np.int64(buf[st])
        ub = u64(bits)
        size = (sbits[i] + bits + 7) // 8
        n = (lens[i] - 1) // size
        base = st + 1
        su = u64(suffix[i])
        target = su << ub
        if tagged[i] and su & u64(1):
            target |= p62
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            v = _entry(buf, base + mid * size, size)
            if tagged[i] and (v >> ub) & u64(1):
                v |= p62
            if v < target:
                lo = mid + 1
            else:
                hi = mid
        c = 0
        while lo + c < n and c < limit and _entry(buf, base + (lo + c) * size, size) >> ub == su:
            c += 1
        first[i] = lo
        count[i] = c
    seqs = np.empty(count.sum(), dtype=np.int64)
    k = 0
    for i in range(m):
        st = starts[i]
        bits = np.int64(buf[st])
        size = (sbits[i] + bits + 7) // 8
        low = (u64(1) << u64(bits)) - u64(1)
        at = st + 1 + first[i] * size
        for c in range(count[i]):
            seqs[k] = np.int64(_entry(buf, at + c * size, size) & low)
            k += 1
    return first, count, seqs


# ------------------------------------------------------------ boilerplate lines

_LH_SEED = u64(0x27D4EB2F165667C5)


@nb.njit(inline="always", cache=True)
def _lh_round(h: Any, k: Any) -> Any:
    k = rotl(k * P64_2, u64(31)) * P64_1
    return rotl(h ^ k, u64(27)) * P64_1 + P64_3


@nb.njit(inline="always", cache=True)
def _lh_final(h: Any, tail: Any, n: int) -> Any:
    h = rotl(h ^ (tail * P64_1), u64(23)) * P64_2 + P64_3
    return xxh64_avalanche(h ^ (u64(n) * P64_3))


@nb.njit(inline="always", cache=True)
def _line_hash(buf: Any, p: int, n: int) -> Any:
    """A 64-bit hash of ``buf[p:p + n]``: 8 bytes (little-endian) a round, then
    the last 0-7 bytes and the length (xxh64's rounds and avalanche)."""
    h = _LH_SEED
    i = p
    end = p + n
    while i + 8 <= end:
        h = _lh_round(h, rd64(buf, i))
        i += 8
    tail = u64(0)
    shift = u64(0)
    while i < end:
        tail |= u64(buf[i]) << shift
        shift += U8
        i += 1
    return _lh_final(h, tail, n)


@jit
def line_hash_spans(buf: Any, ends: Any) -> Any:
    """:func:`_line_hash` of each span ``[ends[k - 1], ends[k])`` of ``buf``."""
    out = np.empty(ends.shape[0], dtype=np.uint64)
    lo = 0
    for k in range(ends.shape[0]):
        out[k] = _line_hash(buf, lo, ends[k] - lo)
        lo = ends[k]
    return out


def _ascii_classes() -> Any:
    """Per ASCII byte: 1 a line break of ``str.splitlines``, 2 other white space
    of ``str.split``, 3 a ``\\w`` character, 0 anything else; and the byte
    ``normalize`` makes of it (lower case; the backtick an apostrophe)."""
    cls = np.zeros(256, dtype=np.uint8)
    low = np.arange(256, dtype=np.uint8)
    for c in (10, 11, 12, 13, 28, 29, 30):
        cls[c] = 1
    for c in (9, 31, 32):
        cls[c] = 2
    for c in range(256):
        if chr(c).isascii() and (chr(c).isalnum() or c == 95):
            cls[c] = 3
    low[65:91] += 32
    low[96] = 39
    return cls, low


_LH_CLASS, _LH_LOWER = _ascii_classes()


@jit
def ascii_line_hashes(buf: Any, doc_ends: Any) -> Any:
    """For each document ``[doc_ends[d - 1], doc_ends[d])`` of ASCII bytes: the
    :func:`_line_hash` of its distinct non-empty normalised lines, in first-seen
    order, their ``\\w+`` token counts, and how many each document has.

    A line is what ``str.splitlines`` gives (breaks: LF, CR, VT, FF, FS, GS,
    RS); normalised as :func:`newsdedup.normalize.normalize` does ASCII text:
    lower case, the backtick made an apostrophe, runs of white space (space,
    tab, US) one space, ends trimmed. Each line is normalised into a buffer
    and hashed there."""
    cls_of = _LH_CLASS
    lower = _LH_LOWER
    total = doc_ends[-1] if doc_ends.shape[0] else 0
    cap = total // 2 + doc_ends.shape[0]
    hashes = np.empty(cap, dtype=np.uint64)
    words = np.empty(cap, dtype=np.int64)
    sizes = np.zeros(doc_ends.shape[0], dtype=np.int64)
    # a line's normalised bytes (hashed by _line_hash: the same value as pushing
    # them one by one), with room for the longest document and 8 bytes to spare
    longest = 0
    start = 0
    for d in range(doc_ends.shape[0]):
        longest = max(longest, doc_ends[d] - start)
        start = doc_ends[d]
    line = np.zeros(longest + 8, dtype=np.uint8)
    out = 0
    pos = 0
    for d in range(doc_ends.shape[0]):
        end = doc_ends[d]
        first = out
        while pos < end:
            # one line, normalised without a branch on the bytes' classes (where
            # words and spaces start is not foreseeable: see _push_normalized)
            m: Any = 0
            nw: Any = 0
            gap: Any = 0
            prev_word: Any = 0
            while pos < end:
                c = buf[pos]
                k = cls_of[c]
                if k == 1:
                    break
                pos += 1
                white = np.int64(k == 2)
                word = np.int64(k == 3)
                m = _push_normalized(line, m, 0, lower[c], white, gap)
                gap = white
                nw += word & (1 - prev_word)
                prev_word = word
            pos += 1  # past the line break
            if m == 0:
                continue
            h = _line_hash(line, 0, m)
            dup = False
            for q in range(first, out):
                if hashes[q] == h:
                    dup = True
                    break
            if not dup:
                hashes[out] = h
                words[out] = nw
                out += 1
        pos = end
        sizes[d] = out - first
    return hashes[:out].copy(), words[:out].copy(), sizes


@jit
def ef_encode(values: Any, low_bits: int) -> Any:
    """The low parts and the unary high parts of the Elias-Fano code of sorted
    uint32 ``values`` (:func:`newsdedup.store.encode_shingles`, which computes the
    same with numpy), bits in big-endian order."""
    n = len(values)
    nlow = (n * low_bits + 7) // 8
    top = np.int64(values[n - 1]) >> low_bits
    out = np.zeros(nlow + (n + top + 1 + 7) // 8, dtype=np.uint8)
    mask = (np.int64(1) << low_bits) - 1
    acc = np.int64(0)  # bits not yet written (the low ``held`` ones)
    held = 0
    p = 0
    for i in range(n):
        v = np.int64(values[i])
        acc = ((acc & 0xFF) << low_bits) | (v & mask)
        held += low_bits
        while held >= 8:
            held -= 8
            out[p] = np.uint8((acc >> held) & 0xFF)
            p += 1
        h = (v >> low_bits) + i
        out[nlow + (h >> 3)] |= np.uint8(0x80 >> (h & 7))
    if held:
        out[p] = np.uint8((acc << (8 - held)) & 0xFF)
    return out


@jit
def ef_decode(raw: Any, n: int, low_bits: int) -> Any:
    """Inverse of :func:`ef_encode` (``raw``: the code after its 5-byte head)."""
    out = np.empty(n, dtype=np.uint32)
    nlow = (n * low_bits + 7) // 8
    mask = (np.int64(1) << low_bits) - 1
    acc = np.int64(0)
    held = 0
    p = 0
    for i in range(n):
        while held < low_bits:
            acc = ((acc & 0xFFFFFFFF) << 8) | np.int64(raw[p])
            p += 1
            held += 8
        held -= low_bits
        out[i] = np.uint32((acc >> held) & mask)
    i = 0
    h = np.int64(0)
    q = nlow
    while i < n:
        byte = np.int64(raw[q])
        for b in range(7, -1, -1):
            if (byte >> b) & 1:
                if i < n:
                    out[i] |= np.uint32(h << low_bits)  # h is 0 when low_bits is 32
                i += 1
            else:
                h += 1
        q += 1
    return out

@jit
def passage_pairs(dd: Any, all_pos: Any, all_end: Any, n_samp: Any, lo: int, hi: int,
                  min_shared: int, min_share: float) -> Any:
    """The passage candidates (a, b), a < b, sorted, whose first document ``a``
    is in [lo, hi): documents ``a`` and ``b`` of one sample group (``dd[p]`` and
    ``dd[q]`` for a position ``p`` of ``all_pos`` and ``p < q < all_end``)
    sharing at least ``min(max(min_shared, ceil(min_share * small)), small)``
    groups, ``small`` the smaller of their sample counts ``n_samp``: what
    :func:`newsdedup.score._passage_range` finds by sorting every pair code,
    counted here per first document in a dense array instead."""
    n = n_samp.shape[0]
    # the positions of each first document in [lo, hi), grouped by document
    per = np.zeros(hi - lo + 1, dtype=np.int64)
    for k in range(all_pos.shape[0]):
        a = dd[all_pos[k]]
        if lo <= a < hi:
            per[a - lo + 1] += 1
    for k in range(1, per.shape[0]):
        per[k] += per[k - 1]
    fill = per[:-1].copy()
    mine = np.empty(per[-1], dtype=np.int64)
    ends = np.empty(per[-1], dtype=np.int64)
    for k in range(all_pos.shape[0]):
        p = all_pos[k]
        a = dd[p]
        if lo <= a < hi:
            mine[fill[a - lo]] = p
            ends[fill[a - lo]] = all_end[k]
            fill[a - lo] += 1
    count = np.zeros(n, dtype=np.int32)
    touched = np.empty(n, dtype=np.int64)
    out_a = np.empty(16, dtype=np.int64)
    out_b = np.empty(16, dtype=np.int64)
    m = 0
    for a in range(lo, hi):
        t = 0
        for k in range(per[a - lo], per[a - lo + 1]):
            for q in range(mine[k] + 1, ends[k]):
                b = dd[q]
                if count[b] == 0:
                    touched[t] = b
                    t += 1
                count[b] += 1
        if t == 0:
            continue
        # the partners sharing enough (few of those touched), then sorted
        kept = 0
        for x in range(t):
            b = touched[x]
            c = count[b]
            count[b] = 0
            small = min(n_samp[a], n_samp[b])
            need = min(max(float(min_shared), math.ceil(min_share * small)), float(small))
            if c >= need:
                touched[kept] = b
                kept += 1
        if kept == 0:
            continue
        if m + kept > out_a.shape[0]:
            grow = max(m + kept, 2 * out_a.shape[0])
            out_a = np.concatenate((out_a[:m], np.empty(grow - m, dtype=np.int64)))
            out_b = np.concatenate((out_b[:m], np.empty(grow - m, dtype=np.int64)))
        bs = np.sort(touched[:kept])
        for x in range(kept):
            out_a[m] = a
            out_b[m] = bs[x]
            m += 1
    out = np.empty((m, 2), dtype=np.int64)
    out[:, 0] = out_a[:m]
    out[:, 1] = out_b[:m]
    return out

@jit
def name_counts(cps: Any, starts: Any, ends: Any, table: Any) -> Any:
    """Per text (code points ``cps[starts[d]:ends[d]]``): its words (runs of
    code points with bit 1 of ``table``: ``[^\\W\\d_]``) and how many of them
    are capitalised (the first has bit 2: ``str.isupper``; some code point has
    bit 4: lower or title case, so the word is not all capitals)."""
    out = np.zeros((starts.shape[0], 2), dtype=np.int64)
    for d in range(starts.shape[0]):
        p, e = starts[d], ends[d]
        words = 0
        caps = 0
        while p < e:
            t = table[cps[p]]
            if not t & 1:
                p += 1
                continue
            upper = t & 2
            mixed = False
            while p < e and table[cps[p]] & 1:
                if table[cps[p]] & 4:
                    mixed = True
                p += 1
            words += 1
            if upper and mixed:
                caps += 1
        out[d, 0] = words
        out[d, 1] = caps
    return out

@jit
def passage_samples(values: Any, offsets: Any, rows: Any, mod: int) -> Any:
    """The sampled shingles (value % ``mod`` == 0) of documents ``k`` = 0, 1, ...
    (CSR row ``rows[k]`` of ``values``/``offsets``), as ``value << 32 | k``
    keys in document order, and how many each document has."""
    n = rows.shape[0]
    per = np.zeros(n, dtype=np.int64)
    m = np.uint32(mod)
    # value % mod == 0 is value & (mod - 1) == 0 for a power of two (the default
    # 8): a mask, not a division per value (1M documents: 1.8 -> 0.7 s)
    power = mod > 0 and mod & (mod - 1) == 0
    mask = m - np.uint32(1)
    for k in range(n):
        c = 0
        if power:
            for p in range(offsets[rows[k]], offsets[rows[k] + 1]):
                c += (values[p] & mask) == 0
        else:
            for p in range(offsets[rows[k]], offsets[rows[k] + 1]):
                c += values[p] % m == 0
        per[k] = c
    total = per.sum()
    keys = np.empty(total + 1, dtype=np.uint64)  # (+1: written, not kept, past the last)
    at = 0
    for k in range(n):
        if per[k] == 0:
            continue
        doc = u64(k)
        if power:  # without a branch: each key written, kept when sampled
            for p in range(offsets[rows[k]], offsets[rows[k] + 1]):
                v = values[p]
                keys[at] = (u64(v) << U32) | doc
                at += (v & mask) == 0
        else:
            for p in range(offsets[rows[k]], offsets[rows[k] + 1]):
                v = values[p]
                if v % m == 0:
                    keys[at] = (u64(v) << U32) | doc
                    at += 1
    return keys[:total], per


@nb.njit(inline="always", cache=True)
def _run_end(keys: Any, p: int) -> int:
    """The end of the run of keys with the value (high 32 bits) of ``keys[p]``."""
    q = p + 1
    while q < keys.shape[0] and (keys[q] >> U32) == (keys[p] >> U32):
        q += 1
    return q


@jit
def passage_groups(keys: Any, max_df: int, n: int) -> Any:
    """From sorted ``value << 32 | document`` keys: the document of each key,
    the positions in runs of one value of 2..``max_df`` keys with the end of
    their run, and per document the pairs its positions start (each pairs
    with the later positions of its run)."""
    size = keys.shape[0]
    dd = np.empty(size, dtype=np.int64)
    for p in range(size):
        dd[p] = np.int64(keys[p] & M32)
    count = 0
    p = 0
    while p < size:
        q = _run_end(keys, p)
        if 2 <= q - p <= max_df:
            count += q - p
        p = q
    all_pos = np.empty(count, dtype=np.int64)
    all_end = np.empty(count, dtype=np.int64)
    per_doc = np.zeros(n, dtype=np.int64)
    at = 0
    p = 0
    while p < size:
        q = _run_end(keys, p)
        if 2 <= q - p <= max_df:
            for x in range(p, q):
                all_pos[at] = x
                all_end[at] = q
                per_doc[dd[x]] += q - x - 1
                at += 1
        p = q
    return dd, all_pos, all_end, per_doc

@nb.njit(inline="always", cache=True)
def _push_normalized(out: Any, at: Any, first: Any, byte: Any, white: Any, gap: Any) -> Any:
    """One byte of ASCII normalising into ``out`` at ``at`` (the text's start at
    ``first``), without a branch: a space first where white space (``gap``)
    came before and something was written, then ``byte`` unless it is white
    space (``white``) itself; both are written and kept or not. In bounds when
    ``out`` is as long as the input: every space kept stands for a white space
    byte read that wrote nothing. Returns the new ``at``."""
    keep = 1 - white
    out[at] = 32
    at += keep & gap & np.int64(at > first)
    out[at] = byte
    return at + keep


@jit
def ascii_normalize(buf: Any, ends: Any, lower: Any, space: Any) -> Any:
    """:func:`newsdedup.normalize.normalize` of ASCII texts (bytes ``buf``, the
    end of each text in ``ends``): each byte mapped by ``lower`` (lower case,
    backtick -> quote), runs of bytes that ``space`` marks (``str.split``'s
    white space) as one space, none at the ends. Returns the normalised bytes
    and the end of each text in them."""
    out = np.empty(buf.shape[0], dtype=np.uint8)
    out_ends = np.empty(ends.shape[0], dtype=np.int64)
    at: Any = 0
    start = 0
    for d in range(ends.shape[0]):
        first = at
        gap: Any = 0
        # (where a word starts and ends is not foreseeable: no branch on it)
        for p in range(start, ends[d]):
            c = buf[p]
            white = np.int64(space[c])
            at = _push_normalized(out, at, first, lower[c], white, gap)
            gap = white
        out_ends[d] = at
        start = ends[d]
    return out[:at], out_ends


@jit
def map_normalize(cps: Any, starts: Any, ends: Any, lens: Any, ats: Any, nbytes: Any,
                  pool: Any) -> Any:
    """:func:`newsdedup.normalize.normalize` of texts whose every character has a
    :func:`newsdedup.normalize.char_map` (code points ``cps``, text ``d`` at
    ``starts[d]:ends[d]``; the maps as :func:`newsdedup._native.map_tables` gives
    them): each character replaced by its map, runs of spaces one space, none at
    the ends, encoded as UTF-8. Returns the bytes, the end of each text in them
    and whether each text could be done (a text with a character without a
    map gets no bytes and False)."""
    n = starts.shape[0]
    size = 0
    for d in range(n):
        for i in range(starts[d], ends[d]):
            size += int(nbytes[cps[i]]) + 1
    out = np.empty(size, dtype=np.uint8)
    out_ends = np.empty(n, dtype=np.int64)
    ok = np.ones(n, dtype=np.bool_)
    o = 0
    for d in range(n):
        first = o
        gap = False
        for i in range(starts[d], ends[d]):
            c = cps[i]
            k = lens[c]
            if k == 255:
                ok[d] = False
                break
            a = ats[c]
            for j in range(a, a + k):
                x = pool[j]
                if x == 32:
                    gap = True
                    continue
                if gap and o > first:
                    out[o] = 32
                    o += 1
                gap = False
                if x < 0x80:
                    out[o] = x
                    o += 1
                elif x < 0x800:
                    out[o] = 0xC0 | (x >> 6)
                    out[o + 1] = 0x80 | (x & 0x3F)
                    o += 2
                elif x < 0x10000:
                    out[o] = 0xE0 | (x >> 12)
                    out[o + 1] = 0x80 | ((x >> 6) & 0x3F)
                    out[o + 2] = 0x80 | (x & 0x3F)
                    o += 3
                else:
                    out[o] = 0xF0 | (x >> 18)
                    out[o + 1] = 0x80 | ((x >> 12) & 0x3F)
                    out[o + 2] = 0x80 | ((x >> 6) & 0x3F)
                    out[o + 3] = 0x80 | (x & 0x3F)
                    o += 4
        if not ok[d]:
            o = first
        out_ends[d] = o
    return out[:o], out_ends, ok


_HIGH8 = u64(0x8080808080808080)


def _utf8_leads() -> tuple[Any, Any, Any]:
    """Per first byte of a UTF-8 sequence: how many continuation bytes follow
    (0 for ASCII, -1 for a byte no well-formed sequence starts with), and the
    range the first of them must lie in (narrower after E0, ED, F0 and F4: no
    overlong forms, no surrogates, nothing above U+10FFFF)."""
    need = np.full(256, -1, dtype=np.int64)
    need[:0x80] = 0
    need[0xC2:0xE0] = 1
    need[0xE0:0xF0] = 2
    need[0xF0:0xF5] = 3
    lo = np.full(256, 0x80, dtype=np.int64)
    hi = np.full(256, 0xBF, dtype=np.int64)
    lo[0xE0], hi[0xED], lo[0xF0], hi[0xF4] = 0xA0, 0x9F, 0x90, 0x8F
    return need, lo, hi


_UTF8_NEED, _UTF8_LO, _UTF8_HI = _utf8_leads()


@jit
def utf8_invalid_at(buf: Any) -> int:
    """Where strict UTF-8 decoding of the bytes ``buf`` fails (the start of the
    first sequence that is not well formed, or that runs past the end), or -1
    when ``bytes(buf).decode("utf-8")`` succeeds (well formed as Python's codec
    has it: :func:`_utf8_leads`). Eight ASCII bytes are passed over at a time."""
    n = buf.shape[0]
    i = 0
    while i < n:
        if i + 8 <= n and (rd64(buf, i) & _HIGH8) == u64(0):
            i += 8
            continue
        c = buf[i]
        need = _UTF8_NEED[c]
        if need == 0:
            i += 1
            continue
        if need < 0 or i + need >= n:
            return i
        b = buf[i + 1]
        if b < _UTF8_LO[c] or b > _UTF8_HI[c]:
            return i
        for k in range(2, need + 1):
            b = buf[i + k]
            if b < 0x80 or b > 0xBF:
                return i
        i += need + 1
    return -1


@nb.njit(inline="always", cache=True)
def _space_len(buf: Any, p: int, end: int) -> int:
    """Bytes of the multi-byte character at ``p`` of UTF-8 ``buf`` (its lead byte
    one of 0xC2, 0xE1-0xE3; ASCII white space is found by a table) if
    ``str.split()`` splits on it (``str.isspace``), else 0."""
    c = buf[p]
    if c == 0xC2:
        return 2 if p + 1 < end and (buf[p + 1] == 0x85 or buf[p + 1] == 0xA0) else 0
    if c < 0xE1 or c > 0xE3 or p + 2 >= end:
        return 0
    c1, c2 = buf[p + 1], buf[p + 2]
    if c == 0xE1:
        return 3 if c1 == 0x9A and c2 == 0x80 else 0
    if c == 0xE3:
        return 3 if c1 == 0x80 and c2 == 0x80 else 0
    if c1 == 0x80 and (c2 <= 0x8A or c2 == 0xA8 or c2 == 0xA9 or c2 == 0xAF):
        return 3  # U+2000-U+200A, U+2028, U+2029, U+202F (c2 >= 0x80: continuation)
    return 3 if c1 == 0x81 and c2 == 0x9F else 0


FNV_OFFSET = u64(0xCBF29CE484222325)
FNV_PRIME = u64(0x100000001B3)


@jit
def chunk_hashes(buf: Any, ends: Any, space: Any) -> Any:
    """The distinct whitespace-separated chunks (``set(text.split())``) of each
    UTF-8 text ``buf[ends[d-1]:ends[d]]``, in the order they first appear: a
    64-bit hash of each (FNV-1a, then xxh64's avalanche) with the byte span of
    its first occurrence, and each text's end among them. ``space[c]``: 1 for an
    ASCII whitespace byte, 2 for a byte that may start a multi-byte one."""
    n = len(ends)
    longest = 0
    lo = 0
    for d in range(n):
        longest = max(longest, ends[d] - lo)
        lo = ends[d]
    cap = 16
    while cap < longest + 2:
        cap *= 2
    mask = cap - 1
    slot_hash = np.zeros(cap, dtype=np.uint64)
    slot_doc = np.zeros(cap, dtype=np.int64)  # d + 1 where slot_hash is text d's
    size = len(buf) // 2 + n
    hashes = np.empty(size, dtype=np.uint64)
    starts = np.empty(size, dtype=np.int64)
    lens = np.empty(size, dtype=np.int64)
    out_ends = np.empty(n, dtype=np.int64)
    k = 0
    lo = 0
    for d in range(n):
        end = ends[d]
        p = lo
        while p < end:
            c = buf[p]
            cls = space[c]
            w = 1 if cls == 1 else (_space_len(buf, p, end) if cls == 2 else 0)
            if w:
                p += w
                continue
            cs = p
            h = FNV_OFFSET
            while True:
                h = (h ^ u64(c)) * FNV_PRIME
                p += 1
                if p >= end:
                    break
                c = buf[p]
                cls = space[c]
                if cls == 1 or (cls == 2 and _space_len(buf, p, end)):
                    break
            h = xxh64_avalanche(h ^ u64(p - cs))
            s = np.int64(h & u64(mask))
            while True:
                if slot_doc[s] != d + 1:
                    slot_doc[s] = d + 1
                    slot_hash[s] = h
                    hashes[k] = h
                    starts[k] = cs
                    lens[k] = p - cs
                    k += 1
                    break
                if slot_hash[s] == h:
                    break
                s = (s + 1) & mask
        out_ends[d] = k
        lo = end
    return hashes[:k], starts[:k], lens[:k], out_ends


@nb.njit(inline="always", cache=True)
def _is_space(cp: int) -> bool:
    """``chr(cp).isspace()`` (what ``str.split()`` splits at; :func:`_space_len`
    knows the same characters in UTF-8)."""
    if cp <= 32:
        return cp == 32 or 9 <= cp <= 13 or 28 <= cp <= 31
    if cp < 0x85:
        return False
    return (cp == 0x85 or cp == 0xA0 or cp == 0x1680 or 0x2000 <= cp <= 0x200A
            or cp == 0x2028 or cp == 0x2029 or cp == 0x202F or cp == 0x205F or cp == 0x3000)


@nb.njit(inline="always", cache=True)
def _is_line_break(cp: int) -> bool:
    """Whether ``str.splitlines`` ends a line at ``chr(cp)``."""
    if cp < 0x85:
        return 10 <= cp <= 13 or 28 <= cp <= 30
    return cp == 0x85 or cp == 0x2028 or cp == 0x2029


@nb.njit(inline="always", cache=True)
def _blank(cps: Any, lo: int, hi: int) -> bool:
    """Whether ``cps[lo:hi]`` is all white space (``not text[lo:hi].strip()``)."""
    for p in range(lo, hi):  # noqa: SIM110 - a loop numba compiles
        if not _is_space(cps[p]):
            return False
    return True


@jit
def sentence_spans(cps: Any) -> Any:
    """:func:`newsdedup.rewrite.split_sentences` of the code points ``cps``: the
    matches of ``[.!?]([\\"'”’)]?\\s+)(?=[\\"'“‘(]?[A-Z0-9])|\\n+``, leftmost
    first, without overlaps, end the sentences (after the punctuation mark, or
    where the line feeds start); blank spans are left out. Returns the starts
    and the ends."""
    n = len(cps)
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    m = 0
    pos = 0
    i = 0
    while i < n:
        c = cps[i]
        end = -1  # where the sentence ends, if a match starts at i
        nxt = 0  # and where the match ends
        if c == 46 or c == 33 or c == 63:
            j = i + 1
            if j < n:
                q = cps[j]
                if q == 34 or q == 39 or q == 0x201D or q == 0x2019 or q == 41:
                    j += 1  # (without it, \s+ would start at the mark: no match)
            k = j
            while k < n and _is_space(cps[k]):
                k += 1
            if k > j:  # \s+ took the whole run (less would leave white space for the lookahead)
                a = k
                if a < n:
                    q = cps[a]
                    if q == 34 or q == 39 or q == 0x201C or q == 0x2018 or q == 40:
                        a += 1
                if a < n and (65 <= cps[a] <= 90 or 48 <= cps[a] <= 57):
                    end = i + 1
                    nxt = k
        elif c == 10:
            k = i + 1
            while k < n and cps[k] == 10:
                k += 1
            end = i
            nxt = k
        if end < 0:
            i += 1
            continue
        if not _blank(cps, pos, end):
            starts[m] = pos
            ends[m] = end
            m += 1
        pos = nxt
        i = nxt
    if not _blank(cps, pos, n):
        starts[m] = pos
        ends[m] = n
        m += 1
    return starts[:m], ends[:m]


@jit
def name_mentions(cps: Any, starts: Any, ends: Any, stops: Any) -> Any:
    """For a text (span 0 of the code points ``cps``) and chunks (the other
    spans): per chunk, bit 1 where it is a whitespace-separated chunk of a line
    of the text (``str.splitlines``) that is not a capitals line
    (:func:`newsdedup.entities._caps_line`: of its first 300 characters, the
    ASCII letters are none or less than 40 % lower case), and bit 2 where it
    is, moreover, not the line's first chunk and the chunk before it does not
    end with a character ``c`` with ``stops[c]`` (``c < len(stops)``)."""
    m = len(starts) - 1
    cap = 16
    while cap < 2 * m:
        cap *= 2
    mask = cap - 1
    slot = np.full(cap, -1, dtype=np.int64)
    hashes = np.empty(m, dtype=np.uint64)
    firsts = np.zeros(128, dtype=np.uint8)  # ASCII characters a chunk starts with
    for j in range(m):
        lo = starts[j + 1]
        h = FNV_OFFSET
        for p in range(lo, ends[j + 1]):
            h = (h ^ u64(cps[p])) * FNV_PRIME
        hashes[j] = h
        if ends[j + 1] > lo and cps[lo] < 128:
            firsts[cps[lo]] = 1
        s = np.int64(h & u64(mask))
        while slot[s] >= 0:
            s = (s + 1) & mask
        slot[s] = j
    n_stops = len(stops)
    out = np.zeros(m, dtype=np.uint8)
    i = starts[0]
    end = ends[0]
    while i < end:
        # the line [i, e), and its ASCII letters among the first 300 characters
        e = i
        lower = 0
        upper = 0
        while e < end:
            c = cps[e]
            if _is_line_break(c):
                break
            if e - i < 300:
                if 97 <= c <= 122:
                    lower += 1
                elif 65 <= c <= 90:
                    upper += 1
            e += 1
        if not (lower + upper == 0 or lower < 0.4 * (lower + upper)):
            p = i
            first = True
            after_stop = False  # whether the chunk before ends with one of stops
            while p < e:
                c = cps[p]
                if _is_space(c):
                    p += 1
                    continue
                q = p + 1
                while q < e and not _is_space(cps[q]):
                    q += 1
                if c >= 128 or firsts[c]:
                    h = FNV_OFFSET
                    for r in range(p, q):
                        h = (h ^ u64(cps[r])) * FNV_PRIME
                    s = np.int64(h & u64(mask))
                    while slot[s] >= 0:
                        j = slot[s]
                        lo = starts[j + 1]
                        if hashes[j] == h and ends[j + 1] - lo == q - p:
                            same = True
                            for r in range(q - p):
                                if cps[lo + r] != cps[p + r]:
                                    same = False
                                    break
                            if same:
                                out[j] |= 1 if first or after_stop else 3
                                break
                        s = (s + 1) & mask
                last = cps[q - 1]
                after_stop = last < n_stops and stops[last] != 0
                first = False
                p = q
        i = e + 1
    return out


@jit
def table_find(keys: Any, vals: Any, hashes: Any) -> Any:
    """The value of each of ``hashes`` in the open-addressing table ``keys`` /
    ``vals`` (power-of-two size; ``vals`` -1: empty slot), -1 where absent."""
    mask = len(keys) - 1
    out = np.empty(len(hashes), dtype=np.int64)
    for i in range(len(hashes)):
        h = hashes[i]
        s = np.int64(h & u64(mask))
        while True:
            v = vals[s]
            if v < 0 or keys[s] == h:
                out[i] = v
                break
            s = (s + 1) & mask
    return out


@jit
def table_put(keys: Any, vals: Any, hashes: Any, ids: Any) -> None:
    """Put ``hashes`` -> ``ids`` into the table of :func:`table_find` (which
    must keep a free slot)."""
    mask = len(keys) - 1
    for i in range(len(hashes)):
        h = hashes[i]
        s = np.int64(h & u64(mask))
        while vals[s] >= 0 and keys[s] != h:
            s = (s + 1) & mask
        keys[s] = h
        vals[s] = ids[i]


@jit
def reduce_terms(chunks: Any, ends: Any, c_start: Any, c_len: Any, c_ent: Any, e_term: Any,
                 e_w: Any, e_k: Any, stamp: Any, at: Any, mark: int, w_stamp: Any, w_val: Any,
                 w_mark: int) -> Any:
    """Per text (its chunks ``chunks[ends[d-1]:ends[d]]``; a chunk's entries are
    ``c_ent[c_start[c]:c_start[c] + c_len[c]]``, entry ids into ``e_term``,
    ``e_w``, ``e_k``): each term once, in the order it first appears, with its
    largest weight and whether any of its entries is a key term; and how many
    terms each text has. ``stamp`` and ``at`` are scratch arrays over the
    terms whose ``stamp`` values are all below ``mark``; the texts use the
    stamps ``mark`` to ``mark + len(ends) - 1``.

    With ``w_mark`` > 0 (``rewrite_doc``'s sentences) a term weighs its
    document weight instead, ``w_val[t]`` where ``w_stamp[t] == w_mark`` (else
    0), and only terms weighing more than 0 are kept."""
    total = 0
    for c in chunks:
        total += c_len[c]
    terms = np.empty(total, dtype=np.int64)
    weights = np.empty(total, dtype=np.float64)
    key = np.empty(total, dtype=np.bool_)
    sizes = np.empty(len(ends), dtype=np.int64)
    k = 0
    lo = 0
    for d in range(len(ends)):
        m = mark + d
        before = k
        for q in range(lo, ends[d]):
            c = chunks[q]
            for x in c_ent[c_start[c] : c_start[c] + c_len[c]]:
                t = e_term[x]
                w = e_w[x]
                if w_mark > 0:
                    w = w_val[t] if w_stamp[t] == w_mark else 0.0
                    if not w > 0.0:
                        continue
                if stamp[t] != m:
                    stamp[t] = m
                    at[t] = k
                    terms[k] = t
                    weights[k] = w
                    key[k] = e_k[x]
                    k += 1
                else:
                    p = at[t]
                    if w > weights[p]:
                        weights[p] = w
                    if e_k[x]:
                        key[p] = True
        sizes[d] = k - before
        lo = ends[d]
    return terms[:k], weights[:k], key[:k], sizes


@jit
def first_seen(values: Any, stamp: Any, at: Any, mark: int) -> Any:
    """The distinct ``values`` in the order they first appear, and each value's
    rank in that order (scratch ``stamp`` and ``at`` as :func:`reduce_terms`'s,
    with the one stamp ``mark``)."""
    order = np.empty(len(values), dtype=np.int64)
    rank = np.empty(len(values), dtype=np.uint32)
    k = 0
    for q in range(len(values)):
        v = values[q]
        if stamp[v] != mark:
            stamp[v] = mark
            at[v] = k
            order[k] = v
            k += 1
        rank[q] = at[v]
    return order[:k], rank


@jit
def sentence_support(src_ptr: Any, src_ids: Any, src_w: Any, src_sw: Any, dst_terms: Any,
                     dst_ptr: Any, dst_sent: Any, dst_w: Any, dst_sw: Any,
                     min_weight: float, share: float) -> Any:
    """``rewrite._support`` on arrays, with the same float operations in the
    same order. Source sentence ``i`` has the terms ``src_ids[src_ptr[i]:
    src_ptr[i + 1]]`` (in its order) with the document weights ``src_w``; the
    destination's sorted terms ``dst_terms`` are in the sentences
    ``dst_sent[dst_ptr[k]:dst_ptr[k + 1]]`` and weigh ``dst_w``; ``src_sw`` and
    ``dst_sw`` are the sentences' weights. Returns (covered, total, and the
    aligned (i, j, similarity) as three arrays)."""
    n_src = len(src_sw)
    n_dst = len(dst_sw)
    acc = np.zeros(n_dst, dtype=np.float64)
    touched = np.zeros(n_dst, dtype=np.bool_)
    al_i = np.empty(n_src, dtype=np.int64)
    al_j = np.empty(n_src, dtype=np.int64)
    al_s = np.empty(n_src, dtype=np.float64)
    n_al = 0
    covered = 0.0
    total = 0.0
    for i in range(n_src):
        w_s = src_sw[i]
        total += w_s
        any_t = False
        for q in range(src_ptr[i], src_ptr[i + 1]):
            t = src_ids[q]
            k = np.searchsorted(dst_terms, t)
            if k >= len(dst_terms) or dst_terms[k] != t:
                continue
            m = min(src_w[q], dst_w[k])
            for p in range(dst_ptr[k], dst_ptr[k + 1]):
                j = dst_sent[p]
                if touched[j]:
                    acc[j] += m
                else:
                    touched[j] = True
                    acc[j] = 0.0 + m
                any_t = True
        if not any_t:
            continue
        best_j = -1
        best = 0.0
        for j in range(n_dst):
            if touched[j]:
                if best_j < 0 or acc[j] > best:
                    best_j = j
                    best = acc[j]
                touched[j] = False
        if best < min_weight:
            continue
        sim = best / min(w_s, dst_sw[best_j])
        if sim >= share:
            covered += w_s * min(1.0, sim / (2 * share))
            al_i[n_al] = i
            al_j[n_al] = best_j
            al_s[n_al] = min(1.0, sim)
            n_al += 1
    return covered, total, al_i[:n_al], al_j[:n_al], al_s[:n_al]
