"""Load articles from files, directories, glob patterns, JSONL and Python objects.

Accepted inputs (see :func:`iter_articles`):

* a path (``str`` or ``os.PathLike``) to a ``.txt``, ``.jsonl``, ``.jsonl.gz``,
  ``.html`` or ``.htm`` file, a directory (searched recursively for those) or
  a glob pattern;
* an iterable of such paths, of plain ``str`` texts, of dicts with the JSONL
  fields, or of :class:`~newsdedup.types.Article`.

A single ``str`` is always a path. In an iterable of ``str``, the items are
paths when every one of them looks like a path (one line, and an existing
file or directory, a glob pattern, a ``/`` or a known file extension);
otherwise they are article texts, and their ids are their positions (``"0"``,
``"1"``, ...).

Document ids: the path string for files (as given, or joined with the
directory when a directory is expanded); the ``id`` field for records (or
``"<path>:<line>"`` when a JSONL record has none); the position for plain texts.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import io
import json
import os
import re
import stat
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .types import Article, Skipped

TEXT_EXTENSIONS = (".txt",)
JSONL_EXTENSIONS = (".jsonl", ".jsonl.gz")
HTML_EXTENSIONS = (".html", ".htm")
SUPPORTED_EXTENSIONS = TEXT_EXTENSIONS + JSONL_EXTENSIONS + HTML_EXTENSIONS
_GLOB_CHARS = set("*?[")
_BINARY_SNIFF = 8192

OnSkip = Callable[[Skipped], None]
#: What extracts an HTML page: (html, url) -> :class:`newsdedup.html.Extraction`.
ExtractHTML = Callable[[str, "str | None"], Any]


def _extract(html: str, url: str | None) -> Any:
    from .html import extract

    return extract(html, url=url)


def _kind(path: str) -> str | None:
    low = path.lower()
    for ext in JSONL_EXTENSIONS:
        if low.endswith(ext):
            return "jsonl"
    if low.endswith(TEXT_EXTENSIONS):
        return "txt"
    if low.endswith(HTML_EXTENSIONS):
        return "html"
    return None


def looks_like_path(item: str) -> bool:
    """Whether a string reads as a path rather than as an article text."""
    if not item or "\n" in item or item != item.strip() or len(item) > 4096:
        return False
    if os.path.exists(item):
        return True
    return bool(_GLOB_CHARS & set(item)) or "/" in item or _kind(item) is not None


_DATE_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%d-%b-%Y", "%Y-%m-%d %H:%M:%S")


def parse_date_text(text: str) -> datetime | None:
    """Parse a date string: ISO 8601, RFC 2822 (RSS, e-mail), or a wire format
    such as ``26-FEB-1987 15:01:01.79``. None when none of them fits."""
    text = text.strip()
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a huge year
        return None


def parse_published(value: Any, *, source: str, line: int | None) -> datetime | None:
    """Parse a ``published`` value: a datetime, a date string (ISO 8601, RFC 2822,
    ``26-FEB-1987 15:01:01``), or None/empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InputError(
            f"field 'published' must be an ISO 8601 date string, got {type(value).__name__}",
            source=source,
            line=line,
        )
    parsed = parse_date_text(value)
    if parsed is None:
        raise InputError(
            f"field 'published' is not an ISO 8601 date: {value!r}", source=source, line=line
        )
    return parsed


def _published_of(record: Mapping[str, Any], *, source: str, line: int | None) -> datetime | None:
    """``published``, or else a parseable ``date`` field (as in Reuters-21578 and
    many feeds); a ``date`` that is not a date is ignored, it is not our field."""
    if record.get("published") not in (None, ""):
        return parse_published(record.get("published"), source=source, line=line)
    value = record.get("date")
    return parse_date_text(value) if isinstance(value, str) else None


def _opt_str(record: Mapping[str, Any], name: str, *, source: str, line: int | None) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(
            f"field {name!r} must be a string, got {type(value).__name__}", source=source, line=line
        )
    return value


def record_id(
    raw_id: Any, *, source: str | None, line: int | None, what: str = "field 'id'"
) -> str:
    """A document id as records give it: a string, or an integer (made a string)."""
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise InputError(
            f"{what} must be a string or an integer, got {type(raw_id).__name__}",
            source=source,
            line=line,
        )
    return str(raw_id)


