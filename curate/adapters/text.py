"""Text helpers shared by the ingest adapters: reasoning markers, JSON-string arguments, Hermes tool calls,
tool schemas, role aliases and tool-call id linking.

Every helper that can fail raises `SampleError` with a stable reason code and the field path it was given, so
adapters only pass the path along and the reject names the record's field.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import orjson

from curate.schema import Message, SampleError, ToolCall

# Role spellings seen in published data → canonical roles. `function`/`observation` are tool results.
ROLE_ALIASES: dict[str, str] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
    "ipython": "tool",
}

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
THOUGHT_OPEN, THOUGHT_CLOSE = "<|begin_of_thought|>", "<|end_of_thought|>"
SOLUTION_OPEN, SOLUTION_CLOSE = "<|begin_of_solution|>", "<|end_of_solution|>"
_HERMES_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def canonical_role(role: Any, field: str) -> str:
    """Map a source's role spelling to one of schema.ROLES; unknown spellings are a reject, not a guess."""
    if isinstance(role, str) and role.strip().lower() in ROLE_ALIASES:
        return ROLE_ALIASES[role.strip().lower()]
    raise SampleError("unknown_role", f"role {role!r} is not a known role spelling", field)


def loads_json(value: Any, field: str, reason: str = "bad_json") -> Any:
    """Parse a JSON string (sources store calls and schemas as strings); non-strings pass through."""
    if not isinstance(value, (str, bytes)):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as err:
        raise SampleError(reason, f"not valid JSON ({err}): {str(value)[:80]!r}", field) from None


def parse_arguments(value: Any, field: str) -> dict[str, Any]:
    """Tool-call arguments as a dict, from a dict or a JSON-object string ('' and None mean no arguments)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    parsed = loads_json(value, field, reason="bad_tool_arguments")
    if not isinstance(parsed, dict):
        raise SampleError("bad_tool_arguments", f"arguments must be a JSON object, got {type(parsed).__name__}",
                          field)
    return parsed


def content_text(content: Any, field: str) -> str:
    """Message content as one string: str, None, or a list of OpenAI/Responses text parts joined in order."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for k, part in enumerate(content):
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text"):
                text = part.get("text", part.get("value"))
                if not isinstance(text, str):
                    raise SampleError("bad_type", "text part has no string text", f"{field}[{k}].text")
                pieces.append(text)
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise SampleError("unsupported_content", f"content part of type {kind!r} is not text",
                                  f"{field}[{k}]")
        return "".join(pieces)
    raise SampleError("bad_type", f"content must be a string or a list of parts, got {type(content).__name__}",
                      field)


def split_reasoning(text: str, field: str) -> tuple[str | None, str]:
    """Split an assistant text into (reasoning, answer) at `<think>…</think>` or OpenThoughts' markers.

    A `</think>` with no opening tag (the tag was in the generation prompt) still ends the reasoning. An opened
    but never closed trace is a truncated generation: it raises `unclosed_think` rather than training a model
    that never stops thinking. Empty reasoning (`<think></think>`, non-thinking mode) becomes None.
    """
    if THOUGHT_OPEN in text or SOLUTION_OPEN in text:
        return _split_thought_markers(text, field)
    stripped = text.lstrip()
    if stripped.startswith(THINK_OPEN):
        body = stripped[len(THINK_OPEN):]
        if THINK_CLOSE not in body:
            raise SampleError("unclosed_think", "<think> is never closed (truncated generation?)", field)
        reasoning, _, answer = body.partition(THINK_CLOSE)
    elif THINK_CLOSE in text and THINK_OPEN not in text:
        reasoning, _, answer = text.partition(THINK_CLOSE)
    else:
        return None, text
    if THINK_OPEN in answer or THINK_CLOSE in answer:
        raise SampleError("nested_think", "more than one <think> block in one assistant message", field)
    return (reasoning.strip() or None), answer.lstrip()


