"""Reading `.lgt` traces: lines in, `Record`s out, or one `TraceError`.

    read_trace(path, *, partial=False)       stream a file, one Record per record line
    parse_text(text, path="<string>", ...)   the same on a string, as a list
    parse_line(text, lineno, path, ...)      one line: a Record, or None if blank
    parse_line_lark(text, lineno, path, ...) the same, always through lark (the reference)

A line goes through three stages: `lgt_syntax` (grammars/lgt.lark, run by lark:
the syntax), `lgt_fields` (the values: widths, names, required fields) and, for
speed, `lgt_shapes` (a cache of compiled templates, one per line shape, that
does the second stage's work for lines lark has already seen the shape of).
This module adds what needs more than one line: the header must come first and
only there, timestamps never decrease, and the file must have a record at all;
and, for speed again, a table of the lines met before in the file (a line
whose text after its timestamp was read twice before is that record again).

`partial=True` is the reader's partial mode: `?` (a value the capture did not
record) becomes `records.UNKNOWN`; without it, `?` is an input error.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from functools import partial as _bind
from itertools import compress, count, repeat
from operator import itemgetter
from typing import Iterable, Iterator

from lark.exceptions import UnexpectedInput

from .errors import LineError, TraceError
from .lgt_fields import Builder
from .lgt_shapes import BLANK, KEY_DELETE, NOMATCH, ShapeCache, read_mem
from .lgt_syntax import Draft, parse_draft, syntax_error
from .output_watch import tick
from .records import Record

__all__ = ["MAX_LINE", "open_trace", "read_trace", "parse_text", "parse_line", "parse_line_lark", "TraceError"]

HEADER_TEXT = '"lguest-trace 1"'

# ------------------------------------------------------------------ one line

_BUILDERS = {False: Builder(partial=False), True: Builder(partial=True)}


def _parse_slow(text: str, lineno: int, path: str, partial: bool) -> tuple[Record | None, Draft | None]:
    """Lark, then the value checks; any failure becomes the line's TraceError."""
    try:
        draft = parse_draft(text)
        if draft is None:
            return None, None
        return _BUILDERS[partial].build(draft, text, lineno), draft
    except UnexpectedInput as exc:
        syntax = exc
    except LineError as exc:
        raise _line_error(path, lineno, text, exc) from None
    except Exception as exc:  # a bug, but the promise is: only TraceError leaves
        raise _internal_error(path, lineno, text, exc) from exc
    try:
        problem = syntax_error(text, syntax, partial)
    except Exception as exc:
        raise _internal_error(path, lineno, text, exc) from exc
    raise _line_error(path, lineno, text, problem)


_CACHES = {mode: ShapeCache(mode, _bind(_parse_slow, partial=mode)) for mode in (False, True)}


def parse_line_lark(text: str, lineno: int, path: str = "<string>", *, partial: bool = False) -> Record | None:
    """One line (without its line ending) parsed by lark alone: the reference.

    Returns None for a blank or comment-only line; raises TraceError.
    """
    return _parse_slow(text, lineno, path, bool(partial))[0]


def parse_line(text: str, lineno: int, path: str = "<string>", *, partial: bool = False) -> Record | None:
    """One line (without its line ending): a Record, None if blank, or TraceError.

    Same result as `parse_line_lark`, through the shape cache (see lgt_shapes).
    """
    try:
        return _CACHES[bool(partial)].parse(text, lineno, path)
    except TraceError:
        raise
    except Exception as exc:
        raise _internal_error(path, lineno, text, exc) from exc


# ------------------------------------------------------------- many lines


MAX_LINE = 65536  # characters; a longer line is an input error (trace-format.md)


class NotRegularFile(OSError):
    """A path that names a folder, a FIFO, a device or a socket, where a regular file is read."""


