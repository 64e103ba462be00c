"""Stream raw records out of every input kind ingest accepts, with their 0-based record number.

Each reader yields `(index, item)` where item is the parsed record or an `Unreadable` telling why it could not be
read. Bad bytes never raise: a malformed line, invalid UTF-8, an oversized record or a cut-off JSON array becomes an
`Unreadable` at its record number and reading goes on where it can. JSONL records are numbered by line (blank lines
are skipped but keep their number), other kinds by position.

Memory: JSONL lines are read with a bounded readline, so a line over `max_record_bytes` is never held whole; a
whole-file JSON object is read up to the limit; JSON arrays stream through ijson, which builds each element before
its size is known (an oversized element is rejected after parsing); Parquet and `datasets` rows come in Arrow
batches and are not size-checked.

Values JSON or our JSON storage cannot hold as they are get a faithful JSON form: integers past 64 bits keep their
exact digits as text (orjson would read them as floats, yajl stops the file), and Arrow binary / decimal / duration
values become base64 text / exact digits / seconds / ISO 8601.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import gzip
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

DEFAULT_MAX_RECORD_BYTES = 64 << 20
EXCERPT_BYTES = 1000
ARROW_BATCH_ROWS = 1024
_SKIP_CHUNK = 1 << 20
HUB_PREFIX = "hf://"
COMPRESSIONS = (".gz", ".zst")
KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".traj": "json", ".parquet": "parquet", ".csv": "csv"}
# Keys of one chat message: a top-level JSON list of only such dicts is one conversation (mini-swe-agent *.traj.json).
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content",
                           "function_call", "thinking"})
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19  # an integer this long may be past 64 bits (found by translate + find: 10× faster than re)
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what orjson reads and writes as integers
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)?(:[\w.-]+)?$")


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record that could not be parsed; becomes a reject with this reason code."""

    reason: str
    message: str
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """One input stream. `kind` is the reader; `path` the file/folder or hub id; `split` for datasets.

    A plain JSONL file may be split into byte ranges [start, end) that begin on line starts; `first_line` is the
    line number at `start`, so record numbers stay those of the whole file.
    """

    label: str
    kind: str
    path: str
    split: str | None = None
    config: str | None = None
    start: int = 0
    end: int | None = None
    first_line: int = 0


Item = dict[str, Any] | Unreadable


