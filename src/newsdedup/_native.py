"""Compiled batch kernels (numba): tokenise + hash, shingle + MinHash, set overlaps.

Optional: used when numba is installed (``pip install newsdedup[fast]``);
:func:`available` says whether it is. Every kernel computes exactly what the
plain Python/numpy path computes (tests/test_fastpath.py):

* ``token_spans`` and ``hash_spans`` find the ``\\w+`` tokens of UTF-8 text (the same
  characters as Python's ``re`` ``\\w``, through a code-point table built from
  that very regex) and hashes each with xxh3-64 (seed 0), bit-identical to
  ``xxhash.xxh3_64_intdigest``. Tokens longer than 128 bytes (rare) are left to
  the caller, who hashes them with the xxhash package.
* ``shingle_sign`` combines n consecutive token hashes as
  :func:`newsdedup.shingle.shingle_hash` does, keeps the sorted unique 32-bit
  values per document and computes the datasketch ``affine32`` MinHash of them.
* ``intersections`` counts common values of two sorted unique arrays, for
  many pairs at once; ``intersection_size`` for one pair (the judge's overlap);
  ``weighted_intersections`` sums the smaller weight of each common term, for
  many pairs of term rows at once (the vocabulary pass before judging).
* ``passage_samples`` and ``passage_groups`` pick the sampled shingles of
  many documents and find the groups of documents sharing one, and
  ``passage_pairs`` counts the sample groups each pair of documents shares,
  one first document at a time in a dense array (the passage candidates of
  :func:`newsdedup.score.passage_candidates`, without sorting every pair code).

Importing this module never imports numba; the kernels compile on first use
(``cache=True``: later processes load them from numba's cache).
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

_KERNELS: dict[str, Any] = {}
_WORD_TABLE: np.ndarray | None = None
_CHAR_TABLE: np.ndarray | None = None

# The first 128 bytes of XXH3's default secret (kSecret), as little-endian u64.
_SECRET_HEX = (
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
)
SECRET = np.frombuffer(bytes.fromhex(_SECRET_HEX), dtype="<u8").copy()
#: Tokens longer than this many UTF-8 bytes get hash 0 and a flag from the kernel.
MAX_NATIVE_TOKEN = 128


def available() -> bool:
    """Whether numba can be imported (the compiled fast path is usable)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _every_character() -> str:
    """Every code point, in order, as one string (surrogates included)."""
    codes = np.arange(0x110000, dtype="<u4").tobytes()
    return codes.decode("utf-32-le", "surrogatepass")


def word_table() -> np.ndarray:
    """uint8[0x110000]: 1 where the code point is a ``\\w`` character for ``re``."""
    global _WORD_TABLE
    if _WORD_TABLE is None:
        table = np.zeros(0x110000, dtype=np.uint8)
        everything = _every_character()
        for m in re.finditer(r"\w+", everything):
            table[m.start() : m.end()] = 1
        _WORD_TABLE = table
    return _WORD_TABLE


#: The character classes of :func:`char_table`, as regexes (bit ``1 << k`` for the k-th).
CHAR_CLASSES = (r"\w", r"\d", r"\s", "[A-Z\u00c0-\u00de]", "[|\u00bb\u203a\u2022\u00b7]")


def char_table() -> np.ndarray:
    """uint8[0x110000]: bit ``1 << k`` set where the code point matches the k-th
    regex of :data:`CHAR_CLASSES` (Python's ``re`` decides, so the strip kernel
    sees the very classes of :mod:`newsdedup.strip`'s regexes), and the next
    bit where ``str.islower()`` is true of it."""
    global _CHAR_TABLE
    if _CHAR_TABLE is None:
        table = np.zeros(0x110000, dtype=np.uint8)
        everything = _every_character()
        for bit, pattern in enumerate(CHAR_CLASSES):
            for m in re.finditer(pattern + "+", everything):
                table[m.start() : m.end()] |= np.uint8(1 << bit)
        lower = np.fromiter(map(str.islower, everything), dtype=bool, count=0x110000)
        table[lower] |= np.uint8(1 << len(CHAR_CLASSES))  # str.islower()
        _CHAR_TABLE = table
    return _CHAR_TABLE


