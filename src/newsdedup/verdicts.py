"""Every judged pair's verdict, kept packed: :class:`Verdicts`.

A batch run keeps the verdict of every pair it judged, linked or not
(:attr:`newsdedup.Clusters.verdicts`, read by :meth:`~newsdedup.Clusters.explain`
and the CLI's "why" lines). As Python objects a verdict (its ``Match``, reason,
signals and often a ``RewriteScore`` with the aligned sentences) takes about
1.1 KB; with the rewrite signal a run judges about 1.2 pairs per article at
100,000 articles and more per article as the stories' versions multiply, and at
a million articles the verdicts alone, held by the judging workers and then by
the parent, outgrew this 24 GiB machine.

Here the judging workers pickle their verdicts :data:`PACK_SIZE` at a time and
compress each pack (zlib, level 1): about 100 B a verdict instead of 1.1 KB.
A verdict is found by its pair's document indices (a sorted array) and
unpacked when asked for (the last few packs read stay unpacked; ``items()`` and
``values()`` unpack each pack at most twice). The verdicts read are equal to
the ones judged (``tests/test_verdicts.py``).
"""

from __future__ import annotations

import pickle
import zlib
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .score import Verdict

#: Verdicts per pack (a pickle compressed as one: the class and field names it
#: repeats are written once; 256 take 270 B a verdict pickled, 100 B compressed,
#: on the 30,000-article speed corpus).
PACK_SIZE = 256
#: zlib's level for the packs (1: about 1.3 us a verdict; higher levels gain
#: little on pickles this small).
PACK_LEVEL = 1
#: Packs kept unpacked after a read (the judging blocks' packs interleave in key
#: order: one per block is read at a time when reading in key order).
UNPACKED_PACKS = 16
#: Keys read at a time by ``items()`` and ``values()``.
_WINDOW = 16 * PACK_SIZE


class Packer:
    """Packs verdicts as they come, :data:`PACK_SIZE` to a pack, so that the
    objects of at most one pack are held at a time."""

    def __init__(self) -> None:
        self.packs: list[bytes] = []
        self._pending: list[Verdict] = []

    def add(self, verdict: Verdict) -> None:
        self._pending.append(verdict)
        if len(self._pending) == PACK_SIZE:
            self.flush()

    def flush(self) -> list[bytes]:
        """Pack what is pending; the packs so far."""
        if self._pending:
            self.packs.append(pack(self._pending))
            self._pending = []
        return self.packs


def pack(verdicts: Sequence[Verdict]) -> bytes:
    """One pack of ``verdicts``."""
    return zlib.compress(pickle.dumps(list(verdicts), protocol=pickle.HIGHEST_PROTOCOL),
                         PACK_LEVEL)


def unpack(data: bytes) -> list[Verdict]:
    """The verdicts of one pack, in the order packed. (Packs are made in this
    process or by its forked workers, never read from outside.)"""
    out: list[Verdict] = pickle.loads(zlib.decompress(data))  # noqa: S301
    return out


