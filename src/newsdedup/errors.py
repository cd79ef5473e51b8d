"""The exception hierarchy of newsdedup.

Every error the library raises on purpose derives from :class:`NewsDedupError`,
so ``except newsdedup.NewsDedupError`` catches all of them.
"""

from __future__ import annotations


class NewsDedupError(Exception):
    """Base class of every error newsdedup raises on purpose."""


class ConfigError(NewsDedupError, ValueError):
    """A configuration value is out of range or of the wrong kind."""


class InputError(NewsDedupError, ValueError):
    """An input document or file cannot be read or is malformed.

    Attributes:
        source: the file path (or "<records>") the problem is in.
        line: the 1-based line number, where there is one.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(where + message)
        self.source = source
        self.line = line
        self.problem = message


class IncompatibleSignatureError(NewsDedupError, ValueError):
    """Signatures or indexes built with different specifications were mixed."""


class WorkerError(NewsDedupError, RuntimeError):
    """A worker process ended before its work was done (killed, or out of memory).

    ``doing`` says what the worker was doing, ``after`` what became of the call."""

    def __init__(self, doing: str, after: str = ""):
        super().__init__(f"a worker process {doing} ended before its work was done (killed, "
                         f"or out of memory?){after}")


class MissingDependencyError(NewsDedupError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""

    def __init__(self, package: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the optional package {package!r}; "
            f"install it with: pip install 'newsdedup[{extra}]'"
        )
        self.package = package
        self.extra = extra
