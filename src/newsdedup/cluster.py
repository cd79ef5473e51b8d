"""Union-find over verified edges, and the choice of a representative."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np


class UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size."""

    def __init__(self, n: int):
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if self.size[ra] < self.size[rb] or (self.size[ra] == self.size[rb] and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        return ra

    def groups(self) -> list[list[int]]:
        """The sets, each sorted, in order of their smallest member."""
        by_root: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            by_root.setdefault(self.find(x), []).append(x)
        return sorted(by_root.values(), key=lambda g: g[0])


def connected_components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups of 0..n-1 connected by ``edges`` (singletons included)."""
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    return uf.groups()


def order_clusters(
    groups: Sequence[Sequence[int]], ids: Sequence[str], pick: Callable[[Sequence[int]], int]
) -> list[tuple[tuple[str, ...], str]]:
    """Sort groups largest first (ties by smallest member id) and pick representatives.

    Returns (member ids sorted, representative id) per cluster; the position in
    the list is the cluster id. Depends only on the ids, not on input order.
    """
    named = [((ids[g[0]],), ids[g[0]]) if len(g) == 1  # (most groups: no sort, no pick)
             else (tuple(sorted(ids[i] for i in g)), ids[pick(g)]) for g in groups]
    named.sort(key=lambda t: (-len(t[0]), t[0][0]))
    return named


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest member of each node's connected component (nodes 0..n-1,
    edges ``a[k]``-``b[k]``), by label propagation on arrays."""
    label = np.arange(n, dtype=np.int64)
    if not len(a):
        return label
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        while True:  # point every node at its label's label
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt
        if np.array_equal(label, before):
            return label
