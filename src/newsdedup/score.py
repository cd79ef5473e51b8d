"""Verification: every candidate pair is checked on its exact shingle sets.

Only a pair verified here may become a cluster edge. Similarities:

* ``jaccard``: |A & B| / |A | B| on the exact 32-bit shingle-hash sets;
* ``containment``: max(|A & B| / |A|, |A & B| / |B|), the share of the smaller
  document found in the larger one.

Relations (copy tier): ``near_duplicate`` when jaccard >= threshold (score =
jaccard); otherwise ``containment`` when the smaller article has at least
``min_containment_words`` words and containment >= containment_threshold
(score = containment); otherwise ``distinct``. ``exact`` pairs (identical
cleaned text) are found before LSH and have score 1.0.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import xxhash

from . import _native
from ._arrays import unique_sorted
from ._pickle import fast_pickle
from .chunks import Permuted, worker_count
from .cluster import UnionFind, components
from .config import Config
from .entities import (
    Conflict,
    Facts,
    chunk_set,
    copy_conflict_impossible,
    fact_conflict,
    facts,
    lead_agreement,
    lead_keys,
    load_tables,
    wire_origin,
)
from .forked import fork_available, fork_map
from .index import candidate_pairs, choose_params
from .normalize import normalize
from .rewrite import (
    KEY_MIN_CAP,
    MAX_WEIGHT,
    RewriteDoc,
    RewriteScore,
    capped,
    caps_from_df,
    content_term_arrays,
    content_terms,
    figure_share,
    key_hash,
    rewrite_doc,
    rewrite_score,
    stem,
    weighted_jaccard,
)
from .shingle import ShingleBatch, Shingler, tokenize
from .sign import SignatureSpec, Signer
from .types import Match, Relation
from .verdicts import PACK_SIZE, Packer, Verdicts


@dataclass(frozen=True, slots=True)
class Overlap:
    """Exact set overlap of two shingle sets."""

    size_a: int
    size_b: int
    inter: int

    @property
    def jaccard(self) -> float:
        union = self.size_a + self.size_b - self.inter
        return self.inter / union if union else 0.0

    @property
    def containment_a(self) -> float:
        """Share of A found in B."""
        return self.inter / self.size_a if self.size_a else 0.0

    @property
    def containment_b(self) -> float:
        """Share of B found in A."""
        return self.inter / self.size_b if self.size_b else 0.0

    @property
    def containment(self) -> float:
        return max(self.containment_a, self.containment_b)


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Overlap of two sorted unique uint32 arrays (counted by a compiled merge
    when numba is there: ``np.intersect1d`` sorts both arrays again)."""
    if len(a) == 0 or len(b) == 0:
        return Overlap(len(a), len(b), 0)
    if _native.available() and a.dtype == b.dtype:
        inter = int(_native.kernels()["intersection_size"](a, b))
    else:
        inter = int(np.intersect1d(a, b, assume_unique=True).size)
    return Overlap(len(a), len(b), inter)


def copy_relation(
    ov: Overlap, words_a: int, words_b: int, config: Config
) -> tuple[Relation, float, str]:
    """The copy-tier verdict for one pair: (relation, score, reason)."""
    j = ov.jaccard
    if j >= config.threshold:
        return "near_duplicate", j, f"jaccard {j:.2f} >= {config.threshold}"
    # Directional containment: the smaller document (in shingles) inside the larger.
    small_words = words_a if ov.size_a <= ov.size_b else words_b
    c = ov.containment_a if ov.size_a <= ov.size_b else ov.containment_b
    if c >= config.containment_threshold:
        if small_words >= config.min_containment_words:
            return "containment", c, f"containment {c:.2f} >= {config.containment_threshold}"
        return (
            "distinct",
            0.0,
            f"containment {c:.2f} but the smaller article has {small_words} words "
            f"(< min_containment_words={config.min_containment_words})",
        )
    return (
        "distinct",
        0.0,
        f"jaccard {j:.2f} below {config.threshold} and containment {c:.2f} below "
        f"{config.containment_threshold}",
    )


def verify_pair(
    id_a: str, id_b: str, sh_a: np.ndarray, sh_b: np.ndarray, words_a: int, words_b: int,
    config: Config,
) -> tuple[Match, str]:
    """Verify one candidate pair; return the Match (possibly ``distinct``) and the reason."""
    ov = overlap(sh_a, sh_b)
    relation, score, reason = copy_relation(ov, words_a, words_b, config)
    a, b = (id_a, id_b) if id_a <= id_b else (id_b, id_a)
    return (
        Match(
            a=a, b=b, relation=relation, score=float(score), jaccard=float(ov.jaccard),
            containment=float(ov.containment),
        ),
        reason,
    )