def lower_letter_table() -> np.ndarray:
    """uint8[0x110000]: the letter (1 for a ... 26 for z) that ``chr(cp).lower()``
    is, 0 when it is not exactly one ASCII letter."""
    global _LOWMAP
    if _LOWMAP is None:
        table = np.zeros(0x110000, dtype=np.uint8)
        everything = _every_character()
        step = 4096
        for start in range(0, 0x110000, step):
            block = everything[start : start + step]
            low = block.lower()
            if len(low) == len(block):  # each character lowers to one character
                code = np.frombuffer(low.encode("utf-32-le", "surrogatepass"), dtype="<u4")
                hit = np.flatnonzero((code >= 97) & (code <= 122))
                table[start + hit] = (code[hit] - 96).astype(np.uint8)
                continue
            for cp in range(start, start + len(block)):  # a block with "İ" -> "i̇"
                one = chr(cp).lower()
                if len(one) == 1 and "a" <= one <= "z":
                    table[cp] = ord(one) - 96
        _LOWMAP = table
    return _LOWMAP


_LOWMAP: np.ndarray | None = None
_STOP_CODES: dict[int, tuple[frozenset[str], np.ndarray]] = {}


def stop_codes(stopwords: frozenset[str]) -> np.ndarray:
    """The all-letter ASCII stopwords of at most 12 letters, packed 5 bits per
    letter, in an open-addressing hash table (int64, -1 for empty; slot
    ``((code * 0x9E3779B97F4A7C15 mod 2**64) >> 32) & (size - 1)``, linear
    probing): what :func:`line_counts` looks tokens up in."""
    hit = _STOP_CODES.get(id(stopwords))
    if hit is None or hit[0] is not stopwords:
        size = 1
        while size < 4 * len(stopwords):
            size *= 2
        table = np.full(size if stopwords else 0, -1, dtype=np.int64)
        for w in sorted(stopwords):
            if not (w.isascii() and w.isalpha() and w.islower() and len(w) <= 12):
                raise ValueError(f"stopword {w!r} is not a lower-case ASCII word of <= 12 letters")
            code = 0
            for ch in w:
                code = code * 32 + ord(ch) - 96
            h = ((code * 0x9E3779B97F4A7C15) % 2**64 >> 32) & (size - 1)
            while table[h] >= 0:
                h = (h + 1) & (size - 1)
            table[h] = code
        hit = _STOP_CODES[id(stopwords)] = (stopwords, table)
    return hit[1]


_NAME_TABLE = np.zeros(0x110000, dtype=np.uint8)
_NAME_UPTO = [0]  # code points below this are filled in
_NAME_STEP = 4096


