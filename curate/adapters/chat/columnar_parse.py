"""Blocks of JSONL lines parsed by pyarrow.json for the columnar OpenAI-messages path, and the checks that keep
pyarrow from reading a line otherwise than orjson does (the per-record reference parser)."""

from __future__ import annotations

import io
import re

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj

from curate.readers import LineBlock

# The fields the conversion reads, with the types it takes: a line with another type there is refused (and handed
# back); any other key is inferred, so it can be checked for what the reference would make of it.
PARSED_FUNCTION = pa.struct([("name", pa.string()), ("arguments", pa.string())])
PARSED_CALL = pa.struct([("id", pa.string()), ("function", PARSED_FUNCTION)])
PARSED_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string()), ("reasoning_content", pa.string()),
                            ("tool_calls", pa.list_(PARSED_CALL)), ("tool_call_id", pa.string()),
                            ("name", pa.string())])
_PARSE = pj.ParseOptions(explicit_schema=pa.schema([("messages", pa.list_(PARSED_MESSAGE))]),
                         unexpected_field_behavior="infer")
PARSE_CHUNK = 512 << 10
PYARROW_SAFE_DEPTH = 5000
WALK_LINES = 256
MAX_REFUSED = 128  # per block
_REFUSED_ROW = re.compile(r"in row (\d+)")


def parsed_runs(block: LineBlock, positions: list[int]) -> list[tuple[list[int], pa.Table]]:
    """Runs of lines pyarrow parses, in line order; the lines it refuses, or might read otherwise than orjson, are
    left out (handed back).

    The whole run is parsed by pyarrow's threads first. When it is refused (one odd line spoils the parse), the
    refused lines are found (`_segments`) and the rest is parsed again in one go; only if that is refused too
    (a key's type inferred differently in different places) is each piece that parsed alone used on its own.
    """
    run = _screened(block, positions)
    if not run:
        return []
    table, _ = _parse(block, run, threads=True)
    if table is not None:
        return [(run, table)]
    segments = _segments(block, run)
    kept = [k for segment in segments for k in segment]
    table, _ = _parse(block, kept, threads=True) if kept else (None, None)
    if table is not None:
        return [(kept, table)]
    parsed = [(segment, _parse(block, segment, threads=False)[0]) for segment in segments]
    return _joined([(segment, table) for segment, table in parsed if table is not None])


def _segments(block: LineBlock, run: list[int]) -> list[list[int]]:
    """Pieces of the run that pyarrow parses alone, leaving out the lines it refuses. The run is walked WALK_LINES at
    a time in one-block mode, where pyarrow stops at the first refused line and names its row; the walk goes on
    after it. A window refused without a row (two objects on one line) is left out whole, and so is everything
    after MAX_REFUSED refusals: each costs a parse call, and a block that dense in odd lines is cheaper to read
    record by record."""
    segments, refusals = [], 0
    while run and refusals < MAX_REFUSED:
        window = run[:WALK_LINES]
        table, refused = _parse(block, window, threads=False)
        if table is not None:
            segments.append(window)
            run = run[len(window):]
            continue
        refusals += 1
        if refused:
            segments.append(window[:refused])
        run = run[len(window) if refused is None else refused + 1:]
    return segments


def _joined(runs: list[tuple[list[int], pa.Table]]) -> list[tuple[list[int], pa.Table]]:
    """Adjacent runs whose tables have the same schema as one run: the rows are then checked in one pass."""
    out: list[tuple[list[int], list[pa.Table]]] = []
    for run, table in runs:
        if out and out[-1][1][-1].schema == table.schema:
            out[-1][0].extend(run)
            out[-1][1].append(table)
        else:
            out.append((list(run), [table]))
    return [(run, pa.concat_tables(tables)) for run, tables in out]


def _parse(block: LineBlock, run: list[int], threads: bool) -> tuple[pa.Table | None, int | None]:
    """(the lines as one table with a row per line, None) or, when pyarrow refuses them, (None, the position in
    `run` of the refused line when pyarrow names it)."""
    data = b"\n".join([block.lines[k] for k in run]) + b"\n"
    # With threads, pyarrow parses chunks of PARSE_CHUNK bytes (each must hold the longest line whole) and names
    # rows within a chunk; as one block it stops at the first refused line and names its row in `run`.
    chunk = max(PARSE_CHUNK, max(len(block.lines[k]) for k in run) + 2) if threads else len(data) + 1
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=threads, block_size=chunk),
                             parse_options=_PARSE)
    except pa.ArrowException as err:
        row = _REFUSED_ROW.search(str(err))
        return None, int(row.group(1)) if row and not threads and int(row.group(1)) < len(run) else None
    return (table, None) if table.num_rows == len(run) else (None, None)  # two objects on one line


def _screened(block: LineBlock, positions: list[int]) -> list[int]:
    """The lines pyarrow may see: not invalid UTF-8 (pyarrow does not check it), without a byte-order mark
    (pyarrow skips one where orjson refuses it), not nested deep enough to crash pyarrow. Checked on the joined
    lines first, line by line only when that finds something."""
    data = b"\n".join([block.lines[k] for k in positions])
    kept = positions
    if b"\xef\xbb\xbf" in data:
        kept = [k for k in kept if b"\xef\xbb\xbf" not in block.lines[k]]
    if not data.isascii() and not _is_utf8(data):
        kept = [k for k in kept if _is_utf8(block.lines[k])]
    return [k for k in kept if len(block.lines[k]) <= 2 * PYARROW_SAFE_DEPTH or not _too_deep(block.lines[k])]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _too_deep(line: bytes) -> bool:
    """Possibly nested past PYARROW_SAFE_DEPTH (pyarrow's parser crashes the process somewhere past 10,000 levels):
    the bracket count bounds the depth, and orjson, which stops at 1024 levels, settles the lines it cannot clear.
    Rows nested deeper than `_safe` allows are handed back after parsing anyway."""
    if line.count(b"[") + line.count(b"{") <= PYARROW_SAFE_DEPTH:
        return False
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return True
    return False


def safe_type(kind: pa.DataType, max_depth: int = 64) -> bool:
    """A type orjson reads the same way: no floats (NaN, infinities and big integers arrive as doubles) and no
    deeper nesting than `max_depth`."""
    pending = [(kind, 0)]
    while pending:
        kind, depth = pending.pop()
        if pa.types.is_floating(kind) or depth > max_depth:
            return False
        pending += [(kind.field(i).type, depth + 1) for i in range(kind.num_fields)]
    return True


def set_extras(struct: pa.StructArray, known: set[str], handed_back: set[str]) -> np.ndarray:
    """Per element: a key the reference reads, or a value orjson may read otherwise (even one the reference then
    ignores: orjson refusing it rejects the whole line), is set."""
    out = np.zeros(len(struct), bool)
    for i in range(struct.type.num_fields):
        field = struct.type.field(i)
        if (field.name not in known and field.name in handed_back) or not safe_type(field.type):
            out |= struct.field(i).is_valid().to_numpy(zero_copy_only=False)
    return out