def article_from_record(
    record: Mapping[str, Any], *, source: str, line: int | None, default_id: str,
    extract_html: ExtractHTML | None = None,
) -> Article:
    """Build an Article from a JSONL-style record (``id``, ``text``, optional fields).

    A record with an ``html`` field and no ``text`` (or an empty one) is
    extracted with trafilatura; a non-empty ``text`` wins over ``html``.
    ``extract_html``: what extracts it (default :func:`newsdedup.html.extract`).
    """
    if not isinstance(record, Mapping):
        raise InputError(
            f"expected a JSON object with a 'text' field, got {type(record).__name__}",
            source=source,
            line=line,
        )
    doc_id = record_id(record.get("id", default_id), source=source, line=line)
    text = record.get("text")
    title = _opt_str(record, "title", source=source, line=line)
    url = _opt_str(record, "url", source=source, line=line)  # (checked before extraction)
    agreed = None
    # an empty "text" is what a scraper writes when its own extraction failed:
    # the page's "html", when there is one, is read instead
    no_text = text is None or (isinstance(text, str) and (not text or text.isspace()))
    if no_text and record.get("html") is not None and not isinstance(record["html"], str):
        raise InputError(
            f"field 'html' must be a string, got {type(record['html']).__name__}",
            source=source, line=line,
        )
    if no_text and isinstance(record.get("html"), str) and record["html"].strip():
        try:
            ex = (extract_html or _extract)(record["html"], url)
        except InputError as err:  # (a page too deep to read)
            raise InputError(f"field 'html': {err.problem}", source=source, line=line) from None
        text, agreed = ex.text, ex.agreed
        title = title or ex.title
        url = url or ex.url
    if text is None:
        raise InputError("record has no 'text' field", source=source, line=line)
    if not isinstance(text, str):
        raise InputError(
            f"field 'text' must be a string, got {type(text).__name__}", source=source, line=line
        )
    return Article(
        id=doc_id,
        text=text,
        title=title,
        source=_opt_str(record, "source", source=source, line=line),
        published=_published_of(record, source=source, line=line),
        url=url,
        agreed=agreed,
    )


def _open_raw(path: str) -> Any:
    """Open a file for reading bytes; a failure becomes an InputError naming it."""
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except PermissionError:
        raise InputError("permission denied: the file cannot be read", source=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", source=path) from None
    except OSError as err:
        raise InputError(f"cannot read file: {err.strerror or err}", source=path) from None


def _read_bytes(path: str) -> bytes:
    with _open_raw(path) as fh:
        try:
            data: bytes = fh.read()
        except OSError as err:
            raise InputError(f"cannot read file: {err.strerror or err}", source=path) from None
        return data


def _decode(data: bytes, path: str) -> str:
    if b"\x00" in data[:_BINARY_SNIFF]:
        raise InputError("binary file (contains NUL bytes), not text", source=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"invalid UTF-8 at byte {err.start} (byte 0x{data[err.start]:02x})",
            source=path,
            line=line,
        ) from None


def _load_txt(path: str) -> Article:
    text = _decode(_read_bytes(path), path)
    lines = text.splitlines()
    idx = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if idx is None:
        return Article(id=path, text="", title=None)
    title = lines[idx].strip()
    body = "\n".join(lines[idx + 1 :]).strip("\n")
    return Article(id=path, text=body, title=title)


#: A byte-order mark and the codec it stands for (UTF-32 before UTF-16: its
#: little-endian mark starts with UTF-16's).
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
#: <meta charset="..."> or <meta http-equiv="Content-Type" content="...; charset=...">
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""",
                           re.IGNORECASE)
_XML_ENCODING = re.compile(
    rb"""\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})["']""", re.IGNORECASE)
_BODY_TAG = re.compile(rb"<body[\s>]", re.IGNORECASE)
#: How far into a page its declared charset is looked for: the first 4 KB, then
#: the rest of its head up to this many bytes (inline scripts and styles can
#: push the <meta> far down).
HEAD_SCAN_BYTES = 1 << 16


