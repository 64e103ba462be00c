"""OpenAI-messages JSONL converted a block of lines at a time, in Arrow: the ingest fast path.

The per-record adapter (`openai_messages.py`, then `schema.validate`) is the reference. This path parses a block
with `pyarrow.json`, converts the rows with vectorised string kernels, and keeps only rows it can show convert
exactly as the reference would; every other line goes back to the per-record path. `tests/test_ingest_columnar.py`
checks that ingest writes byte-identical files with this path on and off. Parsing and its guards against pyarrow
reading a line otherwise than orjson live in `columnar_parse.py`.

A row is taken when:
- its line is one JSON object (starts with `{`, ends with `}`) that pyarrow parses with the expected types —
  pyarrow and orjson agree on valid UTF-8 strings; NaN and infinities (which only pyarrow accepts) and integers
  past 64 bits arrive as doubles and hand their row back, as does nesting deeper than 64 levels; lines pyarrow
  refuses are isolated by halving the run and handed back;
- every message has a role spelled exactly as a known alias, string content, and no key that changes the
  conversion (`reasoning`, `thinking`, `function_call`, `call_id`); every call has `function.name` and JSON-string
  or null arguments;
- it would pass validation: think markers split cleanly, no empty assistant turn, tool results answer calls,
  at least one assistant turn;
- auto-detection would pick `openai_messages`: when the records carry top-level keys beyond `messages`, every row
  is parsed again by the reference parser, detected by the registry and given its meta by the adapter's helper
  (Arrow cannot tell a key set to null from a missing one); the one adapter tried earlier that can claim a
  messages-only record (mini-swe-agent, by its `<returncode>` observations) is guarded by content
  (`EARLIER_CONTENT_CLAIMS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.adapters.agentic.mini_swe_agent import OBSERVATION_PREFIX
from curate.adapters.base import Adapter
from curate.adapters.chat.columnar_parse import PARSED_CALL, PARSED_FUNCTION, PARSED_MESSAGE, parsed_runs, set_extras
from curate.adapters.chat.common import record_meta, record_sample_ids
from curate.adapters.chat.openai_messages import OpenAIMessagesAdapter
from curate.adapters.text import (
    ROLE_ALIASES,
    SOLUTION_OPEN,
    THINK_CLOSE,
    THINK_OPEN,
    THOUGHT_OPEN,
    CallLinker,
    parse_arguments,
    parse_tools,
)
from curate.readers import LineBlock, Unreadable, parse_line
from curate.schema import (
    DOMAINS,
    MESSAGE_TYPE,
    SAMPLE_SCHEMA,
    TOOL_CALL_TYPE,
    SampleError,
    ToolCall,
    json_text,
)

ADAPTER = OpenAIMessagesAdapter.name
# Adapters tried before openai_messages that can claim a record with only `messages`, and the content that lets
# them: rows containing it are handed back. Every other earlier adapter needs a top-level key such rows lack.
EARLIER_CONTENT_CLAIMS = {"mini_swe_agent": OBSERVATION_PREFIX}
# Keys the reference reads beyond the parsed schema: a row where one is set is handed back.
HANDED_BACK_KEYS = {"message": {"reasoning", "thinking", "function_call", "call_id"}, "call": {"call_id"},
                    "function": {"parameters"}}

# str.isspace() as an RE2 class (every whitespace code point lies below U+3001): `[^ws]` matches iff strip() is
# not empty.
_WHITESPACE = "".join(f"\\x{{{ord(ch):x}}}" for ch in map(chr, range(0x3001)) if ch.isspace())
NOT_WHITESPACE = f"[^{_WHITESPACE}]"
_ALIASES = pa.array(list(ROLE_ALIASES))
_CANONICAL = pa.array(list(ROLE_ALIASES.values()))

Pick = Callable[[dict[str, Any]], Adapter]


def convert_block(block: LineBlock, source: str, domain: str, pick: Pick) -> tuple[pa.Table, list[int]]:
    """(canonical rows of the lines taken, in line order; their positions in `block`). The other lines are
    handed back to the per-record path."""
    clean = [k for k, line in enumerate(block.lines)
             if line.startswith(b"{") and (line.endswith(b"}") or line.rstrip().endswith(b"}"))]
    tables, taken = [], []
    for run, table in parsed_runs(block, clean if domain in DOMAINS else []):
        ok_R, messages, meta, tools = _check_rows(table, [block.lines[k] for k in run], pick)
        taken_run = [k for k, ok in zip(run, ok_R, strict=True) if ok]
        ids = record_sample_ids(source, [block.numbers[k] for k in taken_run])
        if not ok_R.all():
            messages = messages.filter(pa.array(ok_R))
            tools = [t for t, ok in zip(tools, ok_R, strict=True) if ok]
            meta = [m for m, ok in zip(meta, ok_R, strict=True) if ok]
        tables.append(pa.Table.from_arrays([
            pa.array(ids, pa.string()), pa.array([domain] * len(ids), pa.string()),
            pa.array([source] * len(ids), pa.string()), messages, pa.array(tools, pa.string()),
            pa.array(meta, pa.string()),
        ], schema=SAMPLE_SCHEMA))
        taken += taken_run
    return pa.concat_tables(tables) if tables else SAMPLE_SCHEMA.empty_table(), taken


def _np(array: pa.Array) -> np.ndarray:
    return pc.fill_null(array, False).to_numpy(zero_copy_only=False)


def _check_rows(table: pa.Table, lines: list[bytes], pick: Pick) -> tuple[np.ndarray, pa.ListArray, list[str],
                                                                         list[str]]:
    """(row taken, converted messages, meta JSON, tools JSON) for every parsed row."""
    messages_R = table["messages"].combine_chunks()
    rows = len(messages_R)
    row_offsets = np.zeros(rows + 1, np.int64)
    np.cumsum(pc.list_value_length(messages_R).fill_null(0), out=row_offsets[1:])
    msg_M = messages_R.flatten()
    row_M = pc.list_parent_indices(messages_R).to_numpy()
    bad_M = msg_M.is_null().to_numpy(zero_copy_only=False) | set_extras(msg_M, set(PARSED_MESSAGE.names),
                                                                          HANDED_BACK_KEYS["message"])
    alias_M = pc.index_in(msg_M.field("role"), value_set=_ALIASES)
    bad_M |= alias_M.is_null().to_numpy(zero_copy_only=False)
    role_M = pc.take(_CANONICAL, alias_M)
    assistant_M, tool_M = _np(pc.equal(role_M, "assistant")), _np(pc.equal(role_M, "tool"))
    content_M = pc.fill_null(msg_M.field("content"), "")
    bad_M |= _matches(content_M, "|".join(map(re.escape, EARLIER_CONTENT_CLAIMS.values())))
    content_M, reasoning_M, bad_split_M, blank_M = _split_reasoning(content_M, msg_M.field("reasoning_content"),
                                                                    assistant_M)
    bad_M |= bad_split_M
    calls, bad_calls_M, has_calls_M = _tool_calls(msg_M.field("tool_calls"), assistant_M)
    bad_M |= bad_calls_M
    bad_M |= assistant_M & blank_M & reasoning_M.is_null().to_numpy(zero_copy_only=False) & ~has_calls_M

    ok_R = row_offsets[1:] > row_offsets[:-1]
    ok_R &= np.bincount(row_M[bad_M], minlength=rows) == 0
    ok_R &= np.bincount(row_M[assistant_M], minlength=rows) > 0
    call_ids_C, result_ids_M, result_names_M = _link(ok_R, row_offsets, msg_M, calls, has_calls_M, tool_M)
    meta, tools = _record_level(table, lines, ok_R, pick)

    calls_C = pa.StructArray.from_arrays([call_ids_C, calls["name"], calls["arguments"]], fields=list(TOOL_CALL_TYPE))
    tool_calls_M = pa.ListArray.from_arrays(pa.array(calls["offsets_M"].astype(np.int32)), calls_C,
                                            type=pa.list_(TOOL_CALL_TYPE), mask=pa.array(~has_calls_M))
    null_M = pa.nulls(len(msg_M), pa.string())
    message_M = pa.StructArray.from_arrays([
        role_M, content_M, pc.if_else(pa.array(assistant_M), reasoning_M, null_M), tool_calls_M,
        result_ids_M, result_names_M], fields=list(MESSAGE_TYPE))
    messages = pa.ListArray.from_arrays(pa.array(row_offsets.astype(np.int32)), message_M,
                                        type=pa.list_(MESSAGE_TYPE))
    return ok_R, messages, meta, tools


def _split_reasoning(content_M: pa.Array, given_M: pa.Array,
                     assistant_M: np.ndarray) -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray]:
    """`text.split_reasoning` over the assistant messages without reasoning of their own: (content, reasoning,
    hand back, blank content). Thought markers, unclosed and nested think blocks are handed back. Flags come from
    regex matches, which allocate nothing; only the messages that split are copied."""
    given_M = _null_if_empty(pc.utf8_trim_whitespace(given_M))
    split_M = assistant_M & given_M.is_null().to_numpy(zero_copy_only=False)
    bad_M = split_M & _matches(content_M, f"{re.escape(THOUGHT_OPEN)}|{re.escape(SOLUTION_OPEN)}")
    opens_M = split_M & _matches(content_M, f"^[{_WHITESPACE}]*{re.escape(THINK_OPEN)}")
    closes_only_M = (split_M & ~opens_M & _matches(content_M, re.escape(THINK_CLOSE))
                     & ~_matches(content_M, re.escape(THINK_OPEN)))
    blank_M = ~_matches(content_M, NOT_WHITESPACE)
    splits_M = opens_M | closes_only_M
    split_S = np.flatnonzero(splits_M)
    if not len(split_S):
        return content_M, given_M, bad_M, blank_M
    # The text's first </think> is the one that closes the block (the opening tag and the whitespace before it
    # cannot hide one), so partitioning the whole text is the reference's partition of the body.
    parts_S = pc.split_pattern(content_M.take(split_S), THINK_CLOSE, max_splits=1)
    first_S = parts_S.offsets.to_numpy()[:-1]
    closed_S = pc.list_value_length(parts_S).to_numpy() == 2
    answer_S = parts_S.values.take(np.where(closed_S, first_S + 1, first_S))
    bad_M[split_S] |= ~closed_S | _matches(answer_S, "</?think>")
    blank_M[split_S] = ~_matches(answer_S, NOT_WHITESPACE)
    head_S = pc.replace_substring(parts_S.values.take(first_S), THINK_OPEN, "", max_replacements=1)
    splits = pa.array(splits_M)
    return (pc.replace_with_mask(content_M, splits, pc.utf8_ltrim_whitespace(answer_S)),
            pc.replace_with_mask(given_M, splits, _null_if_empty(pc.utf8_trim_whitespace(head_S))), bad_M, blank_M)


def _matches(strings: pa.Array, pattern: str) -> np.ndarray:
    """RE2 finds a literal several times faster than `match_substring`."""
    return _np(pc.match_substring_regex(strings, pattern))


def _null_if_empty(strings: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(strings, ""), pa.nulls(len(strings), pa.string()), strings)


def _tool_calls(calls_M: pa.ListArray, assistant_M: np.ndarray) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The calls of assistant messages ({id, name, arguments as canonical JSON, offsets_M}), messages to hand back,
    and assistant messages with calls. Other roles' calls are dropped, as the adapter drops them."""
    has_calls_M = assistant_M & (pc.list_value_length(calls_M).fill_null(0).to_numpy() > 0)
    message_C = pc.list_parent_indices(calls_M).to_numpy()
    keep_C = has_calls_M[message_C]
    calls_C = calls_M.flatten().filter(pa.array(keep_C))
    message_C = message_C[keep_C]
    function_C = calls_C.field("function")
    name_C = function_C.field("name")
    bad_C = (calls_C.is_null().to_numpy(zero_copy_only=False) | function_C.is_null().to_numpy(zero_copy_only=False)
             | ~_np(pc.greater(pc.utf8_length(name_C), 0))
             | set_extras(calls_C, set(PARSED_CALL.names), HANDED_BACK_KEYS["call"])
             | set_extras(function_C, set(PARSED_FUNCTION.names), HANDED_BACK_KEYS["function"]))
    arguments = []
    for k, value in enumerate(function_C.field("arguments").to_pylist()):
        try:
            arguments.append(json_text(parse_arguments(value, "")))
        except (SampleError, TypeError):  # TypeError: JSON past 254 levels, which check_storable rejects
            bad_C[k] = True
            arguments.append("{}")
    bad_M = np.zeros(len(calls_M), bool)
    bad_M[message_C[bad_C]] = True
    calls = {"id": pc.fill_null(calls_C.field("id"), "").to_pylist(), "name": name_C,
             "arguments": pa.array(arguments, pa.string()),
             "offsets_M": np.searchsorted(message_C, np.arange(len(calls_M) + 1))}  # message m has calls [o_m, o_m+1)
    return calls, bad_M, has_calls_M