def jaccard_reference(a: set[int], b: set[int]) -> float:
    """Exact Jaccard of two Python sets (reference); 0.0 when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


# ---------------------------------------------------------------------------
# Relations with the rewrite signal and the template guard.


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """A judged pair: the Match, why, and the signals that decided it.

    Attributes:
        match: the pair's relation and score (``distinct`` when not linked).
        reason: one sentence saying why (or why not).
        signals: every number the decision looked at, by name.
        conflict: for a look-alike rejected by the template guard, what differed.
        rewrite: the rewrite evidence, when the rewrite scorer ran.
    """

    match: Match
    reason: str
    signals: dict[str, float]
    conflict: Conflict | None = None
    rewrite: RewriteScore | None = None


#: The rewrite path reads content terms in forked workers from this many documents on.
PARALLEL_TERMS_MIN = 10_000
#: A rewrite link at or above this score is strong (not subject to the chain guard).
STRONG_REWRITE = 0.6
#: Rewrite candidates below these exact overlaps are rejected without sentence
#: alignment (a rewrite keeps far more: the two seeds have 0.31 and 0.21).
PREFILTER_KEY_JACCARD = 0.15
PREFILTER_WEIGHTED_JACCARD = 0.15
#: A rewrite's headline-and-first-sentence names and rare words must be found in
#: the other article at least this much, both ways (a follow-up story has a new lead).
LEAD_MIN = 0.5
#: Texts whose content weight is more than this share figures (tables, price
#: lists) are not compared as rewrites: a table is re-issued, not paraphrased.
MAX_FIGURE_SHARE = 0.4
#: A contained text with more than this share of capitalised words is a list of
#: names (a newspaper network's "The Charter ; The Compass ; ..." footer), not
#: an excerpt of an article: two sites printing one list are not copies.
MAX_NAME_LIST_SHARE = 0.75
#: Pairs whose headlines differ are compared on their bodies alone when their
#: whole texts reach this Jaccard or containment.
BODY_MIN_JACCARD = 0.25
#: ... and when the headlines share this much of the shorter one's words (two
#: sites' headlines of one story; "STATE STREET ... SETS QUARTERLY" and
#: "THOMPSON MEDICAL ... SETS QUARTERLY" are two companies' notices).
BODY_HEADLINE_SHARE = 0.6
_ALPHA_RE = re.compile(r"[^\W\d_]+")


def name_share(text: str) -> float:
    """Share of capitalised words (``Gazette``; not all-caps ``COMEX``) among the words
    (counted in one compiled pass when numba is installed)."""
    if _native.available():
        words, caps = _native.name_counts([text])[0].tolist()
        return caps / words if words else 0.0
    return name_share_reference(text)


def name_share_reference(text: str) -> float:
    """:func:`name_share` with the regex (the path without numba)."""
    toks = _ALPHA_RE.findall(text)
    if not toks:
        return 0.0
    return sum(1 for t in toks if t[0].isupper() and not t.isupper()) / len(toks)


def _set_jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


class Judge:
    """Decides the relation of candidate pairs of one batch of documents.

    Builds each document's rewrite view (sentences, names, figures) lazily, once.

    Args:
        texts: the analysed (stripped) text of each document.
        titles: each document's headline (or None).
        originals: each document's original text (headline + body), for the
            template guard's facts (default: ``texts``).
        sources: each document's source (outlet), if known.
        published: each document's publication time (or None).
        shingles: each document's sorted unique shingle hashes.
        n_words: each document's word count.
        ids: each document's id.
        config: the configuration (thresholds).
        caps: corpus weight caps (see :func:`newsdedup.rewrite.corpus_caps`).
        credits: each document's wire credits removed by stripping (for
            :func:`~newsdedup.entities.wire_origin` when ``originals`` are not given).
    """

    def __init__(
        self, *, ids: Sequence[str], texts: Sequence[str], titles: Sequence[str | None],
        published: Sequence[datetime | None], shingles: Sequence[np.ndarray],
        n_words: Sequence[int], config: Config, caps: Mapping[str, float] | None = None,
        originals: Sequence[str] | None = None, sources: Sequence[str | None] | None = None,
        credits: Sequence[Sequence[str]] | None = None,
    ):
        self.ids, self.texts, self.titles, self.published = ids, texts, titles, published
        self.sources, self.credits = sources, credits
        self._origins: dict[int, str | None] = {}
        self.originals = originals if originals is not None else texts
        self._facts: dict[int, Facts] = {}
        self._chunk_sets: dict[int, frozenset[str]] = {}
        self._leads: dict[int, frozenset[str]] = {}
        self._name_shares: dict[int, float] = {}
        #: per document: the sum of its term weights, its figures' share of it
        self._term_sums: dict[int, tuple[float, float]] = {}
        self.shingles, self.n_words, self.config, self.caps = shingles, n_words, config, caps
        self._rw: dict[int, RewriteDoc] = {}
        self._terms: dict[int, tuple[dict[str, float], frozenset[str]]] = {}
        self._term_rows: dict[int, _TermRow | None] = {}
        #: content terms computed beforehand (by :func:`link`), or None, and
        #: ``caps`` as an array over its vocabulary
        self.term_table: TermTable | None = None
        self.term_caps: np.ndarray | None = None
        self._cache: dict[tuple[int, int], Verdict] = {}
        self._bodies: dict[int, tuple[np.ndarray, int] | None] = {}
        self._shingler: Shingler | None = None
        #: the agency whose archive this input is (see :func:`archive_agency`), or None
        self.archive_agency: str | None = None

    def rewrite_doc(self, i: int) -> RewriteDoc:
        doc = self._rw.get(i)
        if doc is None:
            doc = rewrite_doc(self.texts[i], self.titles[i], caps=self.caps,
                              terms=self.terms(i), facts_=self.facts(i))
            self._rw[i] = doc
        return doc

    def terms(self, i: int) -> tuple[dict[str, float], frozenset[str]]:
        """Content terms (capped weights) and key terms of document ``i``."""
        t = self._terms.get(i)
        if t is None:
            got = None
            if self.term_table is not None:
                got = self.term_table.capped(i, self.term_caps)
            t = got if got is not None else capped(*content_terms(self.texts[i]), self.caps)
            self._terms[i] = t
        return t

    def term_sums(self, i: int) -> tuple[float, float]:
        """``math.fsum`` of document ``i``'s term weights, and
        :func:`~newsdedup.rewrite.figure_share` of its terms."""
        got = self._term_sums.get(i)
        if got is None:
            terms = self.terms(i)[0]
            got = self._term_sums[i] = (math.fsum(terms.values()), figure_share(terms))
        return got

    def term_row(self, i: int) -> _TermRow | None:
        """Document ``i``'s capped terms as arrays (:meth:`TermTable.capped_row`),
        when the terms were computed beforehand (:attr:`term_table`), else None."""
        if self.term_table is None:
            return None
        if i not in self._term_rows:
            self._term_rows[i] = self.term_table.capped_row(i, self.term_caps)
        return self._term_rows[i]

    def facts(self, i: int) -> Facts:
        """Key facts of document ``i``: from its cleaned text and its headline.

        Not from the unstripped text: two sites' navigation, ads and footers
        name different things and would make every cross-site copy look like a
        template look-alike (L3S-GN1: 5 of 13 copy pairs were refused so). The
        headline is passed separately, so a notice whose only varying line is
        its headline is still told apart."""
        f = self._facts.get(i)
        if f is None:
            f = facts(self.texts[i], self.titles[i], self.chunks(i))
            self._facts[i] = f
        return f

    def chunks(self, i: int) -> frozenset[str]:
        """The distinct whitespace-separated chunks of document ``i``'s text."""
        c = self._chunk_sets.get(i)
        if c is None:
            c = self._chunk_sets[i] = chunk_set(self.texts[i])
        return c

    def forget(self, i: int) -> None:
        """Drop what was derived from document ``i`` (recomputed if asked again)."""
        for cache in (self._facts, self._rw, self._terms, self._leads, self._bodies,
                      self._name_shares, self._origins, self._chunk_sets, self._term_sums,
                      self._term_rows):
            cache.pop(i, None)

    def lead_keys(self, i: int) -> frozenset[str]:
        """Names and rare words of document ``i``'s headline and first sentence
        (:func:`~newsdedup.entities.lead_keys`; only rewrites need them)."""
        k = self._leads.get(i)
        if k is None:
            k = self._leads[i] = lead_keys(self.texts[i], self.titles[i])
        return k

    def body(self, i: int) -> tuple[np.ndarray, int] | None:
        """Shingles and word count of document ``i`` without its headline line
        (None when its cleaned text does not start with its headline)."""
        if i in self._bodies:
            return self._bodies[i]
        out = None
        title = self.titles[i]
        if title:
            first, _, rest = self.texts[i].partition("\n")
            if normalize(first) == normalize(title):
                if self._shingler is None:
                    self._shingler = Shingler(self.config.shingle_size)
                toks = tokenize(normalize(rest))
                enough = len(toks) >= max(self.config.min_words, self.config.shingle_size)
                out = (self._shingler.shingles(toks) if enough else np.zeros(0, np.uint32),
                       len(toks))
        self._bodies[i] = out
        return out

    def _body_relation(
        self, i: int, j: int, ov: Overlap
    ) -> tuple[Relation, float, str, Overlap] | None:
        """The copy verdict on the bodies alone, for a pair whose headlines differ
        and whose whole texts fall short: one wire story under two sites'
        headlines (a short notice's headline weighs on its Jaccard)."""
        if ov.jaccard < BODY_MIN_JACCARD and ov.containment < BODY_MIN_JACCARD:
            return None  # (first: most pairs that get here, the rewrite family's, stop here)
        ti, tj = self.titles[i], self.titles[j]
        if not ti or not tj:
            return None
        ni, nj = normalize(ti), normalize(tj)
        if ni == nj:
            return None
        wi, wj = set(tokenize(ni)), set(tokenize(nj))
        if not wi or not wj or len(wi & wj) < BODY_HEADLINE_SHARE * min(len(wi), len(wj)):
            return None  # different headlines: a template's instances, not one story
        bi, bj = self.body(i), self.body(j)
        if bi is None or bj is None or not bi[0].size or not bj[0].size:
            return None
        ovb = overlap(bi[0], bj[0])
        relation, score, reason = copy_relation(ovb, bi[1], bj[1], self.config)
        if relation == "distinct":
            return None
        return relation, score, f"headlines differ; bodies: {reason}", ovb

    def _copy_half(
        self, i: int, j: int
    ) -> tuple[Overlap, Relation, float, str, Overlap | None]:
        """The copy half of :meth:`_judge`: the texts' overlap and the copy
        relation (with its score and reason) of the texts or, when the texts
        fall short, of their bodies under two headlines (then their overlap)."""
        ov = overlap(self.shingles[i], self.shingles[j])
        relation, score, reason = copy_relation(ov, self.n_words[i], self.n_words[j],
                                                self.config)
        if relation == "distinct":
            by_body = self._body_relation(i, j, ov)
            if by_body is not None:
                relation, score, reason, body = by_body
                return ov, relation, score, reason, body
        return ov, relation, score, reason, None

    def copy_distinct(self, i: int, j: int) -> bool:
        """Whether the copy half of :meth:`_judge` finds nothing: only a rewrite
        could then link the pair, and without rewrite-eligible shared
        vocabulary it is distinct."""
        return self._copy_half(i, j)[1] == "distinct"

    def judge(self, i: int, j: int) -> Verdict:
        """The verdict for documents ``i`` and ``j`` (cached; symmetric)."""
        key = (i, j) if i <= j else (j, i)
        v = self._cache.get(key)
        if v is None:
            v = self._judge(*key)
            self._cache[key] = v
        return v

    def _judge(self, i: int, j: int) -> Verdict:
        cfg = self.config
        a, b = (self.ids[i], self.ids[j])
        if a > b:
            a, b = b, a
        ov, relation, score, reason, body = self._copy_half(i, j)
        signals: dict[str, float] = {
            "jaccard": ov.jaccard, "containment_a": ov.containment_a,
            "containment_b": ov.containment_b,
        }
        if body is not None:
            ov = body
            signals.update(body_jaccard=ov.jaccard, body_containment=ov.containment)
        if relation == "containment":
            small = i if ov.size_a <= ov.size_b else j
            share = self._name_shares.get(small)
            if share is None:
                share = self._name_shares[small] = name_share(self.texts[small])
            if share > MAX_NAME_LIST_SHARE:
                signals["name_share"] = share
                return Verdict(
                    match=_match(a, b, "distinct", 0.0, ov),
                    reason=f"{reason}, but the contained text is a list of names ({share:.0%} "
                    f"capitalised words, above {MAX_NAME_LIST_SHARE:.0%}), not an excerpt",
                    signals=signals,
                )
        if relation != "distinct":
            conflict = self._conflict(i, j, "copy")
            if conflict is not None:
                return Verdict(
                    match=_match(a, b, "distinct", 0.0, ov),
                    reason=f"template look-alike: {conflict.detail} ({reason})",
                    signals=signals, conflict=conflict,
                )
        elif (cfg.rewrite and min(self.n_words[i], self.n_words[j]) >= cfg.min_rewrite_words
              and max(self.n_words[i], self.n_words[j]) > cfg.max_rewrite_words):
            return Verdict(
                match=_match(a, b, "distinct", 0.0, ov),
                reason=f"{reason}; an article of more than {cfg.max_rewrite_words:,} words "
                f"(max_rewrite_words) is compared as a copy only, not as a rewrite",
                signals=signals,
            )
        elif cfg.rewrite and min(self.n_words[i], self.n_words[j]) >= cfg.min_rewrite_words:
            need = cfg.rewrite_threshold
            if self._same_source(i, j):
                need = max(need, cfg.same_source_rewrite_threshold)
            ra, rb = self.term_row(i), self.term_row(j)
            if ra is not None and rb is not None:  # the same values, from arrays
                kj = ra.key_jaccard(rb)
                (sum_a, fig_a), (sum_b, fig_b) = ra.sums, rb.sums
                wj = ra.weighted_jaccard(rb) if kj >= PREFILTER_KEY_JACCARD else 0.0
            else:
                ta, tb = self.terms(i), self.terms(j)
                kj = _set_jaccard(ta[1], tb[1])
                (sum_a, fig_a), (sum_b, fig_b) = self.term_sums(i), self.term_sums(j)
                wj = (weighted_jaccard(ta[0], tb[0], sum_a, sum_b)
                      if kj >= PREFILTER_KEY_JACCARD else 0.0)
            signals.update(key_jaccard=kj, weighted_jaccard=wj)
            if kj < PREFILTER_KEY_JACCARD or wj < PREFILTER_WEIGHTED_JACCARD:
                return Verdict(
                    match=_match(a, b, "distinct", 0.0, ov),
                    reason=f"{reason}; too little shared vocabulary for a rewrite (key-term "
                    f"jaccard {kj:.2f}, weighted jaccard {wj:.2f}; need "
                    f"{PREFILTER_KEY_JACCARD} and {PREFILTER_WEIGHTED_JACCARD})",
                    signals=signals,
                )
            fig = max(fig_a, fig_b)
            if fig > MAX_FIGURE_SHARE:
                return Verdict(
                    match=_match(a, b, "distinct", 0.0, ov),
                    reason=f"{reason}; figures make up {fig:.0%} of the content (a table or "
                    f"price list, above {MAX_FIGURE_SHARE:.0%}): not compared as a rewrite",
                    signals=signals,
                )
            rs = rewrite_score(self.rewrite_doc(i), self.rewrite_doc(j), wj)
            signals.update(
                rewrite_score=rs.score, coverage_a=rs.coverage_a, coverage_b=rs.coverage_b,
                weighted_jaccard=rs.weighted_jaccard, key_jaccard=rs.key_jaccard,
                entity_jaccard=rs.entity_jaccard, order=rs.order,
            )
            lead = 1.0
            if rs.score >= need:
                lead = lead_agreement(self.lead_keys(i), self.lead_keys(j),
                                      self.facts(i).words, self.facts(j).words,
                                      self._lead_filter())
                signals["lead_agreement"] = lead
            if rs.score >= need and lead < LEAD_MIN:
                return Verdict(
                    match=_match(a, b, "distinct", 0.0, ov),
                    reason=f"rewrite score {rs.score:.2f} >= {need} but the "
                    f"leads are about different things (lead agreement {lead:.2f} below "
                    f"{LEAD_MIN}): a related story, not a rewrite",
                    signals=signals, rewrite=rs,
                )
            if rs.score >= need:
                conflict = self._conflict(i, j, "rewrite")
                if conflict is not None:
                    return Verdict(
                        match=_match(a, b, "distinct", 0.0, ov),
                        reason=f"rewrite score {rs.score:.2f} >= {need} but "
                        f"{conflict.detail}",
                        signals=signals, conflict=conflict, rewrite=rs,
                    )
                return Verdict(
                    match=_match(a, b, "rewrite", rs.score, ov),
                    reason=f"rewrite score {rs.score:.2f} >= {need} "
                    f"({len(rs.aligned)} aligned sentences, {len(rs.shared_entities)} shared "
                    f"names, {len(rs.shared_figures)} shared figures)",
                    signals=signals, rewrite=rs,
                )
            reason = f"{reason}; rewrite score {rs.score:.2f} below {need}" + (
                "" if need <= cfg.rewrite_threshold else " (same source)"
                if self.archive_agency is None else
                f" (same source; an input mostly of {self.archive_agency} stories, where a "
                "story without a mark or source counts as theirs)")
            return Verdict(match=_match(a, b, "distinct", 0.0, ov), reason=reason,
                           signals=signals, rewrite=rs)
        return Verdict(match=_match(a, b, relation, score, ov), reason=reason, signals=signals)

    def _lead_filter(self) -> Callable[[str], bool] | None:
        """In a large corpus, lead words common in the corpus (corpus cap below
        :data:`~newsdedup.rewrite.KEY_MIN_CAP`: a wire's "Ltd", "Securities",
        "eurobond") say nothing about which story it is."""
        caps = self.caps
        if caps is None:
            return None
        return lambda k: caps.get(stem(k), MAX_WEIGHT) >= KEY_MIN_CAP

    def origin(self, i: int) -> str | None:
        """The news agency whose credit or sign-off document ``i`` carries
        (:func:`~newsdedup.entities.wire_origin`), or None."""
        if i not in self._origins:
            credits = self.credits[i] if self.credits is not None else ()
            self._origins[i] = wire_origin(self.originals[i], credits)
        return self._origins[i]

    def _same_source(self, i: int, j: int) -> bool:
        """Same outlet: the same known ``source``, or the same agency's credit
        or sign-off on both (two stories of one newsroom on an event are a story
        and its follow-up, not a rewrite by another outlet). In an agency's
        archive (:attr:`archive_agency`, set only for inputs without sources) a
        story without a mark is taken as the agency's."""
        if self.sources is not None:
            a, b = self.sources[i], self.sources[j]
            if a and b and str(a).casefold() == str(b).casefold():
                return True
        oa = self.origin(i) or self.archive_agency
        return oa is not None and oa == (self.origin(j) or self.archive_agency)

    def _conflict(self, i: int, j: int, kind: str) -> Conflict | None:
        if kind == "copy" and copy_conflict_impossible(
            self.texts[i], self.titles[i], self.chunks(i),
            self.texts[j], self.titles[j], self.chunks(j),
            published_a=self.published[i], published_b=self.published[j],
            max_hours_apart=self.config.max_hours_apart,
        ):
            return None  # decided without the facts (most copies of one story)
        return fact_conflict(
            self.facts(i), self.facts(j), published_a=self.published[i],
            published_b=self.published[j], max_hours_apart=self.config.max_hours_apart,
            kind=kind,
        )


