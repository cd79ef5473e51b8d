"""newsdedup: find syndicated, excerpted, updated and rewritten copies of news articles.

>>> import newsdedup
>>> story = ("The city council approved the new budget on Tuesday after a long debate "
...          "about funding for schools, roads and the public library system.")
>>> result = newsdedup.cluster([story, story + " Reporting by A. Writer.", "Unrelated."])
>>> [c.members for c in result.clusters]
[('0', '1'), ('2',)]
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .boilerplate import BoilerplateModel, learn_boilerplate
from .config import Config
from .errors import (
    ConfigError,
    IncompatibleSignatureError,
    InputError,
    MissingDependencyError,
    NewsDedupError,
    WorkerError,
)
from .explain import Explanation, compare
from .index import LSHParams
from .normalize import normalize
from .pipeline import Deduper, SkippedInputWarning
from .result import Clusters
from .store import DuplicateIdError, IndexClosedError, IndexConnectionError
from .stream import Decision
from .strip import strip
from .types import Article, Cluster, Match, Removal, Skipped, Stripped


def cluster(inputs: Any, *, progress: bool | None = None, **options: Any) -> Clusters:
    """Cluster news articles into stories.

    Args:
        inputs: a path, directory or glob, or an iterable of paths, article
            texts, records (dicts with ``id``, ``text`` and optional ``title``,
            ``source``, ``published``, ``url``) or :class:`Article` objects.
        progress: show a progress bar on stderr (default: for large inputs, when
            stderr is a terminal).
        **options: any :class:`Config` option, e.g. ``threshold=0.8``.

    Returns:
        :class:`Clusters`, with every input document in exactly one cluster.
    """
    return Deduper(**options).cluster(inputs, progress=progress)


__all__ = [
    "Article",
    "BoilerplateModel",
    "Cluster",
    "Clusters",
    "Config",
    "ConfigError",
    "Decision",
    "Deduper",
    "DuplicateIdError",
    "Explanation",
    "IncompatibleSignatureError",
    "IndexClosedError",
    "IndexConnectionError",
    "InputError",
    "LSHParams",
    "Match",
    "MissingDependencyError",
    "NewsDedupError",
    "Removal",
    "Skipped",
    "SkippedInputWarning",
    "Stripped",
    "WorkerError",
    "__version__",
    "cluster",
    "compare",
    "learn_boilerplate",
    "normalize",
    "strip",
]
