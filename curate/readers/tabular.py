"""Row-shaped inputs: CSV files, Parquet files, `save_to_disk` datasets and hub datasets.

Arrow binary / decimal / duration / temporal values become base64 text / exact digits / seconds / ISO 8601.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from curate.readers.records import Item, Source, Unreadable, excerpt_of

ARROW_BATCH_ROWS = 1024


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

