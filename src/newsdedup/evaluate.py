"""Evaluation against a ground truth: pairwise precision/recall/F1, adjusted
Rand index, recall per relation kind and link rates on hard negatives.

Truth file format (JSON), either a plain list of clusters of document ids::

    [["story1/original", "story1/excerpt"], ["story2/original"]]

or an object::

    {
      "clusters": [["s1", "s1-copy", "s1-rewrite"], ["s2"]],
      "relations": {"s1-copy": "near_duplicate", "s1-rewrite": "rewrite"},
      "negatives": {"same_topic": [["w1", "w2", "w3"]], "template": [["r1", "r2"]]}
    }

* ``clusters``: every cluster of the truth, each a non-empty list of
  document ids (strings); a document is in one cluster only, and listed once
  (documents of the input missing from the truth count as singletons; ids in
  the truth missing from the input are ignored and counted).
* ``relations`` (optional): for a document, the kind of its relation to the
  *first* member of its cluster (the source): an object of id -> kind
  (strings). Recall per kind is the share of (source, document) pairs of that
  kind that the prediction puts together.
* ``negatives`` (optional): named lists of groups of documents that are all
  different stories (e.g. same-topic articles, template look-alikes): an
  object of name -> list of groups, each a list of document ids. The link
  rate of a name is the share of pairs inside its groups that the prediction
  puts in one cluster.

A file that cannot be read, is not UTF-8 JSON or does not have this structure
is an :class:`~newsdedup.errors.InputError` naming the file (``<truth>`` for
:meth:`Truth.from_json` without ``source``) and the problem::

    >>> Truth.from_json([["a", "b", "a"]])
    Traceback (most recent call last):
    ...
    newsdedup.errors.InputError: <truth>: clusters[0] lists 'a' twice
    >>> Truth.from_json({"clusters": [["a", "b"]], "negatives": {"x": ["ab"]}})
    Traceback (most recent call last):
    ...
    newsdedup.errors.InputError: <truth>: negatives['x'][0] must be a list of document ids ...
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from .errors import InputError


@dataclass(frozen=True, slots=True, kw_only=True)
class Truth:
    """A ground truth: clusters, optional relation kinds and negative groups."""

    clusters: tuple[tuple[str, ...], ...]
    relations: Mapping[str, str] = field(default_factory=dict)
    negatives: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any, *, source: str = "<truth>") -> Truth:
        """Build from the parsed JSON of a truth file (see the module docs);
        ``source`` names the file in errors."""

        def bad(problem: str) -> InputError:
            return InputError(problem, source=source)

        if isinstance(data, list):
            data = {"clusters": data}
        if not isinstance(data, dict) or not isinstance(data.get("clusters"), list):
            raise bad("a truth file must be a list of clusters or an object with 'clusters' "
                      f"(a list of clusters), got {_short(data)}")
        clusters = []
        where: dict[str, int] = {}  # id -> its cluster
        for k, c in enumerate(data["clusters"]):
            if not isinstance(c, list) or not all(isinstance(x, str) for x in c):
                raise bad(f"clusters[{k}] must be a list of document ids (strings), "
                          f"got {_short(c)}")
            if not c:
                raise bad(f"clusters[{k}] is empty")
            for d in c:
                if d in where:
                    if where[d] == k:
                        raise bad(f"clusters[{k}] lists {d!r} twice")
                    raise bad(f"document {d!r} is in more than one cluster: "
                              f"clusters[{where[d]}] and clusters[{k}]")
                where[d] = k
            clusters.append(tuple(c))
        relations = data.get("relations") or {}
        if not isinstance(relations, dict):
            raise bad("'relations' must be an object of document id -> relation kind, "
                      f"got {_short(relations)}")
        for d, kind in relations.items():
            if not isinstance(kind, str):
                raise bad(f"relations[{d!r}] must be a relation kind (a string), "
                          f"got {_short(kind)}")
        negatives_in = data.get("negatives") or {}
        if not isinstance(negatives_in, dict):
            raise bad("'negatives' must be an object of name -> list of groups of document "
                      f"ids, got {_short(negatives_in)}")
        negatives = {}
        for name, groups in negatives_in.items():
            if not isinstance(groups, list):
                raise bad(f"negatives[{name!r}] must be a list of groups of document ids, "
                          f"got {_short(groups)}")
            for k, g in enumerate(groups):
                if not isinstance(g, list) or not all(isinstance(x, str) for x in g):
                    raise bad(f"negatives[{name!r}][{k}] must be a list of document ids "
                              f"(strings), got {_short(g)}")
                twice = next((d for i, d in enumerate(g) if d in g[:i]), None)
                if twice is not None:  # (its pair with itself would count as linked)
                    raise bad(f"negatives[{name!r}][{k}] lists {twice!r} twice")
            negatives[name] = tuple(tuple(g) for g in groups)
        return cls(clusters=tuple(clusters), relations=dict(relations), negatives=negatives)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Truth:
        """Read a truth file (UTF-8 JSON; a byte-order mark is allowed)."""
        name = os.fspath(path)
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            raise InputError("cannot read the truth file: no such file or directory",
                             source=name) from None
        except IsADirectoryError:
            raise InputError("the truth file is a directory, not a file", source=name) from None
        except PermissionError:
            raise InputError("cannot read the truth file: permission denied",
                             source=name) from None
        except OSError as err:
            raise InputError(f"cannot read the truth file: {err.strerror or err}",
                             source=name) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise InputError(
                f"the truth file is not UTF-8 (byte 0x{raw[err.start]:02x} at byte {err.start})",
                source=name,
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"not valid JSON: {err}", source=name) from None
        return cls.from_json(data, source=name)


def _short(value: Any) -> str:
    """The repr of a value, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Evaluation figures (all floats in [0, 1] except ``ari`` in [-1, 1]).

    Attributes:
        documents: documents evaluated (the input).
        missing: truth ids absent from the input (ignored).
        precision, recall, f1: over document pairs (same predicted cluster vs
            same true cluster); precision is 1.0 when nothing is linked.
        ari: adjusted Rand index of the two partitions.
        true_pairs, predicted_pairs, correct_pairs: pair counts.
        recall_by_relation: kind -> (recall, number of pairs).
        negative_link_rate: name -> (share of pairs linked, number of pairs).
    """

    documents: int
    missing: int
    precision: float
    recall: float
    f1: float
    ari: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    recall_by_relation: dict[str, tuple[float, int]]
    negative_link_rate: dict[str, tuple[float, int]]

    def format(self) -> str:
        """A plain-text report."""
        lines = [
            f"documents        {self.documents}" + (f" ({self.missing} truth ids not in the input)"
                                                   if self.missing else ""),
            f"pairs            true {self.true_pairs}, predicted {self.predicted_pairs}, "
            f"correct {self.correct_pairs}",
            f"precision        {self.precision:.4f}",
            f"recall           {self.recall:.4f}",
            f"F1               {self.f1:.4f}",
            f"ARI              {self.ari:.4f}",
        ]
        for kind, (r, n) in sorted(self.recall_by_relation.items()):
            lines.append(f"recall {kind:<17} {r:.4f}  ({n} pairs)")
        for name, (r, n) in sorted(self.negative_link_rate.items()):
            lines.append(f"linked {name:<17} {r:.4f}  ({n} pairs)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents, "missing": self.missing,
            "precision": self.precision, "recall": self.recall, "f1": self.f1, "ari": self.ari,
            "true_pairs": self.true_pairs, "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
            "recall_by_relation": {k: {"recall": r, "pairs": n}
                                   for k, (r, n) in self.recall_by_relation.items()},
            "negative_link_rate": {k: {"rate": r, "pairs": n}
                                   for k, (r, n) in self.negative_link_rate.items()},
        }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def evaluate(predicted: Iterable[Sequence[str]], truth: Truth) -> Report:
    """Compare predicted clusters (lists of ids covering the input) with ``truth``.

    >>> t = Truth.from_json([["a", "b"], ["c"]])
    >>> r = evaluate([["a", "b", "c"]], t)
    >>> (r.precision, r.recall, round(r.f1, 3))
    (0.3333333333333333, 1.0, 0.5)
    """
    pred_of: dict[str, int] = {}
    for k, c in enumerate(predicted):
        for d in c:
            if d in pred_of:
                raise InputError(f"predicted clusters: {d!r} is in more than one cluster")
            pred_of[d] = k
    true_of: dict[str, int] = {}
    missing = 0
    for k, c in enumerate(truth.clusters):
        for d in c:
            if d in pred_of:
                true_of[d] = k
            else:
                missing += 1
    nxt = len(truth.clusters)
    for d in sorted(pred_of):
        if d not in true_of:
            true_of[d] = nxt
            nxt += 1
    docs = sorted(pred_of)
    cont = Counter((true_of[d], pred_of[d]) for d in docs)
    a = Counter(true_of[d] for d in docs)
    b = Counter(pred_of[d] for d in docs)
    tp = sum(_pairs(v) for v in cont.values())
    tpairs = sum(_pairs(v) for v in a.values())
    ppairs = sum(_pairs(v) for v in b.values())
    precision = tp / ppairs if ppairs else 1.0
    recall = tp / tpairs if tpairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = _pairs(len(docs))
    expected = tpairs * ppairs / total if total else 0.0
    max_index = (tpairs + ppairs) / 2
    ari = (tp - expected) / (max_index - expected) if max_index != expected else 1.0
    by_kind: dict[str, list[int]] = {}
    for c in truth.clusters:
        src = c[0]
        if src not in pred_of:
            continue
        for d in c[1:]:
            kind = truth.relations.get(d)
            if kind is None or d not in pred_of:
                continue
            hit = by_kind.setdefault(kind, [0, 0])
            hit[0] += pred_of[d] == pred_of[src]
            hit[1] += 1
    neg: dict[str, tuple[float, int]] = {}
    for name, groups in truth.negatives.items():
        linked = count = 0
        for g in groups:
            present = [d for d in g if d in pred_of]
            for x, y in combinations(present, 2):
                count += 1
                linked += pred_of[x] == pred_of[y]
        neg[name] = (linked / count if count else 0.0, count)
    return Report(
        documents=len(docs), missing=missing, precision=precision, recall=recall, f1=f1,
        ari=ari, true_pairs=tpairs, predicted_pairs=ppairs, correct_pairs=tp,
        recall_by_relation={k: (v[0] / v[1], v[1]) for k, v in by_kind.items()},
        negative_link_rate=neg,
    )