def name_table(upto: int = 0x110000) -> np.ndarray:
    """uint8[0x110000] for :func:`name_counts`, filled in for the code points
    below ``upto`` at least (on demand, 4,096 at a time: most texts need only
    the first few thousand): bit 1 where the code point is a letter for ``re``
    (``[^\\W\\d_]``), bit 2 where ``str.isupper`` is true of it, bit 4 where it
    is lower or title case (``("A" + c).isupper()`` is false: a word holding
    it is not all capitals)."""
    lo = _NAME_UPTO[0]
    if upto > lo:
        hi = min(0x110000, -(-upto // _NAME_STEP) * _NAME_STEP)
        block = "".join(map(chr, range(lo, hi)))
        part = np.zeros(hi - lo, dtype=np.uint8)
        for m in re.finditer(r"[^\W\d_]+", block):
            part[m.start() : m.end()] = 1
        part[np.fromiter(map(str.isupper, block), dtype=bool, count=hi - lo)] |= 2
        part[~np.fromiter(map(str.isupper, map("A".__add__, block)), dtype=bool,
                          count=hi - lo)] |= 4
        _NAME_TABLE[lo:hi] = part
        _NAME_UPTO[0] = hi
    return _NAME_TABLE


def name_counts(texts: list[str]) -> np.ndarray:
    """int64[len(texts), 2]: per text, its words (``re.findall(r"[^\\W\\d_]+")``)
    and how many of them start with a capital and are not all capitals (``w[0].isupper()
    and not w.isupper()``)."""
    cps, starts, ends = _code_points(texts)
    table = name_table(int(cps.max()) + 1 if len(cps) else 0)
    return kernels()["name_counts"](cps, starts, ends, table)  # type: ignore[no-any-return]


def _code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Texts as one uint32 array of code points (joined by line feeds), and
    where each starts and ends in it."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    cps = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cps, starts, starts + lengths


def line_counts(texts: list[str], stopwords: frozenset[str] = frozenset()) -> np.ndarray:
    """int64[len(texts), 18]: per text, the number of matches of strip's
    ``_ALPHA_WORD``, ``_CAP_WORD``, ``_UPPER_WORD``, ``_DIGIT`` and ``_SEPS``
    (``len(rx.findall(text))``), the summed length of its ``\\w+`` tokens, their
    number, and how many of them are in ``stopwords`` once lower-cased
    (columns 0-7); then what strip's features read off a line (columns 8-17,
    see :func:`newsdedup._kernels.line_flags`)."""
    return line_counts_gated(texts, stopwords, None)[0]


def line_counts_gated(
    texts: list[str], stopwords: frozenset[str], gate: Sequence[np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`line_counts` of ``texts`` and, when ``gate`` (the arrays of
    :func:`newsdedup.strip._gate_tables`) is given, ``rule_gate`` of them
    (uint8 per text: 1 where a line rule may match it), from one conversion."""
    spans = _code_points(texts)
    counts = kernels()["line_features"](
        *spans, char_table(), lower_letter_table(), stop_codes(stopwords)
    )
    if gate is None:
        return counts, None
    return counts, kernels()["rule_gate"](*spans, char_table(), *gate)


def token_counts(texts: list[str]) -> np.ndarray:
    """int64[len(texts)]: ``len(re.findall(r"\\w+", text))`` of each text."""
    return token_counts_encoded([t.encode("utf-8", "surrogatepass") for t in texts])


def token_counts_encoded(encoded: list[bytes]) -> np.ndarray:
    """:func:`token_counts` of texts already encoded (UTF-8, ``surrogatepass``)."""
    buf, ends = _joined(encoded)
    return kernels()["token_counts"](buf, ends, word_table())  # type: ignore[no-any-return]


def _joined(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings as one uint8 buffer and the end of each in it."""
    ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def line_hashes(encoded: list[bytes]) -> np.ndarray:
    """uint64[len(encoded)]: the line hash of :func:`ascii_line_hashes` of each
    byte string (for lines normalised in Python)."""
    return kernels()["line_hash_spans"](*_joined(encoded))  # type: ignore[no-any-return]


def ascii_line_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ASCII ``texts``: the 64-bit hashes of each one's distinct non-empty
    normalised lines (``normalize`` of each line of ``str.splitlines``), in
    first-seen order, their ``\\w+`` token counts, and how many each text has;
    one compiled pass (the hash is :func:`line_hashes`'s, not xxh3)."""
    buf, ends = _joined([t.encode("ascii") for t in texts])
    return kernels()["ascii_line_hashes"](buf, ends)  # type: ignore[no-any-return]


#: Byte -> itself lower-cased, backtick -> quote; and the bytes ``str.split``
#: splits ASCII text at (the ASCII part of :func:`newsdedup.normalize.normalize`).
_ASCII_LOWER = np.frombuffer(bytes(range(128)).replace(b"`", b"'").lower() + bytes(128),
                             dtype=np.uint8)
_ASCII_SPACE = np.array([chr(c).isspace() and c < 128 for c in range(256)], dtype=np.bool_)


def ascii_normalized(texts: list[str]) -> list[bytes]:
    """``normalize(t).encode()`` of each ASCII text ``t``, in one compiled pass."""
    buf, ends = _joined([t.encode("ascii") for t in texts])
    out, out_ends = kernels()["ascii_normalize"](buf, ends, _ASCII_LOWER, _ASCII_SPACE)
    raw = out.tobytes()
    bounds = [0, *out_ends.tolist()]
    return [raw[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


#: The tables of :func:`mapped_normalized`, per code point: the number of code
#: points of its :func:`newsdedup.normalize.char_map` (255: it has none, or its
#: block is not filled in yet), where they start in the pool, and their UTF-8
#: bytes; the pool; and the blocks filled in. Replaced whole when blocks are
#: added (a kernel running in another thread keeps the tables it was given).
_MAP_STATE: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, frozenset[int]]] = [(
    np.full(0x110000, 255, dtype=np.uint8), np.zeros(0x110000, dtype=np.int32),
    np.zeros(0x110000, dtype=np.uint8), np.zeros(0, dtype=np.uint32), frozenset(),
)]
_MAP_LOCK = threading.Lock()
_MAP_STEP = 4096


def _blocks_of(cps: np.ndarray) -> set[int]:
    """The blocks of :data:`_MAP_STEP` code points that ``cps`` (uint32) touch."""
    return set(np.flatnonzero(np.bincount(cps >> 12, minlength=1)).tolist())


def map_tables(blocks: set[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tables of :func:`mapped_normalized` (lengths, starts, bytes, pool),
    filled in (4,096 code points at a time, on demand) for ``blocks``."""
    from .normalize import char_map

    if blocks - _MAP_STATE[0][4]:
        with _MAP_LOCK:
            lens, ats, nbytes, pool_arr, done = _MAP_STATE[0]
            todo = blocks - done
            if todo:
                lens, ats, nbytes = lens.copy(), ats.copy(), nbytes.copy()
                pool = pool_arr.tolist()
                for block in sorted(todo):
                    lo = block * _MAP_STEP
                    for cp in range(lo, min(lo + _MAP_STEP, 0x110000)):
                        mapped = char_map(chr(cp))
                        if mapped is None:
                            continue
                        lens[cp] = len(mapped)
                        ats[cp] = len(pool)
                        nbytes[cp] = len(mapped.encode("utf-8"))
                        pool.extend(map(ord, mapped))
                _MAP_STATE[0] = (lens, ats, nbytes, np.array(pool, dtype=np.uint32),
                                 done | todo)
    return _MAP_STATE[0][:4]


def mapped_normalized(texts: list[str]) -> list[bytes | None]:
    """``normalize(t).encode()`` of each text whose every character has a
    :func:`newsdedup.normalize.char_map` (most news in Latin scripts, typographic
    quotes and dashes included), in one compiled pass; None for the others."""
    out: list[bytes | None] = [None] * len(texts)
    todo = list(range(len(texts)))
    cps, starts, ends = _code_points(texts)
    state = _MAP_STATE[0]
    tables, filled = state[:4], state[4]
    for attempt in range(2):
        raw_out, out_ends, ok = kernels()["map_normalize"](cps, starts, ends, *tables)
        raw = raw_out.tobytes()
        bounds = [0, *out_ends.tolist()]
        failed = []
        for k, a, b, good in zip(todo, bounds[:-1], bounds[1:], ok.tolist(), strict=True):
            if good:
                out[k] = raw[a:b]
            else:
                failed.append(k)
        if not failed or attempt:
            break
        # a text fails for a character without a map, or in a block of code
        # points whose maps were not filled in in the tables it was given (this
        # or another thread may have filled them in since): fill those in, again
        todo = failed
        cps, starts, ends = _code_points([texts[k] for k in todo])
        blocks = _blocks_of(cps)
        if not blocks - filled:
            break
        tables = map_tables(blocks)
    return out


def utf8_valid(data: bytes) -> bool:
    """Whether ``data.decode("utf-8")`` would succeed, found without decoding
    (no string is made): one compiled pass."""
    at = kernels()["utf8_invalid_at"](np.frombuffer(data, dtype=np.uint8))
    return bool(at < 0)


#: Byte -> 1 if it is an ASCII whitespace character (``str.isspace``), 2 if it
#: may start a multi-byte one (U+0085, U+00A0, U+1680, U+2000-U+3000), else 0.
_UTF8_SPACE = _ASCII_SPACE.astype(np.uint8)
_UTF8_SPACE[[0xC2, 0xE1, 0xE2, 0xE3]] = 2


def chunk_hashes(
    texts: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct chunks of each text (``set(text.split())``), from its UTF-8
    bytes, in the order they first appear: (64-bit hashes, byte start and
    length of each in ``buf``, each text's end among the hashes, ``buf``)."""
    buf, ends = _joined([t.encode("utf-8", "surrogatepass") for t in texts])
    hashes, starts, lens, out_ends = kernels()["chunk_hashes"](buf, ends, _UTF8_SPACE)
    return hashes, starts, lens, out_ends, buf


def name_mentions(text: str, chunks: list[str], stops: np.ndarray) -> np.ndarray:
    """uint8 per chunk: ``_kernels.name_mentions`` of ``text`` and ``chunks``
    (``stops``: a uint8 table over code points)."""
    cps, starts, ends = _code_points([text, *chunks])
    return kernels()["name_mentions"](cps, starts, ends, stops)  # type: ignore[no-any-return]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``_kernels.sentence_spans`` of ``text``, as (start, end) pairs."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    starts, ends = kernels()["sentence_spans"](cps)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


class HashTable:
    """uint64 key -> int64 value (>= 0), in an open-addressing table that the
    compiled kernels probe: many keys found or put in one call."""

    def __init__(self, capacity: int = 1 << 16):
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.vals = np.full(capacity, -1, dtype=np.int64)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where absent."""
        return kernels()["table_find"](self.keys, self.vals, keys)  # type: ignore[no-any-return]

    def put(self, keys: np.ndarray, vals: np.ndarray) -> None:
        """Add distinct keys that are not in the table yet."""
        need = self.size + len(keys)
        if 2 * need > len(self.keys):
            cap = len(self.keys)
            while 2 * need > cap:
                cap *= 2
            used = self.vals >= 0
            old_keys, old_vals = self.keys[used], self.vals[used]
            self.keys = np.zeros(cap, dtype=np.uint64)
            self.vals = np.full(cap, -1, dtype=np.int64)
            kernels()["table_put"](self.keys, self.vals, old_keys, old_vals)
        kernels()["table_put"](self.keys, self.vals, keys, vals)
        self.size = need


def _import_kernels() -> Any:
    """The :mod:`newsdedup._kernels` module. Its kernels are cached on disk
    (``cache=True``), and numba refuses to make such a kernel when it finds no
    writable place for its cache (the package's ``__pycache__`` and the user's
    cache directory both read-only: a container running as another user, no
    home): then the cache goes to a directory of this user's in the temporary
    directory (``NUMBA_CACHE_DIR`` chooses another)."""
    try:
        from . import _kernels
    except RuntimeError as err:
        if "cannot cache function" not in str(err):
            raise
        import tempfile

        from numba.core import config

        uid = os.getuid() if hasattr(os, "getuid") else 0
        path = os.path.join(tempfile.gettempdir(), f"newsdedup-numba-{uid}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
            # not this user's own directory: its cache files could be anyone's
            path = tempfile.mkdtemp(prefix="newsdedup-numba-")
        config.CACHE_DIR = path  # type: ignore[attr-defined]
        from . import _kernels
    return _kernels


def kernels() -> dict[str, Any]:
    """The compiled kernels (compiling them, or loading them from numba's cache, on first use)."""
    if not _KERNELS:
        _kernels = _import_kernels()

        _KERNELS.update(
            token_spans=_kernels.token_spans,
            hash_spans=_kernels.hash_spans,
            shingle_sign=_kernels.shingle_sign,
            intersections=_kernels.intersections,
            intersection_size=_kernels.intersection_size,
            weighted_intersections=_kernels.weighted_intersections,
            line_counts=_kernels.line_counts,
            token_counts=_kernels.token_counts,
            line_features=_kernels.line_features,
            line_model_stage1=_kernels.line_model_stage1,
            base_feature_rows=_kernels.base_feature_rows,
            line_model_stage2=_kernels.line_model_stage2,
            rule_gate=_kernels.rule_gate,
            group_entries=_kernels.group_entries,
            line_hash_spans=_kernels.line_hash_spans,
            ascii_line_hashes=_kernels.ascii_line_hashes,
            ef_encode=_kernels.ef_encode,
            ef_decode=_kernels.ef_decode,
            passage_pairs=_kernels.passage_pairs,
            passage_samples=_kernels.passage_samples,
            passage_groups=_kernels.passage_groups,
            name_counts=_kernels.name_counts,
            ascii_normalize=_kernels.ascii_normalize,
            map_normalize=_kernels.map_normalize,
            utf8_invalid_at=_kernels.utf8_invalid_at,
            chunk_hashes=_kernels.chunk_hashes,
            name_mentions=_kernels.name_mentions,
            common_minima=_kernels.common_minima,
            sentence_spans=_kernels.sentence_spans,
            table_find=_kernels.table_find,
            table_put=_kernels.table_put,
            reduce_terms=_kernels.reduce_terms,
            first_seen=_kernels.first_seen,
            sentence_support=_kernels.sentence_support,
        )
    return _KERNELS


def warm() -> None:
    """Load (or compile) every kernel now, on a tiny input, so later calls are timed fairly."""
    k = kernels()
    table = word_table()
    buf = np.frombuffer("a b c d e f é".encode(), dtype=np.uint8)
    starts, lens, ntok = k["token_spans"](buf, np.array([len(buf)], dtype=np.int64), table)
    hashes = k["hash_spans"](buf, starts, lens)
    pows = np.ones(2, dtype=np.uint64)
    ab = np.ones(2, dtype=np.uint32)
    vals, offsets, _ = k["shingle_sign"](hashes, ntok, 2, 2, pows, ab, ab)
    pair = np.zeros(1, dtype=np.int64)
    k["intersections"](vals, offsets, pair, pair)
    k["intersection_size"](vals, vals)
    k["weighted_intersections"](ab, np.ones(2), np.ones(2), np.array([0, 2]), pair, pair,
                                np.full(2, -1.0))
    k["common_minima"](ab, np.ones(2), ab, np.ones(2))
    from .strip import _gate_tables, rules_for

    line_counts_gated(["a (b", "C D"], frozenset({"a"}), _gate_tables(rules_for("en")))
    k["base_feature_rows"](np.ones((1, 18), dtype=np.int64), np.array([0, 1]),
                           np.ones(1, dtype=np.bool_), np.ones(1), np.ones(1), 40, 20)
    row = np.ones((1, 1))
    k["line_model_stage1"](row, row[0], row[0], row[0], 0.0)
    k["line_model_stage2"](row, row[0], np.array([0, 1]), np.ones(11), np.ones(11),
                           np.ones(11), 0.0)
    token_counts(["a b", "c"])
    line_hashes([b"a b"])
    ascii_line_hashes(["A b\nc"])
    one = np.ones(1, dtype=np.int64)
    k["group_entries"](np.zeros(9, dtype=np.uint8), one - 1, one, one, one > 0, one, 1)
    k["ef_decode"](k["ef_encode"](np.ones(1, dtype=np.uint32), 32), 1, 32)
    two = np.array([0, 1], dtype=np.int64)
    keys, _per = k["passage_samples"](np.array([8, 8], dtype=np.uint32), two, two[:1], 8)
    k["passage_groups"](np.sort(keys), 50, 1)
    k["passage_pairs"](two, two[:1], two[1:] + 1, two + 1, 0, 2, 2, 0.5)
    name_counts(["Ab CD e"])
    ascii_normalized(["A `b`\tc"])
    mapped_normalized(["\u00c9 \u2019b\u00a0c"])
    utf8_valid("\u00e9 abcdefgh".encode())
    chunk_hashes(["a b\u00a0a"])
    name_mentions("a B c", ["B"], np.ones(47, dtype=np.uint8))
    sentence_spans("A b. C d")
    found = HashTable()
    found.put(np.ones(1, dtype=np.uint64), one)
    found.find(np.ones(1, dtype=np.uint64))
    k["reduce_terms"](one - 1, one, one - 1, one, one - 1, one - 1, np.ones(1), one > 0,
                      one - 1, one - 1, 1, one - 1, np.ones(1), 0)
    k["first_seen"](one, one - 1, one - 1, 1)
    w = np.ones(1)
    k["sentence_support"](two, one - 1, w, w, one - 1, two, one - 1, w, w, 1.0, 0.5)