def excerpt_of(raw: bytes | str | Any) -> str:
    """A short, printable view of a raw record for the rejects file."""
    if isinstance(raw, bytes):
        return raw[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        try:
            raw = orjson.dumps(raw, option=orjson.OPT_NON_STR_KEYS, default=str)[:EXCERPT_BYTES].decode(
                "utf-8", errors="replace")
        except TypeError:
            raw = repr(raw)
    return raw[:EXCERPT_BYTES]


# ---------------------------------------------------------------- resolving sources


def _kind_of(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
    return KINDS.get(suffixes[-1]) if suffixes else None


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_info.json").is_file() or (folder / "dataset_dict.json").is_file()


def _saved_dataset_sources(folder: Path, label: str) -> list[Source]:
    if (folder / "dataset_dict.json").is_file():  # a DatasetDict: one source per split, in a stable order
        splits = orjson.loads((folder / "dataset_dict.json").read_bytes())["splits"]
        return [Source(f"{label}[{split}]", "saved_dataset", str(folder), split=split) for split in sorted(splits)]
    return [Source(label, "saved_dataset", str(folder))]


def _hub_source(spec: str) -> Source:
    """`hf://ORG/NAME[/CONFIG][:SPLIT]` → a streaming `datasets.load_dataset` source (split defaults to train)."""
    ident = spec[len(HUB_PREFIX):]
    if not _HUB_ID.match(ident):
        raise ValueError(f"{spec}: a hub source is hf://ORG/NAME[/CONFIG][:SPLIT]")
    ident, _, split = ident.partition(":")
    parts = ident.split("/")
    config = parts[2] if len(parts) == 3 else None
    return Source(spec, "hub", "/".join(parts[:2]), split=split or "train", config=config)


def _expand(spec: str) -> list[Source]:
    if spec.startswith(HUB_PREFIX):
        return [_hub_source(spec)]
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such file or folder (hub datasets are named hf://ORG/NAME)")
    if path.is_dir():
        if _is_saved_dataset(path):
            return _saved_dataset_sources(path, spec)
        files = sorted(p for p in path.rglob("*") if p.is_file() and _kind_of(p)
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise ValueError(f"{spec}: folder holds no readable files ({', '.join(sorted(KINDS))})")
        return [Source(str(f), _kind_of(f), str(f)) for f in files]  # type: ignore[arg-type]
    kind = _kind_of(path)
    if kind is None:
        raise ValueError(f"{spec}: unknown file type; readable: {', '.join(sorted(KINDS))} (+ .gz/.zst)")
    return [Source(spec, kind, spec)]


def resolve_sources(specs: list[str]) -> list[Source]:
    """Expand what the user named into sources, failing before anything runs if one is missing, unknown or named
    twice (records would be counted twice and their ids collide).

    A folder is a `save_to_disk` dataset when it has datasets' metadata, else every readable file under it (sorted,
    hidden files skipped).
    """
    sources: list[Source] = []
    seen: dict[str, str] = {}
    for spec in specs:
        for source in _expand(spec):
            key = source.label if source.kind == "hub" else f"{Path(source.path).resolve()}[{source.split}]"
            if key in seen:
                raise ValueError(f"{source.label}: given twice (also as {seen[key]})")
            seen[key] = source.label
            sources.append(source)
    return sources


# ---------------------------------------------------------------- reading


def split_jsonl(source: Source, parts: int, min_part_bytes: int = 8 << 20) -> list[Source]:
    """Byte ranges of a plain JSONL file, each starting on a line, so several tasks can read one big file.

    Compressed files and files smaller than two parts stay whole. Line numbers at each boundary are counted in one
    pass, so records keep the numbers (and sample ids) they have when the file is read whole.
    """
    if source.kind != "jsonl" or source.path.lower().endswith(COMPRESSIONS) or source.end is not None:
        return [source]
    size = os.path.getsize(source.path)
    parts = min(parts, size // min_part_bytes)
    if parts < 2:
        return [source]
    starts, lines = [0], [0]
    position, line_number, previous = 0, 0, b"\n"
    with open(source.path, "rb") as f:
        for k in range(1, parts):
            target = size * k // parts
            while position < target:  # count the lines that end before the target
                chunk = f.read(min(_SKIP_CHUNK, target - position))
                line_number += chunk.count(b"\n")
                position += len(chunk)
                previous = chunk[-1:]
            if previous != b"\n":  # mid-line: the range starts after this line
                while chunk := f.readline(_SKIP_CHUNK):
                    position += len(chunk)
                    previous = chunk[-1:]
                    if previous == b"\n":
                        line_number += 1
                        break
            if starts[-1] < position < size:
                starts.append(position)
                lines.append(line_number)
    ends = [*starts[1:], size]
    return [replace(source, start=a, end=b, first_line=n) for a, b, n in zip(starts, ends, lines, strict=True)]


def open_binary(path: str) -> BinaryIO:
    """A buffered binary stream, transparently decompressing .gz and .zst."""
    lowered = path.lower()
    if lowered.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if lowered.endswith(".zst"):
        import zstandard

        raw = open(path, "rb")  # noqa: SIM115 - closed through the wrapper
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True), 1 << 20)
    return open(path, "rb", buffering=1 << 20)  # noqa: SIM115


def _skip_bom(stream: BinaryIO) -> None:
    """Files saved by Windows tools often start with a UTF-8 byte-order mark that JSON parsers refuse."""
    if stream.peek(3)[:3] == b"\xef\xbb\xbf":  # type: ignore[attr-defined]
        stream.read(3)


def _parse_line(line: bytes) -> Item:
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


def read_jsonl(stream: BinaryIO, max_record_bytes: int, first_line: int = 0,
               length: int | None = None) -> Iterator[tuple[int, Item]]:
    """One record per non-blank line, numbered by its 0-based line number (so byte ranges of one file agree).

    A line longer than the limit is skipped in chunks, never held whole. With `length`, only lines that start in
    the next `length` bytes are read.
    """
    line_number, consumed = first_line, 0
    while length is None or consumed < length:
        line = stream.readline(max_record_bytes + 1)
        if not line:
            return
        consumed += len(line)
        if len(line) > max_record_bytes and not line.endswith(b"\n"):
            size = len(line)
            head = excerpt_of(line)
            del line
            while chunk := stream.readline(_SKIP_CHUNK):
                size += len(chunk)
                consumed += len(chunk)
                if chunk.endswith(b"\n"):
                    break
            yield line_number, Unreadable("record_too_large", f"line of {size} bytes exceeds the "
                                          f"{max_record_bytes}-byte limit", head)
        elif not line.isspace():
            yield line_number, _parse_line(line)
        line_number += 1


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
    item = _parse_line(line)
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
    item = _parse_line(data)
    if isinstance(item, Unreadable) and item.reason == "malformed_json" and "unexpected end" in item.message:
        item = Unreadable("truncated_json", item.message, item.excerpt)
    yield 0, item


def read_csv(stream: BinaryIO, max_record_bytes: int) -> Iterator[tuple[int, Item]]:
    """Header row names the fields; a row with invalid UTF-8 or an oversized field is rejected, reading goes on."""
    csv.field_size_limit(max(max_record_bytes, csv.field_size_limit()))
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
    rows = csv.reader(text)
    try:
        header = next(rows)
    except StopIteration:
        return
    except csv.Error as err:
        yield 0, Unreadable("malformed_csv", f"header: {err}")
        return
    index = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            reason = "record_too_large" if "field larger" in str(err) else "malformed_csv"
            yield index, Unreadable(reason, f"line {rows.line_num}: {err}")
            index += 1
            continue
        if not row:
            continue
        size = sum(map(len, row))
        if size > max_record_bytes:
            yield index, Unreadable("record_too_large", f"line {rows.line_num}: row of {size} characters exceeds the "
                                    f"{max_record_bytes}-byte limit", excerpt_of(",".join(row)))
        elif any(_has_surrogates(value) for value in row):
            raw = ",".join(row).encode("utf-8", errors="surrogateescape")
            yield index, Unreadable("invalid_utf8", f"invalid UTF-8 on line {rows.line_num}", excerpt_of(raw))
        elif len(row) != len(header):
            yield index, Unreadable("malformed_csv", f"line {rows.line_num} has {len(row)} fields, header has "
                                    f"{len(header)}", excerpt_of(",".join(row)))
        else:
            yield index, dict(zip(header, row, strict=True))
        index += 1


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _needs_json_form(arrow_type: Any) -> bool:
    """Arrow types whose Python values (bytes, Decimal, timedelta) JSON cannot store as they are."""
    import pyarrow.types as pat

    if pat.is_binary(arrow_type) or pat.is_large_binary(arrow_type) or pat.is_fixed_size_binary(arrow_type) \
            or pat.is_decimal(arrow_type) or pat.is_duration(arrow_type) or pat.is_temporal(arrow_type):
        return True
    if pat.is_struct(arrow_type):
        return any(_needs_json_form(arrow_type.field(i).type) for i in range(arrow_type.num_fields))
    if pat.is_list(arrow_type) or pat.is_large_list(arrow_type) or pat.is_fixed_size_list(arrow_type):
        return _needs_json_form(arrow_type.value_type)
    if pat.is_map(arrow_type):
        return _needs_json_form(arrow_type.key_type) or _needs_json_form(arrow_type.item_type)
    return False


def json_form(value: Any) -> Any:
    """A faithful JSON value for an Arrow scalar: bytes → base64 text, Decimal → its exact digits, timedelta →
    seconds, dates and times → ISO 8601; containers recursively."""
    if isinstance(value, dict):
        return {k: json_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_form(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, datetime.date | datetime.time):  # pandas.Timestamp (ns) too, which orjson cannot write
        return value.isoformat()
    return value


def _arrow_rows(batches: Iterator[Any]) -> Iterator[tuple[int, Item]]:
    """Rows of Arrow batches as dicts, with values JSON cannot store turned into their JSON form."""
    index = 0
    for batch in batches:
        rows = batch.to_pylist()
        coerce = [f.name for f in batch.schema if _needs_json_form(f.type)]
        for row in rows:
            for name in coerce:
                row[name] = json_form(row[name])
            yield index, row
            index += 1


def read_parquet(path: str) -> Iterator[tuple[int, Item]]:
    import pyarrow.parquet as pq

    yield from _arrow_rows(pq.ParquetFile(path).iter_batches(batch_size=ARROW_BATCH_ROWS))


def read_saved_dataset(source: Source) -> Iterator[tuple[int, Item]]:
    import datasets

    loaded = datasets.load_from_disk(source.path)
    dataset = loaded[source.split] if source.split is not None else loaded
    yield from _arrow_rows(dataset.with_format("arrow").iter(batch_size=ARROW_BATCH_ROWS))


def read_hub(source: Source) -> Iterator[tuple[int, Item]]:
    """Stream a hub dataset (needs network); rows arrive as dicts."""
    import datasets

    stream = datasets.load_dataset(source.path, source.config, split=source.split, streaming=True)
    yield from enumerate(stream)


def iter_records(source: Source, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[tuple[int, Item]]:
    """`(record number, record or Unreadable)` for one source, streaming."""
    if source.kind == "parquet":
        yield from read_parquet(source.path)
    elif source.kind == "saved_dataset":
        yield from read_saved_dataset(source)
    elif source.kind == "hub":
        yield from read_hub(source)
    else:
        with open_binary(source.path) as stream:
            _skip_bom(stream)
            if source.kind == "jsonl":
                if source.start:
                    stream.seek(source.start)
                length = None if source.end is None else source.end - stream.tell()  # after any BOM
                yield from read_jsonl(stream, max_record_bytes, source.first_line, length)
            elif source.kind == "csv":
                yield from read_csv(stream, max_record_bytes)
            else:
                yield from read_json(stream, max_record_bytes, reopen=lambda: open_binary(source.path))