class Verdicts(Mapping[tuple[str, str], "Verdict"]):
    """A read-only mapping (id_a, id_b) -> :class:`~newsdedup.score.Verdict`, with
    id_a < id_b, of the pairs a run judged, the verdicts kept packed.

    Args:
        ids: each document's id, by document index.
        codes: the judged pairs as ``i * len(ids) + j`` (document indices, i < j),
            sorted ascending, no repeats.
        where: per pair (as ``codes``), its pack and place in it:
            ``pack << 16 | place``.
        packs: the packs (:func:`pack`).
        extra: verdicts kept as objects (keys not among ``codes``); they come
            first in iteration.
        order: the pairs' order in iteration, as positions in ``codes``
            (default: as ``codes``). Reading in this order unpacks each pack at
            most twice when each judging block packed its pairs in this order.
    """

    def __init__(
        self, ids: Sequence[str], codes: np.ndarray, where: np.ndarray, packs: list[bytes],
        extra: Mapping[tuple[str, str], Verdict] | None = None,
        order: np.ndarray | None = None,
    ):
        if len(codes) != len(where) or (order is not None and len(order) != len(codes)):
            raise ValueError(f"{len(codes)} pair codes but {len(where)} places"
                             + ("" if order is None else f" and {len(order)} in the order"))
        self._ids = ids
        self._n = len(ids)
        self._codes = np.asarray(codes, dtype=np.int64)
        self._where = np.asarray(where, dtype=np.int64)
        self._packs = packs
        self._extra: dict[tuple[str, str], Verdict] = dict(extra or {})
        self._index: dict[str, int] | None = None
        self._sorted = all(a < b for a, b in pairwise(ids))
        self._open: OrderedDict[int, list[Verdict]] = OrderedDict()
        self._order = None if order is None else np.asarray(order, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._extra) + len(self._codes)

    def __repr__(self) -> str:
        return f"<Verdicts: {len(self):,} judged pairs, {len(self._packs):,} packs>"

    def _position(self, key: Any) -> int:
        """The place of ``key`` in :attr:`_codes`, or -1."""
        if not isinstance(key, tuple) or len(key) != 2 or not isinstance(key[0], str) \
                or not isinstance(key[1], str) or not key[0] < key[1]:
            return -1  # (keys are (id_a, id_b) with id_a < id_b)
        i, j = self._doc(key[0]), self._doc(key[1])
        if i < 0 or j < 0:
            return -1
        code = min(i, j) * self._n + max(i, j)
        k = int(np.searchsorted(self._codes, code))
        return k if k < len(self._codes) and int(self._codes[k]) == code else -1

    def _doc(self, doc_id: str) -> int:
        if self._sorted:
            k = bisect_left(self._ids, doc_id)
            return k if k < self._n and self._ids[k] == doc_id else -1
        if self._index is None:
            self._index = {d: k for k, d in enumerate(self._ids)}
        return self._index.get(doc_id, -1)

    def _key(self, k: int) -> tuple[str, str]:
        i, j = divmod(int(self._codes[k]), self._n)
        a, b = self._ids[i], self._ids[j]
        return (a, b) if a < b else (b, a)

    def _verdict(self, k: int) -> Verdict:
        w = int(self._where[k])
        p, place = w >> 16, w & 0xFFFF
        got = self._open.get(p)
        if got is None:
            got = self._open[p] = unpack(self._packs[p])
            if len(self._open) > UNPACKED_PACKS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(p)
        return got[place]

    def __getitem__(self, key: tuple[str, str]) -> Verdict:
        v = self._extra.get(key)
        if v is not None:
            return v
        k = self._position(key)
        if k < 0:
            raise KeyError(key)
        return self._verdict(k)

    def __contains__(self, key: object) -> bool:
        return key in self._extra or self._position(key) >= 0

    def _positions(self, start: int, stop: int) -> list[int]:
        """The positions (in ``codes``) of the pairs ``start:stop`` in iteration order."""
        if self._order is None:
            return list(range(start, min(stop, len(self._codes))))
        out: list[int] = self._order[start:stop].tolist()
        return out

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self._extra
        for start in range(0, len(self._codes), _WINDOW):
            for k in self._positions(start, start + _WINDOW):
                yield self._key(k)

    def _items(self) -> Iterator[tuple[tuple[str, str], Verdict]]:
        yield from self._extra.items()
        # in windows of pairs, each pack they need unpacked once per window (when
        # each block packed its pairs in iteration order, a pack spans at most
        # two windows, however many blocks' packs interleave)
        for start in range(0, len(self._codes), _WINDOW):
            at = self._positions(start, start + _WINDOW)
            where = self._where[at].tolist()
            unpacked = {p: unpack(self._packs[p]) for p in {w >> 16 for w in where}}
            for k, w in zip(at, where, strict=True):
                yield self._key(k), unpacked[w >> 16][w & 0xFFFF]

    def items(self) -> ItemsView[tuple[str, str], Verdict]:
        return _Items(self)

    def values(self) -> ValuesView[Verdict]:
        return _Values(self)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_open"] = OrderedDict()  # (unpacked again when read)
        state["_index"] = None
        return state


class _Items(ItemsView[tuple[str, str], "Verdict"]):
    """``Verdicts.items()``: each pack unpacked once, in key order."""

    _mapping: Verdicts

    def __iter__(self) -> Iterator[tuple[tuple[str, str], Verdict]]:
        return self._mapping._items()


class _Values(ValuesView["Verdict"]):
    _mapping: Verdicts

    def __iter__(self) -> Iterator[Verdict]:
        return (v for _k, v in self._mapping._items())
