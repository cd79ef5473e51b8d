"""The ``newsdedup`` command: ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from ._version import __version__
from .errors import NewsDedupError
from .result import Clusters


def _float01(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsdedup",
        description="Find syndicated, excerpted, updated and rewritten copies of news articles.",
    )
    parser.add_argument("--version", action="version", version=f"newsdedup {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("cluster", help="cluster articles into stories")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files (.txt, .jsonl, .jsonl.gz, .html), directories or glob patterns")
    p.add_argument("--threshold", type=_float01, default=None,
                   help="word-shingle Jaccard for copies (default 0.5)")
    p.add_argument("--format", choices=("table", "json", "jsonl"), default="table",
                   help="output format (default: table)")
    p.add_argument("--all", action="store_true",
                   help="table format: list singletons too")
    p.add_argument("--errors", choices=("raise", "skip"), default="raise",
                   help="stop at bad input (default) or skip it with a warning")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return parser


def _print_table(result: Clusters, out: TextIO, show_all: bool) -> None:
    out.write(result.summary() + "\n")
    lsh = result.lsh
    out.write(
        f"LSH: {lsh.bands} bands x {lsh.rows} rows; P(candidate | J={lsh.threshold}) = "
        f"{lsh.recall_at_threshold:.3f}\n"
    )
    best = result._best_match()
    for c in result.clusters:
        if len(c.members) == 1 and not show_all and len(result.clusters) > 20:
            continue
        kind = "story" if len(c.members) > 1 else "singleton"
        out.write(f"\ncluster {c.id} ({kind}, {len(c.members)} document"
                  f"{'s' if len(c.members) != 1 else ''})\n")
        for m in c.members:
            info = result.documents[m]
            tag = "*" if m == c.representative else " "
            link = ""
            if m in best:
                link = f"  [{best[m].relation} {best[m].score:.2f}]"
            title = f" {info.title!r}" if info.title else ""
            out.write(f"  {tag} {m}{title}  ({info.n_words} words){link}\n")
            for r in info.removed:
                text = r.text if len(r.text) <= 70 else r.text[:67] + "..."
                out.write(f"        stripped [{r.rule}] {text!r}\n")
    if result.skipped:
        out.write(f"\nskipped {len(result.skipped)} inputs:\n")
        for s in result.skipped:
            where = f"{s.source}:{s.line}" if s.line is not None else s.source
            out.write(f"  {where}: {s.reason}\n")


def _cmd_cluster(args: argparse.Namespace, out: TextIO) -> int:
    from .pipeline import Deduper

    options: dict[str, Any] = {"errors": args.errors}
    if args.threshold is not None:
        options["threshold"] = args.threshold
    deduper = Deduper(**options)
    progress = False if args.no_progress else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skips are reported below, once
        result = deduper.cluster(args.paths, progress=progress)
    if args.format == "table":
        _print_table(result, out, args.all)
    elif args.format == "jsonl":
        for rec in result.to_records():
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        doc = {
            "summary": result.summary(),
            "lsh": {"bands": result.lsh.bands, "rows": result.lsh.rows,
                    "threshold": result.lsh.threshold,
                    "recall_at_threshold": result.lsh.recall_at_threshold},
            "clusters": [
                {"id": c.id, "representative": c.representative, "members": list(c.members)}
                for c in result.clusters
            ],
            "pairs": [
                {"a": m.a, "b": m.b, "relation": m.relation, "score": m.score,
                 "jaccard": m.jaccard, "containment": m.containment}
                for m in result.pairs
            ],
            "stripped": {
                d: [{"start": r.start, "end": r.end, "rule": r.rule, "text": r.text}
                    for r in info.removed]
                for d, info in result.documents.items() if info.removed
            },
            "skipped": [{"source": s.source, "line": s.line, "reason": s.reason}
                        for s in result.skipped],
        }
        out.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    if result.skipped:
        sys.stderr.write(f"newsdedup: skipped {len(result.skipped)} inputs\n")
    return 0


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 input error, 2 usage)."""
    out = stdout if stdout is not None else sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        if args.command == "cluster":
            return _cmd_cluster(args, out)
    except NewsDedupError as err:
        sys.stderr.write(f"newsdedup: error: {err}\n")
        return 1
    except TypeError as err:
        sys.stderr.write(f"newsdedup: error: {err}\n")
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stderr.close()
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