def open_regular(path):
    """Open a regular file for reading in binary: a FIFO or a device never hangs the open.

    The file is opened without blocking and without becoming a controlling
    terminal, then checked with fstat on the descriptor itself, so what is
    checked is what is read.  Raises OSError (NotRegularFile for what is not
    a regular file, its strerror saying what it is instead).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO, device or socket)"
            raise NotRegularFile(0, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_trace(path):
    """Open a trace for reading: `-` is standard input, anything else must be a regular file (open_regular).

    Returns a binary file object; raises TraceError (line 0).
    """
    name = os.fsdecode(path)
    if name == "-":
        return sys.stdin.buffer
    try:
        return open_regular(path)
    except NotRegularFile as exc:
        raise TraceError(name, 0, 0, f"cannot read trace: {exc.strerror}") from None
    except OSError as exc:
        raise TraceError(name, 0, 0, f"cannot open trace: {exc.strerror or exc}") from None


def read_trace(path, *, partial: bool = False) -> Iterator[Record]:
    """Stream the records of the trace file at `path` (`-`: standard input).

    The file is opened now (a missing file, or one that is not a regular file,
    raises here, with line 0) and read in bounded chunks as it is iterated, so
    memory does not grow with its length nor with the length of one line.
    Lines are decoded one by one, so a byte that is not UTF-8 is reported at
    its line and column.  Raises TraceError at the first input error; records
    before it have been yielded.
    """
    name = os.fsdecode(path)
    f = open_trace(path)
    # _records closes the file when it ends (one generator, not one wrapping another: a
    # record then passes through one frame less).
    return _records(_file_lines(f, name), name, bool(partial), f if name != "-" else None)


def parse_text(text: str, path: str = "<string>", *, partial: bool = False) -> list[Record]:
    """All records of a whole trace given as a string (tests and tools)."""
    return list(_records(_text_lines(text, path), path, bool(partial)))


CHUNK = 1 << 16  # bytes read at a time (read1: what a pipe has, without waiting for more)


def _file_lines(f, name: str) -> Iterator[tuple[int, list[str]]]:
    """Batches of the file's lines: (number of the first, [text, ...], stamp form), read in bounded chunks.

    A chunk's complete lines are decoded and split at once (C speed); the
    rest of a line waits for the next chunk; a batch of a whole chunk says how
    its lines are stamped (`_stamp_form`).  A line longer than MAX_LINE
    characters (4 bytes each at most in UTF-8) is reported as too long,
    having held at most 4 * MAX_LINE + 3 bytes of it, and the rest of the
    file is never read.  A chunk that is not UTF-8 goes line by line
    (`_slow_lines`), so the error names its line and column, after the lines
    before it.  A line ends with \\n or \\r\\n; any other \\r is text.
    """
    limit = 4 * MAX_LINE + 3
    read = getattr(f, "read1", f.read)
    lineno = 0
    pending = b""
    try:
        while True:
            chunk = read(CHUNK)
            tick()  # (a closed output is noticed here: replay writes nothing until the file's end)
            if not chunk:
                break
            if pending:
                chunk = pending + chunk
            end = chunk.rfind(b"\n")
            if end < 0:
                pending = chunk
                if len(pending) >= limit:  # one line, too long: nothing after it is read
                    _check_length(name, lineno + 1, memoryview(pending)[:limit])  # raises: over MAX_LINE characters
                    return
                continue
            pending = chunk[end + 1 :]
            # A line may be over the limit (in bytes): the lines one by one, each checked.  Only the
            # first can be (the others came whole in this read, of at most CHUNK <= MAX_LINE + 1
            # bytes), so one find looks at it, and the chunk is split twice only then.
            if end > MAX_LINE and (CHUNK > MAX_LINE + 1 or chunk.find(b"\n", 0, MAX_LINE + 1) < 0):
                raws = chunk[:end].split(b"\n")
                if max(map(len, raws)) > MAX_LINE:
                    del chunk
                    yield from _slow_lines(raws, name, lineno)
                    lineno += len(raws)
                    continue
            try:
                text = str(memoryview(chunk)[:end], "utf-8")  # (decoded in place: chunk[:end] would copy it first)
            except UnicodeDecodeError:
                yield from _slow_lines(chunk[:end].split(b"\n"), name, lineno)
                lineno += chunk.count(b"\n", 0, end) + 1
                continue
            lines = text.split("\n")
            if "\r" in text:
                lines = [t[:-1] if t[-1:] == "\r" else t for t in lines]
            yield lineno + 1, lines, _stamp_form(chunk, end)
            lineno += len(lines)
            if len(pending) >= limit:
                _check_length(name, lineno + 1, memoryview(pending)[:limit])
        if pending:  # the last line, without a line ending
            if len(pending) > MAX_LINE:
                _check_length(name, lineno + 1, pending)
            try:
                text = pending.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _utf8_error(name, lineno + 1, pending[: 4 * MAX_LINE], exc) from None
            yield lineno + 1, [text]
    except OSError as exc:
        raise TraceError(name, 0, 0, f"cannot read trace: {exc.strerror or exc}") from None


def _slow_lines(raws: list[bytes], name: str, lineno: int) -> Iterator[tuple[int, list[str]]]:
    """Complete lines one by one (each without its \\n): the one that is too long or not UTF-8 raises."""
    for raw in raws:
        lineno += 1
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        if len(raw) > MAX_LINE:
            _check_length(name, lineno, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _utf8_error(name, lineno, raw[: 4 * MAX_LINE], exc) from None
        yield lineno, [text]


def _check_length(name: str, lineno: int, raw: bytes) -> None:
    """A line of more than MAX_LINE characters is an input error, at the first character past the limit."""
    text = str(memoryview(raw)[: 4 * MAX_LINE + 4], "utf-8", "replace")  # a view: no copy of a long line
    if len(text) > MAX_LINE:
        raise TraceError(
            name,
            lineno,
            MAX_LINE + 1,
            f"line longer than {MAX_LINE:,} characters (the format's limit); nothing after it is read",
        )


def _text_lines(text: str, path: str) -> Iterator[tuple[int, list[str]]]:
    lines = text.split("\n")  # not splitlines(): \v, \x1c or U+2028 do not end a line
    if lines[-1] == "":
        lines.pop()  # the text ends with a line ending, or is empty
    if "\r" in text:
        lines = [line[:-1] if line[-1:] == "\r" else line for line in lines]
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE:
            yield 1, lines[:i]  # the lines before it are read first
            raise TraceError(
                path, i + 1, MAX_LINE + 1, f"line longer than {MAX_LINE:,} characters (the format's limit)"
            )
    yield 1, lines


def _records(batches: Iterable[tuple], path: str, partial: bool, close=None, ways: bool = True) -> Iterator[Record]:
    """Parse each line and apply the rules that span lines; `close`: a file to close at the end.

    `ways=False` gives every line to `parse` (tests: the reference the loop's
    own ways below are checked against).

    Lines come in batches: (number of the first, [text, ...]) and, from the
    file reader, a third item: how the batch's lines may be stamped (see
    `_stamp_form`: 0 none is, (i, f) all alike, None anything else).

    Once the header is read, three ways, fastest first:

    * a line met before: a batch whose lines are all stamped alike (or none
      is) and in order (`_stamps`: the whole batch checked at once, in C)
      cuts each line's timestamp off by position, and a record line seen
      earlier in this file with the same text after its timestamp (`seen`:
      bounded, filled by the templates below) is the same record again, with
      this line's number, text and timestamp;
    * a line whose whole text has a template (lgt_shapes: a hot record,
      timestamp included) is read right here, and of the rules that span
      lines only the timestamp order applies to it (a template gives neither
      a header nor a version 2 field, except one learnt from a version 2 line,
      which the loop uses only in a version 2 trace);
    * anything else goes through `parse` (the shape cache, then lark) and
      every rule below.

    A batch that `_stamps` passes is read by its own loop, which takes the
    first two ways only, with no timestamp check (the batch's were checked)
    and, for a line not met before, first the template of the run of lines
    of one shape it is in (`last`: no key); at the first line it cannot read
    that way, the general loop takes over from that line.  (A form-0 batch,
    no timestamp at all, passes as it is.)
    """
    cache = _CACHES[partial]
    parse, learn_line = cache.parse, cache.learn_line
    lookup = cache.shapes.get
    first_of = _never  # no template before the header: it decides the version
    read_long = _no_record  # a long line: read_mem once the header says version 2
    long_at = LONG_LINE  # the chunk's loop gives read_long the lines longer than this (SEEN_TEXT in version 2)
    Record_, nomatch, blank, new = Record, NOMATCH, BLANK, object.__new__
    delete = KEY_DELETE
    # The chunk's own loop: the templates it tries first, and those of the latest two keys.
    last = other = keyed = keyed2 = _no_template
    strikes = 0
    header_line = 0
    version = 1
    prev, prev_line = None, 0  # the latest timestamp (text) and its line
    prev_width = prev_point = 0
    seen: dict[str, tuple] = {}  # text after the timestamp -> (kind, guest, fields): see above
    remember = seen.__setitem__
    once: dict[str, bool] = {}  # texts seen once (see below)
    once_get = once.get
    lineno, text = 0, None
    try:
        for batch in batches:
            first, texts = batch[0], batch[1]
            form = batch[2] if len(batch) > 2 else None
            # The way of lines met before, for this batch: `stop` is where a line's
            # timestamp ends (its text after it, the blank included, is the table's key).
            known, stop, stamps = _never, 0, None
            if header_line and ways:
                if form == 0:
                    known, stamps = seen.get, repeat(None)
                elif form is not None and prev is not None and prev_point == form[0] and prev_width == sum(form) + 1:
                    stamps = _stamps(texts, prev_width + 1, prev)
                    if stamps is not None:
                        known, stop = seen.get, prev_width + 1
            if stamps is not None:
                # The chunk's own loop: its lines are stamped alike (or none is) and in order
                # (`_stamps`: checked for the whole chunk at once), so a line is a record met
                # before, or one a template reads, with no check that spans lines; anything else
                # ends this loop, and the one below reads the chunk from that line on.
                rests = list(map(itemgetter(slice(stop, None)), texts)) if stop else texts
                keys = rests
                if rests and max(map(len, rests)) > SEEN_TEXT:
                    # As below: a text `seen` cannot keep (a version 2 `mem` line) is not hashed.  The
                    # long ones are found in C (compress), so the other lines cost no Python step here.
                    keys = rests.copy()
                    for i in compress(count(), map(SEEN_TEXT.__lt__, map(len, rests))):
                        keys[i] = None
                record = None
                for lineno, text, rest, hit, ts in zip(count(first), texts, rests, map(known, keys), stamps):
                    if hit is not None:
                        record = new(Record_)
                        record.kind, record.guest, fields = hit
                        record.fields = fields.copy()  # each record its own dict: a consumer may change it
                        record.line = lineno
                        record.text = text
                        record.ts = ts
                        yield record
                        continue
                    try:
                        # A template reads only lines of its shape (see lgt_shapes), whatever
                        # key led to it: `last` and `other` first, the templates of the latest
                        # such lines read without a key.
                        # A version 2 `mem` line (all but the shortest are over SEEN_TEXT) goes to
                        # read_mem first: through the templates it would cost two failed ones and a
                        # key, and push the run's own templates out of `last` and `other`.  read_mem
                        # reads nothing the `mem` template would not (that template is read_mem).
                        if len(text) > long_at and type(got := read_long(text, lineno)) is Record_:
                            pass
                        elif len(text) > LONG_LINE:
                            got = None
                        elif type(got := last(text, text, lineno, None)) is Record_:
                            strikes = 0
                        elif type(got := other(text, text, lineno, None)) is Record_:
                            last, other, strikes = other, last, 0
                        else:
                            template = first_of(text.encode().translate(None, delete))
                            if template is None:
                                break
                            got = template(text, text, lineno, None)
                            if type(got) is Record_:
                                # A template one of the two keys before found too: a run of one
                                # shape (realistic traffic's buffers of random addresses and
                                # lengths), or two taking turns; both dropped when the key was
                                # needed twice in a row (more shapes taking turns: a key costs
                                # less than two failed matches).
                                if template is keyed:
                                    last, other, strikes = template, keyed2, 0
                                elif template is keyed2:
                                    last, other, strikes = template, keyed, 0
                                elif strikes:
                                    last = other = _no_template
                                else:
                                    strikes = 1
                                keyed, keyed2 = template, keyed
                    except ValueError:  # int() refuses over 4300 digits: the loop below takes it to lark
                        break
                    if type(got) is not Record_:
                        if got is blank:
                            continue
                        break
                    if got.ts != ts:
                        break  # its timestamp is longer than the chunk's form: the loop below orders it
                    if len(rest) <= SEEN_TEXT:
                        # As below: kept at its second sighting (`ts` is its timestamp: a record
                        # met again has its timestamp where this one had its own).
                        if once_get(rest) is None:
                            if len(once) >= ONCE_LINES:
                                once.clear()
                            once[rest] = True
                        else:
                            if len(seen) >= SEEN_LINES:
                                seen.clear()
                            remember(rest, (got.kind, got.guest, got.fields.copy()))
                    record = got
                    yield record
                else:
                    lineno = 0  # every line read
                if record is not None and stop:
                    prev, prev_line = record.ts, record.line
                if not lineno:
                    continue
                texts = texts[lineno - first :]
                first = lineno
            for lineno, text in enumerate(texts, first):
                rest = text[stop:]
                # (`seen` keeps no text longer than SEEN_TEXT: a version 2 `mem` line's thousands
                # of digits are not hashed for a lookup that cannot hit.)
                hit = known(rest) if len(rest) <= SEEN_TEXT else None
                if hit is not None:
                    record = new(Record_)
                    record.kind, record.guest, fields = hit
                    record.fields = fields.copy()  # each record its own dict: a consumer may change it
                    record.line, record.text = lineno, text
                    if stop:
                        ts = text[1:stop]
                        if ts < prev:
                            _ts_error(path, lineno, text, ts, prev, prev_line)
                        record.ts = prev = ts
                        prev_line = lineno
                    else:
                        record.ts = None
                    yield record
                    continue
                record = None
                if len(text) > LONG_LINE:
                    # No key for a long line (a template is at most MAX_TEMPLATE_CHARS): in a
                    # version 2 trace, a `mem` line's own way; else parse().
                    key = template = None
                    record = read_long(text, lineno)
                else:
                    try:
                        key = text.encode().translate(None, delete)
                    except ValueError:  # a lone surrogate (from a str, never from a file): lark will say
                        key = None
                    template = first_of(key)
                if template is not None:
                    try:
                        record = template(text, text, lineno, None)
                        if record is nomatch:  # the key's other templates, if any
                            for template in lookup(key, ())[1:]:
                                record = template(text, text, lineno, None)
                                if record is not nomatch:
                                    break
                    except ValueError:  # int() refuses over 4300 digits: parse() takes it to lark
                        record = None
                    if record is blank:
                        continue
                    if type(record) is Record_ and known is not _never and len(rest) <= SEEN_TEXT:
                        # Kept at its second sighting only: the first puts the text (a str, which
                        # the garbage collector never walks) in `once`, so that lines that never
                        # come back (random lengths, addresses) cost no record kept.
                        if once_get(rest) is None:
                            if len(once) >= ONCE_LINES:
                                once.clear()
                            once[rest] = True
                        elif record.ts == (text[1:stop] if stop else None):
                            if len(seen) >= SEEN_LINES:
                                seen.clear()
                            remember(rest, (record.kind, record.guest, record.fields.copy()))
                if type(record) is not Record_:
                    # Not read by a template: the shape cache, then lark, and the rules that span
                    # lines (a template gives neither a header nor a version 2 field).
                    record = parse(text, lineno, path)
                    if record is None:
                        continue
                    kind = record.kind
                    v2_in_v1 = version < 2 and (kind == "g.mem" or "sum" in record.fields)
                    if header_line == 0 or kind == "header" or v2_in_v1:
                        if header_line == 0:
                            if kind != "header":
                                raise _at(
                                    path,
                                    lineno,
                                    text,
                                    _record_pos(text),
                                    f"a trace must start with the header {HEADER_TEXT}",
                                )
                            header_line = lineno
                            version = record.fields["version"]
                            # From now on the templates (a version 2 trace also those of version 2 lines).
                            if ways:
                                first_of = (cache.first_v2 if version >= 2 else cache.first).get
                                read_long = read_mem if version >= 2 else _no_record
                                long_at = SEEN_TEXT if version >= 2 else LONG_LINE
                        elif kind == "header":
                            raise _at(
                                path,
                                lineno,
                                text,
                                _record_pos(text),
                                f"a second header: {HEADER_TEXT} may only be the first record "
                                f"(it is on line {header_line})",
                            )
                        if v2_in_v1:
                            _version_error(path, lineno, text, record)
                    elif version >= 2 and ways and (kind == "g.mem" or "sum" in record.fields):
                        learn_line(key, text, lineno, path)  # the next line of this shape: a template
                ts = record.ts
                if ts is not None:
                    if ts != prev:
                        # A timestamp has at most one point: of the same width, with a point where
                        # the previous one had its point (a capture's fixed-format clock), digit
                        # strings order as their numbers do.
                        if len(ts) == prev_width and ts[prev_point] == ".":
                            if ts < prev:
                                _ts_error(path, lineno, text, ts, prev, prev_line)
                            prev = ts
                        else:
                            width, point = len(ts), ts.find(".")
                            if prev is not None:
                                if width == prev_width and point == prev_point:
                                    earlier = ts < prev
                                else:
                                    earlier = _ts_key(ts) < _ts_key(prev)
                                if earlier:
                                    _ts_error(path, lineno, text, ts, prev, prev_line)
                            prev, prev_width, prev_point = ts, width, point
                    prev_line = lineno
                yield record
    except TraceError:
        raise
    except Exception as exc:
        raise _internal_error(path, lineno, text, exc) from exc
    finally:
        if close is not None:
            close.close()
    if header_line == 0:
        raise TraceError(path, 1, 1, f"no records: a trace starts with the header {HEADER_TEXT}")


# Lines met before (see _records): at most SEEN_LINES texts of at most SEEN_TEXT
# characters each, per file read, and ONCE_LINES texts met once; a full table
# starts afresh.  Memory: about 3 MB at most (700 bytes an entry), whatever the trace's length.
SEEN_LINES = 4096
LONG_LINE = 1024  # characters: longer than any line a template reads (see lgt_shapes.MAX_TEMPLATE_CHARS)
ONCE_LINES = 1024
SEEN_TEXT = 160
_never = {}.get  # a lookup that finds nothing


def _no_record(text: str, lineno: int) -> None:
    return None


def _no_template(rest, text, line, ts):
    return NOMATCH


_DIGITS = b"0123456789"


def _stamps(texts: list[str], stop: int, prev: str) -> list[str] | None:
    """The chunk's timestamps texts[i][1:stop] if all are of `prev`'s form and never go back from it on, else None.

    Each line must start with `@`, and its next len(prev) characters must be
    digits with a point where `prev` has its point: the first characters of
    all lines, joined, are compared with as many `@`s, and the join of the
    stamps is checked at once (every W-th character a point, and nothing
    else once ASCII digits are deleted).  They are then compared as strings
    (exact: one width, one point), and a sort of a sorted list is one
    comparison a line.  All in C.  Whether a blank follows is not checked
    here: a line met before has its blank in the table's key, and a template
    reads the timestamp itself (compared with this one).
    """
    n = len(texts)
    width = stop - 1
    try:
        if "".join(map(itemgetter(0), texts)) != "@" * n:
            return None
    except IndexError:  # an empty line
        return None
    stamps = list(map(itemgetter(slice(1, stop)), texts))
    joined = "".join(stamps)
    if (
        len(joined) != n * width
        or joined[prev.find(".") :: width] != "." * n
        or joined.encode().translate(None, b"0123456789") != b"." * n
    ):
        return None
    return stamps if stamps[0] >= prev and stamps == sorted(stamps) else None


_STAMP_FIRST = re.compile(rb"@([0-9]{1,40})\.([0-9]{1,40}) ")


def _stamp_form(chunk: bytes, end: int):
    """How the complete lines of a chunk (chunk[:end]) may be stamped, when one way may serve them all.

    0: no line has a timestamp (there is no `@` at all); (i, f): the first
    line starts with `@`, i digits, a point, f digits and a space, and so
    may the others (the reader checks them all at once: `_stamps`); None:
    anything else, the lines then take the way that looks at each line's
    timestamp.  (No pass over the chunk here: `_stamps` looks at every
    line's first character after the split, for a fraction of the cost.)
    """
    if chunk.find(b"@", 0, end) < 0:
        return 0
    m = _STAMP_FIRST.match(chunk, 0, end)
    if m is None:
        return None
    return (m.end(1) - 1, m.end(2) - m.end(1) - 1)


def _ts_error(path: str, lineno: int, text: str, ts: str, prev: str, prev_line: int):
    raise _at(path, lineno, text, text.index("@"), f"timestamp {ts} is earlier than {prev} on line {prev_line}")


def _version_error(path: str, lineno: int, text: str, record: Record):
    if record.kind == "g.mem":
        pos, what = _record_pos(text), "a `mem` record"
    else:
        pos, what = re.search(r"[ \t]sum=", text).start() + 1, "the field sum="
    raise _at(path, lineno, text, pos, f"{what} is version 2: this trace's header says version 1 (lguest-trace 2)")


def _ts_key(ts: str) -> tuple:
    """An exact order on `digits[.digits]` (floats would round long ones)."""
    whole, _, frac = ts.partition(".")
    whole = whole.lstrip("0")
    return (len(whole), whole, frac.rstrip("0"))


_RECORD_START = re.compile(r"[ \t]*(?:@[0-9.]+[ \t]+)?")


def _record_pos(text: str) -> int:
    """Where a (valid) line's record starts, past indentation and timestamp."""
    return _RECORD_START.match(text).end()


# ------------------------------------------------------------------ errors


def _at(path: str, lineno: int, text: str, pos: int, message: str) -> TraceError:
    return TraceError(path, lineno, pos + 1, message, text)


def _line_error(path: str, lineno: int, text: str, exc: LineError) -> TraceError:
    return _at(path, lineno, text, exc.pos, exc.message)


def _internal_error(path: str, lineno: int, text: str | None, exc: Exception) -> TraceError:
    return TraceError(path, lineno, 1, f"cannot read this line (internal error: {type(exc).__name__}: {exc})", text)


def _utf8_error(path: str, lineno: int, raw: bytes, exc: UnicodeDecodeError) -> TraceError:
    column = len(raw[: exc.start].decode("utf-8")) + 1
    shown = raw.decode("utf-8", "replace")
    return TraceError(path, lineno, column, f"not UTF-8: byte 0x{raw[exc.start]:02x} ({exc.reason})", shown)
