"""The result of clustering: :class:`Clusters`."""

from __future__ import annotations

import bisect
import html
import json
import os
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import Config
from .errors import NewsDedupError
from .index import LSHParams
from .types import Article, Cluster, DocumentInfo, Match, Skipped


class DocumentTable(Mapping[str, DocumentInfo]):
    """:attr:`Clusters.documents` of a run: a read-only mapping of document id
    (in id order) to its :class:`~newsdedup.types.DocumentInfo`, kept as
    columns and made when asked for.

    A million-article run made a million ``DocumentInfo`` and 1.5 million
    ``Removal`` objects for every result (about 2 s), and the cyclic garbage
    collector walked them all once after the run (about 1 s), whether or not
    anything read them. Equal to the dict of the same documents (``==``)."""

    def __init__(
        self, *, ids: Sequence[str], titles: Sequence[str | None],
        sources: Sequence[str | None], where: np.ndarray, n_words: np.ndarray,
        n_shingles: np.ndarray, cleaned_length: np.ndarray, removed: Any,
    ):
        """``ids`` sorted, with ``titles``, ``n_words``, ``n_shingles`` and
        ``cleaned_length`` in that order; ``sources`` and ``removed`` (a
        :class:`~newsdedup.chunks.Removals`) in input order, document ``i``
        being input ``where[i]``."""
        self._ids = list(ids)
        self._titles = list(titles)
        self._sources = list(sources)
        self._where = np.asarray(where, dtype=np.int64)
        self._n_words = np.asarray(n_words, dtype=np.int64)
        self._n_shingles = np.asarray(n_shingles, dtype=np.int64)
        self._cleaned_length = np.asarray(cleaned_length, dtype=np.int64)
        self._removed = removed
        self._first = np.zeros(len(removed.counts) + 1, dtype=np.int64)  # per input
        np.cumsum(removed.counts, out=self._first[1:])

    def _position(self, key: object) -> int:
        i = bisect.bisect_left(self._ids, key) if isinstance(key, str) else len(self._ids)
        if i == len(self._ids) or self._ids[i] != key:
            raise KeyError(key)
        return i

    def _info(self, i: int) -> DocumentInfo:
        g = int(self._where[i])
        return DocumentInfo(
            id=self._ids[i], title=self._titles[i], source=self._sources[g],
            n_words=int(self._n_words[i]), n_shingles=int(self._n_shingles[i]),
            cleaned_length=int(self._cleaned_length[i]),
            removed=self._removed.rows(int(self._first[g]), int(self._first[g + 1])),
        )

    def __getitem__(self, key: str) -> DocumentInfo:
        return self._info(self._position(key))

    def __contains__(self, key: object) -> bool:
        try:
            self._position(key)
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def items(self) -> ItemsView[str, DocumentInfo]:
        return _TableItems(self)

    def values(self) -> ValuesView[DocumentInfo]:
        return _TableValues(self)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _TableItems(ItemsView[str, DocumentInfo]):
    """:meth:`DocumentTable.items`, iterated by position (no search per key)."""

    _mapping: DocumentTable

    def __iter__(self) -> Iterator[tuple[str, DocumentInfo]]:
        table = self._mapping
        for i, key in enumerate(table._ids):
            yield key, table._info(i)


class _TableValues(ValuesView[DocumentInfo]):
    """:meth:`DocumentTable.values`, iterated by position (no search per key)."""

    _mapping: DocumentTable

    def __iter__(self) -> Iterator[DocumentInfo]:
        table = self._mapping
        for i in range(len(table._ids)):
            yield table._info(i)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """Counts from one run.

    Attributes:
        documents: input documents (skipped inputs not counted).
        too_short: documents with too few words to compare.
        exact_duplicates: pairs linked as ``exact`` (same text after stripping;
            pairs the template guard refused are not counted).
        candidates: candidate pairs verified (from LSH, passages, rewrites;
            with the rewrite signal, not the pairs left out beforehand because
            their verdict could only be "distinct": key terms or weighted
            vocabulary shared too little for a rewrite, shingles too little
            for a copy).
        verified: verdicts reached (linked or not).
        linked: linked pairs other than exact duplicates.
        seconds: wall time of the run.
    """

    documents: int
    too_short: int
    exact_duplicates: int
    candidates: int
    verified: int
    linked: int
    seconds: float