def _match(a: str, b: str, relation: Relation, score: float, ov: Overlap) -> Match:
    return Match(a=a, b=b, relation=relation, score=float(score), jaccard=float(ov.jaccard),
                 containment=float(ov.containment))


# ---------------------------------------------------------------------------
# Containment candidates: sampled shingles (content-defined, so an excerpt and
# its source sample the same shingles wherever the excerpt starts).


def passage_candidates(
    shingle_arrays: Sequence[np.ndarray], *, sample: int = 8, max_df: int = 50,
    min_shared: int = 2, min_share: float = 0.5,
) -> np.ndarray:
    """Pairs of documents that share sampled shingles (a containment candidate path).

    A shingle is sampled when its hash is 0 modulo ``sample`` (so both copies of a
    shared passage sample the same shingles). Pairs sharing at least
    ``min_shared`` sampled shingles (or all of the smaller side's, if it has fewer)
    and at least ``min_share`` of the smaller side's samples are candidates
    (a pair meant to be a containment shares most of them). Shingles in more
    than ``max_df`` documents (templates) are
    ignored. Returns an (m, 2) int64 array of index pairs (i < j), sorted.
    """
    n = len(shingle_arrays)
    compiled = _native.available()
    if compiled:
        grouped = _sample_groups_compiled(shingle_arrays, sample, max_df)
    else:
        grouped = _sample_groups(shingle_arrays, sample, max_df)
    if grouped is None:
        return np.zeros((0, 2), dtype=np.int64)
    dd, all_pos, all_end, n_samp, per_doc = grouped
    del grouped  # (the forked workers below need the documents and groups only)
    # The pairs are generated and counted for one range of first documents at a
    # time when there are more than _PAIR_BLOCK of them (a pair's codes, and so
    # its count, fall in one range), so memory holds about _PAIR_BLOCK codes.
    # Ranges of about equal numbers of codes; from PASSAGE_PARALLEL_MIN_CODES
    # codes, forked workers take ranges of _PAIR_BLOCK / (2 workers) codes each
    # (each worker also copies its range's positions: together they hold less
    # than one process did). Ranges are concatenated in order: the result does
    # not depend on the split. (The compiled count, _kernels.passage_pairs,
    # holds no codes: the ranges then only share the work out.)
    first_doc = None if compiled else dd[all_pos]  # (the compiled count does not read it)
    total = int(per_doc.sum())
    workers = worker_count() if total >= PASSAGE_PARALLEL_MIN_CODES else 1
    block = max(1, _PAIR_BLOCK // (2 * workers) if workers > 1 else _PAIR_BLOCK)
    ranges = min(n, max(1, -(-total // block), 2 * workers if workers > 1 else 1))
    if ranges > 1:
        cum = np.cumsum(per_doc)
        cuts = np.searchsorted(cum, total * np.arange(1, ranges) / ranges, side="right")
        doc_bounds = np.unique(np.r_[0, cuts, n]).astype(np.int64).tolist()
    else:
        doc_bounds = [0, n]
    del per_doc
    state = _PassageState(dd, all_pos, all_end, first_doc, n, n_samp, min_shared, min_share)
    found = fork_map(_passage_range, state,
                     list(zip(doc_bounds[:-1], doc_bounds[1:], strict=True)), workers)
    found = [f for f in found if len(f)]
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


class ShingleRows(Sequence[np.ndarray]):
    """Rows ``rows`` of a CSR array of shingle sets (``values``, ``offsets``) as
    a sequence of arrays: what :func:`passage_candidates` reads without a
    Python list of a million array views."""

    def __init__(self, values: np.ndarray, offsets: np.ndarray, rows: np.ndarray):
        self.values, self.offsets, self.rows = values, offsets, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        r = int(self.rows[k])
        return self.values[self.offsets[r] : self.offsets[r + 1]]


def _lead_shingles(shingles: Sequence[np.ndarray], leaders: np.ndarray) -> Sequence[np.ndarray]:
    """The shingle sets of ``leaders``: rows of the batch's CSR array when
    ``shingles`` is one (in id order), else a list."""
    if isinstance(shingles, Permuted) and isinstance(shingles.base, ShingleBatch):
        return ShingleRows(shingles.base.values, shingles.base.offsets,
                           shingles.order[leaders].astype(np.int64))
    return [shingles[i] for i in leaders]


_Groups = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _sample_groups(
    shingle_arrays: Sequence[np.ndarray], sample: int, max_df: int
) -> _Groups | None:
    """The sampled shingles of every document grouped by value (numpy): the
    document of each sample in (value, document) order, the positions in
    groups of 2..``max_df`` documents and the end of their group, the samples
    per document, and the pairs each document's positions start; None
    without samples."""
    mod = np.uint32(sample)
    n = len(shingle_arrays)
    hs_l, docs_l = [], []
    for lo in range(0, n, _SAMPLE_BLOCK):  # all documents' shingles at once, in blocks
        part = shingle_arrays[lo : lo + _SAMPLE_BLOCK]
        sizes = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
        if not sizes.sum():
            continue
        allh = np.concatenate(part)
        keep = allh % mod == 0
        hs_l.append(allh[keep])
        docs_l.append(np.repeat(np.arange(lo, lo + len(part), dtype=np.int64), sizes)[keep])
    hs = np.concatenate(hs_l) if hs_l else np.zeros(0, dtype=np.uint32)
    if not len(hs):
        return None
    dd = np.concatenate(docs_l)
    del hs_l, docs_l
    n_samp = np.bincount(dd, minlength=n)
    if n < 2**32:
        # sorted by (hash, document) as one 64-bit key: a sort of values, faster
        # than np.lexsort's two-key argsort and the gathers after it (built and
        # taken apart in place: one 8-byte array besides the results)
        key = hs.astype(np.uint64)
        del hs
        key <<= np.uint64(32)
        key |= dd.view(np.uint64)  # document numbers are >= 0
        del dd
        key.sort()
        hs = (key >> np.uint64(32)).astype(np.uint32)
        key &= np.uint64(0xFFFFFFFF)
        dd = key.view(np.int64)
        del key
    else:  # pragma: no cover - more documents than 32 bits count
        order = np.lexsort((dd, hs))
        hs, dd = hs[order], dd[order]
        del order
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])
    lens = np.diff(np.r_[starts, len(hs)])
    del hs
    # every pair of a group (2..max_df documents sharing a sample), by distance
    # inside the group: position p pairs with p + gap while p + gap < its group's end
    group_len = np.repeat(lens, lens)
    in_group = (group_len > 1) & (group_len <= max_df)
    del group_len
    all_pos = np.flatnonzero(in_group)
    all_end = np.repeat(starts + lens, lens)[in_group]
    del in_group, starts, lens
    # pairs made from each position, per first document
    per_doc = np.bincount(dd[all_pos], weights=all_end - all_pos - 1, minlength=n)
    return dd, all_pos, all_end, n_samp, per_doc.astype(np.int64)


def _sample_groups_compiled(
    shingle_arrays: Sequence[np.ndarray], sample: int, max_df: int
) -> _Groups | None:
    """:func:`_sample_groups` in compiled passes (the keys sorted by numpy), on
    the CSR arrays themselves when ``shingle_arrays`` is a :class:`ShingleRows`."""
    if isinstance(shingle_arrays, ShingleRows):
        values, offsets, rows = shingle_arrays.values, shingle_arrays.offsets, shingle_arrays.rows
    else:
        n = len(shingle_arrays)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, shingle_arrays), dtype=np.int64, count=n), out=offsets[1:])
        values = (np.concatenate(shingle_arrays).astype(np.uint32, copy=False) if n
                  else np.zeros(0, dtype=np.uint32))
        rows = np.arange(n, dtype=np.int64)
    if len(rows) >= 2**32:  # pragma: no cover - more documents than 32 bits count
        return _sample_groups(shingle_arrays, sample, max_df)
    kernels = _native.kernels()
    keys, n_samp = kernels["passage_samples"](values, offsets, rows.astype(np.int64), sample)
    if not len(keys):
        return None
    keys.sort()
    dd, all_pos, all_end, per_doc = kernels["passage_groups"](keys, max_df, len(rows))
    return dd, all_pos, all_end, n_samp, per_doc


