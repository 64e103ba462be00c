"""JSON Lines and JSON files: one record per line, a streamed array, or one whole-file object.

Integers past 64 bits keep their exact digits as text (orjson would read them as floats, yajl stops the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import ijson
import orjson

from curate.readers.records import _SKIP_CHUNK, EXCERPT_BYTES, Item, Unreadable, _skip_bom, excerpt_of

# Keys of one chat message: a top-level JSON list of only such dicts is one conversation (mini-swe-agent *.traj.json).
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content",
                           "function_call", "thinking"})
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19  # an integer this long may be past 64 bits (found by translate + find: 10× faster than re)
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what orjson reads and writes as integers


def parse_line(line: bytes) -> Item:
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as bad:
            return Unreadable("invalid_utf8", f"invalid UTF-8 at byte {bad.start}", excerpt_of(line))
        return Unreadable("malformed_json", str(err), excerpt_of(line))
    if _LONG_DIGITS in line.translate(_DIGITS_AS_ZERO):  # orjson made integers past 64 bits floats: keep digits
        return json.loads(line, parse_int=_int_or_text)
    return item


LINE_CHUNK = 1 << 20


def jsonl_runs(stream: BinaryIO, max_record_bytes: int, first_line: int = 0, length: int | None = None,
               chunk_bytes: int = LINE_CHUNK) -> Iterator[tuple[int, list[bytes] | Unreadable]]:
    """JSONL read a chunk at a time: `(number of the first line, consecutive lines)` with newlines cut off and
    blank lines kept (so numbers stay implicit), and a line over the limit alone as `(its number, Unreadable)`.

    A line is over the limit when its bytes, newline aside, exceed `max_record_bytes`; it is skipped, never held
    whole (at most `max_record_bytes + chunk_bytes` are held). With `length`, only lines that start in the next
    `length` bytes are read.
    """
    number, start = first_line, 0  # the number and stream offset of the line being assembled in `pending`
    pending, skipped, head = b"", 0, ""  # `skipped` > 0: bytes so far of a line over the limit, `head` its excerpt

    def too_large(size: int) -> Unreadable:
        return Unreadable("record_too_large", f"line of {size} bytes exceeds the {max_record_bytes}-byte limit",
                          head)

    while length is None or start < length:
        chunk = stream.read(chunk_bytes)
        if not chunk:
            break
        if skipped:
            end = chunk.find(b"\n")
            if end < 0:
                skipped += len(chunk)
                continue
            yield number, too_large(skipped + end + 1)
            number, start, skipped, chunk = number + 1, start + skipped + end + 1, 0, chunk[end + 1:]
            if length is not None and start >= length:
                return
        data = pending + chunk if pending else chunk
        end = data.rfind(b"\n")
        if end >= 0:
            lines, pending = data[:end].split(b"\n"), data[end + 1:]
            if length is not None and start + end + 1 > length:
                lines = _starting_before(lines, length - start)
            for run_start, run in _split_oversized(lines, max_record_bytes):
                if isinstance(run, bytes):
                    head = excerpt_of(run[:max_record_bytes + 1])
                    yield number + run_start, too_large(len(run) + 1)
                else:
                    yield number + run_start, run
            number, start = number + len(lines), start + end + 1
        else:
            pending = data
        if len(pending) > max_record_bytes:
            skipped, head, pending = len(pending), excerpt_of(pending[:max_record_bytes + 1]), b""
    if length is not None and start >= length:  # the line being assembled starts in the next range
        return
    if skipped:
        yield number, too_large(skipped)
    elif pending:  # the last line, without a newline (never over the limit: that would be `skipped`)
        yield number, [pending]


def _starting_before(lines: list[bytes], limit: int) -> list[bytes]:
    """The leading lines that start before byte `limit` of the run."""
    position = 0
    for k, line in enumerate(lines):
        if position >= limit:
            return lines[:k]
        position += len(line) + 1
    return lines


def _split_oversized(lines: list[bytes], max_record_bytes: int) -> Iterator[tuple[int, list[bytes] | bytes]]:
    """`(offset, run of lines)`, with each line over the limit alone as `(offset, the line)`."""
    if not lines or max(map(len, lines)) <= max_record_bytes:
        yield 0, lines
        return
    run_start = 0
    for k, line in enumerate(lines):
        if len(line) > max_record_bytes:
            if k > run_start:
                yield run_start, lines[run_start:k]
            yield k, line
            run_start = k + 1
    if run_start < len(lines):
        yield run_start, lines[run_start:]


def read_jsonl(stream: BinaryIO, max_record_bytes: int, first_line: int = 0,
               length: int | None = None) -> Iterator[tuple[int, Item]]:
    """One record per non-blank line, numbered by its 0-based line number (so byte ranges of one file agree)."""
    for number, run in jsonl_runs(stream, max_record_bytes, first_line, length):
        if isinstance(run, Unreadable):
            yield number, run
            continue
        for k, line in enumerate(run):
            if line and not line.isspace():
                yield number + k, parse_line(line)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and "content" in value and value.keys() <= _MESSAGE_KEYS


class _CountingReader:
    """Counts bytes handed to ijson, so array elements can be sized from stream positions."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.position += len(data)
        return data


def _json_error(err: Exception, index: int) -> Unreadable:
    text = str(err)
    if "premature EOF" in text or "Incomplete JSON" in text:
        return Unreadable("truncated_json", f"JSON ends early at record {index}: the rest of the file is unreadable",
                          text[:EXCERPT_BYTES])
    if "UTF8" in text or "UTF-8" in text:
        return Unreadable("invalid_utf8", f"invalid UTF-8 in record {index}; the rest of the file is unreadable",
                          excerpt_of(text))
    return Unreadable("malformed_json", f"JSON syntax error in record {index}; the rest of the file is unreadable",
                      excerpt_of(text))