def _split_thought_markers(text: str, field: str) -> tuple[str | None, str]:
    reasoning = None
    if THOUGHT_OPEN in text:
        _, _, rest = text.partition(THOUGHT_OPEN)
        if THOUGHT_CLOSE not in rest:
            raise SampleError("unclosed_think", f"{THOUGHT_OPEN} is never closed (truncated generation?)", field)
        reasoning, _, text = rest.partition(THOUGHT_CLOSE)
        reasoning = reasoning.strip() or None
    if SOLUTION_OPEN in text:
        _, _, text = text.partition(SOLUTION_OPEN)
        text = text.split(SOLUTION_CLOSE, 1)[0]
    return reasoning, text.strip()


def parse_hermes_tool_calls(text: str) -> tuple[str, list[ToolCall]] | None:
    """Hermes `<tool_call>{"name", "arguments"}</tool_call>` blocks that end the text → (text before them, calls).

    None when the text has no blocks, any block is not a well-formed call, or anything but whitespace follows the
    first block (text after or between calls could not be put back where it was once the calls are structured):
    the caller then keeps the text verbatim, so conversion is lossless either way and a malformed block is not a
    reject.
    """
    blocks = list(_HERMES_CALL.finditer(text))
    if not blocks:
        return None
    gaps = [text[a.end():b.start()] for a, b in zip(blocks, blocks[1:], strict=False)] + [text[blocks[-1].end():]]
    if any(gap.strip() for gap in gaps):
        return None
    calls = []
    for block in blocks:
        obj = _loads_call_object(block.group(1))
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
            return None
        args = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(args, str):
            args = _loads_call_object(args) if args.strip() else {}
        if not isinstance(args, dict):
            return None
        calls.append(ToolCall(name=obj["name"], arguments=args, id=str(obj.get("id") or "")))
    return text[:blocks[0].start()].rstrip(), calls


def _loads_call_object(text: str) -> Any:
    """JSON, or a Python literal (Hermes function-calling data writes calls as Python dict reprs); None if neither.

    `ast.literal_eval` evaluates literals only, never code, but it also yields sets, tuples, bytes, complex numbers
    and non-string keys, which no JSON call can hold: such a result is None too, so the text stays as written.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if _is_json_value(value) else None


def _is_json_value(value: Any) -> bool:
    """True for what JSON can write back unchanged: dicts with str keys, lists, str, int, finite float, bool, None."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_json_value(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_value(v) for k, v in value.items())
    return False


def tool_call_from_dict(call: Any, field: str) -> ToolCall:
    """One call in any of the common spellings: OpenAI {id, function: {name, arguments}}, flat {name,
    arguments|parameters}, Responses {type: function_call, call_id, name, arguments}."""
    if not isinstance(call, dict):
        raise SampleError("bad_tool_call", f"tool call must be an object, got {type(call).__name__}", field)
    fn = call.get("function") if isinstance(call.get("function"), dict) else call
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise SampleError("bad_tool_call", "tool call has no name", f"{field}.name")
    args_key = "arguments" if "arguments" in fn else "parameters"
    args_field = f"{field}.function.{args_key}" if fn is not call else f"{field}.{args_key}"
    arguments = parse_arguments(fn.get(args_key), args_field)
    call_id = call.get("id") or call.get("call_id") or ""
    return ToolCall(name=name, arguments=arguments, id=str(call_id))


def openai_tool(tool: Any, field: str) -> dict[str, Any]:
    """A tool schema in the nested OpenAI form {type: function, function: {name, description, parameters}}.

    Accepts the nested form, the Responses-API flat form {type: function, name, description, parameters,
    strict} and glaive's bare {name, description, parameters}.
    """
    if not isinstance(tool, dict):
        raise SampleError("bad_tool_schema", f"tool must be an object, got {type(tool).__name__}", field)
    if isinstance(tool.get("function"), dict):
        fn = dict(tool["function"])
    else:
        fn = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
    if not isinstance(fn.get("name"), str) or not fn["name"]:
        raise SampleError("bad_tool_schema", "tool has no function name", field)
    if fn.get("description") is None:
        fn.pop("description", None)
    return {"type": "function", "function": fn}