class _PassageState(NamedTuple):
    """What :func:`_passage_range` reads (inherited by forked workers)."""

    dd: np.ndarray  # document of each sample, grouped by sample hash
    all_pos: np.ndarray  # positions in groups of 2..max_df documents
    all_end: np.ndarray  # the end of each such position's group
    first_doc: np.ndarray | None  # dd[all_pos]; None: counted by _kernels.passage_pairs
    n: int
    n_samp: np.ndarray  # samples per document
    min_shared: int
    min_share: float


def _passage_range(st: _PassageState, bounds: tuple[int, int]) -> np.ndarray:
    """The passage candidates whose first document is in ``bounds`` [lo, hi)."""
    lo, hi = bounds
    if st.first_doc is None:  # counted per first document, without sorting pair codes
        return _native.kernels()["passage_pairs"](  # type: ignore[no-any-return]
            st.dd, st.all_pos, st.all_end, st.n_samp, lo, hi, st.min_shared, st.min_share)
    whole = lo == 0 and hi == st.n
    sel = slice(None) if whole else (st.first_doc >= lo) & (st.first_doc < hi)
    pos, end = st.all_pos[sel], st.all_end[sel]
    dd, n = st.dd, st.n
    out = []
    gap = 1
    while len(pos):
        ok = pos + gap < end
        pos, end = pos[ok], end[ok]
        if len(pos):
            out.append(dd[pos] * n + dd[pos + gap])
        gap += 1
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return _count_shared(out, n, st.n_samp, st.min_shared, st.min_share)


def _count_shared(
    out: list[np.ndarray], n: int, n_samp: np.ndarray, min_shared: int, min_share: float
) -> np.ndarray:
    """Count each pair's shared samples (its occurrences among the pair codes of
    ``out``) and keep the pairs that reach the bar, sorted: the codes are sorted
    and counted in ranges of about _COUNT_BLOCK codes, so memory holds them once,
    not the several copies one sort of all of them would make."""
    total = sum(map(len, out))
    parts = max(1, -(-total // _COUNT_BLOCK))
    bounds = np.linspace(0, n * n, parts + 1).astype(np.int64)
    found = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        piece = np.concatenate(out if parts == 1 else [c[(c >= lo) & (c < hi)] for c in out])
        if not len(piece):
            continue
        piece.sort()
        first = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1]])
        counts = np.diff(np.r_[first, len(piece)])
        found.append(_enough_shared(piece[first], counts, n, n_samp, min_shared, min_share))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def _enough_shared(
    codes: np.ndarray, counts: np.ndarray, n: int, n_samp: np.ndarray, min_shared: int,
    min_share: float,
) -> np.ndarray:
    """The pairs (codes ``a * n + b``) whose shared-sample ``counts`` reach the bar."""
    a, b = codes // n, codes % n
    small = np.minimum(n_samp[a], n_samp[b])
    # A containment >= 0.8 shares about 80% of the smaller side's samples; half
    # of them is a safe floor that keeps pairs sharing a stock phrase or two out.
    need = np.minimum(np.maximum(min_shared, np.ceil(min_share * small)), small)
    keep = counts >= need
    return np.stack([a[keep], b[keep]], axis=1)


#: passage_candidates samples the shingles of this many documents at a time...
_SAMPLE_BLOCK = 8192
#: ... counts the shared samples of about this many pair codes at a time...
_COUNT_BLOCK = 4_000_000
#: ... and holds about this many pair codes (8 bytes each) at a time.
_PAIR_BLOCK = 64_000_000
#: From this many pair codes, passage_candidates counts in forked workers.
PASSAGE_PARALLEL_MIN_CODES = 2_000_000


def passage_candidates_reference(
    shingle_arrays: Sequence[np.ndarray], *, sample: int = 8, max_df: int = 50,
    min_shared: int = 2, min_share: float = 0.5,
) -> np.ndarray:
    """:func:`passage_candidates` with a loop per document and per group (the
    plain version the vectorised one is tested against)."""
    mod = np.uint32(sample)
    docs_l, hs_l = [], []
    for d, arr in enumerate(shingle_arrays):
        s = arr[arr % mod == 0]
        if len(s):
            hs_l.append(s)
            docs_l.append(np.full(len(s), d, dtype=np.int64))
    if not hs_l:
        return np.zeros((0, 2), dtype=np.int64)
    hs = np.concatenate(hs_l)
    dd = np.concatenate(docs_l)
    n_samp = np.bincount(dd, minlength=len(shingle_arrays))
    order = np.lexsort((dd, hs))
    hs, dd = hs[order], dd[order]
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]])
    lens = np.diff(np.r_[starts, len(hs)])
    out = []
    n = len(shingle_arrays)
    for gap in range(1, min(int(lens.max()), max_df)):
        idx = np.flatnonzero((lens > gap) & (lens <= max_df))
        if not len(idx):
            break
        # every pair at distance `gap` inside each group
        pos = np.concatenate([np.arange(s, s + ln - gap)
                              for s, ln in zip(starts[idx], lens[idx], strict=True)])
        out.append(dd[pos] * n + dd[pos + gap])
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    codes, counts = np.unique(np.concatenate(out), return_counts=True)
    return _enough_shared(codes, counts, n, n_samp, min_shared, min_share)


# ---------------------------------------------------------------------------
# Chain guard.


