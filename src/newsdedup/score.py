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

from dataclasses import dataclass

import numpy as np

from .config import Config
from .types import Match, Relation


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
    """Overlap of two sorted unique uint32 arrays."""
    if len(a) == 0 or len(b) == 0:
        return Overlap(len(a), len(b), 0)
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