def _declared_charset(data: bytes) -> str | None:
    """The charset a page declares: its XML declaration's encoding (XHTML), else
    a ``<meta>`` in the first 4 KB, else in its head (before ``<body``, within
    :data:`HEAD_SCAN_BYTES`)."""
    m = _XML_ENCODING.match(data, 0, 4096) or _META_CHARSET.search(data, 0, 4096)
    if m is None:
        body = _BODY_TAG.search(data, 0, HEAD_SCAN_BYTES)
        m = _META_CHARSET.search(data, 0, HEAD_SCAN_BYTES if body is None else body.start())
    return None if m is None else m.group(1).decode("ascii")


#: Charset labels that browsers decode as a superset (the WHATWG Encoding
#: Standard): pages labelled iso-8859-1 are written in windows-1252 (curly
#: quotes and dashes in 0x80-0x9f), gb2312 in GBK, shift_jis in cp932, ...
#: and labels Python does not know.
_WHATWG = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
    "latin5": "cp1254", "iso-8859-11": "cp874", "tis-620": "cp874", "windows-874": "cp874",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "windows-31j": "cp932", "ms_kanji": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "x-cp1251": "cp1251", "x-cp1250": "cp1250", "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman", "x-mac-cyrillic": "mac_cyrillic",
}


def _decode_html(data: bytes, path: str) -> str:
    """An HTML file's text: by its byte-order mark, else UTF-8, else the charset
    it declares (:func:`_declared_charset`: iso-8859-1, windows-1252,
    shift_jis, ...; a page in a legacy encoding is valid HTML), read as browsers
    read it (:data:`_WHATWG`: iso-8859-1 as windows-1252, gb2312 as GBK, ...)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as err:
                raise InputError(f"invalid {codec.upper()} at byte {err.start} "
                                 "(the byte-order mark says so)", source=path) from None
    try:
        return _decode(data, path)
    except InputError as utf8_error:
        name = _declared_charset(data)
        if name is None:
            raise InputError(f"{utf8_error.problem}; an HTML file in another encoding must "
                             "declare it (<meta charset=...>)", source=path,
                             line=utf8_error.line) from None
        try:
            codec = codecs.lookup(_WHATWG.get(name.lower(), name)).name
        except LookupError:
            raise InputError(f"{utf8_error.problem}, and the declared charset {name!r} is "
                             "not one Python knows", source=path) from None
        try:
            return data.decode(codec)
        except UnicodeDecodeError as err:
            if codec == "cp1252":  # its five unassigned bytes: C1 controls, as browsers do
                return data.decode("latin-1")
            raise InputError(f"not valid {name} (the declared charset) at byte {err.start}",
                             source=path) from None


def _load_html(path: str, extract_html: ExtractHTML | None = None) -> Article:
    try:
        ex = (extract_html or _extract)(_decode_html(_read_bytes(path), path), None)
    except InputError as err:  # (a page too deep to read)
        raise InputError(err.problem, source=path) from None
    return Article(id=path, text=ex.text, title=ex.title, agreed=ex.agreed, url=ex.url)


_BLOCK = 1 << 24  # bytes per read when checking a JSONL file


@contextmanager
def _open_binary(path: str) -> Iterator[Any]:
    """The file's bytes as a stream (gzip-decompressed for ``.gz``)."""
    fh = _open_raw(path)
    with fh:
        if path.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                yield gz
        else:
            yield fh


def _read_block(fh: Any, path: str, size: int = -1) -> bytes:
    try:
        return fh.read(size)  # type: ignore[no-any-return]
    except (OSError, EOFError) as err:
        if path.lower().endswith(".gz"):
            raise InputError(f"not a valid gzip file: {err}", source=path) from None
        raise InputError(f"cannot read file: {err}", source=path) from None