def _spread(members: list[int], k: int) -> list[int]:
    """``k`` of ``members`` spread evenly over them (all when ``k`` >= their number)."""
    m = len(members)
    if k >= m:
        return members
    return [members[(t * m) // k] for t in range(k)]


def cross_sample(gi: list[int], gj: list[int], max_pairs: int) -> list[tuple[int, int]]:
    """At most ``max_pairs`` pairs of a member of ``gi`` and one of ``gj``: all of
    them when there are no more, else members spread evenly over each group
    (about the square root of ``max_pairs`` of each, more of the larger when
    the other is small), so the sample stands for the whole groups.

    >>> len(cross_sample(list(range(25)), list(range(23)), 64))
    64
    >>> cross_sample([0, 1], [5, 6, 7], 64)[:3]
    [(0, 5), (0, 6), (0, 7)]
    """
    if len(gi) * len(gj) <= max_pairs:
        return [(x, y) for x in gi for y in gj]
    root = max(1, math.isqrt(max_pairs))
    if len(gi) <= len(gj):
        na = min(len(gi), root)
        nb = min(len(gj), max_pairs // na)
    else:
        nb = min(len(gj), root)
        na = min(len(gi), max_pairs // nb)
    return [(x, y) for x in _spread(gi, na) for y in _spread(gj, nb)]


def guarded_groups(
    n: int, edges: Sequence[tuple[int, int, float, bool]],
    score: Callable[[int, int], float] | None, *,
    link_threshold: float, max_pairs: int = 64,
    order: Callable[[int], Any] | None = None,
) -> tuple[list[list[int]], list[tuple[int, int, str]]]:
    """Union-find with a chain guard.

    ``edges`` are (i, j, score, strong). Strong edges (exact, near-duplicate and
    containment copies, and rewrites scoring at least :data:`STRONG_REWRITE`)
    are merged first. A weak edge then merges two groups only if the groups agree as
    a whole: the mean verdict score (``score(i, j)``, None: 0.0) over their
    cross pairs (all of them, or ``max_pairs`` spread over both groups,
    :func:`cross_sample`; judged on demand) is at least ``link_threshold``. So a chain A-B-C of weak
    links with A and C unrelated does not glue A to C; the edge that would have
    is reported as refused (i, j, reason).

    ``order`` gives each document a sort key that says where it stands in its
    group for the sample (by content, so that the sample, and so the decision,
    does not depend on the documents' ids or input order; default: the index).
    """
    uf = UnionFind(n)
    for i, j, _s, strong in edges:
        if strong:
            uf.union(i, j)
    keys: dict[int, Any] = {}

    def ranked(x: int) -> Any:
        k = keys.get(x)
        if k is None:
            k = keys[x] = order(x) if order is not None else x
        return k

    refused: list[tuple[int, int, str]] = []
    weak = sorted((e for e in edges if not e[3]),
                  key=lambda e: (-e[2], min(e[0], e[1]), max(e[0], e[1])))
    members: dict[int, list[int]] = {}
    for x in range(n):
        members.setdefault(uf.find(x), []).append(x)
    for i, j, _s, _strong in weak:
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            continue
        gi, gj = members[ri], members[rj]
        if len(gi) > 1 or len(gj) > 1:
            if order is not None:
                gi, gj = sorted(gi, key=ranked), sorted(gj, key=ranked)
            cross = cross_sample(gi, gj, max_pairs)
            mean = 0.0 if score is None else sum(score(x, y) for x, y in cross) / len(cross)
            if mean < link_threshold:
                refused.append(
                    (i, j, f"chain guard: mean score {mean:.2f} over {len(cross)} cross pairs "
                     f"of the two groups below {link_threshold}")
                )
                continue
        root = uf.union(i, j)
        other = rj if root == ri else ri
        members[root] = sorted(members[root] + members.pop(other))
    return uf.groups(), refused


# ---------------------------------------------------------------------------
# The candidate -> verify -> cluster stage of a batch run.


@dataclass(frozen=True, slots=True, kw_only=True)
class Linked:
    """What :func:`link` found.

    Attributes:
        groups: the clusters as lists of document indices.
        matches: every linked pair (relation other than ``distinct``), exact included.
        verdicts: every judged pair's verdict, keyed by (id_a, id_b) with id_a < id_b
            (packed: :class:`~newsdedup.verdicts.Verdicts`).
        candidates: candidate pairs from the three paths (copy LSH, passage
            samples, rewrite LSH), after removing repeats.
        refused: linked pairs the chain guard kept apart (id_a, id_b, reason).
    """

    groups: list[list[int]]
    matches: list[Match]
    verdicts: Verdicts
    candidates: int
    refused: list[tuple[str, str, str]]


#: link() judges its candidate pairs in forked worker processes from this many
#: pairs on (below, starting the workers and warming their caches costs about what
#: they save: BBC News, 1,524 pairs, 1.58 s of CPU in one process against 1.08 s
#: here plus 0.96 s in two workers).
PARALLEL_MIN_PAIRS = 5000
#: Blocks of candidate pairs per worker (see :func:`_pair_blocks`: connected
#: groups of documents, spread over the blocks by their loads).
BLOCKS_PER_WORKER = 1
#: A block's load: the documents whose views it builds, and this much per pair
#: it judges (fitted on the 100,000-article speed corpus with the rewrite
#: family: about 0.36 ms of views per document, 0.04 ms per pair).
PAIR_COST = 0.1


def _pair_blocks(n: int, exact: np.ndarray, pairs: np.ndarray, n_blocks: int) -> np.ndarray:
    """Per document, the block that judges the pairs it is the first of.

    A block's time goes mostly into the views (facts, rewrite view) of the
    documents its pairs need, each built once per block, and then into its
    pairs: the blocks are balanced by their :data:`PAIR_COST` load, with as few
    documents needed in two blocks as can be. The documents joined by pairs
    (``exact`` and ``pairs``: rows (i, j)) stay in one block, the groups going,
    the largest first, to the block with the least load so far. The groups
    with more than half a block's share of the pairs are cut instead, so that
    one large group does not leave a worker idle: their documents in
    breadth-first order (:func:`_bfs_order`: a document near the ones it is
    paired with), in runs of equal load (:func:`_balanced_runs`). The rewrite
    family's candidates of a 100,000-article corpus form one group of 70,911
    documents: cut so, 19 % of them are needed in both blocks (52 % when cut by
    document number), and the two blocks take 23.7 and 24.6 s (27.0 and 27.1)."""
    edges = np.concatenate([exact.reshape(-1, 2), pairs.reshape(-1, 2)])
    label = components(n, edges[:, 0], edges[:, 1])
    counts = np.bincount(label[edges[:, 0]], minlength=n)
    big = counts > len(edges) / (2 * n_blocks)
    in_pairs = np.zeros(n, dtype=bool)
    in_pairs[edges.ravel()] = True
    docs = np.bincount(label[in_pairs], minlength=n)  # per group: its documents
    block = np.zeros(n, dtype=np.int64)
    load = [0.0] * n_blocks
    split = big[label]
    if split.any():
        inside = edges[split[edges[:, 0]]]
        order = _bfs_order(n, inside)
        block[order] = _balanced_runs(n, order, inside, n_blocks)
        load = _block_loads(n, inside, block, n_blocks)
        # In a densely connected group most documents are needed in most runs,
        # and the cuts (which count the documents after them once) can leave
        # the last runs heavier than cutting by document number would: the
        # lighter of the two, by its heaviest block.
        by_number = np.arange(n, dtype=np.int64) % n_blocks
        other = _block_loads(n, inside, by_number, n_blocks)
        if max(other) < max(load):
            block[order] = by_number[order]
            load = other
    groups = np.flatnonzero((counts > 0) & ~big)
    cost = docs + PAIR_COST * counts
    groups = groups[np.lexsort((groups, -cost[groups]))]
    for g, c in zip(groups.tolist(), cost[groups].tolist(), strict=True):
        k = load.index(min(load))
        load[k] += c
        block[g] = k
    return np.where(split, block, block[label])


def _block_loads(n: int, edges: np.ndarray, block: np.ndarray, n_blocks: int) -> list[float]:
    """Each block's load (:data:`PAIR_COST`) when the pairs ``edges`` (rows (i, j))
    are judged in ``block[i]``."""
    b = block[edges[:, 0]]
    needed = unique_sorted(np.concatenate([b * n + edges[:, 0], b * n + edges[:, 1]]))
    load = np.bincount(needed // n, minlength=n_blocks) + PAIR_COST * np.bincount(
        b, minlength=n_blocks)
    return [float(x) for x in load]


def _balanced_runs(n: int, order: np.ndarray, edges: np.ndarray, n_blocks: int) -> np.ndarray:
    """Cut ``order`` (documents) into ``n_blocks`` consecutive runs: the block
    of each (loads: :data:`PAIR_COST`). A pair (i, j) of
    ``edges`` is judged in ``i``'s block, which needs ``i`` and ``j``. Each cut
    is placed where its run's load is closest to each remaining run's (the load
    after the cut, shared out evenly)."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[order] = np.arange(len(order), dtype=np.int64)
    # (document, position it is needed at): both documents of a pair, at its first's
    doc = np.concatenate([edges[:, 0], edges[:, 1]])
    at = np.concatenate([pos[edges[:, 0]], pos[edges[:, 0]]])
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, doc, at)
    last_sorted = np.sort(last[last >= 0])
    # pairs judged before each position (their first document's)
    judged = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pos[edges[:, 0]], minlength=len(order)), out=judged[1:])
    runs = np.full(len(order), n_blocks - 1, dtype=np.int64)
    lo = 0
    for k in range(n_blocks - 1):
        keep = at >= lo
        first = np.full(n, len(order), dtype=np.int64)
        np.minimum.at(first, doc[keep], at[keep])
        first_sorted = np.sort(first[first < len(order)])
        cut = np.arange(lo, len(order) + 1, dtype=np.int64)
        # documents needed and pairs judged in [lo, cut), and in [cut, end)
        here = (np.searchsorted(first_sorted, cut, side="left")
                + PAIR_COST * (judged[cut] - judged[lo]))
        rest = (len(last_sorted) - np.searchsorted(last_sorted, cut, side="left")
                + PAIR_COST * (judged[-1] - judged[cut]))
        best = int(np.argmin(np.abs(here * (n_blocks - k - 1) - rest)))
        runs[lo : lo + best] = k
        lo += best
    return runs


def _bfs_order(n: int, edges: np.ndarray) -> np.ndarray:
    """The documents of ``edges`` (rows (i, j)) in breadth-first order: each
    connected group from its smallest document, its neighbours in increasing
    order level by level (deterministic)."""
    a = np.concatenate([edges[:, 0], edges[:, 1]])
    b = np.concatenate([edges[:, 1], edges[:, 0]])
    by = np.lexsort((b, a))
    adj = b[by]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=ptr[1:])
    seen = np.zeros(n, dtype=bool)
    out: list[np.ndarray] = []
    for start in unique_sorted(a).tolist():
        if seen[start]:
            continue
        seen[start] = True
        front = np.array([start], dtype=np.int64)
        while len(front):
            out.append(front)
            lens = ptr[front + 1] - ptr[front]
            flat = np.repeat(ptr[front] - (np.cumsum(lens) - lens), lens) + np.arange(
                int(lens.sum()), dtype=np.int64)
            nxt = adj[flat]
            nxt = nxt[~seen[nxt]]
            _, first = np.unique(nxt, return_index=True)
            front = nxt[np.sort(first)]
            seen[front] = True
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class _TermRow(NamedTuple):
    """A document's capped content terms as arrays (:meth:`TermTable.capped_row`):
    what the rewrite prefilter reads, with the values the term dicts give."""

    ids: np.ndarray  # uint32 term ids, sorted
    weights: np.ndarray  # float64: each term's capped weight
    keys: np.ndarray  # uint32: the key terms' ids, sorted
    sums: tuple[float, float]  # Judge.term_sums: fsum of the weights, figure share

    def key_jaccard(self, other: _TermRow) -> float:
        """``_set_jaccard`` of the two key-term sets."""
        return overlap(self.keys, other.keys).jaccard

    def weighted_jaccard(self, other: _TermRow) -> float:
        """:func:`~newsdedup.rewrite.weighted_jaccard` of the two term dicts (the
        same exact sums: ``math.fsum`` of the same values, whatever their order)."""
        if not len(self.ids) or not len(other.ids):
            return 0.0
        if _native.available():
            minima = _native.kernels()["common_minima"](self.ids, self.weights, other.ids,
                                                        other.weights)
        else:
            _, ia, ib = np.intersect1d(self.ids, other.ids, assume_unique=True,
                                       return_indices=True)
            minima = np.minimum(self.weights[ia], other.weights[ib])
        inter = math.fsum(minima.tolist())
        total = self.sums[0] + other.sums[0] - inter
        return inter / total if total > 0 else 0.0


@dataclass(frozen=True, slots=True)
class TermTable:
    """The content terms (:func:`~newsdedup.rewrite.content_terms`) of many
    documents, in arrays: about 13 bytes per term instead of a dict per document.

    Row ``r`` (document ``docs[r]``) has the terms ``vocab[ids[k]]`` for ``k`` in
    ``offsets[r]:offsets[r + 1]``, in the order ``content_terms`` gives them,
    with their uncapped weights and whether each is a key term.
    """

    docs: np.ndarray  # int64: the document of each row
    row_of: np.ndarray  # int32: the row of each document (-1: none), up to the last one
    vocab: list[str]
    offsets: np.ndarray  # int64
    ids: np.ndarray  # uint32
    weights: np.ndarray  # float64
    key: np.ndarray  # bool
    #: per vocabulary term: whether it is a figure (``#...``, see
    #: :func:`~newsdedup.rewrite.figure_share`)
    figure: np.ndarray

    def _capped_slice(
        self, i: int, cap: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Document ``i``'s term ids, capped weights and key flags (in the order
        ``content_terms`` gave them), or None when it is not in the table."""
        r = int(self.row_of[i]) if 0 <= i < len(self.row_of) else -1
        if r < 0:
            return None
        lo, hi = int(self.offsets[r]), int(self.offsets[r + 1])
        ids = self.ids[lo:hi]
        weights = self.weights[lo:hi]
        key = self.key[lo:hi]
        if cap is not None:
            term_cap = cap[ids]
            weights = np.minimum(weights, term_cap)
            key = key & (term_cap >= KEY_MIN_CAP)
        return ids, weights, key

    def capped_row(self, i: int, cap: np.ndarray | None) -> _TermRow | None:
        """:meth:`capped` of document ``i`` as arrays sorted by term id (None:
        not in the table)."""
        got = self._capped_slice(i, cap)
        if got is None:
            return None
        ids, weights, key = got
        order = np.argsort(ids, kind="stable")
        ids, weights, key = ids[order], weights[order], key[order]
        total = math.fsum(weights.tolist())
        share = math.fsum(weights[self.figure[ids]].tolist()) / total if total > 0 else 0.0
        return _TermRow(ids=ids, weights=weights, keys=ids[key], sums=(total, share))

    @classmethod
    def build(cls, texts: Sequence[str], docs: np.ndarray, workers: int = 1) -> TermTable:
        """Read the terms of ``texts[docs]`` (in forked workers when ``workers`` > 1)."""
        blocks = np.array_split(docs, workers) if workers > 1 and len(docs) > 1 else [docs]
        vocab: dict[str, int] = {}
        sizes, ids, weights, key = [], [], [], []
        # this process reads one block itself: the chunks it meets stay in its
        # chunk registry (rewrite._REGISTRY), which the judging workers, forked
        # later, inherit instead of reading those chunks again
        for local, b_sizes, b_ids, b_weights, b_key in fork_map(
            _term_block, texts, blocks, workers, here=True
        ):
            to_global = np.fromiter((vocab.setdefault(t, len(vocab)) for t in local),
                                    dtype=np.uint32, count=len(local))
            sizes.append(b_sizes)
            ids.append(to_global[b_ids] if len(b_ids) else b_ids)
            weights.append(b_weights)
            key.append(b_key)
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(sizes), out=offsets[1:])
        return cls(
            docs=np.asarray(docs, dtype=np.int64),
            row_of=_rows_of(docs), vocab=list(vocab),
            offsets=offsets, ids=np.concatenate(ids), weights=np.concatenate(weights),
            key=np.concatenate(key),
            figure=np.fromiter((t.startswith("#") for t in vocab), dtype=bool, count=len(vocab)),
        )

    def capped(
        self, i: int, cap: np.ndarray | None,
    ) -> tuple[dict[str, float], frozenset[str]] | None:
        """:func:`~newsdedup.rewrite.capped` of document ``i``'s terms, with the
        caps as an array over the vocabulary (:meth:`cap_array`; None: no caps,
        the terms as ``content_terms`` gave them). None: not in the table."""
        got = self._capped_slice(i, cap)
        if got is None:
            return None
        ids, weights, key = got
        names = list(map(self.vocab.__getitem__, ids.tolist()))
        keys = frozenset(itertools.compress(names, key.tolist()))
        return dict(zip(names, weights.tolist(), strict=True)), keys

    def cap_array(self, caps: Mapping[str, float] | None) -> np.ndarray | None:
        """The corpus caps of the vocabulary's terms (``MAX_WEIGHT`` where none)."""
        if caps is None:
            return None
        return np.fromiter((caps.get(t, MAX_WEIGHT) for t in self.vocab), dtype=np.float64,
                           count=len(self.vocab))

    def key_hash_sets(
        self, offsets: np.ndarray, vals: np.ndarray, rows: np.ndarray,
    ) -> list[np.ndarray]:
        """:func:`~newsdedup.rewrite.key_hashes` of the key terms of ``rows``
        (CSR ``offsets``, ``vals`` as :meth:`capped_keys` gives them; each term
        hashed once)."""
        lo, hi = offsets[rows], offsets[rows + 1]
        wanted = np.zeros(len(offsets) - 1, dtype=bool)
        wanted[rows] = True
        used = unique_sorted(vals[np.repeat(wanted, np.diff(offsets))])
        vocab = self.vocab
        hash_of = np.zeros(len(vocab), dtype=np.uint32)
        hash_of[used] = np.fromiter((key_hash(vocab[t]) for t in used.tolist()),
                                    dtype=np.uint32, count=len(used))
        return [unique_sorted(hash_of[vals[a:b]]) for a, b in zip(lo.tolist(), hi.tolist(),
                                                                strict=True)]

    def document_frequencies(self) -> dict[str, int]:
        """Term -> how many rows have it (in the order the terms first appear)."""
        df = np.bincount(self.ids, minlength=len(self.vocab))
        return dict(zip(self.vocab, df.tolist(), strict=True))

    def capped_keys(self, cap: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's key terms that :func:`~newsdedup.rewrite.capped_keys` keeps
        (``cap``: :meth:`cap_array`), as CSR (offsets, sorted term ids)."""
        keep = self.key.copy()
        if cap is not None:
            keep &= cap[self.ids] >= KEY_MIN_CAP
        row = np.repeat(np.arange(len(self.docs), dtype=np.int64), np.diff(self.offsets))[keep]
        vals = self.ids[keep]
        order = np.lexsort((vals, row))
        offsets = np.zeros(len(self.docs) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(self.docs)), out=offsets[1:])
        return offsets, vals[order]


def _rows_of(docs: np.ndarray) -> np.ndarray:
    """Document -> its row among ``docs`` (-1 for a document not in them)."""
    out = np.full(int(docs.max()) + 1 if len(docs) else 0, -1, dtype=np.int32)
    out[docs] = np.arange(len(docs), dtype=np.int32)
    return out


def _term_block(
    texts: Sequence[str], rows: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The content terms of ``texts[rows]``: (the block's own vocabulary, terms
    per row, term ids, weights, key flags); see
    :func:`~newsdedup.rewrite.content_term_arrays`."""
    return content_term_arrays(texts[i] for i in rows.tolist())


#: From this many pairs, _key_jaccard_pass(..., workers=k) splits them among k
#: forked workers.
PARALLEL_KEY_PASS_MIN_PAIRS = 500_000


def _key_jaccard_pass(
    pairs: np.ndarray, table: TermTable, offsets: np.ndarray, vals: np.ndarray,
    workers: int = 1,
) -> np.ndarray:
    """For document pairs (rows (i, j)): whether the Jaccard of their capped key
    terms (CSR ``offsets``, ``vals`` per table row) is at least
    :data:`PREFILTER_KEY_JACCARD` (``_set_jaccard`` of the key sets, exactly).
    From :data:`PARALLEL_KEY_PASS_MIN_PAIRS` pairs, ``workers`` forked processes
    take a part of the pairs each."""
    state = (pairs, table, offsets, vals)
    if workers > 1 and len(pairs) >= PARALLEL_KEY_PASS_MIN_PAIRS:
        cuts = np.linspace(0, len(pairs), workers + 1).astype(np.int64).tolist()
        return np.concatenate(fork_map(_key_jaccard_part, state,
                                       list(zip(cuts[:-1], cuts[1:], strict=True)), workers))
    return _key_jaccard_part(state, (0, len(pairs)))


def _key_jaccard_part(
    state: tuple[np.ndarray, TermTable, np.ndarray, np.ndarray], bounds: tuple[int, int],
) -> np.ndarray:
    """:func:`_key_jaccard_pass` of the pairs ``pairs[lo:hi]`` (state: the pairs,
    the table, the key CSR), in this process."""
    whole, table, offsets, vals = state
    pairs = whole[bounds[0] : bounds[1]]
    left = table.row_of[pairs[:, 0]].astype(np.int64)
    right = table.row_of[pairs[:, 1]].astype(np.int64)
    if _native.available():
        inter = _native.kernels()["intersections"](vals, offsets, left, right)
    else:
        sets = [frozenset(vals[lo:hi].tolist())
                for lo, hi in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
        inter = np.fromiter(
            (len(sets[a] & sets[b]) for a, b in zip(left.tolist(), right.tolist(), strict=True)),
            dtype=np.int64, count=len(left))
    sizes = np.diff(offsets)
    union = sizes[left] + sizes[right] - inter
    out = np.zeros(len(pairs), dtype=bool)
    some = union > 0
    out[some] = inter[some] / union[some] >= PREFILTER_KEY_JACCARD
    return out


#: A pair is left out by :func:`_vocabulary_pass` only when its weighted
#: Jaccard, summed in plain float64 (the verdict sums exactly, with
#: ``math.fsum``), is below :data:`PREFILTER_WEIGHTED_JACCARD` by more than this.
VOCABULARY_PASS_MARGIN = 1e-9


def _pair_weighted_jaccards(
    pairs: np.ndarray, table: TermTable, cap: np.ndarray | None,
) -> np.ndarray:
    """``_TermRow.weighted_jaccard`` of each pair of documents (rows (i, j), both
    in ``table``; ``cap``: :meth:`TermTable.cap_array`), summed in plain float64
    instead of ``math.fsum`` (so up to rounding)."""
    # (weights capped as Judge.term_row caps them; nothing the size of the table
    # is allocated: at 1M documents it holds about 150M terms)
    vocab_cap = np.full(len(table.vocab), np.inf) if cap is None else cap
    left = table.row_of[pairs[:, 0]].astype(np.int64)
    right = table.row_of[pairs[:, 1]].astype(np.int64)
    by = np.argsort(left, kind="stable")  # each left row spread once
    inter = np.zeros(len(pairs), dtype=np.float64)
    total_a = np.zeros(len(pairs), dtype=np.float64)
    total_b = np.zeros(len(pairs), dtype=np.float64)
    if _native.available():
        inter[by], total_a[by], total_b[by] = _native.kernels()["weighted_intersections"](
            table.ids, table.weights, vocab_cap, table.offsets, left[by], right[by],
            np.full(len(table.vocab), -1.0))
    else:
        def capped(doc: int) -> tuple[list[int], list[float]]:
            got = table._capped_slice(doc, cap)  # (the documents are in the table)
            assert got is not None
            return got[0].tolist(), got[1].tolist()

        row_w: dict[int, float] = {}
        row_total = 0.0
        cur = -1
        for k in by.tolist():
            a, b = int(pairs[k, 0]), int(pairs[k, 1])
            if a != cur:
                row_w = dict(zip(*capped(a), strict=True))
                row_total, cur = sum(row_w.values()), a
            b_ids, b_w = capped(b)
            inter[k] = sum(min(row_w[t], w) for t, w in zip(b_ids, b_w, strict=True)
                           if t in row_w)
            total_a[k], total_b[k] = row_total, sum(b_w)
    union = total_a + total_b - inter
    wj = np.zeros(len(pairs), dtype=np.float64)
    pos = union > 0
    wj[pos] = inter[pos] / union[pos]
    return wj


def _vocabulary_pass(
    pairs: np.ndarray, table: TermTable, cap: np.ndarray | None,
    shingles: Sequence[np.ndarray], n_words: Sequence[int], config: Config,
) -> np.ndarray:
    """For document pairs (rows (i, j); documents not in ``table`` are kept):
    False where the verdict (:meth:`Judge._judge`) certainly ends "distinct" for
    too little shared vocabulary for a rewrite, so the pair need not be judged.
    That is when all hold:

    * the copy half finds nothing: the shingle Jaccard and the containment of
      the smaller set are below the copy thresholds and below
      :data:`BODY_MIN_JACCARD`, under which two bodies are not compared;
    * both documents have the words a rewrite needs (``min_rewrite_words``) and
      neither more than ``max_rewrite_words``;
    * the weighted Jaccard of the capped content terms (``_TermRow.weighted_jaccard``,
      the same sets) is below :data:`PREFILTER_WEIGHTED_JACCARD` by more than
      :data:`VOCABULARY_PASS_MARGIN` (pairs in that sliver are judged)."""
    keep = np.ones(len(pairs), dtype=bool)
    if not len(pairs):
        return keep
    rows = table.row_of
    inside = np.zeros(len(pairs), dtype=bool)
    fits = (pairs[:, 0] < len(rows)) & (pairs[:, 1] < len(rows))
    inside[fits] = (rows[pairs[fits, 0]] >= 0) & (rows[pairs[fits, 1]] >= 0)
    words = np.asarray(n_words, dtype=np.int64)
    wa, wb = words[pairs[:, 0]], words[pairs[:, 1]]
    eligible = inside & (np.minimum(wa, wb) >= config.min_rewrite_words) & (
        np.maximum(wa, wb) <= config.max_rewrite_words)
    at_eligible = np.flatnonzero(eligible)
    pairs = pairs[at_eligible]
    if not len(pairs):
        return keep
    wj = _pair_weighted_jaccards(pairs, table, cap)
    # (a side without terms: weighted Jaccard 0, as the verdict has it)
    at = np.flatnonzero(wj < PREFILTER_WEIGHTED_JACCARD - VOCABULARY_PASS_MARGIN)
    if not len(at):
        return keep
    # the copy half, for the pairs left out so far
    bound = min(config.threshold, config.containment_threshold, BODY_MIN_JACCARD)
    a_docs, b_docs = pairs[at, 0], pairs[at, 1]
    if (_native.available() and isinstance(shingles, Permuted)
            and isinstance(shingles.base, ShingleBatch)):  # the run's batch, in id order
        base = shingles.base
        ga, gb = shingles.order[a_docs], shingles.order[b_docs]
        common = _native.kernels()["intersections"](base.values, base.offsets, ga, gb)
        s_sizes = np.diff(base.offsets)
        sa, sb = s_sizes[ga], s_sizes[gb]
    else:
        common = np.fromiter((overlap(shingles[i], shingles[j]).inter
                              for i, j in zip(a_docs.tolist(), b_docs.tolist(), strict=True)),
                             dtype=np.int64, count=len(at))
        sa = np.fromiter((len(shingles[i]) for i in a_docs.tolist()), np.int64, len(at))
        sb = np.fromiter((len(shingles[j]) for j in b_docs.tolist()), np.int64, len(at))
    copy_union = sa + sb - common
    smaller = np.minimum(sa, sb)
    # (at or above the bound, by the verdict's own division, or a margin away)
    near = ((common >= bound * copy_union - 1e-9 * copy_union)
            | (common >= bound * smaller - 1e-9 * smaller))
    keep[at_eligible[at[~near]]] = False
    return keep


#: A judging block holds the views of at most this many documents (facts, rewrite
#: view, terms, chunk set: about 88 KB a document on the speed corpus, so about
#: 1.4 GB). In breadth-first order (:func:`_judging_order`) the two blocks held at
#: most 20,953 and 22,411 at 300,000 articles with the rewrite family; more at a
#: million, where two workers holding every document in use ran this 24 GiB
#: machine out of memory.
MAX_VIEW_DOCS = 16_000


class _Judged(NamedTuple):
    """What :func:`_judge_block` sends back for a block."""

    #: the template guard's conflict (or None) of each exact duplicate
    conflicts: list[Conflict | None]
    #: per candidate pair: its verdict's score
    scores: np.ndarray
    #: per candidate pair: whether its verdict links it (relation not "distinct")
    linked: np.ndarray
    #: the linked pairs' matches, in row order
    matches: list[Match]
    #: every candidate pair's verdict, in row order, packed (:mod:`newsdedup.verdicts`)
    packs: list[bytes]


def _judge_block(judge: Judge, block: tuple[np.ndarray, np.ndarray]) -> _Judged:
    """For a block (exact duplicates, candidate pairs; rows (i, j)): the template
    guard's conflict (or None) of each exact duplicate and the verdict of each
    candidate pair. A document's derived views (facts, rewrite view, terms) are
    dropped after the last row it is in, or when more than :data:`MAX_VIEW_DOCS`
    documents' views are held (the least recently used first; built again if
    needed), and the verdicts are packed as they come: memory holds the views of
    a bounded number of documents and one pack of verdicts, not every document
    judged so far nor every verdict."""
    exact_rows, pair_rows = block[0].tolist(), block[1].tolist()
    rows = exact_rows + pair_rows
    last: dict[int, int] = {}
    for pos, (i, j) in enumerate(rows):
        last[i] = last[j] = pos
    held: OrderedDict[int, None] = OrderedDict()
    conflicts: list[Conflict | None] = []
    scores = np.zeros(len(pair_rows), dtype=np.float64)
    linked = np.zeros(len(pair_rows), dtype=bool)
    matches: list[Match] = []
    packer = Packer()
    for pos, (i, j) in enumerate(rows):
        if pos < len(exact_rows):
            conflicts.append(judge._conflict(i, j, "copy"))
        else:
            v = judge.judge(i, j)
            judge._cache.pop((i, j) if i <= j else (j, i), None)  # each pair comes once
            k = pos - len(exact_rows)
            scores[k] = v.match.score
            if v.match.relation != "distinct":
                linked[k] = True
                matches.append(v.match)
            packer.add(v)
        for doc in (i, j):
            if last[doc] == pos:
                judge.forget(doc)
                held.pop(doc, None)
            else:
                held[doc] = None
                held.move_to_end(doc)
        while len(held) > MAX_VIEW_DOCS:
            judge.forget(held.popitem(last=False)[0])
    return _Judged(conflicts, scores, linked, matches, packer.flush())


#: The chain guard's cross pairs are judged ahead in forked workers
#: (:func:`_prefetch_guard`) while a pass leaves at least this many unjudged.
PARALLEL_MIN_GUARD_PAIRS = 500
#: ... in at most this many passes.
GUARD_PREFETCH_PASSES = 3


class _Scores:
    """The chain guard's verdict scores (see :func:`guarded_groups`): of the
    candidate pairs judged (``codes``: ``i * n + j``, i < j, sorted; ``scores``
    beside them), else of the verdicts in ``judge``'s cache, else judged now."""

    def __init__(self, judge: Judge, n: int, codes: np.ndarray, scores: np.ndarray):
        self.judge, self.n, self.codes, self.scores = judge, n, codes, scores
        #: scores of other pairs judged ahead (:func:`_prefetch_guard`), by (i, j), i < j
        self.ahead: dict[tuple[int, int], float] = {}

    def known(self, i: int, j: int) -> float | None:
        lo, hi = (i, j) if i <= j else (j, i)
        code = lo * self.n + hi
        k = int(np.searchsorted(self.codes, code))
        if k < len(self.codes) and int(self.codes[k]) == code:
            return float(self.scores[k])
        s = self.ahead.get((lo, hi))
        if s is not None:
            return s
        v = self.judge._cache.get((lo, hi))
        return None if v is None else v.match.score

    def __call__(self, i: int, j: int) -> float:
        s = self.known(i, j)
        return s if s is not None else self.judge.judge(i, j).match.score


def _prefetch_guard(
    n: int, edges: Sequence[tuple[int, int, float, bool]], scores: _Scores,
    link_threshold: float, order: Callable[[int], Any], workers: int,
) -> None:
    """Judge the cross pairs the chain guard will ask for, in forked workers, and
    keep their scores (``scores.ahead``; the guard needs no more: at a million
    articles the parent grew from 8.3 to 13.2 GB while their verdicts were kept
    as objects). A pass of the guard with the scores known so
    far (and 0.0 for the others) names the pairs it lacks; they are judged together;
    the next pass, with them, names the pairs its different decisions lead to. The
    guard itself then runs with every verdict it needs known, or judges the few
    left itself: its result is the same as without this (a verdict depends only
    on its pair). At 100,000 articles with the rewrite family: 5,535 pairs, then
    441; the guard took 2.7 s judging them one by one here, 2.0 s in all now."""
    if not fork_available():
        return  # (the workers would run here, after passes of the guard that cost time)
    judge = scores.judge
    for _ in range(GUARD_PREFETCH_PASSES):
        missing: set[tuple[int, int]] = set()

        def peek(i: int, j: int, missing: set[tuple[int, int]] = missing) -> float:
            s = scores.known(i, j)
            if s is None:
                missing.add((i, j) if i <= j else (j, i))
                return 0.0
            return s

        guarded_groups(n, edges, peek, link_threshold=link_threshold, order=order)
        if len(missing) < PARALLEL_MIN_GUARD_PAIRS:
            return
        pairs = np.array(sorted(missing), dtype=np.int64)
        none = np.zeros((0, 2), dtype=np.int64)
        block_of = _pair_blocks(n, none, pairs, workers)[pairs[:, 0]]
        blocks = [(none, pairs[block_of == k]) for k in range(workers)]
        for (_e, rows), judged in zip(
            blocks, fork_map(_judge_block, judge, blocks, workers), strict=True
        ):
            scores.ahead.update(zip(map(tuple, rows.tolist()), judged.scores.tolist(),
                                    strict=True))


#: An input of at least WIRE_ARCHIVE_MIN_DOCS documents of which at least
#: WIRE_ARCHIVE_SHARE carry one agency's mark is taken as that agency's archive
#: (Reuters-21578: 88 % of its stories end "Reuter"; the rest are first takes
#: ending "MORE" and stories cut before the sign-off).
WIRE_ARCHIVE_SHARE = 0.8
WIRE_ARCHIVE_MIN_DOCS = 50
#: The share is read on at most this many documents (every k-th, in id order).
WIRE_ARCHIVE_SAMPLE = 1000


def archive_agency(judge: Judge, docs: np.ndarray) -> str | None:
    """The agency whose mark (:func:`~newsdedup.entities.wire_origin`) at least
    :data:`WIRE_ARCHIVE_SHARE` of ``docs`` (document indices, in id order) carry,
    or None (fewer than :data:`WIRE_ARCHIVE_MIN_DOCS` documents, or no such agency).
    Read on an evenly spaced sample of at most :data:`WIRE_ARCHIVE_SAMPLE`."""
    if len(docs) < WIRE_ARCHIVE_MIN_DOCS:
        return None
    sample = docs[:: max(1, len(docs) // WIRE_ARCHIVE_SAMPLE)].tolist()
    counts = Counter(judge.origin(i) for i in sample)
    marked = [(c, a) for a, c in counts.items() if a is not None]
    if not marked:
        return None
    count, agency = max(marked)
    return agency if count >= WIRE_ARCHIVE_SHARE * len(sample) else None


def _judging_order(n: int, pairs: np.ndarray) -> np.ndarray:
    """The order in which to judge ``pairs`` (rows (i, j) of document indices):
    by the breadth-first rank (:func:`_bfs_order`) of their later document, then
    of their earlier one. A judging block drops a document's views (facts,
    rewrite view, terms: tens of KB) after its last pair; in this order a
    document's pairs come close together. At 300,000 articles with the rewrite
    family, the most documents held at once by the two blocks fell from 47,125
    and 45,805 (pairs in index order) to 20,953 and 22,411 (counted on the
    blocks of that run)."""
    if not len(pairs):
        return np.zeros(0, dtype=np.int64)
    rank = np.full(n, -1, dtype=np.int64)
    bfs = _bfs_order(n, pairs)
    rank[bfs] = np.arange(len(bfs), dtype=np.int64)
    ra, rb = rank[pairs[:, 0]], rank[pairs[:, 1]]
    return np.argsort(np.maximum(ra, rb) * n + np.minimum(ra, rb), kind="stable")


def rewrite_spec(config: Config) -> SignatureSpec:
    """The signature spec of the rewrite family (key terms, not word shingles)."""
    return SignatureSpec(shingle="key", shingle_size=1, num_perm=config.num_perm,
                         seed=config.seed, hash="xxh32-key-terms")


def _rewrite_candidates(
    texts: Sequence[str], leaders: np.ndarray, n_words: Sequence[int],
    sources: Sequence[str | None] | None, config: Config,
) -> tuple[TermTable, Mapping[str, float] | None, np.ndarray | None, np.ndarray]:
    """The rewrite family's candidates among ``leaders`` (rows (i, j) of document
    indices), with the key-term prefilter applied, and the term table, corpus
    caps and caps array they were found with. (A function of its own so that
    its intermediates, hundreds of millions of candidate pairs at a million
    articles, are freed before the pairs are judged.)"""
    # Every document's content terms count towards the corpus caps and are
    # kept, in arrays, for the pairs to judge (read by forked workers when
    # there are many documents).
    workers = worker_count() if len(leaders) >= PARALLEL_TERMS_MIN else 1
    table = TermTable.build(texts, leaders, workers)
    caps = caps_from_df(table.document_frequencies(), len(leaders))
    term_caps = table.cap_array(caps)
    key_offsets, key_vals = table.capped_keys(term_caps)
    n_keys = np.diff(key_offsets)
    ok = (n_keys >= 2) & (np.asarray(n_words)[leaders] >= config.min_rewrite_words)
    none = np.zeros((0, 2), dtype=np.int64)
    if ok.sum() < 2:
        return table, caps, term_caps, none
    spec = rewrite_spec(config)
    rows = np.flatnonzero(ok)
    sigs = Signer(spec).sign(table.key_hash_sets(key_offsets, key_vals, rows))
    params = choose_params(config.rewrite_lsh_threshold, config.num_perm,
                           config.recall_at_threshold, name="rewrite_lsh_threshold")
    rp = candidate_pairs(sigs, params, max_bucket=config.max_bucket, workers=worker_count())
    del sigs
    if not len(rp):
        return table, caps, term_caps, none
    rp = rows[rp]  # (one at a time: two arrays of the pairs at once, not three)
    rp = leaders[rp]
    if sources is not None and config.same_source_rewrite_threshold > 0.999:
        # same-source pairs can never be rewrites: do not judge them for it
        src_code: dict[str, int] = {}
        src = np.array(
            [src_code.setdefault(str(x).casefold(), len(src_code)) if x else -1
             for x in sources], dtype=np.int64)
        sa, sb = src[rp[:, 0]], src[rp[:, 1]]
        rp = rp[(sa < 0) | (sa != sb)]
        del sa, sb
    # Pairs are dropped before verification when their key terms overlap too
    # little for a rewrite (the cheap half of the prefilter; a copy shares them).
    keep = _key_jaccard_pass(rp, table, key_offsets, key_vals, worker_count())
    return table, caps, term_caps, rp[keep]


def link(
    *, ids: Sequence[str], texts: Sequence[str], titles: Sequence[str | None],
    published: Sequence[datetime | None], shingles: Sequence[np.ndarray],
    n_words: Sequence[int], leaders: np.ndarray, copy_pairs: np.ndarray,
    exact_edges: Sequence[tuple[int, int]], config: Config,
    originals: Sequence[str] | None = None, sources: Sequence[str | None] | None = None,
) -> Linked:
    """Candidates, verification and guarded clustering for one batch.

    Args:
        ids, texts, titles, published, shingles, n_words: per document.
        leaders: indices of the documents that take part (one per exact group).
        copy_pairs: candidate pairs from the copy LSH, as rows into ``leaders``.
        exact_edges: (i, j) document indices of exact duplicates (same cleaned
            text); those whose original texts differ in key facts (a stripper may
            have removed a notice's only varying line) are not linked.
        config: the configuration.
        originals: per document, the original text (for the template guard).
        sources: per document, the source (outlet), if known.
    """
    n = len(ids)
    caps = None
    paths = [leaders[copy_pairs] if len(copy_pairs) else np.zeros((0, 2), dtype=np.int64)]
    lead_sh = _lead_shingles(shingles, leaders)
    passage = passage_candidates(lead_sh, sample=config.passage_sample,
                                 max_df=config.max_bucket)
    if len(passage):
        paths.append(leaders[passage])
    table = term_caps = None
    if config.rewrite:
        table, caps, term_caps, rewrite = _rewrite_candidates(texts, leaders, n_words,
                                                              sources, config)
        paths.append(rewrite)
        del rewrite
    allp = np.concatenate(paths).astype(np.int64)
    del paths  # (at a million articles, gigabytes the judging workers need)
    if len(allp):
        lo, hi = np.minimum(allp[:, 0], allp[:, 1]), np.maximum(allp[:, 0], allp[:, 1])
        code = unique_sorted(lo * n + hi)
        del lo, hi
        allp = np.stack([code // n, code % n], axis=1)
        del code
    if table is not None and len(allp):
        # Pairs whose verdict can only be "distinct" for too little shared vocabulary
        # are not judged (whichever path found them; exact, see _vocabulary_pass).
        allp = allp[_vocabulary_pass(allp, table, term_caps, shingles, n_words, config)]
    judge = Judge(ids=ids, texts=texts, titles=titles, published=published, shingles=shingles,
                  n_words=n_words, config=config, caps=caps, originals=originals,
                  sources=sources)
    if config.rewrite:
        judge.term_table, judge.term_caps = table, term_caps
        no_sources = sources is None or not any(sources)
        judge.archive_agency = archive_agency(judge, leaders) if no_sources else None
    edges: list[tuple[int, int, float, bool]] = []
    extra: dict[tuple[str, str], Verdict] = {}
    # Exact duplicates get the template guard (their headlines may differ), the
    # candidate pairs a verdict: in blocks of consecutive pairs, by forked worker
    # processes when there are enough (the results do not depend on the split).
    exact_arr = np.array(exact_edges if originals is not None else [],
                         dtype=np.int64).reshape(-1, 2)
    workers = worker_count() if len(exact_arr) + len(allp) >= PARALLEL_MIN_PAIRS else 1
    n_blocks = 1 if workers <= 1 else BLOCKS_PER_WORKER * workers

    block_of = _pair_blocks(n, exact_arr, allp, n_blocks) if n_blocks > 1 else None
    judged_order = _judging_order(n, allp)

    def split(arr: np.ndarray, order: np.ndarray) -> list[np.ndarray]:
        # by connected group of documents: a document's pairs in one block (its
        # facts computed once), groups spread evenly over the blocks; in a
        # block, in ``order``
        if block_of is None:
            return [order]
        key = block_of[arr[order, 0]]
        return [order[key == k] for k in range(n_blocks)]

    exact_sel = split(exact_arr, np.arange(len(exact_arr), dtype=np.int64))
    pair_sel = split(allp, judged_order)
    blocks = [(exact_arr[e], allp[p]) for e, p in zip(exact_sel, pair_sel, strict=True)]
    if workers > 1:
        load_tables()  # once here, not in every worker
    results = fork_map(_judge_block, judge, blocks, workers)
    guarded: dict[tuple[int, int], Conflict | None] = {}
    # per candidate pair (as allp): its score, whether linked, its match if so,
    # and where its packed verdict is (pack << 16 | place)
    pair_scores = np.zeros(len(allp), dtype=np.float64)
    pair_linked = np.zeros(len(allp), dtype=bool)
    pair_where = np.zeros(len(allp), dtype=np.int64)
    pair_match: dict[int, Match] = {}
    packs: list[bytes] = []
    for (exact_rows, _pairs), sel, judged in zip(blocks, pair_sel, results, strict=True):
        guarded.update(zip(map(tuple, exact_rows.tolist()), judged.conflicts, strict=True))
        pair_scores[sel] = judged.scores
        pair_linked[sel] = judged.linked
        rank = np.arange(len(sel), dtype=np.int64)
        pair_where[sel] = ((len(packs) + rank // PACK_SIZE) << 16) | (rank % PACK_SIZE)
        packs.extend(judged.packs)
        pair_match.update(zip(sel[judged.linked].tolist(), judged.matches, strict=True))
    del results
    exact_kept = []
    for i, j in exact_edges:
        conflict = guarded.get((i, j))
        if conflict is None:
            edges.append((i, j, 1.0, True))
            exact_kept.append((i, j))
            continue
        a, b = min(ids[i], ids[j]), max(ids[i], ids[j])
        ov = Overlap(len(shingles[i]), len(shingles[j]), len(shingles[i]))
        extra[(a, b)] = Verdict(
            match=_match(a, b, "distinct", 0.0, ov),
            reason=f"template look-alike: {conflict.detail} (same text after stripping)",
            signals={"jaccard": 1.0}, conflict=conflict,
        )
    linked_pos = np.flatnonzero(pair_linked).tolist()
    for pos, (i, j) in zip(linked_pos, allp[linked_pos].tolist(), strict=True):
        m = pair_match[pos]
        strong = m.relation != "rewrite" or m.score >= STRONG_REWRITE
        edges.append((i, j, m.score, strong or not config.chain_guard))
    codes = allp[:, 0] * n + allp[:, 1] if len(allp) else np.zeros(0, dtype=np.int64)
    scores = _Scores(judge, n, codes, pair_scores)
    # (in a group, documents stand by content for the guard's sample: a hash of
    # their shingle sets, then the index)
    def order(i: int) -> tuple[int, int]:
        return xxhash.xxh3_64_intdigest(np.ascontiguousarray(shingles[i]).tobytes()), i

    if workers > 1:
        _prefetch_guard(n, edges, scores, config.rewrite_threshold, order, workers)
    groups, refused_idx = guarded_groups(
        n, edges, scores, link_threshold=config.rewrite_threshold, order=order)
    matches = [
        Match(a=min(ids[i], ids[j]), b=max(ids[i], ids[j]), relation="exact", score=1.0,
              jaccard=1.0, containment=1.0)
        for i, j in exact_kept
    ]
    refused_pairs = {(min(ids[i], ids[j]), max(ids[i], ids[j])) for i, j, _r in refused_idx}
    matches += [m for pos in linked_pos
                if ((m := pair_match[pos]).a, m.b) not in refused_pairs]
    matches.sort(key=lambda m: (m.a, m.b))
    refused = sorted((min(ids[i], ids[j]), max(ids[i], ids[j]), r) for i, j, r in refused_idx)
    verdicts = Verdicts(ids, codes, pair_where, packs, extra, order=judged_order)
    return Linked(groups=groups, matches=matches, verdicts=verdicts, candidates=len(allp),
                  refused=refused)