@dataclass(frozen=True, kw_only=True)
class Clusters:
    """Clusters of one input: every input document in exactly one cluster.

    Attributes:
        clusters: largest first (ties by smallest member id); singletons included.
        pairs: every verified linked pair (relation other than ``distinct``),
            sorted by (a, b).
        skipped: inputs skipped under ``errors="skip"``, and files a directory or
            glob holds that are not articles (unsupported, a named pipe), whatever
            ``errors`` says (never silently lost).
        documents: per-document facts (title, words, what stripping removed).
        config: the configuration used.
        lsh: the LSH banding used (bands, rows, candidate-probability curve).
        stats: counts and timing.
        verdicts: every compared pair's :class:`~newsdedup.score.Verdict`
            (linked or not), keyed by (id_a, id_b) with id_a < id_b: a read-only
            mapping that keeps them packed, about 100 B a verdict
            (:class:`~newsdedup.verdicts.Verdicts`).
        refused: linked pairs the chain guard kept apart: (id_a, id_b, reason).
    """

    clusters: list[Cluster]
    pairs: list[Match]
    skipped: list[Skipped]
    documents: Mapping[str, DocumentInfo]
    config: Config
    lsh: LSHParams
    stats: Stats
    articles: dict[str, Article] = field(default_factory=dict, repr=False)
    verdicts: Mapping[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    refused: list[tuple[str, str, str]] = field(default_factory=list, repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for c in self.clusters:
            for m in c.members:
                self._index[m] = c.id

    def __len__(self) -> int:
        return len(self.clusters)

    def __iter__(self) -> Iterator[Cluster]:
        return iter(self.clusters)

    def cluster_of(self, doc_id: str) -> Cluster:
        """The cluster that holds ``doc_id``.

        Raises:
            KeyError: no input document has that id.
        """
        try:
            return self.clusters[self._index[doc_id]]
        except KeyError:
            raise KeyError(f"no document with id {doc_id!r} in this result") from None

    @property
    def duplicates(self) -> list[Cluster]:
        """Clusters with more than one member."""
        return [c for c in self.clusters if len(c.members) > 1]

    def _best_match(self) -> dict[str, Match]:
        """For each non-representative member: its strongest edge into its cluster,
        preferring the edge to the representative."""
        best: dict[str, tuple[tuple[int, float], Match]] = {}
        reps = {c.id: c.representative for c in self.clusters}
        for m in self.pairs:
            for doc, other in ((m.a, m.b), (m.b, m.a)):
                rep = reps[self._index[doc]]
                if doc == rep:
                    continue
                key = (1 if other == rep else 0, m.score)
                if doc not in best or key > best[doc][0]:
                    best[doc] = (key, m)
        return {d: m for d, (_, m) in best.items()}

    def to_records(self) -> list[dict[str, Any]]:
        """One record per input document, in cluster order.

        Fields: ``id``, ``cluster_id``, ``cluster_size``, ``representative``,
        ``is_representative``, ``duplicate_of`` (the representative, or None),
        ``relation`` and ``score`` of the document's strongest verified link in
        its cluster (None for representatives and singletons).
        """
        best = self._best_match()
        out = []
        for c in self.clusters:
            for m in c.members:
                match = best.get(m)
                is_rep = m == c.representative
                out.append(
                    {
                        "id": m,
                        "cluster_id": c.id,
                        "cluster_size": len(c.members),
                        "representative": c.representative,
                        "is_representative": is_rep,
                        "duplicate_of": None if is_rep else c.representative,
                        "relation": match.relation if match else None,
                        "score": round(match.score, 6) if match else None,
                    }
                )
        return out

    def to_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_records` as JSON lines to ``path``."""
        # A lone surrogate (possible in an id or title read from JSON) is written
        # as its JSON escape ("\\ud83d"), which reads back as it was.
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
            for rec in self.to_records():
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def to_pandas(self) -> Any:
        """:meth:`to_records` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            from .errors import MissingDependencyError

            raise MissingDependencyError("pandas", "pandas", "Clusters.to_pandas()") from None
        return pd.DataFrame.from_records(
            self.to_records(),
            columns=["id", "cluster_id", "cluster_size", "representative", "is_representative",
                     "duplicate_of", "relation", "score"],
        )

    def explain(self, id_a: str, id_b: str) -> Any:
        """Why two documents of this result are (or are not) linked.

        Returns a :class:`newsdedup.explain.Explanation`: relation, score, the
        deciding signals, shared passages as spans in both original texts,
        coverage of each side, what stripping removed, and why not. Uses this
        run's verdict when the pair was compared; otherwise judges it now (and
        says that it was not a candidate pair).

        Raises:
            KeyError: an id is not in this result.
            NewsDedupError: the result kept no texts to explain from (inputs of
                more than :data:`~newsdedup.chunks.KEEP_ARTICLES_MAX` documents).
        """
        from .chunks import KEEP_ARTICLES_MAX
        from .explain import explain_pair

        for d in (id_a, id_b):
            if d not in self.documents:
                raise KeyError(f"no document with id {d!r} in this result")
        for d in (id_a, id_b):
            if d not in self.articles:
                raise NewsDedupError(
                    f"no explanation of {id_a!r} ~ {id_b!r}: this result did not keep the "
                    f"articles' texts (a run of more than {KEEP_ARTICLES_MAX:,} documents "
                    "keeps none); "
                    "newsdedup.compare() explains two articles given again, and "
                    "Clusters.verdicts holds this run's verdict of every compared pair"
                )
        key = (min(id_a, id_b), max(id_a, id_b))
        verdict = self.verdicts.get(key)
        notes = []
        same = self.cluster_of(id_a).id == self.cluster_of(id_b).id
        notes.append(f"in the same cluster ({self.cluster_of(id_a).id})" if same else
                     f"in different clusters ({self.cluster_of(id_a).id} and "
                     f"{self.cluster_of(id_b).id})")
        if verdict is None and not any(m.a == key[0] and m.b == key[1] for m in self.pairs):
            notes.append("not a candidate pair in this run (judged now)")
        for a, b, why in self.refused:
            if (a, b) == key:
                notes.append(why)
        return explain_pair(self.articles[key[0]], self.articles[key[1]], self.config,
                            verdict, tuple(notes))

    def summary(self) -> str:
        n = self.stats.documents
        dup = self.duplicates
        in_dup = sum(len(c.members) for c in dup)
        return (
            f"{n} documents in {len(self.clusters)} clusters: {len(dup)} with duplicates "
            f"({in_dup} documents), {len(self.clusters) - len(dup)} singletons; "
            f"{len(self.pairs)} linked pairs; {len(self.skipped)} skipped inputs"
        )

    def __repr__(self) -> str:
        lines = [f"<Clusters: {self.summary()}>"]
        for c in self.duplicates[:10]:
            lines.append(f"  cluster {c.id} ({len(c.members)}): rep {c.representative}")
            for m in c.members[:8]:
                if m != c.representative:
                    lines.append(f"    {m}")
            if len(c.members) > 9:
                lines.append(f"    ... {len(c.members) - 9} more")
        if len(self.duplicates) > 10:
            lines.append(f"  ... {len(self.duplicates) - 10} more clusters with duplicates")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self, max_rows: int = 50) -> str:
        esc = html.escape
        rows = []
        best = self._best_match()
        shown = self.duplicates[:max_rows] or self.clusters[:max_rows]
        for c in shown:
            members = "<br>".join(
                (f"<b>{esc(m)}</b>" if m == c.representative else esc(m))
                + (
                    f" <small>({esc(best[m].relation)} {best[m].score:.2f})</small>"
                    if m in best
                    else ""
                )
                for m in c.members
            )
            title = self.documents[c.representative].title or ""
            rows.append(
                f"<tr><td>{c.id}</td><td>{len(c.members)}</td><td>{esc(title)}</td>"
                f"<td>{members}</td></tr>"
            )
        more = ""
        if self.duplicates and len(self.duplicates) > max_rows:
            more = f"<p>... {len(self.duplicates) - max_rows} more clusters with duplicates</p>"
        elif not self.duplicates and len(self.clusters) > max_rows:
            more = f"<p>... {len(self.clusters) - max_rows} more singletons</p>"
        return (
            f"<div><p>{esc(self.summary())}</p><table><thead><tr><th>cluster</th><th>size</th>"
            f"<th>representative title</th><th>members (representative in bold)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{more}</div>"
        )