def _check_jsonl(path: str) -> None:
    """The whole-file checks of :func:`_decode`, streamed block by block (same
    messages, same byte offsets and line numbers), so that a bad file is
    rejected before any of its records is used and never held in memory whole."""
    from . import _native

    native = _native.available()
    with _open_binary(path) as fh:
        offset = bom = 0
        carry = tail = b""
        first = True
        while True:
            # The first read covers the NUL sniff and the BOM in one piece.
            raw = _read_block(fh, path, max(_BLOCK, _BINARY_SNIFF) if first else _BLOCK)
            data = carry + raw
            if first:
                if b"\x00" in data[:_BINARY_SNIFF]:
                    raise InputError("binary file (contains NUL bytes), not text", source=path)
                bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
                first = False
            if not data:
                return
            try:
                # (with numba: checked in a compiled pass, no string made; a block
                # it finds fault with is decoded, for the message or the carry)
                if not (native and _native.utf8_valid(data)):
                    data.decode("utf-8")
                consumed, carry = len(data), b""
            except UnicodeDecodeError as err:
                if raw and err.reason == "unexpected end of data":
                    consumed, carry = err.start, data[err.start :]  # a character split by the block
                else:
                    # utf-8-sig counts offsets after the BOM; _decode then shows the
                    # byte at that offset of the whole data: the same here.
                    shown = (tail + data)[len(tail) + err.start - bom]
                    raise InputError(
                        f"invalid UTF-8 at byte {offset + err.start - bom} (byte 0x{shown:02x})",
                        source=path,
                        line=_newlines_before(path, offset) + 1 + (
                            data.count(b"\n", 0, err.start - bom) if err.start >= bom
                            else -tail[len(tail) + err.start - bom :].count(b"\n")
                        ),
                    ) from None
            offset += consumed
            tail = (tail + data[max(0, consumed - 3) : consumed])[-3:]


def _newlines_before(path: str, offset: int) -> int:
    """How many "\\n" bytes the first ``offset`` bytes of the file hold (read
    again: only an error message needs it, so the check does not count them)."""
    count = 0
    with _open_binary(path) as fh:
        while offset > 0:
            block = _read_block(fh, path, min(_BLOCK, offset))
            if not block:
                break
            count += block.count(b"\n")
            offset -= len(block)
    return count


def _jsonl_lines(path: str) -> Iterator[str]:
    """The lines of a checked JSONL file, one at a time, without their line ends.

    Lines end at "\\n", "\\r\\n" or "\\r" (universal newlines, as the ``filter``
    command reads its input), not at every character ``str.splitlines`` breaks
    at: U+2028, U+2029 and U+0085 may stand unescaped inside a JSON string (as
    ``json.dumps(..., ensure_ascii=False)`` writes them, and scraped news text
    has them), and such a record is one line."""
    with _open_binary(path) as fh, io.TextIOWrapper(fh, encoding="utf-8-sig", newline=None) as text:
        for line in text:
            yield line[:-1] if line.endswith("\n") else line


#: Where the article an iterator yielded last came from: [source, line].
_Where = list[Any]


def _iter_jsonl(
    path: str, errors: str, on_skip: OnSkip, where: _Where, extract_html: ExtractHTML | None,
) -> Iterator[Article]:
    _check_jsonl(path)
    for lineno, line in enumerate(_jsonl_lines(path), start=1):
        if not line or line.isspace():  # (== not line.strip(), without copying the line)
            continue
        try:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(f"not valid JSON ({err.msg})", source=path, line=lineno) from None
            article = article_from_record(
                record, source=path, line=lineno, default_id=f"{path}:{lineno}",
                extract_html=extract_html,
            )
            where[0], where[1] = path, lineno
            yield article
        except InputError as err:
            if errors == "raise":
                raise
            on_skip(Skipped(source=path, line=lineno, reason=err.problem))


