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

Modules: `sources` (what the user named → sources, JSONL byte ranges), `records` (Source, Unreadable, opening
streams), `json_readers` (JSONL, JSON arrays and objects), `tabular` (CSV, Parquet, `datasets`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

from curate.readers.json_readers import LINE_CHUNK, jsonl_runs, parse_line, read_json, read_jsonl
from curate.readers.records import (
    DEFAULT_MAX_RECORD_BYTES,
    EXCERPT_BYTES,
    Item,
    Source,
    Unreadable,
    _skip_bom,
    excerpt_of,
    open_binary,
)
from curate.readers.sources import COMPRESSIONS, HUB_PREFIX, KINDS, resolve_sources, split_jsonl
from curate.readers.tabular import (
    ARROW_BATCH_ROWS,
    json_form,
    read_csv,
    read_hub,
    read_parquet,
    read_saved_dataset,
)

__all__ = [
    "ARROW_BATCH_ROWS",
    "COMPRESSIONS",
    "DEFAULT_MAX_RECORD_BYTES",
    "EXCERPT_BYTES",
    "HUB_PREFIX",
    "KINDS",
    "Item",
    "LineBlock",
    "Source",
    "Unreadable",
    "excerpt_of",
    "iter_line_blocks",
    "iter_records",
    "json_form",
    "open_binary",
    "parse_line",
    "read_csv",
    "read_hub",
    "read_json",
    "read_jsonl",
    "read_parquet",
    "read_saved_dataset",
    "resolve_sources",
    "split_jsonl",
]


def iter_records(source: Source, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[tuple[int, Item]]:
    """`(record number, record or Unreadable)` for one source, streaming."""
    if source.kind == "parquet":
        yield from read_parquet(source.path)
    elif source.kind == "saved_dataset":
        yield from read_saved_dataset(source)
    elif source.kind == "hub":
        yield from read_hub(source)
    elif source.kind == "jsonl":
        yield from _jsonl_of(source, max_record_bytes, read_jsonl)
    else:
        with open_binary(source.path) as stream:
            _skip_bom(stream)
            if source.kind == "csv":
                yield from read_csv(stream, max_record_bytes)
            else:
                yield from read_json(stream, max_record_bytes, reopen=lambda: open_binary(source.path))


T = TypeVar("T")


def _jsonl_of(source: Source, max_record_bytes: int,
              reader: Callable[[BinaryIO, int, int, int | None], Iterator[T]]) -> Iterator[T]:
    """`reader` over a JSONL source's stream: past any byte-order mark, and only its byte range when it has one."""
    with open_binary(source.path) as stream:
        _skip_bom(stream)
        if source.start:
            stream.seek(source.start)
        length = None if source.end is None else source.end - stream.tell()  # after any BOM
        yield from reader(stream, max_record_bytes, source.first_line, length)


@dataclass(slots=True)
class LineBlock:
    """Non-blank JSONL lines (newlines cut off), unparsed, with their line numbers (the records' numbers)."""

    numbers: list[int] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)


def iter_line_blocks(source: Source, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                     block_bytes: int = 4 << 20) -> Iterator[LineBlock | tuple[int, Unreadable]]:
    """A JSONL source as blocks of about `block_bytes` of raw lines, for readers that parse a block at once.

    A line over `max_record_bytes` comes between blocks as `(number, Unreadable)`, in file order, as
    `iter_records` gives it.
    """
    assert source.kind == "jsonl", source

    def runs(stream: BinaryIO, limit: int, first_line: int, length: int | None) -> Iterator:
        return jsonl_runs(stream, limit, first_line, length, chunk_bytes=min(LINE_CHUNK, block_bytes))

    block, size = LineBlock(), 0
    for number, run in _jsonl_of(source, max_record_bytes, runs):
        if isinstance(run, Unreadable):
            if block.lines:
                yield block
                block, size = LineBlock(), 0
            yield number, run
            continue
        kept = [k for k, line in enumerate(run) if line and not line.isspace()]
        block.numbers.extend(number + k for k in kept)
        block.lines.extend(run if len(kept) == len(run) else [run[k] for k in kept])
        size += sum(map(len, run))
        if size >= block_bytes:
            yield block
            block, size = LineBlock(), 0
    if block.lines:
        yield block