def _link(ok_R: np.ndarray, row_offsets: np.ndarray, msg_M: pa.StructArray, calls: dict[str, Any],
          has_calls_M: np.ndarray, tool_M: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Call ids and tool results linked per row by the adapter's own `CallLinker`, checked as `validate` does:
    (call ids, tool_call_id per message, name per message). Rows whose results answer nothing are un-taken."""
    call_ids, names_C = calls["id"], calls["name"].to_pylist()
    call_start = calls["offsets_M"].tolist()
    result_ids, result_names = [None] * len(msg_M), [None] * len(msg_M)
    linked = np.concatenate([[0], np.cumsum(has_calls_M | tool_M)])
    active = np.flatnonzero(ok_R & (linked[row_offsets[1:]] > linked[row_offsets[:-1]])).tolist()
    raw_ids, raw_names = msg_M.field("tool_call_id").to_pylist(), msg_M.field("name").to_pylist()
    has_calls, is_tool, offsets = has_calls_M.tolist(), tool_M.tolist(), row_offsets.tolist()
    for r in active:
        linker, open_calls = CallLinker(), set()
        for m in range(offsets[r], offsets[r + 1]):
            if has_calls[m]:
                span = range(call_start[m], call_start[m + 1])
                for c, call in zip(span, linker.register([ToolCall(names_C[c], {}, call_ids[c]) for c in span]),
                                   strict=True):
                    call_ids[c] = call.id
                    open_calls.add(call.id)
            elif is_tool[m]:
                call_id = linker.answer(raw_ids[m])
                if not open_calls or (call_id and call_id not in open_calls):
                    ok_R[r] = False
                    break
                result_ids[m], result_names[m] = call_id, raw_names[m] or linker.name_of(call_id)
    return pa.array(call_ids, pa.string()), pa.array(result_ids, pa.string()), pa.array(result_names, pa.string())


def _record_level(table: pa.Table, lines: list[bytes], ok_R: np.ndarray, pick: Pick) -> tuple[list[str], list[str]]:
    """Meta and tools JSON per row. When records have top-level keys beyond `messages`, every row is read again
    by the reference parser (Arrow cannot tell a key set to null from a missing one, and either can change
    detection and meta), detected by the registry and given meta and tools by the adapter's own helpers."""
    meta, tools = [json_text(record_meta({}, ADAPTER))] * len(ok_R), [json_text([])] * len(ok_R)
    if table.column_names == ["messages"]:
        return meta, tools
    for r in np.flatnonzero(ok_R):
        record = parse_line(lines[r])
        try:
            if isinstance(record, Unreadable) or not isinstance(record, dict) or pick(record).name != ADAPTER:
                raise SampleError("handed_back", "not an openai_messages record")
            # json_text raises where schema.check_storable would reject
            meta[r] = json_text(record_meta(record, ADAPTER, consumed=("messages", "tools")))
            tools[r] = json_text(parse_tools(record.get("tools"), "tools"))
        except Exception:  # noqa: BLE001 - the reference path reads the record again and says why
            ok_R[r] = False
    return meta, tools