def _dir_problem(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied: the directory cannot be read"
    return f"cannot read directory: {err.strerror or err}"


def _expand_path(item: str) -> Iterator[tuple[str, bool, str | None]]:
    """Yield (file path, explicitly named, None) for a path, directory or glob,
    and (directory, False, problem) for a directory that could not be read."""
    if os.path.isdir(item):
        found: list[tuple[str, str | None]] = []

        def unreadable(err: OSError) -> None:  # os.walk would drop the directory silently
            found.append((err.filename if isinstance(err.filename, str) else item,
                          _dir_problem(err)))

        for root, dirs, files in os.walk(item, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend((os.path.join(root, f), None) for f in files if not f.startswith("."))
        for f, problem in sorted(found, key=lambda t: t[0]):
            yield f, False, problem
    elif os.path.exists(item) or not (_GLOB_CHARS & set(item)):
        yield item, True, None
    else:
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            raise InputError("glob pattern matches no file", source=item)
        for m in matches:
            if os.path.isdir(m):
                yield from _expand_path(m)
            else:
                yield m, False, None


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "a special file"


def _iter_file(
    path: str, explicit: bool, errors: str, on_skip: OnSkip, where: _Where,
    extract_html: ExtractHTML | None,
) -> Iterator[Article]:
    kind = _kind(path)
    if kind is None:
        reason = (
            f"unsupported file type (supported: {', '.join(SUPPORTED_EXTENSIONS)})"
        )
        if explicit and errors == "raise":
            raise InputError(reason, source=path)
        on_skip(Skipped(source=path, line=None, reason=reason))
        return
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # as os.path.exists
        raise InputError("no such file or directory", source=path) from None
    if not stat.S_ISREG(mode):  # opening a FIFO would wait for a writer forever
        reason = f"not a regular file ({_file_type(mode)})"
        if explicit:
            raise InputError(reason, source=path)
        on_skip(Skipped(source=path, line=None, reason=reason))
        return
    if kind == "jsonl":
        yield from _iter_jsonl(path, errors, on_skip, where, extract_html)
        return
    article = _load_txt(path) if kind == "txt" else _load_html(path, extract_html)
    where[0], where[1] = path, None
    yield article


def _iter_paths(
    paths: Iterable[str], errors: str, on_skip: OnSkip, where: _Where,
    extract_html: ExtractHTML | None = None,
) -> Iterator[Article]:
    for item in paths:
        if not os.path.exists(item) and not (_GLOB_CHARS & set(item)):
            err = InputError("no such file or directory", source=item)
            if errors == "raise":
                raise err
            on_skip(Skipped(source=item, line=None, reason=err.problem))
            continue
        try:
            expanded = list(_expand_path(item))
        except InputError as err:
            if errors == "raise":
                raise
            on_skip(Skipped(source=item, line=None, reason=err.problem))
            continue
        for path, explicit, problem in expanded:
            if problem is not None:  # a directory that could not be read
                if errors == "raise":
                    raise InputError(problem, source=path)
                on_skip(Skipped(source=path, line=None, reason=problem))
                continue
            try:
                yield from _iter_file(path, explicit, errors, on_skip, where, extract_html)
            except InputError as err:
                if errors == "raise":
                    raise
                on_skip(Skipped(source=err.source or path, line=err.line, reason=err.problem))


def _describe(obj: object) -> str:
    return type(obj).__name__


def iter_articles(
    inputs: Any, *, errors: str = "raise", on_skip: OnSkip | None = None
) -> Iterator[Article]:
    """Yield the articles of ``inputs`` one by one (see the module docstring).

    Args:
        inputs: paths, directories, globs, or an iterable of paths, texts,
            records or Articles.
        errors: ``"raise"`` stops at the first bad input with an
            :class:`~newsdedup.errors.InputError`; ``"skip"`` reports it to
            ``on_skip`` and goes on.
        on_skip: called with a :class:`~newsdedup.types.Skipped` for every
            skipped input (required to see skips; they are otherwise dropped).

    Duplicate ids raise an InputError (or, with ``errors="skip"``, the later
    occurrence is skipped and reported).
    """
    sink: OnSkip = on_skip if on_skip is not None else (lambda s: None)
    seen: set[str] = set()
    where: _Where = [None, None]  # (source, line) of the article yielded last
    if isinstance(inputs, Iterable) and not isinstance(inputs, (
            str, bytes, bytearray, memoryview, os.PathLike, Article, Mapping, list, tuple)):
        inputs = list(inputs)  # (read twice below; _iter_inputs makes the same list)
    extract_html = _ParallelExtract.for_inputs(inputs)
    try:
        for article in _iter_inputs(inputs, errors, sink, where, extract_html):
            if article.id in seen:
                source, line = where
                err = InputError(
                    f"duplicate document id {article.id!r} (an earlier document has it)",
                    source=source if source is not None else article.id, line=line)
                if errors == "raise":
                    raise err
                sink(Skipped(source=err.source or article.id, line=line, reason=err.problem))
                continue
            seen.add(article.id)
            yield article
    finally:
        if extract_html is not None:
            extract_html.close()


def _iter_inputs(
    inputs: Any, errors: str, sink: OnSkip, where: _Where,
    extract_html: ExtractHTML | None = None,
) -> Iterator[Article]:
    if isinstance(inputs, (str, os.PathLike)):
        yield from _iter_paths([os.fspath(inputs)], errors, sink, where, extract_html)
        return
    if isinstance(inputs, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"expected paths or documents, got {_describe(inputs)} "
            "(decode bytes to str first)"
        )
    if isinstance(inputs, (Article, Mapping)):
        raise TypeError(
            f"expected paths or an iterable of documents, got a single {_describe(inputs)}; "
            "wrap it in a list"
        )
    if not isinstance(inputs, Iterable):
        raise TypeError(f"expected paths or documents, got {_describe(inputs)}")
    items = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    if items and all(isinstance(x, (str, os.PathLike)) for x in items):
        strs = [os.fspath(x) for x in items]
        if all(isinstance(x, os.PathLike) for x in items) or all(looks_like_path(s) for s in strs):
            yield from _iter_paths(strs, errors, sink, where, extract_html)
            return
    for pos, item in enumerate(items):
        where[0], where[1] = "<records>", pos + 1
        if isinstance(item, Article):
            yield item
        elif isinstance(item, str):
            yield Article(id=str(pos), text=item)
        elif isinstance(item, Mapping):
            try:
                yield article_from_record(
                    item, source="<records>", line=pos + 1, default_id=str(pos),
                    extract_html=extract_html,
                )
            except InputError as err:
                if errors == "raise":
                    raise
                sink(Skipped(source="<records>", line=pos + 1, reason=err.problem))
        elif isinstance(item, (os.PathLike,)):
            yield from _iter_paths([os.fspath(item)], errors, sink, where, extract_html)
        else:
            raise TypeError(
                f"item {pos} of the inputs is a {_describe(item)}; expected a path, "
                "a str text, a dict record or an Article"
            )


#: HTML pages extracted ahead of the one the reading asks for, per worker process.
EXTRACT_AHEAD_PER_WORKER = 4
#: The pass that looks ahead for pages stops after this many articles without
#: one (a page takes about 30 ms to extract, an article of text 0.01 ms to read:
#: the pages left are extracted by the reading process itself).
EXTRACT_SCAN_LIMIT = 64


def extraction_of(kind: str, value: Any, html: str, url: str | None) -> Any:
    """The extraction an :func:`extract_job` result stands for: the worker's
    extraction, its InputError raised again, or (any other error: "again") the
    page extracted here."""
    if kind == "ok":
        return value
    if kind == "input":
        raise InputError(value)
    return _extract(html, url)


def _noting(found: list[tuple[str, str | None]]) -> ExtractHTML:
    """An extractor that notes each (html, url) it is asked for in ``found``
    and gives an empty extraction as a stand-in (to find pages without
    extracting them)."""
    from .html import Extraction

    stand_in = Extraction(title=None, text="", agreed=None, extractor="trafilatura")

    def note(html: str, url: str | None) -> Any:
        found.append((html, url))
        return stand_in

    return note


def page_of(record: Any, *, source: str, line: int | None, default_id: str
            ) -> tuple[str, str | None] | None:
    """The (html, url) that :func:`article_from_record` would extract for
    ``record`` (None: none, or it refuses the record before extracting)."""
    found: list[tuple[str, str | None]] = []
    with suppress(InputError):
        article_from_record(record, source=source, line=line, default_id=default_id,
                            extract_html=_noting(found))
    return found[0] if found else None


def extract_job(html: str, url: str | None) -> tuple[str, Any]:
    """:func:`_extract` in a worker process: ("ok", the extraction), ("input",
    the problem of the InputError it raised), or ("again", None) for any other
    error (the reading process extracts the page itself, and raises it there)."""
    try:
        return "ok", _extract(html, url)
    except InputError as err:
        return "input", err.problem
    except Exception:  # noqa: BLE001 - raised again where the page is read
        return "again", None


class _ParallelExtract:
    """HTML extraction for one reading pass over ``inputs``, computed ahead by
    worker processes: about 30 ms a page in trafilatura and readability-lxml,
    against well under 1 ms for everything else of reading a page, so a reading
    pass of HTML input was one core's work.

    A second pass over the same inputs (run from here, as the first one asks
    for pages: no thread) finds the pages in the order the reading will ask
    for them (its own extractions are stand-ins) and hands them to a pool of
    forked workers, :data:`EXTRACT_AHEAD_PER_WORKER` per worker ahead; each call
    takes the next result. A page that is not the one the second pass found
    (a file changed in between) is extracted in this process, and so is every
    page after it. The results are the extractions themselves, errors included
    (an InputError is raised again here, where the reading handles it)."""

    def __init__(self, inputs: Any, workers: int):
        self._inputs = inputs
        self._workers = workers
        self._pool: Any = None
        self._pages: Generator[tuple[str, str | None], None, None] | None = None
        self._ahead: list[tuple[str, str | None, Any]] = []
        self._off = False  # extract here from now on

    @classmethod
    def for_inputs(cls, inputs: Any) -> _ParallelExtract | None:
        from .chunks import worker_count
        from .forked import fork_available

        workers = worker_count()
        return cls(inputs, workers) if workers > 1 and fork_available() else None

    def _second_pass(self) -> Generator[tuple[str, str | None], None, None]:
        found: list[tuple[str, str | None]] = []
        without = 0  # articles read since the last page
        for _article in _iter_inputs(self._inputs, "skip", lambda s: None, [None, None],
                                     _noting(found)):
            if not found:
                without += 1
                if without > EXTRACT_SCAN_LIMIT:
                    return  # (few pages among many texts: not worth reading twice)
                continue
            without = 0
            yield from found
            found.clear()
        yield from found  # (a page whose article the reading then skips)

    def _fill(self) -> None:
        while self._pages is not None and (
                len(self._ahead) < self._workers * EXTRACT_AHEAD_PER_WORKER):
            try:
                page = next(self._pages)
            except Exception:  # noqa: BLE001 - (the end, or an input the reading will
                self._pages = None  # raise on itself): nothing more is found ahead
                return
            self._ahead.append((*page, self._pool.submit(extract_job, *page)))

    def __call__(self, html: str, url: str | None) -> Any:
        from concurrent.futures import BrokenExecutor

        if self._off:
            return _extract(html, url)
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            from .forked import interrupts_held, watch_parent

            self._pool = ProcessPoolExecutor(self._workers, mp_context=mp.get_context("fork"),
                                             initializer=watch_parent,
                                             initargs=(os.getpid(),))
            self._pages = self._second_pass()
            with interrupts_held():  # (the workers are forked at the first submit)
                self._fill()
        else:
            self._fill()
        if self._ahead:
            expected_html, expected_url, result = self._ahead.pop(0)
            if expected_html == html and expected_url == url:
                self._fill()  # (the workers kept busy while this one is waited for)
                try:
                    kind, value = result.result()
                except BrokenExecutor:  # a worker was killed: extract here from now on
                    kind, value = "again", None
                    self._stop()
                return extraction_of(kind, value, html, url)
        self._stop()  # not the page the second pass found: extract here from now on
        return _extract(html, url)

    def _stop(self) -> None:
        self.close()
        self._off = True

    def close(self) -> None:
        """Stop the workers (the extractions not taken are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        pages, self._pages = self._pages, None
        if pages is not None:
            pages.close()
        self._ahead.clear()


def load(inputs: Any, *, errors: str = "raise") -> tuple[list[Article], list[Skipped]]:
    """Load all articles of ``inputs`` into a list; return them with the skipped inputs."""
    skipped: list[Skipped] = []
    articles = list(iter_articles(inputs, errors=errors, on_skip=skipped.append))
    return articles, skipped


def read_path(path: str | Path) -> Article:
    """Load one file that holds one article (``.txt`` or ``.html``)."""
    p = os.fspath(path)
    arts = list(iter_articles([p] if looks_like_path(p) else p))
    if len(arts) != 1:
        raise InputError(f"expected one article, found {len(arts)}", source=p)
    return arts[0]
