"""Configuration: one frozen, validated dataclass.

Parameter limits are declared as data (:data:`_LIMITS`); every invalid value
raises :class:`~newsdedup.errors.ConfigError` with one uniform message naming the
parameter, the allowed range and the value given, for example::

    The 'threshold' parameter of Config must be a float in the range [0.0, 1.0]. Got 1.5 instead.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .boilerplate import BoilerplateModel

# name -> (kind, low, high, choices). kind: "float", "int", "bool", "choice", "int|None".
_LIMITS: dict[str, tuple[str, float | None, float | None, tuple[str, ...] | None]] = {
    "threshold": ("float", 0.0, 1.0, None),
    "containment_threshold": ("float", 0.0, 1.0, None),
    "min_containment_words": ("int", 1, None, None),
    "shingle_size": ("int", 1, 32, None),
    "num_perm": ("int", 2, 8192, None),
    "seed": ("int", 0, 2**32 - 1, None),
    "recall_at_threshold": ("float", 0.5, 0.9999, None),
    "bands": ("int|None", 1, 8192, None),
    "rows": ("int|None", 1, 8192, None),
    "min_words": ("int", 0, None, None),
    "max_bucket": ("int", 2, None, None),
    "strip": ("bool", None, None, None),
    "boilerplate": ("choice", None, None, ("auto", "off")),  # or a BoilerplateModel
    "representative": ("choice", None, None, ("longest", "earliest", "first_id")),
    "errors": ("choice", None, None, ("raise", "skip")),
    "batch_size": ("int", 1, None, None),
    "rewrite": ("bool", None, None, None),
    "rewrite_threshold": ("float", 0.0, 1.0, None),
    "rewrite_lsh_threshold": ("float", 0.05, 1.0, None),
    "min_rewrite_words": ("int", 1, None, None),
    "max_rewrite_words": ("int", 1, None, None),
    "passage_sample": ("int", 1, 1024, None),
    "max_hours_apart": ("float", 0.0, None, None),
    "chain_guard": ("bool", None, None, None),
    "same_source_rewrite_threshold": ("float", 0.0, 1.0, None),
    "window": ("timedelta|None", 0, None, None),
    "source_match": ("choice", None, None, ("any", "different", "same")),
    "workers": ("int", 1, 256, None),
}


def _range_text(kind: str, low: float | None, high: float | None) -> str:
    noun = "a float" if kind == "float" else "an int"
    if kind == "int|None":
        noun = "None or an int"
    if low is not None and high is not None:
        return f"{noun} in the range [{low}, {high}]"
    if low is not None:
        return f"{noun} in the range [{low}, inf)"
    return noun


def _is_boilerplate_model(value: Any) -> bool:
    from .boilerplate import BoilerplateModel

    return isinstance(value, BoilerplateModel)


def validate_param(owner: str, name: str, value: Any) -> None:
    """Check one parameter against its declared limits; raise ConfigError if off."""
    kind, low, high, choices = _LIMITS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(
                f"The {name!r} parameter of {owner} must be a bool. Got {value!r} instead."
            )
        return
    if kind == "choice":
        allowed_values = choices or ()
        if name == "boilerplate" and _is_boilerplate_model(value):
            return
        if value not in allowed_values:
            allowed = ", ".join(repr(c) for c in allowed_values)
            also = (" or a BoilerplateModel (BoilerplateModel.load(path) reads a saved one)"
                    if name == "boilerplate" else "")
            raise ConfigError(
                f"The {name!r} parameter of {owner} must be one of {{{allowed}}}{also}. "
                f"Got {value!r} instead."
            )
        return
    if kind == "int|None" and value is None:
        return
    if kind == "timedelta|None":
        if value is None or (isinstance(value, timedelta) and value > timedelta(0)):
            return
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be None or a positive datetime.timedelta. "
            f"Got {value!r} instead."
        )
    ok_type = (
        isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "float"
        else isinstance(value, int) and not isinstance(value, bool)
    )
    ok = ok_type and not (isinstance(value, float) and math.isnan(value))
    if ok and low is not None and value < low:
        ok = False
    if ok and high is not None and value > high:
        ok = False
    if not ok:
        raise ConfigError(
            f"The {name!r} parameter of {owner} must be {_range_text(kind, low, high)}. "
            f"Got {value!r} instead."
        )


def _banding_problem(
    name: str, threshold: float, num_perm: int, recall: float, note: str = ""
) -> str | None:
    """Why no LSH banding within ``num_perm`` permutations makes a pair at
    Jaccard ``threshold`` a candidate with probability ``recall`` (None when
    one does; the most recall comes from ``num_perm`` bands of one row, which
    :func:`newsdedup.index.choose_params` tries last)."""
    from .index import LSHParams

    def best(n: int) -> float:
        return LSHParams(bands=n, rows=1, threshold=threshold).recall_at_threshold

    got = best(num_perm)
    if got >= recall:
        return None
    top = int(_LIMITS["num_perm"][2] or 0)
    if best(top) < recall:
        fix = f"Even num_perm={top} (the most allowed) is not enough: raise {name}"
    else:
        # the fewest permutations that are enough (best() grows with n)
        low, high = num_perm + 1, top
        while low < high:
            mid = (low + high) // 2
            low, high = (mid + 1, high) if best(mid) < recall else (low, mid)
        fix = f"Raise num_perm to at least {low}, raise {name}"
    return (
        f"The {name!r} parameter of Config ({threshold}) cannot reach "
        f"recall_at_threshold={recall} with num_perm={num_perm}{note}: the best banding "
        f"({num_perm} bands x 1 row) gives {got:.4f}. {fix}, or lower recall_at_threshold."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Every option of the pipeline, validated on construction.

    Attributes:
        threshold: exact word-shingle Jaccard at or above which two articles are
            copies (``near_duplicate``). LSH bands/rows are chosen so that a pair
            exactly at this Jaccard becomes a candidate with probability at least
            ``recall_at_threshold``.
        containment_threshold: directional containment |A & B| / |A| at or above
            which the smaller article A counts as contained in B (excerpts, trims).
        min_containment_words: a contained article must have at least this many
            words to be linked by containment (a headline-only stub is not a copy).
        shingle_size: words per shingle.
        num_perm: MinHash permutations: enough that both ``threshold`` (unless
            ``bands`` and ``rows`` are given) and ``rewrite_lsh_threshold`` can
            reach ``recall_at_threshold`` (at the defaults, at least 11), else
            :class:`~newsdedup.errors.ConfigError` names the one that cannot.
        seed: MinHash seed (datasketch-compatible).
        recall_at_threshold: wanted candidate probability at ``threshold``.
        bands, rows: explicit LSH banding of the copy family; both or neither
            (then chosen from ``threshold`` and ``recall_at_threshold``). The
            rewrite family's banding is always chosen from
            ``rewrite_lsh_threshold`` and ``recall_at_threshold``.
        min_words: articles with fewer words (after stripping) are too short to
            compare: each stays its own singleton. Never below ``shingle_size``
            in effect (an article with no shingle cannot be compared).
        max_bucket: an LSH bucket with more members than this yields pairs to
            its first ``max_bucket`` members only (guards against quadratic
            blow-up on template text).
        strip: remove boilerplate before shingling.
        boilerplate: lines each source repeats across its stories (see
            :func:`newsdedup.learn_boilerplate`): ``"auto"`` learns them from
            the input of a batch run of at least 20 documents, ``"off"`` does
            not, or pass a saved :class:`~newsdedup.BoilerplateModel`.
        representative: which member represents a cluster: the ``longest``
            cleaned text, the ``earliest`` published, or the ``first_id``;
            ties are broken by id.
        errors: ``raise`` on bad input, or ``skip`` it with a warning and an
            entry in ``Clusters.skipped``.
        batch_size: documents per signature batch.
        rewrite: look for rewrites (the second signature family: rare words,
            names and figures; see :mod:`newsdedup.rewrite`).
        rewrite_threshold: rewrite score (see
            :func:`newsdedup.rewrite.rewrite_score`) at or above which two
            articles that are not copies are linked as ``rewrite``.
        rewrite_lsh_threshold: key-term Jaccard at which a pair becomes a
            rewrite candidate with probability at least ``recall_at_threshold``.
        min_rewrite_words: both articles need this many words to be compared
            as rewrites: short items (notices, market reports, tables) are where
            template look-alikes live, and too short to show a paraphrase.
        max_rewrite_words: an article with more words than this is compared as
            a copy only: rewrite scoring is made for news-length articles (on
            texts of tens of thousands of words, unrelated documents share
            enough rare words and sentence matches to pass, at a cost that
            grows with their length). The default is twice the longest article
            of the evaluation corpora (a 10,128-word WikiRef220 page whose
            rewrite is found).
        passage_sample: one in this many shingles is indexed for the
            containment candidate path (excerpts far below ``threshold``).
        max_hours_apart: two dated copies further apart than this, whose
            figures differ, are different occurrences of a recurring report;
            two dated articles further apart than this are not linked as
            rewrites (an outlet's retelling of a story appears within days; a
            later story on the subject is a follow-up).
        chain_guard: a weak link merges two groups only if the groups agree as
            a whole (see :func:`newsdedup.score.guarded_groups`).
        same_source_rewrite_threshold: the rewrite score two articles of the
            same outlet need: the same :attr:`~newsdedup.Article.outlet` (the
            ``source`` field, else the host of the ``url``), or the same news
            agency's credit or sign-off on both ("(AP) —", a last line
            "Reuter"; :func:`newsdedup.entities.wire_origin`). Higher than
            ``rewrite_threshold``: an outlet rarely paraphrases its own story,
            and its follow-ups on a subject share names and background (its
            re-filings are copies, found by the copy relations). A batch input
            with no outlets (no ``source`` fields, no ``url`` hosts) in which
            most documents (80 %, at least 50 documents) carry one agency's mark
            is that agency's archive: a story there without a mark counts as
            the agency's too
            (:func:`newsdedup.score.archive_agency`); give ``source`` to decide.
        window: streaming (:meth:`Deduper.add`, ``filter``): a document only
            matches documents published at most this long before or after it
            (pairs where either date is unknown are not constrained). The
            batch :func:`cluster` ignores it.
        source_match: streaming: match documents from ``any`` sources, only
            from ``different`` sources (an unknown source differs from all), or
            only from the ``same`` (known) source; a document's source here is
            its :attr:`~newsdedup.Article.outlet` (``source``, else the host of
            its ``url``). The batch run ignores it.
        workers: streaming: worker processes for ``add_many`` and ``filter``
            calls of 128 documents or more; 1 runs everything in the calling
            process. They prepare documents (strip, shingle, sign), the next
            batch of 1,000 while one is indexed, and judge a batch's documents
            against their indexed candidates beside the calling process (the
            same verdicts). With 2, at 100,000 indexed articles, calls of 500 ran
            18-19 % faster; batches never depend on timing (where one starts can
            change decisions). A worker that dies (killed, out of memory) stops
            the call with :class:`~newsdedup.WorkerError`; the next call starts
            new ones.
    """

    threshold: float = 0.5
    containment_threshold: float = 0.8
    min_containment_words: int = 25
    shingle_size: int = 5
    num_perm: int = 128
    seed: int = 1
    recall_at_threshold: float = 0.95
    bands: int | None = None
    rows: int | None = None
    min_words: int = 5
    max_bucket: int = 100
    strip: bool = True
    boilerplate: str | BoilerplateModel = "auto"
    representative: str = "longest"
    errors: str = "raise"
    batch_size: int = 4096
    rewrite: bool = True
    rewrite_threshold: float = 0.4
    rewrite_lsh_threshold: float = 0.25
    min_rewrite_words: int = 100
    max_rewrite_words: int = 20_000
    passage_sample: int = 8
    max_hours_apart: float = 36.0
    chain_guard: bool = True
    same_source_rewrite_threshold: float = 0.9
    window: timedelta | None = None
    source_match: str = "any"
    workers: int = 1

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            validate_param("Config", f.name, getattr(self, f.name))
        if self.max_rewrite_words < self.min_rewrite_words:
            raise ConfigError(
                "The 'max_rewrite_words' parameter of Config must be at least "
                f"min_rewrite_words ({self.min_rewrite_words}). Got {self.max_rewrite_words}."
            )
        if (self.bands is None) != (self.rows is None):
            raise ConfigError(
                "The 'bands' and 'rows' parameters of Config must be given together. "
                f"Got bands={self.bands!r}, rows={self.rows!r} instead."
            )
        if self.bands is not None and self.rows is not None:
            product = self.bands * self.rows
            if product > self.num_perm:
                raise ConfigError(
                    "The 'bands' * 'rows' of Config must be at most num_perm "
                    f"({self.num_perm}). Got {self.bands} * {self.rows} = {product} instead."
                )
        # Both signature families must find a banding that reaches the recall:
        # the copy family (unless bands and rows are given) and the rewrite
        # family (always: a streaming index bands it even with rewrite=False).
        problem = None
        if self.bands is None:
            problem = _banding_problem(
                "threshold", self.threshold, self.num_perm, self.recall_at_threshold
            )
        problem = problem or _banding_problem(
            "rewrite_lsh_threshold", self.rewrite_lsh_threshold, self.num_perm,
            self.recall_at_threshold,
            " (the rewrite family's banding; bands and rows set the copy family's only)"
            if self.bands is not None else "",
        )
        if problem:
            raise ConfigError(problem)

    @classmethod
    def from_options(cls, **options: Any) -> Config:
        """Build a Config from keyword options, rejecting unknown names."""
        cls._known(options)
        return cls(**options)

    @classmethod
    def _known(cls, options: Mapping[str, Any]) -> None:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(
                f"unknown option(s) {', '.join(map(repr, unknown))}; "
                f"valid options: {', '.join(sorted(names))}"
            )

    def replace(self, **changes: Any) -> Config:
        """A copy with some options changed (validated again; unknown names
        rejected as :meth:`from_options` rejects them)."""
        self._known(changes)
        return dataclasses.replace(self, **changes)
