"""The ``newsdedup`` command: ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import collections
import json
import math
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, NamedTuple, TextIO

from ._version import __version__
from .errors import InputError, NewsDedupError
from .result import Clusters


def _float01(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def _config_arguments(p: argparse.ArgumentParser, *, representative: bool = True) -> None:
    """The options of :class:`newsdedup.Config` a command line sets (values are
    checked by Config, whose error names the option and the allowed range)."""
    p.add_argument("--threshold", type=_float01, default=None, metavar="J",
                   help="word-shingle Jaccard for copies (default 0.5)")
    p.add_argument("--containment-threshold", type=_float01, default=None, metavar="C",
                   help="share of the shorter text inside the longer for an excerpt "
                   "(default 0.8)")
    p.add_argument("--no-rewrite", action="store_true",
                   help="switch the rewrite signal off (copies, excerpts and updates only: "
                   "the faster syndication path)")
    p.add_argument("--rewrite-threshold", type=_float01, default=None, metavar="S",
                   help="rewrite score for a rewrite (default 0.4)")
    p.add_argument("--no-strip", action="store_true", help="keep boilerplate lines")
    p.add_argument("--shingle-size", type=int, default=None, metavar="N",
                   help="words per shingle (default 5)")
    p.add_argument("--num-perm", type=int, default=None, metavar="N",
                   help="MinHash permutations (default 128)")
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="MinHash seed (default 1)")
    if representative:
        p.add_argument("--representative", choices=("longest", "earliest", "first_id"),
                       default=None, help="each cluster's representative (default longest)")


def _config_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Config keywords of the options given (see :func:`_config_arguments`)."""
    options: dict[str, Any] = {}
    for name in ("threshold", "containment_threshold", "rewrite_threshold", "shingle_size",
                 "num_perm", "seed", "representative"):
        value = getattr(args, name, None)
        if value is not None:
            options[name] = value
    if args.no_rewrite:
        options["rewrite"] = False
    if args.no_strip:
        options["strip"] = False
    return options


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
    _config_arguments(p)
    p.add_argument("--format", choices=("table", "json", "jsonl"), default="table",
                   help="output format (default: table)")
    p.add_argument("--all", action="store_true",
                   help="table format: list singletons too")
    p.add_argument("--errors", choices=("raise", "skip"), default="raise",
                   help="stop at bad input (default) or skip it with a warning")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    p = sub.add_parser(
        "filter", help="mark (or drop) duplicates in a JSONL stream, against a persistent index",
        description="Read JSONL articles (stdin when no file is given), write each line to "
        "stdout with cluster_id, duplicate_of, relation, score and is_representative added "
        "(every input field kept; blank lines skipped). Counts go to stderr. Files ending "
        "in .gz are read decompressed; a line that is not valid JSON, not UTF-8 or not an "
        "article is malformed (see --on-error).",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT.jsonl",
                   help="JSONL files, .jsonl.gz too (default: stdin)")
    p.add_argument("--index", default=None, metavar="PATH|URL",
                   help="SQLite index file or redis://host:port/db URL (default: in memory, "
                   "for this run only)")
    p.add_argument("--window", type=_duration, default=None, metavar="DURATION",
                   help="match only articles published this close in time, e.g. 3d, 12h, 90m")
    p.add_argument("--drop-duplicates", action="store_true",
                   help="write only the first-seen copy of each story")
    _config_arguments(p, representative=False)
    p.add_argument("--source-match", choices=("any", "different", "same"), default=None,
                   help="match articles from any source (default), only different or only "
                   "the same source")
    p.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                   help="a malformed line stops the run (default) or is passed through "
                   "as read (its bytes, ending in a line feed) with a warning")
    p.add_argument("--batch", type=int, default=256, metavar="N",
                   help="lines per committed batch (default 256)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes that extract HTML pages, and prepare and judge batches "
                   "of 128 lines or more, beside this one (default 1: none; the output is "
                   "the same)")

    p = sub.add_parser(
        "compare", help="compare two articles and explain the verdict",
        description="Say whether two articles are the same story (exact, near_duplicate, "
        "containment, rewrite or distinct), with the score, the deciding signals, the shared "
        "passages, what stripping removed, and why not when they are not linked.",
    )
    p.add_argument("a", metavar="A", help="an article file (.txt, .html, one-record .jsonl)")
    p.add_argument("b", metavar="B", help="the other article file")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")

    p = sub.add_parser(
        "eval", help="cluster inputs and score the result against a ground truth",
        description="Cluster the inputs, then print pairwise precision, recall, F1, adjusted "
        "Rand index, recall per relation kind and link rates of hard-negative groups. "
        "TRUTH.json is a list of clusters of document ids, or an object with 'clusters', "
        "optional 'relations' (id -> kind) and 'negatives' (name -> groups); see "
        "newsdedup.evaluate.",
    )
    p.add_argument("--truth", required=True, metavar="TRUTH.json", help="the ground truth")
    p.add_argument("paths", nargs="+", metavar="INPUT", help="files, directories or globs")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    _config_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    return parser


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _duration(text: str) -> timedelta:
    """A duration such as ``3d``, ``12h``, ``90m``, ``30s`` or ``2w``: positive,
    at least a microsecond and at most ``timedelta.max`` (999,999,999 days)."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    try:
        seconds = float(value) * _UNITS[unit]
    except (KeyError, ValueError):
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (use a number and a unit s, m, h, d or w, e.g. 3d)"
        ) from None
    bad = f"the window must be a positive, finite duration such as 3d, 12h, 90m: got {text!r}"
    if not 0 < seconds < math.inf:  # also NaN
        raise argparse.ArgumentTypeError(bad)
    try:
        window = timedelta(seconds=seconds)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{bad} (longer than 999999999 days)") from None
    if not window:
        raise argparse.ArgumentTypeError(f"{bad} (shorter than a microsecond)")
    return window


#: The table explains every linked pair of clusters up to this size.
_EXPLAIN_MAX_MEMBERS = 4


def _print_explanations(result: Clusters, pairs: Sequence[Any], out: TextIO) -> None:
    """The "why" lines of a cluster's linked ``pairs``: the full explanation when
    the result kept the articles' texts, else the verdict's reason (a run of
    more than 50,000 documents keeps no texts to show passages from)."""
    for m in pairs:
        if m.a not in result.articles or m.b not in result.articles:
            v = result.verdicts.get((m.a, m.b))
            reason = v.reason if v is not None else f"{m.relation} {m.score:.2f}"
            out.write(f"    why {m.a} ~ {m.b}: {reason}\n")
            continue
        lines = str(result.explain(m.a, m.b)).split("\n")
        out.write(f"    why {m.a} ~ {m.b}: {lines[1].strip()}\n")
        for line in lines[2:]:
            if not line.lstrip().startswith(("stripped from", "note:")):
                out.write(f"    {line}\n")


def _cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    from .explain import compare

    exp = compare(args.a, args.b)
    if args.format == "json":
        out.write(json.dumps(exp.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(str(exp) + "\n")
    return 0


def _cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from .evaluate import Truth, evaluate
    from .pipeline import Deduper

    truth = Truth.load(args.truth)
    deduper = Deduper(**_config_options(args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = deduper.cluster(args.paths, progress=False if args.no_progress else None)
    report = evaluate([c.members for c in result.clusters], truth)
    if args.format == "json":
        out.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        out.write(report.format() + "\n")
    return 0


def _print_table(result: Clusters, out: TextIO, show_all: bool) -> None:
    out.write(result.summary() + "\n")
    lsh = result.lsh
    out.write(
        f"LSH: {lsh.bands} bands x {lsh.rows} rows; P(candidate | J={lsh.threshold}) = "
        f"{lsh.recall_at_threshold:.3f}\n"
    )
    best = result._best_match()
    # each cluster's linked pairs, found once (not by a pass over every pair per cluster)
    pairs_of: dict[int, list[Any]] = {}
    for pair in result.pairs:
        cid = result.cluster_of(pair.a).id
        if cid == result.cluster_of(pair.b).id:
            pairs_of.setdefault(cid, []).append(pair)
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
        if 1 < len(c.members) <= _EXPLAIN_MAX_MEMBERS:
            _print_explanations(result, pairs_of.get(c.id, []), out)
    if result.skipped:
        out.write(f"\nskipped {len(result.skipped)} inputs:\n")
        for s in result.skipped:
            where = f"{s.source}:{s.line}" if s.line is not None else s.source
            out.write(f"  {where}: {s.reason}\n")


def _cmd_cluster(args: argparse.Namespace, out: TextIO) -> int:
    from .pipeline import Deduper

    deduper = Deduper(errors=args.errors, **_config_options(args))
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


class _FilterRun:
    """State of one ``newsdedup filter`` run: pending lines and the counts."""

    def __init__(self, stream: Any, out: TextIO, err: TextIO, args: argparse.Namespace):
        self.stream, self.out, self.err, self.args = stream, out, err, args
        # (raw line, record or None for a passed-through bad line, article, where)
        self.pending: list[tuple[str | bytes, dict[str, Any] | None, Any, str]] = []
        self.read = self.kept = self.marked = self.dropped = self.passed = 0
        self.unwritten: collections.deque[str] = collections.deque()
        # (id, where) of the batch being added: an interrupt can land after its
        # transaction is committed and before ``unwritten`` is set (it is taken
        # as the commit returns): report() then asks the index which went in
        self.in_flight: list[tuple[str, str]] = []

    def _write_raw(self, raw: str | bytes) -> None:
        """Write an input line through as it was read: a line that is not UTF-8
        as its very bytes (to the output's byte stream when it has one)."""
        if isinstance(raw, str):
            self.out.write(raw)
            return
        binary = getattr(self.out, "buffer", None)
        if binary is not None:
            self.out.flush()
            binary.write(raw)
            binary.flush()
        else:
            self.out.write(raw.decode("utf-8", "surrogateescape"))

    def take(self, lines: Sequence[_Line]) -> bool:
        """Take input lines in order (malformed ones handled, the others added to
        the pending batch, flushed when it is full); False when the run must
        stop. Their HTML pages are first extracted together, by the stream's
        workers when it has them (the same articles as one by one)."""
        from .load import article_from_record
        from .store import check_storable

        parsed: list[tuple[_Line, Any, str]] = []  # (line, record, problem)
        for line in lines:
            if line.text is None:
                parsed.append((line, None, line.problem))
            elif line.text.strip():
                try:
                    parsed.append((line, json.loads(line.text), ""))
                except json.JSONDecodeError as err:
                    parsed.append((line, None, f"not valid JSON ({err.msg})"))
        done = self.stream.html_extractors([
            None if problem else (record, line.name, line.lineno, f"{line.name}:{line.lineno}")
            for line, record, problem in parsed])
        for k, (line, record, problem) in enumerate(parsed):
            where = f"{line.name}:{line.lineno}"
            if not problem:
                try:
                    article = article_from_record(
                        record, source=line.name, line=line.lineno,
                        default_id=f"{line.name}:{line.lineno}", extract_html=done.get(k),
                    )
                    check_storable([article], "an index")
                except InputError as err:
                    problem = err.problem
            if problem:
                if not self.bad_line(line.raw, where, problem):
                    return False
                continue
            self.pending.append((line.raw, record, article, where))
            if len(self.pending) >= self.args.batch and not self.flush():
                return False
        return True

    def bad_line(self, raw: str | bytes, where: str, problem: str) -> bool:
        """Handle a malformed line; return False when the run must stop."""
        if self.args.on_error == "stop":
            if not self.flush():
                return False
            self.err.write(f"newsdedup: error: {where}: {problem}\n")
            return False
        self.err.write(f"newsdedup: warning: {where}: {problem} (passed through untouched)\n")
        self.pending.append((raw, None, None, where))
        return True

    def flush(self) -> bool:
        """Add the pending lines (one transaction) and write them; False after a
        line that stops the run."""
        batch, self.pending = self.pending, []
        arts = [(i, a) for i, (_r, rec, a, _w) in enumerate(batch) if rec is not None]
        ids = [a.id for _i, a in arts]
        taken = set(self.stream.store.seqs_of(ids))
        seen: set[str] = set()
        stop_at = len(batch)
        for i, a in arts:
            if a.id in taken or a.id in seen:
                raw, _rec, _a, where = batch[i]
                problem = f"document id {a.id!r} is already in the index"
                if self.args.on_error == "stop":
                    stop_at = i
                    break
                self.err.write(f"newsdedup: warning: {where}: {problem} (passed through "
                               "untouched)\n")
                batch[i] = (raw, None, None, where)
            seen.add(a.id)
        good = [(i, a) for i, (_r, rec, a, _w) in enumerate(batch[:stop_at]) if rec is not None]
        self.in_flight = [(a.id, batch[i][3]) for i, a in good]  # (none of them indexed yet)
        decisions = self.stream.add_articles(
            [a for _i, a in good], [batch[i][1] for i, _a in good]
        )
        # committed, not yet written: what report() names if the run ends here
        # (Ctrl-C, a closed output pipe)
        self.unwritten = collections.deque(batch[i][3] for i, _a in good)
        self.in_flight = []
        by_line = dict(zip((i for i, _a in good), decisions, strict=True))
        for i, (raw, _rec, _a, _w) in enumerate(batch[:stop_at]):
            self.read += 1
            d = by_line.get(i)
            if d is None:
                self.kept += 1
                self.passed += 1
                self._write_raw(raw)
                continue
            if d.is_representative or not self.args.drop_duplicates:
                self.kept += 1
                self.marked += 0 if d.is_representative else 1
                rec = d.to_record()
                if "id" not in rec:  # the id it got, which others' duplicate_of names
                    rec = {"id": d.id, **rec}
                self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                self.dropped += 1
            self.unwritten.popleft()
        self.out.flush()
        self.unwritten.clear()
        if stop_at < len(batch):
            self.err.write(f"newsdedup: error: {batch[stop_at][3]}: document id "
                           f"{batch[stop_at][2].id!r} is already in the index\n")
            return False
        return True

    def report(self) -> None:
        if self.in_flight and not self.unwritten:
            # stopped while its batch was being added: those of its documents
            # the index holds were committed (none were there before)
            try:
                held = set(self.stream.store.seqs_of([i for i, _w in self.in_flight]))
            except Exception:  # noqa: BLE001 - the report goes on without them
                held = set()
            self.unwritten = collections.deque(w for i, w in self.in_flight if i in held)
        if self.unwritten:
            n = len(self.unwritten)
            span = (self.unwritten[0] if n == 1
                    else f"{self.unwritten[0]} to {self.unwritten[-1]}")
            self.err.write(f"newsdedup: warning: {n} document{'s' if n != 1 else ''} "
                           f"({span}) went into the index but not to the output: the run "
                           "ended while writing them\n")
        passed = f", {self.passed} malformed passed through" if self.passed else ""
        self.err.write(
            f"newsdedup filter: read {self.read}, kept {self.kept} ({self.marked} marked as "
            f"duplicates{passed}), dropped {self.dropped}\n"
        )


class _Line(NamedTuple):
    """One input line of ``filter``: where it is, its text (None when it is not
    valid UTF-8: then ``problem`` says why) and what passing it through writes."""

    name: str
    lineno: int
    text: str | None
    raw: str | bytes
    problem: str = ""


def _split_lines(fh: Any) -> Iterator[bytes]:
    """The lines of a binary stream without their ends: lines end at "\\n",
    "\\r\\n" or "\\r" (universal newlines, as :func:`newsdedup.load` reads JSONL)."""
    for piece in fh:  # each piece ends at a "\n" (or the end of the stream)
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        elif piece.endswith(b"\n"):
            piece = piece[:-1]
        if b"\r" in piece:
            yield from piece.split(b"\r")
        else:
            yield piece


def _decoded_lines(name: str, fh: Any) -> Iterator[_Line]:
    """The lines of a binary stream as UTF-8 text (a leading byte-order mark
    dropped); a line that is not UTF-8 comes with its bytes and the problem."""
    for lineno, data in enumerate(_split_lines(fh), 1):
        if lineno == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            yield _Line(name, lineno, None, data + b"\n",
                        f"invalid UTF-8 at byte {err.start} of the line "
                        f"(byte 0x{data[err.start]:02x})")
            continue
        yield _Line(name, lineno, text, text + "\n")


def _iter_lines(args: argparse.Namespace, stdin: TextIO) -> Iterator[_Line]:
    """The input lines of ``filter``: the files named (gzip-compressed for
    ``.gz``, as ``cluster`` reads them), else standard input."""
    if not args.inputs:
        if stdin is None:  # started with standard input closed
            raise InputError("standard input is closed: give JSONL files to read",
                             source="<stdin>")
        binary = getattr(stdin, "buffer", None)
        if binary is not None:
            yield from _decoded_lines("<stdin>", binary)
            return
        for n, line in enumerate(stdin, 1):  # a text stream without bytes (tests)
            body = line[:-1] if line.endswith("\n") else line
            yield _Line("<stdin>", n, body, body + "\n")
        return
    from .load import _open_binary

    for path in args.inputs:
        try:
            with _open_binary(path) as fh:
                yield from _decoded_lines(path, fh)
        except InputError:
            raise
        except (OSError, EOFError) as err:  # a damaged .gz file, a read error
            what = "not a valid gzip file" if path.lower().endswith(".gz") else "cannot read file"
            raise InputError(f"{what}: {err}", source=path) from None


def _cmd_filter(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from .pipeline import Deduper

    if args.batch < 1:
        sys.stderr.write(f"newsdedup: error: --batch must be at least 1, got {args.batch}\n")
        return 2
    options = _config_options(args)
    if args.window is not None:
        options["window"] = args.window
    if args.source_match is not None:
        options["source_match"] = args.source_match
    if args.workers is not None:
        options["workers"] = args.workers
    deduper = Deduper.open(args.index, **options) if args.index else Deduper(**options)
    run = _FilterRun(deduper._streamer(), out, sys.stderr, args)
    status = 0
    lines = _iter_lines(args, stdin)
    # With workers, a batch of lines is read ahead so that its HTML pages are
    # extracted in parallel; each line is then taken in order as it comes.
    ahead = args.batch if run.stream.workers > 1 else 1
    try:
        while True:
            held: list[_Line] = []
            error: InputError | None = None
            try:
                while len(held) < ahead:
                    held.append(next(lines))
            except StopIteration:
                pass
            except InputError as err:
                error = err
            if not run.take(held):
                status = 1
                break
            if error is not None:
                # the input cannot be read on (a damaged .gz file): what was read
                # before is added and written first, then the run stops
                if run.flush():
                    run.err.write(f"newsdedup: error: {error}\n")
                status = 1
                break
            if len(held) < ahead:  # the end of the input
                if not run.flush():
                    status = 1
                break
    finally:
        run.report()
        deduper.close()
    return status


def _interrupted(err: BaseException) -> bool:
    """Whether ``err`` is, or was caused by, a KeyboardInterrupt."""
    seen: BaseException | None = err
    for _ in range(16):
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 input error, 2 usage)."""
    out = stdout if stdout is not None else sys.stdout
    if out is sys.stdout and hasattr(out, "reconfigure"):
        # A lone surrogate (a JSON "\\ud83d": half of a cut emoji) cannot be
        # encoded: it is written as that very escape, which JSON reads back as it
        # was (it only ever stands inside a string), instead of ending the run.
        out.reconfigure(errors="backslashreplace")
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
        if args.command == "compare":
            return _cmd_compare(args, out)
        if args.command == "eval":
            return _cmd_eval(args, out)
        if args.command == "filter":
            return _cmd_filter(args, out, sys.stdin)
    except NewsDedupError as err:
        sys.stderr.write(f"newsdedup: error: {err}\n")
        return 1
    except TypeError as err:
        sys.stderr.write(f"newsdedup: error: {err}\n")
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`: not an error
        sys.stderr.close()
        return 0
    except OSError as err:  # the machine's: a full disk (inputs raise InputError)
        sys.stderr.write(f"newsdedup: error: {err}\n")
        return 1
    except (KeyboardInterrupt, SystemError) as err:
        # Ctrl-C (numba wraps one that arrives inside a compiled kernel in a
        # SystemError); what was committed stays committed (filter has reported
        # its counts on the way out)
        if not _interrupted(err):
            raise
        sys.stderr.write("newsdedup: interrupted\n")
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
