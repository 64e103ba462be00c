"""Blocks of JSONL lines parsed by pyarrow.json for the columnar OpenAI-messages path, and the checks that keep
pyarrow from reading a line otherwise than orjson does (the per-record reference parser)."""

from __future__ import annotations

import io

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


def parsed_runs(block: LineBlock, positions: list[int]) -> list[tuple[list[int], pa.Table]]:
    """Runs of lines pyarrow parses, in line order. A run it refuses (one odd line spoils the whole parse) is
    halved, and the halves again, until the refused lines stand alone and are handed back, parsing each line
    about four times at most."""
    budget, pending, runs = 4 * len(positions), [positions], []
    while pending:
        run = pending.pop()
        if not run:
            continue
        budget -= len(run)
        table = _parse(block, run)
        if table is not None:
            runs.append((run, table))
        elif len(run) > 1 and budget > 0:
            pending += [run[len(run) // 2:], run[:len(run) // 2]]
    return sorted(runs, key=lambda item: item[0][0])


def _parse(block: LineBlock, run: list[int]) -> pa.Table | None:
    """The lines as one table with a row per line, or None when pyarrow refuses them or might read them otherwise
    than orjson: invalid UTF-8 (pyarrow does not check it) or a byte-order mark (pyarrow skips one)."""
    data = b"\n".join([block.lines[k] for k in run]) + b"\n"
    if b"\xef\xbb\xbf" in data:
        return None
    if any(_too_deep(block.lines[k]) for k in run if len(block.lines[k]) > 2 * PYARROW_SAFE_DEPTH):
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    # Parsed by pyarrow's threads in chunks of PARSE_CHUNK bytes; a chunk must hold the longest line whole.
    chunk = max(PARSE_CHUNK, max(len(block.lines[k]) for k in run) + 2)
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=chunk), parse_options=_PARSE)
    except pa.ArrowException:
        return None
    return table if table.num_rows == len(run) else None  # two objects on one line


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
