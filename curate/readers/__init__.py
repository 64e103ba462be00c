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

from collections.abc import Iterator

from curate.readers.json_readers import read_json, read_jsonl
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
    "Source",
    "Unreadable",
    "excerpt_of",
    "iter_records",
    "json_form",
    "open_binary",
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