def _first_byte(stream: BinaryIO) -> bytes:
    """The first non-blank byte, consuming the blanks before it; b"" for a blank file."""
    while (head := stream.peek(1 << 12)[: 1 << 12]) and not head.lstrip():  # type: ignore[attr-defined]
        stream.read(len(head))
    return head.lstrip()[:1]


def _int_or_text(digits: str) -> int | str:
    """Integers past 64 bits (which orjson and Parquet cannot hold) keep their exact digits, as text."""
    value = int(digits)
    return value if _INT_MIN <= value <= _INT_MAX else digits


def _big_ints_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _big_ints_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_big_ints_as_text(v) for v in value]
    if type(value) is int and not _INT_MIN <= value <= _INT_MAX:
        return str(value)
    return value


def _array_elements(stream: BinaryIO, reopen: Callable[[], BinaryIO] | None) -> Iterator[tuple[Any, int]]:
    """(element, bytes read up to its end) of a top-level JSON array. yajl (fast) stops at an integer past 64
    bits, so on that error the file is read again with ijson's Python parser, which keeps such integers."""
    counter = _CountingReader(stream)
    done = 0
    try:
        for element in ijson.items(counter, "item", use_float=True):
            yield element, counter.position
            done += 1
        return
    except ijson.JSONError as err:
        if reopen is None or "integer overflow" not in str(err):
            raise
    with reopen() as again:
        _skip_bom(again)
        _first_byte(again)
        counter = _CountingReader(again)
        python_backend = ijson.get_backend("python")
        for k, element in enumerate(python_backend.items(counter, "item", use_float=True)):
            if k >= done:
                yield _big_ints_as_text(element), counter.position


def read_json(stream: BinaryIO, max_record_bytes: int,
              reopen: Callable[[], BinaryIO] | None = None) -> Iterator[tuple[int, Item]]:
    """A JSON array streams element by element; a whole-file object is one record (SWE-agent .traj).

    A list made only of chat messages is one conversation `{"messages": [...]}` (mini-swe-agent `*.traj.json`).
    A syntax error or a cut ends the file: the records before it are kept and the tail is one reject.
    Oversized array elements are sized from stream positions after parsing (ijson builds them first).
    """
    first = _first_byte(stream)
    if not first:  # empty (or blank) file: no records
        return
    if first == b"{":
        yield from _object_or_jsonl(stream, max_record_bytes)
        return
    if first != b"[":
        yield 0, Unreadable("malformed_json", "a .json file must hold an array or an object",
                            excerpt_of(stream.read(EXCERPT_BYTES)))
        return
    held: list[Any] = []  # leading message dicts, kept until we know whether the whole list is one conversation
    holding = True
    index, last_position = 0, 0
    try:
        for element, position in _array_elements(stream, reopen):
            size, last_position = position - last_position, position
            if holding and _is_message(element) and position <= max_record_bytes:
                held.append(element)
                continue
            if holding:
                holding = False
                for message in held:
                    yield index, message
                    index += 1
                held = []
            if size > max_record_bytes + (1 << 16):  # ijson reads 64 KiB ahead
                yield index, Unreadable("record_too_large", f"array element of ~{size} bytes exceeds the "
                                        f"{max_record_bytes}-byte limit", excerpt_of(element))
            else:
                yield index, element
            index += 1
    except ijson.JSONError as err:
        for message in held:
            yield index, message
            index += 1
        yield index, _json_error(err, index)
        return
    if held:
        yield 0, {"messages": held}


def _object_or_jsonl(stream: BinaryIO, max_record_bytes: int) -> Iterator[tuple[int, Item]]:
    """A file starting with `{` is JSON Lines saved as .json when its first line is a whole object on its own,
    else one (pretty-printed) object. Decided from the first line read with a bounded readline, so a long first
    line or a compressed stream (whose peek is short) cannot make JSONL look like one broken object.
    """
    line = stream.readline(max_record_bytes + 1)
    if len(line) > max_record_bytes and not line.endswith(b"\n"):  # too large as a line and as an object
        yield 0, Unreadable("record_too_large", f"first record exceeds the {max_record_bytes}-byte limit",
                            excerpt_of(line))
        del line
        while (chunk := stream.readline(_SKIP_CHUNK)) and not chunk.endswith(b"\n"):
            pass
        yield from read_jsonl(stream, max_record_bytes, first_line=1)  # nothing more if it was one object
        return
    item = parse_line(line)
    if isinstance(item, dict):  # a one-line object followed by nothing is the same record 0 either way
        yield 0, item
        yield from read_jsonl(stream, max_record_bytes, first_line=1)
        return
    yield from _whole_object(line, stream, max_record_bytes)


def _whole_object(head: bytes, stream: BinaryIO, max_record_bytes: int) -> Iterator[tuple[int, Item]]:
    """One object spanning lines; `head` is the part already read."""
    data = head + stream.read(max_record_bytes + 1 - len(head))
    if len(data) > max_record_bytes:
        yield 0, Unreadable("record_too_large", f"JSON object exceeds the {max_record_bytes}-byte limit",
                            excerpt_of(data))
        return
    item = parse_line(data)
    if isinstance(item, Unreadable) and item.reason == "malformed_json" and "unexpected end" in item.message:
        item = Unreadable("truncated_json", item.message, item.excerpt)
    yield 0, item