def parse_tools(value: Any, field: str) -> list[dict[str, Any]]:
    """A source's tool list (a list or a JSON string of one; None/'' mean none) in the nested OpenAI form."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    tools = loads_json(value, field, reason="bad_tool_schema")
    if isinstance(tools, dict):
        tools = [tools]
    if not isinstance(tools, list):
        raise SampleError("bad_tool_schema", f"tools must be a list, got {type(tools).__name__}", field)
    return [openai_tool(tool, f"{field}[{k}]") for k, tool in enumerate(tools)]


class CallLinker:
    """Gives tool calls stable ids and links tool results to the calls they answer.

    Sources without ids (ShareGPT function_call/observation, typed content) answer calls in order, so a result
    without an id takes the oldest unanswered call. Generated ids are `call_<n>`, counted per sample, so
    re-ingesting the same record yields the same ids.
    """

    def __init__(self) -> None:
        self._count = 0
        self._pending: list[str] = []
        self._names: dict[str, str] = {}

    def register(self, calls: list[ToolCall]) -> list[ToolCall]:
        for call in calls:
            if not call.id:
                call.id = f"call_{self._count}"
            self._count += 1
            self._pending.append(call.id)
            self._names[call.id] = call.name
        return calls

    def name_of(self, call_id: str | None) -> str | None:
        """The function name of a registered call, so a tool result can carry it (None when unknown)."""
        return self._names.get(call_id) if call_id else None

    def answer(self, tool_call_id: str | None = None, *, in_order: bool = False) -> str | None:
        """The id a tool result answers: its own when it names a pending call, else the oldest pending one
        (None when nothing is pending: schema.validate then rejects it as an orphan).

        An id naming no pending call stays as it is (validate rejects it as an orphan) unless `in_order`: for
        sources whose calls carry no ids but whose results do, results answer the calls by position.
        """
        if tool_call_id and tool_call_id in self._pending:
            self._pending.remove(tool_call_id)
            return tool_call_id
        if tool_call_id and not in_order:
            return tool_call_id
        return self._pending.pop(0) if self._pending else None

    @property
    def pending(self) -> int:
        return len(self._pending)


def merge_assistant_runs(messages: list[Message]) -> list[Message]:
    """Fold an assistant text message followed by an assistant tool-call message into one turn.

    Some sources (Toucan, ADP) split "I'll search for that" and the call into two assistant messages; the model
    generates them as one turn, and two adjacent assistant turns would render as two generations.
    """
    out: list[Message] = []
    for msg in messages:
        prev = out[-1] if out else None
        if (prev is not None and prev.role == msg.role == "assistant" and not prev.tool_calls and msg.tool_calls
                and msg.reasoning_content is None):
            prev.content = "\n\n".join(part for part in (prev.content, msg.content) if part)
            prev.tool_calls = msg.tool_calls
            continue
        out.append(msg)
    return out


def split_parallel_results(text: str, pending: int) -> list[tuple[str | None, str]] | None:
    """One tool-result text answering several parallel calls → [(tool_call_id or None, content)] per call.

    Sources that put parallel results in one turn write a JSON list with one entry per call (LLaMA-Factory:
    [{tool_call_id, name, content}]). None when the text is not such a list of exactly `pending` entries.
    """
    if pending < 2:
        return None
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(items, list) or len(items) != pending:
        return None
    results = []
    for item in items:
        if isinstance(item, dict) and "content" in item:
            body = item["content"]
            results.append((item.get("tool_call_id"), body if isinstance(body, str) else orjson.dumps(body).decode()))
        else:
            results.append((None, item if isinstance(item, str) else orjson.dumps(item).decode()))
    return results


def tool_results_in_order(text: str, linker: CallLinker) -> list[Message]:
    """The tool message(s) of one result turn from a source whose calls carry no ids (ShareGPT, typed content).

    A turn answering several parallel calls may hold one result per call (`split_parallel_results`); each result
    answers the oldest pending call unless it names one, and carries that call's function name.
    """
    out = []
    for source_id, body in split_parallel_results(text, linker.pending) or [(None, text)]:
        call_id = linker.answer(source_id, in_order=True)
        out.append(Message(role="tool", content=body, tool_call_id=call_id, name=linker.name_of(call_id)))
    return out
